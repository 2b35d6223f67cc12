
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI checks with OpenSSL.  Every authority generation shares one
 * subject name, so a certificate finds its root by key identifiers
 * (OpenSSL's issuer lookup compares them), and a CRL its issuer by the
 * key that signed it.  The card signs any DigestInfo it is given, so
 * the hash inside a signature is checked, not assumed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_verify.h"
#include "ngx_http_sekisho_session_token.h"


static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_chain(
    ngx_http_sekisho_jpki_ca_t *ca, X509 *cert, time_t now, X509 **issuer,
    int *error);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_cached_chain(
    ngx_http_sekisho_jpki_check_t *chk, X509 *cert,
    ngx_http_sekisho_jpki_cert_t *out);
static void ngx_http_sekisho_jpki_slot_clear(
    ngx_http_sekisho_jpki_slot_t *slot);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_revocation(
    ngx_http_sekisho_jpki_check_t *chk, X509 *cert,
    ngx_http_sekisho_jpki_cert_t *out);


#define NGX_HTTP_SEKISHO_OID_JPKI  "1.2.392.200149.8.5.5."

/* a chain result is trusted this long, then built again */
#define NGX_HTTP_SEKISHO_CHAIN_TTL  60


struct ngx_http_sekisho_jpki_slot_s {
    u_char                          hash[32];  /* SHA-256 of the DER */
    X509                           *cert;
    EVP_PKEY_CTX                   *verify;    /* ready for the signature */

    /* per kind (auth, sign): the last chain built and when */
    ngx_http_sekisho_jpki_ca_t     *ca[2];
    ngx_http_sekisho_jpki_result_e  rc[2];
    X509                           *issuer[2];
    int                             error[2];
    time_t                          checked[2];
};


struct ngx_http_sekisho_jpki_cache_s {
    ngx_uint_t                      size;
    ngx_http_sekisho_jpki_slot_t   *slots;
};


/* the SHA-256 DigestInfo prefix of PKCS#1 (RFC 8017, section 9.2) */
static const u_char  ngx_http_sekisho_sha256_info[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};


/*
 * A PEM bundle of roots.  Each must be a CA certificate allowed to
 * sign certificates; a bundle that holds anything else is refused at
 * load, not found out at the first login.
 */

ngx_int_t
ngx_http_sekisho_jpki_ca_load(ngx_http_sekisho_jpki_ca_t *ca,
    const char *file, char *err, size_t errlen)
{
    BIO       *bio;
    X509      *x;
    uint32_t   ku;

    ngx_memzero(ca, sizeof(ngx_http_sekisho_jpki_ca_t));

    bio = BIO_new_file(file, "r");
    if (bio == NULL) {
        snprintf(err, errlen, "cannot open \"%s\"", file);
        return NGX_ERROR;
    }

    ca->store = X509_STORE_new();
    ca->roots = sk_X509_new_null();

    if (ca->store == NULL || ca->roots == NULL) {
        BIO_free(bio);
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    for ( ;; ) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL) {
            break;
        }

        ku = X509_get_key_usage(x);

        if (X509_check_ca(x) == 0 || !(ku & KU_KEY_CERT_SIGN)) {
            snprintf(err, errlen, "\"%s\" holds a "
                         "certificate that is not a CA certificate", file);
            X509_free(x);
            BIO_free(bio);
            goto failed;
        }

        if (X509_STORE_add_cert(ca->store, x) != 1
            || sk_X509_push(ca->roots, x) == 0)
        {
            X509_free(x);
            BIO_free(bio);
            snprintf(err, errlen, "out of memory");
            goto failed;
        }
    }

    BIO_free(bio);
    ERR_clear_error();

    if (sk_X509_num(ca->roots) == 0) {
        snprintf(err, errlen, "no PEM certificate in "
                     "\"%s\"", file);
        goto failed;
    }

    return NGX_OK;

failed:

    ngx_http_sekisho_jpki_ca_free(ca);

    return NGX_ERROR;
}


void
ngx_http_sekisho_jpki_ca_free(ngx_http_sekisho_jpki_ca_t *ca)
{
    if (ca->store) {
        X509_STORE_free(ca->store);
        ca->store = NULL;
    }

    if (ca->roots) {
        sk_X509_pop_free(ca->roots, X509_free);
        ca->roots = NULL;
    }
}


/*
 * A CRL must list every revoked end-user certificate of its issuer: a
 * delta CRL, or one whose issuing distribution point limits it to CA
 * certificates, attribute certificates, some reasons or another
 * issuer, would make a revoked card look good.  NGX_OK, or NGX_DECLINED.
 */

ngx_int_t
ngx_http_sekisho_jpki_crl_complete(X509_CRL *crl)
{
    int                      crit;
    ISSUING_DIST_POINT      *idp;
    ngx_int_t                rc;

    if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0) {
        return NGX_DECLINED;
    }

    idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit,
                               NULL);

    if (idp == NULL) {
        ERR_clear_error();
        return (crit == -1) ? NGX_OK : NGX_DECLINED;
    }

    rc = (idp->onlyCA || idp->onlyattr || idp->onlysomereasons
          || idp->indirectCRL)
         ? NGX_DECLINED : NGX_OK;

    ISSUING_DIST_POINT_free(idp);

    return rc;
}


/* the trusted root whose key signed the CRL, or NULL */

X509 *
ngx_http_sekisho_jpki_crl_issuer(ngx_http_sekisho_jpki_ca_t **cas,
    ngx_uint_t n, X509_CRL *crl)
{
    int          i;
    X509        *x;
    EVP_PKEY    *key;
    ngx_uint_t   k;

    for (k = 0; k < n; k++) {
        if (cas[k] == NULL || cas[k]->roots == NULL) {
            continue;
        }

        for (i = 0; i < sk_X509_num(cas[k]->roots); i++) {
            x = sk_X509_value(cas[k]->roots, i);

            if (X509_NAME_cmp(X509_get_subject_name(x),
                              X509_CRL_get_issuer(crl))
                != 0)
            {
                continue;
            }

            key = X509_get0_pubkey(x);

            if (key && X509_CRL_verify(crl, key) == 1) {
                return x;
            }

            ERR_clear_error();
        }
    }

    return NULL;
}


ngx_http_sekisho_jpki_cache_t *
ngx_http_sekisho_jpki_cache_create(ngx_uint_t size)
{
    ngx_http_sekisho_jpki_cache_t  *cache;

    cache = calloc(1, sizeof(ngx_http_sekisho_jpki_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    cache->slots = calloc(size, sizeof(ngx_http_sekisho_jpki_slot_t));
    if (cache->slots == NULL) {
        free(cache);
        return NULL;
    }

    cache->size = size;

    return cache;
}


void
ngx_http_sekisho_jpki_cache_free(ngx_http_sekisho_jpki_cache_t *cache)
{
    ngx_uint_t  i;

    if (cache == NULL) {
        return;
    }

    for (i = 0; i < cache->size; i++) {
        ngx_http_sekisho_jpki_slot_clear(&cache->slots[i]);
    }

    free(cache->slots);
    free(cache);
}


static void
ngx_http_sekisho_jpki_slot_clear(ngx_http_sekisho_jpki_slot_t *slot)
{
    X509_free(slot->cert);
    EVP_PKEY_CTX_free(slot->verify);
    ngx_memzero(slot, sizeof(ngx_http_sekisho_jpki_slot_t));
}


/*
 * A certificate from its DER, with a reference for the caller (NULL:
 * not a certificate).  Direct-mapped by the DER's hash: a collision
 * only costs a parse.  Without a cache, a plain parse.
 */

X509 *
ngx_http_sekisho_jpki_parse(ngx_http_sekisho_jpki_cache_t *cache,
    u_char *der, size_t len, ngx_http_sekisho_jpki_slot_t **slot)
{
    u_char                         hash[32];
    X509                          *x;
    uint32_t                       h;
    const u_char                  *p;
    ngx_http_sekisho_jpki_slot_t  *s;

    *slot = NULL;

    if (cache
        && EVP_Digest(der, len, hash, NULL, EVP_sha256(), NULL) == 1)
    {
        h = ((uint32_t) hash[0] << 24) | (hash[1] << 16) | (hash[2] << 8)
            | hash[3];
        s = &cache->slots[h % cache->size];

        if (s->cert && ngx_memcmp(s->hash, hash, 32) == 0) {
            X509_up_ref(s->cert);
            *slot = s;
            return s->cert;
        }

    } else {
        s = NULL;
    }

    p = der;
    x = d2i_X509(NULL, &p, (long) len);

    if (x == NULL || p != der + len) {
        X509_free(x);
        ERR_clear_error();
        return NULL;
    }

    if (s) {
        ngx_http_sekisho_jpki_slot_clear(s);
        ngx_memcpy(s->hash, hash, 32);
        X509_up_ref(x);
        s->cert = x;
        *slot = s;
    }

    return x;
}


/*
 * The whole check of an end-user certificate, in the order the audit
 * reasons are most useful: is it ours at all, is it current, is it the
 * right kind of key, is it revoked.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_check_cert(ngx_http_sekisho_jpki_check_t *chk,
    X509 *cert, ngx_http_sekisho_jpki_cert_t *out)
{
    X509                            *issuer;
    uint32_t                         ku, want;
    ngx_http_sekisho_jpki_result_e   rc;

    out->issuer = NULL;
    out->revocation = NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED;
    out->error = 0;

    rc = ngx_http_sekisho_jpki_cached_chain(chk, cert, out);

    if (rc == NGX_HTTP_SEKISHO_JPKI_UNTRUSTED && chk->other
        && ngx_http_sekisho_jpki_chain(chk->other, cert, chk->now, &issuer,
                                       NULL)
           != NGX_HTTP_SEKISHO_JPKI_UNTRUSTED)
    {
        /* a card's other certificate: right person, wrong key */
        return NGX_HTTP_SEKISHO_JPKI_WRONG_CERT;
    }

    if (rc != NGX_HTTP_SEKISHO_JPKI_OK) {
        return rc;
    }

    /*
     * The authentication key signs (digitalSignature); the signing key
     * also commits (nonRepudiation).  Anything that may sign
     * certificates or CRLs is not a card's key.
     */

    ku = X509_get_key_usage(cert);

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

    return ngx_http_sekisho_jpki_revocation(chk, cert, out);
}


/*
 * A chain built less than a minute ago for the same authority holds,
 * provided both certificates are still within their validity.
 */

static ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_cached_chain(ngx_http_sekisho_jpki_check_t *chk,
    X509 *cert, ngx_http_sekisho_jpki_cert_t *out)
{
    ngx_uint_t                       k;
    ngx_http_sekisho_jpki_slot_t    *s;
    ngx_http_sekisho_jpki_result_e   rc;

    s = chk->slot;
    k = chk->kind;

    if (s && s->cert == cert && s->ca[k] == chk->ca
        && chk->now - s->checked[k] < NGX_HTTP_SEKISHO_CHAIN_TTL
        && chk->now >= s->checked[k])
    {
        out->issuer = s->issuer[k];
        out->error = s->error[k];

        if (s->rc[k] != NGX_HTTP_SEKISHO_JPKI_OK) {
            return s->rc[k];
        }

        if (X509_cmp_time(X509_get0_notBefore(cert), &chk->now) > 0
            || X509_cmp_time(X509_get0_notAfter(cert), &chk->now) < 0
            || X509_cmp_time(X509_get0_notBefore(out->issuer), &chk->now) > 0
            || X509_cmp_time(X509_get0_notAfter(out->issuer), &chk->now) < 0)
        {
            return NGX_HTTP_SEKISHO_JPKI_VALIDITY;
        }

        return NGX_HTTP_SEKISHO_JPKI_OK;
    }

    rc = ngx_http_sekisho_jpki_chain(chk->ca, cert, chk->now, &out->issuer,
                                     &out->error);

    if (s && s->cert == cert) {
        s->ca[k] = chk->ca;
        s->rc[k] = rc;
        s->issuer[k] = out->issuer;
        s->error[k] = out->error;
        s->checked[k] = chk->now;
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


static ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_revocation(ngx_http_sekisho_jpki_check_t *chk,
    X509 *cert, ngx_http_sekisho_jpki_cert_t *out)
{
    X509_CRL           *crl;
    ngx_uint_t          i;
    X509_REVOKED       *rev;
    const ASN1_TIME    *next;

    if (chk->revocation == NGX_HTTP_SEKISHO_REVOKE_OFF) {
        return NGX_HTTP_SEKISHO_JPKI_OK;
    }

    crl = NULL;

    /* several CRLs of one issuer: the newest speaks */
    for (i = 0; i < chk->ncrls; i++) {
        if (chk->crls[i].issuer == out->issuer
            && (crl == NULL
                || ASN1_TIME_compare(X509_CRL_get0_lastUpdate(
                                                       chk->crls[i].crl),
                                     X509_CRL_get0_lastUpdate(crl))
                   > 0))
        {
            crl = chk->crls[i].crl;
        }
    }

    next = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;

    /* a CRL without a next update is never known to be current */
    if (crl == NULL || next == NULL
        || X509_cmp_time(next, &chk->now) <= 0)
    {
        return (chk->revocation == NGX_HTTP_SEKISHO_REVOKE_REQUIRE)
               ? NGX_HTTP_SEKISHO_JPKI_CRL_STALE : NGX_HTTP_SEKISHO_JPKI_OK;
    }

    if (X509_CRL_get0_by_cert(crl, &rev, cert) == 1) {
        out->revocation = NGX_HTTP_SEKISHO_REVOCATION_REVOKED;
        return NGX_HTTP_SEKISHO_JPKI_REVOKED;
    }

    out->revocation = NGX_HTTP_SEKISHO_REVOCATION_GOOD;

    return NGX_HTTP_SEKISHO_JPKI_OK;
}


/* what the card signs at login: README, "What the card signs" */

void
ngx_http_sekisho_jpki_login_digest(ngx_str_t *host, ngx_str_t *challenge,
    u_char *digest)
{
    EVP_MD_CTX  *md;

    md = EVP_MD_CTX_new();

    if (md == NULL
        || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, "sekisho-jpki-login:v1\n", 22) != 1
        || EVP_DigestUpdate(md, host->data, host->len) != 1
        || EVP_DigestUpdate(md, "\n", 1) != 1
        || EVP_DigestUpdate(md, challenge->data, challenge->len) != 1
        || EVP_DigestFinal_ex(md, digest, NULL) != 1)
    {
        /* a digest of nothing a card could have signed */
        ngx_memset(digest, 0, 32);
    }

    EVP_MD_CTX_free(md);
}


/*
 * The signature is opened with the public key and its DigestInfo read:
 * a valid PKCS#1 v1.5 block over another hash is a wrong algorithm,
 * anything else that does not match is a bad signature.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_check_signature(X509 *cert,
    ngx_http_sekisho_jpki_slot_t *slot, u_char *sig, size_t len,
    u_char *digest)
{
    u_char                           info[512];
    size_t                           n;
    EVP_PKEY                        *key;
    EVP_PKEY_CTX                    *pc;
    ngx_http_sekisho_jpki_result_e   rc;

    key = X509_get0_pubkey(cert);

    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        return NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM;
    }

    if (len != (size_t) EVP_PKEY_get_size(key)) {
        return NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;
    }

    /* a context set up once per cached certificate */
    pc = (slot && slot->cert == cert) ? slot->verify : NULL;

    if (pc == NULL) {
        pc = EVP_PKEY_CTX_new(key, NULL);

        if (pc == NULL
            || EVP_PKEY_verify_recover_init(pc) != 1
            || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1)
        {
            EVP_PKEY_CTX_free(pc);
            ERR_clear_error();
            return NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;
        }

        if (slot && slot->cert == cert) {
            slot->verify = pc;
        }
    }

    n = sizeof(info);

    if (EVP_PKEY_verify_recover(pc, info, &n, sig, len) != 1) {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;

    } else if (n != sizeof(ngx_http_sekisho_sha256_info) + 32
               || ngx_memcmp(info, ngx_http_sekisho_sha256_info,
                             sizeof(ngx_http_sekisho_sha256_info))
                  != 0)
    {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM;

    } else if (CRYPTO_memcmp(info + sizeof(ngx_http_sekisho_sha256_info),
                             digest, 32)
               != 0)
    {
        rc = NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;

    } else {
        rc = NGX_HTTP_SEKISHO_JPKI_OK;
    }

    if (!(slot && slot->verify == pc)) {
        EVP_PKEY_CTX_free(pc);
    }

    ERR_clear_error();

    return rc;
}


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


/*
 * The JPKI otherName entries of a signing certificate's
 * subjectAltName: .1 name, .3 sex, .4 birth date, .5 address (JPKI.md,
 * section 3).  The values are copied into "buf".
 */

ngx_int_t
ngx_http_sekisho_jpki_identity(X509 *cert,
    ngx_http_sekisho_jpki_identity_t *id, u_char *buf, size_t size)
{
    int               i, n, type;
    char              oid[64];
    u_char           *p, *last;
    ngx_str_t        *field;
    ASN1_STRING      *s;
    GENERAL_NAME     *gn;
    GENERAL_NAMES    *names;

    ngx_memzero(id, sizeof(ngx_http_sekisho_jpki_identity_t));

    names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) {
        ERR_clear_error();
        return NGX_DECLINED;
    }

    p = buf;
    last = buf + size;

    for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        gn = sk_GENERAL_NAME_value(names, i);

        if (gn->type != GEN_OTHERNAME) {
            continue;
        }

        n = OBJ_obj2txt(oid, sizeof(oid), gn->d.otherName->type_id, 1);

        if (n != (int) sizeof(NGX_HTTP_SEKISHO_OID_JPKI)
            || ngx_strncmp(oid, NGX_HTTP_SEKISHO_OID_JPKI,
                           sizeof(NGX_HTTP_SEKISHO_OID_JPKI) - 1)
               != 0)
        {
            continue;
        }

        switch (oid[n - 1]) {
        case '1': field = &id->name; break;
        case '3': field = &id->sex; break;
        case '4': field = &id->birth; break;
        case '5': field = &id->address; break;
        default: continue;
        }

        type = gn->d.otherName->value->type;

        if (type != V_ASN1_UTF8STRING && type != V_ASN1_PRINTABLESTRING
            && type != V_ASN1_IA5STRING)
        {
            continue;
        }

        s = gn->d.otherName->value->value.asn1_string;

        if ((size_t) ASN1_STRING_length(s) > (size_t) (last - p)) {
            GENERAL_NAMES_free(names);
            return NGX_ERROR;
        }

        field->data = p;
        field->len = ASN1_STRING_length(s);
        p = ngx_cpymem(p, ASN1_STRING_get0_data(s), field->len);
    }

    GENERAL_NAMES_free(names);

    return (id->name.len || id->address.len) ? NGX_OK : NGX_DECLINED;
}


/*
 * For header values: UTF-8 and anything not an unreserved URI
 * character as %XX (RFC 3986), so that no client of the header has to
 * guess a charset.  dst holds 3 * len bytes.
 */

size_t
ngx_http_sekisho_pct_encode(u_char *dst, u_char *src, size_t len)
{
    u_char  *d, c;

    static const u_char  hex[] = "0123456789ABCDEF";

    d = dst;

    while (len--) {
        c = *src++;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *d++ = c;
            continue;
        }

        *d++ = '%';
        *d++ = hex[c >> 4];
        *d++ = hex[c & 0x0f];
    }

    return d - dst;
}


/* the subject key identifier of a CA certificate; 0 when it has none */

size_t
ngx_http_sekisho_jpki_key_id(X509 *cert, u_char *id, size_t max)
{
    size_t                     n;
    const ASN1_OCTET_STRING   *ski;

    ski = X509_get0_subject_key_id(cert);

    if (ski == NULL) {
        return 0;
    }

    n = ngx_min((size_t) ASN1_STRING_length(ski), max);
    ngx_memcpy(id, ASN1_STRING_get0_data(ski), n);

    return n;
}


/* the serial number as big-endian bytes; 0 when it does not fit */

size_t
ngx_http_sekisho_jpki_serial(X509 *cert, u_char *serial, size_t max)
{
    int             n;
    BIGNUM         *bn;

    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL) {
        return 0;
    }

    n = BN_num_bytes(bn);

    if (n == 0 || (size_t) n > max || BN_is_negative(bn)) {
        BN_free(bn);
        return 0;
    }

    BN_bn2bin(bn, serial);
    BN_free(bn);

    return (size_t) n;
}
