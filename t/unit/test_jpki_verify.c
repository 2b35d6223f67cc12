
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the JPKI checks with keys and certificates made here:
 * a signature as the card makes it (PKCS#1 v1.5 over a DigestInfo the
 * host built), the hash inside it enforced, certificate kinds and
 * times (which HTTP tests cannot move), the identity of a signing
 * certificate, and percent-encoding.  Every certificate a login
 * checks is checked twice, by the login's path (the fast one when the
 * certificate fits the JPKI profile) and by OpenSSL's verifier alone,
 * and the two must agree.
 *
 * uses: ngx_http_sekisho_jpki_verify.c ngx_http_sekisho_jpki_chain.c
 * uses: ngx_http_sekisho_jpki_policy.c ngx_http_sekisho_jpki_ca.c
 * uses: ngx_http_sekisho_jpki_identity.c ngx_http_sekisho_jpki_der.c
 * uses: ngx_http_sekisho_der.c ngx_http_sekisho_der_names.c
 * uses: ngx_http_sekisho_crl_index.c ngx_http_sekisho_crl_der.c
 * uses: ngx_http_sekisho_crl_pem.c
 * uses: ngx_http_sekisho_crl_set.c ngx_http_sekisho_text.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_verify.h"
#include "ngx_http_sekisho_jpki_chain.h"
#include "ngx_http_sekisho_jpki_identity.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_crl_set.h"
#include "tap.h"


static const u_char  sha256_prefix[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

static const u_char  sha1_prefix[] = {
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
    0x1a, 0x05, 0x00, 0x04, 0x14
};


static EVP_PKEY  *ca_key, *user_key;


static ngx_http_sekisho_jpki_slot_t *
read_cert(ngx_http_sekisho_jpki_cache_t *cache, X509 *x)
{
    int                            len;
    u_char                        *der;
    ngx_http_sekisho_jpki_slot_t  *slot;

    der = NULL;
    len = i2d_X509(x, &der);
    slot = ngx_http_sekisho_jpki_read(cache, der, (size_t) len);
    OPENSSL_free(der);

    return slot;
}


static void
make_ca(ngx_http_sekisho_jpki_ca_t *ca, X509 *root)
{
    char  err[128];

    memset(ca, 0, sizeof(ngx_http_sekisho_jpki_ca_t));
    ca->store = X509_STORE_new();
    ca->roots = sk_X509_new_null();
    X509_up_ref(root);

    if (ngx_http_sekisho_jpki_ca_add(ca, root, err, sizeof(err)) != NGX_OK) {
        printf("# cannot add the root: %s\n", err);
    }
}


/* a login's check by one authority, revocation off, now */

static void
check_init(ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_ca_t *ca)
{
    memset(chk, 0, sizeof(ngx_http_sekisho_jpki_check_t));
    chk->ca = ca;
    chk->kind = NGX_HTTP_SEKISHO_JPKI_AUTH;
    chk->revocation = NGX_HTTP_SEKISHO_REVOKE_OFF;
    chk->now = time(NULL);
}


/*
 * The login's check of a certificate, compared with OpenSSL's: the
 * same verdict, issuer and revocation; "fast" says which path the
 * login took.
 */

static ngx_http_sekisho_jpki_result_e
check_both(ngx_http_sekisho_jpki_check_t *chk, X509 *x, ngx_uint_t fast,
    const char *name)
{
    char                             what[160];
    ngx_http_sekisho_jpki_slot_t    *slot;
    ngx_http_sekisho_jpki_cert_t     a, b;
    ngx_http_sekisho_jpki_cache_t   *cache;
    ngx_http_sekisho_jpki_result_e   ra, rb;

    cache = ngx_http_sekisho_jpki_cache_create(4);
    slot = read_cert(cache, x);

    if (slot == NULL) {
        ok(0, name);
        ngx_http_sekisho_jpki_cache_free(cache);
        return NGX_HTTP_SEKISHO_JPKI_BAD_CERT;
    }

    ra = ngx_http_sekisho_jpki_check_slot(chk, slot, &a);
    rb = ngx_http_sekisho_jpki_check_cert(chk, x, &b);

    snprintf(what, sizeof(what), "%s: OpenSSL's verifier agrees", name);
    is_int(ra, rb, what);
    snprintf(what, sizeof(what), "%s: %s", name,
             fast ? "checked without d2i_X509" : "checked by OpenSSL");
    is_int((int) a.fast, (int) fast, what);

    if (ra == NGX_HTTP_SEKISHO_JPKI_OK) {
        snprintf(what, sizeof(what), "%s: same issuer, serial, expiry and "
                 "revocation", name);
        ok(a.issuer == b.issuer && a.revocation == b.revocation
           && a.not_after == b.not_after
           && ASN1_INTEGER_cmp(a.serial, b.serial) == 0, what);
    }

    ngx_http_sekisho_jpki_cache_free(cache);

    return ra;
}


/* what the card does: type-01 padding and the private operation */

static size_t
card_sign(EVP_PKEY *key, const u_char *info, size_t len, u_char *sig)
{
    size_t         n;
    EVP_PKEY_CTX  *pc;

    pc = EVP_PKEY_CTX_new(key, NULL);
    n = 512;

    if (EVP_PKEY_sign_init(pc) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_sign(pc, sig, &n, info, len) != 1)
    {
        n = 0;
    }

    EVP_PKEY_CTX_free(pc);

    return n;
}


static void
add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
    X509V3_CTX       v3;
    X509_EXTENSION  *ext;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
}


static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long from, long days, const char *ku, const char *san)
{
    X509  *x;

    x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long) (cn[0] * 256 + cn[1]));
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), from + days * 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "C", MBSTRING_ASC,
                               (u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (u_char *) cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                   : X509_get_subject_name(x));

    add_ext(issuer ? issuer : x, x, NID_subject_key_identifier, "hash");
    add_ext(issuer ? issuer : x, x, NID_authority_key_identifier,
            "keyid:always");

    if (issuer == NULL) {
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    }

    add_ext(issuer ? issuer : x, x, NID_key_usage, ku);

    if (san) {
        add_ext(issuer ? issuer : x, x, NID_subject_alt_name, san);
    }

    X509_sign(x, ikey ? ikey : key, EVP_sha256());

    return x;
}


static void
test_signature(X509 *cert)
{
    u_char                          info[64], sig[512], digest[32];
    size_t                          n;
    ngx_http_sekisho_jpki_slot_t   *slot;
    ngx_http_sekisho_jpki_cache_t  *cache;

    cache = ngx_http_sekisho_jpki_cache_create(4);
    slot = read_cert(cache, cert);
    ok(slot != NULL, "the certificate is read");

    if (slot == NULL) {
        ngx_http_sekisho_jpki_cache_free(cache);
        return;
    }

    memset(digest, 0x5a, sizeof(digest));

    memcpy(info, sha256_prefix, sizeof(sha256_prefix));
    memcpy(info + sizeof(sha256_prefix), digest, 32);
    n = card_sign(user_key, info, sizeof(sha256_prefix) + 32, sig);

    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n, digest),
           NGX_HTTP_SEKISHO_JPKI_OK, "a card signature over SHA-256");

    digest[31] ^= 1;
    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n, digest),
           NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE, "over another digest: bad");
    digest[31] ^= 1;

    sig[100] ^= 1;
    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n, digest),
           NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE, "one bit changed: bad");
    sig[100] ^= 1;

    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n - 1, digest),
           NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE, "one byte short: bad");

    /* the card signs a SHA-1 DigestInfo as readily */
    memcpy(info, sha1_prefix, sizeof(sha1_prefix));
    memcpy(info + sizeof(sha1_prefix), digest, 20);
    n = card_sign(user_key, info, sizeof(sha1_prefix) + 20, sig);
    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n, digest),
           NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM, "SHA-1 DigestInfo refused");

    /* a bare hash, no DigestInfo at all */
    n = card_sign(user_key, digest, 32, sig);
    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n, digest),
           NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM, "a bare hash refused");

    /* another key */
    memcpy(info, sha256_prefix, sizeof(sha256_prefix));
    memcpy(info + sizeof(sha256_prefix), digest, 32);
    n = card_sign(ca_key, info, sizeof(sha256_prefix) + 32, sig);
    is_int(ngx_http_sekisho_jpki_check_signature(slot, sig, n, digest),
           NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE, "another key's signature");

    ngx_http_sekisho_jpki_cache_free(cache);
}


static X509_CRL *
make_crl(X509 *ca, EVP_PKEY *key, X509 *revoked)
{
    X509_CRL      *crl;
    ASN1_TIME     *t;
    X509_REVOKED  *rev;

    crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));

    t = X509_gmtime_adj(NULL, -3600);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_gmtime_adj(t, 86400);
    X509_CRL_set1_nextUpdate(crl, t);

    if (revoked) {
        rev = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(revoked));
        X509_gmtime_adj(t, -1800);
        X509_REVOKED_set_revocationDate(rev, t);
        X509_CRL_add0_revoked(crl, rev);
    }

    ASN1_TIME_free(t);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, key, EVP_sha256());

    return crl;
}


static ngx_http_sekisho_crlix_t *index_of_many(X509_CRL **crls, int n,
    X509 *issuer);


/* a revocation index of CRLs, as the gateway builds it, or NULL */

static ngx_http_sekisho_crlix_t *
index_of(X509_CRL *crl, X509 *issuer)
{
    return index_of_many(&crl, 1, issuer);
}


static ngx_http_sekisho_crlix_t *
index_of_many(X509_CRL **crls, int n, X509 *issuer)
{
    int                             i, len;
    u_char                         *der, *p;
    ngx_int_t                       rc;
    const char                     *why;
    ngx_http_sekisho_crlix_t       *ix;
    ngx_http_sekisho_crl_root_t     root;
    ngx_http_sekisho_crl_set_t      set;
    ngx_http_sekisho_crl_source_t   src;

    memset(&set, 0, sizeof(set));
    memset(&src, 0, sizeof(src));
    src.path = "test.crl";

    root.cert = issuer;
    ngx_http_sekisho_crl_root_id(issuer, root.id);
    set.roots = &root;
    set.nroots = 1;
    set.now = time(NULL);

    rc = NGX_OK;

    for (i = 0; i < n && rc == NGX_OK; i++) {
        len = i2d_X509_CRL(crls[i], NULL);
        der = malloc(len);
        p = der;
        i2d_X509_CRL(crls[i], &p);
        rc = ngx_http_sekisho_crl_set_add_der(&set, der, len, &src, &why);
        free(der);

        if (rc != NGX_OK) {
            printf("# CRL %d refused: %s\n", i, why ? why : "?");
        }
    }

    ix = calloc(1, sizeof(ngx_http_sekisho_crlix_t));

    if (rc != NGX_OK
        || ngx_http_sekisho_crl_set_finish(&set) != NGX_OK
        || ngx_http_sekisho_crlix_open(ix, set.index, set.index_len)
           != NGX_OK)
    {
        free(ix);
        ix = NULL;

    } else {
        set.index = NULL;       /* kept by the index */
    }

    ngx_http_sekisho_crl_set_free(&set);

    return ix;
}


static void
index_free(ngx_http_sekisho_crlix_t *ix)
{
    if (ix) {
        free(ix->base);
        free(ix);
    }
}


static void
test_certificates(X509 *ca, X509 *auth)
{
    X509                           *sign, *ku, *other_ca, *stranger, *forged,
                                   *odd, *big, *certsign, *self;
    EVP_PKEY                       *other, *big_key;
    X509_CRL                       *crl;
    ngx_http_sekisho_jpki_ca_t      cas, others;
    ngx_http_sekisho_jpki_check_t   chk;

    make_ca(&cas, ca);
    ok(cas.nfast == 1, "the root is ready for the fast path");

    other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    other_ca = make_cert("OTHER CA", other, NULL, NULL, -86400, 3650,
                         "critical,keyCertSign,cRLSign", NULL);
    make_ca(&others, other_ca);

    sign = make_cert("SIGN", user_key, ca, ca_key, -86400, 365,
                     "critical,digitalSignature,nonRepudiation", NULL);
    ku = make_cert("KU", user_key, ca, ca_key, -86400, 365,
                   "critical,keyEncipherment", NULL);
    self = make_cert("TEST CA", user_key, ca, ca_key, -86400, 365,
                     "critical,digitalSignature", NULL);
    certsign = make_cert("CERTSIGN", user_key, ca, ca_key, -86400, 365,
                         "critical,digitalSignature,keyCertSign", NULL);
    stranger = make_cert("STRANGER", user_key, other_ca, other, -86400, 365,
                         "critical,digitalSignature", NULL);

    /* the CA's name and key id, another key's signature */
    forged = make_cert("FORGED", user_key, ca, other, -86400, 365,
                       "critical,digitalSignature", NULL);

    /* outside the profile: an extension the fast path does not know */
    odd = make_cert("ODD", user_key, ca, ca_key, -86400, 365,
                    "critical,digitalSignature", NULL);
    add_ext(ca, odd, NID_netscape_comment, "not in the JPKI profile");
    X509_sign(odd, ca_key, EVP_sha256());

    /* outside the profile: RSA-3072 */
    big_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
    big = make_cert("BIG", big_key, ca, ca_key, -86400, 365,
                    "critical,digitalSignature", NULL);

    check_init(&chk, &cas);

    is_int(check_both(&chk, auth, 1, "auth"),
           NGX_HTTP_SEKISHO_JPKI_OK, "an auth certificate of the CA");
    is_int(check_both(&chk, odd, 0, "odd extension"),
           NGX_HTTP_SEKISHO_JPKI_OK,
           "outside the profile, OpenSSL's path lets it in");
    is_int(check_both(&chk, big, 0, "RSA-3072"),
           NGX_HTTP_SEKISHO_JPKI_OK, "and an RSA-3072 key likewise");

    is_int(check_both(&chk, sign, 1, "sign for auth"),
           NGX_HTTP_SEKISHO_JPKI_WRONG_CERT,
           "nonRepudiation: a signing certificate, not for login");
    is_int(check_both(&chk, ku, 1, "keyEncipherment"),
           NGX_HTTP_SEKISHO_JPKI_KEY_USAGE, "keyEncipherment only: refused");
    is_int(check_both(&chk, certsign, 0, "keyCertSign"),
           NGX_HTTP_SEKISHO_JPKI_UNTRUSTED,
           "a non-CA key that may sign certificates: untrusted, as OpenSSL "
           "says");
    check_both(&chk, self, 0, "self-issued");
    is_int(check_both(&chk, stranger, 0, "stranger"),
           NGX_HTTP_SEKISHO_JPKI_UNTRUSTED, "another CA's certificate");
    is_int(check_both(&chk, forged, 0, "forged"),
           NGX_HTTP_SEKISHO_JPKI_UNTRUSTED,
           "the CA's name and key id over another key's signature: refused");

    chk.other = &others;
    is_int(check_both(&chk, stranger, 0, "other kind"),
           NGX_HTTP_SEKISHO_JPKI_WRONG_CERT,
           "one of the other kind's CA: the wrong certificate");
    chk.other = NULL;

    chk.now = time(NULL) + 400 * 86400;
    is_int(check_both(&chk, auth, 0, "expired"),
           NGX_HTTP_SEKISHO_JPKI_VALIDITY, "a year and more later: expired");

    chk.now = time(NULL) - 2 * 86400;
    is_int(check_both(&chk, auth, 0, "not yet valid"),
           NGX_HTTP_SEKISHO_JPKI_VALIDITY, "before it was issued: not valid");

    chk.now = time(NULL);
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_REQUIRE;
    is_int(check_both(&chk, auth, 1, "no CRL"),
           NGX_HTTP_SEKISHO_JPKI_CRL_STALE, "require without a CRL: refused");

    crl = make_crl(ca, ca_key, auth);
    chk.crlix = index_of(crl, ca);
    ok(chk.crlix != NULL, "the CRL indexed");

    is_int(check_both(&chk, auth, 1, "revoked"),
           NGX_HTTP_SEKISHO_JPKI_REVOKED, "listed in the CRL: revoked");
    is_int(check_both(&chk, ku, 1, "keyEncipherment, CRL"),
           NGX_HTTP_SEKISHO_JPKI_KEY_USAGE,
           "key usage is judged before revocation");

    X509_CRL_free(crl);
    index_free(chk.crlix);
    crl = make_crl(ca, ca_key, NULL);
    chk.crlix = index_of(crl, ca);

    is_int(check_both(&chk, auth, 1, "good"),
           NGX_HTTP_SEKISHO_JPKI_OK, "not in a current CRL: good");
    is_int(check_both(&chk, odd, 0, "good, odd"),
           NGX_HTTP_SEKISHO_JPKI_OK, "and by OpenSSL's path too");

    index_free(chk.crlix);
    chk.crlix = NULL;

    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_BEST_EFFORT;
    is_int(check_both(&chk, auth, 1, "best effort"),
           NGX_HTTP_SEKISHO_JPKI_OK, "best effort without a CRL: let in");

    chk.kind = NGX_HTTP_SEKISHO_JPKI_SIGN;
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_OFF;
    is_int(check_both(&chk, sign, 1, "sign"),
           NGX_HTTP_SEKISHO_JPKI_OK, "a signing certificate for signing");
    is_int(check_both(&chk, auth, 1, "auth for sign"),
           NGX_HTTP_SEKISHO_JPKI_KEY_USAGE,
           "an auth certificate cannot sign applications");

    X509_CRL_free(crl);
    X509_free(sign);
    X509_free(ku);
    X509_free(certsign);
    X509_free(self);
    X509_free(stranger);
    X509_free(forged);
    X509_free(odd);
    X509_free(big);
    X509_free(other_ca);
    EVP_PKEY_free(other);
    EVP_PKEY_free(big_key);
    ngx_http_sekisho_jpki_ca_free(&cas);
    ngx_http_sekisho_jpki_ca_free(&others);
}


/* a root as make_cert() makes one, but for what the test changes */

static X509 *
make_root(const char *cn, EVP_PKEY *key, const char *bc, const char *ku,
    long version, long from, long days)
{
    X509  *x;

    x = X509_new();
    X509_set_version(x, version);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long) (from & 0xffff) + 7);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), from + days * 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "C", MBSTRING_ASC,
                               (u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (u_char *) cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    add_ext(x, x, NID_subject_key_identifier, "hash");

    if (bc) {
        add_ext(x, x, NID_basic_constraints, bc);
    }

    if (ku) {
        add_ext(x, x, NID_key_usage, ku);
    }

    X509_sign(x, key, EVP_sha256());

    return x;
}


/*
 * OpenSSL's own answer, apart from the module: the verify error of a
 * certificate under a root alone in a store, with the strict checks
 * the module asks for (X509_V_OK: accepted).
 */

static int
strict_verify(X509 *root, X509 *x)
{
    int              err;
    X509_STORE      *store;
    X509_STORE_CTX  *xs;

    store = X509_STORE_new();
    xs = X509_STORE_CTX_new();
    X509_STORE_add_cert(store, root);
    X509_STORE_CTX_init(xs, store, x, NULL);
    X509_STORE_CTX_set_flags(xs, X509_V_FLAG_X509_STRICT);

    err = (X509_verify_cert(xs) == 1) ? X509_V_OK
                                      : X509_STORE_CTX_get_error(xs);

    X509_STORE_CTX_free(xs);
    X509_STORE_free(store);

    return err;
}


/*
 * Roots OpenSSL's strict checks refuse as issuers are not used by the
 * fast path, and certificates OpenSSL would refuse are not let in by
 * it (found by a review: each of these was let in once).
 */

static void
test_strict_edges(X509 *ca, X509 *auth)
{
    int                             strict;
    char                            err[128];
    X509                           *root, *leaf, *twin, *old, *renewed;
    EVP_PKEY                       *key2, *big;
    X509_CRL                       *crl;
    ngx_http_sekisho_jpki_ca_t      cas;
    ngx_http_sekisho_jpki_slot_t   *slot;
    ngx_http_sekisho_jpki_check_t   chk;
    ngx_http_sekisho_jpki_cache_t  *cache;
    u_char                          sig[600], digest[32];

    check_init(&chk, NULL);

    /* basic constraints not critical: a strict error at depth 1 */
    root = make_root("LAX CA", ca_key, "CA:TRUE",
                     "critical,keyCertSign,cRLSign", 2, -86400, 3650);
    make_ca(&cas, root);
    ok(cas.nfast == 0, "a root with non-critical basic constraints is not "
       "used by the fast path");
    chk.ca = &cas;
    leaf = make_cert("LAX", user_key, root, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    is_int(check_both(&chk, leaf, 0, "under a lax root"),
           NGX_HTTP_SEKISHO_JPKI_UNTRUSTED,
           "its certificates are refused, as OpenSSL refuses them");
    X509_free(leaf);
    ngx_http_sekisho_jpki_ca_free(&cas);
    X509_free(root);

    /*
     * A v1 root with extensions: whether OpenSSL's strict checks take
     * it as an issuer depends on OpenSSL's version, so the answer is
     * asked of the OpenSSL the test runs with.  The fast path must use
     * it exactly when that OpenSSL takes certificates under it, and
     * decide as that OpenSSL decides.
     */
    root = make_root("V1 CA", ca_key, "critical,CA:TRUE",
                     "critical,keyCertSign,cRLSign", 0, -86400, 3650);
    make_ca(&cas, root);
    chk.ca = &cas;
    leaf = make_cert("V1", user_key, root, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    strict = strict_verify(root, leaf);
    printf("# %s: a certificate under a v1 root with extensions: %s (%d)\n",
           OpenSSL_version(OPENSSL_VERSION), strict == X509_V_OK
           ? "accepted" : X509_verify_cert_error_string(strict), strict);
    ok(cas.nfast == (strict == X509_V_OK),
       strict == X509_V_OK
       ? "a v1 root with extensions, which this OpenSSL accepts as an "
         "issuer, is used by the fast path"
       : "a v1 root with extensions, which this OpenSSL refuses as an "
         "issuer, is not used by the fast path");
    is_int(check_both(&chk, leaf, strict == X509_V_OK, "under a v1 root"),
           strict == X509_V_OK ? NGX_HTTP_SEKISHO_JPKI_OK
                               : NGX_HTTP_SEKISHO_JPKI_UNTRUSTED,
           "its certificates are let in exactly when OpenSSL lets them in");
    X509_free(leaf);
    ngx_http_sekisho_jpki_ca_free(&cas);
    X509_free(root);

    /* no key usage at all: refused when the authority is loaded */
    root = make_root("NO KU CA", ca_key, "critical,CA:TRUE", NULL, 2,
                     -86400, 3650);
    memset(&cas, 0, sizeof(cas));
    cas.store = X509_STORE_new();
    cas.roots = sk_X509_new_null();
    X509_up_ref(root);
    is_int(ngx_http_sekisho_jpki_ca_add(&cas, root, err, sizeof(err)),
           NGX_ERROR, "a root without key usage is refused at load");
    ngx_http_sekisho_jpki_ca_free(&cas);
    X509_free(root);

    make_ca(&cas, ca);
    chk.ca = &cas;

    /* a distribution point with no name: invalid to OpenSSL */
    leaf = make_cert("NODP", user_key, ca, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    {
        CRL_DIST_POINTS  *dps;

        dps = sk_DIST_POINT_new_null();
        sk_DIST_POINT_push(dps, DIST_POINT_new());
        X509_add1_ext_i2d(leaf, NID_crl_distribution_points, dps, 0,
                          X509V3_ADD_DEFAULT);
        CRL_DIST_POINTS_free(dps);
    }
    X509_sign(leaf, ca_key, EVP_sha256());
    check_both(&chk, leaf, 0, "an empty distribution point");
    X509_free(leaf);

    /* self-issued as OpenSSL compares names: case and spaces aside */
    leaf = make_cert("test  ca", user_key, ca, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    check_both(&chk, leaf, 0, "a subject equal to the issuer's name");
    X509_free(leaf);

    /* a certificate larger than any card's is not read at all */
    leaf = make_cert("BIG", user_key, ca, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    {
        char  dns[9100];

        memcpy(dns, "DNS:", 4);
        memset(dns + 4, 'a', sizeof(dns) - 5);
        dns[sizeof(dns) - 1] = '\0';
        add_ext(ca, leaf, NID_subject_alt_name, dns);
    }
    X509_sign(leaf, ca_key, EVP_sha256());
    cache = ngx_http_sekisho_jpki_cache_create(4);
    ok(read_cert(cache, leaf) == NULL,
       "a certificate over 8 KiB is no card's: not read");
    ngx_http_sekisho_jpki_cache_free(cache);
    X509_free(leaf);

    /* a key over 4096 bits: its signature is not opened */
    big = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 4104);
    leaf = make_cert("HUGE", big, ca, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    cache = ngx_http_sekisho_jpki_cache_create(4);
    slot = read_cert(cache, leaf);
    memset(sig, 0x41, sizeof(sig));
    memset(digest, 0, sizeof(digest));
    ok(slot && ngx_http_sekisho_jpki_check_signature(slot, sig, 513, digest)
               == NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM,
       "an RSA key over 4096 bits: refused, nothing written past the block");
    ngx_http_sekisho_jpki_cache_free(cache);
    X509_free(leaf);
    EVP_PKEY_free(big);

    ngx_http_sekisho_jpki_ca_free(&cas);

    /* two roots of one name and key id, different keys */
    key2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    twin = make_root("TEST CA", key2, "critical,CA:TRUE",
                     "critical,keyCertSign,cRLSign", 2, -86400, 3650);
    {
        ASN1_OCTET_STRING  *id;
        int                 i;

        /* the twin claims the CA's key id */
        i = X509_get_ext_by_NID(twin, NID_subject_key_identifier, -1);
        X509_EXTENSION_free(X509_delete_ext(twin, i));
        id = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(ca));
        X509_add1_ext_i2d(twin, NID_subject_key_identifier, id, 0,
                          X509V3_ADD_DEFAULT);
        ASN1_OCTET_STRING_free(id);
        X509_sign(twin, key2, EVP_sha256());
    }
    make_ca(&cas, twin);
    X509_up_ref(ca);
    ngx_http_sekisho_jpki_ca_add(&cas, ca, err, sizeof(err));
    chk.ca = &cas;
    check_both(&chk, auth, 0, "two roots of one name and key id");
    ngx_http_sekisho_jpki_ca_free(&cas);
    X509_free(twin);
    EVP_PKEY_free(key2);

    /*
     * A root renewed with the same key: a CRL tied to the expired one
     * still speaks for certificates chained to the renewed one.
     */
    old = make_root("RENEWED CA", ca_key, "critical,CA:TRUE",
                    "critical,keyCertSign,cRLSign", 2, -3650 * 86400L, 365);
    renewed = make_root("RENEWED CA", ca_key, "critical,CA:TRUE",
                        "critical,keyCertSign,cRLSign", 2, -86400, 3650);
    leaf = make_cert("REV", user_key, renewed, ca_key, -3600, 365,
                     "critical,digitalSignature", NULL);
    make_ca(&cas, old);
    X509_up_ref(renewed);
    ngx_http_sekisho_jpki_ca_add(&cas, renewed, err, sizeof(err));
    crl = make_crl(old, ca_key, leaf);
    chk.ca = &cas;
    chk.crlix = index_of(crl, old);
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_BEST_EFFORT;
    is_int(check_both(&chk, leaf, 1, "renewed root"),
           NGX_HTTP_SEKISHO_JPKI_REVOKED,
           "revoked by the CRL of the same name and key, best effort");
    index_free(chk.crlix);
    chk.crlix = NULL;
    X509_CRL_free(crl);
    X509_free(leaf);
    ngx_http_sekisho_jpki_ca_free(&cas);
    X509_free(old);
    X509_free(renewed);
}


/* generations of one authority share its name: the key id decides */

static void
test_generations(X509 *ca, X509 *auth)
{
    char                            err[128];
    X509                           *ca2, *user2;
    EVP_PKEY                       *key2;
    ngx_http_sekisho_jpki_ca_t      cas;
    ngx_http_sekisho_jpki_check_t   chk;

    key2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    ca2 = make_cert("TEST CA", key2, NULL, NULL, -86400, 3650,
                    "critical,keyCertSign,cRLSign", NULL);
    user2 = make_cert("USER2", user_key, ca2, key2, -86400, 365,
                      "critical,digitalSignature", NULL);

    make_ca(&cas, ca);
    X509_up_ref(ca2);
    is_int(ngx_http_sekisho_jpki_ca_add(&cas, ca2, err, sizeof(err)), NGX_OK,
           "a second generation with the same name is added");
    ok(cas.nfast == 2, "both generations are ready for the fast path");

    check_init(&chk, &cas);

    is_int(check_both(&chk, auth, 1, "first generation"),
           NGX_HTTP_SEKISHO_JPKI_OK, "a certificate of the first generation");
    is_int(check_both(&chk, user2, 1, "second generation"),
           NGX_HTTP_SEKISHO_JPKI_OK, "and one of the second");

    ngx_http_sekisho_jpki_ca_free(&cas);
    X509_free(user2);
    X509_free(ca2);
    EVP_PKEY_free(key2);
}


static void
add_othername(GENERAL_NAMES *names, const char *oid, const char *utf8)
{
    ASN1_TYPE     *v;
    GENERAL_NAME  *gn;
    ASN1_STRING   *str;

    str = ASN1_UTF8STRING_new();
    ASN1_STRING_set(str, utf8, (int) strlen(utf8));
    v = ASN1_TYPE_new();
    ASN1_TYPE_set(v, V_ASN1_UTF8STRING, str);

    gn = GENERAL_NAME_new();
    GENERAL_NAME_set0_othername(gn, OBJ_txt2obj(oid, 1), v);
    sk_GENERAL_NAME_push(names, gn);
}


static void
test_identity(X509 *ca)
{
    u_char                             buf[256];
    X509                              *x;
    GENERAL_NAMES                     *names;
    ngx_http_sekisho_jpki_identity_t   id;

    x = make_cert("ID", user_key, ca, ca_key, -86400, 365,
                  "critical,digitalSignature,nonRepudiation", NULL);

    names = sk_GENERAL_NAME_new_null();
    add_othername(names, "1.2.392.200149.8.5.5.1", "山田 花子");
    add_othername(names, "1.2.392.200149.8.5.5.2", "");
    add_othername(names, "1.2.392.200149.8.5.5.3", "2");
    add_othername(names, "1.2.392.200149.8.5.5.4", "319850401");
    add_othername(names, "1.2.392.200149.8.5.5.5", "東京都千代田区");
    add_othername(names, "1.2.392.200149.8.5.5.10", "ignored");
    X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(names);

    is_int(ngx_http_sekisho_jpki_identity(x, &id, buf, sizeof(buf)), NGX_OK,
           "identity found");
    ok(id.name.len == strlen("山田 花子")
       && memcmp(id.name.data, "山田 花子", id.name.len) == 0, "name");
    ok(id.sex.len == 1 && id.sex.data[0] == '2', "sex");
    ok(id.birth.len == 9 && memcmp(id.birth.data, "319850401", 9) == 0,
       "birth date");
    ok(id.address.len == strlen("東京都千代田区"), "address");

    is_int(ngx_http_sekisho_jpki_identity(x, &id, buf, 10), NGX_ERROR,
           "a buffer too small is an error, not an overflow");

    X509_free(x);
}


static void
test_cache(X509 *ca, X509 *auth)
{
    u_char                          *der, junk[8] = "junkjunk";
    int                              len;
    ngx_http_sekisho_jpki_ca_t       cas;
    ngx_http_sekisho_jpki_slot_t    *sa, *sb;
    ngx_http_sekisho_jpki_cert_t     out;
    ngx_http_sekisho_jpki_cache_t   *cache;
    ngx_http_sekisho_jpki_check_t    chk;

    der = NULL;
    len = i2d_X509(auth, &der);
    cache = ngx_http_sekisho_jpki_cache_create(16);

    sa = ngx_http_sekisho_jpki_read(cache, der, len);
    sb = ngx_http_sekisho_jpki_read(cache, der, len);
    ok(sa && sa == sb, "the same DER is read once");
    ok(ngx_http_sekisho_jpki_read(cache, junk, sizeof(junk)) == NULL,
       "junk is no certificate");
    ok(ngx_http_sekisho_jpki_read(cache, der, len - 1) == NULL,
       "nor is a truncated one");

    /* a byte of the signed part changed: the issuer did not sign it */
    der[len / 2] ^= 0x01;
    sb = ngx_http_sekisho_jpki_read(cache, der, len);
    der[len / 2] ^= 0x01;

    make_ca(&cas, ca);

    check_init(&chk, &cas);

    if (sb) {
        is_int(ngx_http_sekisho_jpki_check_slot(&chk, sb, &out),
               NGX_HTTP_SEKISHO_JPKI_UNTRUSTED,
               "a certificate altered after signing is untrusted");
    } else {
        ok(1, "a certificate altered after signing is no certificate");
    }

    sa = ngx_http_sekisho_jpki_read(cache, der, len);
    ok(sa != NULL, "the unaltered one is read again");

    if (sa == NULL) {
        goto done;
    }

    is_int(ngx_http_sekisho_jpki_check_slot(&chk, sa, &out),
           NGX_HTTP_SEKISHO_JPKI_OK, "checked once");
    ok(out.fast, "by the fast path");
    is_int(ngx_http_sekisho_jpki_check_slot(&chk, sa, &out),
           NGX_HTTP_SEKISHO_JPKI_OK, "and from the cache");
    ok(out.issuer == ca, "the cached chain keeps its issuer");

    chk.now += 400 * 86400;
    is_int(ngx_http_sekisho_jpki_check_slot(&chk, sa, &out),
           NGX_HTTP_SEKISHO_JPKI_VALIDITY,
           "a cached chain still expires with its certificate");

done:

    ngx_http_sekisho_jpki_ca_free(&cas);
    OPENSSL_free(der);
    ngx_http_sekisho_jpki_cache_free(cache);
}


/* a distribution point: a directoryName "C=JP, O=JPKI, CN=<cn>" */

static GENERAL_NAMES *
dp_names(const char *cn)
{
    X509_NAME      *name;
    GENERAL_NAME   *gn;
    GENERAL_NAMES  *gns;
    ASN1_IA5STRING *uri;

    gns = GENERAL_NAMES_new();

    /* "uri:<uri>": a URI point, as other PKIs name theirs */
    if (strncmp(cn, "uri:", 4) == 0) {
        gn = GENERAL_NAME_new();
        uri = ASN1_IA5STRING_new();
        ASN1_STRING_set(uri, cn + 4, -1);
        GENERAL_NAME_set0_value(gn, GEN_URI, uri);
        sk_GENERAL_NAME_push(gns, gn);

        return gns;
    }

    name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (u_char *) "JP", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (u_char *) "JPKI",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (u_char *) cn, -1,
                               -1, 0);

    gn = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gn, GEN_DIRNAME, name);
    sk_GENERAL_NAME_push(gns, gn);

    return gns;
}


/* a card's certificate naming its city's CRL distribution point */

static X509 *
make_city_cert(const char *cn, X509 *ca, EVP_PKEY *ca_key, const char *city)
{
    X509                *x;
    DIST_POINT          *dp;
    CRL_DIST_POINTS     *dps;

    x = make_cert(cn, user_key, ca, ca_key, -86400, 365,
                  "critical,digitalSignature", NULL);

    if (city) {
        dp = DIST_POINT_new();
        dp->distpoint = DIST_POINT_NAME_new();
        dp->distpoint->type = 0;
        dp->distpoint->name.fullname = dp_names(city);

        dps = sk_DIST_POINT_new_null();
        sk_DIST_POINT_push(dps, dp);

        X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, 0);
        CRL_DIST_POINTS_free(dps);
        X509_sign(x, ca_key, EVP_sha256());
    }

    return x;
}


/*
 * A CRL of a city's distribution point (or of the whole issuer, city
 * NULL), or an ARL (only_ca), issued "age" hours ago, current for
 * "life" hours from then, listing "revoked" if given.
 */

static X509_CRL *
make_city_crl(X509 *ca, EVP_PKEY *key, const char *city, int only_ca,
    X509 *revoked, long age, long life)
{
    X509_CRL            *crl;
    ASN1_TIME           *t;
    X509_REVOKED        *rev;
    ISSUING_DIST_POINT  *idp;

    crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));

    t = X509_gmtime_adj(NULL, -age * 3600);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_gmtime_adj(t, (life - age) * 3600);
    X509_CRL_set1_nextUpdate(crl, t);

    if (revoked) {
        rev = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(revoked));
        X509_gmtime_adj(t, -age * 3600 - 60);
        X509_REVOKED_set_revocationDate(rev, t);
        X509_CRL_add0_revoked(crl, rev);
    }

    if (city || only_ca) {
        idp = ISSUING_DIST_POINT_new();

        if (city) {
            idp->distpoint = DIST_POINT_NAME_new();
            idp->distpoint->type = 0;
            idp->distpoint->name.fullname = dp_names(city);
        }

        /* DER's TRUE is 0xff; OpenSSL writes the int it is given */
        idp->onlyCA = only_ca ? 0xff : 0;
        idp->onlyuser = (!only_ca && city != NULL) ? 0xff : 0;

        X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
        ISSUING_DIST_POINT_free(idp);
    }

    ASN1_TIME_free(t);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, key, EVP_sha256());

    return crl;
}


/*
 * J-LIS publishes a CRL per municipality (distribution point): a card is
 * checked against its own city's, whichever is newer elsewhere.
 */

static void
test_crl_partitions(X509 *ca)
{
    X509                           *a, *b, *plain;
    X509_CRL                       *crls[4];
    ngx_http_sekisho_jpki_ca_t      cas;
    ngx_http_sekisho_jpki_check_t   chk;
    ngx_http_sekisho_jpki_cert_t    out;

    make_ca(&cas, ca);
    check_init(&chk, &cas);
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_REQUIRE;

    a = make_city_cert("CITIZEN A", ca, ca_key, "City A CRLDP");
    b = make_city_cert("CITIZEN B", ca, ca_key, "City B CRLDP");
    plain = make_city_cert("CITIZEN C", ca, ca_key, NULL);

    /* city B's CRL lists b; city A's is newer and lists nobody */
    crls[0] = make_city_crl(ca, ca_key, "City A CRLDP", 0, NULL, 1, 48);
    crls[1] = make_city_crl(ca, ca_key, "City B CRLDP", 0, b, 20, 48);
    chk.crlix = index_of_many(crls, 2, ca);
    ok(chk.crlix != NULL, "two cities' CRLs indexed");

    is_int(check_both(&chk, b, 1, "city B, revoked"),
           NGX_HTTP_SEKISHO_JPKI_REVOKED,
           "revoked in its city's CRL, though another city's is newer");
    is_int(check_both(&chk, a, 1, "city A, good"),
           NGX_HTTP_SEKISHO_JPKI_OK, "the other city's card is good");
    is_int(ngx_http_sekisho_jpki_check_cert(&chk, a, &out),
           NGX_HTTP_SEKISHO_JPKI_OK, "by OpenSSL's path too");
    is_int(out.revocation, NGX_HTTP_SEKISHO_REVOCATION_GOOD,
           "and said good");
    ok(out.crl && out.crl->this_update > time(NULL) - 2 * 3600,
       "decided by its own city's CRL");
    is_int(check_both(&chk, plain, 1, "no distribution point"),
           NGX_HTTP_SEKISHO_JPKI_CRL_STALE,
           "a card naming no point: no city's CRL covers it");

    /* the issuer's complete CRL covers every card */
    index_free(chk.crlix);
    crls[2] = make_city_crl(ca, ca_key, NULL, 0, NULL, 2, 48);
    crls[3] = crls[2];
    chk.crlix = index_of_many(crls, 3, ca);
    is_int(check_both(&chk, plain, 1, "complete CRL"),
           NGX_HTTP_SEKISHO_JPKI_OK, "the complete CRL covers it");
    is_int(check_both(&chk, b, 1, "complete CRL, b"),
           NGX_HTTP_SEKISHO_JPKI_REVOKED,
           "and b is revoked still: any covering CRL that lists it");

    /* city A's CRL past its next update, no complete CRL */
    index_free(chk.crlix);
    X509_CRL_free(crls[0]);
    crls[0] = make_city_crl(ca, ca_key, "City A CRLDP", 0, NULL, 50, 48);
    chk.crlix = index_of_many(crls, 2, ca);
    ngx_http_sekisho_jpki_check_cert(&chk, a, &out);
    is_int(ngx_http_sekisho_jpki_check_cert(&chk, a, &out),
           NGX_HTTP_SEKISHO_JPKI_CRL_STALE,
           "its city's CRL stale: jpki_crl_stale under require");
    ok(out.dp.len > 0, "the point is named for the log");
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_BEST_EFFORT;
    is_int(ngx_http_sekisho_jpki_check_cert(&chk, a, &out),
           NGX_HTTP_SEKISHO_JPKI_OK, "unchecked under best_effort");
    is_int(out.revocation, NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED,
           "and said unchecked");
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_REQUIRE;

    /* URI points (RFC 5280 6.3.3 takes any GeneralName): as exact */
    {
        X509      *u, *u2;
        X509_CRL  *ucrls[2];

        index_free(chk.crlix);
        u = make_city_cert("CITIZEN U", ca, ca_key,
                           "uri:http://crl.example.jp/u.crl");
        u2 = make_city_cert("CITIZEN V", ca, ca_key,
                            "uri:http://CRL.example.jp/u.crl");
        ucrls[0] = make_city_crl(ca, ca_key, "uri:http://crl.example.jp/u.crl",
                                 0, u, 1, 48);
        ucrls[1] = make_city_crl(ca, ca_key, "City A CRLDP", 0, NULL, 1, 48);
        chk.crlix = index_of_many(ucrls, 2, ca);
        is_int(check_both(&chk, u, 1, "URI point, revoked"),
               NGX_HTTP_SEKISHO_JPKI_REVOKED,
               "a URI point: revoked in the CRL of that URI");
        is_int(check_both(&chk, u2, 1, "URI point, other spelling"),
               NGX_HTTP_SEKISHO_JPKI_CRL_STALE,
               "a URI spelt otherwise is another point (as OpenSSL's"
               " comparison): no CRL covers it");
        is_int(check_both(&chk, a, 1, "dirName beside a URI CRL"),
               NGX_HTTP_SEKISHO_JPKI_OK,
               "a directoryName card beside URI CRLs is decided by its own");

        X509_CRL_free(ucrls[0]);
        X509_CRL_free(ucrls[1]);
        X509_free(u);
        X509_free(u2);
    }

    /* an ARL of the root listing the root itself */
    index_free(chk.crlix);
    X509_CRL_free(crls[0]);
    crls[0] = make_city_crl(ca, ca_key, "City A CRLDP", 0, NULL, 1, 48);
    X509_CRL_free(crls[3]);
    crls[3] = make_city_crl(ca, ca_key, NULL, 1, ca, 1, 48);
    crls[2] = crls[3];
    chk.crlix = index_of_many(crls, 3, ca);
    is_int(check_both(&chk, a, 1, "ARL"),
           NGX_HTTP_SEKISHO_JPKI_REVOKED,
           "the root revoked in an ARL: its cards are refused");

    index_free(chk.crlix);
    X509_CRL_free(crls[0]);
    X509_CRL_free(crls[1]);
    X509_CRL_free(crls[3]);
    X509_free(a);
    X509_free(b);
    X509_free(plain);
    ngx_http_sekisho_jpki_ca_free(&cas);
}


static void
test_encoding(void)
{
    u_char      out[64], digest[32], want[32];
    size_t      n;
    ngx_str_t   host = ngx_string("www.example.jp"),
                challenge = ngx_string("abc");
    const char  msg[] = "sekisho-jpki-login:v1\nwww.example.jp\nabc";

    n = ngx_http_sekisho_pct_encode(out, (u_char *) "山 a-b_c.~/",
                                    strlen("山 a-b_c.~/"));
    out[n] = '\0';
    is_str((char *) out, "%E5%B1%B1%20a-b_c.~%2F",
           "percent-encoding keeps only unreserved characters");

    ngx_http_sekisho_jpki_login_digest(&host, &challenge, digest);
    EVP_Digest(msg, sizeof(msg) - 1, want, NULL, EVP_sha256(), NULL);
    ok(memcmp(digest, want, 32) == 0,
       "the login digest is SHA-256 of the documented message");
}


int
main(void)
{
    X509  *ca, *auth;

    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    user_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

    ca = make_cert("TEST CA", ca_key, NULL, NULL, -86400, 3650,
                   "critical,keyCertSign,cRLSign", NULL);
    auth = make_cert("AUTH", user_key, ca, ca_key, -86400, 365,
                     "critical,digitalSignature", NULL);

    test_signature(auth);
    test_certificates(ca, auth);
    test_generations(ca, auth);
    test_strict_edges(ca, auth);
    test_identity(ca);
    test_cache(ca, auth);
    test_crl_partitions(ca);
    test_encoding();

    X509_free(auth);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(user_key);

    return done_testing();
}
