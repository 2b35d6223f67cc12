
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_audit_chain.h"
#include "ngx_http_sekisho_audit_record.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_text.h"


/* the longest User-Agent kept in a record */
#define NGX_HTTP_SEKISHO_AUDIT_UA_MAX  256

/* what a request was, as ECS categorises events (ngx_http_sekisho_kinds) */
#define NGX_HTTP_SEKISHO_KIND_REQUEST   0
#define NGX_HTTP_SEKISHO_KIND_COUNTRY   1
#define NGX_HTTP_SEKISHO_KIND_PASSWORD  2
#define NGX_HTTP_SEKISHO_KIND_CARD      3
#define NGX_HTTP_SEKISHO_KIND_LOGOUT    4
#define NGX_HTTP_SEKISHO_KIND_SESSION   5
#define NGX_HTTP_SEKISHO_KIND_SIGNED    6


/*
 * event.action, event.category and event.type (allowed, refused): the
 * types are among those ECS expects of the category
 */
typedef struct {
    ngx_str_t                    action;
    ngx_str_t                    category;
    ngx_str_t                    type[2];
} ngx_http_sekisho_audit_kind_t;


static ngx_uint_t ngx_http_sekisho_audit_kind(ngx_http_sekisho_ctx_t *ctx);
static u_char *ngx_http_sekisho_audit_date(u_char *p, const char *name,
    time_t t);
static u_char *ngx_http_sekisho_audit_field(u_char *p, const char *name,
    ngx_str_t *value);


static ngx_http_sekisho_audit_kind_t  ngx_http_sekisho_kinds[] = {
    { ngx_string("request"), ngx_string("web"),
      { ngx_string("access"), ngx_string("access") } },
    { ngx_string("country_check"), ngx_string("network"),
      { ngx_string("allowed"), ngx_string("denied") } },
    { ngx_string("password_login"), ngx_string("authentication"),
      { ngx_string("start"), ngx_string("start") } },
    { ngx_string("card_login"), ngx_string("authentication"),
      { ngx_string("start"), ngx_string("start") } },
    { ngx_string("card_logout"), ngx_string("authentication"),
      { ngx_string("end"), ngx_string("end") } },
    { ngx_string("session_check"), ngx_string("session"),
      { ngx_string("info"), ngx_string("info") } },
    { ngx_string("signed_submission"), ngx_string("web"),
      { ngx_string("access"), ngx_string("access") } }
};


/*
 * The record of a request, with room after it for the chain's fields and
 * the seal; "last" receives its end.
 */

u_char *
ngx_http_sekisho_audit_record(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, u_char **last)
{
    u_char                         *p, *start;
    size_t                          len;
    ngx_str_t                       s, path, ua;
    ngx_uint_t                      upstream;
    ngx_http_variable_value_t      *id;
    const ngx_str_t                *decision, *reason;
    ngx_http_sekisho_audit_kind_t  *kind;

    if (ctx && ctx->decision != NGX_HTTP_SEKISHO_UNDECIDED) {
        decision = ngx_http_sekisho_decision_name(ctx->decision);
        reason = ngx_http_sekisho_reason_name(ctx->reason);

    } else {
        decision = ngx_http_sekisho_decision_name(NGX_HTTP_SEKISHO_ALLOW);
        reason = ngx_http_sekisho_reason_name(
                                      NGX_HTTP_SEKISHO_REASON_GEO_OFF);
    }

    id = ngx_http_get_indexed_variable(r, ngx_http_sekisho_request_id_index);

    /* the path as the client sent it, without the query string */
    path = r->uri;
    if (r->uri_start && r->uri_end) {
        path.data = r->uri_start;
        path.len = (r->args_start ? r->args_start - 1 : r->uri_end)
                   - r->uri_start;
    }

    ngx_str_null(&ua);
    if (r->headers_in.user_agent) {
        ua = r->headers_in.user_agent->value;
        ua.len = ngx_min(ua.len, NGX_HTTP_SEKISHO_AUDIT_UA_MAX);
    }

    upstream = 0;
    if (r->upstream_states && r->upstream_states->nelts) {
        upstream = ((ngx_http_upstream_state_t *)
                    r->upstream_states->elts)[r->upstream_states->nelts - 1]
                   .status;
    }

    kind = &ngx_http_sekisho_kinds[ngx_http_sekisho_audit_kind(ctx)];

    len = sizeof("{\"@timestamp\":\"2026-01-01T00:00:00.000+00:00\"") - 1
          + 1024
          + ngx_cycle->hostname.len
          + (id && !id->not_found ? id->len : 0)
          + r->connection->addr_text.len
          + decision->len + reason->len
          + r->method_name.len
          + ngx_http_sekisho_json_escape_len(path.data, path.len)
          + ngx_http_sekisho_json_escape_len(ua.data, ua.len)
          + (ctx ? ngx_http_sekisho_json_escape_len(ctx->account.data,
                                                     ctx->account.len)
                   + 2 * ngx_http_sekisho_json_escape_len(
                                                     ctx->jpki_issuer.data,
                                                     ctx->jpki_issuer.len)
                   + ctx->jpki_serial.len + ctx->session_id.len
                   + ctx->crl_number.len + 320
                 : 0)
          + NGX_HTTP_SEKISHO_CHAIN_LEN + NGX_HTTP_SEKISHO_SEAL_LEN;

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NULL;
    }

    p = ngx_cpymem(start, "{\"@timestamp\":\"", 15);
    p = ngx_http_sekisho_audit_timestamp(p);
    p = ngx_cpymem(p, "\"," NGX_HTTP_SEKISHO_AUDIT_ECS,
                   sizeof("\"," NGX_HTTP_SEKISHO_AUDIT_ECS) - 1);

    /* what happened, in ECS's categories, then Sekisho's words for it */
    p = ngx_sprintf(p, "\"event.category\":\"%V\",\"event.type\":\"%V\"",
                    &kind->category,
                    &kind->type[ctx && ctx->decision
                                       == NGX_HTTP_SEKISHO_DENY]);
    p = ngx_http_sekisho_audit_field(p, "event.action", &kind->action);
    p = ngx_http_sekisho_audit_field(p, "event.reason", (ngx_str_t *) reason);

    if (ctx && (ctx->decision == NGX_HTTP_SEKISHO_DENY
                || ctx->decision == NGX_HTTP_SEKISHO_DRYRUN_DENY
                || ctx->reason == NGX_HTTP_SEKISHO_REASON_LOGIN_FAILED))
    {
        ngx_str_set(&s, "failure");

    } else if (ctx && (ctx->reason == NGX_HTTP_SEKISHO_REASON_LOGIN_ERROR
                       || ctx->reason
                          == NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE))
    {
        ngx_str_set(&s, "unknown");

    } else {
        ngx_str_set(&s, "success");
    }

    p = ngx_http_sekisho_audit_field(p, "event.outcome", &s);
    p = ngx_http_sekisho_audit_field(p, "sekisho.decision",
                                     (ngx_str_t *) decision);

    s = ngx_cycle->hostname;
    p = ngx_http_sekisho_audit_field(p, "host.name", &s);
    p = ngx_cpymem(p, NGX_HTTP_SEKISHO_AUDIT_OBSERVER,
                   sizeof(NGX_HTTP_SEKISHO_AUDIT_OBSERVER) - 1);

    if (id && !id->not_found) {
        s.data = id->data;
        s.len = id->len;
        p = ngx_http_sekisho_audit_field(p, "http.request.id", &s);
    }

    p = ngx_http_sekisho_audit_field(p, "source.ip",
                                     &r->connection->addr_text);

    if (ctx && ctx->country) {
        s.data = ctx->country_text;
        s.len = 2;
        p = ngx_http_sekisho_audit_field(p, "source.geo.country_iso_code",
                                         &s);
    }

    /* the country database that placed it (or could not) */
    if (ctx && ctx->geo_build) {
        p = ngx_http_sekisho_audit_date(p, "sekisho.geoip.build",
                                        ctx->geo_build);
    }

    p = ngx_http_sekisho_audit_field(p, "http.request.method",
                                     &r->method_name);
    p = ngx_http_sekisho_audit_field(p, "url.path", &path);

    p = ngx_sprintf(p, ",\"http.response.status_code\":%ui",
                    r->headers_out.status ? r->headers_out.status
                                          : (ngx_uint_t) 0);

    if (upstream) {
        p = ngx_sprintf(p, ",\"sekisho.upstream.status_code\":%ui", upstream);
    }

    if (ctx && ctx->account.len) {
        p = ngx_http_sekisho_audit_field(p, "user.name", &ctx->account);
    }

    /* which card: the certificate, and what its revocation was checked on */
    if (ctx && ctx->jpki_serial.len) {
        p = ngx_http_sekisho_audit_field(p, "tls.client.x509.serial_number",
                                         &ctx->jpki_serial);
    }

    if (ctx && ctx->jpki_issuer.len) {
        p = ngx_http_sekisho_audit_field(p,
                                "tls.client.x509.issuer.distinguished_name",
                                &ctx->jpki_issuer);
    }

    if (ctx && ctx->jpki_not_after) {
        p = ngx_http_sekisho_audit_date(p, "tls.client.x509.not_after",
                                        ctx->jpki_not_after);
    }

    if (ctx && ctx->jpki_revocation && ctx->jpki_revocation <= 3) {
        p = ngx_http_sekisho_audit_field(p, "sekisho.jpki.revocation",
                                         (ngx_str_t *)
                                         ngx_http_sekisho_revocation_name(
                                                   ctx->jpki_revocation - 1));
    }

    if (ctx && ctx->crl_number.len) {
        p = ngx_http_sekisho_audit_field(p, "sekisho.jpki.crl.number",
                                         &ctx->crl_number);

        if (ctx->jpki_issuer.len) {
            p = ngx_http_sekisho_audit_field(p, "sekisho.jpki.crl.issuer",
                                             &ctx->jpki_issuer);
        }

        p = ngx_http_sekisho_audit_date(p, "sekisho.jpki.crl.this_update",
                                        ctx->crl_this_update);
    }

    if (ctx && ctx->session_id.len) {
        p = ngx_http_sekisho_audit_field(p, "sekisho.session.id",
                                         &ctx->session_id);
    }

    if (ua.len) {
        p = ngx_http_sekisho_audit_field(p, "user_agent.original", &ua);
    }

    *last = p;

    return start;
}


/* what a request was: the step Sekisho took, from what it decided */

static ngx_uint_t
ngx_http_sekisho_audit_kind(ngx_http_sekisho_ctx_t *ctx)
{
    ngx_http_sekisho_reason_e  reason;

    if (ctx == NULL || ctx->decision == NGX_HTTP_SEKISHO_UNDECIDED) {
        return NGX_HTTP_SEKISHO_KIND_REQUEST;
    }

    reason = ctx->reason;

    if (reason == NGX_HTTP_SEKISHO_REASON_JPKI_LOGOUT) {
        return NGX_HTTP_SEKISHO_KIND_LOGOUT;
    }

    if (reason >= NGX_HTTP_SEKISHO_REASON_SESSION_OK
        && reason <= NGX_HTTP_SEKISHO_REASON_SESSION_REVOKED)
    {
        return NGX_HTTP_SEKISHO_KIND_SESSION;
    }

    if (ctx->jpki_use == NGX_HTTP_SEKISHO_JPKI_USE_BODY
        || reason == NGX_HTTP_SEKISHO_REASON_JPKI_UNSIGNED
        || reason == NGX_HTTP_SEKISHO_REASON_JPKI_SIGNED_BODY)
    {
        return NGX_HTTP_SEKISHO_KIND_SIGNED;
    }

    if (ctx->jpki_use == NGX_HTTP_SEKISHO_JPKI_USE_LOGIN || ctx->jpki
        || (reason >= NGX_HTTP_SEKISHO_REASON_JPKI_LOGIN_OK
            && reason <= NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS)
        || reason == NGX_HTTP_SEKISHO_REASON_JPKI_WRONG_HOST)
    {
        return NGX_HTTP_SEKISHO_KIND_CARD;
    }

    /* Redis down on a location a card session protects */
    if (ctx->jpki_lcf) {
        return NGX_HTTP_SEKISHO_KIND_SESSION;
    }

    if (ctx->login
        || (reason >= NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED
            && reason <= NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY)
        || reason == NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE
        || reason == NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_ACCOUNT)
    {
        return NGX_HTTP_SEKISHO_KIND_PASSWORD;
    }

    if (reason >= NGX_HTTP_SEKISHO_REASON_GEO_COUNTRY
        && reason <= NGX_HTTP_SEKISHO_REASON_GEO_DENYLIST)
    {
        return NGX_HTTP_SEKISHO_KIND_COUNTRY;
    }

    return NGX_HTTP_SEKISHO_KIND_REQUEST;
}


/* RFC 3339 with milliseconds and the offset: 2026-11-24T13:05:01.123+09:00 */

u_char *
ngx_http_sekisho_audit_timestamp(u_char *p)
{
    ngx_tm_t     tm;
    ngx_int_t    off;
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    off = tp->gmtoff;
    ngx_gmtime(tp->sec + off * 60, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02d.%03M%c%02i:%02i",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                       tp->msec, off < 0 ? '-' : '+',
                       ngx_abs(off / 60), ngx_abs(off % 60));
}


/* a date of the data a decision used, in UTC: 2026-11-01T00:00:00Z */

static u_char *
ngx_http_sekisho_audit_date(u_char *p, const char *name, time_t t)
{
    p = ngx_sprintf(p, ",\"%s\":\"", name);
    p = ngx_http_sekisho_utc(p, t);
    *p++ = '"';

    return p;
}


static u_char *
ngx_http_sekisho_audit_field(u_char *p, const char *name, ngx_str_t *value)
{
    *p++ = ',';
    *p++ = '"';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '"';
    *p++ = ':';
    *p++ = '"';
    p = ngx_http_sekisho_json_escape(p, value->data, value->len);
    *p++ = '"';

    return p;
}
