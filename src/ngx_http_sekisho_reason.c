
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_reason.h"


static ngx_str_t  ngx_http_sekisho_decision_names[] = {
    ngx_null_string,
    ngx_string("allow"),
    ngx_string("deny"),
    ngx_string("dryrun-deny")
};


/* in the order of ngx_http_sekisho_reason_e */
static ngx_str_t  ngx_http_sekisho_reason_names[] = {
    ngx_null_string,
    ngx_string("geo_off"),
    ngx_string("geo_country"),
    ngx_string("geo_foreign"),
    ngx_string("geo_unknown"),
    ngx_string("geo_allowlist"),
    ngx_string("geo_denylist"),
    ngx_string("account_locked"),
    ngx_string("ip_locked"),
    ngx_string("login_failed"),
    ngx_string("login_ok"),
    ngx_string("login_error"),
    ngx_string("redis_unavailable"),
    ngx_string("login_no_account"),
    ngx_string("login_bad_body"),
    ngx_string("jpki_login_ok"),
    ngx_string("jpki_challenge"),
    ngx_string("jpki_bad_request"),
    ngx_string("jpki_bad_certificate"),
    ngx_string("jpki_untrusted"),
    ngx_string("jpki_validity"),
    ngx_string("jpki_key_usage"),
    ngx_string("jpki_wrong_certificate"),
    ngx_string("jpki_revoked"),
    ngx_string("jpki_crl_stale"),
    ngx_string("jpki_bad_algorithm"),
    ngx_string("jpki_bad_signature"),
    ngx_string("jpki_bad_cms"),
    ngx_string("jpki_unsigned"),
    ngx_string("jpki_signed_body"),
    ngx_string("jpki_logout"),
    ngx_string("session_ok"),
    ngx_string("session_missing"),
    ngx_string("session_invalid"),
    ngx_string("session_idle"),
    ngx_string("session_expired"),
    ngx_string("session_revoked"),
    ngx_string("jpki_wrong_host"),
    ngx_string("login_bad_content_type"),
    ngx_string("login_bad_account")
};


const ngx_str_t *
ngx_http_sekisho_decision_name(ngx_http_sekisho_decision_e decision)
{
    if ((size_t) decision
        >= sizeof(ngx_http_sekisho_decision_names) / sizeof(ngx_str_t))
    {
        return &ngx_http_sekisho_decision_names[0];
    }

    return &ngx_http_sekisho_decision_names[decision];
}


const ngx_str_t *
ngx_http_sekisho_reason_name(ngx_http_sekisho_reason_e reason)
{
    if ((size_t) reason
        >= sizeof(ngx_http_sekisho_reason_names) / sizeof(ngx_str_t))
    {
        return &ngx_http_sekisho_reason_names[0];
    }

    return &ngx_http_sekisho_reason_names[reason];
}
