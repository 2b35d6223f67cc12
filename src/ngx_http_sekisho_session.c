
/*
 * Copyright (C) Sekisho authors
 *
 * Gateway sessions after a card login: a signed cookie checked without
 * any lookup (ngx_http_sekisho_session_token.c), an idle limit that
 * activity slides, an absolute limit, and logout (the list of
 * logged-out sessions is ngx_http_sekisho_session_logout.c).  The
 * identity of a session's card goes to the upstream in X-Sekisho-*
 * headers, which no client may send.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/rand.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_jpki_trust.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_request.h"
#include "ngx_http_sekisho_secret.h"
#include "ngx_http_sekisho_session.h"
#include "ngx_http_sekisho_session_logout.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_text.h"


/* a copy of the logged-out list older than this is not trusted */
#define NGX_HTTP_SEKISHO_SYNC_STALE_MS  5000

/*
 * Activity slides the idle limit by a new cookie, at most once a
 * minute (or each half idle time, if that is shorter).
 */
#define NGX_HTTP_SEKISHO_REISSUE_S      60


/* cookie values whose MAC was checked, per worker, direct-mapped */
#define NGX_HTTP_SEKISHO_TOKENS         1024

/* what a session's requests tell the upstream, rendered once per value */
#define NGX_HTTP_SEKISHO_TEXT_MAX                                             \
    (22 + 2 * NGX_HTTP_SEKISHO_SERIAL_MAX + sizeof("2000-01-01T00:00:00Z"))

/* the identity headers, see ngx_http_sekisho_identity[] */
#define NGX_HTTP_SEKISHO_H_SERIAL      0
#define NGX_HTTP_SEKISHO_H_REVOCATION  1
#define NGX_HTTP_SEKISHO_H_SESSION     2
#define NGX_HTTP_SEKISHO_H_NOT_AFTER   3
#define NGX_HTTP_SEKISHO_H_ISSUER      4

typedef struct {
    size_t                          len;       /* 0: empty */
    u_char                          value[NGX_HTTP_SEKISHO_TOKEN_MAX];
    ngx_uint_t                      key;
    ngx_http_sekisho_session_t      session;

    size_t                          text_len;  /* 0: not rendered yet */
    u_char                          text[NGX_HTTP_SEKISHO_TEXT_MAX];
} ngx_http_sekisho_token_t;


/* the identity headers of a session, lower-cased and hashed once */

typedef struct {
    ngx_str_t                       name;
    u_char                          lowcase[32];
    ngx_uint_t                      hash;
} ngx_http_sekisho_identity_t;


static ngx_int_t ngx_http_sekisho_session_lookup(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_uint_t *key,
    ngx_http_sekisho_token_t **token);
static u_char *ngx_http_sekisho_session_render(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_http_sekisho_token_t *t);
static void ngx_http_sekisho_session_texts(ngx_http_sekisho_ctx_t *ctx,
    u_char *text, ngx_str_t *not_after);
static ngx_int_t ngx_http_sekisho_identity_header(ngx_http_request_t *r,
    ngx_uint_t n, ngx_str_t *value);
static ngx_int_t ngx_http_sekisho_session_refuse(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_reason_e reason);
static ngx_int_t ngx_http_sekisho_session_cookie(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_str_t *out);
static ngx_int_t ngx_http_sekisho_session_add_headers(ngx_http_request_t *r,
    ngx_str_t *not_after);
static ngx_uint_t ngx_http_sekisho_ours(ngx_str_t *key);


/* indexed by NGX_HTTP_SEKISHO_H_*, in the order they go upstream */

static ngx_http_sekisho_identity_t  ngx_http_sekisho_identity[] = {
    { ngx_string("X-Sekisho-JPKI-Serial"), "", 0 },
    { ngx_string("X-Sekisho-JPKI-Revocation"), "", 0 },
    { ngx_string("X-Sekisho-Session"), "", 0 },
    { ngx_string("X-Sekisho-JPKI-Not-After"), "", 0 },
    { ngx_string("X-Sekisho-JPKI-Issuer"), "", 0 }
};


/* sekisho_session_key <file> [<previous file>] */

char *
ngx_http_sekisho_session_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->session.nkeys) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_sekisho_read_secret(cf, &value[i], 32,
                                         &mcf->session.keys[i - 1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (mcf->session.keys[i - 1].len > 256) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": the session key in \"%V\" is longer "
                               "than 256 bytes", &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    mcf->session.nkeys = cf->args->nelts - 1;

    return NGX_CONF_OK;
}


/* sekisho_session_cookie <name> [secure=off] */

char *
ngx_http_sekisho_session_cookie_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    u_char      *p;
    ngx_str_t   *value;

    if (mcf->session.cookie.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cookie name \"%V\" in \"%V\" "
                               "directive, it may hold letters, digits, "
                               "\"_\" and \"-\"", &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        return "takes a cookie name";
    }

    mcf->session.cookie = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "secure=off") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"%V\" "
                               "directive, it can only be \"secure=off\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }

        mcf->session.secure = 0;
    }

    return NGX_CONF_OK;
}


void
ngx_http_sekisho_session_conf_create(ngx_http_sekisho_session_conf_t *sc)
{
    sc->idle = NGX_CONF_UNSET;
    sc->lifetime = NGX_CONF_UNSET;
    sc->secure = 1;
}


char *
ngx_http_sekisho_session_conf_init(ngx_conf_t *cf,
    ngx_http_sekisho_session_conf_t *sc, ngx_http_sekisho_redis_t *redis)
{
    ngx_conf_init_value(sc->idle, 30 * 60);
    ngx_conf_init_value(sc->lifetime, 8 * 60 * 60);

    if (sc->cookie.data == NULL) {
        ngx_str_set(&sc->cookie, "sekisho_session");
    }

    if (sc->nkeys == 0) {
        return NGX_CONF_OK;
    }

    if (ngx_http_sekisho_logout_list_conf(cf, &sc->logout, redis,
                                          sc->lifetime)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_sekisho_session_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_session_conf_t *sc)
{
    if (sc->nkeys == 0 || sc->logout.redis == NULL) {
        return NGX_OK;
    }

    return ngx_http_sekisho_logout_list_init_worker(cycle, &sc->logout);
}


/* NGX_OK: a token of ours; NGX_DECLINED: no cookie; NGX_ERROR: forged */

ngx_int_t
ngx_http_sekisho_session_find(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_uint_t *key)
{
    ngx_http_sekisho_token_t  *t;

    return ngx_http_sekisho_session_lookup(r, s, key, &t);
}


/* the same, and the cache entry of the value (NULL: none) */

static ngx_int_t
ngx_http_sekisho_session_lookup(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_uint_t *key,
    ngx_http_sekisho_token_t **token)
{
    size_t                         n;
    ngx_str_t                      value;
    ngx_table_elt_t               *h;
#if (nginx_version < 1023000)
    ngx_uint_t                     i;
    ngx_table_elt_t              **hh;
#endif
    ngx_http_sekisho_token_t      *t;
    ngx_http_sekisho_session_conf_t  *sc;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);
    sc = &mcf->session;
    *token = NULL;

    /*
     * The Cookie headers: an array of pointers up to nginx 1.22, a list
     * linked by "next" since 1.23.
     */

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {
        if (ngx_http_sekisho_cookie_value(h->value.data, h->value.len,
                                          &sc->cookie, &value)
            == NGX_OK)
        {
            break;
        }
    }

    if (h == NULL) {
        return NGX_DECLINED;
    }

#else

    hh = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];

        if (ngx_http_sekisho_cookie_value(h->value.data, h->value.len,
                                          &sc->cookie, &value)
            == NGX_OK)
        {
            break;
        }
    }

    if (i == r->headers_in.cookies.nelts) {
        return NGX_DECLINED;
    }

#endif

    /*
     * A value seen before, byte for byte, was checked then: its MAC is
     * not computed again.  Only values that passed are remembered.
     */

    t = NULL;

    if (value.len && value.len <= NGX_HTTP_SEKISHO_TOKEN_MAX) {

        if (sc->tokens == NULL) {
            sc->tokens = ngx_calloc(NGX_HTTP_SEKISHO_TOKENS
                                    * sizeof(ngx_http_sekisho_token_t),
                                    ngx_cycle->log);
        }

        if (sc->tokens) {

            /*
             * A value ends with its MAC, different for every value
             * that passed: its last bytes are enough for the slot.
             */

            n = ngx_min(value.len, 8);

            t = (ngx_http_sekisho_token_t *) sc->tokens
                + ngx_murmur_hash2(value.data + value.len - n, n)
                  % NGX_HTTP_SEKISHO_TOKENS;

            if (t->len == value.len
                && ngx_http_sekisho_token_equal(t->value, value.data,
                                                value.len))
            {
                *s = t->session;
                *key = t->key;
                *token = t;
                return NGX_OK;
            }
        }
    }

    if (ngx_http_sekisho_session_decode(value.data, value.len, sc->keys,
                                        sc->nkeys, s, key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (t) {
        ngx_memcpy(t->value, value.data, value.len);
        t->len = value.len;
        t->key = *key;
        t->session = *s;
        t->text_len = 0;
        *token = t;
    }

    return NGX_OK;
}


/*
 * "sekisho_jpki_require on": a request without a current session gets
 * 401; with one, its identity goes to the upstream.
 */

ngx_int_t
ngx_http_sekisho_session_check(ngx_http_request_t *r)
{
    u_char                         *text;
    time_t                          now;
    ngx_int_t                       rc;
    ngx_str_t                       not_after;
    ngx_uint_t                      key;
    ngx_http_sekisho_ctx_t         *ctx;
    ngx_http_sekisho_token_t       *t;
    ngx_http_sekisho_session_t      s;
    ngx_http_sekisho_loc_conf_t    *lcf;
    ngx_http_sekisho_session_conf_t  *sc;
    ngx_http_sekisho_main_conf_t   *mcf;

    ctx = ngx_http_sekisho_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mcf = ngx_http_sekisho_main_conf(r);
    sc = &mcf->session;

    rc = ngx_http_sekisho_session_lookup(r, &s, &key, &t);

    if (rc == NGX_DECLINED) {
        return ngx_http_sekisho_session_refuse(r, ctx,
                                       NGX_HTTP_SEKISHO_REASON_SESSION_MISSING);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: session cookie \"%V\" is not signed by the "
                      "session key (forged, damaged or from an older key)",
                      &sc->cookie);

        return ngx_http_sekisho_session_refuse(r, ctx,
                                       NGX_HTTP_SEKISHO_REASON_SESSION_INVALID);
    }

    /* the id also for a refusal's log and audit record */
    text = ngx_http_sekisho_session_render(r, &s, t);
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->session_id.data = text;
    ctx->session_id.len = 22;

    now = ngx_time();

    /* the most telling reason first: a logout, then the limits */
    if (ngx_http_sekisho_logout_listed(&sc->logout, s.sid)) {
        return ngx_http_sekisho_session_refuse(r, ctx,
                                       NGX_HTTP_SEKISHO_REASON_SESSION_REVOKED);
    }

    if (now >= s.expires) {
        return ngx_http_sekisho_session_refuse(r, ctx,
                                       NGX_HTTP_SEKISHO_REASON_SESSION_EXPIRED);
    }

    if (now - s.last >= sc->idle) {
        return ngx_http_sekisho_session_refuse(r, ctx,
                                        NGX_HTTP_SEKISHO_REASON_SESSION_IDLE);
    }

    /* a logout elsewhere may not be known here yet */
    if (ngx_http_sekisho_logout_list_age(&sc->logout)
        > NGX_HTTP_SEKISHO_SYNC_STALE_MS)
    {
        lcf = ngx_http_sekisho_loc_conf(r);

        if (lcf->login.redis_failure == NGX_HTTP_SEKISHO_REDIS_CLOSED) {
            ctx->decision = NGX_HTTP_SEKISHO_DENY;
            ctx->reason = NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE;

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "sekisho: the list of logged-out sessions is "
                          "stale (redis unavailable), session refused with "
                          "503 (sekisho_redis_failure closed)");

            return ngx_http_sekisho_refuse(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           NGX_HTTP_SEKISHO_PAGE_UNAVAILABLE,
                                           NULL);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: the list of logged-out sessions is stale "
                      "(redis unavailable), session let through "
                      "(sekisho_redis_failure open)");
    }

    ctx->decision = NGX_HTTP_SEKISHO_ALLOW;
    ctx->reason = NGX_HTTP_SEKISHO_REASON_SESSION_OK;
    ctx->jpki_revocation = s.revocation + 1;

    ctx->session = ngx_palloc(r->pool, sizeof(ngx_http_sekisho_session_t));
    if (ctx->session == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* activity slides the idle limit; the previous key's tokens move on */
    if (now - s.last >= ngx_min(NGX_HTTP_SEKISHO_REISSUE_S, sc->idle / 2)
        || key != 0)
    {
        s.last = now;

        if (ngx_http_sekisho_session_cookie(r, &s, &ctx->set_cookie)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_memcpy(ctx->session, &s, sizeof(ngx_http_sekisho_session_t));

    ngx_http_sekisho_session_texts(ctx, text, &not_after);

    /* checked again after an internal redirect: sent once */
    if (!ctx->identity_sent) {
        ctx->identity_sent = 1;

        if (ngx_http_sekisho_session_add_headers(r, &not_after) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DECLINED;
}


/* 401: JSON for API clients, else a page that names the login path */

static ngx_int_t
ngx_http_sekisho_session_refuse(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_reason_e reason)
{
    u_char                        *p;
    ngx_str_t                      extra, detail, *login;
    ngx_http_sekisho_main_conf_t  *mcf;

    ctx->decision = NGX_HTTP_SEKISHO_DENY;
    ctx->reason = reason;

    mcf = ngx_http_sekisho_main_conf(r);
    login = &mcf->session.login_uri;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: session refused, reason: %V",
                  ngx_http_sekisho_reason_name(reason));

    /* a cookie that can never work again is removed */
    if (reason != NGX_HTTP_SEKISHO_REASON_SESSION_MISSING) {
        ngx_str_set(&ctx->set_cookie, "");
    }

    p = ngx_pnalloc(r->pool, login->len + 256);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_sekisho_wants_json(r)) {
        extra.data = p;
        extra.len = ngx_sprintf(p, ",\"login\":\"%V\"", login) - p;

        return ngx_http_sekisho_refuse_json(r, NGX_HTTP_UNAUTHORIZED,
                                            ngx_http_sekisho_reason_name(
                                                                    reason),
                                            &extra);
    }

    detail.data = p;
    detail.len = ngx_sprintf(p, "ログイン / Login: <a href=\"%V\">%V</a>",
                             login, login)
                 - p;

    return ngx_http_sekisho_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                   NGX_HTTP_SEKISHO_PAGE_LOGIN_REQUIRED,
                                   &detail);
}


/* a new session for a verified card: the value of the Set-Cookie */

ngx_int_t
ngx_http_sekisho_session_issue(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s)
{
    time_t                         now;
    ngx_http_sekisho_ctx_t        *ctx;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);
    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL || RAND_bytes(s->sid, NGX_HTTP_SEKISHO_SID_LEN) != 1) {
        return NGX_ERROR;
    }

    now = ngx_time();
    s->issued = now;
    s->last = now;
    s->expires = ngx_min(now + mcf->session.lifetime, s->not_after);

    return ngx_http_sekisho_session_cookie(r, s, &ctx->set_cookie);
}


static ngx_int_t
ngx_http_sekisho_session_cookie(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_str_t *out)
{
    u_char                        *p;
    size_t                         n;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);

    p = ngx_pnalloc(r->pool, NGX_HTTP_SEKISHO_TOKEN_MAX);
    if (p == NULL) {
        return NGX_ERROR;
    }

    n = ngx_http_sekisho_session_encode(p, s, &mcf->session.keys[0]);
    if (n == 0) {
        return NGX_ERROR;
    }

    out->data = p;
    out->len = n;

    return NGX_OK;
}


/*
 * From the header filter: the cookie the request's check decided on.
 * An empty value removes the cookie.
 */

ngx_int_t
ngx_http_sekisho_session_filter(ngx_http_request_t *r)
{
    u_char                        *p;
    time_t                         age;
    ngx_table_elt_t               *h;
    ngx_http_sekisho_ctx_t        *ctx;
    ngx_http_sekisho_session_t    *s;
    ngx_http_sekisho_main_conf_t  *mcf;

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL || ctx->set_cookie.data == NULL) {
        return NGX_OK;
    }

    mcf = ngx_http_sekisho_main_conf(r);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, mcf->session.cookie.len + ctx->set_cookie.len
                             + 128);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s = ctx->session;
    age = 0;

    if (ctx->set_cookie.len && s) {
        age = s->expires - ngx_time();
        if (age < 1) {
            age = 1;
        }
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_sprintf(p, "%V=%V; Path=/; Max-Age=%T; HttpOnly; "
                    "SameSite=Strict", &mcf->session.cookie, &ctx->set_cookie,
                    age);

    if (mcf->session.secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    h->value.len = p - h->value.data;

    /* once per request, also when an error page is sent after it */
    ngx_str_null(&ctx->set_cookie);

    return NGX_OK;
}


/*
 * The identity of a session for the upstream.  Client-sent X-Sekisho-*
 * headers are gone by now (ngx_http_sekisho_strip_headers()).
 */

static ngx_int_t
ngx_http_sekisho_session_add_headers(ngx_http_request_t *r,
    ngx_str_t *not_after)
{
    ngx_str_t                      issuer;
    ngx_http_sekisho_ctx_t        *ctx;
    ngx_http_sekisho_session_t    *s;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);
    ctx = ngx_http_sekisho_ctx(r, 0);
    s = ctx->session;

    if (ngx_http_sekisho_identity_header(r, NGX_HTTP_SEKISHO_H_SERIAL,
                                         &ctx->jpki_serial)
        != NGX_OK
        || ngx_http_sekisho_identity_header(r, NGX_HTTP_SEKISHO_H_REVOCATION,
                           (ngx_str_t *)
                           ngx_http_sekisho_revocation_name(s->revocation))
           != NGX_OK
        || ngx_http_sekisho_identity_header(r, NGX_HTTP_SEKISHO_H_SESSION,
                                            &ctx->session_id)
           != NGX_OK
        || ngx_http_sekisho_identity_header(r, NGX_HTTP_SEKISHO_H_NOT_AFTER,
                                            not_after)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_jpki_issuer(&mcf->jpki, s->ca_id, s->ca_id_len,
                                     &issuer)
        == NGX_OK
        && ngx_http_sekisho_identity_header(r, NGX_HTTP_SEKISHO_H_ISSUER,
                                            &issuer)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* as ngx_http_sekisho_push_header(), with the name's hash at hand */

static ngx_int_t
ngx_http_sekisho_identity_header(ngx_http_request_t *r, ngx_uint_t n,
    ngx_str_t *value)
{
    ngx_table_elt_t              *h;
    ngx_http_sekisho_identity_t  *id;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    id = &ngx_http_sekisho_identity[n];

    h->hash = id->hash;
    h->key = id->name;
    h->value = *value;
    h->lowcase_key = id->lowcase;

    return NGX_OK;
}


/* the same for the session of a login or a logout (ctx->session) */

ngx_int_t
ngx_http_sekisho_session_text(ngx_http_request_t *r, ngx_str_t *not_after)
{
    u_char                  *text;
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r, 0);

    text = ngx_http_sekisho_session_render(r, ctx->session, NULL);
    if (text == NULL) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_session_texts(ctx, text, not_after);

    return NGX_OK;
}


/*
 * The session id (22 characters), serial (hex) and expiry (20) as one
 * text, for the headers, the variables and the audit record: rendered
 * once per cookie value and worker, copied into the request (the cache
 * entry may be reused by the next request).
 */

static u_char *
ngx_http_sekisho_session_render(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_http_sekisho_token_t *t)
{
    u_char    *p, *text;

    text = ngx_pnalloc(r->pool, NGX_HTTP_SEKISHO_TEXT_MAX);
    if (text == NULL) {
        return NULL;
    }

    if (t && t->text_len) {
        ngx_memcpy(text, t->text, t->text_len);
        return text;
    }

    p = text + ngx_http_sekisho_base64url_encode(text, s->sid,
                                                 NGX_HTTP_SEKISHO_SID_LEN);
    p += ngx_http_sekisho_hex(p, s->serial, s->serial_len);

    p = ngx_http_sekisho_utc(p, s->not_after);

    if (t) {
        t->text_len = p - text;
        ngx_memcpy(t->text, text, t->text_len);
    }

    return text;
}


/* the parts of the text, for the request */

static void
ngx_http_sekisho_session_texts(ngx_http_sekisho_ctx_t *ctx, u_char *text,
    ngx_str_t *not_after)
{
    ngx_http_sekisho_session_t  *s;

    s = ctx->session;

    ctx->session_id.data = text;
    ctx->session_id.len = 22;
    ctx->jpki_serial.data = text + 22;
    ctx->jpki_serial.len = 2 * s->serial_len;
    ctx->jpki_revocation = s->revocation + 1;
    not_after->data = text + 22 + 2 * s->serial_len;
    not_after->len = 20;
}


/* "X-Sekisho-...", also spelt with underscores (underscores_in_headers) */

static ngx_uint_t
ngx_http_sekisho_ours(ngx_str_t *key)
{
    u_char      c;
    ngx_uint_t  i;

    static const u_char  prefix[] = "x-sekisho-";

    if (key->len < sizeof(prefix) - 1) {
        return 0;
    }

    for (i = 0; i < sizeof(prefix) - 1; i++) {
        c = ngx_tolower(key->data[i]);

        if (c == '_') {
            c = '-';
        }

        if (c != prefix[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * Any X-Sekisho-* header a client sent is removed before any module
 * sees it: only Sekisho speaks in that name space.  The list is copied
 * only when there is something to remove.
 */

ngx_int_t
ngx_http_sekisho_strip_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, found;
    ngx_list_t        list;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    found = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_sekisho_ours(&h[i].key)) {
                found++;
            }
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: removed %ui X-Sekisho-* header(s) sent by the "
                  "client", found);

    if (ngx_list_init(&list, r->pool, 20, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_sekisho_ours(&h[i].key)) {
                continue;
            }

            nh = ngx_list_push(&list);
            if (nh == NULL) {
                return NGX_ERROR;
            }

            *nh = h[i];
        }
    }

    /* the copy's last part is its own when the list has only one */
    r->headers_in.headers = list;

    if (list.last == &list.part) {
        r->headers_in.headers.last = &r->headers_in.headers.part;
    }

    return NGX_OK;
}


/* logout: listed in Redis for every gateway, here at once */

ngx_int_t
ngx_http_sekisho_session_revoke(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_http_sekisho_logout_pt done)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);

    return ngx_http_sekisho_logout_add(r, &mcf->session.logout, s, done);
}


ngx_int_t
ngx_http_sekisho_session_init(ngx_conf_t *cf)
{
    ngx_uint_t                    i;
    ngx_http_sekisho_identity_t  *id;

    for (i = 0; i < sizeof(ngx_http_sekisho_identity)
                    / sizeof(ngx_http_sekisho_identity_t); i++)
    {
        id = &ngx_http_sekisho_identity[i];
        id->hash = ngx_hash_strlow(id->lowcase, id->name.data, id->name.len);
    }

    return ngx_http_sekisho_logout_list_init(cf);
}
