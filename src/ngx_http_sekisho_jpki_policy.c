
/*
 * Copyright (C) Sekisho authors
 *
 * What every chained certificate must also be.  A CRL finds its issuer
 * by the key that signed it, so revocation is looked up under the root
 * the certificate chained to.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_crl_set.h"
#include "ngx_http_sekisho_der_names.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_jpki_policy.h"


static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_revocation(
    ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_cert_t *out);
static ngx_uint_t ngx_http_sekisho_jpki_listed(
    ngx_http_sekisho_jpki_check_t *chk, X509 *issuer,
    const ASN1_INTEGER *serial, ngx_str_t *crldp, ngx_uint_t ca,
    ngx_str_t *first, ngx_http_sekisho_crlix_row_t **row);


/* the distribution point names of a certificate looked up */
#define NGX_HTTP_SEKISHO_JPKI_DPS   8


/*
 * Valid from not_before to before not_after, as X509_cmp_time() has
 * it, and so is the issuer, when given.
 */

ngx_int_t
ngx_http_sekisho_jpki_times(time_t now, time_t not_before, time_t not_after,
    X509 *issuer)
{
    if (now < not_before || now >= not_after) {
        return NGX_DECLINED;
    }

    if (issuer
        && (X509_cmp_time(X509_get0_notBefore(issuer), &now) > 0
            || X509_cmp_time(X509_get0_notAfter(issuer), &now) < 0))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The authentication key signs (digitalSignature); the signing key
 * also commits (nonRepudiation).  Anything that may sign certificates
 * or CRLs is not a card's key.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_check_leaf(ngx_http_sekisho_jpki_check_t *chk,
    uint32_t ku, ngx_http_sekisho_jpki_cert_t *out)
{
    uint32_t  want;

    if (ku == UINT32_MAX
        || (ku & (KU_KEY_CERT_SIGN|KU_CRL_SIGN|KU_DATA_ENCIPHERMENT
                  |KU_KEY_AGREEMENT)))
    {
        return NGX_HTTP_SEKISHO_JPKI_KEY_USAGE;
    }

    want = KU_DIGITAL_SIGNATURE;

    if (chk->kind == NGX_HTTP_SEKISHO_JPKI_SIGN) {
        want |= KU_NON_REPUDIATION;

    } else if (ku & KU_NON_REPUDIATION) {
        return NGX_HTTP_SEKISHO_JPKI_WRONG_CERT;
    }

    if ((ku & want) != want) {
        return NGX_HTTP_SEKISHO_JPKI_KEY_USAGE;
    }

    return ngx_http_sekisho_jpki_revocation(chk, out);
}


/*
 * In the revocation index, as RFC 5280 6.3.3 has it: the CRLs of the
 * certificate's root (the generation: the key that signed them) whose
 * issuing distribution point is one of the certificate's distribution
 * points, and the root's complete CRLs; then the root itself in the
 * ARLs, when there are any.  No current CRL that covers it is
 * jpki_crl_stale under "require", unchecked under "best_effort".
 */

static ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_revocation(ngx_http_sekisho_jpki_check_t *chk,
    ngx_http_sekisho_jpki_cert_t *out)
{
    ngx_uint_t                     rc, arl;
    ngx_str_t                      crldp;
    ngx_http_sekisho_crlix_row_t  *row;

    if (chk->revocation == NGX_HTTP_SEKISHO_REVOKE_OFF) {
        return NGX_HTTP_SEKISHO_JPKI_OK;
    }

    rc = ngx_http_sekisho_jpki_listed(chk, out->issuer, out->serial,
                                      &out->crldp, 0, &out->dp, &row);
    out->crl = row;

    if (rc == NGX_HTTP_SEKISHO_CRLIX_REVOKED) {
        out->revocation = NGX_HTTP_SEKISHO_REVOCATION_REVOKED;
        return NGX_HTTP_SEKISHO_JPKI_REVOKED;
    }

    /* the root in the ARLs of its own key, if any are given */
    ngx_http_sekisho_jpki_x509_crldp(out->issuer, &crldp);

    arl = ngx_http_sekisho_jpki_listed(chk, out->issuer,
                                       X509_get0_serialNumber(out->issuer),
                                       &crldp, 1, NULL, &row);

    if (arl == NGX_HTTP_SEKISHO_CRLIX_REVOKED) {
        out->crl = row;
        out->revocation = NGX_HTTP_SEKISHO_REVOCATION_REVOKED;
        return NGX_HTTP_SEKISHO_JPKI_REVOKED;
    }

    if (rc != NGX_HTTP_SEKISHO_CRLIX_GOOD
        || arl == NGX_HTTP_SEKISHO_CRLIX_STALE)
    {
        return (chk->revocation == NGX_HTTP_SEKISHO_REVOKE_REQUIRE)
               ? NGX_HTTP_SEKISHO_JPKI_CRL_STALE : NGX_HTTP_SEKISHO_JPKI_OK;
    }

    out->revocation = NGX_HTTP_SEKISHO_REVOCATION_GOOD;

    return NGX_HTTP_SEKISHO_JPKI_OK;
}


/*
 * One certificate (a card's, or a root as a CA) in the index: its
 * distribution points' names as keys, its serial as a key.  A point of
 * a form the index does not hold (reasons, a CRL issuer) leaves only
 * the root's complete CRLs; a negative serial is never found.
 */

static ngx_uint_t
ngx_http_sekisho_jpki_listed(ngx_http_sekisho_jpki_check_t *chk,
    X509 *issuer, const ASN1_INTEGER *serial, ngx_str_t *crldp,
    ngx_uint_t ca, ngx_str_t *first, ngx_http_sekisho_crlix_row_t **row)
{
    u_char      id[NGX_HTTP_SEKISHO_CRLIX_ISSUER];
    u_char      key[NGX_HTTP_SEKISHO_CRLIX_KEY];
    u_char      scopes[NGX_HTTP_SEKISHO_JPKI_DPS * NGX_HTTP_SEKISHO_CRLIX_KEY];
    ngx_str_t   names[NGX_HTTP_SEKISHO_JPKI_DPS];
    ngx_uint_t  i, n;

    *row = NULL;

    if (chk->crlix == NULL || issuer == NULL || serial == NULL
        || ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER
        || ngx_http_sekisho_crl_root_id(issuer, id) != NGX_OK)
    {
        ERR_clear_error();
        return NGX_HTTP_SEKISHO_CRLIX_NONE;
    }

    n = 0;

    if (crldp->len
        && ngx_http_sekisho_crl_dp_names(crldp->data, crldp->len, names,
                                         NGX_HTTP_SEKISHO_JPKI_DPS, &n)
           != NGX_OK)
    {
        n = 0;
    }

    for (i = 0; i < n; i++) {
        ngx_http_sekisho_crlix_scope_key(names[i].data, names[i].len,
                                         scopes
                                         + i * NGX_HTTP_SEKISHO_CRLIX_KEY);
    }

    if (first) {
        if (n) {
            *first = names[0];

        } else {
            ngx_str_null(first);
        }
    }

    ngx_http_sekisho_crlix_serial_key((u_char *) ASN1_STRING_get0_data(serial),
                                      ASN1_STRING_length(serial), key);

    return ngx_http_sekisho_crlix_check(chk->crlix, id, scopes, n, key, ca,
                                        chk->now, row);
}


/* the DER value of a certificate's cRLDistributionPoints, or empty */

void
ngx_http_sekisho_jpki_x509_crldp(X509 *x, ngx_str_t *crldp)
{
    int                   i;
    X509_EXTENSION       *ext;
    ASN1_OCTET_STRING    *data;

    ngx_str_null(crldp);

    i = X509_get_ext_by_NID(x, NID_crl_distribution_points, -1);
    if (i < 0) {
        return;
    }

    ext = X509_get_ext(x, i);
    data = ext ? X509_EXTENSION_get_data(ext) : NULL;

    if (data) {
        crldp->data = (u_char *) ASN1_STRING_get0_data(data);
        crldp->len = ASN1_STRING_length(data);
    }
}
