
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>
#include "ngx_http_sekisho_redis_sentinel.h"
#include "ngx_http_sekisho_redis_conn.h"


struct ngx_http_sekisho_redis_sentinel_s {
    /* configuration, made by the master */
    ngx_http_sekisho_redis_addr_t    *addrs;
    ngx_uint_t                        naddrs;
    ngx_str_t                         master;
    ngx_str_t                         password;
    ngx_msec_t                        timeout;

    /* the worker's questions */
    ngx_log_t                        *log;
    ngx_http_sekisho_redis_master_pt  handler;
    void                             *data;
    redisAsyncContext                *ac;          /* asking */
    ngx_uint_t                        current;     /* Sentinel asked */
    ngx_uint_t                        tried;
    ngx_event_t                       timer;
    redisAsyncContext                *sub;         /* listening */
};


static void ngx_http_sekisho_redis_sentinel_next(
    ngx_http_sekisho_redis_sentinel_t *s);
static void ngx_http_sekisho_redis_sentinel_failed(
    ngx_http_sekisho_redis_sentinel_t *s, const char *why);
static void ngx_http_sekisho_redis_sentinel_close(
    ngx_http_sekisho_redis_sentinel_t *s);
static redisAsyncContext *ngx_http_sekisho_redis_sentinel_open(
    ngx_http_sekisho_redis_sentinel_t *s, ngx_http_sekisho_redis_addr_t *a,
    const char **err);
static void ngx_http_sekisho_redis_sentinel_auth_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_sekisho_redis_sentinel_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_sekisho_redis_sentinel_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_sentinel_on_connect(
    const redisAsyncContext *ac, int status);
static void ngx_http_sekisho_redis_sentinel_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_sekisho_redis_sentinel_subscribe(
    ngx_http_sekisho_redis_sentinel_t *s, ngx_uint_t i);
static void ngx_http_sekisho_redis_sentinel_message(redisAsyncContext *ac,
    void *r, void *privdata);


char *
ngx_http_sekisho_redis_sentinel_conf(ngx_conf_t *cf,
    ngx_http_sekisho_redis_sentinel_t **sp, ngx_str_t *list,
    ngx_str_t *master, ngx_str_t *password, ngx_msec_t timeout)
{
    ngx_http_sekisho_redis_sentinel_t  *s;

    s = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_redis_sentinel_t));
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_sekisho_redis_resolve(cf, list, 26379, "Sentinel",
                                       &s->addrs, &s->naddrs)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    s->master = *master;
    s->password = *password;
    s->timeout = timeout;

    *sp = s;

    return NGX_CONF_OK;
}


void
ngx_http_sekisho_redis_sentinel_init(ngx_http_sekisho_redis_sentinel_t *s,
    ngx_log_t *log, ngx_http_sekisho_redis_master_pt handler, void *data)
{
    s->log = log;
    s->handler = handler;
    s->data = data;

    s->timer.handler = ngx_http_sekisho_redis_sentinel_timeout;
    s->timer.data = s;
    s->timer.log = log;
    s->timer.cancelable = 1;
}


void
ngx_http_sekisho_redis_sentinel_exit(ngx_http_sekisho_redis_sentinel_t *s)
{
    redisAsyncContext  *ac;

    ngx_http_sekisho_redis_sentinel_close(s);

    ac = s->sub;
    s->sub = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* one question at a time; its answer goes to the handler */

void
ngx_http_sekisho_redis_sentinel_ask(ngx_http_sekisho_redis_sentinel_t *s)
{
    if (s->ac) {
        return;
    }

    s->tried = 0;

    ngx_http_sekisho_redis_sentinel_next(s);
}


/* the Sentinel that answered last is asked first, then the others */

static void
ngx_http_sekisho_redis_sentinel_next(ngx_http_sekisho_redis_sentinel_t *s)
{
    const char                     *err, *argv[3];
    size_t                          argvlen[3];
    redisAsyncContext              *ac;
    ngx_http_sekisho_redis_addr_t  *a;

    while (s->tried < s->naddrs) {
        s->tried++;
        a = &s->addrs[s->current];

        ac = ngx_http_sekisho_redis_sentinel_open(s, a, &err);
        if (ac == NULL) {
            ngx_log_error(NGX_LOG_WARN, s->log, 0,
                          "sekisho: redis Sentinel %s:%d not asked: %s",
                          a->host, a->port, err);
            s->current = (s->current + 1) % s->naddrs;
            continue;
        }

        s->ac = ac;

        argv[0] = "SENTINEL";
        argvlen[0] = sizeof("SENTINEL") - 1;
        argv[1] = "get-master-addr-by-name";
        argvlen[1] = sizeof("get-master-addr-by-name") - 1;
        argv[2] = (const char *) s->master.data;
        argvlen[2] = s->master.len;

        redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_sentinel_reply, s,
                              3, argv, argvlen);

        ngx_add_timer(&s->timer, s->timeout);

        return;
    }

    ngx_log_error(NGX_LOG_ERR, s->log, 0,
                  "sekisho: redis master \"%V\": no Sentinel answered",
                  &s->master);

    s->handler(s->data, NULL, NULL, NGX_HTTP_SEKISHO_REDIS_ANSWERED);
}


/* this Sentinel did not answer: the next one is asked */

static void
ngx_http_sekisho_redis_sentinel_failed(ngx_http_sekisho_redis_sentinel_t *s,
    const char *why)
{
    ngx_http_sekisho_redis_addr_t  *a;

    a = &s->addrs[s->current];

    ngx_log_error(NGX_LOG_WARN, s->log, 0,
                  "sekisho: redis Sentinel %s:%d did not answer for master "
                  "\"%V\": %s", a->host, a->port, &s->master, why);

    ngx_http_sekisho_redis_sentinel_close(s);

    s->current = (s->current + 1) % s->naddrs;

    ngx_http_sekisho_redis_sentinel_next(s);
}


/* the question's connection and timer: freed at once, or by hiredis
   when its callback returns */

static void
ngx_http_sekisho_redis_sentinel_close(ngx_http_sekisho_redis_sentinel_t *s)
{
    redisAsyncContext  *ac;

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    ac = s->ac;
    s->ac = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* a connection to one Sentinel, its AUTH queued first when it has one */

static redisAsyncContext *
ngx_http_sekisho_redis_sentinel_open(ngx_http_sekisho_redis_sentinel_t *s,
    ngx_http_sekisho_redis_addr_t *a, const char **err)
{
    size_t              argvlen[2];
    const char         *argv[2];
    redisAsyncContext  *ac;

    ac = ngx_http_sekisho_redis_open(a->host, a->port, NULL, s->log, err);
    if (ac == NULL) {
        return NULL;
    }

    ac->data = s;

    redisAsyncSetConnectCallback(ac,
                                 ngx_http_sekisho_redis_sentinel_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                               ngx_http_sekisho_redis_sentinel_on_disconnect);

    if (s->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) s->password.data;
        argvlen[1] = s->password.len;

        redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_sentinel_auth_reply,
                              NULL, 2, argv, argvlen);
    }

    return ac;
}


static void
ngx_http_sekisho_redis_sentinel_auth_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                         *reply = r;
    ngx_http_sekisho_redis_sentinel_t  *s = ac->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* the reply does not contain the password */
    ngx_log_error(NGX_LOG_ERR, s->log, 0,
                  "sekisho: redis Sentinel refused AUTH: %*s",
                  (size_t) reply->len, reply->str);
}


static void
ngx_http_sekisho_redis_sentinel_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                         *reply = r;
    ngx_http_sekisho_redis_sentinel_t  *s = privdata;

    u_char                          buf[NGX_HTTP_SEKISHO_REDIS_HOSTLEN + 8];
    u_char                         *p;
    ngx_uint_t                      i;
    ngx_http_sekisho_redis_addr_t   master;

    if (s->ac != ac || reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[0]->len >= NGX_HTTP_SEKISHO_REDIS_HOSTLEN
        || reply->element[1]->len > 5)
    {
        ngx_http_sekisho_redis_sentinel_failed(s,
                           reply->type == REDIS_REPLY_NIL ? "unknown master"
                                                          : "unexpected reply");
        return;
    }

    p = ngx_cpymem(buf, reply->element[0]->str, reply->element[0]->len);
    *p++ = ':';
    p = ngx_cpymem(p, reply->element[1]->str, reply->element[1]->len);

    /* Sentinels answer addresses; a name would block the worker */
    if (ngx_http_sekisho_redis_parse_addr(buf, p - buf, &master) != NGX_OK) {
        ngx_http_sekisho_redis_sentinel_failed(s, "not a numeric address");
        return;
    }

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    /* the context is freed by hiredis when this callback returns */
    s->ac = NULL;
    redisAsyncFree(ac);

    i = s->current;

    if (s->sub == NULL) {
        ngx_http_sekisho_redis_sentinel_subscribe(s, i);
    }

    s->handler(s->data, &master, NULL, NGX_HTTP_SEKISHO_REDIS_ANSWERED);
}


static void
ngx_http_sekisho_redis_sentinel_timeout(ngx_event_t *ev)
{
    ngx_http_sekisho_redis_sentinel_t  *s = ev->data;

    if (s->ac) {
        ngx_http_sekisho_redis_sentinel_failed(s, "timed out");
    }
}


static void
ngx_http_sekisho_redis_sentinel_on_connect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_sekisho_redis_sentinel_t  *s = ac->data;

    if (status == REDIS_OK) {
        return;
    }

    if (s->sub == ac) {
        s->sub = NULL;
        return;
    }

    if (s->ac == ac) {
        /* hiredis frees the context after this callback */
        s->ac = NULL;
        ngx_http_sekisho_redis_sentinel_failed(s, ac->errstr);
    }
}


static void
ngx_http_sekisho_redis_sentinel_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_sekisho_redis_sentinel_t  *s = ac->data;

    if (s->sub == ac) {
        s->sub = NULL;
        return;
    }

    if (s->ac == ac) {
        s->ac = NULL;
        ngx_http_sekisho_redis_sentinel_failed(s, "connection closed");
    }
}


/*
 * A connection of its own listens for "+promoted-slave" (the replica
 * chosen is a master now: writes to the old one would be lost when it
 * is made a replica) and "+switch-master" (the failover is over); lost,
 * it is opened again with the next question.
 */

static void
ngx_http_sekisho_redis_sentinel_subscribe(ngx_http_sekisho_redis_sentinel_t *s,
    ngx_uint_t i)
{
    const char                     *err;
    redisAsyncContext              *ac;
    ngx_http_sekisho_redis_addr_t  *a;

    a = &s->addrs[i];

    ac = ngx_http_sekisho_redis_sentinel_open(s, a, &err);
    if (ac == NULL) {
        return;
    }

    s->sub = ac;

    redisAsyncCommand(ac, ngx_http_sekisho_redis_sentinel_message, s,
                      "SUBSCRIBE +switch-master +promoted-slave");
}


static void
ngx_http_sekisho_redis_sentinel_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                         *reply = r, *msg;
    ngx_http_sekisho_redis_sentinel_t  *s = privdata;

    ngx_int_t                       rc;
    ngx_uint_t                      event;
    ngx_http_sekisho_redis_addr_t   from, to;

    if (reply == NULL || s->sub != ac) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "sekisho: redis Sentinel refused SUBSCRIBE: %*s",
                      (size_t) reply->len, reply->str);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[2]->type != REDIS_REPLY_STRING
        || ngx_strcmp(reply->element[0]->str, "message") != 0)
    {
        return;
    }

    msg = reply->element[2];

    if (ngx_strcmp(reply->element[1]->str, "+promoted-slave") == 0) {
        event = NGX_HTTP_SEKISHO_REDIS_PROMOTED;
        rc = ngx_http_sekisho_redis_parse_promoted((u_char *) msg->str,
                                                   msg->len, &s->master,
                                                   &from, &to);

    } else {
        event = NGX_HTTP_SEKISHO_REDIS_SWITCHED;
        rc = ngx_http_sekisho_redis_parse_switch((u_char *) msg->str,
                                                 msg->len, &s->master,
                                                 &from, &to);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, s->log, 0,
                      "sekisho: redis Sentinel sent a %s not understood: "
                      "\"%*s\"", reply->element[1]->str, (size_t) msg->len,
                      msg->str);
        return;
    }

    if (rc == NGX_OK) {
        s->handler(s->data, &to, &from, event);
    }
}
