
/*
 * Copyright (C) Sekisho authors
 *
 * The login's path.  OpenSSL 3.0 takes some 200 us to parse a
 * certificate, a login's whole budget, so a certificate of the JPKI
 * profile is read and chained without d2i_X509, and one seen again is
 * neither read nor chained again for a minute.  The card signs any
 * DigestInfo it is given, so the hash inside a signature is checked,
 * not assumed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_der.h"
#include "ngx_http_sekisho_jpki_chain.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_jpki_verify.h"


static void ngx_http_sekisho_jpki_slot_clear(
    ngx_http_sekisho_jpki_slot_t *slot);
static ngx_int_t ngx_http_sekisho_jpki_fast_facts(
    ngx_http_sekisho_jpki_slot_t *s, ngx_http_sekisho_jpki_der_t *d);
static ngx_int_t ngx_http_sekisho_jpki_full_facts(
    ngx_http_sekisho_jpki_slot_t *s, X509 *x);
static const ASN1_ITEM *ngx_http_sekisho_jpki_ext_item(ngx_uint_t ext);
static EVP_PKEY_CTX *ngx_http_sekisho_jpki_verifier(EVP_PKEY *key);
static ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_slot_chain(
    ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_slot_t *s,
    X509 **issuer, int *error, ngx_uint_t *fast);
static ngx_int_t ngx_http_sekisho_jpki_fast_chain(
    ngx_http_sekisho_jpki_ca_t *ca, ngx_http_sekisho_jpki_der_t *d,
    X509_NAME *subject, time_t now, X509 **issuer);


/*
 * JPKI certificates are about 1.5 KB: a bigger one is no card's, and
 * would only fill the per-worker cache.
 */
#define NGX_HTTP_SEKISHO_CERT_MAX   8192

/* the largest signature opened: RSA-4096 (the recovered block's room) */
#define NGX_HTTP_SEKISHO_SIG_MAX    512

/* a chain result is trusted this long, then built again */
#define NGX_HTTP_SEKISHO_CHAIN_TTL  60


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

    return ngx_http_sekisho_jpki_check_leaf(chk, s->key_usage, out);
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
