
/*
 * Copyright (C) Sekisho authors
 *
 * Redis Sentinel: which node is the master now.  The Sentinels are
 * asked in turn (SENTINEL get-master-addr-by-name) until one answers,
 * and one of them is listened to for "+promoted-slave" and
 * "+switch-master", so that a failover is followed as soon as the new
 * master is one.
 */


#ifndef _NGX_HTTP_SEKISHO_REDIS_SENTINEL_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REDIS_SENTINEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_redis_parse.h"


typedef struct ngx_http_sekisho_redis_sentinel_s
    ngx_http_sekisho_redis_sentinel_t;

/* how the master's address was learnt */
#define NGX_HTTP_SEKISHO_REDIS_ANSWERED  0
#define NGX_HTTP_SEKISHO_REDIS_PROMOTED  1    /* +promoted-slave */
#define NGX_HTTP_SEKISHO_REDIS_SWITCHED  2    /* +switch-master */

/*
 * The master's address: an answer to a question (NULL when no Sentinel
 * answered), or a message, with "from" the old master.
 */
typedef void (*ngx_http_sekisho_redis_master_pt)(void *data,
    ngx_http_sekisho_redis_addr_t *master,
    ngx_http_sekisho_redis_addr_t *from, ngx_uint_t event);


char *ngx_http_sekisho_redis_sentinel_conf(ngx_conf_t *cf,
    ngx_http_sekisho_redis_sentinel_t **sp, ngx_str_t *list,
    ngx_str_t *master, ngx_str_t *password, ngx_msec_t timeout);
void ngx_http_sekisho_redis_sentinel_init(ngx_http_sekisho_redis_sentinel_t *s,
    ngx_log_t *log, ngx_http_sekisho_redis_master_pt handler, void *data);
void ngx_http_sekisho_redis_sentinel_ask(ngx_http_sekisho_redis_sentinel_t *s);
void ngx_http_sekisho_redis_sentinel_exit(ngx_http_sekisho_redis_sentinel_t *s);


#endif /* _NGX_HTTP_SEKISHO_REDIS_SENTINEL_H_INCLUDED_ */
