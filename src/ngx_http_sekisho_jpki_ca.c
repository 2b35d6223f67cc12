
/*
 * Copyright (C) Sekisho authors
 *
 * The roots of an authority.  Every generation shares one subject
 * name, so a certificate finds its root by key identifiers (OpenSSL's
 * issuer lookup compares them).  A root is offered to the fast path
 * only if OpenSSL's strict checks accept a certificate under it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_ca.h"


static ngx_int_t ngx_http_sekisho_jpki_root_prepare(
    ngx_http_sekisho_jpki_ca_t *ca, X509 *x);
static ngx_int_t ngx_http_sekisho_jpki_root_probe(X509 *root);
static int ngx_http_sekisho_jpki_probe_cb(int ok, X509_STORE_CTX *xs);


/*
 * A PEM bundle of roots.  Each must be a CA certificate allowed to
 * sign certificates; a bundle that holds anything else is refused at
 * load, not found out at the first login.
 */

ngx_int_t
ngx_http_sekisho_jpki_ca_load(ngx_http_sekisho_jpki_ca_t *ca,
    const char *file, char *err, size_t errlen)
{
    BIO   *bio;
    X509  *x;

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

        if (ngx_http_sekisho_jpki_ca_add(ca, x, err, errlen) != NGX_OK) {
            if (err[0] == '\0') {
                snprintf(err, errlen, "\"%s\" holds a "
                         "certificate that is not a CA certificate", file);
            }

            BIO_free(bio);
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


/*
 * One root, whose reference the authority takes.  NGX_ERROR with "err"
 * empty: not a CA certificate allowed to sign certificates.
 */

ngx_int_t
ngx_http_sekisho_jpki_ca_add(ngx_http_sekisho_jpki_ca_t *ca, X509 *x,
    char *err, size_t errlen)
{
    uint32_t  ku;

    err[0] = '\0';
    ku = X509_get_key_usage(x);

    /* no key usage at all (UINT32_MAX) is refused by the strict checks */
    if (X509_check_ca(x) == 0 || ku == UINT32_MAX
        || !(ku & KU_KEY_CERT_SIGN))
    {
        X509_free(x);
        return NGX_ERROR;
    }

    if (X509_STORE_add_cert(ca->store, x) != 1
        || sk_X509_push(ca->roots, x) == 0)
    {
        X509_free(x);
        snprintf(err, errlen, "out of memory");
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_jpki_root_prepare(ca, x) != NGX_OK) {
        snprintf(err, errlen, "out of memory");
        return NGX_ERROR;
    }

    ERR_clear_error();

    return NGX_OK;
}


/*
 * A root the fast path may chain to: an RSA key, a key identifier, no
 * name constraints (the fast path checks none), and one under which
 * OpenSSL's strict checks accept a certificate of the profile (the
 * probe below).  Any other root is used through OpenSSL alone.
 * NGX_ERROR only when memory runs out.
 */

static ngx_int_t
ngx_http_sekisho_jpki_root_prepare(ngx_http_sekisho_jpki_ca_t *ca, X509 *x)
{
    int                            len;
    u_char                        *p;
    EVP_PKEY                      *key;
    ngx_int_t                      rc;
    ngx_http_sekisho_jpki_root_t  *r, *fast;

    key = X509_get0_pubkey(x);

    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA
        || X509_get0_subject_key_id(x) == NULL
        || X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0)
    {
        return NGX_OK;
    }

    rc = ngx_http_sekisho_jpki_root_probe(x);

    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    fast = realloc(ca->fast,
                   (ca->nfast + 1) * sizeof(ngx_http_sekisho_jpki_root_t));
    if (fast == NULL) {
        return NGX_ERROR;
    }

    ca->fast = fast;
    r = &fast[ca->nfast];
    ngx_memzero(r, sizeof(ngx_http_sekisho_jpki_root_t));

    len = i2d_X509_NAME(X509_get_subject_name(x), NULL);
    r->subject = (len > 0) ? malloc(len) : NULL;
    r->verify = EVP_PKEY_CTX_new(key, NULL);

    if (r->subject == NULL || r->verify == NULL
        || EVP_PKEY_verify_init(r->verify) != 1
        || EVP_PKEY_CTX_set_rsa_padding(r->verify, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_CTX_set_signature_md(r->verify, EVP_sha256()) != 1)
    {
        free(r->subject);
        EVP_PKEY_CTX_free(r->verify);
        return NGX_ERROR;
    }

    p = r->subject;
    r->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &p);
    r->cert = x;
    r->key_id = X509_get0_subject_key_id(x);
    r->sig_len = EVP_PKEY_get_size(key);

    ca->nfast++;

    return NGX_OK;
}


/*
 * OpenSSL's strict checks look at a root only as the issuer of another
 * certificate (a chain of one is not checked), so a root is tried with
 * one: a certificate of the profile under it, within its validity,
 * signed by a throwaway key, whose signature failure alone is forgiven.
 * NGX_OK: the root passes; NGX_DECLINED: it does not.
 */

static ngx_int_t
ngx_http_sekisho_jpki_root_probe(X509 *root)
{
    X509                 *leaf;
    time_t                t;
    EVP_PKEY             *key;
    ngx_int_t             rc;
    X509_STORE           *store;
    STACK_OF(X509)       *chain;
    X509_STORE_CTX       *xs;
    AUTHORITY_KEYID      *akid;
    ASN1_BIT_STRING      *ku;

    rc = NGX_ERROR;
    store = NULL;
    xs = NULL;
    akid = NULL;
    ku = NULL;

    leaf = X509_new();

    /* its size does not matter: nothing it signs is kept */
    key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);

    t = ngx_http_sekisho_jpki_time(X509_get0_notBefore(root));

    if (leaf == NULL || key == NULL || t == (time_t) -1) {
        goto done;
    }

    t++;

    akid = AUTHORITY_KEYID_new();
    ku = ASN1_BIT_STRING_new();

    if (akid == NULL || ku == NULL
        || (akid->keyid = ASN1_OCTET_STRING_dup(
                                     X509_get0_subject_key_id(root)))
           == NULL
        || ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1
        || X509_set_version(leaf, X509_VERSION_3) != 1
        || ASN1_INTEGER_set(X509_get_serialNumber(leaf), 1) != 1
        || X509_set1_notBefore(leaf, X509_get0_notBefore(root)) != 1
        || X509_set1_notAfter(leaf, X509_get0_notAfter(root)) != 1
        || X509_set_issuer_name(leaf, X509_get_subject_name(root)) != 1
        || X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf), "CN",
                                      MBSTRING_ASC,
                                      (u_char *) "sekisho root probe",
                                      -1, -1, 0)
           != 1
        || X509_set_pubkey(leaf, key) != 1
        || X509_add1_ext_i2d(leaf, NID_authority_key_identifier, akid, 0,
                             X509V3_ADD_DEFAULT)
           != 1
        || X509_add1_ext_i2d(leaf, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT)
           != 1
        || X509_sign(leaf, key, EVP_sha256()) == 0)
    {
        goto done;
    }

    /*
     * Alone in its store: with another generation of the same name
     * beside it, OpenSSL 3.0 may match the other one.
     */

    store = X509_STORE_new();
    xs = X509_STORE_CTX_new();

    if (store == NULL || xs == NULL || X509_STORE_add_cert(store, root) != 1
        || X509_STORE_CTX_init(xs, store, leaf, NULL) != 1)
    {
        goto done;
    }

    X509_STORE_CTX_set_flags(xs, X509_V_FLAG_X509_STRICT);
    X509_STORE_CTX_set_time(xs, 0, t);
    X509_STORE_CTX_set_verify_cb(xs, ngx_http_sekisho_jpki_probe_cb);

    rc = NGX_DECLINED;

    if (X509_verify_cert(xs) == 1) {
        chain = X509_STORE_CTX_get0_chain(xs);

        if (sk_X509_num(chain) == 2
            && X509_cmp(sk_X509_value(chain, 1), root) == 0)
        {
            rc = NGX_OK;
        }
    }

done:

    X509_STORE_CTX_free(xs);
    X509_STORE_free(store);
    AUTHORITY_KEYID_free(akid);
    ASN1_BIT_STRING_free(ku);
    EVP_PKEY_free(key);
    X509_free(leaf);
    ERR_clear_error();

    return rc;
}


static int
ngx_http_sekisho_jpki_probe_cb(int ok, X509_STORE_CTX *xs)
{
    if (!ok && X509_STORE_CTX_get_error_depth(xs) == 0
        && X509_STORE_CTX_get_error(xs) == X509_V_ERR_CERT_SIGNATURE_FAILURE)
    {
        return 1;
    }

    return ok;
}


void
ngx_http_sekisho_jpki_ca_free(ngx_http_sekisho_jpki_ca_t *ca)
{
    ngx_uint_t  i;

    for (i = 0; i < ca->nfast; i++) {
        free(ca->fast[i].subject);
        EVP_PKEY_CTX_free(ca->fast[i].verify);
    }

    free(ca->fast);
    ca->fast = NULL;
    ca->nfast = 0;

    if (ca->store) {
        X509_STORE_free(ca->store);
        ca->store = NULL;
    }

    if (ca->roots) {
        sk_X509_pop_free(ca->roots, X509_free);
        ca->roots = NULL;
    }
}


time_t
ngx_http_sekisho_jpki_time(const ASN1_TIME *t)
{
    struct tm  tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return (time_t) -1;
    }

    return (time_t) timegm(&tm);
}
