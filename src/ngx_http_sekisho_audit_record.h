
/*
 * Copyright (C) Sekisho authors
 *
 * The audit record of a request, in ECS fields: what was asked, what was
 * decided, and the data it was decided with.  The chain's own fields are
 * appended by the log (ngx_http_sekisho_audit.c).
 */


#ifndef _NGX_HTTP_SEKISHO_AUDIT_RECORD_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_AUDIT_RECORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"


/* the ECS release whose field names and types the records follow */
#define NGX_HTTP_SEKISHO_AUDIT_ECS                                            \
    "\"ecs.version\":\"8.11.0\",\"event.kind\":\"event\","

#define NGX_HTTP_SEKISHO_AUDIT_OBSERVER                                       \
    ",\"observer.product\":\"Sekisho\",\"observer.type\":\"gateway\""


u_char *ngx_http_sekisho_audit_timestamp(u_char *p);
u_char *ngx_http_sekisho_audit_record(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, u_char **last);


#endif /* _NGX_HTTP_SEKISHO_AUDIT_RECORD_H_INCLUDED_ */
