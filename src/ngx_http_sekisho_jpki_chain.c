
/*
 * Copyright (C) Sekisho authors
 *
 * The roots are the trust anchors: a card carries no intermediates,
 * so a good chain is the certificate and one root.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_jpki_chain.h"


static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_chain(
    ngx_http_sekisho_jpki_ca_t *ca, X509 *cert, time_t now, X509 **issuer,
    int *error);


/*
 * A certificate OpenSSL has parsed, as a CMS signer carries it: the
 * same checks, the chain by OpenSSL's verifier.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_check_cert(ngx_http_sekisho_jpki_check_t *chk,
    X509 *cert, ngx_http_sekisho_jpki_cert_t *out)
{
    ngx_http_sekisho_jpki_result_e   rc;

    out->issuer = NULL;
    out->serial = X509_get0_serialNumber(cert);
    out->not_after = ngx_http_sekisho_jpki_time(X509_get0_notAfter(cert));
    out->revocation = NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED;
    out->fast = 0;
    out->error = 0;
    out->crl = NULL;
    ngx_str_null(&out->dp);
    ngx_http_sekisho_jpki_x509_crldp(cert, &out->crldp);

    rc = ngx_http_sekisho_jpki_chain_kind(chk, cert, &out->issuer,
                                          &out->error);

    if (rc != NGX_HTTP_SEKISHO_JPKI_OK) {
        return rc;
    }

    return ngx_http_sekisho_jpki_check_leaf(chk, X509_get_key_usage(cert), out);
}


/*
 * OpenSSL's chain to the wanted kind's authority; a certificate of the
 * other kind's is the card's other certificate: right person, wrong
 * key.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_chain_kind(ngx_http_sekisho_jpki_check_t *chk,
    X509 *cert, X509 **issuer, int *error)
{
    X509                            *other;
    ngx_http_sekisho_jpki_result_e   rc;

    rc = ngx_http_sekisho_jpki_chain(chk->ca, cert, chk->now, issuer, error);

    if (rc == NGX_HTTP_SEKISHO_JPKI_UNTRUSTED && chk->other
        && ngx_http_sekisho_jpki_chain(chk->other, cert, chk->now, &other,
                                       NULL)
           != NGX_HTTP_SEKISHO_JPKI_UNTRUSTED)
    {
        return NGX_HTTP_SEKISHO_JPKI_WRONG_CERT;
    }

    return rc;
}


static ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_chain(ngx_http_sekisho_jpki_ca_t *ca, X509 *cert,
    time_t now, X509 **issuer, int *error)
{
    int                              err;
    X509_STORE_CTX                  *xs;
    STACK_OF(X509)                  *chain;
    ngx_http_sekisho_jpki_result_e   rc;

    xs = X509_STORE_CTX_new();
    if (xs == NULL) {
        return NGX_HTTP_SEKISHO_JPKI_UNTRUSTED;
    }

    if (X509_STORE_CTX_init(xs, ca->store, cert, NULL) != 1) {
        X509_STORE_CTX_free(xs);
        return NGX_HTTP_SEKISHO_JPKI_UNTRUSTED;
    }

    X509_STORE_CTX_set_time(xs, 0, now);

    /* the roots are the trust anchors: no intermediates on the card */
    X509_STORE_CTX_set_flags(xs, X509_V_FLAG_X509_STRICT);

    if (X509_verify_cert(xs) == 1) {
        chain = X509_STORE_CTX_get0_chain(xs);
        *issuer = (sk_X509_num(chain) == 2) ? sk_X509_value(chain, 1) : NULL;
        rc = *issuer ? NGX_HTTP_SEKISHO_JPKI_OK
                     : NGX_HTTP_SEKISHO_JPKI_UNTRUSTED;
        err = rc ? X509_V_ERR_PATH_LENGTH_EXCEEDED : X509_V_OK;

    } else {
        err = X509_STORE_CTX_get_error(xs);

        switch (err) {

        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
        case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
        case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
            rc = NGX_HTTP_SEKISHO_JPKI_VALIDITY;
            break;

        case X509_V_ERR_INVALID_PURPOSE:
        case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
            rc = NGX_HTTP_SEKISHO_JPKI_KEY_USAGE;
            break;

        default:
            rc = NGX_HTTP_SEKISHO_JPKI_UNTRUSTED;
            break;
        }
    }

    if (error) {
        *error = err;
    }

    X509_STORE_CTX_free(xs);
    ERR_clear_error();

    return rc;
}
