
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/pem.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_jpki_identity.h"
#include "ngx_http_sekisho_jpki_trust.h"


/* certificates kept parsed per worker (about 4 KB each) */
#define NGX_HTTP_SEKISHO_CERT_CACHE      1024


static void ngx_http_sekisho_jpki_free(void *data);


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

    return NGX_CONF_OK;
}


static void
ngx_http_sekisho_jpki_free(void *data)
{
    ngx_http_sekisho_jpki_ca_t *ca = data;

    ngx_http_sekisho_jpki_ca_free(ca);
}


void
ngx_http_sekisho_jpki_trust_create(ngx_http_sekisho_jpki_trust_t *t)
{
    t->revocation = NGX_CONF_UNSET_UINT;
}


/*
 * After the http block: the revocation policy, the roots named, and
 * the CRLs indexed (or the index found current) by
 * ngx_http_sekisho_jpki_crl.c for the roots that signed them.
 */

char *
ngx_http_sekisho_jpki_trust_init(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_trust_t *t)
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

    if (t->revocation == NGX_CONF_UNSET_UINT) {
        t->revocation = t->crl ? NGX_HTTP_SEKISHO_REVOKE_REQUIRE
                                 : NGX_HTTP_SEKISHO_REVOKE_OFF;

    } else if (t->revocation != NGX_HTTP_SEKISHO_REVOKE_OFF
               && t->crl == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho_jpki_revocation\" other than \"off\" "
                           "requires \"sekisho_jpki_crl\" or "
                           "\"sekisho_jpki_crl_dir\"");
        return NGX_CONF_ERROR;
    }

    /* each root by its key identifier, for the issuer header */
    t->issuers = ngx_array_create(cf->pool, 4,
                                   sizeof(ngx_http_sekisho_jpki_issuer_t));
    if (t->issuers == NULL) {
        return NGX_CONF_ERROR;
    }

    cas[0] = &t->auth;
    cas[1] = &t->sign;

    for (k = 0; k < 2; k++) {
        for (i = 0; cas[k]->roots && i < sk_X509_num(cas[k]->roots); i++) {
            x = sk_X509_value(cas[k]->roots, i);

            is = ngx_array_push(t->issuers);
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

    if (t->crl == NULL) {
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

    return ngx_http_sekisho_jpki_crl_init(cf, t->crl, roots->elts,
                                          roots->nelts);
}


ngx_int_t
ngx_http_sekisho_jpki_trust_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_trust_t *t)
{
    if (t->auth.store) {
        t->cache = ngx_http_sekisho_jpki_cache_create(
                                                NGX_HTTP_SEKISHO_CERT_CACHE);
        if (t->cache == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_sekisho_jpki_crl_init_worker(cycle, t->crl);
}


void
ngx_http_sekisho_jpki_trust_exit_worker(ngx_http_sekisho_jpki_trust_t *t)
{
    ngx_http_sekisho_jpki_crl_exit_worker(t->crl);
}


void
ngx_http_sekisho_jpki_prepare(ngx_http_sekisho_jpki_trust_t *t,
    ngx_http_sekisho_jpki_check_t *chk, ngx_uint_t kind)
{
    chk->kind = kind;

    if (kind == NGX_HTTP_SEKISHO_JPKI_AUTH) {
        chk->ca = &t->auth;
        chk->other = t->sign.store ? &t->sign : NULL;

    } else {
        chk->ca = &t->sign;
        chk->other = t->auth.store ? &t->auth : NULL;
    }

    chk->crlix = ngx_http_sekisho_jpki_crl_index(t->crl);
    chk->revocation = t->revocation;
    chk->now = ngx_time();
}


ngx_int_t
ngx_http_sekisho_jpki_issuer(ngx_http_sekisho_jpki_trust_t *t, u_char *id,
    size_t len, ngx_str_t *name)
{
    ngx_uint_t                       i;
    ngx_http_sekisho_jpki_issuer_t  *is;

    if (t->issuers == NULL || len == 0) {
        return NGX_DECLINED;
    }

    is = t->issuers->elts;

    for (i = 0; i < t->issuers->nelts; i++) {
        if (is[i].id_len == len && ngx_memcmp(is[i].id, id, len) == 0) {
            *name = is[i].name;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}
