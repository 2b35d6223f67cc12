
/*
 * Copyright (C) Sekisho authors
 *
 * The signer's certificate goes through OpenSSL's full path and the
 * rules of a signing certificate; CMS_verify() then checks only the
 * signature over the body.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_jpki_chain.h"
#include "ngx_http_sekisho_jpki_cms.h"


/*
 * A detached CMS SignedData with one signer, whose certificate it
 * carries: the certificate is checked as a signing certificate, then
 * the signature over the body, with SHA-256 and RSA only.  "signer" is
 * the caller's reference on success.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_check_cms(ngx_http_sekisho_jpki_check_t *chk,
    u_char *der, size_t len, u_char *body, size_t blen, X509 **signer,
    ngx_http_sekisho_jpki_cert_t *out)
{
    int                              i, nid;
    BIO                             *content;
    X509                            *x, *cert;
    X509_ALGOR                      *dig, *alg;
    CMS_ContentInfo                 *cms;
    STACK_OF(X509)                  *certs, *one;
    const unsigned char             *p;
    CMS_SignerInfo                  *si;
    STACK_OF(CMS_SignerInfo)        *sis;
    ngx_http_sekisho_jpki_result_e   rc;

    *signer = NULL;
    cert = NULL;
    certs = NULL;

    out->issuer = NULL;
    out->serial = NULL;
    out->not_after = 0;
    out->revocation = NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED;
    out->fast = 0;
    out->error = 0;
    one = NULL;
    content = NULL;

    p = der;
    cms = d2i_CMS_ContentInfo(NULL, &p, (long) len);

    if (cms == NULL || p != der + len
        || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed
        || CMS_is_detached(cms) != 1)
    {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_CMS;
        goto done;
    }

    sis = CMS_get0_SignerInfos(cms);

    if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1) {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_CMS;
        goto done;
    }

    si = sk_CMS_SignerInfo_value(sis, 0);

    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &alg);
    nid = OBJ_obj2nid(alg->algorithm);

    if (OBJ_obj2nid(dig->algorithm) != NID_sha256
        || (nid != NID_rsaEncryption && nid != NID_sha256WithRSAEncryption))
    {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM;
        goto done;
    }

    certs = CMS_get1_certs(cms);

    for (i = 0; certs && i < sk_X509_num(certs); i++) {
        x = sk_X509_value(certs, i);

        if (CMS_SignerInfo_cert_cmp(si, x) == 0) {
            cert = x;
            break;
        }
    }

    if (cert == NULL) {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_CMS;
        goto done;
    }

    rc = ngx_http_sekisho_jpki_check_cert(chk, cert, out);

    if (rc != NGX_HTTP_SEKISHO_JPKI_OK) {
        goto done;
    }

    one = sk_X509_new_null();
    content = BIO_new_mem_buf(body, (int) blen);

    if (one == NULL || content == NULL || sk_X509_push(one, cert) == 0) {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;
        goto done;
    }

    /* the signer's certificate was checked above, by our own rules */
    if (CMS_verify(cms, one, NULL, content, NULL,
                   CMS_BINARY|CMS_NOINTERN|CMS_NO_SIGNER_CERT_VERIFY)
        != 1)
    {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;
        goto done;
    }

    X509_up_ref(cert);
    *signer = cert;
    rc = NGX_HTTP_SEKISHO_JPKI_OK;

done:

    sk_X509_free(one);
    BIO_free(content);
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();

    return rc;
}
