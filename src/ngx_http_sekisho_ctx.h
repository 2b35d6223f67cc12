
/*
 * Copyright (C) Sekisho authors
 *
 * The per-request record of what Sekisho decided, shared by every
 * concern: the gate, the lockout, card logins and sessions, the audit
 * record and the variables read it.  It survives an internal redirect
 * (an operator's error_page after a refusal).
 */


#ifndef _NGX_HTTP_SEKISHO_CTX_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_CTX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_session_token.h"


/* how a card login went, for the address limit of the lockout */
#define NGX_HTTP_SEKISHO_CARD_OK    1
#define NGX_HTTP_SEKISHO_CARD_FAIL  2
#define NGX_HTTP_SEKISHO_CARD_NONE  3

/* what a JPKI verification was for (ctx->jpki_use), for the metrics */
#define NGX_HTTP_SEKISHO_JPKI_USE_LOGIN  1
#define NGX_HTTP_SEKISHO_JPKI_USE_BODY   2


struct ngx_http_sekisho_login_conf_s;
struct ngx_http_sekisho_attempt_s;


typedef struct {
    ngx_http_request_t             *request;
    ngx_http_sekisho_decision_e     decision;
    ngx_http_sekisho_reason_e       reason;
    uint16_t                        country;
    u_char                          country_text[2];
    time_t                          geo_build;      /* 0: no lookup */

    ngx_uint_t                      body;           /* BODY_* */

    /* a login attempt */
    ngx_uint_t                      login_state;
    ngx_int_t                       login_rc;
    ngx_str_t                       account;        /* as counted */
    ngx_int_t                       attempts_left;  /* -1: not known */
    ngx_msec_t                      retry_after;
    struct ngx_http_sekisho_login_conf_s  *login;
    struct ngx_http_sekisho_attempt_s     *attempt; /* in Redis */
    ngx_http_upstream_t            *login_upstream; /* before the login's */

    /* JPKI: a card login, a session, a signed body */
    ngx_uint_t                      jpki_state;
    ngx_int_t                       jpki_rc;
    ngx_uint_t                      card_outcome;
    ngx_uint_t                      jpki_use;      /* JPKI_USE_* */
    void                           *jpki;          /* the endpoint's own */
    ngx_http_sekisho_session_t     *session;       /* a card's session */
    ngx_http_sekisho_redis_cmd_t   *jpki_cmd;
    ngx_str_t                       jpki_serial;   /* hex */
    ngx_uint_t                      jpki_revocation;  /* +1; 0: no card */
    ngx_str_t                       jpki_issuer;   /* RFC 2253 */
    time_t                          jpki_not_after;
    ngx_str_t                       crl_number;    /* decimal; the CRL */
    time_t                          crl_this_update;  /* that decided */
    ngx_str_t                       session_id;
    ngx_str_t                       set_cookie;
    void                           *jpki_lcf;      /* checked by its rules */

    unsigned                        gated:1;
    unsigned                        identity_sent:1;
    unsigned                        signer_sent:1;
    unsigned                        looked_up:1;
    unsigned                        reserved:1;
    unsigned                        settled:1;
    unsigned                        no_clear:1;     /* a page with an id */
} ngx_http_sekisho_ctx_t;


ngx_http_sekisho_ctx_t *ngx_http_sekisho_ctx(ngx_http_request_t *r,
    ngx_uint_t create);


#endif /* _NGX_HTTP_SEKISHO_CTX_H_INCLUDED_ */
