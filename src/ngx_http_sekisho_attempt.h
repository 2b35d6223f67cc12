
/*
 * Copyright (C) Sekisho authors
 *
 * One login attempt in Redis, from its reservation to the last
 * settlement sent for it: the keyed-hash keys, the two Lua scripts,
 * the deadline of a reservation in Redis's clock, and the worker's
 * queue of settlements kept while Redis does not answer.  The lockout
 * owns the request; this file owns what Redis holds.
 */


#ifndef _NGX_HTTP_SEKISHO_ATTEMPT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_ATTEMPT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_redis.h"


/* how the application's answer settles an attempt */
#define NGX_HTTP_SEKISHO_OUTCOME_OK       0
#define NGX_HTTP_SEKISHO_OUTCOME_FAIL     1
#define NGX_HTTP_SEKISHO_OUTCOME_NONE     2

/* what Redis said of a reservation */
#define NGX_HTTP_SEKISHO_RESERVED         0
#define NGX_HTTP_SEKISHO_ACCOUNT_LOCKED   1
#define NGX_HTTP_SEKISHO_IP_LOCKED        2
#define NGX_HTTP_SEKISHO_NO_ANSWER        3   /* an error, too late, lost */


typedef struct {
    ngx_uint_t                  attempts;      /* 0: no limit */
    ngx_msec_t                  window;
    ngx_msec_t                  lock;
} ngx_http_sekisho_limit_t;


typedef struct ngx_http_sekisho_attempt_s  ngx_http_sekisho_attempt_t;


typedef struct {
    ngx_uint_t                  result;
    ngx_int_t                   attempts_left; /* -1: no limit */
    ngx_msec_t                  retry_after;
} ngx_http_sekisho_reservation_t;


/* the owner hears of its reservation, unless it has forgotten it */
typedef void (*ngx_http_sekisho_reserved_pt)(void *owner,
    ngx_http_sekisho_reservation_t *res);


ngx_int_t ngx_http_sekisho_attempt_init(void);
void ngx_http_sekisho_attempt_init_worker(ngx_cycle_t *cycle);
void ngx_http_sekisho_attempt_exit_worker(void);

/*
 * "account" is the normalised id, "addr" the bytes an address counts
 * by, "addr_text" its text for logs and alerts; the limits are copied.
 * The caller holds one reference.
 */
ngx_http_sekisho_attempt_t *ngx_http_sekisho_attempt_create(
    ngx_http_sekisho_redis_t *redis, ngx_str_t *key, ngx_str_t *account,
    ngx_str_t *addr, ngx_str_t *addr_text,
    ngx_http_sekisho_limit_t *account_limit,
    ngx_http_sekisho_limit_t *ip_limit, ngx_log_t *log);

/* NGX_OK: sent, the handler will be called; NGX_DECLINED: Redis is away */
ngx_int_t ngx_http_sekisho_attempt_reserve(ngx_http_sekisho_attempt_t *a,
    ngx_http_sekisho_reserved_pt handler, void *owner);

void ngx_http_sekisho_attempt_settle(ngx_http_sekisho_attempt_t *a,
    ngx_uint_t outcome);

/* the owner is going: a reservation in flight is refunded by its reply */
void ngx_http_sekisho_attempt_forget(ngx_http_sekisho_attempt_t *a);

/* the owner's reference dropped */
void ngx_http_sekisho_attempt_release(ngx_http_sekisho_attempt_t *a);

/* the account's keyed hash, 64 hex digits: for metrics and alerts */
u_char *ngx_http_sekisho_attempt_account_hash(ngx_http_sekisho_attempt_t *a);


#endif /* _NGX_HTTP_SEKISHO_ATTEMPT_H_INCLUDED_ */
