
/*
 * Copyright (C) Sekisho authors
 *
 * The audit trail: one JSON line per decided request, written in the
 * log phase, chained with HMAC-SHA256 through shared memory so that
 * every worker appends to one chain; with a state file, under a key that
 * evolves at every epoch, the chain's head sent out as anchors.
 */


#ifndef _NGX_HTTP_SEKISHO_AUDIT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"


#define NGX_HTTP_SEKISHO_AUDIT_DENY       0
#define NGX_HTTP_SEKISHO_AUDIT_DECISIONS  1
#define NGX_HTTP_SEKISHO_AUDIT_ALL        2


typedef struct ngx_http_sekisho_audit_s  ngx_http_sekisho_audit_t;


typedef struct {
    ngx_http_sekisho_audit_t   *log;        /* NULL: off */
    ngx_uint_t                  events;
} ngx_http_sekisho_audit_conf_t;


char *ngx_http_sekisho_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_sekisho_audit_init_worker(ngx_cycle_t *cycle);
void ngx_http_sekisho_audit_exit_worker(ngx_cycle_t *cycle);
void ngx_http_sekisho_audit_request(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);


#endif /* _NGX_HTTP_SEKISHO_AUDIT_H_INCLUDED_ */
