
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the JPKI profile reader (ngx_http_sekisho_jpki_der.c),
 * always against an independent view of the same bytes: its times
 * against libc's timegm(), the certificates made here with OpenSSL
 * field by field against what OpenSSL reads in them.  Every way out
 * of the profile is declined; so is what is not DER, patched in by
 * hand with every enclosing length encoded again (controls patched
 * the same way but left DER are read).  Every truncation and every
 * single-bit flip of a good certificate is read or declined without
 * a fault (ASan, UBSan); a flip the reader takes, OpenSSL reads alike
 * whenever the parts the reader leaves to its caller (the names and
 * the extensions' values) decode.
 *
 * uses: ngx_http_sekisho_jpki_der.c ngx_http_sekisho_der.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_der.h"
#include "ngx_http_sekisho_jpki_der.h"
#include "tap.h"


/* what a profile certificate carries beside SKI, AKI and key usage */
#define WITH_POLICIES  0x0001
#define WITH_SAN       0x0002
#define WITH_IAN       0x0004
#define WITH_CRLDP     0x0008
#define WITH_EKU       0x0010
#define WITH_AIA       0x0020
#define WITH_BC        0x0040
#define WITH_ALL       0x007f
#define WITHOUT_KU     0x0100
#define WITHOUT_AKI    0x0200

/* the reader's fields, as compare() names those that disagree */
#define F_TBS          0
#define F_SERIAL       1
#define F_ISSUER       2
#define F_SUBJECT      3
#define F_NOT_BEFORE   4
#define F_NOT_AFTER    5
#define F_KEY_USAGE    6
#define F_KEY_ID       7
#define F_SIGNATURE    8
#define F_RSA_KEY      9
#define F_EXT          10
#define F_N            11


static u_char *copy_of(const u_char *p, size_t len);
static ngx_int_t read_rc(const u_char *der, size_t len);
static ngx_int_t der_time(u_char tag, const char *s, time_t *t);
static time_t utc(int year, int month, int day, int hour, int min, int sec);
static int month_days(int year, int month);
static uint64_t rnd(void);
static time_t asn1_time(const ASN1_TIME *t);
static EVP_PKEY *rsa_key(unsigned bits, unsigned long e);
static void add_ext(X509 *x, int nid, const char *value);
static void add_dirname(X509 *x, int nid, X509_NAME *name);
static void add_private(X509 *x, const char *oid, int critical);
static void add_policy(X509 *x, const char *oid, int critical);
static void set_serial(X509 *x, const char *hex);
static void sign(X509 *x, const EVP_MD *md);
static X509 *make_ca(void);
static X509 *make_user(EVP_PKEY *key, ngx_uint_t with);
static u_char *to_der(X509 *x, size_t *len);
static ngx_uint_t same(ngx_str_t *s, const u_char *p, int len);
static ngx_uint_t compare(const u_char *der, size_t len,
    ngx_http_sekisho_jpki_der_t *c);
static void diag_fields(ngx_uint_t diff);
static void accepted(X509 *x, const char *name);
static void declined(X509 *x, const char *name);
static size_t der_header(const u_char *p, size_t len, size_t *clen);
static size_t der_length(u_char *out, size_t len);
static size_t der_splice(const u_char *p, size_t len, size_t at, size_t cut,
    const u_char *ins, size_t n, u_char *out);
static size_t find(const u_char *der, size_t len, const u_char *pat,
    size_t n, size_t skip);
static void patched(const u_char *der, size_t len, size_t at, size_t cut,
    const u_char *ins, size_t n, ngx_int_t want, const char *name);
static void test_time_forms(void);
static void test_time_calendar(void);
static void test_time_random(void);
static void test_profile(void);
static void test_outside(void);
static void test_encoding(void);
static void test_truncations(void);
static ngx_uint_t opaque_ok(ngx_http_sekisho_jpki_der_t *c);
static void test_flips(void);


static const char  *field_names[F_N] = {
    "tbs", "serial", "issuer", "subject", "not_before", "not_after",
    "key_usage", "key_id", "signature", "rsa_key", "ext[]"
};

static const int  ext_nids[NGX_HTTP_SEKISHO_EXT_N] = {
    NID_subject_key_identifier,     /* NGX_HTTP_SEKISHO_EXT_SKI */
    NID_subject_alt_name,           /* NGX_HTTP_SEKISHO_EXT_SAN */
    NID_issuer_alt_name,            /* NGX_HTTP_SEKISHO_EXT_IAN */
    NID_crl_distribution_points,    /* NGX_HTTP_SEKISHO_EXT_CRLDP */
    NID_certificate_policies,       /* NGX_HTTP_SEKISHO_EXT_POLICIES */
    NID_ext_key_usage,              /* NGX_HTTP_SEKISHO_EXT_EKU */
    NID_info_access                 /* NGX_HTTP_SEKISHO_EXT_AIA */
};

static const ASN1_ITEM  *ext_items[NGX_HTTP_SEKISHO_EXT_N];

static EVP_PKEY  *ca_key, *user_key;
static X509      *ca;
static uint64_t   rnd_state = 0x5e6b15a0c0ffee01ULL;


/* an exact-size copy: ASan sees a read one byte past the end */

static u_char *
copy_of(const u_char *p, size_t len)
{
    u_char  *copy;

    copy = malloc(len ? len : 1);

    if (copy == NULL) {
        abort();
    }

    if (len) {
        memcpy(copy, p, len);
    }

    return copy;
}


static ngx_int_t
read_rc(const u_char *der, size_t len)
{
    u_char                       *copy;
    ngx_int_t                     rc;
    ngx_http_sekisho_jpki_der_t   c;

    copy = copy_of(der, len);
    rc = ngx_http_sekisho_jpki_der_read(copy, len, &c);
    free(copy);

    return rc;
}


static ngx_int_t
der_time(u_char tag, const char *s, time_t *t)
{
    u_char     *copy;
    size_t      len;
    ngx_int_t   rc;

    len = strlen(s);
    copy = copy_of((const u_char *) s, len);
    rc = ngx_http_sekisho_der_time(tag, copy, len, t);
    free(copy);

    return rc;
}


/* libc's answer */

static time_t
utc(int year, int month, int day, int hour, int min, int sec)
{
    struct tm  tm;

    memset(&tm, 0, sizeof(struct tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;

    return timegm(&tm);
}


static int
month_days(int year, int month)
{
    static const int  days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (month == 2
        && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
    {
        return 29;
    }

    return days[month - 1];
}


/* xorshift64: the same "random" dates on every run */

static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;

    return rnd_state;
}


static time_t
asn1_time(const ASN1_TIME *t)
{
    struct tm  tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return (time_t) -1;
    }

    return timegm(&tm);
}


static EVP_PKEY *
rsa_key(unsigned bits, unsigned long e)
{
    BIGNUM        *bn;
    EVP_PKEY      *key;
    EVP_PKEY_CTX  *pc;

    key = NULL;
    bn = BN_new();
    BN_set_word(bn, e);
    pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    if (pc == NULL
        || EVP_PKEY_keygen_init(pc) != 1
        || EVP_PKEY_CTX_set_rsa_keygen_bits(pc, (int) bits) != 1
        || EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pc, bn) != 1
        || EVP_PKEY_generate(pc, &key) != 1)
    {
        printf("# cannot make an RSA-%u key with e = %lu\n", bits, e);
    }

    EVP_PKEY_CTX_free(pc);
    BN_free(bn);

    return key;
}


static void
add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX       v3;
    X509_EXTENSION  *ext;

    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);

    if (ext == NULL) {
        printf("# cannot make %s = %s\n", OBJ_nid2sn(nid), value);
        return;
    }

    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
}


/* issuerAltName as JPKI has it: a directoryName (no config section) */

static void
add_dirname(X509 *x, int nid, X509_NAME *name)
{
    GENERAL_NAME   *gen;
    GENERAL_NAMES  *gens;

    gens = sk_GENERAL_NAME_new_null();
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_DIRNAME, X509_NAME_dup(name));
    sk_GENERAL_NAME_push(gens, gen);
    X509_add1_ext_i2d(x, nid, gens, 0, X509V3_ADD_APPEND);
    GENERAL_NAMES_free(gens);
}


/* an extension of a private OID, its value a NULL */

static void
add_private(X509 *x, const char *oid, int critical)
{
    ASN1_OBJECT        *obj;
    X509_EXTENSION     *ext;
    ASN1_OCTET_STRING  *value;

    obj = OBJ_txt2obj(oid, 1);
    value = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(value, (const u_char *) "\x05\x00", 2);
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(obj);
}


/* certificatePolicies: X509V3_EXT_conf_nid() wants a config for it */

static void
add_policy(X509 *x, const char *oid, int critical)
{
    POLICYINFO           *pi;
    CERTIFICATEPOLICIES  *pols;

    pols = sk_POLICYINFO_new_null();
    pi = POLICYINFO_new();
    ASN1_OBJECT_free(pi->policyid);
    pi->policyid = OBJ_txt2obj(oid, 1);
    sk_POLICYINFO_push(pols, pi);
    X509_add1_ext_i2d(x, NID_certificate_policies, pols, critical,
                      X509V3_ADD_APPEND);
    CERTIFICATEPOLICIES_free(pols);
}


static void
set_serial(X509 *x, const char *hex)
{
    BIGNUM  *bn;

    bn = NULL;
    BN_hex2bn(&bn, hex);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
}


static void
sign(X509 *x, const EVP_MD *md)
{
    if (X509_sign(x, ca_key, md) == 0) {
        printf("# cannot sign with %s\n", EVP_MD_get0_name(md));
    }
}


static X509 *
make_ca(void)
{
    X509       *x;
    X509_NAME  *name;

    x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
    X509_set_pubkey(x, ca_key);

    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                               (const u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const u_char *) "JPKI", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                               (const u_char *) "JPKI for user authentication",
                               -1, -1, 0);
    X509_set_issuer_name(x, name);

    ca = x;
    add_ext(x, NID_subject_key_identifier, "hash");
    add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign");
    sign(x, EVP_sha256());

    return x;
}


/*
 * An end-user certificate of the profile, signed by the CA with
 * sha256WithRSAEncryption: v3, SKI, AKI key id, critical key usage,
 * and the extensions "with" names.
 */

static X509 *
make_user(EVP_PKEY *key, ngx_uint_t with)
{
    X509       *x;
    X509_NAME  *name;

    x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    set_serial(x, "1234");
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400);
    X509_set_pubkey(x, key);

    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                               (const u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const u_char *) "0123456789ABCDEF0123",
                               -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(ca));

    add_ext(x, NID_subject_key_identifier, "hash");

    if (!(with & WITHOUT_AKI)) {
        add_ext(x, NID_authority_key_identifier, "keyid:always");
    }

    if (!(with & WITHOUT_KU)) {
        add_ext(x, NID_key_usage, "critical,digitalSignature");
    }

    if (with & WITH_POLICIES) {
        add_policy(x, "1.2.392.200149.8.5.1.3.30", 0);
    }

    if (with & WITH_IAN) {
        add_dirname(x, NID_issuer_alt_name, X509_get_subject_name(ca));
    }

    if (with & WITH_SAN) {
        add_ext(x, NID_subject_alt_name,
                "otherName:1.2.392.200149.8.5.5.1;UTF8:JPKI TARO");
    }

    if (with & WITH_CRLDP) {
        add_ext(x, NID_crl_distribution_points,
                "URI:http://crl.example.jp/auth.crl");
    }

    if (with & WITH_EKU) {
        add_ext(x, NID_ext_key_usage, "clientAuth");
    }

    if (with & WITH_AIA) {
        add_ext(x, NID_info_access, "OCSP;URI:http://ocsp.example.jp/");
    }

    if (with & WITH_BC) {
        add_ext(x, NID_basic_constraints, "CA:FALSE");
    }

    sign(x, EVP_sha256());

    return x;
}


static u_char *
to_der(X509 *x, size_t *len)
{
    int      n;
    u_char  *der, *copy;

    der = NULL;
    n = i2d_X509(x, &der);

    if (n <= 0) {
        *len = 0;
        return copy_of((const u_char *) "", 0);
    }

    copy = copy_of(der, (size_t) n);
    *len = (size_t) n;
    OPENSSL_free(der);

    return copy;
}


static ngx_uint_t
same(ngx_str_t *s, const u_char *p, int len)
{
    return len >= 0 && s->len == (size_t) len
           && (len == 0 || memcmp(s->data, p, (size_t) len) == 0);
}


/*
 * The fields the reader gave for "der" against OpenSSL's view of the
 * same bytes: a bit for each field that disagrees (all of them when
 * OpenSSL cannot parse the bytes).
 */

static ngx_uint_t
compare(const u_char *der, size_t len, ngx_http_sekisho_jpki_der_t *c)
{
    int                        n, idx, others;
    X509                      *x;
    u_char                    *buf;
    EVP_PKEY                  *key;
    ngx_uint_t                 i, diff;
    const u_char              *p;
    X509_EXTENSION            *ext;
    ASN1_OCTET_STRING         *data;
    const ASN1_BIT_STRING     *sig;
    const ASN1_OCTET_STRING   *id;

    p = der;
    x = d2i_X509(NULL, &p, (long) len);

    if (x == NULL || p != der + len) {
        X509_free(x);
        return (1 << F_N) - 1;
    }

    diff = 0;

    buf = NULL;
    n = i2d_re_X509_tbs(x, &buf);
    diff |= same(&c->tbs, buf, n) ? 0 : 1 << F_TBS;
    OPENSSL_free(buf);

    buf = NULL;
    n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &buf);
    diff |= same(&c->serial, buf, n) ? 0 : 1 << F_SERIAL;
    OPENSSL_free(buf);

    buf = NULL;
    n = i2d_X509_NAME(X509_get_issuer_name(x), &buf);
    diff |= same(&c->issuer, buf, n) ? 0 : 1 << F_ISSUER;
    OPENSSL_free(buf);

    buf = NULL;
    n = i2d_X509_NAME(X509_get_subject_name(x), &buf);
    diff |= same(&c->subject, buf, n) ? 0 : 1 << F_SUBJECT;
    OPENSSL_free(buf);

    if (c->not_before != asn1_time(X509_get0_notBefore(x))) {
        diff |= 1 << F_NOT_BEFORE;
    }

    if (c->not_after != asn1_time(X509_get0_notAfter(x))) {
        diff |= 1 << F_NOT_AFTER;
    }

    if (c->key_usage != X509_get_key_usage(x)) {
        diff |= 1 << F_KEY_USAGE;
    }

    id = X509_get0_authority_key_id(x);

    if (id == NULL
        || !same(&c->key_id, ASN1_STRING_get0_data(id),
                 ASN1_STRING_length(id)))
    {
        diff |= 1 << F_KEY_ID;
    }

    X509_get0_signature(&sig, NULL, x);

    if (!same(&c->signature, ASN1_STRING_get0_data(sig),
              ASN1_STRING_length(sig)))
    {
        diff |= 1 << F_SIGNATURE;
    }

    p = c->rsa_key.data;
    key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long) c->rsa_key.len);

    if (key == NULL || p != c->rsa_key.data + c->rsa_key.len
        || EVP_PKEY_eq(key, X509_get0_pubkey(x)) != 1)
    {
        diff |= 1 << F_RSA_KEY;
    }

    EVP_PKEY_free(key);

    /* each slot is the value of that extension, empty when it is absent */
    others = X509_get_ext_count(x);

    for (i = 0; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
        idx = X509_get_ext_by_NID(x, ext_nids[i], -1);

        if (idx < 0) {
            if (c->ext[i].len != 0) {
                diff |= 1 << F_EXT;
            }

            continue;
        }

        others--;
        ext = X509_get_ext(x, idx);
        data = X509_EXTENSION_get_data(ext);

        if (!same(&c->ext[i], ASN1_STRING_get0_data(data),
                  ASN1_STRING_length(data))
            || X509_EXTENSION_get_critical(ext))
        {
            diff |= 1 << F_EXT;
        }
    }

    /* beside them, key usage, the AKI and perhaps basic constraints */
    others -= 2 + (X509_get_ext_by_NID(x, NID_basic_constraints, -1) >= 0);

    if (others != 0) {
        diff |= 1 << F_EXT;
    }

    X509_free(x);

    return diff;
}


static void
diag_fields(ngx_uint_t diff)
{
    ngx_uint_t  i;

    for (i = 0; i < F_N; i++) {
        if (diff & (1 << i)) {
            printf("#   %s differs from OpenSSL's\n", field_names[i]);
        }
    }
}


/* read, and every field as OpenSSL reads it */

static void
accepted(X509 *x, const char *name)
{
    char                          what[160];
    u_char                       *der;
    size_t                        len;
    ngx_int_t                     rc;
    ngx_uint_t                    diff;
    ngx_http_sekisho_jpki_der_t   c;

    der = to_der(x, &len);
    rc = ngx_http_sekisho_jpki_der_read(der, len, &c);

    snprintf(what, sizeof(what), "%s: read", name);
    is_int(rc, NGX_OK, what);

    if (rc == NGX_OK) {
        diff = compare(der, len, &c);
        snprintf(what, sizeof(what), "%s: every field as OpenSSL reads it",
                 name);
        ok(diff == 0, what);
        diag_fields(diff);
    }

    free(der);
}


/* a certificate OpenSSL reads, outside the profile */

static void
declined(X509 *x, const char *name)
{
    X509          *y;
    u_char        *der;
    size_t         len;
    const u_char  *p;

    der = to_der(x, &len);

    p = der;
    y = d2i_X509(NULL, &p, (long) len);

    if (y == NULL) {
        printf("# OpenSSL does not read it either\n");
    }

    ok(y != NULL && read_rc(der, len) == NGX_DECLINED, name);

    X509_free(y);
    free(der);
}


/* the header of a TLV OpenSSL wrote: one tag octet, a definite length */

static size_t
der_header(const u_char *p, size_t len, size_t *clen)
{
    size_t  i, n;

    if (len < 2) {
        return 0;
    }

    if (p[1] < 0x80) {
        *clen = p[1];
        return 2;
    }

    n = p[1] & 0x7f;

    if (n == 0 || n > 4 || len < 2 + n) {
        return 0;
    }

    *clen = 0;

    for (i = 0; i < n; i++) {
        *clen = (*clen << 8) | p[2 + i];
    }

    return 2 + n;
}


static size_t
der_length(u_char *out, size_t len)
{
    if (len < 0x80) {
        out[0] = (u_char) len;
        return 1;
    }

    if (len < 0x100) {
        out[0] = 0x81;
        out[1] = (u_char) len;
        return 2;
    }

    if (len < 0x10000) {
        out[0] = 0x82;
        out[1] = (u_char) (len >> 8);
        out[2] = (u_char) len;
        return 3;
    }

    out[0] = 0x83;
    out[1] = (u_char) (len >> 16);
    out[2] = (u_char) (len >> 8);
    out[3] = (u_char) len;

    return 4;
}


/*
 * "p" with the bytes [at, at + cut) replaced by "ins", into "out": the
 * constructed elements whose contents hold the whole edit are encoded
 * again with their new lengths (minimally), so that only the edit
 * itself departs from what OpenSSL wrote.  An edit starting in an
 * element's header, or in a primitive element, is made at the level
 * holding that element.  "out" has room for len + n + 16 bytes.
 */

static size_t
der_splice(const u_char *p, size_t len, size_t at, size_t cut,
    const u_char *ins, size_t n, u_char *out)
{
    u_char  *inner;
    size_t   off, next, h, clen, m, o;

    for (off = 0; off < len; off = next) {
        h = der_header(p + off, len - off, &clen);
        next = off + h + clen;

        if (h == 0 || next > len) {
            break;
        }

        if (at >= next) {
            continue;
        }

        if (!(p[off] & 0x20) || at < off + h || at + cut > next) {
            break;
        }

        inner = malloc(clen + n + 16);
        m = der_splice(p + off + h, clen, at - off - h, cut, ins, n, inner);

        memcpy(out, p, off);
        o = off;
        out[o++] = p[off];
        o += der_length(out + o, m);
        memcpy(out + o, inner, m);
        o += m;
        memcpy(out + o, p + next, len - next);
        free(inner);

        return o + len - next;
    }

    memcpy(out, p, at);
    memcpy(out + at, ins, n);
    memcpy(out + at + n, p + at + cut, len - at - cut);

    return len - cut + n;
}


/* where "pat" is, plus "skip"; (size_t) -1 if it is not there */

static size_t
find(const u_char *der, size_t len, const u_char *pat, size_t n,
    size_t skip)
{
    const u_char  *p;

    p = memmem(der, len, pat, n);

    return p ? (size_t) (p - der) + skip : (size_t) -1;
}


static void
patched(const u_char *der, size_t len, size_t at, size_t cut,
    const u_char *ins, size_t n, ngx_int_t want, const char *name)
{
    X509          *x;
    u_char        *out;
    size_t         m;
    const u_char  *p;

    if (at == (size_t) -1 || at + cut > len) {
        printf("# the place to patch is not found\n");
        ok(0, name);
        return;
    }

    out = malloc(len + n + 16);
    m = der_splice(der, len, at, cut, ins, n, out);
    is_int(read_rc(out, m), want, name);

    /* BER OpenSSL still parses: the patch kept the structure whole */
    p = out;
    x = d2i_X509(NULL, &p, (long) m);
    printf("#   d2i_X509 %s it\n",
           (x != NULL && p == out + m) ? "parses" : "refuses");
    X509_free(x);

    free(out);
}


static void
test_time_forms(void)
{
    time_t  t;

    t = 0;
    ok(der_time(0x17, "240229123456Z", &t) == NGX_OK
       && t == utc(2024, 2, 29, 12, 34, 56),
       "UTCTime YYMMDDHHMMSSZ read as UTC");
    ok(der_time(0x17, "491231235959Z", &t) == NGX_OK
       && t == utc(2049, 12, 31, 23, 59, 59),
       "UTCTime year 49 is 2049");
    ok(der_time(0x17, "500101000000Z", &t) == NGX_OK
       && t == utc(1950, 1, 1, 0, 0, 0),
       "UTCTime year 50 is 1950");
    ok(der_time(0x17, "991231235959Z", &t) == NGX_OK
       && t == utc(1999, 12, 31, 23, 59, 59),
       "UTCTime year 99 is 1999");
    ok(der_time(0x17, "700101000000Z", &t) == NGX_OK && t == 0,
       "UTCTime of the epoch is 0");
    ok(der_time(0x17, "691231235959Z", &t) == NGX_OK && t == -1,
       "a second before the epoch is -1");

    ok(der_time(0x18, "20240229123456Z", &t) == NGX_OK
       && t == utc(2024, 2, 29, 12, 34, 56),
       "GeneralizedTime YYYYMMDDHHMMSSZ read as UTC");
    ok(der_time(0x18, "20500101000000Z", &t) == NGX_OK
       && t == utc(2050, 1, 1, 0, 0, 0),
       "GeneralizedTime 2050");
    ok(der_time(0x18, "19500101000000Z", &t) == NGX_OK
       && t == utc(1950, 1, 1, 0, 0, 0),
       "GeneralizedTime 1950, the first year read");
    ok(der_time(0x18, "99991231235959Z", &t) == NGX_OK
       && t == utc(9999, 12, 31, 23, 59, 59),
       "GeneralizedTime 9999");

    is_int(der_time(0x18, "19491231235959Z", &t), NGX_DECLINED,
           "GeneralizedTime before 1950 declined");
    is_int(der_time(0x18, "00010101000000Z", &t), NGX_DECLINED,
           "GeneralizedTime year 1 declined");

    is_int(der_time(0x17, "240101000000", &t), NGX_DECLINED,
           "UTCTime without Z declined");
    is_int(der_time(0x17, "2401010000000", &t), NGX_DECLINED,
           "UTCTime with a digit where Z is due declined");
    is_int(der_time(0x17, "240101000000z", &t), NGX_DECLINED,
           "UTCTime with a lower-case z declined");
    is_int(der_time(0x18, "20240101000000", &t), NGX_DECLINED,
           "GeneralizedTime without Z declined");
    is_int(der_time(0x17, "2401010000Z", &t), NGX_DECLINED,
           "UTCTime without seconds declined");
    is_int(der_time(0x18, "202401010000Z", &t), NGX_DECLINED,
           "GeneralizedTime without seconds declined");
    is_int(der_time(0x18, "20240101000000.5Z", &t), NGX_DECLINED,
           "GeneralizedTime with fractional seconds declined");
    is_int(der_time(0x18, "20240101000000.Z", &t), NGX_DECLINED,
           "GeneralizedTime with an empty fraction declined");
    is_int(der_time(0x17, "240101000000+0900", &t), NGX_DECLINED,
           "UTCTime with an offset declined");
    is_int(der_time(0x18, "20240101000000+0900", &t), NGX_DECLINED,
           "GeneralizedTime with an offset declined");
    is_int(der_time(0x18, "20240101000000-0000", &t), NGX_DECLINED,
           "GeneralizedTime with a zero offset declined");
    is_int(der_time(0x17, "20240101000000Z", &t), NGX_DECLINED,
           "a GeneralizedTime string under the UTCTime tag declined");
    is_int(der_time(0x18, "240101000000Z", &t), NGX_DECLINED,
           "a UTCTime string under the GeneralizedTime tag declined");
    is_int(der_time(0x04, "240101000000Z", &t), NGX_DECLINED,
           "another tag declined");
    is_int(der_time(0x17, "", &t), NGX_DECLINED, "an empty time declined");
    is_int(der_time(0x17, "24010100000Z", &t), NGX_DECLINED,
           "UTCTime one digit short declined");
    is_int(der_time(0x17, "24O101000000Z", &t), NGX_DECLINED,
           "a letter O for a zero declined");
    is_int(der_time(0x17, "24 101000000Z", &t), NGX_DECLINED,
           "a space for a digit declined");
    is_int(der_time(0x17, "2401+1000000Z", &t), NGX_DECLINED,
           "a sign among the digits declined");
    is_int(der_time(0x18, "2024/101000000Z", &t), NGX_DECLINED,
           "the character before 0 declined");
    is_int(der_time(0x18, "2024:101000000Z", &t), NGX_DECLINED,
           "the character after 9 declined");
    is_int(der_time(0x18, "2\x80" "24" "0101000000Z", &t), NGX_DECLINED,
           "a high-bit byte declined");
}


static void
test_time_calendar(void)
{
    time_t  t;

    ok(der_time(0x17, "240229000000Z", &t) == NGX_OK
       && t == utc(2024, 2, 29, 0, 0, 0), "2024-02-29 read");
    ok(der_time(0x18, "20000229000000Z", &t) == NGX_OK
       && t == utc(2000, 2, 29, 0, 0, 0), "2000-02-29 read (every 400)");
    is_int(der_time(0x17, "230229000000Z", &t), NGX_DECLINED,
           "2023-02-29 declined");
    is_int(der_time(0x18, "21000229000000Z", &t), NGX_DECLINED,
           "2100-02-29 declined (every 100)");
    is_int(der_time(0x18, "19000229000000Z", &t), NGX_DECLINED,
           "1900-02-29 declined");
    is_int(der_time(0x17, "240230000000Z", &t), NGX_DECLINED,
           "February 30 declined");
    is_int(der_time(0x17, "240431000000Z", &t), NGX_DECLINED,
           "April 31 declined");
    ok(der_time(0x17, "241231000000Z", &t) == NGX_OK
       && t == utc(2024, 12, 31, 0, 0, 0), "December 31 read");

    is_int(der_time(0x17, "240001000000Z", &t), NGX_DECLINED,
           "month 00 declined");
    is_int(der_time(0x17, "241301000000Z", &t), NGX_DECLINED,
           "month 13 declined");
    is_int(der_time(0x18, "20249901000000Z", &t), NGX_DECLINED,
           "month 99 declined");
    is_int(der_time(0x17, "240100000000Z", &t), NGX_DECLINED,
           "day 00 declined");
    is_int(der_time(0x17, "240132000000Z", &t), NGX_DECLINED,
           "day 32 declined");
    is_int(der_time(0x17, "240101240000Z", &t), NGX_DECLINED,
           "hour 24 declined");
    is_int(der_time(0x17, "240101006000Z", &t), NGX_DECLINED,
           "minute 60 declined");
    is_int(der_time(0x17, "240101000060Z", &t), NGX_DECLINED,
           "second 60 (a leap second) declined");
    is_int(der_time(0x18, "20240101240000Z", &t), NGX_DECLINED,
           "GeneralizedTime hour 24 declined");
    ok(der_time(0x17, "240101235959Z", &t) == NGX_OK
       && t == utc(2024, 1, 1, 23, 59, 59), "23:59:59 read");
}


/* thousands of dates in both forms against timegm(), and the day after */

static void
test_time_random(void)
{
    int         year, month, day, hour, min, sec, last;
    char        s[32];
    time_t      t, want;
    ngx_uint_t  i, n, bad, badday;

    n = 0;
    bad = 0;
    badday = 0;

    for (i = 0; i < 5000; i++) {
        year = 1950 + (int) (rnd() % 150);
        month = 1 + (int) (rnd() % 12);
        last = month_days(year, month);
        day = 1 + (int) (rnd() % (uint64_t) last);
        hour = (int) (rnd() % 24);
        min = (int) (rnd() % 60);
        sec = (int) (rnd() % 60);

        want = utc(year, month, day, hour, min, sec);

        snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ",
                 year, month, day, hour, min, sec);
        t = 0;
        n++;

        if (der_time(0x18, s, &t) != NGX_OK || t != want) {
            if (bad++ == 0) {
                printf("# %s: got %ld, timegm %ld\n", s, (long) t,
                       (long) want);
            }
        }

        if (year < 2050) {
            n++;

            if (der_time(0x17, s + 2, &t) != NGX_OK || t != want) {
                if (bad++ == 0) {
                    printf("# %s: got %ld, timegm %ld\n", s + 2, (long) t,
                           (long) want);
                }
            }
        }

        /* the day after the month's last */
        snprintf(s, sizeof(s), "%04d%02d%02d000000Z", year, month, last + 1);

        if (der_time(0x18, s, &t) != NGX_DECLINED) {
            if (badday++ == 0) {
                printf("# %s read\n", s);
            }
        }
    }

    printf("# %lu times compared with timegm()\n", (unsigned long) n);
    ok(bad == 0, "5000 dates of 1950-2099 in both forms agree with timegm");
    ok(badday == 0, "the day after each month's last declined");
}


static void
test_profile(void)
{
    X509                         *x;
    char                          what[160];
    u_char                       *der;
    size_t                        len;
    EVP_PKEY                     *key;
    ngx_int_t                     rc;
    ngx_uint_t                    i, diff;
    ngx_http_sekisho_jpki_der_t   c;

    static const struct {
        ngx_uint_t                with;
        const char               *name;
    } alone[] = {
        { WITH_POLICIES, "certificatePolicies alone" },
        { WITH_SAN, "subjectAltName with an otherName alone" },
        { WITH_IAN, "issuerAltName with a directoryName alone" },
        { WITH_CRLDP, "cRLDistributionPoints alone" },
        { WITH_EKU, "extendedKeyUsage alone" },
        { WITH_AIA, "authorityInfoAccess alone" },
        { WITH_BC, "basicConstraints CA:FALSE alone" }
    };

    /* the whole profile, each field on its own */
    x = make_user(user_key, WITH_ALL);
    der = to_der(x, &len);
    rc = ngx_http_sekisho_jpki_der_read(der, len, &c);
    is_int(rc, NGX_OK, "a certificate of the whole profile is read");

    diff = (rc == NGX_OK) ? compare(der, len, &c) : (1 << F_N) - 1;

    for (i = 0; i < F_N; i++) {
        snprintf(what, sizeof(what), "whole profile: %s as OpenSSL reads it",
                 field_names[i]);
        ok(!(diff & (1 << i)), what);
    }

    ok(c.tbs.data == der + 4 && c.tbs.len == len - 4 - 15 - 261,
       "whole profile: tbs is the first element, signature the last");
    is_int(c.signature.len, 256, "whole profile: a 256-byte signature");
    is_int(c.key_usage, X509v3_KU_DIGITAL_SIGNATURE,
           "whole profile: digitalSignature");

    for (i = 0; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
        snprintf(what, sizeof(what), "whole profile: the %s slot is set",
                 OBJ_nid2sn(ext_nids[i]));
        ok(c.ext[i].len > 0 && c.ext[i].data > der
           && c.ext[i].data + c.ext[i].len <= der + len, what);
    }

    free(der);
    X509_free(x);

    /* the least of it: SKI, AKI and key usage */
    x = make_user(user_key, 0);
    der = to_der(x, &len);
    rc = ngx_http_sekisho_jpki_der_read(der, len, &c);
    is_int(rc, NGX_OK, "SKI, AKI and key usage alone are read");

    if (rc == NGX_OK) {
        diff = compare(der, len, &c);
        ok(diff == 0, "least profile: every field as OpenSSL reads it");
        diag_fields(diff);

        for (i = 1; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
            if (c.ext[i].len != 0) {
                break;
            }
        }

        ok(c.ext[NGX_HTTP_SEKISHO_EXT_SKI].len > 0
           && i == NGX_HTTP_SEKISHO_EXT_N,
           "least profile: only the SKI slot is set");
    }

    free(der);
    X509_free(x);

    /* each informational extension alone sets its slot alone */
    for (i = 0; i < sizeof(alone) / sizeof(alone[0]); i++) {
        x = make_user(user_key, alone[i].with);
        accepted(x, alone[i].name);
        X509_free(x);
    }

    /* basic constraints may be critical; key usage need not be */
    x = make_user(user_key, 0);
    add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
    sign(x, EVP_sha256());
    accepted(x, "critical basicConstraints CA:FALSE");
    X509_free(x);

    x = make_user(user_key, WITHOUT_KU);
    add_ext(x, NID_key_usage, "digitalSignature,nonRepudiation");
    sign(x, EVP_sha256());
    accepted(x, "non-critical key usage of two bits");
    X509_free(x);

    /* the second octet of key usage: decipherOnly */
    x = make_user(user_key, WITHOUT_KU);
    add_ext(x, NID_key_usage, "critical,keyAgreement,decipherOnly");
    sign(x, EVP_sha256());
    accepted(x, "key usage with decipherOnly (two octets)");
    X509_free(x);

    /* times in both forms, before the epoch and after 2049 */
    x = make_user(user_key, WITH_ALL);
    ASN1_TIME_set_string(X509_getm_notBefore(x), "600101000000Z");
    ASN1_TIME_set_string(X509_getm_notAfter(x), "20600229235959Z");
    sign(x, EVP_sha256());
    accepted(x, "UTCTime of 1960 and GeneralizedTime of 2060");
    X509_free(x);

    x = make_user(user_key, 0);
    ASN1_TIME_set_string(X509_getm_notBefore(x), "20240101000000Z");
    ASN1_TIME_set_string(X509_getm_notAfter(x), "491231235959Z");
    sign(x, EVP_sha256());
    accepted(x, "GeneralizedTime of 2024 and UTCTime of 2049");
    X509_free(x);

    /* serials at the edges of the profile */
    x = make_user(user_key, 0);
    set_serial(x, "01");
    sign(x, EVP_sha256());
    accepted(x, "serial 1");
    X509_free(x);

    x = make_user(user_key, 0);
    set_serial(x, "80");
    sign(x, EVP_sha256());
    accepted(x, "serial 0x80 (a zero octet before it)");
    X509_free(x);

    x = make_user(user_key, 0);
    set_serial(x, "7fffffffffffffffffffffffffffffffffffffff");
    sign(x, EVP_sha256());
    accepted(x, "a serial of 20 octets");
    X509_free(x);

    /* another RSA-2048 key of e = 65537 */
    key = rsa_key(2048, 65537);
    x = make_user(key, WITH_ALL);
    accepted(x, "another RSA-2048 key");
    X509_free(x);
    EVP_PKEY_free(key);
}


static void
test_outside(void)
{
    X509               *x;
    EVP_PKEY           *key;
    BASIC_CONSTRAINTS  *bc;

    /* the version */
    x = make_user(user_key, 0);
    X509_set_version(x, X509_VERSION_1);
    while (X509_get_ext_count(x)) {
        X509_EXTENSION_free(X509_delete_ext(x, 0));
    }
    sign(x, EVP_sha256());
    declined(x, "a v1 certificate declined");
    X509_free(x);

    x = make_user(user_key, 0);
    while (X509_get_ext_count(x)) {
        X509_EXTENSION_free(X509_delete_ext(x, 0));
    }
    sign(x, EVP_sha256());
    declined(x, "a v3 certificate without extensions declined");
    X509_free(x);

    /* the signature algorithm */
    x = make_user(user_key, WITH_ALL);
    sign(x, EVP_sha1());
    declined(x, "sha1WithRSAEncryption declined");
    X509_free(x);

    x = make_user(user_key, WITH_ALL);
    sign(x, EVP_sha384());
    declined(x, "sha384WithRSAEncryption declined");
    X509_free(x);

    /* the key */
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    x = make_user(key, WITH_ALL);
    declined(x, "an EC P-256 key declined");
    X509_free(x);
    EVP_PKEY_free(key);

    key = rsa_key(1024, 65537);
    x = make_user(key, WITH_ALL);
    declined(x, "an RSA-1024 key declined");
    X509_free(x);
    EVP_PKEY_free(key);

    key = rsa_key(3072, 65537);
    x = make_user(key, WITH_ALL);
    declined(x, "an RSA-3072 key declined");
    X509_free(x);
    EVP_PKEY_free(key);

    key = rsa_key(2048, 3);
    x = make_user(key, WITH_ALL);
    declined(x, "an RSA-2048 key with e = 3 declined");
    X509_free(x);
    EVP_PKEY_free(key);

    /* criticality */
    x = make_user(user_key, 0);
    add_policy(x, "1.2.392.200149.8.5.1.3.30", 1);
    sign(x, EVP_sha256());
    declined(x, "critical certificatePolicies declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_ext(x, NID_subject_alt_name, "critical,email:taro@example.jp");
    sign(x, EVP_sha256());
    declined(x, "critical subjectAltName declined");
    X509_free(x);

    x = make_user(user_key, WITHOUT_AKI);
    add_ext(x, NID_authority_key_identifier, "critical,keyid:always");
    sign(x, EVP_sha256());
    declined(x, "critical authorityKeyIdentifier declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_private(x, "1.3.6.1.4.1.99999.1", 1);
    sign(x, EVP_sha256());
    declined(x, "a critical extension of a private OID declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_private(x, "1.3.6.1.4.1.99999.1", 0);
    sign(x, EVP_sha256());
    declined(x, "a non-critical extension of a private OID declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_ext(x, NID_netscape_comment, "not in the JPKI profile");
    sign(x, EVP_sha256());
    declined(x, "a known extension outside the profile declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_private(x, "2.5.29.99", 0);
    sign(x, EVP_sha256());
    declined(x, "an unknown id-ce extension declined");
    X509_free(x);

    /* twice */
    x = make_user(user_key, WITH_POLICIES);
    add_policy(x, "1.2.392.200149.8.5.1.3.30", 0);
    sign(x, EVP_sha256());
    declined(x, "certificatePolicies twice declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_ext(x, NID_subject_key_identifier, "hash");
    sign(x, EVP_sha256());
    declined(x, "subjectKeyIdentifier twice declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_ext(x, NID_key_usage, "critical,digitalSignature");
    sign(x, EVP_sha256());
    declined(x, "key usage twice declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_ext(x, NID_authority_key_identifier, "keyid:always");
    sign(x, EVP_sha256());
    declined(x, "authorityKeyIdentifier twice declined");
    X509_free(x);

    x = make_user(user_key, WITH_BC);
    add_ext(x, NID_basic_constraints, "CA:FALSE");
    sign(x, EVP_sha256());
    declined(x, "basicConstraints twice declined");
    X509_free(x);

    /* what must be there */
    x = make_user(user_key, WITH_ALL | WITHOUT_KU);
    declined(x, "no key usage declined");
    X509_free(x);

    x = make_user(user_key, WITH_ALL | WITHOUT_AKI);
    declined(x, "no authorityKeyIdentifier declined");
    X509_free(x);

    x = make_user(user_key, WITHOUT_AKI);
    add_ext(x, NID_authority_key_identifier, "keyid,issuer:always");
    sign(x, EVP_sha256());
    declined(x, "an AKI with issuer and serial declined");
    X509_free(x);

    /* basic constraints */
    x = make_user(user_key, 0);
    add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
    sign(x, EVP_sha256());
    declined(x, "basicConstraints CA:TRUE declined");
    X509_free(x);

    x = make_user(user_key, 0);
    bc = BASIC_CONSTRAINTS_new();
    bc->ca = 0;
    bc->pathlen = ASN1_INTEGER_new();
    ASN1_INTEGER_set(bc->pathlen, 0);
    X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_APPEND);
    BASIC_CONSTRAINTS_free(bc);
    sign(x, EVP_sha256());
    declined(x, "basicConstraints CA:FALSE with a pathlen declined");
    X509_free(x);

    x = make_user(user_key, 0);
    add_ext(x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    sign(x, EVP_sha256());
    declined(x, "basicConstraints CA:TRUE with a pathlen declined");
    X509_free(x);

    /* serials */
    x = make_user(user_key, 0);
    set_serial(x, "-05");
    sign(x, EVP_sha256());
    declined(x, "a negative serial declined");
    X509_free(x);

    x = make_user(user_key, 0);
    set_serial(x, "0");
    sign(x, EVP_sha256());
    declined(x, "a zero serial declined");
    X509_free(x);

    x = make_user(user_key, 0);
    set_serial(x, "01ffffffffffffffffffffffffffffffffffffffff");
    sign(x, EVP_sha256());
    declined(x, "a serial of 21 octets declined");
    X509_free(x);

    x = make_user(user_key, 0);
    set_serial(x, "ffffffffffffffffffffffffffffffffffffffff");
    sign(x, EVP_sha256());
    declined(x, "a 160-bit serial with its top bit set (21 octets) declined");
    X509_free(x);

    /* times OpenSSL takes and the profile does not */
    x = make_user(user_key, 0);
    ASN1_TIME_set_string(X509_getm_notBefore(x), "19400101000000Z");
    sign(x, EVP_sha256());
    declined(x, "a not-before of 1940 declined");
    X509_free(x);

    x = make_user(user_key, 0);
    ASN1_TIME_set_string(X509_getm_notAfter(x), "20300101000000+0900");
    sign(x, EVP_sha256());
    declined(x, "a time with an offset declined");
    X509_free(x);
}


static void
test_encoding(void)
{
    X509       *x;
    u_char      ins[1024], *der, *p;
    size_t      len, at, h, clen;
    ngx_int_t   rc;

    static const u_char  bc_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x13 };
    static const u_char  ku_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x0f };
    static const u_char  ski_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x0e };
    static const u_char  aki_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x23 };
    static const u_char  serial[] = { 0xa0, 0x03, 0x02, 0x01, 0x02,
                                      0x02, 0x02, 0x12, 0x34 };
    static const u_char  spki[] = { 0x30, 0x82, 0x01, 0x22, 0x30, 0x0d };
    static const u_char  sha256_rsa[] = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        0x01, 0x01, 0x0b, 0x05, 0x00
    };

    x = make_user(user_key, WITH_BC | WITH_POLICIES);
    der = to_der(x, &len);

    is_int(read_rc(der, len), NGX_OK, "the certificate to patch is read");

    /* controls: the splice itself leaves a certificate that is read */
    at = find(der, len, serial, sizeof(serial), 5);
    patched(der, len, at, 4, serial + 5, 4, NGX_OK,
            "control: the serial spliced in as it was is read");

    at = find(der, len, bc_oid, sizeof(bc_oid), 0);
    memcpy(ins, bc_oid, sizeof(bc_oid));
    memcpy(ins + sizeof(bc_oid), "\x01\x01\xff", 3);
    patched(der, len, at, sizeof(bc_oid), ins, sizeof(bc_oid) + 3, NGX_OK,
            "control: basicConstraints made critical by hand is read");

    /* lengths */
    at = find(der, len, serial, sizeof(serial), 5);
    patched(der, len, at, 2, (u_char *) "\x02\x81\x02", 3, NGX_DECLINED,
            "a short length in the long form (81 02) declined");

    at = find(der, len, spki, sizeof(spki), 0);
    patched(der, len, at, 4, (u_char *) "\x30\x83\x00\x01\x22", 5,
            NGX_DECLINED, "a long-form length with a leading zero declined");

    patched(der, len, at, 4, (u_char *) "\x30\x84\x00\x00\x01\x22", 6,
            NGX_DECLINED, "a four-octet length declined");

    /* the validity in the indefinite form, closed by end-of-contents */
    p = memmem(der, len, "\x30\x1e\x17\x0d", 4);
    at = p ? (size_t) (p - der) : (size_t) -1;

    if (p) {
        memcpy(ins, "\x30\x80", 2);
        memcpy(ins + 2, p + 2, 0x1e);
        memcpy(ins + 2 + 0x1e, "\x00\x00", 2);
    }

    patched(der, len, at, 0x20, ins, 0x22, NGX_DECLINED,
            "an indefinite length (80 ... 00 00) declined");

    at = find(der, len, serial, sizeof(serial), 5);
    patched(der, len, at, 4, (u_char *) "\x02\x03\x00\x12\x34", 5,
            NGX_DECLINED, "a serial with a needless zero octet declined");

    /* booleans, in basicConstraints, which may be critical */
    at = find(der, len, bc_oid, sizeof(bc_oid), 0);
    memcpy(ins, bc_oid, sizeof(bc_oid));
    memcpy(ins + sizeof(bc_oid), "\x01\x01\x00", 3);
    patched(der, len, at, sizeof(bc_oid), ins, sizeof(bc_oid) + 3,
            NGX_DECLINED, "an explicit critical FALSE declined");

    memcpy(ins + sizeof(bc_oid), "\x01\x01\x01", 3);
    patched(der, len, at, sizeof(bc_oid), ins, sizeof(bc_oid) + 3,
            NGX_DECLINED, "a TRUE of 01 rather than ff declined");

    memcpy(ins + sizeof(bc_oid), "\x01\x02\xff\xff", 4);
    patched(der, len, at, sizeof(bc_oid), ins, sizeof(bc_oid) + 4,
            NGX_DECLINED, "a BOOLEAN of two octets declined");

    /* BasicConstraints { cA FALSE }: the default written out */
    at = find(der, len, bc_oid, sizeof(bc_oid), sizeof(bc_oid));
    patched(der, len, at, 4, (u_char *) "\x04\x05\x30\x03\x01\x01\x00", 7,
            NGX_DECLINED, "basicConstraints with cA FALSE written declined");

    /* key usage bits */
    at = find(der, len, ku_oid, sizeof(ku_oid), sizeof(ku_oid) + 3);
    patched(der, len, at, 6, (u_char *) "\x04\x04\x03\x02\x07\x80", 6,
            NGX_OK, "control: key usage 03 02 07 80 as it was is read");
    patched(der, len, at, 6, (u_char *) "\x04\x04\x03\x02\x07\x81", 6,
            NGX_DECLINED, "key usage with an unused bit set declined");
    patched(der, len, at, 6, (u_char *) "\x04\x05\x03\x03\x07\x80\x00", 7,
            NGX_DECLINED, "key usage with a trailing zero octet declined");
    patched(der, len, at, 6, (u_char *) "\x04\x04\x03\x02\x08\x80", 6,
            NGX_DECLINED, "key usage with 8 unused bits declined");
    patched(der, len, at, 6, (u_char *) "\x04\x03\x03\x01\x00", 5,
            NGX_DECLINED, "an empty key usage declined");

    /*
     * X.690 11.2.2: a named bit list has its trailing zero bits
     * removed, so digitalSignature alone is 03 02 07 80 and 03 02 00 80
     * is BER, not DER.
     */
    rc = NGX_ERROR;

    if (at < len) {
        p = copy_of(der, len);
        memcpy(p + at, "\x04\x04\x03\x02\x00\x80", 6);
        rc = read_rc(p, len);
        free(p);
    }

    ok(rc == NGX_DECLINED,
       "key usage with its trailing zero bits kept (03 02 00 80) declined");

    /* the AKI's key id */
    at = find(der, len, aki_oid, sizeof(aki_oid), sizeof(aki_oid));
    patched(der, len, at, 0x1a, (u_char *) "\x04\x04\x30\x02\x80\x00", 6,
            NGX_DECLINED, "an empty AKI key id declined");

    memcpy(ins, "\x04\x44\x30\x42\x80\x40", 6);
    memset(ins + 6, 0xab, 64);
    patched(der, len, at, 0x1a, ins, 70, NGX_OK,
            "an AKI key id of 64 octets is read");

    memcpy(ins, "\x04\x45\x30\x43\x80\x41", 6);
    memset(ins + 6, 0xab, 65);
    patched(der, len, at, 0x1a, ins, 71, NGX_DECLINED,
            "an AKI key id of 65 octets declined");

    /* an informational extension of no value */
    at = find(der, len, ski_oid, sizeof(ski_oid), sizeof(ski_oid));
    patched(der, len, at, 0x18, (u_char *) "\x04\x00", 2, NGX_DECLINED,
            "an empty subjectKeyIdentifier value declined");

    /* the algorithms */
    at = find(der, len, sha256_rsa, sizeof(sha256_rsa), 0);
    memcpy(ins, sha256_rsa, sizeof(sha256_rsa));
    ins[12] = 0x0c;
    patched(der, len, at, sizeof(sha256_rsa), ins, sizeof(sha256_rsa),
            NGX_DECLINED, "sha384 inside the tbs, sha256 outside declined");

    memcpy(ins, "\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", 13);
    patched(der, len, at, sizeof(sha256_rsa), ins, 13, NGX_DECLINED,
            "sha256WithRSAEncryption without its NULL declined");

    /* the public key: e encoded with a needless zero */
    at = find(der, len, (u_char *) "\x02\x03\x01\x00\x01", 5, 0);
    patched(der, len, at, 5, (u_char *) "\x02\x04\x00\x01\x00\x01", 6,
            NGX_DECLINED, "e = 65537 with a needless zero octet declined");

    /* unique identifiers after the key, before the extensions */
    at = find(der, len, spki, sizeof(spki), 0);

    if (at < len && der_header(der + at, len - at, &clen) == 4) {
        h = 4 + clen;
        memcpy(ins, der + at, h);
        memcpy(ins + h, "\x81\x02\x00\xff", 4);
        patched(der, len, at, h, ins, h + 4, NGX_DECLINED,
                "an issuerUniqueID declined");

        memcpy(ins + h, "\x82\x02\x00\xff", 4);
        patched(der, len, at, h, ins, h + 4, NGX_DECLINED,
                "a subjectUniqueID declined");

        /* extensions [3] holding an empty list */
        at += h;
        patched(der, len, at, len - 15 - 261 - at,
                (u_char *) "\xa3\x02\x30\x00", 4, NGX_DECLINED,
                "an empty extensions list declined");

    } else {
        ok(0, "the key is found");
    }

    /* names and the signature */
    at = find(der, len, serial, sizeof(serial), 9 + sizeof(sha256_rsa));

    if (at < len && der[at] == 0x30
        && der_header(der + at, len - at, &clen) == 2)
    {
        patched(der, len, at, 2 + clen, (u_char *) "\x30\x00", 2,
                NGX_DECLINED, "an empty issuer name declined");

    } else {
        ok(0, "the issuer is found");
    }

    at = len - 261;
    patched(der, len, at, 5, (u_char *) "\x03\x82\x01\x01\x01", 5,
            NGX_DECLINED, "a signature with unused bits declined");

    memcpy(ins, der + at, 261);
    memcpy(ins + 261, "\x05\x00", 2);
    patched(der, len, at, 261, ins, 263, NGX_DECLINED,
            "an element after the signature declined");

    /* after the certificate */
    p = malloc(2 * len);
    memcpy(p, der, len);
    p[len] = 0x00;
    is_int(read_rc(p, len + 1), NGX_DECLINED,
           "a zero octet after the certificate declined");
    memcpy(p + len, der, len);
    is_int(read_rc(p, 2 * len), NGX_DECLINED,
           "two certificates back to back declined");
    free(p);

    free(der);
    X509_free(x);
}


static void
test_truncations(void)
{
    X509    *x;
    u_char  *der;
    size_t   len, n, bad;

    x = make_user(user_key, WITH_ALL);
    der = to_der(x, &len);
    bad = 0;

    for (n = 0; n < len; n++) {
        if (read_rc(der, n) != NGX_DECLINED) {
            if (bad++ == 0) {
                printf("# the first %lu bytes read\n", (unsigned long) n);
            }
        }
    }

    ok(bad == 0, "every truncation of a certificate declined");

    free(der);
    X509_free(x);
}


/*
 * The parts the reader leaves opaque, for its caller to decode with
 * OpenSSL's own decoders (ngx_http_sekisho_jpki_verify.c): the names
 * and the values of the informational extensions.
 */

static ngx_uint_t
opaque_ok(ngx_http_sekisho_jpki_der_t *c)
{
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
        good = (name != NULL && p == s->data + s->len);
        X509_NAME_free(name);

        if (!good) {
            return 0;
        }
    }

    for (i = 0; i < NGX_HTTP_SEKISHO_EXT_N; i++) {
        if (c->ext[i].len == 0) {
            continue;
        }

        it = ext_items[i];
        p = c->ext[i].data;
        v = ASN1_item_d2i(NULL, &p, (long) c->ext[i].len, it);
        good = (v != NULL && p == c->ext[i].data + c->ext[i].len);
        ASN1_item_free(v, it);

        if (!good) {
            return 0;
        }
    }

    return 1;
}


/*
 * Every single-bit flip of a profile certificate: a result, never a
 * fault.  What the reader takes, OpenSSL parses too, and reads alike,
 * whenever the parts it leaves opaque decode: a flip inside a name or
 * an extension's value is the caller's to refuse.
 */

static void
test_flips(void)
{
    X509                         *x, *y;
    u_char                       *der, *copy;
    size_t                        len, i, taken, refused, opaque, odd;
    ngx_int_t                     rc;
    ngx_uint_t                    bit, other, diff;
    const u_char                 *p;
    ngx_http_sekisho_jpki_der_t   c;

    x = make_user(user_key, WITH_ALL);
    der = to_der(x, &len);
    taken = 0;
    refused = 0;
    opaque = 0;
    odd = 0;
    other = 0;

    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            copy = copy_of(der, len);
            copy[i] ^= (u_char) (1 << bit);

            rc = ngx_http_sekisho_jpki_der_read(copy, len, &c);

            if (rc == NGX_OK) {
                taken++;
                p = copy;
                y = d2i_X509(NULL, &p, (long) len);

                if (y == NULL || p != copy + len) {
                    refused++;
                }

                X509_free(y);

                if (!opaque_ok(&c)) {
                    opaque++;

                } else {
                    diff = compare(copy, len, &c);

                    if (diff && odd++ < 5) {
                        printf("# byte %lu bit %lu:\n", (unsigned long) i,
                               (unsigned long) bit);
                        diag_fields(diff);
                    }
                }

            } else if (rc != NGX_DECLINED) {
                other++;
            }

            free(copy);
        }
    }

    printf("# %lu flips: %lu read, %lu of them refused by d2i_X509;"
           " %lu with an opaque part that does not decode\n",
           (unsigned long) len * 8, (unsigned long) taken,
           (unsigned long) refused, (unsigned long) opaque);
    ok(other == 0, "every single-bit flip read or declined, no fault");
    ok(odd == 0, "every flip read whose names and extension values decode"
       " is parsed by d2i_X509, every field as OpenSSL reads it");

    free(der);
    X509_free(x);
}


int
main(void)
{
    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    user_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    ca = make_ca();

    ext_items[NGX_HTTP_SEKISHO_EXT_SKI] = ASN1_ITEM_rptr(ASN1_OCTET_STRING);
    ext_items[NGX_HTTP_SEKISHO_EXT_SAN] = ASN1_ITEM_rptr(GENERAL_NAMES);
    ext_items[NGX_HTTP_SEKISHO_EXT_IAN] = ASN1_ITEM_rptr(GENERAL_NAMES);
    ext_items[NGX_HTTP_SEKISHO_EXT_CRLDP] = ASN1_ITEM_rptr(CRL_DIST_POINTS);
    ext_items[NGX_HTTP_SEKISHO_EXT_POLICIES] =
                                         ASN1_ITEM_rptr(CERTIFICATEPOLICIES);
    ext_items[NGX_HTTP_SEKISHO_EXT_EKU] = ASN1_ITEM_rptr(EXTENDED_KEY_USAGE);
    ext_items[NGX_HTTP_SEKISHO_EXT_AIA] =
                                         ASN1_ITEM_rptr(AUTHORITY_INFO_ACCESS);

    test_time_forms();
    test_time_calendar();
    test_time_random();
    test_profile();
    test_outside();
    test_encoding();
    test_truncations();
    test_flips();

    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(user_key);

    return done_testing();
}
