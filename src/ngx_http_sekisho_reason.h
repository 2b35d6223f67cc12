
/*
 * Copyright (C) Sekisho authors
 *
 * What Sekisho decided about a request and why: the values of
 * $sekisho_decision and $sekisho_reason, shared by every part.
 */


#ifndef _NGX_HTTP_SEKISHO_REASON_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REASON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef enum {
    NGX_HTTP_SEKISHO_UNDECIDED = 0,
    NGX_HTTP_SEKISHO_ALLOW,
    NGX_HTTP_SEKISHO_DENY,
    NGX_HTTP_SEKISHO_DRYRUN_DENY
} ngx_http_sekisho_decision_e;


typedef enum {
    NGX_HTTP_SEKISHO_REASON_NONE = 0,
    NGX_HTTP_SEKISHO_REASON_GEO_OFF,
    NGX_HTTP_SEKISHO_REASON_GEO_COUNTRY,
    NGX_HTTP_SEKISHO_REASON_GEO_FOREIGN,
    NGX_HTTP_SEKISHO_REASON_GEO_UNKNOWN,
    NGX_HTTP_SEKISHO_REASON_GEO_ALLOWLIST,
    NGX_HTTP_SEKISHO_REASON_GEO_DENYLIST,
    NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED,
    NGX_HTTP_SEKISHO_REASON_IP_LOCKED,
    NGX_HTTP_SEKISHO_REASON_LOGIN_FAILED,
    NGX_HTTP_SEKISHO_REASON_LOGIN_OK,
    NGX_HTTP_SEKISHO_REASON_LOGIN_ERROR,
    NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE,
    NGX_HTTP_SEKISHO_REASON_LOGIN_NO_ACCOUNT,
    NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,

    NGX_HTTP_SEKISHO_REASON_COUNT       /* not a reason: how many there are */
} ngx_http_sekisho_reason_e;


#define NGX_HTTP_SEKISHO_DECISION_COUNT  4


const ngx_str_t *ngx_http_sekisho_decision_name(
    ngx_http_sekisho_decision_e decision);
const ngx_str_t *ngx_http_sekisho_reason_name(
    ngx_http_sekisho_reason_e reason);


#endif /* _NGX_HTTP_SEKISHO_REASON_H_INCLUDED_ */
