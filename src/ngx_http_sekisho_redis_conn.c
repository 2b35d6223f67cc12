
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include "ngx_http_sekisho_redis_conn.h"


static void ngx_http_sekisho_redis_add_read(void *privdata);
static void ngx_http_sekisho_redis_del_read(void *privdata);
static void ngx_http_sekisho_redis_add_write(void *privdata);
static void ngx_http_sekisho_redis_del_write(void *privdata);
static void ngx_http_sekisho_redis_cleanup(void *privdata);
static void ngx_http_sekisho_redis_read_handler(ngx_event_t *ev);
static void ngx_http_sekisho_redis_write_handler(ngx_event_t *ev);


redisAsyncContext *
ngx_http_sekisho_redis_open(u_char *host, int port, u_char *unix_path,
    ngx_log_t *log, const char **err)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    static u_char       errstr[128];

    if (unix_path) {
        ac = redisAsyncConnectUnix((char *) unix_path);

    } else {
        ac = redisAsyncConnect((char *) host, port);
    }

    if (ac == NULL) {
        *err = "out of memory";
        return NULL;
    }

    if (ac->err) {
        /* the context holds the text: kept before it is freed */
        ngx_cpystrn(errstr, (u_char *) ac->errstr, sizeof(errstr));
        *err = (const char *) errstr;
        redisAsyncFree(ac);
        return NULL;
    }

    c = ngx_get_connection(ac->c.fd, log);
    if (c == NULL) {
        *err = "no free connection";
        redisAsyncFree(ac);
        return NULL;
    }

    c->data = ac;
    c->log = log;
    c->read->handler = ngx_http_sekisho_redis_read_handler;
    c->write->handler = ngx_http_sekisho_redis_write_handler;
    c->read->log = log;
    c->write->log = log;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_sekisho_redis_add_read;
    ac->ev.delRead = ngx_http_sekisho_redis_del_read;
    ac->ev.addWrite = ngx_http_sekisho_redis_add_write;
    ac->ev.delWrite = ngx_http_sekisho_redis_del_write;
    ac->ev.cleanup = ngx_http_sekisho_redis_cleanup;

    return ac;
}


char *
ngx_http_sekisho_redis_resolve(ngx_conf_t *cf, ngx_str_t *list,
    in_port_t default_port, const char *what,
    ngx_http_sekisho_redis_addr_t **addrs, ngx_uint_t *n)
{
    u_char                         text[NGX_SOCKADDR_STRLEN];
    size_t                         len;
    ngx_url_t                      u;
    ngx_str_t                      items[NGX_HTTP_SEKISHO_REDIS_MAX_NODES];
    ngx_uint_t                     i;
    ngx_http_sekisho_redis_addr_t *a;

    if (ngx_http_sekisho_redis_split_list(list, items,
                                          NGX_HTTP_SEKISHO_REDIS_MAX_NODES, n)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s list \"%V\" in \"sekisho_redis\" "
                           "directive: empty, an empty item, or more than "
                           "%d addresses", what, list,
                           NGX_HTTP_SEKISHO_REDIS_MAX_NODES);
        return NGX_CONF_ERROR;
    }

    a = ngx_pcalloc(cf->pool, *n * sizeof(ngx_http_sekisho_redis_addr_t));
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < *n; i++) {
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = items[i];
        u.default_port = default_port;
        u.no_resolve = 0;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0
            || (u.no_port && default_port == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %s address \"%V\" in "
                               "\"sekisho_redis\" directive%s%s", what,
                               &items[i], u.err ? ": " : "",
                               u.err ? u.err : "");
            return NGX_CONF_ERROR;
        }

        len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                            NGX_SOCKADDR_STRLEN, 0);
        if (len >= NGX_HTTP_SEKISHO_REDIS_HOSTLEN) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(a[i].host, text, len);
        a[i].host[len] = '\0';
        a[i].port = ngx_inet_get_port(u.addrs[0].sockaddr);
    }

    *addrs = a;

    return NGX_CONF_OK;
}


/*
 * hiredis asks for read and write interest, nginx reports readiness.
 * Level-triggered events, so that a reply larger than one read is not
 * left behind under edge-triggered epoll.
 */

static void
ngx_http_sekisho_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "sekisho: redis read event not added");
        }
    }
}


static void
ngx_http_sekisho_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_sekisho_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "sekisho: redis write event not added");
        }
    }
}


static void
ngx_http_sekisho_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself: nginx only forgets the connection */

static void
ngx_http_sekisho_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;
    c->fd = (ngx_socket_t) -1;

    ngx_free_connection(c);
}


static void
ngx_http_sekisho_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_sekisho_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleWrite(c->data);
}
