
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
#include "ngx_http_sekisho_jpki_der.h"
#include "ngx_http_sekisho_jpki_verify.h"
#include "ngx_http_sekisho_der_names.h"
#include "ngx_http_sekisho_crl_set.h"
#include "ngx_http_sekisho_session_token.h"


static ngx_int_t ngx_http_sekisho_jpki_root_prepare(
    ngx_http_sekisho_jpki_ca_t *ca, X509 *x);
static ngx_int_t ngx_http_sekisho_jpki_root_probe(X509 *root);
static int ngx_http_sekisho_jpki_probe_cb(int ok, X509_STORE_CTX *xs);
static ngx_int_t ngx_http_sekisho_jpki_fast_facts(
    ngx_http_sekisho_jpki_slot_t *s, ngx_http_sekisho_jpki_der_t *d);
static ngx_int_t ngx_http_sekisho_jpki_full_facts(
    ngx_http_sekisho_jpki_slot_t *s, X509 *x);
static const ASN1_ITEM *ngx_http_sekisho_jpki_ext_item(ngx_uint_t ext);
static EVP_PKEY_CTX *ngx_http_sekisho_jpki_verifier(EVP_PKEY *key);
static ngx_int_t ngx_http_sekisho_jpki_fast_chain(
    ngx_http_sekisho_jpki_ca_t *ca, ngx_http_sekisho_jpki_der_t *d,
    X509_NAME *subject, time_t now, X509 **issuer);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_slot_chain(
    ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_slot_t *s,
    X509 **issuer, int *error, ngx_uint_t *fast);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_chain_kind(
    ngx_http_sekisho_jpki_check_t *chk, X509 *cert, X509 **issuer,
    int *error);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_chain(
    ngx_http_sekisho_jpki_ca_t *ca, X509 *cert, time_t now, X509 **issuer,
    int *error);
static void ngx_http_sekisho_jpki_slot_clear(
    ngx_http_sekisho_jpki_slot_t *slot);
static ngx_int_t ngx_http_sekisho_jpki_times(time_t now, time_t not_before,
    time_t not_after, X509 *issuer);
static time_t ngx_http_sekisho_jpki_time(const ASN1_TIME *t);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_leaf(
    ngx_http_sekisho_jpki_check_t *chk, uint32_t ku,
    ngx_http_sekisho_jpki_cert_t *out);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_revocation(
    ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_cert_t *out);
static ngx_uint_t ngx_http_sekisho_jpki_listed(
    ngx_http_sekisho_jpki_check_t *chk, X509 *issuer,
    const ASN1_INTEGER *serial, ngx_str_t *crldp, ngx_uint_t ca,
    ngx_str_t *first, ngx_http_sekisho_crlix_row_t **row);
static void ngx_http_sekisho_jpki_x509_crldp(X509 *x, ngx_str_t *crldp);


#define NGX_HTTP_SEKISHO_OID_JPKI  "1.2.392.200149.8.5.5."

/*
 * JPKI certificates are about 1.5 KB: a bigger one is no card's, and
 * would only fill the per-worker cache.
 */
#define NGX_HTTP_SEKISHO_CERT_MAX   8192

/* the largest signature opened: RSA-4096 (the recovered block's room) */
#define NGX_HTTP_SEKISHO_SIG_MAX    512

/* a chain result is trusted this long, then built again */
#define NGX_HTTP_SEKISHO_CHAIN_TTL  60

/* the distribution point names of a certificate looked up */
#define NGX_HTTP_SEKISHO_JPKI_DPS   8


struct ngx_http_sekisho_jpki_slot_s {
    u_char                          hash[32];  /* SHA-256 of the DER */
    size_t                          len;       /* 0: the slot is empty */
    u_char                         *der;       /* fast path: to chain again */
    X509_NAME                      *subject;   /* fast path */
    X509                           *cert;      /* or OpenSSL's reading */

    /* what the checks need, however it was read */
    ASN1_INTEGER                   *serial;
    time_t                          not_before;
    time_t                          not_after;
    uint32_t                        key_usage;
    EVP_PKEY_CTX                   *verify;    /* ready for the signature */
    size_t                          sig_len;

    /* per kind (auth, sign): the last chain built and when */
    ngx_http_sekisho_jpki_ca_t     *ca[2];
    ngx_http_sekisho_jpki_result_e  rc[2];
    X509                           *issuer[2];
    int                             error[2];
    ngx_uint_t                      fast[2];
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
    free(slot->der);
    X509_NAME_free(slot->subject);
    X509_free(slot->cert);
    ASN1_INTEGER_free(slot->serial);
    EVP_PKEY_CTX_free(slot->verify);
    ngx_memzero(slot, sizeof(ngx_http_sekisho_jpki_slot_t));
}


/*
 * The slot of a certificate from its DER, read if it was not there
 * (NULL: not a certificate).  Direct-mapped by the DER's hash: a
 * collision only costs a read.  The JPKI profile is read without
 * OpenSSL's d2i_X509 (ngx_http_sekisho_jpki_der.c); the few parts that
 * reader leaves opaque go through OpenSSL's own decoders; anything
 * else is parsed by OpenSSL whole.
 */

ngx_http_sekisho_jpki_slot_t *
ngx_http_sekisho_jpki_read(ngx_http_sekisho_jpki_cache_t *cache,
    u_char *der, size_t len)
{
    u_char                         hash[32];
    X509                          *x;
    uint32_t                       h;
    const u_char                  *p;
    ngx_http_sekisho_jpki_der_t    d;
    ngx_http_sekisho_jpki_slot_t  *s;

    if (len > NGX_HTTP_SEKISHO_CERT_MAX
        || EVP_Digest(der, len, hash, NULL, EVP_sha256(), NULL) != 1)
    {
        ERR_clear_error();
        return NULL;
    }

    h = ((uint32_t) hash[0] << 24) | (hash[1] << 16) | (hash[2] << 8)
        | hash[3];
    s = &cache->slots[h % cache->size];

    if (s->len == len && ngx_memcmp(s->hash, hash, 32) == 0) {
        return s;
    }

    ngx_http_sekisho_jpki_slot_clear(s);

    if (ngx_http_sekisho_jpki_der_read(der, len, &d) == NGX_OK
        && ngx_http_sekisho_jpki_fast_facts(s, &d) == NGX_OK)
    {
        /* kept to be chained again; OpenSSL's reading is kept instead */
        s->der = malloc(len);
        if (s->der == NULL) {
            ngx_http_sekisho_jpki_slot_clear(s);
            return NULL;
        }

        ngx_memcpy(s->der, der, len);

    } else {
        ngx_http_sekisho_jpki_slot_clear(s);

        p = der;
        x = d2i_X509(NULL, &p, (long) len);

        if (x == NULL || p != der + len
            || ngx_http_sekisho_jpki_full_facts(s, x) != NGX_OK)
        {
            X509_free(x);
            ngx_http_sekisho_jpki_slot_clear(s);
            ERR_clear_error();
            return NULL;
        }

        s->cert = x;
    }

    s->len = len;
    ngx_memcpy(s->hash, hash, 32);
    ERR_clear_error();

    return s;
}


/*
 * The parts the profile reader leaves opaque, each through OpenSSL's
 * decoder for it, so that nothing OpenSSL would refuse to parse gets
 * through: the subject, the informational extensions, the serial and
 * the RSA key (d2i_PublicKey reads an RSAPublicKey without the
 * provider decoders).
 */

static ngx_int_t
ngx_http_sekisho_jpki_fast_facts(ngx_http_sekisho_jpki_slot_t *s,
    ngx_http_sekisho_jpki_der_t *d)
{
    int               j;
    void             *v;
    EVP_PKEY         *key;
    ngx_int_t         n;
    ngx_uint_t        i;
    DIST_POINT       *dp;
    const u_char     *p;
    const ASN1_ITEM  *it;

    /* kept: compared with the root's name when chained */
    p = d->subject.data;
    s->subject = d2i_X509_NAME(NULL, &p, (long) d->subject.len);

    if (s->subject == NULL || X509_NAME_entry_count(s->subject) == 0
        || p != d->subject.data + d->subject.len)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
        if (d->ext[i].len == 0) {
            continue;
        }

        it = ngx_http_sekisho_jpki_ext_item(i);
        p = d->ext[i].data;
        v = ASN1_item_d2i(NULL, &p, (long) d->ext[i].len, it);

        n = (v != NULL && p == d->ext[i].data + d->ext[i].len);

        /* an empty alternative name is refused by the strict checks */
        if (n && (i == NGX_HTTP_SEKISHO_EXT_SAN
                  || i == NGX_HTTP_SEKISHO_EXT_IAN))
        {
            n = (sk_GENERAL_NAME_num((GENERAL_NAMES *) v) > 0);
        }

        /*
         * A distribution point without a full name may make OpenSSL
         * call the certificate invalid: JPKI's carry a full name.
         */
        if (n && i == NGX_HTTP_SEKISHO_EXT_CRLDP) {
            for (j = 0; j < sk_DIST_POINT_num((CRL_DIST_POINTS *) v); j++) {
                dp = sk_DIST_POINT_value((CRL_DIST_POINTS *) v, j);

                if (dp->distpoint == NULL || dp->distpoint->type != 0
                    || sk_GENERAL_NAME_num(dp->distpoint->name.fullname)
                       <= 0)
                {
                    n = 0;
                    break;
                }
            }
        }

        ASN1_item_free(v, it);

        if (!n) {
            return NGX_DECLINED;
        }
    }

    p = d->serial.data;
    s->serial = d2i_ASN1_INTEGER(NULL, &p, (long) d->serial.len);

    p = d->rsa_key.data;
    key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long) d->rsa_key.len);
    s->verify = key ? ngx_http_sekisho_jpki_verifier(key) : NULL;
    EVP_PKEY_free(key);

    if (s->serial == NULL || s->verify == NULL) {
        return NGX_DECLINED;
    }

    s->not_before = d->not_before;
    s->not_after = d->not_after;
    s->key_usage = d->key_usage;
    s->sig_len = 256;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_jpki_full_facts(ngx_http_sekisho_jpki_slot_t *s, X509 *x)
{
    EVP_PKEY  *key;

    s->serial = ASN1_INTEGER_dup(X509_get0_serialNumber(x));
    s->not_before = ngx_http_sekisho_jpki_time(X509_get0_notBefore(x));
    s->not_after = ngx_http_sekisho_jpki_time(X509_get0_notAfter(x));
    s->key_usage = X509_get_key_usage(x);

    if (s->serial == NULL || s->not_before == (time_t) -1
        || s->not_after == (time_t) -1)
    {
        return NGX_ERROR;
    }

    /* another algorithm or a key over 4096 bits: refused as such */
    key = X509_get0_pubkey(x);

    if (key && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
        && EVP_PKEY_get_size(key) <= NGX_HTTP_SEKISHO_SIG_MAX)
    {
        s->verify = ngx_http_sekisho_jpki_verifier(key);
        s->sig_len = EVP_PKEY_get_size(key);

        if (s->verify == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static const ASN1_ITEM *
ngx_http_sekisho_jpki_ext_item(ngx_uint_t ext)
{
    switch (ext) {

    case NGX_HTTP_SEKISHO_EXT_SKI:
        return ASN1_ITEM_rptr(ASN1_OCTET_STRING);

    case NGX_HTTP_SEKISHO_EXT_SAN:
    case NGX_HTTP_SEKISHO_EXT_IAN:
        return ASN1_ITEM_rptr(GENERAL_NAMES);

    case NGX_HTTP_SEKISHO_EXT_CRLDP:
        return ASN1_ITEM_rptr(CRL_DIST_POINTS);

    case NGX_HTTP_SEKISHO_EXT_POLICIES:
        return ASN1_ITEM_rptr(CERTIFICATEPOLICIES);

    case NGX_HTTP_SEKISHO_EXT_EKU:
        return ASN1_ITEM_rptr(EXTENDED_KEY_USAGE);

    default: /* NGX_HTTP_SEKISHO_EXT_AIA */
        return ASN1_ITEM_rptr(AUTHORITY_INFO_ACCESS);
    }
}


/* a context ready to open a PKCS#1 v1.5 signature block */

static EVP_PKEY_CTX *
ngx_http_sekisho_jpki_verifier(EVP_PKEY *key)
{
    EVP_PKEY_CTX  *pc;

    pc = EVP_PKEY_CTX_new(key, NULL);

    if (pc == NULL
        || EVP_PKEY_verify_recover_init(pc) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1)
    {
        EVP_PKEY_CTX_free(pc);
        ERR_clear_error();
        return NULL;
    }

    return pc;
}


/*
 * The whole check of a certificate read for a login, in the order the
 * audit reasons are most useful: is it ours at all, is it current, is
 * it the right kind of key, is it revoked.  A chain built less than a
 * minute ago for the same authority holds; the times are checked every
 * time.
 */

ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_check_slot(ngx_http_sekisho_jpki_check_t *chk,
    ngx_http_sekisho_jpki_slot_t *s, ngx_http_sekisho_jpki_cert_t *out)
{
    ngx_uint_t                    k;
    ngx_http_sekisho_jpki_der_t   d;

    k = chk->kind;

    if (s->ca[k] != chk->ca
        || chk->now - s->checked[k] >= NGX_HTTP_SEKISHO_CHAIN_TTL
        || chk->now < s->checked[k])
    {
        s->rc[k] = ngx_http_sekisho_jpki_slot_chain(chk, s, &s->issuer[k],
                                                    &s->error[k],
                                                    &s->fast[k]);
        s->ca[k] = chk->ca;
        s->checked[k] = chk->now;
    }

    out->issuer = s->issuer[k];
    out->serial = s->serial;
    out->not_after = s->not_after;
    out->revocation = NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED;
    out->fast = s->fast[k];
    out->error = s->error[k];
    out->crl = NULL;
    ngx_str_null(&out->dp);

    if (s->rc[k] != NGX_HTTP_SEKISHO_JPKI_OK) {
        return s->rc[k];
    }

    /* the distribution points, from the DER the fast path reads */
    if (s->cert) {
        ngx_http_sekisho_jpki_x509_crldp(s->cert, &out->crldp);

    } else if (ngx_http_sekisho_jpki_der_read(s->der, s->len, &d) == NGX_OK) {
        out->crldp = d.ext[NGX_HTTP_SEKISHO_EXT_CRLDP];

    } else {
        ngx_str_null(&out->crldp);
    }

    if (ngx_http_sekisho_jpki_times(chk->now, s->not_before, s->not_after,
                                    out->issuer)
        != NGX_OK)
    {
        return NGX_HTTP_SEKISHO_JPKI_VALIDITY;
    }

    return ngx_http_sekisho_jpki_leaf(chk, s->key_usage, out);
}


/*
 * The fast path when the certificate fits it; otherwise, or when it
 * fails, OpenSSL's verifier says what is wrong, and whether it is the
 * card's other certificate: right person, wrong key.
 */

static ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_slot_chain(ngx_http_sekisho_jpki_check_t *chk,
    ngx_http_sekisho_jpki_slot_t *s, X509 **issuer, int *error,
    ngx_uint_t *fast)
{
    const u_char                 *p;
    ngx_http_sekisho_jpki_der_t   d;

    *issuer = NULL;
    *error = 0;
    *fast = 0;

    if (s->cert == NULL) {
        if (ngx_http_sekisho_jpki_der_read(s->der, s->len, &d) == NGX_OK
            && ngx_http_sekisho_jpki_fast_chain(chk->ca, &d, s->subject,
                                                chk->now, issuer)
               == NGX_OK)
        {
            *fast = 1;
            return NGX_HTTP_SEKISHO_JPKI_OK;
        }

        p = s->der;
        s->cert = d2i_X509(NULL, &p, (long) s->len);

        if (s->cert == NULL || p != s->der + s->len) {
            X509_free(s->cert);
            s->cert = NULL;
            ERR_clear_error();
            return NGX_HTTP_SEKISHO_JPKI_BAD_CERT;
        }

        free(s->der);
        s->der = NULL;
    }

    return ngx_http_sekisho_jpki_chain_kind(chk, s->cert, issuer, error);
}


/*
 * The chain of a JPKI certificate: the one root of the authority with
 * the same name and key identifier that is currently valid (two such
 * roots: OpenSSL picks one, so the fast path does not), whose key
 * signed the certificate, which is itself current and not self-issued.
 * NGX_DECLINED hands the certificate to OpenSSL's verifier, also to say
 * why it failed.
 */

static ngx_int_t
ngx_http_sekisho_jpki_fast_chain(ngx_http_sekisho_jpki_ca_t *ca,
    ngx_http_sekisho_jpki_der_t *d, X509_NAME *subject, time_t now,
    X509 **issuer)
{
    u_char                         hash[32];
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_sekisho_jpki_root_t  *r, *root;

    root = NULL;

    for (i = 0; i < ca->nfast; i++) {
        r = &ca->fast[i];

        if (r->subject_len != d->issuer.len
            || ngx_memcmp(r->subject, d->issuer.data, d->issuer.len) != 0
            || (size_t) ASN1_STRING_length(r->key_id) != d->key_id.len
            || ngx_memcmp(ASN1_STRING_get0_data(r->key_id), d->key_id.data,
                          d->key_id.len)
               != 0
            || X509_cmp_time(X509_get0_notBefore(r->cert), &now) > 0
            || X509_cmp_time(X509_get0_notAfter(r->cert), &now) < 0)
        {
            continue;
        }

        if (root) {
            ERR_clear_error();
            return NGX_DECLINED;
        }

        root = r;
    }

    rc = NGX_DECLINED;

    /*
     * A subject equal to the issuer's name as OpenSSL compares names
     * (not only byte for byte) is self-issued, which OpenSSL may take
     * for self-signed: the full path judges it.
     */

    if (root
        && X509_NAME_cmp(subject, X509_get_subject_name(root->cert)) != 0
        && root->sig_len == d->signature.len
        && EVP_Digest(d->tbs.data, d->tbs.len, hash, NULL, EVP_sha256(), NULL)
           == 1
        && EVP_PKEY_verify(root->verify, d->signature.data, d->signature.len,
                           hash, 32)
           == 1
        && ngx_http_sekisho_jpki_times(now, d->not_before, d->not_after, NULL)
           == NGX_OK)
    {
        *issuer = root->cert;
        rc = NGX_OK;
    }

    ERR_clear_error();

    return rc;
}


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

    return ngx_http_sekisho_jpki_leaf(chk, X509_get_key_usage(cert), out);
}


/*
 * OpenSSL's chain to the wanted kind's authority; a certificate of the
 * other kind's is the card's other certificate: right person, wrong
 * key.
 */

static ngx_http_sekisho_jpki_result_e
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


/*
 * Valid from not_before to before not_after, as X509_cmp_time() has
 * it, and so is the issuer, when given.
 */

static ngx_int_t
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


static time_t
ngx_http_sekisho_jpki_time(const ASN1_TIME *t)
{
    struct tm  tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return (time_t) -1;
    }

    return (time_t) timegm(&tm);
}


/*
 * The authentication key signs (digitalSignature); the signing key
 * also commits (nonRepudiation).  Anything that may sign certificates
 * or CRLs is not a card's key.
 */

static ngx_http_sekisho_jpki_result_e
ngx_http_sekisho_jpki_leaf(ngx_http_sekisho_jpki_check_t *chk, uint32_t ku,
    ngx_http_sekisho_jpki_cert_t *out)
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


/*
 * A distribution point's name for the log: a directoryName as RFC 2253
 * text (UTF-8 kept), a URI as it is.  The length written.
 */

size_t
ngx_http_sekisho_jpki_dp_text(ngx_str_t *dp, u_char *buf, size_t size)
{
    int             len;
    BIO            *bio;
    char           *text;
    GENERAL_NAME   *gn;
    const u_char   *p;

    p = dp->data;
    gn = d2i_GENERAL_NAME(NULL, &p, (long) dp->len);
    bio = BIO_new(BIO_s_mem());

    if (gn == NULL || bio == NULL || size == 0) {
        GENERAL_NAME_free(gn);
        BIO_free(bio);
        ERR_clear_error();
        return 0;
    }

    if (gn->type == GEN_DIRNAME) {
        X509_NAME_print_ex(bio, gn->d.directoryName, 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);

    } else if (gn->type == GEN_URI) {
        BIO_write(bio, ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                  ASN1_STRING_length(gn->d.uniformResourceIdentifier));
    }

    len = (int) BIO_get_mem_data(bio, &text);
    len = ngx_min((size_t) len, size);
    ngx_memcpy(buf, text, len);

    GENERAL_NAME_free(gn);
    BIO_free(bio);
    ERR_clear_error();

    return len;
}


/* the DER value of a certificate's cRLDistributionPoints, or empty */

static void
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
ngx_http_sekisho_jpki_check_signature(ngx_http_sekisho_jpki_slot_t *slot,
    u_char *sig, size_t len, u_char *digest)
{
    u_char                           info[NGX_HTTP_SEKISHO_SIG_MAX];
    size_t                           n;
    ngx_http_sekisho_jpki_result_e   rc;

    /* OpenSSL 3.0 writes the block whatever room it is told of */
    if (slot->verify == NULL || slot->sig_len > sizeof(info)) {
        return NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM;
    }

    if (len != slot->sig_len) {
        return NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE;
    }

    n = sizeof(info);

    if (EVP_PKEY_verify_recover(slot->verify, info, &n, sig, len) != 1) {
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
ngx_http_sekisho_jpki_serial(const ASN1_INTEGER *ai, u_char *serial,
    size_t max)
{
    int             n;
    BIGNUM         *bn;

    bn = ASN1_INTEGER_to_BN(ai, NULL);
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
