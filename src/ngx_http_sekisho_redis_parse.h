
/*
 * Copyright (C) Sekisho authors
 *
 * What Redis Sentinel and Redis Cluster say, read without a connection:
 * node addresses, MOVED and ASK redirections, +switch-master and
 * +promoted-slave messages,
 * comma-separated address lists, and the hash slot of a key.  Pure
 * functions, for the unit tests.
 */


#ifndef _NGX_HTTP_SEKISHO_REDIS_PARSE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REDIS_PARSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_SEKISHO_REDIS_SLOTS     16384
#define NGX_HTTP_SEKISHO_REDIS_HOSTLEN   46     /* INET6_ADDRSTRLEN */

/* addresses in a list, and the nodes of a cluster a worker may know */
#define NGX_HTTP_SEKISHO_REDIS_MAX_NODES 16

#define NGX_HTTP_SEKISHO_REDIS_MOVED     1
#define NGX_HTTP_SEKISHO_REDIS_ASK       2


/* a node's numeric address: hiredis would resolve a name blocking */
typedef struct {
    u_char                      host[NGX_HTTP_SEKISHO_REDIS_HOSTLEN];
    int                         port;
} ngx_http_sekisho_redis_addr_t;


ngx_int_t ngx_http_sekisho_redis_parse_addr(u_char *p, size_t len,
    ngx_http_sekisho_redis_addr_t *addr);
ngx_int_t ngx_http_sekisho_redis_parse_port(u_char *p, size_t len);
ngx_int_t ngx_http_sekisho_redis_parse_redirect(u_char *p, size_t len,
    ngx_uint_t *slot, ngx_http_sekisho_redis_addr_t *addr);
ngx_int_t ngx_http_sekisho_redis_parse_switch(u_char *p, size_t len,
    ngx_str_t *master, ngx_http_sekisho_redis_addr_t *from,
    ngx_http_sekisho_redis_addr_t *to);
ngx_int_t ngx_http_sekisho_redis_parse_promoted(u_char *p, size_t len,
    ngx_str_t *master, ngx_http_sekisho_redis_addr_t *from,
    ngx_http_sekisho_redis_addr_t *to);
ngx_int_t ngx_http_sekisho_redis_split_list(ngx_str_t *list,
    ngx_str_t *items, ngx_uint_t max, ngx_uint_t *n);
ngx_uint_t ngx_http_sekisho_redis_key_slot(u_char *key, size_t len);
ngx_int_t ngx_http_sekisho_redis_same_addr(
    ngx_http_sekisho_redis_addr_t *a, ngx_http_sekisho_redis_addr_t *b);


#endif /* _NGX_HTTP_SEKISHO_REDIS_PARSE_H_INCLUDED_ */
