
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include "ngx_http_sekisho_redis_node.h"
#include "ngx_http_sekisho_redis_conn.h"


#define NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX  5000


static void ngx_http_sekisho_redis_node_ready(
    ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_node_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_node_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_sekisho_redis_node_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_sekisho_redis_node_setup_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_sekisho_redis_node_role_reply(redisAsyncContext *ac,
    void *r, void *privdata);


void
ngx_http_sekisho_redis_node_init(ngx_http_sekisho_redis_node_t *node,
    ngx_http_sekisho_redis_conf_t *conf, ngx_log_t *log,
    ngx_http_sekisho_redis_node_pt handler, void *data)
{
    node->conf = conf;
    node->log = log;
    node->handler = handler;
    node->data = data;
    node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;
    node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;
    ngx_queue_init(&node->pending);

    node->connect_timer.handler = ngx_http_sekisho_redis_node_timeout;
    node->connect_timer.data = node;
    node->connect_timer.log = log;
    node->connect_timer.cancelable = 1;
}


ngx_int_t
ngx_http_sekisho_redis_node_open(ngx_http_sekisho_redis_node_t *node)
{
    ngx_str_t                       arg;
    const char                     *err;
    redisAsyncContext              *ac;
    ngx_http_sekisho_redis_conf_t  *conf;
    u_char                          db[NGX_INT_T_LEN];
    const char                     *argv[2];
    size_t                          argvlen[2];

    conf = node->conf;

    ac = ngx_http_sekisho_redis_open(node->addr.host, node->addr.port,
                                     conf->unix_path, node->log, &err);
    if (ac == NULL) {
        ngx_http_sekisho_redis_node_down(node, err);
        return NGX_ERROR;
    }

    ac->data = node;
    node->ac = ac;
    node->state = NGX_HTTP_SEKISHO_REDIS_CONNECTING;

    redisAsyncSetConnectCallback(ac, ngx_http_sekisho_redis_node_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                                  ngx_http_sekisho_redis_node_on_disconnect);

    /*
     * AUTH and SELECT go first, and with Sentinel ROLE: the commands
     * wait in "pending" until the node is known to be the master, so
     * that none is ever written to a replica.
     */

    if (conf->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) conf->password.data;
        argvlen[1] = conf->password.len;

        redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_node_setup_reply,
                              (void *) "AUTH", 2, argv, argvlen);
    }

    if (conf->db) {
        arg.data = db;
        arg.len = ngx_sprintf(db, "%ui", conf->db) - db;

        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) arg.data;
        argvlen[1] = arg.len;

        redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_node_setup_reply,
                              (void *) "SELECT", 2, argv, argvlen);
    }

    if (conf->mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL) {
        redisAsyncCommand(ac, ngx_http_sekisho_redis_node_role_reply, NULL,
                          "ROLE");
    }

    ngx_add_timer(&node->connect_timer, conf->timeout);

    return NGX_OK;
}


static void
ngx_http_sekisho_redis_node_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                     *reply = r;
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR || node->ac != ac) {
        return;
    }

    /* the reply does not contain the password */
    ngx_log_error(NGX_LOG_ERR, node->log, 0,
                  "sekisho: redis %V refused %s: %*s", &node->conf->name,
                  (char *) privdata, (size_t) reply->len, reply->str);

    /* hiredis frees the context once this callback returns */
    ngx_http_sekisho_redis_node_drop(node, "setup refused");
}


static void
ngx_http_sekisho_redis_node_role_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                     *reply = r, *role;
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (reply == NULL || node->ac != ac) {
        return;
    }

    role = (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0)
           ? reply->element[0] : reply;

    if (role->type == REDIS_REPLY_STRING
        && ngx_strcmp(role->str, "master") == 0)
    {
        ngx_http_sekisho_redis_node_ready(node);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, node->log, 0,
                  "sekisho: redis %V: %s:%d is not the master (%*s)",
                  &node->conf->name, node->addr.host, node->addr.port,
                  (size_t) role->len, role->str ? role->str : "");

    node->handler(node, NGX_HTTP_SEKISHO_REDIS_NODE_REPLICA, NULL);
}


static void
ngx_http_sekisho_redis_node_timeout(ngx_event_t *ev)
{
    ngx_http_sekisho_redis_node_t  *node = ev->data;

    if (node->state == NGX_HTTP_SEKISHO_REDIS_CONNECTING && node->ac) {
        ngx_http_sekisho_redis_node_drop(node, "connect timed out");
    }
}


static void
ngx_http_sekisho_redis_node_on_connect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (node->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        node->ac = NULL;

        if (node->connect_timer.timer_set) {
            ngx_del_timer(&node->connect_timer);
        }

        ngx_http_sekisho_redis_node_down(node, ac->errstr);
        return;
    }

    /* with Sentinel, ROLE says when the node is ready */
    if (node->conf->mode != NGX_HTTP_SEKISHO_REDIS_SENTINEL) {
        ngx_http_sekisho_redis_node_ready(node);
    }
}


static void
ngx_http_sekisho_redis_node_ready(ngx_http_sekisho_redis_node_t *node)
{
    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    node->state = NGX_HTTP_SEKISHO_REDIS_READY;
    node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;
    node->asks = 0;

    node->handler(node, NGX_HTTP_SEKISHO_REDIS_NODE_READY, NULL);
}


static void
ngx_http_sekisho_redis_node_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (node->ac != ac) {
        return;
    }

    node->ac = NULL;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    ngx_http_sekisho_redis_node_down(node, ac->err ? ac->errstr
                                                   : "connection closed");
}


/* closes the connection now; commands sent fail with a NULL reply */

void
ngx_http_sekisho_redis_node_drop(ngx_http_sekisho_redis_node_t *node,
    const char *why)
{
    redisAsyncContext  *ac;

    ac = node->ac;
    node->ac = NULL;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    ngx_http_sekisho_redis_node_down(node, why);

    /* freed at once, or by hiredis when its callback returns */
    if (ac) {
        redisAsyncFree(ac);
    }
}


/* the same without an outage: the master moved, or is asked for again */

void
ngx_http_sekisho_redis_node_close(ngx_http_sekisho_redis_node_t *node)
{
    redisAsyncContext  *ac;

    ac = node->ac;
    node->ac = NULL;
    node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;
    node->next_attempt = ngx_current_msec;
    node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* the next attempt waits for the backoff, with jitter */

void
ngx_http_sekisho_redis_node_down(ngx_http_sekisho_redis_node_t *node,
    const char *why)
{
    ngx_msec_t  jitter;

    node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;
    node->asks = 0;

    /* with Sentinel, a connection lost may be a failover */
    if (node->conf->mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL) {
        node->stale = 1;
    }

    jitter = node->backoff / 5;
    node->next_attempt = ngx_current_msec + node->backoff
                         - jitter + (jitter ? ngx_random() % (2 * jitter) : 0);

    node->backoff *= 2;
    if (node->backoff > NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX) {
        node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX;
    }

    node->handler(node, NGX_HTTP_SEKISHO_REDIS_NODE_DOWN,
                  why ? why : "unknown error");
}
