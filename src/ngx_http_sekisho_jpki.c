
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI login with the My Number card, and signed submissions.
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
#include "ngx_http_sekisho_module.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_json.h"
#include "ngx_http_sekisho_request.h"
#include "ngx_http_sekisho_secret.h"
#include "ngx_http_sekisho_jpki_cms.h"
#include "ngx_http_sekisho_jpki_identity.h"
#include <openssl/pem.h>


#define NGX_HTTP_SEKISHO_CHALLENGE_LEN   32
#define NGX_HTTP_SEKISHO_CHALLENGE_TTL   120000


/* the largest body a signature is checked over */
#define NGX_HTTP_SEKISHO_SIGNED_BODY_MAX  (1024 * 1024 * 1024)

/* certificates kept parsed per worker (about 4 KB each) */
#define NGX_HTTP_SEKISHO_CERT_CACHE      1024

#define NGX_HTTP_SEKISHO_JPKI_START      0
#define NGX_HTTP_SEKISHO_JPKI_READING    1
#define NGX_HTTP_SEKISHO_JPKI_READ       2
#define NGX_HTTP_SEKISHO_JPKI_DONE       3


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
static void ngx_http_sekisho_jpki_stale(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info);
static ngx_int_t ngx_http_sekisho_jpki_fail(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_uint_t status,
    ngx_http_sekisho_reason_e reason);
static void ngx_http_sekisho_jpki_alerts(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_http_sekisho_reason_e ngx_http_sekisho_jpki_reason(
    ngx_http_sekisho_jpki_result_e rc);
static ngx_int_t ngx_http_sekisho_jpki_wait(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_challenge_key(ngx_http_request_t *r,
    ngx_str_t *challenge, ngx_str_t *key);
static ngx_int_t ngx_http_sekisho_decode_base64(ngx_pool_t *pool,
    ngx_str_t *src, ngx_str_t *dst);
static void ngx_http_sekisho_jpki_prepare(ngx_http_request_t *r,
    ngx_http_sekisho_jpki_check_t *chk, ngx_uint_t kind);
static ngx_int_t ngx_http_sekisho_signed_body(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static void ngx_http_sekisho_signed_body_read(ngx_http_request_t *r);
static ngx_int_t ngx_http_sekisho_signed_body_check(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_signer_headers(ngx_http_request_t *r,
    X509 *signer);
static void ngx_http_sekisho_jpki_free(void *data);
static ngx_int_t ngx_http_sekisho_jpki_host_ok(ngx_http_request_t *r,
    ngx_str_t *host);
static ngx_array_t *ngx_http_sekisho_exact_names(ngx_conf_t *cf,
    ngx_array_t *names);
static void ngx_http_sekisho_cert_info(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info);



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
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_sekisho_module);

    mcf->jpki.used = 1;

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

        if (mcf->jpki.login_uri.len == 0) {
            mcf->jpki.login_uri = clcf->name;
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


/* sekisho_jpki_auth_ca <file> | sekisho_jpki_sign_ca <file> */

char *
ngx_http_sekisho_jpki_ca_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    char                          err[NGX_MAX_CONF_ERRSTR];
    ngx_str_t                    *value, file;
    ngx_pool_cleanup_t           *cln;
    ngx_http_sekisho_jpki_ca_t   *ca;

    ca = (cmd->name.data[sizeof("sekisho_jpki_") - 1] == 'a')
         ? &mcf->jpki.auth : &mcf->jpki.sign;

    if (ca->store) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_sekisho_jpki_ca_load(ca, (char *) file.data, err,
                                      sizeof(err))
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s", &cmd->name,
                           err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_sekisho_jpki_free;
    cln->data = ca;

    mcf->jpki.used = 1;

    return NGX_CONF_OK;
}


static void
ngx_http_sekisho_jpki_free(void *data)
{
    ngx_http_sekisho_jpki_ca_t *ca = data;

    ngx_http_sekisho_jpki_ca_free(ca);
}


/* sekisho_session_key <file> [<previous file>] */

char *
ngx_http_sekisho_session_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->jpki.nkeys) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_sekisho_read_secret(cf, &value[i], 32,
                                         &mcf->jpki.keys[i - 1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (mcf->jpki.keys[i - 1].len > 256) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": the session key in \"%V\" is longer "
                               "than 256 bytes", &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    mcf->jpki.nkeys = cf->args->nelts - 1;
    mcf->jpki.used = 1;

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

    if (mcf->jpki.cookie.data) {
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

    mcf->jpki.cookie = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "secure=off") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"%V\" "
                               "directive, it can only be \"secure=off\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }

        mcf->jpki.secure = 0;
    }

    return NGX_CONF_OK;
}


void
ngx_http_sekisho_jpki_main_create(ngx_http_sekisho_jpki_main_t *jm)
{
    jm->revocation = NGX_CONF_UNSET_UINT;
    jm->idle = NGX_CONF_UNSET;
    jm->lifetime = NGX_CONF_UNSET;
    jm->secure = 1;
}


/*
 * After the http block: the defaults, the CRLs indexed (or the index
 * found current) by ngx_http_sekisho_jpki_crl.c, the roots named for
 * CA that signed them, and what the directives need of each other.
 */

char *
ngx_http_sekisho_jpki_main_init(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_main_t *jm)
{
    int                             i;
    BIO                            *bio;
    X509                           *x, **xp;
    long                            len;
    char                           *name;
    ngx_uint_t                      k;
    ngx_array_t                    *roots;
    ngx_http_sekisho_jpki_ca_t     *cas[2];
    ngx_http_sekisho_jpki_issuer_t *is;
    ngx_http_sekisho_main_conf_t   *mcf;

    ngx_conf_init_value(jm->idle, 30 * 60);
    ngx_conf_init_value(jm->lifetime, 8 * 60 * 60);

    if (jm->cookie.data == NULL) {
        ngx_str_set(&jm->cookie, "sekisho_session");
    }

    if (jm->crl) {
        jm->used = 1;
    }

    if (jm->revocation == NGX_CONF_UNSET_UINT) {
        jm->revocation = jm->crl ? NGX_HTTP_SEKISHO_REVOKE_REQUIRE
                                 : NGX_HTTP_SEKISHO_REVOKE_OFF;

    } else if (jm->revocation != NGX_HTTP_SEKISHO_REVOKE_OFF
               && jm->crl == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho_jpki_revocation\" other than \"off\" "
                           "requires \"sekisho_jpki_crl\" or "
                           "\"sekisho_jpki_crl_dir\"");
        return NGX_CONF_ERROR;
    }

    if (!jm->used) {
        return NGX_CONF_OK;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_sekisho_module);

    if (mcf->redis) {
        jm->revoked_key.len = ngx_http_sekisho_redis_prefix(mcf->redis)->len
                              + sizeof("{jpki}:revoked") - 1;
        jm->revoked_key.data = ngx_pnalloc(cf->pool, jm->revoked_key.len);
        if (jm->revoked_key.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_cpymem(jm->revoked_key.data,
                              ngx_http_sekisho_redis_prefix(mcf->redis)->data,
                              ngx_http_sekisho_redis_prefix(mcf->redis)->len),
                   "{jpki}:revoked", sizeof("{jpki}:revoked") - 1);
    }

    /* each root by its key identifier, for the issuer header */
    jm->issuers = ngx_array_create(cf->pool, 4,
                                   sizeof(ngx_http_sekisho_jpki_issuer_t));
    if (jm->issuers == NULL) {
        return NGX_CONF_ERROR;
    }

    cas[0] = &jm->auth;
    cas[1] = &jm->sign;

    for (k = 0; k < 2; k++) {
        for (i = 0; cas[k]->roots && i < sk_X509_num(cas[k]->roots); i++) {
            x = sk_X509_value(cas[k]->roots, i);

            is = ngx_array_push(jm->issuers);
            if (is == NULL) {
                return NGX_CONF_ERROR;
            }

            is->id_len = ngx_http_sekisho_jpki_key_id(x, is->id,
                                                      sizeof(is->id));

            bio = BIO_new(BIO_s_mem());
            if (bio == NULL) {
                return NGX_CONF_ERROR;
            }

            X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
                               XN_FLAG_RFC2253);
            len = BIO_get_mem_data(bio, &name);

            is->name.data = ngx_pnalloc(cf->pool, len);
            if (is->name.data == NULL) {
                BIO_free(bio);
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(is->name.data, name, len);
            is->name.len = len;
            BIO_free(bio);
        }
    }

    if (jm->crl == NULL) {
        return NGX_CONF_OK;
    }

    /* every root of both kinds may sign CRLs (and ARLs) */
    roots = ngx_array_create(cf->pool, 8, sizeof(X509 *));
    if (roots == NULL) {
        return NGX_CONF_ERROR;
    }

    for (k = 0; k < 2; k++) {
        for (i = 0; cas[k]->roots && i < sk_X509_num(cas[k]->roots); i++) {
            xp = ngx_array_push(roots);
            if (xp == NULL) {
                return NGX_CONF_ERROR;
            }

            *xp = sk_X509_value(cas[k]->roots, i);
        }
    }

    return ngx_http_sekisho_jpki_crl_init(cf, jm->crl, roots->elts,
                                          roots->nelts);

    return NGX_CONF_OK;
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
    ngx_http_sekisho_jpki_main_t  *jm;
    ngx_http_sekisho_main_conf_t  *mcf;

    ngx_conf_merge_value(conf->require, prev->require, 0);
    ngx_conf_merge_value(conf->signed_body, prev->signed_body, 0);
    ngx_conf_merge_ptr_value(conf->hosts, prev->hosts, NULL);

    if (conf->handler == NGX_CONF_UNSET_UINT) {
        conf->handler = NGX_HTTP_SEKISHO_JPKI_NONE;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_sekisho_module);
    jm = &mcf->jpki;
    need = NULL;

    if (conf->handler != NGX_HTTP_SEKISHO_JPKI_NONE && mcf->redis == NULL) {
        need = "\"sekisho_jpki_challenge\", \"sekisho_jpki_login\" and "
               "\"sekisho_jpki_logout\" require \"sekisho_redis\"";

    } else if (conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGIN
               && jm->auth.store == NULL)
    {
        need = "\"sekisho_jpki_login\" requires \"sekisho_jpki_auth_ca\"";

    } else if ((conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGIN
                || conf->handler == NGX_HTTP_SEKISHO_JPKI_LOGOUT
                || conf->require)
               && jm->nkeys == 0)
    {
        need = "\"sekisho_jpki_login\", \"sekisho_jpki_logout\" and "
               "\"sekisho_jpki_require\" require \"sekisho_session_key\"";

    } else if (conf->require && mcf->redis == NULL) {
        need = "\"sekisho_jpki_require\" requires \"sekisho_redis\" (the "
               "list of logged-out sessions)";

    } else if (conf->signed_body && jm->sign.store == NULL) {
        need = "\"sekisho_jpki_signed_body\" requires "
               "\"sekisho_jpki_sign_ca\"";
    }

    if (need) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in the http block",
                           need);
        return NGX_CONF_ERROR;
    }

    if (conf->require || conf->signed_body) {
        jm->used = 1;
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


ngx_int_t
ngx_http_sekisho_jpki_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_main_t *jm)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_sekisho_module);

    if (!jm->used) {
        return NGX_OK;
    }

    if (jm->auth.store) {
        jm->cache = ngx_http_sekisho_jpki_cache_create(
                                                NGX_HTTP_SEKISHO_CERT_CACHE);
        if (jm->cache == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_sekisho_jpki_crl_init_worker(cycle, jm->crl) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mcf->redis == NULL || jm->nkeys == 0) {
        return NGX_OK;
    }

    return ngx_http_sekisho_session_sync_init(cycle, jm);
}


/* the access phase of locations that need a session or a signed body */

ngx_int_t
ngx_http_sekisho_jpki_access(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_sekisho_ctx_t       *ctx;
    ngx_http_sekisho_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

    ctx = ngx_http_sekisho_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * The context outlives internal redirects (try_files, error_page,
     * X-Accel-Redirect): a location reached that way is checked by its
     * own rules, not waved through by the first one's.
     */
    if (ctx->jpki_state == NGX_HTTP_SEKISHO_JPKI_DONE
        && ctx->jpki_lcf != lcf)
    {
        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_START;
    }

    switch (ctx->jpki_state) {

    case NGX_HTTP_SEKISHO_JPKI_START:

        /*
         * A refusal may free the request: what it leaves behind is set
         * first, and the context is not touched after it.
         */
        ctx->jpki_lcf = lcf;
        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_DONE;
        ctx->jpki_rc = NGX_DONE;

        if (lcf->jpki.require) {
            rc = ngx_http_sekisho_session_check(r);

            if (rc != NGX_DECLINED) {
                if (rc != NGX_DONE) {
                    ctx->jpki_rc = rc;
                }

                return rc;
            }
        }

        if (lcf->jpki.signed_body) {
            return ngx_http_sekisho_signed_body(r, ctx);
        }

        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_DONE;
        ctx->jpki_rc = NGX_DECLINED;
        return NGX_DECLINED;

    case NGX_HTTP_SEKISHO_JPKI_READ:
        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_DONE;
        ctx->jpki_rc = NGX_DONE;

        rc = ngx_http_sekisho_signed_body_check(r, ctx);

        if (rc != NGX_DONE) {
            ctx->jpki_rc = rc;
        }

        return rc;

    case NGX_HTTP_SEKISHO_JPKI_DONE:
        return ctx->jpki_rc;

    default:
        /* the body is still being read */
        return NGX_DONE;
    }
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

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);

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

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

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

    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);

    /* a verification from here on, for the metrics */
    ctx->jpki_use = 1;

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

    ngx_http_sekisho_jpki_prepare(r, &chk, NGX_HTTP_SEKISHO_JPKI_AUTH);

    res = ngx_http_sekisho_jpki_check_slot(&chk, slot, &info);

    ngx_http_sekisho_cert_info(r, ctx, &info);

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

    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);
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
                           ngx_min(mcf->jpki.idle, s->expires - s->issued))
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

    if (ngx_http_sekisho_session_revoke(r, s) != NGX_OK
        || ctx->jpki_cmd == NULL)
    {
        return ngx_http_sekisho_jpki_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE);
    }

    return ngx_http_sekisho_jpki_wait(r, ctx);
}


void
ngx_http_sekisho_jpki_logged_out(ngx_http_request_t *r, ngx_uint_t recorded)
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

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

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


/*
 * For the SOC: every failure counts toward a burst from its network,
 * and a revoked certificate is worth an alert of its own.
 */

static void
ngx_http_sekisho_jpki_alerts(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    struct sockaddr                 *sa;
    struct sockaddr_in               sin;
    ngx_http_sekisho_alert_param_t   params[3];

    sa = ngx_http_sekisho_unmap_v4(r->connection->sockaddr, &sin);

    ngx_http_sekisho_alert_jpki_failure(sa, &r->connection->addr_text);

    if (ctx->reason != NGX_HTTP_SEKISHO_REASON_JPKI_REVOKED) {
        return;
    }

    params[0].name = "serial";
    params[0].value = ctx->jpki_serial;
    params[1].name = "address";
    params[1].value = r->connection->addr_text;
    params[2].name = "use";

    if (ctx->jpki_state) {
        ngx_str_set(&params[2].value, "signed_body");

    } else {
        ngx_str_set(&params[2].value, "login");
    }

    ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_JPKI_REVOKED, params, 3);
}


static ngx_http_sekisho_reason_e
ngx_http_sekisho_jpki_reason(ngx_http_sekisho_jpki_result_e rc)
{
    static ngx_http_sekisho_reason_e  reasons[] = {
        NGX_HTTP_SEKISHO_REASON_NONE,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CERTIFICATE,
        NGX_HTTP_SEKISHO_REASON_JPKI_UNTRUSTED,
        NGX_HTTP_SEKISHO_REASON_JPKI_VALIDITY,
        NGX_HTTP_SEKISHO_REASON_JPKI_KEY_USAGE,
        NGX_HTTP_SEKISHO_REASON_JPKI_WRONG_CERT,
        NGX_HTTP_SEKISHO_REASON_JPKI_REVOKED,
        NGX_HTTP_SEKISHO_REASON_JPKI_CRL_STALE,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_ALGORITHM,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_SIGNATURE,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS
    };

    return reasons[rc];
}


/* the request waits for Redis; the worker does not */

static ngx_int_t
ngx_http_sekisho_jpki_wait(ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx)
{
    ngx_http_cleanup_t  *cln;

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        ngx_http_sekisho_redis_cancel(ctx->jpki_cmd);
        ctx->jpki_cmd = NULL;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sekisho_jpki_cleanup;
    cln->data = ctx;

    r->main->count++;

    return NGX_DONE;
}


/* a request ended while it waits for Redis is never woken up */

void
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

    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);
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


/* standard base64, or base64url as some clients send */

static ngx_int_t
ngx_http_sekisho_decode_base64(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst)
{
    if (src->len == 0) {
        return NGX_ERROR;
    }

    dst->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src->len));
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(dst, src) == NGX_OK) {
        return NGX_OK;
    }

    return ngx_decode_base64url(dst, src);
}


static void
ngx_http_sekisho_jpki_prepare(ngx_http_request_t *r,
    ngx_http_sekisho_jpki_check_t *chk, ngx_uint_t kind)
{
    ngx_http_sekisho_jpki_main_t  *jm;
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);
    jm = &mcf->jpki;

    chk->kind = kind;

    if (kind == NGX_HTTP_SEKISHO_JPKI_AUTH) {
        chk->ca = &jm->auth;
        chk->other = jm->sign.store ? &jm->sign : NULL;

    } else {
        chk->ca = &jm->sign;
        chk->other = jm->auth.store ? &jm->auth : NULL;
    }

    chk->crlix = ngx_http_sekisho_jpki_crl_index(jm->crl);
    chk->revocation = jm->revocation;
    chk->now = ngx_time();
}


/*
 * Under "require", a card no current CRL covers is refused: the log
 * names its distribution point, so that the operator knows which
 * municipality's CRL is missing or late.
 */

static void
ngx_http_sekisho_jpki_stale(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info)
{
    u_char  text[512];
    size_t  n;

    n = info->dp.len ? ngx_http_sekisho_jpki_dp_text(&info->dp, text,
                                                     sizeof(text))
                     : 0;

    if (n) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: no current CRL covers the distribution "
                      "point \"%*s\" of certificate serial %V",
                      n, text, &ctx->jpki_serial);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: no current CRL covers certificate serial "
                      "%V, which names no distribution point of a form "
                      "read here; only its issuer's complete CRLs could",
                      &ctx->jpki_serial);
    }
}


/* the facts of a certificate seen, for variables, audit and log */

static void
ngx_http_sekisho_cert_info(ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx,
    ngx_http_sekisho_jpki_cert_t *info)
{
    u_char  serial[NGX_HTTP_SEKISHO_SERIAL_MAX];
    size_t  n;

    n = info->serial ? ngx_http_sekisho_jpki_serial(info->serial, serial,
                                                    sizeof(serial))
                     : 0;

    if (n) {
        ctx->jpki_serial.data = ngx_pnalloc(r->pool, 2 * n);
        if (ctx->jpki_serial.data) {
            ctx->jpki_serial.len = ngx_http_sekisho_hex(ctx->jpki_serial.data,
                                                        serial, n);
        }
    }

    ctx->jpki_revocation = info->revocation + 1;
}


ngx_int_t
ngx_http_sekisho_jpki_issuer(ngx_http_sekisho_jpki_main_t *jm, u_char *id,
    size_t len, ngx_str_t *name)
{
    ngx_uint_t                       i;
    ngx_http_sekisho_jpki_issuer_t  *is;

    if (jm->issuers == NULL || len == 0) {
        return NGX_DECLINED;
    }

    is = jm->issuers->elts;

    for (i = 0; i < jm->issuers->nelts; i++) {
        if (is[i].id_len == len && ngx_memcmp(is[i].id, id, len) == 0) {
            *name = is[i].name;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * "sekisho_jpki_signed_body on": the body is read in the access phase
 * (as the login's is), then its X-JPKI-Signature checked.
 */

static ngx_int_t
ngx_http_sekisho_signed_body(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_READING;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_sekisho_signed_body_read);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_DONE;
        ctx->jpki_rc = rc;
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_sekisho_signed_body_read(ngx_http_request_t *r)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL || ctx->jpki_state != NGX_HTTP_SEKISHO_JPKI_READING) {
        return;
    }

    ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_READ;

    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_sekisho_signed_body_check(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    X509                            *signer;
    ngx_str_t                        body, der, name;
    ngx_uint_t                       status;
    ngx_list_part_t                 *part;
    ngx_table_elt_t                 *h, *sig;
    ngx_uint_t                       i;
    ngx_http_sekisho_jpki_cert_t     info;
    ngx_http_sekisho_jpki_check_t    chk;
    ngx_http_sekisho_jpki_result_e   res;
    ngx_http_sekisho_reason_e        reason;

    ngx_str_set(&name, "X-JPKI-Signature");
    sig = NULL;
    ctx->jpki_use = 2;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == name.len
                && ngx_strncasecmp(h[i].key.data, name.data, name.len) == 0)
            {
                sig = &h[i];
            }
        }
    }

    if (sig == NULL) {
        reason = NGX_HTTP_SEKISHO_REASON_JPKI_UNSIGNED;
        status = NGX_HTTP_BAD_REQUEST;
        goto refuse;
    }

    if (ngx_http_sekisho_decode_base64(r->pool, &sig->value, &der) != NGX_OK)
    {
        reason = NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS;
        status = NGX_HTTP_BAD_REQUEST;
        goto refuse;
    }

    if (ngx_http_sekisho_request_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* OpenSSL takes the length as an int */
    if (body.len > NGX_HTTP_SEKISHO_SIGNED_BODY_MAX) {
        reason = NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS;
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        goto refuse;
    }

    ngx_http_sekisho_jpki_prepare(r, &chk, NGX_HTTP_SEKISHO_JPKI_SIGN);

    res = ngx_http_sekisho_jpki_check_cms(&chk, der.data, der.len,
                                          body.data ? body.data
                                                    : (u_char *) "",
                                          body.len, &signer, &info);

    ctx->jpki_revocation = info.revocation + 1;

    if (res == NGX_HTTP_SEKISHO_JPKI_CRL_STALE) {
        ngx_http_sekisho_cert_info(r, ctx, &info);
        ngx_http_sekisho_jpki_stale(r, ctx, &info);
    }

    if (res != NGX_HTTP_SEKISHO_JPKI_OK) {
        reason = ngx_http_sekisho_jpki_reason(res);
        status = (res == NGX_HTTP_SEKISHO_JPKI_BAD_CMS)
                 ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_FORBIDDEN;
        goto refuse;
    }

    ngx_http_sekisho_cert_info(r, ctx, &info);

    if (ngx_http_sekisho_signer_headers(r, signer) != NGX_OK) {
        X509_free(signer);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    X509_free(signer);

    if (ctx->decision != NGX_HTTP_SEKISHO_DENY) {
        ctx->decision = NGX_HTTP_SEKISHO_ALLOW;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_JPKI_SIGNED_BODY;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: signed body verified, signer serial %V",
                  &ctx->jpki_serial);

    return NGX_DECLINED;

refuse:

    ctx->decision = NGX_HTTP_SEKISHO_DENY;
    ctx->reason = reason;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: signed body refused, reason: %V",
                  ngx_http_sekisho_reason_name(reason));

    ngx_http_sekisho_jpki_alerts(r, ctx);

    if (ngx_http_sekisho_wants_json(r)) {
        return ngx_http_sekisho_refuse_json(r, status,
                                         ngx_http_sekisho_reason_name(reason),
                                         NULL);
    }

    return ngx_http_sekisho_refuse(r, status, NGX_HTTP_SEKISHO_PAGE_SIGNATURE,
                                   NULL);
}


/* who signed: from the signing certificate, percent-encoded UTF-8 */

static ngx_int_t
ngx_http_sekisho_signer_headers(ngx_http_request_t *r, X509 *signer)
{
    u_char                            *buf;
    ngx_str_t                          v, *field;
    ngx_uint_t                         i;
    ngx_http_sekisho_ctx_t            *ctx;
    ngx_http_sekisho_jpki_identity_t   id;

    static char  *names[] = {
        "X-Sekisho-JPKI-Signer-Name", "X-Sekisho-JPKI-Signer-Sex",
        "X-Sekisho-JPKI-Signer-Birth-Date", "X-Sekisho-JPKI-Signer-Address"
    };

    ctx = ngx_http_sekisho_ctx(r, 0);

    /* checked again after an internal redirect: sent once */
    if (ctx->signer_sent) {
        return NGX_OK;
    }

    ctx->signer_sent = 1;

    if (ngx_http_sekisho_push_header(r, "X-Sekisho-JPKI-Signer-Serial",
                                     &ctx->jpki_serial)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    buf = ngx_pnalloc(r->pool, 2048);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_jpki_identity(signer, &id, buf, 2048) != NGX_OK) {
        return NGX_OK;
    }

    field = &id.name;

    for (i = 0; i < 4; i++) {
        v.data = ngx_pnalloc(r->pool, 3 * field[i].len + 1);
        if (v.data == NULL) {
            return NGX_ERROR;
        }

        v.len = ngx_http_sekisho_pct_encode(v.data, field[i].data,
                                            field[i].len);

        if (v.len
            && ngx_http_sekisho_push_header(r, names[i], &v) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
