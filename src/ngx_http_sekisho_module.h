
/*
 * Copyright (C) Sekisho authors
 *
 * What the parts of the module share: its configuration and the
 * per-request record of what was decided.
 */


#ifndef _NGX_HTTP_SEKISHO_MODULE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_geo.h"
#include "ngx_http_sekisho_geo_rules.h"
#include "ngx_http_sekisho_lockout.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_audit.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_metrics.h"
#include "ngx_http_sekisho_jpki.h"


typedef struct {
    ngx_http_sekisho_geo_db_t      *geo_db;
    ngx_http_sekisho_redis_t       *redis;
    ngx_str_t                       key;           /* HMAC key of ids */
    ngx_array_t                     audit_logs;    /* of audit_t * */
    ngx_http_sekisho_alerts_t      *alerts;
    ngx_http_sekisho_jpki_main_t    jpki;
} ngx_http_sekisho_main_conf_t;


typedef struct {
    ngx_flag_t                      enable;
    ngx_array_t                    *countries;     /* of uint16_t */
    ngx_array_t                    *allow;         /* of ngx_cidr_t */
    ngx_array_t                    *deny;          /* of ngx_cidr_t */
    ngx_uint_t                      unknown;
    ngx_flag_t                      dry_run;
    ngx_http_sekisho_geo_policy_t   policy;        /* the above, merged */
    ngx_http_sekisho_login_conf_t   login;
    ngx_http_sekisho_audit_conf_t   audit;
    ngx_http_sekisho_jpki_loc_t     jpki;
} ngx_http_sekisho_loc_conf_t;


/* how a card login went, for the address limit of the lockout */
#define NGX_HTTP_SEKISHO_CARD_OK    1
#define NGX_HTTP_SEKISHO_CARD_FAIL  2
#define NGX_HTTP_SEKISHO_CARD_NONE  3


/* survives internal redirects (error_page), see ngx_http_sekisho_ctx() */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_sekisho_decision_e     decision;
    ngx_http_sekisho_reason_e       reason;
    uint16_t                        country;
    u_char                          country_text[2];

    /* a login attempt */
    ngx_uint_t                      login_state;
    ngx_int_t                       login_rc;
    ngx_str_t                       account;        /* as counted */
    ngx_int_t                       attempts_left;  /* -1: not known */
    ngx_msec_t                      retry_after;
    ngx_http_sekisho_login_conf_t  *login;
    ngx_http_sekisho_attempt_t     *attempt;        /* in Redis */
    ngx_http_upstream_t            *login_upstream; /* before the login's */

    /* JPKI: a card login, a session, a signed body */
    ngx_uint_t                      jpki_state;
    ngx_int_t                       jpki_rc;
    ngx_uint_t                      card_outcome;
    ngx_uint_t                      jpki_use;      /* 1 login, 2 body */
    void                           *jpki;          /* the endpoint's own */
    ngx_http_sekisho_session_t     *session;       /* a card's session */
    ngx_http_sekisho_redis_cmd_t   *jpki_cmd;
    ngx_str_t                       jpki_serial;   /* hex */
    ngx_uint_t                      jpki_revocation;  /* +1; 0: no card */
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
void ngx_http_sekisho_login_cleanup(ngx_http_sekisho_ctx_t *ctx);
void ngx_http_sekisho_audit_request(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
char *ngx_http_sekisho_conf_set_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


extern ngx_module_t  ngx_http_sekisho_module;


#endif /* _NGX_HTTP_SEKISHO_MODULE_H_INCLUDED_ */
