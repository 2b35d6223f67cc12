
/*
 * Copyright (C) Sekisho authors
 *
 * One connection to one Redis node: opened without blocking, AUTH and
 * SELECT first (with Sentinel, ROLE too: a node is ready only as a
 * master), bounded by a timer, backing off after a failure.  What
 * becomes of it (ready, down, a replica) is told to its owner, who
 * keeps the commands waiting for it in "pending".
 */


#ifndef _NGX_HTTP_SEKISHO_REDIS_NODE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REDIS_NODE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>
#include "ngx_http_sekisho_redis_conf.h"


/* a node's connection */
#define NGX_HTTP_SEKISHO_REDIS_DOWN        0
#define NGX_HTTP_SEKISHO_REDIS_DISCOVER    1    /* asking the Sentinels */
#define NGX_HTTP_SEKISHO_REDIS_CONNECTING  2
#define NGX_HTTP_SEKISHO_REDIS_READY       3

/* what the owner is told */
#define NGX_HTTP_SEKISHO_REDIS_NODE_READY    0
#define NGX_HTTP_SEKISHO_REDIS_NODE_DOWN     1
#define NGX_HTTP_SEKISHO_REDIS_NODE_REPLICA  2


typedef struct ngx_http_sekisho_redis_node_s  ngx_http_sekisho_redis_node_t;

typedef void (*ngx_http_sekisho_redis_node_pt)(
    ngx_http_sekisho_redis_node_t *node, ngx_uint_t event, const char *why);


struct ngx_http_sekisho_redis_node_s {
    ngx_http_sekisho_redis_conf_t   *conf;
    ngx_http_sekisho_redis_addr_t    addr;          /* port 0: not known */
    redisAsyncContext               *ac;
    ngx_uint_t                       state;
    ngx_uint_t                       asks;          /* Sentinels, in a row */
    ngx_msec_t                       backoff;
    ngx_msec_t                       next_attempt;
    ngx_event_t                      connect_timer;
    ngx_queue_t                      pending;       /* commands not sent */
    ngx_log_t                       *log;
    ngx_http_sekisho_redis_node_pt   handler;
    void                            *data;
    unsigned                         stale:1;       /* ask the Sentinels */
};


/* down, and its next attempt not due yet: what needs it fails now */
#define ngx_http_sekisho_redis_waiting(node)                                  \
    ((node)->state == NGX_HTTP_SEKISHO_REDIS_DOWN                             \
     && ngx_current_msec < (node)->next_attempt)


void ngx_http_sekisho_redis_node_init(ngx_http_sekisho_redis_node_t *node,
    ngx_http_sekisho_redis_conf_t *conf, ngx_log_t *log,
    ngx_http_sekisho_redis_node_pt handler, void *data);
ngx_int_t ngx_http_sekisho_redis_node_open(ngx_http_sekisho_redis_node_t *node);
void ngx_http_sekisho_redis_node_drop(ngx_http_sekisho_redis_node_t *node,
    const char *why);
void ngx_http_sekisho_redis_node_down(ngx_http_sekisho_redis_node_t *node,
    const char *why);
void ngx_http_sekisho_redis_node_close(ngx_http_sekisho_redis_node_t *node);


#endif /* _NGX_HTTP_SEKISHO_REDIS_NODE_H_INCLUDED_ */
