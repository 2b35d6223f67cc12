
/*
 * Copyright (C) Sekisho authors
 *
 * Sekisho: a security gateway for public-sector intake services.
 * This file holds the directives, the phase handler and the variables;
 * each concern lives in its own file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_geo_gate.h"
#include "ngx_http_sekisho_jpki_access.h"
#include "ngx_http_sekisho_metrics.h"
#include "ngx_http_sekisho_page.h"


static ngx_int_t ngx_http_sekisho_post_read_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_sekisho_access_handler(ngx_http_request_t *r);

static ngx_int_t ngx_http_sekisho_country_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_decision_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_account_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_attempts_left_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_jpki_serial_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_jpki_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_sekisho_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_sekisho_log_handler(ngx_http_request_t *r);
static void ngx_http_sekisho_set_variable(ngx_http_variable_value_t *v,
    const ngx_str_t *s);

static char *ngx_http_sekisho_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_sekisho_conf_set_enum_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

static ngx_int_t ngx_http_sekisho_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_sekisho_init(ngx_conf_t *cf);
static void *ngx_http_sekisho_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_sekisho_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_sekisho_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_sekisho_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_sekisho_init_process(ngx_cycle_t *cycle);
static void ngx_http_sekisho_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_sekisho_unknown[] = {
    { ngx_string("deny"), NGX_HTTP_SEKISHO_GATE_UNKNOWN_DENY },
    { ngx_string("allow"), NGX_HTTP_SEKISHO_GATE_UNKNOWN_ALLOW },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_sekisho_revocations[] = {
    { ngx_string("require"), NGX_HTTP_SEKISHO_REVOKE_REQUIRE },
    { ngx_string("best_effort"), NGX_HTTP_SEKISHO_REVOKE_BEST_EFFORT },
    { ngx_string("off"), NGX_HTTP_SEKISHO_REVOKE_OFF },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_sekisho_redis_failures[] = {
    { ngx_string("closed"), NGX_HTTP_SEKISHO_REDIS_CLOSED },
    { ngx_string("open"), NGX_HTTP_SEKISHO_REDIS_OPEN },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_sekisho_commands[] = {

    { ngx_string("sekisho"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, gate.enable),
      NULL },

    { ngx_string("sekisho_geoip_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_gate_db_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, geo_db),
      NULL },

    { ngx_string("sekisho_geo_countries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_gate_countries_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, gate.countries),
      NULL },

    { ngx_string("sekisho_geo_allow"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_gate_cidrs_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, gate.allow),
      NULL },

    { ngx_string("sekisho_geo_deny"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_gate_cidrs_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, gate.deny),
      NULL },

    { ngx_string("sekisho_geo_unknown"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sekisho_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, gate.unknown),
      &ngx_http_sekisho_unknown },

    { ngx_string("sekisho_geo_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, gate.dry_run),
      NULL },

    { ngx_string("sekisho_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_redis_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sekisho_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, key),
      NULL },

    { ngx_string("sekisho_redis_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_sekisho_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, login.redis_failure),
      &ngx_http_sekisho_redis_failures },

    { ngx_string("sekisho_login_account"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_login_account,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, login.account),
      NULL },

    { ngx_string("sekisho_login_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_login_failure,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, login),
      NULL },

    { ngx_string("sekisho_audit_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_audit_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, audit),
      NULL },

    { ngx_string("sekisho_alert"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_alert_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_alert_foreign_burst"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_sekisho_alert_burst_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_sekisho_metrics,
      0,
      0,
      NULL },

    { ngx_string("sekisho_lockout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_sekisho_lockout,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, login),
      NULL },

    { ngx_string("sekisho_alert_jpki_burst"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_sekisho_alert_burst_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_jpki_challenge"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_sekisho_jpki_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_jpki_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_sekisho_jpki_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_jpki_logout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_sekisho_jpki_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_jpki_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, jpki.require),
      NULL },

    { ngx_string("sekisho_jpki_signed_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, jpki.signed_body),
      NULL },

    { ngx_string("sekisho_jpki_host"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_sekisho_loc_conf_t, jpki.hosts),
      NULL },

    { ngx_string("sekisho_jpki_auth_ca"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sekisho_jpki_ca_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_jpki_sign_ca"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sekisho_jpki_ca_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_jpki_crl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_jpki_crl_files,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, jpki.crl),
      NULL },

    { ngx_string("sekisho_jpki_crl_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_sekisho_jpki_crl_dir,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, jpki.crl),
      NULL },

    { ngx_string("sekisho_jpki_revocation"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_sekisho_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, jpki.revocation),
      &ngx_http_sekisho_revocations },

    { ngx_string("sekisho_session_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sekisho_session_key_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("sekisho_session_idle"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, session.idle),
      NULL },

    { ngx_string("sekisho_session_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_sekisho_main_conf_t, session.lifetime),
      NULL },

    { ngx_string("sekisho_session_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_sekisho_session_cookie_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_sekisho_module_ctx = {
    ngx_http_sekisho_add_variables,        /* preconfiguration */
    ngx_http_sekisho_init,                 /* postconfiguration */

    ngx_http_sekisho_create_main_conf,     /* create main configuration */
    ngx_http_sekisho_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_sekisho_create_loc_conf,      /* create location configuration */
    ngx_http_sekisho_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_sekisho_module = {
    NGX_MODULE_V1,
    &ngx_http_sekisho_module_ctx,          /* module context */
    ngx_http_sekisho_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_sekisho_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_sekisho_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_sekisho_vars[] = {

    { ngx_string("sekisho_country"), NULL,
      ngx_http_sekisho_country_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sekisho_decision"), NULL,
      ngx_http_sekisho_decision_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sekisho_reason"), NULL,
      ngx_http_sekisho_reason_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sekisho_account"), NULL,
      ngx_http_sekisho_account_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sekisho_attempts_left"), NULL,
      ngx_http_sekisho_attempts_left_variable, 0, NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("sekisho_jpki_serial"), NULL,
      ngx_http_sekisho_jpki_serial_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sekisho_jpki_status"), NULL,
      ngx_http_sekisho_jpki_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("sekisho_session"), NULL,
      ngx_http_sekisho_session_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_sekisho_allow_name = ngx_string("allow");


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/* before anything reads them: X-Sekisho-* is Sekisho's name space */

static ngx_int_t
ngx_http_sekisho_post_read_handler(ngx_http_request_t *r)
{
    if (r == r->main
        && ngx_http_sekisho_strip_headers(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * The gate only refuses: an address it lets through is passed on with
 * NGX_DECLINED, so that with "satisfy any" Sekisho never grants access
 * on behalf of auth_basic or "allow", and a refusal ends the request
 * itself, so that no other access module can overrule it.
 */

static ngx_int_t
ngx_http_sekisho_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_sekisho_ctx_t       *ctx;
    ngx_http_sekisho_loc_conf_t  *lcf;

    /* subrequests were made by a main request that passed the gate */
    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_sekisho_ctx(r, 0);

    /* the internal redirect to an operator's error_page after a refusal */
    if (ctx && ctx->decision == NGX_HTTP_SEKISHO_DENY) {
        return NGX_DECLINED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

    /* the phases run again after a body was read or Redis answered */
    if (lcf->gate.enable && !(ctx && ctx->gated)) {
        rc = ngx_http_sekisho_gate(r, &lcf->gate);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        ctx = ngx_http_sekisho_ctx(r, 0);
        ctx->gated = 1;
    }

    if (lcf->login.account || (ctx && ctx->login_state)) {
        rc = ngx_http_sekisho_login_handler(r);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (lcf->jpki.require || lcf->jpki.signed_body) {
        return ngx_http_sekisho_jpki_access(r);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_sekisho_country_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r->main, 1);

    if (ctx == NULL || ngx_http_sekisho_country(r->main, ctx) == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = 2;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = ctx->country_text;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_decision_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t       *ctx;
    ngx_http_sekisho_loc_conf_t  *lcf;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx && ctx->decision != NGX_HTTP_SEKISHO_UNDECIDED) {
        ngx_http_sekisho_set_variable(v,
                                 ngx_http_sekisho_decision_name(ctx->decision));
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

    if (!lcf->gate.enable) {
        ngx_http_sekisho_set_variable(v, &ngx_http_sekisho_allow_name);
        return NGX_OK;
    }

    v->not_found = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t       *ctx;
    ngx_http_sekisho_loc_conf_t  *lcf;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx && ctx->reason != NGX_HTTP_SEKISHO_REASON_NONE) {
        ngx_http_sekisho_set_variable(v,
                                     ngx_http_sekisho_reason_name(ctx->reason));
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

    if (!lcf->gate.enable) {
        ngx_http_sekisho_set_variable(v,
                 ngx_http_sekisho_reason_name(NGX_HTTP_SEKISHO_REASON_GEO_OFF));
        return NGX_OK;
    }

    v->not_found = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_account_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx == NULL || ctx->account.data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_sekisho_set_variable(v, &ctx->account);

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_attempts_left_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                  *p;
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx == NULL || ctx->login == NULL || ctx->attempts_left < 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%i", ctx->attempts_left) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_jpki_serial_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx == NULL || ctx->jpki_serial.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_sekisho_set_variable(v, &ctx->jpki_serial);

    return NGX_OK;
}


/* the revocation check of the certificate seen: good, revoked, unchecked */

static ngx_int_t
ngx_http_sekisho_jpki_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx == NULL || ctx->jpki_revocation == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_sekisho_set_variable(v,
                  ngx_http_sekisho_revocation_name(ctx->jpki_revocation - 1));

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r->main, 0);

    if (ctx == NULL || ctx->session_id.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_sekisho_set_variable(v, &ctx->session_id);

    return NGX_OK;
}


/* the log phase: the counters, then the audit record */

static ngx_int_t
ngx_http_sekisho_log_handler(ngx_http_request_t *r)
{
    ngx_http_sekisho_ctx_t  *ctx;

    if (r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx && ctx->decision != NGX_HTTP_SEKISHO_UNDECIDED) {
        ngx_http_sekisho_metrics_request(ctx->decision, ctx->reason);
    }

    if (ctx && ctx->jpki_use) {
        ngx_http_sekisho_metrics_jpki(ctx->jpki_use - 1, ctx->reason);
    }

    ngx_http_sekisho_audit_request(r, ctx);

    return NGX_OK;
}


/* the upstream's answer to a login attempt settles it */

static ngx_int_t
ngx_http_sekisho_header_filter(ngx_http_request_t *r)
{
    ngx_http_sekisho_login_outcome(r);

    if (r == r->main && ngx_http_sekisho_session_filter(r) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static void
ngx_http_sekisho_set_variable(ngx_http_variable_value_t *v, const ngx_str_t *s)
{
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;
}


static char *
ngx_http_sekisho_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    return ngx_http_sekisho_redis_conf(cf, &mcf->redis);
}


/*
 * Like ngx_conf_set_enum_slot(), but the error names the directive and
 * the values it takes.
 */

static char *
ngx_http_sekisho_conf_set_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    u_char           *last, buf[NGX_MAX_CONF_ERRSTR];
    ngx_str_t        *value;
    ngx_uint_t       *np, i;
    ngx_conf_enum_t  *e;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len == value[1].len
            && ngx_strcasecmp(e[i].name.data, value[1].data) == 0)
        {
            *np = e[i].value;
            return NGX_CONF_OK;
        }
    }

    last = buf;

    for (i = 0; e[i].name.len != 0; i++) {
        last = ngx_slprintf(last, buf + sizeof(buf), "%s\"%V\"",
                            i == 0 ? "" : (e[i + 1].name.len ? ", " : " or "),
                            &e[i].name);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive, "
                       "it must be %*s", &value[1], &cmd->name,
                       (size_t) (last - buf), buf);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_sekisho_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_sekisho_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_sekisho_page_init(cf) != NGX_OK
        || ngx_http_sekisho_lockout_init(cf) != NGX_OK
        || ngx_http_sekisho_metrics_init(cf) != NGX_OK
        || ngx_http_sekisho_alert_init(cf) != NGX_OK
        || ngx_http_sekisho_session_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_sekisho_header_filter;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_sekisho_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_sekisho_post_read_handler;

    /* pushed after the rewrite module's, so it runs before "return" */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_sekisho_login_redirected;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_sekisho_log_handler;

    return NGX_OK;
}


static void *
ngx_http_sekisho_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    /* the concerns find their configuration by this index */
    ngx_http_sekisho_conf_index = ngx_http_sekisho_module.ctx_index;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->geo_db = NULL;
     *     mcf->redis = NULL;
     *     mcf->key = { 0, NULL };
     */

    if (ngx_array_init(&mcf->audit_logs, cf->pool, 1,
                       sizeof(ngx_http_sekisho_audit_t *))
        != NGX_OK)
    {
        return NULL;
    }

    ngx_http_sekisho_jpki_trust_create(&mcf->jpki);
    ngx_http_sekisho_session_conf_create(&mcf->session);

    return mcf;
}


static char *
ngx_http_sekisho_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    /* an outage of Redis, and its end, are alerts */
    if (mcf->redis) {
        ngx_http_sekisho_redis_on_state(mcf->redis,
                                        ngx_http_sekisho_alert_redis);
    }

    if (ngx_http_sekisho_session_conf_init(cf, &mcf->session, mcf->redis)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_sekisho_jpki_trust_init(cf, &mcf->jpki);
}


static void *
ngx_http_sekisho_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_sekisho_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    ngx_http_sekisho_gate_create(&conf->gate);

    ngx_http_sekisho_login_conf_init(&conf->login);
    conf->audit.log = NGX_CONF_UNSET_PTR;
    ngx_http_sekisho_jpki_loc_create(&conf->jpki);

    return conf;
}


static char *
ngx_http_sekisho_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_sekisho_loc_conf_t *prev = parent;
    ngx_http_sekisho_loc_conf_t *conf = child;

    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_cf_main_conf(cf);

    if (ngx_http_sekisho_gate_merge(cf, &prev->gate, &conf->gate,
                                    mcf->geo_db)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->audit.log == NGX_CONF_UNSET_PTR) {
        conf->audit = prev->audit;
    }

    if (conf->audit.log == NGX_CONF_UNSET_PTR) {
        conf->audit.log = NULL;
    }

    if (ngx_http_sekisho_jpki_loc_merge(cf, &prev->jpki, &conf->jpki)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_sekisho_login_conf_merge(cf, &prev->login, &conf->login);
}


static ngx_int_t
ngx_http_sekisho_init_process(ngx_cycle_t *cycle)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    /* the cache manager and loader serve no request: nothing to start */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_sekisho_module);

    if (mcf == NULL) {
        return NGX_OK;
    }

    if (mcf->geo_db
        && ngx_http_sekisho_geo_init_worker(cycle, mcf->geo_db) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (mcf->redis
        && ngx_http_sekisho_redis_init_worker(cycle, mcf->redis) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_lockout_init_worker(cycle);

    if (ngx_http_sekisho_alert_init_worker(cycle) != NGX_OK
        || ngx_http_sekisho_audit_init_worker(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_jpki_trust_init_worker(cycle, &mcf->jpki) != NGX_OK
        || ngx_http_sekisho_session_init_worker(cycle, &mcf->session)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_sekisho_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_sekisho_module);

    if (mcf) {
        ngx_http_sekisho_jpki_trust_exit_worker(&mcf->jpki);
        ngx_http_sekisho_audit_exit_worker(cycle);
    }

    if (mcf && mcf->redis) {
        /* commands still out report their loss before the queue goes */
        ngx_http_sekisho_redis_exit_worker(mcf->redis);
        ngx_http_sekisho_lockout_exit_worker();
    }
}
