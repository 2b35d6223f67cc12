
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI login with the My Number card: the challenge, login and
 * logout endpoints.
 *
 * A login is a challenge-response: GET a one-time challenge (random,
 * kept in Redis for a short time), the card's user-authentication key
 * signs a SHA-256 DigestInfo over "sekisho-jpki-login:v1\n<Host>\n
 * <challenge>", and the POST of certificate and signature is checked
 * here: the certificate against the authentication CA and its CRL,
 * the signature, then the challenge is spent.  A session cookie
 * follows (ngx_http_sekisho_session.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/rand.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_body.h"
#include "ngx_http_sekisho_jpki.h"
#include "ngx_http_sekisho_jpki_outcome.h"
#include "ngx_http_sekisho_jpki_identity.h"
#include "ngx_http_sekisho_jpki_trust.h"
#include "ngx_http_sekisho_json.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_session.h"
#include "ngx_http_sekisho_session_token.h"


#define NGX_HTTP_SEKISHO_CHALLENGE_LEN   32
#define NGX_HTTP_SEKISHO_CHALLENGE_TTL   120000


/* a login between its body and Redis's answer */
typedef struct {
    ngx_str_t                       challenge;
    ngx_http_sekisho_session_t      session;
} ngx_http_sekisho_login_t;


static ngx_int_t ngx_http_sekisho_challenge_handler(ngx_http_request_t *r);
static void ngx_http_sekisho_challenge_stored(void *data, redisReply *reply);
static ngx_int_t ngx_http_sekisho_card_login_handler(ngx_http_request_t *r);
static void ngx_http_sekisho_card_login_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_sekisho_card_login_check(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_login_t *login);
static void ngx_http_sekisho_challenge_spent(void *data, redisReply *reply);
static ngx_int_t ngx_http_sekisho_card_login_done(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_login_t *login);
static ngx_int_t ngx_http_sekisho_logout_handler(ngx_http_request_t *r);
static void ngx_http_sekisho_logged_out(ngx_http_request_t *r,
    ngx_uint_t recorded);
static ngx_int_t ngx_http_sekisho_jpki_fail(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_uint_t status,
    ngx_http_sekisho_reason_e reason);
static void ngx_http_sekisho_jpki_cleanup(void *data);
static ngx_int_t ngx_http_sekisho_jpki_wait(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_challenge_key(ngx_http_request_t *r,
    ngx_str_t *challenge, ngx_str_t *key);
static ngx_int_t ngx_http_sekisho_jpki_host_ok(ngx_http_request_t *r,
    ngx_str_t *host);
static ngx_array_t *ngx_http_sekisho_exact_names(ngx_conf_t *cf,
    ngx_array_t *names);



/* sekisho_jpki_challenge [ttl=<time>] | sekisho_jpki_login | _logout */

char *
ngx_http_sekisho_jpki_handler_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_loc_conf_t *lcf = conf;

    ngx_str_t                     *value, s;
    ngx_msec_t                     ttl;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_sekisho_main_conf_t  *mcf;

    if (lcf->jpki.handler != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    mcf = ngx_http_sekisho_cf_main_conf(cf);

    if (ngx_strcmp(cmd->name.data, "sekisho_jpki_challenge") == 0) {
        lcf->jpki.handler = NGX_HTTP_SEKISHO_JPKI_CHALLENGE;
        clcf->handler = ngx_http_sekisho_challenge_handler;

        ttl = NGX_HTTP_SEKISHO_CHALLENGE_TTL;

        if (cf->args->nelts == 2) {
            if (ngx_strncmp(value[1].data, "ttl=", 4) != 0) {
                goto invalid;
            }

            s.data = value[1].data + 4;
            s.len = value[1].len - 4;

            ttl = ngx_parse_time(&s, 0);
            if (ttl == (ngx_msec_t) NGX_ERROR || ttl < 1000) {
                goto invalid;
            }
        }

        lcf->jpki.challenge_ttl = ttl;

    } else if (ngx_strcmp(cmd->name.data, "sekisho_jpki_login") == 0) {
        lcf->jpki.handler = NGX_HTTP_SEKISHO_JPKI_LOGIN;
        lcf->login.card_login = 1;
        clcf->handler = ngx_http_sekisho_card_login_handler;

        if (mcf->session.login_uri.len == 0) {
            mcf->session.login_uri = clcf->name;
        }

    } else {
        lcf->jpki.handler = NGX_HTTP_SEKISHO_JPKI_LOGOUT;
        clcf->handler = ngx_http_sekisho_logout_handler;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive, "
                       "it must be \"ttl=<time>\" of at least 1s",
                       &value[1], &cmd->name);

    return NGX_CONF_ERROR;
}


void
ngx_http_sekisho_jpki_loc_create(ngx_http_sekisho_jpki_loc_t *jl)
{
    jl->handler = NGX_CONF_UNSET_UINT;
    jl->challenge_ttl = NGX_CONF_UNSET_MSEC;
    jl->require = NGX_CONF_UNSET;
    jl->signed_body = NGX_CONF_UNSET;
    jl->hosts = NGX_CONF_UNSET_PTR;
}


char *
ngx_http_sekisho_jpki_loc_merge(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_loc_t *prev, ngx_http_sekisho_jpki_loc_t *conf)
{
    const char                    *need;
    ngx_http_core_srv_conf_t      *cscf;
    ngx_http_sekisho_main_conf_t  *mcf;

    ngx_conf_merge_value(conf->require, prev->require, 0);
    ngx_conf_merge_value(conf->signed_body, prev->signed_body, 0);
    ngx_conf_merge_ptr_value(conf->hosts, prev->hosts, NULL);

    if (conf->handler == NGX_CONF_UNSET_UINT) {
        conf->handler = NGX_HTTP_SEKISHO_JPKI_NONE;
    }

    mcf = ngx_http_sekisho_cf_main_conf(cf);
    need = NULL;

    if (conf->handler != NGX_HTTP_SEKISHO_JPKI_NONE && mcf->redis == NULL) {
        need = "\"sekisho_jpki_challenge\", \"sekisho_jpki_login\" and "
               "\"sekisho_jpki_logout\" require \"sekisho_redis\"";

    } else if (conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGIN
               && mcf->jpki.auth.store == NULL)
    {
        need = "\"sekisho_jpki_login\" requires \"sekisho_jpki_auth_ca\"";

    } else if ((conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGIN
                || conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGOUT
                || conf->require)
               && mcf->session.nkeys == 0)
    {
        need = "\"sekisho_jpki_login\", \"sekisho_jpki_logout\" and "
               "\"sekisho_jpki_require\" require \"sekisho_session_key\"";

    } else if (conf->require && mcf->redis == NULL) {
        need = "\"sekisho_jpki_require\" requires \"sekisho_redis\" (the "
               "list of logged-out sessions)";

    } else if (conf->signed_body && mcf->jpki.sign.store == NULL) {
        need = "\"sekisho_jpki_signed_body\" requires "
               "\"sekisho_jpki_sign_ca\"";
    }

    if (need) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in the http block",
                           need);
        return NGX_CONF_ERROR;
    }

    if (conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGIN && conf->hosts == NULL) {
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

        conf->server_hosts = ngx_http_sekisho_exact_names(cf,
                                                         &cscf->server_names);
        if (conf->server_hosts == NGX_CONF_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (conf->server_hosts == NULL) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"sekisho_jpki_login\" in a server without "
                               "an exact \"server_name\": logins signed for "
                               "any Host are accepted; name the site with "
                               "\"sekisho_jpki_host\"");
        }
    }

    return NGX_CONF_OK;
}


/* GET: a new challenge, stored until it is spent or expires */

static ngx_int_t
ngx_http_sekisho_challenge_handler(ngx_http_request_t *r)
{
    u_char                         rnd[NGX_HTTP_SEKISHO_CHALLENGE_LEN];
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_str_t                      key, args[6];
    ngx_http_sekisho_ctx_t        *ctx;
    ngx_http_sekisho_login_t      *login;
    ngx_http_sekisho_loc_conf_t   *lcf;
    ngx_http_sekisho_main_conf_t  *mcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_sekisho_ctx(r, 1);
    login = ngx_pcalloc(r->pool, sizeof(ngx_http_sekisho_login_t));

    if (ctx == NULL || login == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->jpki = login;

    lcf = ngx_http_sekisho_loc_conf(r);
    mcf = ngx_http_sekisho_main_conf(r);

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    login->challenge.data = ngx_pnalloc(r->pool, 44);
    if (login->challenge.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    login->challenge.len = ngx_http_sekisho_base64url_encode(
                                login->challenge.data, rnd, sizeof(rnd));

    if (ngx_http_sekisho_challenge_key(r, &login->challenge, &key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&args[0], "SET");
    args[1] = key;
    ngx_str_set(&args[2], "1");
    ngx_str_set(&args[3], "PX");
    args[4].data = p;
    args[4].len = ngx_sprintf(p, "%M", lcf->jpki.challenge_ttl) - p;
    ngx_str_set(&args[5], "NX");

    ctx->jpki_cmd = ngx_http_sekisho_redis_command(mcf->redis, 6, args,
                                          ngx_http_sekisho_challenge_stored,
                                          ctx);

    if (ctx->jpki_cmd == NULL) {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE);
    }

    return ngx_http_sekisho_jpki_wait(r, ctx);
}


static void
ngx_http_sekisho_challenge_stored(void *data, redisReply *reply)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    u_char                       *p;
    ngx_str_t                     json;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_sekisho_login_t     *login;
    ngx_http_sekisho_loc_conf_t  *lcf;

    r = ctx->request;
    c = r->connection;
    ctx->jpki_cmd = NULL;
    login = ctx->jpki;

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        ngx_http_finalize_request(r, ngx_http_sekisho_jpki_fail(r, ctx,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                    NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE));
        goto done;
    }

    lcf = ngx_http_sekisho_loc_conf(r);

    p = ngx_pnalloc(r->pool, login->challenge.len + 64);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        goto done;
    }

    json.data = p;
    json.len = ngx_sprintf(p, "{\"challenge\":\"%V\",\"expires_in\":%M}\n",
                           &login->challenge,
                           lcf->jpki.challenge_ttl / 1000)
               - p;

    ngx_http_finalize_request(r, ngx_http_sekisho_reply_json(r, NGX_HTTP_OK,
                                                             &json));

done:

    ngx_http_run_posted_requests(c);
}


/* POST: the card's answer */

static ngx_int_t
ngx_http_sekisho_card_login_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (!(r->method & NGX_HTTP_POST)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_sekisho_card_login_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_sekisho_card_login_body(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_sekisho_ctx_t    *ctx;
    ngx_http_sekisho_login_t  *login;

    ctx = ngx_http_sekisho_ctx(r, 1);
    login = ngx_pcalloc(r->pool, sizeof(ngx_http_sekisho_login_t));

    if (ctx == NULL || login == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->jpki = login;

    rc = ngx_http_sekisho_card_login_check(r, ctx, login);

    /* waiting for Redis: its answer finalizes the request */
    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * The checks that need no Redis come first, so that a forged or
 * broken login costs the gateway no round trip; the challenge is spent
 * last, and only by a login that would otherwise succeed.
 */

static ngx_int_t
ngx_http_sekisho_card_login_check(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_login_t *login)
{
    u_char                           digest[32], *buf;
    ngx_int_t                        rc;
    ngx_http_sekisho_jpki_slot_t    *slot;
    ngx_str_t                        body, name, b64, der, sig, key, host;
    ngx_str_t                        args[2];
    ngx_http_sekisho_main_conf_t    *mcf;
    ngx_http_sekisho_jpki_cert_t     info;
    ngx_http_sekisho_jpki_check_t    chk;
    ngx_http_sekisho_jpki_result_e   res;

    mcf = ngx_http_sekisho_main_conf(r);

    /* a verification from here on, for the metrics */
    ctx->jpki_use = NGX_HTTP_SEKISHO_JPKI_USE_LOGIN;

    if (ngx_http_sekisho_request_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    buf = ngx_pnalloc(r->pool, body.len + 1);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&name, "challenge");

    if (body.len == 0
        || ngx_http_sekisho_json_value(body.data, body.len, &name,
                                       &login->challenge, buf)
           != NGX_OK
        || login->challenge.len != 43)
    {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      NGX_HTTP_SEKISHO_REASON_JPKI_BAD_REQUEST);
    }

    login->challenge.data = ngx_pstrdup(r->pool, &login->challenge);

    buf = ngx_pnalloc(r->pool, body.len + 1);
    if (buf == NULL || login->challenge.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&name, "certificate");

    if (ngx_http_sekisho_json_value(body.data, body.len, &name, &b64, buf)
        != NGX_OK
        || ngx_http_sekisho_decode_base64(r->pool, &b64, &der) != NGX_OK)
    {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      NGX_HTTP_SEKISHO_REASON_JPKI_BAD_REQUEST);
    }

    buf = ngx_pnalloc(r->pool, body.len + 1);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&name, "signature");

    if (ngx_http_sekisho_json_value(body.data, body.len, &name, &b64, buf)
        != NGX_OK
        || ngx_http_sekisho_decode_base64(r->pool, &b64, &sig) != NGX_OK)
    {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      NGX_HTTP_SEKISHO_REASON_JPKI_BAD_REQUEST);
    }

    /* per worker, read once and chained once a minute */
    slot = ngx_http_sekisho_jpki_read(mcf->jpki.cache, der.data, der.len);

    if (slot == NULL) {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                  NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CERTIFICATE);
    }

    ngx_http_sekisho_jpki_prepare(&mcf->jpki, &chk,
                                  NGX_HTTP_SEKISHO_JPKI_AUTH);

    res = ngx_http_sekisho_jpki_check_slot(&chk, slot, &info);

    ngx_http_sekisho_jpki_cert_info(r, ctx, &info);

    if (res == NGX_HTTP_SEKISHO_JPKI_CRL_STALE) {
        ngx_http_sekisho_jpki_stale(r, ctx, &info);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "sekisho: card login certificate: result %d, fast %ui",
                   (int) res, info.fast);

    if (res == NGX_HTTP_SEKISHO_JPKI_OK) {
        if (r->headers_in.host == NULL
            || ngx_http_sekisho_jpki_host_ok(r, &r->headers_in.host->value)
               != NGX_OK)
        {
            return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                       NGX_HTTP_SEKISHO_REASON_JPKI_WRONG_HOST);
        }

        host = r->headers_in.host->value;

        ngx_http_sekisho_jpki_login_digest(&host, &login->challenge, digest);

        res = ngx_http_sekisho_jpki_check_signature(slot, sig.data, sig.len,
                                                    digest);
    }

    if (res != NGX_HTTP_SEKISHO_JPKI_OK) {
        if (info.error) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "sekisho: card login certificate: %s",
                          X509_verify_cert_error_string(info.error));
        }

        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                          ngx_http_sekisho_jpki_reason(res));
    }

    /* what the session will carry */
    login->session.serial_len = ngx_http_sekisho_jpki_serial(info.serial,
                                                login->session.serial,
                                                NGX_HTTP_SEKISHO_SERIAL_MAX);
    login->session.ca_id_len = ngx_http_sekisho_jpki_key_id(info.issuer,
                                                login->session.ca_id,
                                                NGX_HTTP_SEKISHO_CA_ID_MAX);
    login->session.revocation = info.revocation;
    login->session.not_after = info.not_after;

    if (login->session.serial_len == 0) {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                  NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CERTIFICATE);
    }

    /* the challenge is spent: DEL says whether it was there */
    if (ngx_http_sekisho_challenge_key(r, &login->challenge, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&args[0], "DEL");
    args[1] = key;

    ctx->jpki_cmd = ngx_http_sekisho_redis_command(mcf->redis, 2, args,
                                           ngx_http_sekisho_challenge_spent,
                                           ctx);

    if (ctx->jpki_cmd == NULL) {
        ctx->card_outcome = NGX_HTTP_SEKISHO_CARD_NONE;
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE);
    }

    rc = ngx_http_sekisho_jpki_wait(r, ctx);

    return (rc == NGX_DONE) ? NGX_AGAIN : rc;
}


static void
ngx_http_sekisho_challenge_spent(void *data, redisReply *reply)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    ctx->jpki_cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        ctx->card_outcome = NGX_HTTP_SEKISHO_CARD_NONE;
        rc = ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE);

    } else if (reply->integer != 1) {
        rc = ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                        NGX_HTTP_SEKISHO_REASON_JPKI_CHALLENGE);

    } else {
        rc = ngx_http_sekisho_card_login_done(r, ctx, ctx->jpki);
    }

    /* both the answer and the reference taken while waiting */
    ngx_http_finalize_request(r, rc);
    ngx_http_finalize_request(r, NGX_DONE);

    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_sekisho_card_login_done(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_login_t *login)
{
    u_char                        *p;
    ngx_str_t                      json, not_after;
    const ngx_str_t               *revocation;
    ngx_http_sekisho_session_t    *s;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);
    s = &login->session;
    ctx->session = s;

    if (ngx_http_sekisho_session_issue(r, s) != NGX_OK
        || ngx_http_sekisho_session_text(r, &not_after) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->decision = NGX_HTTP_SEKISHO_ALLOW;
    ctx->reason = NGX_HTTP_SEKISHO_REASON_JPKI_LOGIN_OK;
    ctx->card_outcome = NGX_HTTP_SEKISHO_CARD_OK;

    revocation = ngx_http_sekisho_revocation_name(s->revocation);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: card login, certificate serial %V, "
                  "revocation %V", &ctx->jpki_serial, revocation);

    p = ngx_pnalloc(r->pool, ctx->jpki_serial.len + ctx->session_id.len + 256);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json.data = p;
    json.len = ngx_sprintf(p, "{\"serial\":\"%V\",\"not_after\":\"%V\","
                           "\"revocation\":\"%V\",\"session\":\"%V\","
                           "\"expires_in\":%T,\"idle_timeout\":%T}\n",
                           &ctx->jpki_serial, &not_after, revocation,
                           &ctx->session_id, s->expires - s->issued,
                           ngx_min(mcf->session.idle, s->expires - s->issued))
               - p;

    return ngx_http_sekisho_reply_json(r, NGX_HTTP_OK, &json);
}


/* POST: the session ends here and, within a second, everywhere */

static ngx_int_t
ngx_http_sekisho_logout_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_uint_t                   key;
    ngx_str_t                    json, not_after;
    ngx_http_sekisho_ctx_t      *ctx;
    ngx_http_sekisho_session_t  *s;

    if (!(r->method & NGX_HTTP_POST)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_sekisho_ctx(r, 1);
    s = ngx_palloc(r->pool, sizeof(ngx_http_sekisho_session_t));

    if (ctx == NULL || s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the cookie goes in any case */
    ngx_str_set(&ctx->set_cookie, "");

    if (ngx_http_sekisho_session_find(r, s, &key) != NGX_OK
        || s->expires <= ngx_time())
    {
        ctx->decision = NGX_HTTP_SEKISHO_ALLOW;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_SESSION_MISSING;
        ngx_str_set(&json, "{\"logged_out\":false}\n");
        return ngx_http_sekisho_reply_json(r, NGX_HTTP_OK, &json);
    }

    ctx->session = s;

    if (ngx_http_sekisho_session_text(r, &not_after) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_sekisho_session_revoke(r, s, ngx_http_sekisho_logged_out)
        != NGX_OK
        || ctx->jpki_cmd == NULL)
    {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE);
    }

    return ngx_http_sekisho_jpki_wait(r, ctx);
}


/* Redis's answer to a logout */

static void
ngx_http_sekisho_logged_out(ngx_http_request_t *r, ngx_uint_t recorded)
{
    ngx_int_t                rc;
    ngx_str_t                json;
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (!recorded) {
        /* this gateway knows; the others could not be told */
        rc = ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE);

    } else {
        ctx->decision = NGX_HTTP_SEKISHO_ALLOW;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_JPKI_LOGOUT;
        ngx_str_set(&json, "{\"logged_out\":true}\n");
        rc = ngx_http_sekisho_reply_json(r, NGX_HTTP_OK, &json);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * The card signed the Host the client sent; it must be this site's, or
 * a signature made for another site (which got a challenge from here)
 * would pass.  "sekisho_jpki_host" names the accepted values; without
 * it, the server's exact server_name entries (any port); a server
 * without one accepts any Host ("nginx -t" warns).
 */

static ngx_int_t
ngx_http_sekisho_jpki_host_ok(ngx_http_request_t *r, ngx_str_t *host)
{
    u_char                       *colon;
    ngx_str_t                     name, *h;
    ngx_uint_t                    i;
    ngx_http_sekisho_loc_conf_t  *lcf;

    lcf = ngx_http_sekisho_loc_conf(r);

    if (lcf->jpki.hosts) {
        h = lcf->jpki.hosts->elts;

        for (i = 0; i < lcf->jpki.hosts->nelts; i++) {
            if (h[i].len == host->len
                && ngx_strncasecmp(h[i].data, host->data, host->len) == 0)
            {
                return NGX_OK;
            }
        }

        return NGX_DECLINED;
    }

    /* the server's exact names, copied at configuration time */
    if (lcf->jpki.server_hosts == NULL) {
        return NGX_OK;
    }

    name = *host;

    /* "host:port", and "[v6]:port" */
    colon = ngx_strlchr(name.data, name.data + name.len, ']');
    colon = ngx_strlchr(colon ? colon : name.data, name.data + name.len, ':');

    if (colon) {
        name.len = colon - name.data;
    }

    h = lcf->jpki.server_hosts->elts;

    for (i = 0; i < lcf->jpki.server_hosts->nelts; i++) {
        if (h[i].len == name.len
            && ngx_strncasecmp(h[i].data, name.data, name.len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The exact names of a server ("server_name" entries that are neither
 * wildcards nor regexes), copied: nginx frees its list after the
 * configuration is read.  NULL when there is none.
 */

static ngx_array_t *
ngx_http_sekisho_exact_names(ngx_conf_t *cf, ngx_array_t *names)
{
    ngx_str_t               *h;
    ngx_uint_t               i;
    ngx_array_t             *hosts;
    ngx_http_server_name_t  *sn;

    sn = names->elts;
    hosts = NULL;

    for (i = 0; i < names->nelts; i++) {
#if (NGX_PCRE)
        if (sn[i].regex) {
            continue;
        }
#endif

        if (sn[i].name.len == 0
            || ngx_strlchr(sn[i].name.data, sn[i].name.data + sn[i].name.len,
                           '*')
               != NULL
            || sn[i].name.data[0] == '.'
            || (sn[i].name.len == 1 && sn[i].name.data[0] == '_'))
        {
            continue;
        }

        if (hosts == NULL) {
            hosts = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
            if (hosts == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        h = ngx_array_push(hosts);
        if (h == NULL) {
            return NGX_CONF_ERROR;
        }

        h->data = ngx_pstrdup(cf->pool, &sn[i].name);
        if (h->data == NULL) {
            return NGX_CONF_ERROR;
        }

        h->len = sn[i].name.len;
    }

    return hosts;
}


/* the endpoints answer in JSON; a failed login counts for the address */

static ngx_int_t
ngx_http_sekisho_jpki_fail(ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t status, ngx_http_sekisho_reason_e reason)
{
    ctx->decision = NGX_HTTP_SEKISHO_DENY;
    ctx->reason = reason;

    if (ctx->card_outcome == 0 && status != NGX_HTTP_SERVICE_UNAVAILABLE) {
        ctx->card_outcome = NGX_HTTP_SEKISHO_CARD_FAIL;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: card %s refused, reason: %V",
                  ctx->session ? "logout" : "login",
                  ngx_http_sekisho_reason_name(reason));

    if (status != NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_http_sekisho_jpki_alerts(r, ctx);
    }

    return ngx_http_sekisho_json_refusal(r, status,
                                         ngx_http_sekisho_reason_name(reason),
                                         NULL);
}


/* the request waits for Redis; the worker does not */

static ngx_int_t
ngx_http_sekisho_jpki_wait(ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *pcln;
    ngx_http_cleanup_t  *cln;

    /* the request terminated, or its pool gone, however it ended */
    cln = ngx_http_cleanup_add(r, 0);
    pcln = ngx_pool_cleanup_add(r->pool, 0);

    if (cln == NULL || pcln == NULL) {
        ngx_http_sekisho_redis_cancel(ctx->jpki_cmd);
        ctx->jpki_cmd = NULL;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sekisho_jpki_cleanup;
    cln->data = ctx;
    pcln->handler = ngx_http_sekisho_jpki_cleanup;
    pcln->data = ctx;

    r->main->count++;

    return NGX_DONE;
}


/* a request ended while it waits for Redis is never woken up */

static void
ngx_http_sekisho_jpki_cleanup(void *data)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    if (ctx->jpki_cmd) {
        ngx_http_sekisho_redis_cancel(ctx->jpki_cmd);
        ctx->jpki_cmd = NULL;
    }
}


/* "<prefix>{jpki}:c:<challenge>" */

static ngx_int_t
ngx_http_sekisho_challenge_key(ngx_http_request_t *r, ngx_str_t *challenge,
    ngx_str_t *key)
{
    u_char                        *p;
    ngx_str_t                     *prefix;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);
    prefix = ngx_http_sekisho_redis_prefix(mcf->redis);

    p = ngx_pnalloc(r->pool, prefix->len + sizeof("{jpki}:c:") - 1
                             + challenge->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, prefix->data, prefix->len);
    p = ngx_cpymem(p, "{jpki}:c:", sizeof("{jpki}:c:") - 1);
    p = ngx_cpymem(p, challenge->data, challenge->len);
    key->len = p - key->data;

    return NGX_OK;
}
