
/*
 * Copyright (C) Sekisho authors
 *
 * The "sekisho_redis" directive: one server, a master found through
 * Sentinels, or a Redis Cluster, and the parameters of each.
 */


#ifndef _NGX_HTTP_SEKISHO_REDIS_CONF_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REDIS_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_redis_parse.h"
#include "ngx_http_sekisho_redis_sentinel.h"


#define NGX_HTTP_SEKISHO_REDIS_SINGLE      0
#define NGX_HTTP_SEKISHO_REDIS_SENTINEL    1
#define NGX_HTTP_SEKISHO_REDIS_CLUSTER     2


typedef struct {
    ngx_uint_t                         mode;
    ngx_str_t                          name;        /* for the logs */
    ngx_http_sekisho_redis_addr_t      addr;        /* a single server */
    u_char                            *unix_path;
    ngx_http_sekisho_redis_addr_t     *seeds;       /* cluster */
    ngx_uint_t                         nseeds;
    ngx_http_sekisho_redis_sentinel_t *sentinel;
    ngx_uint_t                         db;
    ngx_str_t                          password;
    ngx_msec_t                         timeout;
    ngx_str_t                          prefix;
} ngx_http_sekisho_redis_conf_t;


char *ngx_http_sekisho_redis_conf_parse(ngx_conf_t *cf,
    ngx_http_sekisho_redis_conf_t *rd);


#endif /* _NGX_HTTP_SEKISHO_REDIS_CONF_H_INCLUDED_ */
