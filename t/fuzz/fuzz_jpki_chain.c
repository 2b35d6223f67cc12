
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the two checks of a login's certificate against
 * each other (ngx_http_sekisho_jpki_verify.c, scripts/fuzz, make fuzz).
 * A login reads the certificate and chains it without d2i_X509 when
 * it fits the JPKI profile (ngx_http_sekisho_jpki_read(), then
 * ngx_http_sekisho_jpki_check_slot()), and through OpenSSL's verifier
 * otherwise; ngx_http_sekisho_jpki_check_cert() is OpenSSL's verifier
 * alone.  For any certificate both must give the same verdict, and on
 * OK the same issuer, revocation, expiry and serial: above all, the
 * fast path must never let in what OpenSSL's path refuses.
 *
 * An input is the DER of a TBSCertificate, not of a certificate: the
 * target signs exactly those bytes with the authority's key
 * (sha256WithRSAEncryption, PKCS#1 v1.5) and puts the Certificate
 * around them, so that every mutation reaches the checks behind the
 * signature, where a fuzzer could never forge one.  Whether a parser
 * takes a certificate does not depend on its signature's bytes, so
 * one with a signature of zeros is tried first: when neither the
 * profile reader nor d2i_X509 takes it, neither can the login, and the
 * input is neither signed nor checked (most mutations; the private key
 * operation is most of the time of a run).  Otherwise the certificate
 * is read with a fresh cache of one slot and parsed by d2i_X509, which
 * must take all of it; then four checks are made of it, each by both
 * ways: the authentication and the signing kind, each with revocation
 * off and with revocation required and a current CRL of the root that
 * revokes one serial.  Within a kind the second check finds the chain
 * the first built in the slot, as a returning card does.
 *
 *   - read() gives no slot: the login refuses the certificate, nothing
 *     to compare; counted, and so are those OpenSSL's path would have
 *     let in (a certificate refused is no breach);
 *   - a slot but no parse by d2i_X509: the login's path must not say
 *     OK (it can only have said so on the fast path);
 *   - both: the same verdict, and on OK the same issuer (the very root
 *     object), revocation, not_after and serial (ASN1_INTEGER_cmp()).
 *
 * Anything else prints both verdicts, which path the login took and
 * OpenSSL's error, and aborts.
 *
 * The authority is made once, in LLVMFuzzerInitialize(): an RSA-2048
 * root (C=JP, CN=..., critical CA:TRUE, critical keyCertSign and
 * cRLSign) that ngx_http_sekisho_jpki_ca_add() must take for the fast
 * path.  Its key is new every run, its subject key identifier a
 * constant and its times fixed, so that a corpus kept between runs
 * still names it, and "now" is a fixed moment within its validity.
 *
 * Seeds: random bytes are never a TBSCertificate of the profile, so
 * the initializer writes some, the tbs of certificates it makes under
 * the root, into each corpus directory on the command line that holds
 * no file yet (scripts/fuzz passes build/fuzz/fuzz_jpki_chain.corpus):
 * an authentication certificate of the JPKI profile, a signing one,
 * one with the revoked serial, one expired, one with a CRL
 * distribution point, and one with an extension outside the profile
 * (OpenSSL's path alone).  Each must come out of this target's own
 * wrapping as the very certificate OpenSSL made, with the verdict it
 * is meant to have, or the initializer aborts.  A crash is left as a
 * plain tbs file that ./fuzz_jpki_chain <file> replays under a new
 * key; nothing is written when the directory has files.
 *
 * At exit: how many inputs were run, read, parsed, and chained by the
 * fast path, and the login's verdicts.
 *
 * uses: ngx_http_sekisho_jpki_verify.c ngx_http_sekisho_jpki_chain.c
 * uses: ngx_http_sekisho_jpki_policy.c ngx_http_sekisho_jpki_ca.c
 * uses: ngx_http_sekisho_jpki_der.c ngx_http_sekisho_der.c
 * uses: ngx_http_sekisho_der_names.c ngx_http_sekisho_crl_index.c
 * uses: ngx_http_sekisho_crl_set.c ngx_http_sekisho_crl_der.c
 * uses: ngx_http_sekisho_crl_pem.c ngx_http_sekisho_text.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_der.h"
#include "ngx_http_sekisho_jpki_verify.h"
#include "ngx_http_sekisho_jpki_chain.h"
#include "ngx_http_sekisho_crl_set.h"


/* 2025-06-01 00:00:00 UTC: within the root's, the CRL's, the seeds' */
#define FUZZ_NOW            ((time_t) 1748736000)

/* longer than read() takes (8 KiB) yet d2i_X509's; longer: skipped */
#define FUZZ_TBS_MAX        65536

#define FUZZ_SIG_LEN        256

#define FUZZ_REVOKED        0x0bad

/* the checks, as fuzz_checks[] holds them */
#define FUZZ_AUTH           0
#define FUZZ_AUTH_CRL       1
#define FUZZ_SIGN           2
#define FUZZ_SIGN_CRL       3
#define FUZZ_CHECKS         4

/* what a seed carries beside a key usage */
#define FUZZ_SEED_AUTH      0x01    /* auth policy, issuerAltName */
#define FUZZ_SEED_SIGN      0x02    /* sign policy, otherName SAN */
#define FUZZ_SEED_CRLDP     0x04    /* a distribution point */
#define FUZZ_SEED_ODD       0x08    /* an extension outside the profile */


typedef struct {
    ngx_http_sekisho_jpki_result_e   rc;      /* the login's path */
    ngx_uint_t                       fast;
} fuzz_verdict_t;


typedef struct {
    uint64_t                         inputs;
    uint64_t                         unparsed;   /* neither parser's */
    uint64_t                         parsed;     /* d2i_X509, all of it */
    uint64_t                         read;       /* read() gave a slot */
    uint64_t                         profile;    /* ... by the profile */
    uint64_t                         fast;       /* a check chained fast */
    uint64_t                         ok;         /* a check said OK */
    uint64_t                         unread;     /* no slot, parsed */
    uint64_t                         unread_profile;
    uint64_t                         unread_ok;  /* ... OpenSSL's OK */
    uint64_t                         rc[NGX_HTTP_SEKISHO_JPKI_BAD_CMS + 1];
} fuzz_stats_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static ngx_int_t fuzz_run(const u_char *tbs, size_t len, fuzz_verdict_t *v);
static void fuzz_compare(ngx_uint_t i, ngx_http_sekisho_jpki_slot_t *slot,
    X509 *x, fuzz_verdict_t *v);
static void fuzz_fail(const char *why, ngx_uint_t i,
    ngx_http_sekisho_jpki_result_e ra, ngx_http_sekisho_jpki_cert_t *a,
    ngx_http_sekisho_jpki_result_e rb, ngx_http_sekisho_jpki_cert_t *b);
static u_char *fuzz_certificate(const u_char *tbs, size_t len,
    ngx_uint_t sign, size_t *size);
static ngx_uint_t fuzz_parses(u_char *der, size_t size);
static size_t fuzz_der_len(u_char *p, size_t len);
static void fuzz_report(void);
static void fuzz_setup(void);
static X509 *fuzz_root(void);
static X509_CRL *fuzz_crl(void);
static void fuzz_index(X509_CRL *crl);
static X509_NAME *fuzz_name(const char *o, const char *cn);
static ngx_uint_t fuzz_dir_empty(const char *path);
static void fuzz_seed(const char *dir);
static void fuzz_seed_write(const char *dir, const char *name, X509 *x,
    ngx_uint_t check, ngx_http_sekisho_jpki_result_e rc, ngx_uint_t fast);
static X509 *fuzz_leaf(long serial, const char *from, const char *to,
    const char *ku, ngx_uint_t what);
static void fuzz_policy(X509 *x, const char *oid);
static void fuzz_dirname_ext(X509 *x, int nid, X509_NAME *name);
static void fuzz_ext(X509 *x, int nid, const char *value);


/* AlgorithmIdentifier sha256WithRSAEncryption, NULL parameters */
static const u_char  fuzz_sha256_rsa[] = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x0b, 0x05, 0x00
};

/* the root's subject key identifier: the same every run */
static const u_char  fuzz_root_id[] = "sekisho-fuzz-root-id";

static const char  *fuzz_results[] = {
    "OK", "BAD_CERT", "UNTRUSTED", "VALIDITY", "KEY_USAGE", "WRONG_CERT",
    "REVOKED", "CRL_STALE", "BAD_ALGORITHM", "BAD_SIGNATURE", "BAD_CMS"
};

static const char  *fuzz_check_names[FUZZ_CHECKS] = {
    "auth, revocation off", "auth, revocation required",
    "sign, revocation off", "sign, revocation required"
};


static EVP_PKEY                       *fuzz_ca_key;
static EVP_PKEY                       *fuzz_user_key;
static X509                           *fuzz_root_cert;
static ngx_http_sekisho_jpki_ca_t      fuzz_ca;
static ngx_http_sekisho_crlix_t        fuzz_crlix;
static ngx_http_sekisho_jpki_check_t   fuzz_checks[FUZZ_CHECKS];
static fuzz_stats_t                    fuzz_stats;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int           i;
    char         *arg;
    struct stat   st;

    fuzz_setup();

    for (i = 1; i < *argc; i++) {
        arg = (*argv)[i];

        if (arg[0] != '-' && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)
            && fuzz_dir_empty(arg))
        {
            fuzz_seed(arg);
        }
    }

    /* the seeds' own runs are not the fuzzer's */
    ngx_memzero(&fuzz_stats, sizeof(fuzz_stats_t));

    atexit(fuzz_report);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_verdict_t  v[FUZZ_CHECKS];

    (void) fuzz_run(data, size, v);

    return 0;
}


/*
 * One tbs: wrapped, and when a parser takes it, signed, read and
 * parsed, then checked both ways under each check.  NGX_DECLINED: too
 * long to be tried.
 */

static ngx_int_t
fuzz_run(const u_char *tbs, size_t len, fuzz_verdict_t *v)
{
    X509                           *x;
    u_char                         *der;
    size_t                          size;
    ngx_uint_t                      i, fast, ok;
    const u_char                   *p;
    ngx_http_sekisho_jpki_der_t     d;
    ngx_http_sekisho_jpki_slot_t   *slot;
    ngx_http_sekisho_jpki_cache_t  *cache;

    der = fuzz_certificate(tbs, len, 0, &size);
    if (der == NULL) {
        return NGX_DECLINED;
    }

    fuzz_stats.inputs++;

    if (!fuzz_parses(der, size)) {
        free(der);
        fuzz_stats.unparsed++;

        for (i = 0; i < FUZZ_CHECKS; i++) {
            v[i].rc = NGX_HTTP_SEKISHO_JPKI_BAD_CERT;
            v[i].fast = 0;
        }

        return NGX_OK;
    }

    free(der);

    der = fuzz_certificate(tbs, len, 1, &size);
    if (der == NULL) {
        return NGX_DECLINED;
    }

    cache = ngx_http_sekisho_jpki_cache_create(1);
    if (cache == NULL) {
        free(der);
        return NGX_DECLINED;
    }

    slot = ngx_http_sekisho_jpki_read(cache, der, size);

    p = der;
    x = d2i_X509(NULL, &p, (long) size);

    if (x != NULL && p != der + size) {
        X509_free(x);
        x = NULL;
    }

    ERR_clear_error();

    if (ngx_http_sekisho_jpki_der_read(der, size, &d) == NGX_OK) {
        if (slot) {
            fuzz_stats.profile++;

        } else {
            fuzz_stats.unread_profile++;
        }
    }

    if (slot) {
        fuzz_stats.read++;
    }

    if (x) {
        fuzz_stats.parsed++;
    }

    fast = 0;
    ok = 0;

    for (i = 0; i < FUZZ_CHECKS; i++) {
        fuzz_compare(i, slot, x, &v[i]);
        fast |= v[i].fast;
        ok |= (v[i].rc == NGX_HTTP_SEKISHO_JPKI_OK);
    }

    fuzz_stats.fast += fast;
    fuzz_stats.ok += ok;

    X509_free(x);
    ngx_http_sekisho_jpki_cache_free(cache);
    free(der);
    ERR_clear_error();

    return NGX_OK;
}


/* the login's check and OpenSSL's of one certificate under check "i" */

static void
fuzz_compare(ngx_uint_t i, ngx_http_sekisho_jpki_slot_t *slot, X509 *x,
    fuzz_verdict_t *v)
{
    ngx_http_sekisho_jpki_cert_t     a, b;
    ngx_http_sekisho_jpki_result_e   ra, rb;

    ngx_memzero(&a, sizeof(ngx_http_sekisho_jpki_cert_t));
    ngx_memzero(&b, sizeof(ngx_http_sekisho_jpki_cert_t));

    /* no slot: the login refuses it as no certificate */
    ra = NGX_HTTP_SEKISHO_JPKI_BAD_CERT;
    rb = NGX_HTTP_SEKISHO_JPKI_BAD_CERT;

    if (slot) {
        ra = ngx_http_sekisho_jpki_check_slot(&fuzz_checks[i], slot, &a);
    }

    if (x) {
        rb = ngx_http_sekisho_jpki_check_cert(&fuzz_checks[i], x, &b);
    }

    ERR_clear_error();

    v->rc = ra;
    v->fast = slot ? a.fast : 0;
    fuzz_stats.rc[ra]++;

    if (slot == NULL) {
        if (x && i == FUZZ_AUTH) {
            fuzz_stats.unread++;
            fuzz_stats.unread_ok += (rb == NGX_HTTP_SEKISHO_JPKI_OK);
        }

        return;
    }

    if (x == NULL) {
        if (ra == NGX_HTTP_SEKISHO_JPKI_OK) {
            fuzz_fail("let in what d2i_X509 does not parse", i, ra, &a, rb,
                      &b);
        }

        return;
    }

    if (ra != rb) {
        fuzz_fail("the verdicts differ", i, ra, &a, rb, &b);
    }

    if (ra != NGX_HTTP_SEKISHO_JPKI_OK) {
        return;
    }

    if (a.issuer != b.issuer) {
        fuzz_fail("another issuer", i, ra, &a, rb, &b);
    }

    if (a.revocation != b.revocation) {
        fuzz_fail("another revocation", i, ra, &a, rb, &b);
    }

    if (a.not_after != b.not_after) {
        fuzz_fail("another expiry", i, ra, &a, rb, &b);
    }

    if (a.serial == NULL || b.serial == NULL
        || ASN1_INTEGER_cmp(a.serial, b.serial) != 0)
    {
        fuzz_fail("another serial", i, ra, &a, rb, &b);
    }
}


static void
fuzz_fail(const char *why, ngx_uint_t i, ngx_http_sekisho_jpki_result_e ra,
    ngx_http_sekisho_jpki_cert_t *a, ngx_http_sekisho_jpki_result_e rb,
    ngx_http_sekisho_jpki_cert_t *b)
{
    fprintf(stderr,
            "fuzz_jpki_chain: %s (%s)\n"
            "  login's path:   %s, %s, error %d, issuer %p, "
            "revocation %d, not_after %lld\n"
            "  OpenSSL's path: %s, error %d, issuer %p, "
            "revocation %d, not_after %lld\n",
            why, fuzz_check_names[i],
            fuzz_results[ra], a->fast ? "fast (no d2i_X509)" : "OpenSSL",
            a->error, (void *) a->issuer, (int) a->revocation,
            (long long) a->not_after,
            fuzz_results[rb], b->error, (void *) b->issuer,
            (int) b->revocation, (long long) b->not_after);

    abort();
}


/*
 * Certificate ::= SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING },
 * the tbs signed by the root's key ("sign"), or with a signature of
 * zeros, in a buffer of its exact size (a read past the end is ASan's
 * to see).
 */

static u_char *
fuzz_certificate(const u_char *tbs, size_t len, ngx_uint_t sign,
    size_t *size)
{
    u_char      *der, *p, sig[FUZZ_SIG_LEN];
    size_t       n, body;
    EVP_MD_CTX  *md;

    if (len > FUZZ_TBS_MAX) {
        return NULL;
    }

    n = sizeof(sig);

    if (sign) {
        md = EVP_MD_CTX_new();

        if (md == NULL
            || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, fuzz_ca_key)
               != 1
            || EVP_DigestSign(md, sig, &n, tbs, len) != 1
            || n != sizeof(sig))
        {
            fprintf(stderr, "fuzz_jpki_chain: cannot sign\n");
            abort();
        }

        EVP_MD_CTX_free(md);

    } else {
        ngx_memzero(sig, sizeof(sig));
    }

    /* the BIT STRING: no unused bits, then the signature */
    body = len + sizeof(fuzz_sha256_rsa) + 1 + fuzz_der_len(NULL, n + 1)
           + 1 + n;
    *size = 1 + fuzz_der_len(NULL, body) + body;

    der = malloc(*size);
    if (der == NULL) {
        return NULL;
    }

    p = der;
    *p++ = 0x30;
    p += fuzz_der_len(p, body);

    if (len) {
        p = ngx_cpymem(p, tbs, len);
    }

    p = ngx_cpymem(p, fuzz_sha256_rsa, sizeof(fuzz_sha256_rsa));
    *p++ = 0x03;
    p += fuzz_der_len(p, n + 1);
    *p++ = 0x00;
    ngx_memcpy(p, sig, n);

    return der;
}


/* what read() could take: the profile reader's, or d2i_X509's */

static ngx_uint_t
fuzz_parses(u_char *der, size_t size)
{
    X509                         *x;
    ngx_uint_t                    rc;
    const u_char                 *p;
    ngx_http_sekisho_jpki_der_t   d;

    if (ngx_http_sekisho_jpki_der_read(der, size, &d) == NGX_OK) {
        return 1;
    }

    p = der;
    x = d2i_X509(NULL, &p, (long) size);
    rc = (x != NULL && p == der + size);

    X509_free(x);
    ERR_clear_error();

    return rc;
}


/* a DER length, written when "p" is given; its size */

static size_t
fuzz_der_len(u_char *p, size_t len)
{
    size_t  n, i;

    if (len < 0x80) {
        if (p) {
            p[0] = (u_char) len;
        }

        return 1;
    }

    for (n = 1; n < sizeof(size_t) && (len >> (8 * n)) != 0; n++) {
        /* void */
    }

    if (p) {
        p[0] = (u_char) (0x80 | n);

        for (i = 0; i < n; i++) {
            p[1 + i] = (u_char) (len >> (8 * (n - 1 - i)));
        }
    }

    return 1 + n;
}


static void
fuzz_report(void)
{
    uint64_t    n, m;
    ngx_uint_t  i;

    n = fuzz_stats.inputs ? fuzz_stats.inputs : 1;
    m = fuzz_stats.inputs - fuzz_stats.unparsed;
    m = m ? m : 1;

    fprintf(stderr,
            "fuzz_jpki_chain: %llu inputs, %llu neither parser's, "
            "%llu parsed by d2i_X509, "
            "%llu read (%llu by the profile reader), %llu chained by the "
            "fast path (%.1f %% of all, %.1f %% of what a parser takes), "
            "%llu let in at least once; not read: %llu the profile reader "
            "took, %llu d2i_X509 parsed, of which OpenSSL's path let in "
            "%llu\n"
            "fuzz_jpki_chain: the login's verdicts:",
            (unsigned long long) fuzz_stats.inputs,
            (unsigned long long) fuzz_stats.unparsed,
            (unsigned long long) fuzz_stats.parsed,
            (unsigned long long) fuzz_stats.read,
            (unsigned long long) fuzz_stats.profile,
            (unsigned long long) fuzz_stats.fast,
            100.0 * (double) fuzz_stats.fast / (double) n,
            100.0 * (double) fuzz_stats.fast / (double) m,
            (unsigned long long) fuzz_stats.ok,
            (unsigned long long) fuzz_stats.unread_profile,
            (unsigned long long) fuzz_stats.unread,
            (unsigned long long) fuzz_stats.unread_ok);

    for (i = 0; i <= NGX_HTTP_SEKISHO_JPKI_BAD_CMS; i++) {
        if (fuzz_stats.rc[i]) {
            fprintf(stderr, " %s %llu", fuzz_results[i],
                    (unsigned long long) fuzz_stats.rc[i]);
        }
    }

    fprintf(stderr, "\n");
}


/* the keys, the root, its authority, its CRL and the four checks */

static void
fuzz_setup(void)
{
    char        err[128];
    ngx_uint_t  i;

    fuzz_ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    fuzz_user_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

    if (fuzz_ca_key == NULL || fuzz_user_key == NULL) {
        fprintf(stderr, "fuzz_jpki_chain: no keys\n");
        abort();
    }

    fuzz_root_cert = fuzz_root();

    fuzz_ca.store = X509_STORE_new();
    fuzz_ca.roots = sk_X509_new_null();

    /* the authority takes a reference; ours names the CRL's root */
    X509_up_ref(fuzz_root_cert);

    if (fuzz_ca.store == NULL || fuzz_ca.roots == NULL
        || ngx_http_sekisho_jpki_ca_add(&fuzz_ca, fuzz_root_cert, err,
                                        sizeof(err))
           != NGX_OK
        || fuzz_ca.nfast != 1)
    {
        fprintf(stderr, "fuzz_jpki_chain: the root is not ready for the "
                "fast path: %s\n", err);
        abort();
    }

    fuzz_index(fuzz_crl());

    for (i = 0; i < FUZZ_CHECKS; i++) {
        fuzz_checks[i].ca = &fuzz_ca;
        fuzz_checks[i].other = NULL;
        fuzz_checks[i].kind = (i >= FUZZ_SIGN) ? NGX_HTTP_SEKISHO_JPKI_SIGN
                                                : NGX_HTTP_SEKISHO_JPKI_AUTH;
        fuzz_checks[i].now = FUZZ_NOW;

        if (i == FUZZ_AUTH_CRL || i == FUZZ_SIGN_CRL) {
            fuzz_checks[i].revocation = NGX_HTTP_SEKISHO_REVOKE_REQUIRE;
            fuzz_checks[i].crlix = &fuzz_crlix;

        } else {
            fuzz_checks[i].revocation = NGX_HTTP_SEKISHO_REVOKE_OFF;
            fuzz_checks[i].crlix = NULL;
        }
    }

    ERR_clear_error();
}


static X509 *
fuzz_root(void)
{
    X509               *x;
    X509_NAME          *name;
    ASN1_OCTET_STRING  *id;

    x = X509_new();
    name = fuzz_name(NULL, "Sekisho fuzz JPKI CA");
    id = ASN1_OCTET_STRING_new();

    if (x == NULL || name == NULL || id == NULL
        || ASN1_OCTET_STRING_set(id, fuzz_root_id, sizeof(fuzz_root_id) - 1)
           != 1
        || X509_set_version(x, X509_VERSION_3) != 1
        || ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1
        || ASN1_TIME_set_string(X509_getm_notBefore(x), "200101000000Z")
           != 1
        || ASN1_TIME_set_string(X509_getm_notAfter(x), "400101000000Z") != 1
        || X509_set_subject_name(x, name) != 1
        || X509_set_issuer_name(x, name) != 1
        || X509_set_pubkey(x, fuzz_ca_key) != 1
        || X509_add1_ext_i2d(x, NID_subject_key_identifier, id, 0,
                             X509V3_ADD_DEFAULT)
           != 1)
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot make the root\n");
        abort();
    }

    X509_NAME_free(name);
    ASN1_OCTET_STRING_free(id);

    fuzz_ext(x, NID_basic_constraints, "critical,CA:TRUE");
    fuzz_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign");

    if (X509_sign(x, fuzz_ca_key, EVP_sha256()) == 0) {
        fprintf(stderr, "fuzz_jpki_chain: cannot sign the root\n");
        abort();
    }

    return x;
}


/* the root's CRL, current at FUZZ_NOW, revoking FUZZ_REVOKED */

static X509_CRL *
fuzz_crl(void)
{
    X509_CRL      *crl;
    ASN1_TIME     *t;
    X509_REVOKED  *rev;
    ASN1_INTEGER  *serial;

    crl = X509_CRL_new();
    rev = X509_REVOKED_new();
    t = ASN1_TIME_new();
    serial = ASN1_INTEGER_new();

    if (crl == NULL || rev == NULL || t == NULL || serial == NULL
        || X509_CRL_set_version(crl, 1) != 1
        || X509_CRL_set_issuer_name(crl,
                                    X509_get_subject_name(fuzz_root_cert))
           != 1
        || ASN1_TIME_set_string(t, "250501000000Z") != 1
        || X509_CRL_set1_lastUpdate(crl, t) != 1
        || ASN1_INTEGER_set(serial, FUZZ_REVOKED) != 1
        || X509_REVOKED_set_serialNumber(rev, serial) != 1
        || X509_REVOKED_set_revocationDate(rev, t) != 1
        || ASN1_TIME_set_string(t, "250701000000Z") != 1
        || X509_CRL_set1_nextUpdate(crl, t) != 1
        || X509_CRL_add0_revoked(crl, rev) != 1)
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot make the CRL\n");
        abort();
    }

    ASN1_TIME_free(t);
    ASN1_INTEGER_free(serial);

    if (X509_CRL_sort(crl) != 1
        || X509_CRL_sign(crl, fuzz_ca_key, EVP_sha256()) == 0)
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot sign the CRL\n");
        abort();
    }

    return crl;
}


/* the revocation index of the root's CRL, as the gateway builds it */

static void
fuzz_index(X509_CRL *crl)
{
    int                             len;
    u_char                         *der, *p;
    const char                     *why;
    ngx_http_sekisho_crl_root_t     root;
    ngx_http_sekisho_crl_set_t      set;
    ngx_http_sekisho_crl_source_t   src;

    ngx_memzero(&set, sizeof(ngx_http_sekisho_crl_set_t));
    ngx_memzero(&src, sizeof(ngx_http_sekisho_crl_source_t));
    src.path = "fuzz.crl";

    root.cert = fuzz_root_cert;
    set.roots = &root;
    set.nroots = 1;
    set.now = FUZZ_NOW;

    why = NULL;
    len = i2d_X509_CRL(crl, NULL);
    der = (len > 0) ? malloc(len) : NULL;
    p = der;

    if (der == NULL || i2d_X509_CRL(crl, &p) != len
        || ngx_http_sekisho_crl_root_id(fuzz_root_cert, root.id) != NGX_OK
        || ngx_http_sekisho_crl_set_add_der(&set, der, len, &src, &why)
           != NGX_OK
        || ngx_http_sekisho_crl_set_finish(&set) != NGX_OK
        || ngx_http_sekisho_crlix_open(&fuzz_crlix, set.index, set.index_len)
           != NGX_OK)
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot index the CRL: %s\n",
                why ? why : "?");
        abort();
    }

    /* the index keeps its bytes */
    set.index = NULL;

    ngx_http_sekisho_crl_set_free(&set);
    free(der);
    X509_CRL_free(crl);
}


/* C=JP, and O, CN when given */

static X509_NAME *
fuzz_name(const char *o, const char *cn)
{
    X509_NAME  *name;

    name = X509_NAME_new();

    if (name == NULL
        || X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                                      (const u_char *) "JP", -1, -1, 0)
           != 1
        || (o && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                            (const u_char *) o, -1, -1, 0)
                 != 1)
        || (cn && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                             (const u_char *) cn, -1, -1, 0)
                  != 1))
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot make a name\n");
        abort();
    }

    return name;
}


static ngx_uint_t
fuzz_dir_empty(const char *path)
{
    DIR            *dir;
    ngx_uint_t      empty;
    struct dirent  *e;

    dir = opendir(path);
    if (dir == NULL) {
        return 0;
    }

    empty = 1;

    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }

    closedir(dir);

    return empty;
}


/* the profile's certificates, and a few of their ways to fail */

static void
fuzz_seed(const char *dir)
{
    X509  *x;

    x = fuzz_leaf(0x1001, "240601000000Z", "290601000000Z",
                  "critical,digitalSignature", FUZZ_SEED_AUTH);
    fuzz_seed_write(dir, "seed-auth.tbs", x, FUZZ_AUTH_CRL,
                    NGX_HTTP_SEKISHO_JPKI_OK, 1);
    X509_free(x);

    x = fuzz_leaf(0x1002, "240601000000Z", "290601000000Z",
                  "critical,digitalSignature,nonRepudiation",
                  FUZZ_SEED_SIGN);
    fuzz_seed_write(dir, "seed-sign.tbs", x, FUZZ_SIGN_CRL,
                    NGX_HTTP_SEKISHO_JPKI_OK, 1);
    X509_free(x);

    x = fuzz_leaf(FUZZ_REVOKED, "240601000000Z", "290601000000Z",
                  "critical,digitalSignature", FUZZ_SEED_AUTH);
    fuzz_seed_write(dir, "seed-revoked.tbs", x, FUZZ_AUTH_CRL,
                    NGX_HTTP_SEKISHO_JPKI_REVOKED, 1);
    X509_free(x);

    /* the fast path declines it: OpenSSL's says why */
    x = fuzz_leaf(0x1003, "200601000000Z", "250501000000Z",
                  "critical,digitalSignature", FUZZ_SEED_AUTH);
    fuzz_seed_write(dir, "seed-expired.tbs", x, FUZZ_AUTH,
                    NGX_HTTP_SEKISHO_JPKI_VALIDITY, 0);
    X509_free(x);

    x = fuzz_leaf(0x1004, "240601000000Z", "290601000000Z",
                  "critical,digitalSignature",
                  FUZZ_SEED_AUTH|FUZZ_SEED_CRLDP);
    fuzz_seed_write(dir, "seed-crldp.tbs", x, FUZZ_AUTH_CRL,
                    NGX_HTTP_SEKISHO_JPKI_OK, 1);
    X509_free(x);

    x = fuzz_leaf(0x1005, "240601000000Z", "290601000000Z",
                  "critical,digitalSignature",
                  FUZZ_SEED_AUTH|FUZZ_SEED_ODD);
    fuzz_seed_write(dir, "seed-odd.tbs", x, FUZZ_AUTH,
                    NGX_HTTP_SEKISHO_JPKI_OK, 0);
    X509_free(x);

    ERR_clear_error();
}


/*
 * The tbs, once this target's wrapping has given back the very
 * certificate OpenSSL signed and the checks the verdict it is for.
 */

static void
fuzz_seed_write(const char *dir, const char *name, X509 *x,
    ngx_uint_t check, ngx_http_sekisho_jpki_result_e rc, ngx_uint_t fast)
{
    int              n, m;
    FILE            *f;
    char             path[PATH_MAX];
    u_char          *tbs, *der, *cert;
    size_t           size;
    fuzz_verdict_t   v[FUZZ_CHECKS];

    tbs = NULL;
    der = NULL;
    n = i2d_re_X509_tbs(x, &tbs);
    m = i2d_X509(x, &der);

    if (n <= 0 || m <= 0) {
        fprintf(stderr, "fuzz_jpki_chain: cannot encode %s\n", name);
        abort();
    }

    cert = fuzz_certificate(tbs, (size_t) n, 1, &size);

    if (cert == NULL || size != (size_t) m
        || ngx_memcmp(cert, der, size) != 0)
    {
        fprintf(stderr, "fuzz_jpki_chain: %s wrapped is not the "
                "certificate OpenSSL made\n", name);
        abort();
    }

    free(cert);
    OPENSSL_free(der);

    if (fuzz_run(tbs, (size_t) n, v) != NGX_OK
        || v[check].rc != rc || v[check].fast != fast)
    {
        fprintf(stderr, "fuzz_jpki_chain: %s is not the seed it claims: "
                "%s, %s\n", name, fuzz_results[v[check].rc],
                v[check].fast ? "fast" : "not fast");
        abort();
    }

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");

    if (f) {
        fwrite(tbs, 1, (size_t) n, f);
        fclose(f);
        fprintf(stderr, "fuzz_jpki_chain: seeded %s\n", path);
    }

    OPENSSL_free(tbs);
}


/*
 * A card's certificate under the root: C=JP, CN=<an opaque id>, the
 * user key, a subject and an authority key id, the key usage given,
 * and what "what" asks for.
 */

static X509 *
fuzz_leaf(long serial, const char *from, const char *to, const char *ku,
    ngx_uint_t what)
{
    X509       *x;
    X509_NAME  *name, *dp;
    char        cn[32];

    snprintf(cn, sizeof(cn), "%08lX%04lX", (unsigned long) serial * 7919,
             (unsigned long) serial);

    x = X509_new();
    name = fuzz_name(NULL, cn);

    if (x == NULL
        || X509_set_version(x, X509_VERSION_3) != 1
        || ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1
        || ASN1_TIME_set_string(X509_getm_notBefore(x), from) != 1
        || ASN1_TIME_set_string(X509_getm_notAfter(x), to) != 1
        || X509_set_subject_name(x, name) != 1
        || X509_set_issuer_name(x, X509_get_subject_name(fuzz_root_cert))
           != 1
        || X509_set_pubkey(x, fuzz_user_key) != 1)
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot make a certificate\n");
        abort();
    }

    X509_NAME_free(name);

    fuzz_ext(x, NID_subject_key_identifier, "hash");
    fuzz_ext(x, NID_authority_key_identifier, "keyid:always");
    fuzz_ext(x, NID_key_usage, ku);

    if (what & FUZZ_SEED_AUTH) {
        fuzz_policy(x, "1.2.392.200149.8.5.1.3.30");
    }

    if (what & FUZZ_SEED_SIGN) {
        fuzz_policy(x, "1.2.392.200149.8.5.1.1.20");
        fuzz_ext(x, NID_subject_alt_name,
                 "otherName:1.2.392.200149.8.5.5.1;UTF8:JPKI TARO,"
                 "otherName:1.2.392.200149.8.5.5.3;UTF8:1,"
                 "otherName:1.2.392.200149.8.5.5.4;UTF8:419800101,"
                 "otherName:1.2.392.200149.8.5.5.5;UTF8:TOKYO");
    }

    if (what & (FUZZ_SEED_AUTH|FUZZ_SEED_SIGN)) {
        name = fuzz_name("JPKI", NULL);
        fuzz_dirname_ext(x, NID_issuer_alt_name, name);
        X509_NAME_free(name);
    }

    if (what & FUZZ_SEED_CRLDP) {
        dp = fuzz_name("JPKI", "CRL Distribution Point 1");
        fuzz_dirname_ext(x, NID_crl_distribution_points, dp);
        X509_NAME_free(dp);
    }

    if (what & FUZZ_SEED_ODD) {
        fuzz_ext(x, NID_netscape_comment, "not in the JPKI profile");
    }

    if (X509_sign(x, fuzz_ca_key, EVP_sha256()) == 0) {
        fprintf(stderr, "fuzz_jpki_chain: cannot sign a certificate\n");
        abort();
    }

    return x;
}


/* certificatePolicies (the configuration syntax wants a database) */

static void
fuzz_policy(X509 *x, const char *oid)
{
    POLICYINFO           *pi;
    CERTIFICATEPOLICIES  *pols;

    pols = sk_POLICYINFO_new_null();
    pi = POLICYINFO_new();

    if (pols == NULL || pi == NULL) {
        abort();
    }

    ASN1_OBJECT_free(pi->policyid);
    pi->policyid = OBJ_txt2obj(oid, 1);

    if (pi->policyid == NULL || sk_POLICYINFO_push(pols, pi) == 0
        || X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0,
                             X509V3_ADD_APPEND)
           != 1)
    {
        fprintf(stderr, "fuzz_jpki_chain: cannot add the policy %s\n", oid);
        abort();
    }

    CERTIFICATEPOLICIES_free(pols);
}


/* an issuerAltName, or a distribution point's full name: a DirName */

static void
fuzz_dirname_ext(X509 *x, int nid, X509_NAME *name)
{
    int               rc;
    DIST_POINT       *dp;
    GENERAL_NAME     *gen;
    GENERAL_NAMES    *gens;
    CRL_DIST_POINTS  *dps;

    gens = sk_GENERAL_NAME_new_null();
    gen = GENERAL_NAME_new();

    if (gens == NULL || gen == NULL) {
        abort();
    }

    GENERAL_NAME_set0_value(gen, GEN_DIRNAME, X509_NAME_dup(name));
    sk_GENERAL_NAME_push(gens, gen);

    if (nid != NID_crl_distribution_points) {
        rc = X509_add1_ext_i2d(x, nid, gens, 0, X509V3_ADD_APPEND);
        GENERAL_NAMES_free(gens);

    } else {
        dps = sk_DIST_POINT_new_null();
        dp = DIST_POINT_new();

        if (dps == NULL || dp == NULL
            || (dp->distpoint = DIST_POINT_NAME_new()) == NULL)
        {
            abort();
        }

        dp->distpoint->type = 0;
        dp->distpoint->name.fullname = gens;
        sk_DIST_POINT_push(dps, dp);
        rc = X509_add1_ext_i2d(x, nid, dps, 0, X509V3_ADD_APPEND);
        CRL_DIST_POINTS_free(dps);
    }

    if (rc != 1) {
        fprintf(stderr, "fuzz_jpki_chain: cannot add a DirName\n");
        abort();
    }
}


static void
fuzz_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX       v3;
    X509_EXTENSION  *ext;

    X509V3_set_ctx(&v3, fuzz_root_cert ? fuzz_root_cert : x, x, NULL, NULL,
                   0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);

    if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
        fprintf(stderr, "fuzz_jpki_chain: cannot add \"%s\"\n", value);
        abort();
    }

    X509_EXTENSION_free(ext);
}
