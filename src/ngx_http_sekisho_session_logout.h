
/*
 * Copyright (C) Sekisho authors
 *
 * The list of logged-out sessions: kept in Redis for every gateway
 * until the sessions would have expired anyway, and copied by every
 * worker each second, so that the check of a request never waits for
 * Redis.
 */


#ifndef _NGX_HTTP_SEKISHO_SESSION_LOGOUT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_SESSION_LOGOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_session_token.h"


typedef struct {
    ngx_http_sekisho_redis_t       *redis;         /* NULL: no list */
    ngx_str_t                       key;           /* in Redis */
    time_t                          lifetime;      /* of a session */

    /* the worker's copy */
    ngx_rbtree_t                    tree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     queue;         /* oldest first */
    ngx_event_t                     sync;
    ngx_msec_t                      synced;        /* last sync that worked */
    ngx_msec_t                      started;
    int64_t                         since;         /* newest seen, ms */
    ngx_http_sekisho_redis_cmd_t   *sync_cmd;
} ngx_http_sekisho_logout_list_t;


/* the end of a logout: whether Redis recorded it for every gateway */
typedef void (*ngx_http_sekisho_logout_pt)(ngx_http_request_t *r,
    ngx_uint_t recorded);


/* at configuration: the list's key under the Redis prefix */
ngx_int_t ngx_http_sekisho_logout_list_conf(ngx_conf_t *cf,
    ngx_http_sekisho_logout_list_t *list, ngx_http_sekisho_redis_t *redis,
    time_t lifetime);
ngx_int_t ngx_http_sekisho_logout_list_init(ngx_conf_t *cf);
ngx_int_t ngx_http_sekisho_logout_list_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_logout_list_t *list);

/* whether a session id is listed in this worker's copy */
ngx_uint_t ngx_http_sekisho_logout_listed(
    ngx_http_sekisho_logout_list_t *list, u_char *sid);

/* how old the worker's copy is, in ms */
ngx_msec_t ngx_http_sekisho_logout_list_age(
    ngx_http_sekisho_logout_list_t *list);

/*
 * Lists a session: here at once, in Redis for every gateway.  NGX_OK:
 * "done" is called with Redis's answer (the command in ctx->jpki_cmd);
 * NGX_DECLINED: Redis could not be asked; NGX_ERROR.
 */
ngx_int_t ngx_http_sekisho_logout_add(ngx_http_request_t *r,
    ngx_http_sekisho_logout_list_t *list, ngx_http_sekisho_session_t *s,
    ngx_http_sekisho_logout_pt done);


#endif /* _NGX_HTTP_SEKISHO_SESSION_LOGOUT_H_INCLUDED_ */
