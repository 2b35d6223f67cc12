
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the JPKI profile reader (ngx_http_sekisho_jpki_der.c)
 * against OpenSSL on the same bytes (scripts/fuzz, make fuzz).
 *
 * Whenever the reader takes an input (NGX_OK), d2i_X509 must parse all
 * of it and see the same certificate: the tbs as i2d_re_X509_tbs()
 * encodes it again (so anything but DER in the structure shows), the
 * serial, issuer and subject, the validity as ASN1_TIME_to_tm() and
 * timegm() read it, X509_get_key_usage(), the AKI key id, the
 * signature, the RSA key, and the values of the informational
 * extensions, no other extension beside; any difference aborts.
 *
 * The reader leaves the names and the extensions' values opaque: the
 * login's path decodes them with OpenSSL's own decoders before it
 * trusts them (ngx_http_sekisho_jpki_fast_facts(); the issuer must be
 * the very bytes of a root's subject).  So the comparison is made when
 * they decode; when one does not, the login refuses the certificate
 * as OpenSSL would, and d2i_X509 may well refuse it too.
 *
 * Seeds: random bytes almost never make a certificate of the profile,
 * so LLVMFuzzerInitialize() writes a few, made here with OpenSSL, into
 * each corpus directory on the command line that holds no file yet
 * (scripts/fuzz passes build/fuzz/fuzz_jpki_der.corpus).  They are
 * ordinary inputs, merged and minimised with the rest of the corpus,
 * and a crash is left as a plain DER file that ./fuzz_jpki_der <file>
 * replays; nothing is written when the directory has files, or when a
 * file rather than a directory is named.
 *
 * uses: ngx_http_sekisho_jpki_der.c ngx_http_sekisho_der.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_der.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static ngx_uint_t fuzz_opaque_ok(ngx_http_sekisho_jpki_der_t *c);
static ngx_uint_t fuzz_same(ngx_str_t *s, const u_char *p, int len);
static time_t fuzz_time(const ASN1_TIME *t);
static void fuzz_compare(const u_char *der, size_t len,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_uint_t fuzz_dir_empty(const char *path);
static void fuzz_seed(const char *dir);
static void fuzz_seed_write(const char *dir, const char *name, X509 *x);
static X509 *fuzz_cert(X509 *ca, EVP_PKEY *key, EVP_PKEY *ca_key,
    ngx_uint_t all);
static void fuzz_ext(X509 *ca, X509 *x, int nid, const char *value);


static const int  fuzz_nids[NGX_HTTP_SEKISHO_EXT_N] = {
    NID_subject_key_identifier,     /* NGX_HTTP_SEKISHO_EXT_SKI */
    NID_subject_alt_name,           /* NGX_HTTP_SEKISHO_EXT_SAN */
    NID_issuer_alt_name,            /* NGX_HTTP_SEKISHO_EXT_IAN */
    NID_crl_distribution_points,    /* NGX_HTTP_SEKISHO_EXT_CRLDP */
    NID_certificate_policies,       /* NGX_HTTP_SEKISHO_EXT_POLICIES */
    NID_ext_key_usage,              /* NGX_HTTP_SEKISHO_EXT_EKU */
    NID_info_access                 /* NGX_HTTP_SEKISHO_EXT_AIA */
};


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int           i;
    char         *arg;
    struct stat   st;

    for (i = 1; i < *argc; i++) {
        arg = (*argv)[i];

        if (arg[0] != '-' && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)
            && fuzz_dir_empty(arg))
        {
            fuzz_seed(arg);
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                       *der;
    ngx_http_sekisho_jpki_der_t   c;

    /* an exact copy: a read past the end is ASan's to see */
    der = malloc(size ? size : 1);
    if (der == NULL) {
        return 0;
    }

    memcpy(der, data, size);

    if (ngx_http_sekisho_jpki_der_read(der, size, &c) == NGX_OK
        && fuzz_opaque_ok(&c))
    {
        fuzz_compare(der, size, &c);
    }

    free(der);
    ERR_clear_error();

    return 0;
}


/* what ngx_http_sekisho_jpki_fast_facts() decodes, and the issuer */

static ngx_uint_t
fuzz_opaque_ok(ngx_http_sekisho_jpki_der_t *c)
{
    int               n;
    void             *v;
    X509_NAME        *name;
    ngx_str_t        *s;
    ngx_uint_t        i, good;
    const u_char     *p;
    const ASN1_ITEM  *it;

    for (i = 0; i < 2; i++) {
        s = i ? &c->subject : &c->issuer;
        p = s->data;
        name = d2i_X509_NAME(NULL, &p, (long) s->len);
        n = name ? X509_NAME_entry_count(name) : 0;
        X509_NAME_free(name);

        if (n == 0 || p != s->data + s->len) {
            return 0;
        }
    }

    for (i = 0; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
        if (c->ext[i].len == 0) {
            continue;
        }

        switch (i) {

        case NGX_HTTP_SEKISHO_EXT_SKI:
            it = ASN1_ITEM_rptr(ASN1_OCTET_STRING);
            break;

        case NGX_HTTP_SEKISHO_EXT_SAN:
        case NGX_HTTP_SEKISHO_EXT_IAN:
            it = ASN1_ITEM_rptr(GENERAL_NAMES);
            break;

        case NGX_HTTP_SEKISHO_EXT_CRLDP:
            it = ASN1_ITEM_rptr(CRL_DIST_POINTS);
            break;

        case NGX_HTTP_SEKISHO_EXT_POLICIES:
            it = ASN1_ITEM_rptr(CERTIFICATEPOLICIES);
            break;

        case NGX_HTTP_SEKISHO_EXT_EKU:
            it = ASN1_ITEM_rptr(EXTENDED_KEY_USAGE);
            break;

        default: /* NGX_HTTP_SEKISHO_EXT_AIA */
            it = ASN1_ITEM_rptr(AUTHORITY_INFO_ACCESS);
            break;
        }

        p = c->ext[i].data;
        v = ASN1_item_d2i(NULL, &p, (long) c->ext[i].len, it);
        good = (v != NULL && p == c->ext[i].data + c->ext[i].len);

        if (good && (i == NGX_HTTP_SEKISHO_EXT_SAN
                     || i == NGX_HTTP_SEKISHO_EXT_IAN))
        {
            good = (sk_GENERAL_NAME_num((GENERAL_NAMES *) v) > 0);
        }

        ASN1_item_free(v, it);

        if (!good) {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
fuzz_same(ngx_str_t *s, const u_char *p, int len)
{
    return len >= 0 && s->len == (size_t) len
           && (len == 0 || memcmp(s->data, p, (size_t) len) == 0);
}


static time_t
fuzz_time(const ASN1_TIME *t)
{
    struct tm  tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        abort();
    }

    return timegm(&tm);
}


/* OpenSSL's view of the same bytes: any difference aborts */

static void
fuzz_compare(const u_char *der, size_t len, ngx_http_sekisho_jpki_der_t *c)
{
    int                        n, idx, exts;
    X509                      *x;
    u_char                    *buf;
    EVP_PKEY                  *key;
    ngx_uint_t                 i;
    const u_char              *p;
    X509_EXTENSION            *ext;
    ASN1_OCTET_STRING         *data;
    const ASN1_BIT_STRING     *sig;
    const ASN1_OCTET_STRING   *id;

    p = der;
    x = d2i_X509(NULL, &p, (long) len);

    if (x == NULL || p != der + len) {
        abort();
    }

    if (X509_get_version(x) != X509_VERSION_3
        || X509_get_signature_nid(x) != NID_sha256WithRSAEncryption)
    {
        abort();
    }

    buf = NULL;
    n = i2d_re_X509_tbs(x, &buf);

    if (!fuzz_same(&c->tbs, buf, n)) {
        abort();
    }

    OPENSSL_free(buf);

    buf = NULL;
    n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &buf);

    if (!fuzz_same(&c->serial, buf, n)) {
        abort();
    }

    OPENSSL_free(buf);

    buf = NULL;
    n = i2d_X509_NAME(X509_get_issuer_name(x), &buf);

    if (!fuzz_same(&c->issuer, buf, n)) {
        abort();
    }

    OPENSSL_free(buf);

    buf = NULL;
    n = i2d_X509_NAME(X509_get_subject_name(x), &buf);

    if (!fuzz_same(&c->subject, buf, n)) {
        abort();
    }

    OPENSSL_free(buf);

    if (c->not_before != fuzz_time(X509_get0_notBefore(x))
        || c->not_after != fuzz_time(X509_get0_notAfter(x)))
    {
        abort();
    }

    /* what OpenSSL's path checks a login's certificate against */
    if (c->key_usage != X509_get_key_usage(x)) {
        abort();
    }

    id = X509_get0_authority_key_id(x);

    if (id == NULL
        || !fuzz_same(&c->key_id, ASN1_STRING_get0_data(id),
                      ASN1_STRING_length(id)))
    {
        abort();
    }

    X509_get0_signature(&sig, NULL, x);

    if (!fuzz_same(&c->signature, ASN1_STRING_get0_data(sig),
                   ASN1_STRING_length(sig)))
    {
        abort();
    }

    p = c->rsa_key.data;
    key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long) c->rsa_key.len);

    if (key == NULL || p != c->rsa_key.data + c->rsa_key.len
        || EVP_PKEY_eq(key, X509_get0_pubkey(x)) != 1
        || EVP_PKEY_get_bits(key) != 2048)
    {
        abort();
    }

    EVP_PKEY_free(key);

    /* the slots, then key usage, the AKI and perhaps basic constraints */
    exts = X509_get_ext_count(x);

    for (i = 0; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
        idx = X509_get_ext_by_NID(x, fuzz_nids[i], -1);

        if (idx < 0) {
            if (c->ext[i].len != 0) {
                abort();
            }

            continue;
        }

        exts--;
        ext = X509_get_ext(x, idx);
        data = X509_EXTENSION_get_data(ext);

        if (X509_EXTENSION_get_critical(ext)
            || !fuzz_same(&c->ext[i], ASN1_STRING_get0_data(data),
                          ASN1_STRING_length(data)))
        {
            abort();
        }
    }

    exts -= 2 + (X509_get_ext_by_NID(x, NID_basic_constraints, -1) >= 0);

    if (exts != 0) {
        abort();
    }

    X509_free(x);
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


/* a few certificates of the profile, the whole and the least of it */

static void
fuzz_seed(const char *dir)
{
    X509      *ca, *x;
    BIGNUM    *bn;
    EVP_PKEY  *ca_key, *key;

    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

    if (ca_key == NULL || key == NULL) {
        EVP_PKEY_free(ca_key);
        EVP_PKEY_free(key);
        return;
    }

    ca = fuzz_cert(NULL, ca_key, ca_key, 0);

    x = fuzz_cert(ca, key, ca_key, 1);
    fuzz_seed_write(dir, "seed-profile-whole.der", x);
    X509_free(x);

    x = fuzz_cert(ca, key, ca_key, 0);
    fuzz_seed_write(dir, "seed-profile-least.der", x);

    /* GeneralizedTime, a time before the epoch, a serial of 20 octets */
    ASN1_TIME_set_string(X509_getm_notBefore(x), "600101000000Z");
    ASN1_TIME_set_string(X509_getm_notAfter(x), "20600229235959Z");
    bn = NULL;
    BN_hex2bn(&bn, "7fffffffffffffffffffffffffffffffffffffff");
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_sign(x, ca_key, EVP_sha256());
    fuzz_seed_write(dir, "seed-profile-times.der", x);
    X509_free(x);

    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);

    ERR_clear_error();
}


static void
fuzz_seed_write(const char *dir, const char *name, X509 *x)
{
    int                           n;
    FILE                         *f;
    char                          path[PATH_MAX];
    u_char                       *der;
    ngx_http_sekisho_jpki_der_t   c;

    der = NULL;
    n = i2d_X509(x, &der);

    if (n <= 0) {
        return;
    }

    /* a seed outside the profile would not be the seed it claims */
    if (ngx_http_sekisho_jpki_der_read(der, (size_t) n, &c) != NGX_OK) {
        fprintf(stderr, "fuzz_jpki_der: the seed %s is not read\n", name);
        abort();
    }

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");

    if (f) {
        fwrite(der, 1, (size_t) n, f);
        fclose(f);
        fprintf(stderr, "fuzz_jpki_der: seeded %s\n", path);
    }

    OPENSSL_free(der);
}


/* a CA ("ca" NULL), or an end-user certificate of the JPKI profile */

static X509 *
fuzz_cert(X509 *ca, EVP_PKEY *key, EVP_PKEY *ca_key, ngx_uint_t all)
{
    X509                 *x;
    X509_NAME            *name;
    POLICYINFO           *pi;
    GENERAL_NAME         *gen;
    GENERAL_NAMES        *gens;
    CERTIFICATEPOLICIES  *pols;

    x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 0x1234 : 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400);
    X509_set_pubkey(x, key);

    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                               (const u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, ca ? "CN" : "O", MBSTRING_ASC,
                               (const u_char *) (ca ? "0123456789AB" : "JPKI"),
                               -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);

    fuzz_ext(ca ? ca : x, x, NID_subject_key_identifier, "hash");

    if (ca == NULL) {
        fuzz_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
        fuzz_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_sign(x, ca_key, EVP_sha256());
        return x;
    }

    fuzz_ext(ca, x, NID_authority_key_identifier, "keyid:always");
    fuzz_ext(ca, x, NID_key_usage, "critical,digitalSignature");

    if (all) {
        pols = sk_POLICYINFO_new_null();
        pi = POLICYINFO_new();
        ASN1_OBJECT_free(pi->policyid);
        pi->policyid = OBJ_txt2obj("1.2.392.200149.8.5.1.3.30", 1);
        sk_POLICYINFO_push(pols, pi);
        X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0,
                          X509V3_ADD_APPEND);
        CERTIFICATEPOLICIES_free(pols);

        gens = sk_GENERAL_NAME_new_null();
        gen = GENERAL_NAME_new();
        GENERAL_NAME_set0_value(gen, GEN_DIRNAME,
                                X509_NAME_dup(X509_get_subject_name(ca)));
        sk_GENERAL_NAME_push(gens, gen);
        X509_add1_ext_i2d(x, NID_issuer_alt_name, gens, 0, X509V3_ADD_APPEND);
        GENERAL_NAMES_free(gens);

        fuzz_ext(ca, x, NID_subject_alt_name,
                 "otherName:1.2.392.200149.8.5.5.1;UTF8:JPKI TARO");
        fuzz_ext(ca, x, NID_crl_distribution_points,
                 "URI:http://crl.example.jp/auth.crl");
        fuzz_ext(ca, x, NID_ext_key_usage, "clientAuth");
        fuzz_ext(ca, x, NID_info_access, "OCSP;URI:http://ocsp.example.jp/");
        fuzz_ext(ca, x, NID_basic_constraints, "CA:FALSE");
    }

    X509_sign(x, ca_key, EVP_sha256());

    return x;
}


static void
fuzz_ext(X509 *ca, X509 *x, int nid, const char *value)
{
    X509V3_CTX       v3;
    X509_EXTENSION  *ext;

    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);

    if (ext) {
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
}
