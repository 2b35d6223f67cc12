
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the CRL reader (ngx_http_sekisho_crl_der.c), against
 * OpenSSL's view of the same bytes.  CRLs made here with OpenSSL's own
 * API (v1 and v2, with and without nextUpdate and entries, the AKI,
 * cRLNumber and IDP, entry extensions, RSA, RSA-PSS and ECDSA
 * signatures) are read field by field as d2i_X509_CRL() reads them.
 * Every refusal rule is shown on DER written by hand in a small
 * notation (der_of()) next to a control written alike that is read;
 * where the reader is stricter than OpenSSL, the test says so and
 * checks that OpenSSL does parse those bytes.  Every truncation of a
 * CRL is an error, every single-bit flip an error or read as OpenSSL
 * reads it, and a CRL of 19 MB (four-octet lengths, 700,000 entries)
 * is read in time linear in its size.  Then the distribution point
 * names of certificates, and PEM.
 *
 * uses: ngx_http_sekisho_crl_der.c ngx_http_sekisho_crl_pem.c
 * uses: ngx_http_sekisho_der.c ngx_http_sekisho_der_names.c
 * uses: ngx_http_sekisho_text.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_crl_der.h"
#include "ngx_http_sekisho_crl_pem.h"
#include "ngx_http_sekisho_der_names.h"
#include "ngx_http_sekisho_text.h"
#include "tap.h"


/* what make_crl() puts in a CRL */
#define WITH_V2          0x0001
#define WITH_NEXT        0x0002
#define WITH_AKI         0x0004
#define WITH_NUMBER      0x0008
#define WITH_IDP         0x0010
#define WITH_ENTRY_EXTS  0x0020
#define WITH_FRESHEST    0x0040
#define WITH_PRIVATE     0x0080
#define WITH_ALL         0x00ff

/* the reader's fields, as compare() names those that disagree */
#define F_TBS            0
#define F_SIG_ALG        1
#define F_SIGNATURE      2
#define F_ISSUER         3
#define F_THIS_UPDATE    4
#define F_NEXT_UPDATE    5
#define F_NUMBER         6
#define F_KEY_ID         7
#define F_IDP            8
#define F_IDP_NAMES      9
#define F_REVOKED        10
#define F_CRITICAL       11
#define F_N              12

#define SPEC_MAX         65536


typedef struct {
    const char   *outer;         /* the tags, with their length forms */
    const char   *tbs;
    const char   *version;
    const char   *alg;
    const char   *issuer;
    const char   *this_update;
    const char   *next_update;
    const char   *revoked;
    const char   *exts;          /* NULL: the four below in a [0] */
    const char   *aki;
    const char   *number;
    const char   *idp;
    const char   *more;
    const char   *after;
    const char   *alg_out;       /* NULL: as "alg" */
    const char   *signature;
    const char   *trailing;
} kit_t;


static u_char *copy_of(const u_char *p, size_t len);
static uint64_t rnd(void);
static size_t der_parse(const char **sp, u_char *out);
static size_t der_of(const char *spec, u_char *out);
static size_t der_header(const u_char *p, size_t len, size_t *clen);
static ngx_int_t crl_rc(const u_char *der, size_t len, const char **why,
    ngx_uint_t *entries);
static time_t asn1_time(const ASN1_TIME *t);
static ngx_uint_t same(ngx_str_t *s, const u_char *p, int len);
static ngx_uint_t same_content(ngx_str_t *s, const u_char *tlv, int len);
static ngx_uint_t openssl_parses(const u_char *der, size_t len);
static ngx_uint_t compare(const u_char *der, size_t len,
    ngx_http_sekisho_crl_der_t *c);
static void diag_fields(ngx_uint_t diff);
static X509_NAME *make_name(const char *ou);
static GENERAL_NAMES *make_dp_names(const char *city);
static ASN1_TIME *make_time(const char *s);
static void set_serial(ASN1_INTEGER *ai, ngx_uint_t i);
static X509_CRL *make_crl(ngx_uint_t with, ngx_uint_t entries);
static void add_private(X509_CRL *crl, int critical);
static void sign_crl(X509_CRL *crl, EVP_PKEY *key, const EVP_MD *md);
static u_char *crl_der(X509_CRL *crl, size_t *len);
static void accepted(X509_CRL *crl, const char *name);
static void refused(X509_CRL *crl, ngx_int_t want, const char *reason,
    const char *name);
static void kit_default(kit_t *k);
static size_t kit_der(kit_t *k, u_char *out);
static void kit_case(kit_t *k, ngx_int_t want, const char *reason,
    ngx_int_t openssl, const char *name);
static void test_made(void);
static void test_signatures(void);
static void test_declined(void);
static void test_entries(void);
static void test_control(void);
static void test_encoding(void);
static void test_structure(void);
static void test_names(void);
static void test_extensions(void);
static void test_entry_extensions(void);
static void test_truncations(void);
static void test_flips(void);
static size_t put_header(u_char *out, u_char tag, size_t len);
static void test_big(void);
static void test_general_names(void);
static void test_dp_names(void);
static ngx_int_t dp_rc(const u_char *p, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n);
static ngx_int_t pem_rc(const u_char *text, size_t len, u_char **der,
    size_t *dlen);
static void test_pem(void);


static const char  *field_names[F_N] = {
    "tbs", "sig_alg", "signature", "issuer", "this_update", "next_update",
    "number", "key_id", "idp flags", "idp_names", "revoked",
    "critical extensions or entries"
};

static EVP_PKEY  *ca_key;
static uint64_t   rnd_state = 0x5e6b15a0c0ffee01ULL;

/* ASN1_TIME_set_string() takes these as they are */
static const char  *this_update = "240601000000Z";
static const char  *next_update = "240701000000Z";


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


/* xorshift64: the same "random" serials on every run */

static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;

    return rnd_state;
}


/*
 * DER from a notation: hex octets ("02 01 05"), 'text', and TAG{ ... }
 * for an element whose length is counted here; TAG~N{ ... } writes the
 * length in N octets of the long form, TAG~i{ ... } in the indefinite
 * form with its end-of-contents.
 */

static size_t
der_parse(const char **sp, u_char *out)
{
    int          form;
    u_char      *inner, tag;
    size_t       n, m, i;
    ngx_int_t    hi, lo;
    const char  *s;

    s = *sp;
    n = 0;

    for ( ;; ) {
        while (*s == ' ' || *s == '\n') {
            s++;
        }

        if (*s == '\0' || *s == '}') {
            break;
        }

        if (*s == '\'') {
            for (s++; *s != '\''; s++) {
                if (*s == '\0') {
                    abort();
                }

                out[n++] = (u_char) *s;
            }

            s++;
            continue;
        }

        hi = ngx_http_sekisho_hex_value((u_char) s[0]);
        lo = (hi == NGX_ERROR) ? NGX_ERROR
                               : ngx_http_sekisho_hex_value((u_char) s[1]);

        if (lo == NGX_ERROR) {
            printf("# bad notation at \"%.20s\"\n", s);
            abort();
        }

        tag = (u_char) (hi << 4 | lo);
        s += 2;

        if (*s != '{' && *s != '~') {
            out[n++] = tag;
            continue;
        }

        form = 0;

        if (*s == '~') {
            form = (s[1] == 'i') ? -1 : s[1] - '0';
            s += 2;
        }

        if (*s++ != '{') {
            abort();
        }

        inner = malloc(SPEC_MAX);
        m = der_parse(&s, inner);

        if (*s++ != '}') {
            abort();
        }

        out[n++] = tag;

        if (form == -1) {
            out[n++] = 0x80;

        } else if (form == 0 && m < 0x80) {
            out[n++] = (u_char) m;

        } else {
            if (form == 0) {
                form = (m < 0x100) ? 1 : (m < 0x10000) ? 2 : 3;
            }

            out[n++] = (u_char) (0x80 | form);

            for (i = form; i > 0; i--) {
                out[n++] = (i > sizeof(size_t)) ? 0
                                                : (u_char) (m >> (8 * (i - 1)));
            }
        }

        memcpy(out + n, inner, m);
        n += m;
        free(inner);

        if (form == -1) {
            out[n++] = 0x00;
            out[n++] = 0x00;
        }
    }

    *sp = s;

    return n;
}


static size_t
der_of(const char *spec, u_char *out)
{
    size_t  n;

    n = der_parse(&spec, out);

    if (*spec != '\0') {
        printf("# unbalanced notation\n");
        abort();
    }

    return n;
}


/* the header of a TLV: one tag octet, a definite length */

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


/*
 * The reader's whole answer on an exact copy: the CRL's, then an
 * error if an entry is one; "entries" (may be NULL) counts them.
 */

static ngx_int_t
crl_rc(const u_char *der, size_t len, const char **why, ngx_uint_t *entries)
{
    u_char                         *copy;
    ngx_int_t                       rc;
    ngx_str_t                       serial;
    ngx_uint_t                      n;
    ngx_http_sekisho_crl_der_t      c;
    ngx_http_sekisho_crl_entries_t  it;

    copy = copy_of(der, len);
    rc = ngx_http_sekisho_crl_der_read(copy, len, &c, why);
    n = 0;

    if (rc == NGX_OK) {
        ngx_http_sekisho_crl_entries_init(&c, &it);

        while ((rc = ngx_http_sekisho_crl_entries_next(&it, &serial, why))
               == NGX_OK)
        {
            n++;
        }

        rc = (rc == NGX_DONE) ? NGX_OK : rc;
    }

    if (entries) {
        *entries = n;
    }

    free(copy);

    return rc;
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


static ngx_uint_t
same(ngx_str_t *s, const u_char *p, int len)
{
    return len >= 0 && s->len == (size_t) len
           && (len == 0 || memcmp(s->data, p, (size_t) len) == 0);
}


/* "s" is the contents of the TLV OpenSSL encoded */

static ngx_uint_t
same_content(ngx_str_t *s, const u_char *tlv, int len)
{
    size_t  h, clen;

    if (len <= 0) {
        return 0;
    }

    h = der_header(tlv, (size_t) len, &clen);

    return h != 0 && h + clen == (size_t) len
           && same(s, tlv + h, (int) clen);
}


static ngx_uint_t
openssl_parses(const u_char *der, size_t len)
{
    X509_CRL      *x;
    ngx_uint_t     parsed;
    const u_char  *p;

    p = der;
    x = d2i_X509_CRL(NULL, &p, (long) len);
    parsed = (x != NULL && p == der + len);
    X509_CRL_free(x);

    return parsed;
}


/*
 * The fields the reader gave for "der" against OpenSSL's view of the
 * same bytes: a bit for each field that disagrees (all of them when
 * OpenSSL cannot parse the bytes).  The tbs is compared with what
 * OpenSSL encodes again from what it read, so anything that is not
 * DER shows.  OpenSSL must also decode the extensions it caches and
 * find no critical one it does not handle.
 */

static ngx_uint_t
compare(const u_char *der, size_t len, ngx_http_sekisho_crl_der_t *c)
{
    int                              n, crit, i, num;
    u_char                          *buf;
    X509_CRL                        *x;
    ngx_str_t                        serial;
    ngx_uint_t                       diff;
    const u_char                    *p;
    ASN1_INTEGER                    *number;
    X509_REVOKED                    *rev;
    X509_EXTENSION                  *ext;
    AUTHORITY_KEYID                 *aki;
    ASN1_ENUMERATED                 *reason;
    const ASN1_TIME                 *next;
    const X509_ALGOR                *alg;
    ISSUING_DIST_POINT              *idp;
    const ASN1_BIT_STRING           *sig;
    STACK_OF(X509_REVOKED)          *revoked;
    const STACK_OF(X509_EXTENSION)  *exts;
    ngx_http_sekisho_crl_entries_t   it;

    p = der;
    x = d2i_X509_CRL(NULL, &p, (long) len);

    if (x == NULL || p != der + len) {
        X509_CRL_free(x);
        return (1 << F_N) - 1;
    }

    diff = 0;

    X509_CRL_get0_signature(x, &sig, &alg);

    buf = NULL;
    n = i2d_X509_ALGOR(alg, &buf);
    diff |= same(&c->sig_alg, buf, n) ? 0 : 1 << F_SIG_ALG;
    OPENSSL_free(buf);

    if (!same(&c->signature, ASN1_STRING_get0_data(sig),
              ASN1_STRING_length(sig))
        || (sig->flags & ASN1_STRING_FLAG_BITS_LEFT && sig->flags & 0x07))
    {
        diff |= 1 << F_SIGNATURE;
    }

    buf = NULL;
    n = i2d_X509_NAME(X509_CRL_get_issuer(x), &buf);
    diff |= same(&c->issuer, buf, n) ? 0 : 1 << F_ISSUER;
    OPENSSL_free(buf);

    if (c->this_update != asn1_time(X509_CRL_get0_lastUpdate(x))) {
        diff |= 1 << F_THIS_UPDATE;
    }

    next = X509_CRL_get0_nextUpdate(x);

    if (c->next_update != (next ? asn1_time(next) : 0)) {
        diff |= 1 << F_NEXT_UPDATE;
    }

    number = X509_CRL_get_ext_d2i(x, NID_crl_number, &crit, NULL);

    if (number) {
        buf = NULL;
        n = i2d_ASN1_INTEGER(number, &buf);
        diff |= same_content(&c->number, buf, n) ? 0 : 1 << F_NUMBER;
        OPENSSL_free(buf);
        ASN1_INTEGER_free(number);

    } else if (crit != -1 || c->number.len) {
        diff |= 1 << F_NUMBER;
    }

    aki = X509_CRL_get_ext_d2i(x, NID_authority_key_identifier, &crit, NULL);

    if (aki) {
        if (aki->keyid
            ? !same(&c->key_id, aki->keyid->data, aki->keyid->length)
            : c->key_id.len != 0)
        {
            diff |= 1 << F_KEY_ID;
        }

        AUTHORITY_KEYID_free(aki);

    } else if (crit != -1 || c->key_id.len) {
        diff |= 1 << F_KEY_ID;
    }

    idp = X509_CRL_get_ext_d2i(x, NID_issuing_distribution_point, &crit,
                               NULL);

    if (idp) {
        if (!c->idp || c->only_user != (idp->onlyuser > 0)
            || c->only_ca != (idp->onlyCA > 0))
        {
            diff |= 1 << F_IDP;
        }

        if (idp->distpoint && idp->distpoint->type == 0) {
            buf = NULL;
            n = i2d_GENERAL_NAMES(idp->distpoint->name.fullname, &buf);
            diff |= same_content(&c->idp_names, buf, n) ? 0
                                                        : 1 << F_IDP_NAMES;
            OPENSSL_free(buf);

        } else if (c->idp_names.len) {
            diff |= 1 << F_IDP_NAMES;
        }

        ISSUING_DIST_POINT_free(idp);

    } else if (crit != -1 || c->idp || c->idp_names.len) {
        diff |= 1 << F_IDP;
    }

    /* X509_CRL_verify() refuses what it does not handle */
    exts = X509_CRL_get0_extensions(x);

    for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        ext = sk_X509_EXTENSION_value(exts, i);
        n = OBJ_obj2nid(X509_EXTENSION_get_object(ext));

        if (X509_EXTENSION_get_critical(ext)
            && n != NID_issuing_distribution_point
            && n != NID_authority_key_identifier)
        {
            diff |= 1 << F_CRITICAL;
        }
    }

    /* the serials in order, each entry as clean to OpenSSL */
    revoked = X509_CRL_get_REVOKED(x);
    num = sk_X509_REVOKED_num(revoked);
    ngx_http_sekisho_crl_entries_init(c, &it);

    if ((num > 0) != (c->revoked.len > 0)) {
        diff |= 1 << F_REVOKED;
    }

    for (i = 0; i < num; i++) {
        rev = sk_X509_REVOKED_value(revoked, i);

        if (ngx_http_sekisho_crl_entries_next(&it, &serial, NULL) != NGX_OK) {
            diff |= 1 << F_REVOKED;
            break;
        }

        buf = NULL;
        n = i2d_ASN1_INTEGER(X509_REVOKED_get0_serialNumber(rev), &buf);
        diff |= same_content(&serial, buf, n) ? 0 : 1 << F_REVOKED;
        OPENSSL_free(buf);

        reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);

        if (reason == NULL && crit != -1) {
            diff |= 1 << F_CRITICAL;
        }

        ASN1_ENUMERATED_free(reason);
        exts = X509_REVOKED_get0_extensions(rev);

        for (n = 0; n < sk_X509_EXTENSION_num(exts); n++) {
            if (X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, n))) {
                diff |= 1 << F_CRITICAL;
            }
        }
    }

    if (i == num
        && ngx_http_sekisho_crl_entries_next(&it, &serial, NULL) != NGX_DONE)
    {
        diff |= 1 << F_REVOKED;
    }

    /* last: it encodes the tbs again, in DER */
    buf = NULL;
    n = i2d_re_X509_CRL_tbs(x, &buf);
    diff |= same(&c->tbs, buf, n) ? 0 : 1 << F_TBS;
    OPENSSL_free(buf);

    X509_CRL_free(x);

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


/* JPKI's issuer, or a municipality's distribution point under it */

static X509_NAME *
make_name(const char *ou)
{
    X509_NAME  *name;

    name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                               (const u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const u_char *) "JPKI", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                               (const u_char *) "JPKI for user authentication",
                               -1, -1, 0);

    if (ou) {
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                                   (const u_char *) "CRL Distribution Points",
                                   -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                                   (const u_char *) ou, -1, -1, 0);
    }

    return name;
}


/* a directoryName and a URI, as a JPKI distribution point has them */

static GENERAL_NAMES *
make_dp_names(const char *city)
{
    char             uri[128];
    GENERAL_NAME    *gen;
    GENERAL_NAMES   *gens;
    ASN1_IA5STRING  *ia5;

    gens = sk_GENERAL_NAME_new_null();

    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_DIRNAME, make_name(city));
    sk_GENERAL_NAME_push(gens, gen);

    snprintf(uri, sizeof(uri), "http://crl.example.jp/auth/%s.crl", city);
    ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, uri, -1);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_URI, ia5);
    sk_GENERAL_NAME_push(gens, gen);

    return gens;
}


static ASN1_TIME *
make_time(const char *s)
{
    ASN1_TIME  *t;

    t = ASN1_TIME_new();

    if (ASN1_TIME_set_string(t, s) != 1) {
        printf("# cannot make the time %s\n", s);
    }

    return t;
}


/*
 * Serials of 1 to 20 octets, some with the top bit set (a leading
 * zero in the DER), and a zero among them.
 */

static void
set_serial(ASN1_INTEGER *ai, ngx_uint_t i)
{
    u_char   bytes[20];
    size_t   n, k;
    BIGNUM  *bn;

    n = 1 + rnd() % 20;

    for (k = 0; k < n; k++) {
        bytes[k] = (u_char) rnd();
    }

    bytes[0] |= (i % 3 == 0) ? 0x80 : 0x01;
    bn = BN_bin2bn(bytes, (int) n, NULL);

    if (i == 7) {
        BN_zero(bn);
    }

    BN_to_ASN1_INTEGER(bn, ai);
    BN_free(bn);
}


/* a CRL of "entries" entries, with what "with" says, signed */

static X509_CRL *
make_crl(ngx_uint_t with, ngx_uint_t entries)
{
    X509_CRL            *crl;
    X509_NAME           *name;
    ASN1_TIME           *t;
    ngx_uint_t           i;
    ASN1_INTEGER        *ai;
    X509_REVOKED        *rev;
    AUTHORITY_KEYID     *aki;
    ASN1_ENUMERATED     *reason;
    ISSUING_DIST_POINT  *idp;

    static u_char  key_id[20] = {
        0x8e, 0x1a, 0x3f, 0x2b, 0x55, 0x10, 0x09, 0xc4, 0x7d, 0x01,
        0x2e, 0x90, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a
    };

    crl = X509_CRL_new();

    /* a new X509_CRL has no version: v1 */
    if (with & WITH_V2) {
        X509_CRL_set_version(crl, X509_CRL_VERSION_2);
    }

    name = make_name(NULL);
    X509_CRL_set_issuer_name(crl, name);
    X509_NAME_free(name);

    t = make_time(this_update);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_free(t);

    if (with & WITH_NEXT) {
        t = make_time(next_update);
        X509_CRL_set1_nextUpdate(crl, t);
        ASN1_TIME_free(t);
    }

    for (i = 0; i < entries; i++) {
        rev = X509_REVOKED_new();
        ai = ASN1_INTEGER_new();
        set_serial(ai, i);
        X509_REVOKED_set_serialNumber(rev, ai);
        ASN1_INTEGER_free(ai);

        t = make_time(i % 2 ? "20240515093000Z" : "240514000000Z");
        X509_REVOKED_set_revocationDate(rev, t);
        ASN1_TIME_free(t);

        if ((with & WITH_ENTRY_EXTS) && i % 2) {
            reason = ASN1_ENUMERATED_new();
            ASN1_ENUMERATED_set(reason, i % 4 == 1 ? CRL_REASON_KEY_COMPROMISE
                                                   : CRL_REASON_SUPERSEDED);
            X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
            ASN1_ENUMERATED_free(reason);
        }

        if ((with & WITH_ENTRY_EXTS) && i % 3 == 1) {
            t = make_time("20240510000000Z");
            X509_REVOKED_add1_ext_i2d(rev, NID_invalidity_date, t, 0, 0);
            ASN1_TIME_free(t);
        }

        X509_CRL_add0_revoked(crl, rev);
    }

    if (with & WITH_AKI) {
        aki = AUTHORITY_KEYID_new();
        aki->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(aki->keyid, key_id, sizeof(key_id));
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0, 0);
        AUTHORITY_KEYID_free(aki);
    }

    if (with & WITH_NUMBER) {
        ai = ASN1_INTEGER_new();
        ASN1_INTEGER_set(ai, 0x1234);
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0);
        ASN1_INTEGER_free(ai);
    }

    if (with & WITH_IDP) {
        idp = ISSUING_DIST_POINT_new();
        idp->distpoint = DIST_POINT_NAME_new();
        idp->distpoint->type = 0;
        idp->distpoint->name.fullname = make_dp_names("Sapporo-shi");
        idp->onlyuser = 0xff;
        X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
        ISSUING_DIST_POINT_free(idp);
    }

    if (with & WITH_FRESHEST) {
        add_private(crl, -1);
    }

    if (with & WITH_PRIVATE) {
        add_private(crl, 0);
    }

    sign_crl(crl, ca_key, EVP_sha256());

    return crl;
}


/*
 * An extension of a private OID (critical 0 or 1), its value a NULL;
 * with critical -1, freshestCRL with a distribution point's URI.
 */

static void
add_private(X509_CRL *crl, int critical)
{
    ASN1_OBJECT        *obj;
    X509_EXTENSION     *ext;
    ASN1_OCTET_STRING  *value;

    static u_char  freshest[] = {
        0x30, 0x1a, 0x30, 0x18, 0xa0, 0x16, 0xa0, 0x14, 0x86, 0x12,
        'h', 't', 't', 'p', ':', '/', '/', 'd', '.', 'j', 'p', '/',
        'd', '.', 'c', 'r', 'l', '/'
    };

    value = ASN1_OCTET_STRING_new();

    if (critical == -1) {
        obj = OBJ_nid2obj(NID_freshest_crl);
        ASN1_OCTET_STRING_set(value, freshest, sizeof(freshest));
        critical = 0;

    } else {
        obj = OBJ_txt2obj("1.2.392.200149.8.5.9.1", 1);
        ASN1_OCTET_STRING_set(value, (const u_char *) "\x05\x00", 2);
    }

    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, value);
    X509_CRL_add_ext(crl, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(obj);
}


static void
sign_crl(X509_CRL *crl, EVP_PKEY *key, const EVP_MD *md)
{
    if (X509_CRL_sign(crl, key, md) == 0) {
        printf("# cannot sign the CRL\n");
    }
}


static u_char *
crl_der(X509_CRL *crl, size_t *len)
{
    int      n;
    u_char  *der, *copy;

    der = NULL;
    n = i2d_X509_CRL(crl, &der);

    if (n <= 0) {
        *len = 0;
        return copy_of((const u_char *) "", 0);
    }

    copy = copy_of(der, (size_t) n);
    *len = (size_t) n;
    OPENSSL_free(der);

    return copy;
}


/* read, every entry too, and every field as OpenSSL reads it */

static void
accepted(X509_CRL *crl, const char *name)
{
    char                        what[160];
    u_char                     *der;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_uint_t                  diff;
    const char                 *why;
    ngx_http_sekisho_crl_der_t  c;

    der = crl_der(crl, &len);
    rc = ngx_http_sekisho_crl_der_read(der, len, &c, &why);

    snprintf(what, sizeof(what), "%s: read", name);
    is_int(rc, NGX_OK, what);

    if (rc != NGX_OK) {
        printf("#   %s\n", why ? why : "(no reason)");

    } else {
        diff = compare(der, len, &c);
        snprintf(what, sizeof(what), "%s: every field as OpenSSL reads it",
                 name);
        ok(diff == 0, what);
        diag_fields(diff);
    }

    free(der);
}


/* a CRL OpenSSL makes and parses, that the reader does not take */

static void
refused(X509_CRL *crl, ngx_int_t want, const char *reason, const char *name)
{
    char         what[160];
    u_char      *der;
    size_t       len;
    ngx_int_t    rc;
    const char  *why;

    der = crl_der(crl, &len);
    why = NULL;
    rc = crl_rc(der, len, &why, NULL);

    if (!openssl_parses(der, len)) {
        printf("# d2i_X509_CRL does not parse it either\n");
    }

    is_int(rc, want, name);

    snprintf(what, sizeof(what), "%s: the reason given", name);
    is_str(why, reason, what);

    free(der);
}


/*
 * The hand-written CRL that the encoding tests change one part of: v2,
 * entries with and without extensions, the AKI, a cRLNumber and an IDP.
 */

static void
kit_default(kit_t *k)
{
    k->outer = "30";
    k->tbs = "30";
    k->version = "02 01 01";
    k->alg = "30{ 06 09 2a864886f70d01010b 05 00 }";
    k->issuer = "30{ 31{ 30{ 06 03 550406 13{'JP'} } }"
                " 31{ 30{ 06 03 55040a 13{'JPKI'} } }"
                " 31{ 30{ 06 03 55040b 13{'JPKI for user authentication'} } }"
                " }";
    k->this_update = "17{'240601000000Z'}";
    k->next_update = "17{'240701000000Z'}";
    k->revoked = "30{"
                 " 30{ 02 02 1234 17{'240515093000Z'} }"
                 " 30{ 02 03 00ff01 17{'240516000000Z'}"
                 "  30{ 30{ 06 03 551d15 04{ 0a 01 01 } } } }"
                 " 30{ 02 01 00 18{'20240517000000Z'}"
                 "  30{ 30{ 06 03 551d18 04{ 18{'20240510000000Z'} } }"
                 "      30{ 06 03 551d15 04{ 0a 01 04 } } } }"
                 " }";
    k->exts = NULL;
    k->aki = "30{ 06 03 551d23"
             " 04{ 30{ 80{ 0102030405060708090a0b0c0d0e0f1011121314 } } } }";
    k->number = "30{ 06 03 551d14 04{ 02 01 2a } }";
    k->idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{"
             " a0{ a0{ 86{'http://crl.example.jp/auth/01100.crl'} } }"
             " 81 01 ff } } }";
    k->more = "";
    k->after = "";
    k->alg_out = NULL;
    k->signature = "03{ 00 deadbeef }";
    k->trailing = "";
}


static size_t
kit_der(kit_t *k, u_char *out)
{
    char   *spec, *exts;
    size_t  n;

    spec = malloc(SPEC_MAX);
    exts = malloc(SPEC_MAX);

    if (k->exts) {
        snprintf(exts, SPEC_MAX, "%s", k->exts);

    } else {
        snprintf(exts, SPEC_MAX, "a0{ 30{ %s %s %s %s } }",
                 k->aki, k->number, k->idp, k->more);
    }

    snprintf(spec, SPEC_MAX, "%s{ %s{ %s %s %s %s %s %s %s %s } %s %s } %s",
             k->outer, k->tbs, k->version, k->alg, k->issuer, k->this_update,
             k->next_update, k->revoked, exts, k->after,
             k->alg_out ? k->alg_out : k->alg, k->signature, k->trailing);

    n = der_of(spec, out);

    free(exts);
    free(spec);

    return n;
}


/*
 * The kit as it now is: the reader's answer and reason ("reason" NULL:
 * not checked); "openssl" 1 or 0 says whether d2i_X509_CRL() parses
 * it, -1 leaves that unchecked (the reader's answer alone matters).
 */

static void
kit_case(kit_t *k, ngx_int_t want, const char *reason, ngx_int_t openssl,
    const char *name)
{
    char                        what[200];
    u_char                     *der;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_uint_t                  parsed, diff;
    const char                 *why;
    ngx_http_sekisho_crl_der_t  c;

    der = malloc(SPEC_MAX);
    len = kit_der(k, der);
    why = NULL;
    rc = crl_rc(der, len, &why, NULL);
    is_int(rc, want, name);

    if (rc != want && why) {
        printf("#   reason: %s\n", why);
    }

    if (reason) {
        snprintf(what, sizeof(what), "%s: the reason given", name);
        is_str(why, reason, what);
    }

    parsed = openssl_parses(der, len);

    if (openssl == -1) {
        printf("#   d2i_X509_CRL %s it\n", parsed ? "parses" : "refuses");

    } else {
        snprintf(what, sizeof(what), "%s: d2i_X509_CRL %s it", name,
                 openssl ? "parses" : "refuses");
        ok(parsed == (ngx_uint_t) openssl, what);
    }

    if (want == NGX_OK && rc == NGX_OK) {
        ngx_http_sekisho_crl_der_read(der, len, &c, NULL);
        diff = compare(der, len, &c);
        snprintf(what, sizeof(what), "%s: every field as OpenSSL reads it",
                 name);
        ok(diff == 0, what);
        diag_fields(diff);
    }

    free(der);
}


/* CRLs made with OpenSSL's API, read as OpenSSL reads them */

static void
test_made(void)
{
    BIGNUM        *bn;
    X509_CRL      *crl;
    ASN1_TIME     *t;
    ASN1_INTEGER  *ai;

    crl = make_crl(WITH_ALL, 40);
    accepted(crl, "a v2 CRL with every extension and 40 entries");
    X509_CRL_free(crl);

    crl = make_crl(WITH_V2 | WITH_NEXT, 12);
    accepted(crl, "a v2 CRL without extensions");
    X509_CRL_free(crl);

    crl = make_crl(WITH_V2 | WITH_NEXT | WITH_AKI | WITH_NUMBER, 0);
    accepted(crl, "a v2 CRL without entries (revokedCertificates absent)");
    X509_CRL_free(crl);

    crl = make_crl(0, 9);
    accepted(crl, "a v1 CRL (no version) without nextUpdate");
    X509_CRL_free(crl);

    crl = make_crl(WITH_NEXT, 0);
    accepted(crl, "a v1 CRL with no entries at all");
    X509_CRL_free(crl);

    crl = make_crl(WITH_V2 | WITH_AKI | WITH_IDP | WITH_ENTRY_EXTS, 5);
    accepted(crl, "a v2 CRL without nextUpdate");
    X509_CRL_free(crl);

    /* after 2049, GeneralizedTime (RFC 5280 5.1.2.4) */
    crl = make_crl(WITH_ALL, 3);
    t = make_time("20500101000000Z");
    X509_CRL_set1_nextUpdate(crl, t);
    ASN1_TIME_free(t);
    sign_crl(crl, ca_key, EVP_sha256());
    accepted(crl, "a nextUpdate in 2050, a GeneralizedTime");
    X509_CRL_free(crl);

    /* a cRLNumber of 20 octets, the top bit set: 21 in the DER */
    crl = make_crl(WITH_V2 | WITH_AKI, 0);
    bn = NULL;
    BN_hex2bn(&bn, "ffffffffffffffffffffffffffffffffffffffff");
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0);
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    sign_crl(crl, ca_key, EVP_sha256());
    accepted(crl, "a cRLNumber of 20 octets");
    X509_CRL_free(crl);
}


/* the algorithm's parameters: NULL, absent, and a SEQUENCE */

static void
test_signatures(void)
{
    X509_CRL      *crl;
    EVP_PKEY      *ec;
    EVP_MD_CTX    *md;
    EVP_PKEY_CTX  *pc;

    crl = make_crl(WITH_ALL, 4);
    sign_crl(crl, ca_key, EVP_sha384());
    accepted(crl, "sha384WithRSAEncryption");
    X509_CRL_free(crl);

    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    crl = make_crl(WITH_ALL, 4);
    sign_crl(crl, ec, EVP_sha256());
    accepted(crl, "ecdsa-with-SHA256 (no parameters)");
    X509_CRL_free(crl);
    EVP_PKEY_free(ec);

    crl = make_crl(WITH_ALL, 4);
    md = EVP_MD_CTX_new();
    pc = NULL;

    if (EVP_DigestSignInit(md, &pc, EVP_sha256(), NULL, ca_key) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1
        || X509_CRL_sign_ctx(crl, md) == 0)
    {
        printf("# cannot sign with RSASSA-PSS\n");
    }

    EVP_MD_CTX_free(md);
    accepted(crl, "RSASSA-PSS (parameters in a SEQUENCE)");
    X509_CRL_free(crl);
}


/* well-formed CRLs that must not decide a card's revocation */

static void
test_declined(void)
{
    X509_CRL            *crl;
    ASN1_TIME           *t;
    X509_REVOKED        *rev;
    ASN1_INTEGER        *ai;
    GENERAL_NAMES       *gens;
    AUTHORITY_KEYID     *aki;
    ASN1_ENUMERATED     *reason;
    ASN1_BIT_STRING     *bits;
    ISSUING_DIST_POINT  *idp;

    crl = make_crl(WITH_ALL, 3);
    ai = ASN1_INTEGER_new();
    ASN1_INTEGER_set(ai, 0x1200);
    X509_CRL_add1_ext_i2d(crl, NID_delta_crl, ai, 1, 0);
    ASN1_INTEGER_free(ai);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "a delta CRL", "a delta CRL declined");
    X509_CRL_free(crl);

    /* the IDP's ways of covering part of what the CA revokes */
    crl = make_crl(WITH_ALL & ~WITH_IDP, 3);
    idp = ISSUING_DIST_POINT_new();
    idp->distpoint = DIST_POINT_NAME_new();
    idp->distpoint->type = 0;
    idp->distpoint->name.fullname = make_dp_names("Naha-shi");
    bits = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set_bit(bits, 1, 1);
    idp->onlysomereasons = bits;
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "an IDP with onlySomeReasons",
            "an IDP with onlySomeReasons declined");
    X509_CRL_free(crl);

    crl = make_crl(WITH_ALL & ~WITH_IDP, 3);
    ASN1_BIT_STRING_free(idp->onlysomereasons);
    idp->onlysomereasons = NULL;
    idp->indirectCRL = 0xff;
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "an indirect CRL",
            "an IDP with indirectCRL declined");
    X509_CRL_free(crl);

    crl = make_crl(WITH_ALL & ~WITH_IDP, 3);
    idp->indirectCRL = 0;
    idp->onlyattr = 0xff;
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "an IDP with onlyContainsAttributeCerts",
            "an IDP with onlyContainsAttributeCerts declined");
    X509_CRL_free(crl);

    crl = make_crl(WITH_ALL & ~WITH_IDP, 3);
    idp->onlyattr = 0;
    idp->onlyuser = 0xff;
    idp->onlyCA = 0xff;
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED,
            "an IDP with onlyContainsUserCerts and onlyContainsCACerts",
            "an IDP with both onlyContainsUserCerts and onlyContainsCACerts"
            " declined");
    X509_CRL_free(crl);

    /* onlyContainsCACerts alone is read: the caller decides */
    crl = make_crl(WITH_ALL & ~WITH_IDP, 3);
    idp->onlyuser = 0;
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    sign_crl(crl, ca_key, EVP_sha256());
    accepted(crl, "an IDP with onlyContainsCACerts");
    X509_CRL_free(crl);

    crl = make_crl(WITH_ALL & ~WITH_IDP, 3);
    idp->onlyCA = 0;
    GENERAL_NAMES_free(idp->distpoint->name.fullname);
    idp->distpoint->type = 1;
    idp->distpoint->name.relativename = sk_X509_NAME_ENTRY_new_null();
    sk_X509_NAME_ENTRY_push(idp->distpoint->name.relativename,
                            X509_NAME_ENTRY_create_by_txt(NULL, "CN",
                                MBSTRING_ASC, (const u_char *) "Naha-shi",
                                -1));
    X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "an IDP with a nameRelativeToCRLIssuer",
            "an IDP with a nameRelativeToCRLIssuer declined");
    X509_CRL_free(crl);
    ISSUING_DIST_POINT_free(idp);

    crl = make_crl(WITH_ALL & ~WITH_PRIVATE, 3);
    add_private(crl, 1);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "an unknown critical CRL extension",
            "an unknown critical CRL extension declined");
    X509_CRL_free(crl);

    /* known, but OpenSSL's X509_CRL_verify() refuses them critical */
    crl = make_crl(WITH_V2 | WITH_NEXT | WITH_AKI, 3);
    ai = ASN1_INTEGER_new();
    ASN1_INTEGER_set(ai, 7);
    X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 1, 0);
    ASN1_INTEGER_free(ai);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_DECLINED, "a critical cRLNumber",
            "a critical cRLNumber declined");
    X509_CRL_free(crl);

    /* the AKI and the IDP may be critical, as OpenSSL has it */
    crl = make_crl(WITH_V2 | WITH_NEXT | WITH_NUMBER | WITH_IDP, 3);
    aki = AUTHORITY_KEYID_new();
    aki->keyid = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(aki->keyid, (const u_char *) "\x01\x02\x03", 3);
    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 1, 0);
    AUTHORITY_KEYID_free(aki);
    sign_crl(crl, ca_key, EVP_sha256());
    accepted(crl, "a critical authorityKeyIdentifier");
    X509_CRL_free(crl);

    /* an indirect CRL's entry, and what only a delta CRL may say */
    crl = make_crl(WITH_ALL, 0);
    rev = X509_REVOKED_new();
    ai = ASN1_INTEGER_new();
    ASN1_INTEGER_set(ai, 0x77);
    X509_REVOKED_set_serialNumber(rev, ai);
    ASN1_INTEGER_free(ai);
    t = make_time(this_update);
    X509_REVOKED_set_revocationDate(rev, t);
    ASN1_TIME_free(t);
    gens = make_dp_names("Naha-shi");
    X509_REVOKED_add1_ext_i2d(rev, NID_certificate_issuer, gens, 1, 0);
    GENERAL_NAMES_free(gens);
    X509_CRL_add0_revoked(crl, rev);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_ERROR, "a certificateIssuer (an indirect CRL)",
            "an entry with a certificateIssuer is an error");
    X509_CRL_free(crl);

    crl = make_crl(WITH_ALL, 0);
    rev = X509_REVOKED_new();
    ai = ASN1_INTEGER_new();
    ASN1_INTEGER_set(ai, 0x78);
    X509_REVOKED_set_serialNumber(rev, ai);
    ASN1_INTEGER_free(ai);
    t = make_time(this_update);
    X509_REVOKED_set_revocationDate(rev, t);
    ASN1_TIME_free(t);
    reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, CRL_REASON_REMOVE_FROM_CRL);
    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    X509_CRL_add0_revoked(crl, rev);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_ERROR, "a reasonCode removeFromCRL in a complete CRL",
            "an entry removeFromCRL in a complete CRL is an error");
    X509_CRL_free(crl);
}


/* the walk over the entries, on the hand-written CRL */

static void
test_entries(void)
{
    kit_t                           k;
    u_char                         *der, *cut;
    size_t                          len, n, i, bad;
    ngx_int_t                       rc;
    ngx_str_t                       serial, revoked;
    ngx_uint_t                      count, at_end;
    const char                     *why;
    ngx_http_sekisho_crl_der_t      c;
    ngx_http_sekisho_crl_entries_t  it;

    kit_default(&k);
    der = malloc(SPEC_MAX);
    len = kit_der(&k, der);

    rc = ngx_http_sekisho_crl_der_read(der, len, &c, NULL);
    is_int(rc, NGX_OK, "the hand-written CRL is read");

    ngx_http_sekisho_crl_entries_init(&c, &it);

    rc = ngx_http_sekisho_crl_entries_next(&it, &serial, NULL);
    ok(rc == NGX_OK && serial.len == 2
       && memcmp(serial.data, "\x12\x34", 2) == 0,
       "the first serial, 12 34");

    rc = ngx_http_sekisho_crl_entries_next(&it, &serial, NULL);
    ok(rc == NGX_OK && serial.len == 3
       && memcmp(serial.data, "\x00\xff\x01", 3) == 0,
       "the second serial with its leading zero kept, 00 ff 01");

    rc = ngx_http_sekisho_crl_entries_next(&it, &serial, NULL);
    ok(rc == NGX_OK && serial.len == 1 && serial.data[0] == 0,
       "the third serial, zero, is read (it is not negative)");

    is_int(ngx_http_sekisho_crl_entries_next(&it, &serial, NULL), NGX_DONE,
           "then the end");
    is_int(ngx_http_sekisho_crl_entries_next(&it, &serial, NULL), NGX_DONE,
           "and the end again");

    /* the list cut anywhere: the end at an entry's end, else an error */
    revoked = c.revoked;
    bad = 0;
    at_end = 0;

    for (n = 0; n <= revoked.len; n++) {
        cut = copy_of(revoked.data, n);
        it.pos = cut;
        it.end = cut + n;
        it.v2 = 1;
        count = 0;

        while ((rc = ngx_http_sekisho_crl_entries_next(&it, &serial, &why))
               == NGX_OK)
        {
            count++;
        }

        if (rc == NGX_DONE) {
            at_end++;

            /* an entry's end is where the next entry's tag is */
            if (n != revoked.len && revoked.data[n] != 0x30) {
                bad++;
            }

        } else if (rc != NGX_ERROR || why == NULL || it.pos == it.end) {
            bad++;
        }

        free(cut);
    }

    is_int(at_end, 4, "the list cut at its 4 entry boundaries ends well");
    is_int(bad, 0, "the list cut elsewhere ends in an error, with a reason");

    /* after an error the walk stays on the entry */
    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'} }"
                " 30{ 02 01 ff 17{'240515093000Z'} } }";
    len = kit_der(&k, der);
    rc = ngx_http_sekisho_crl_der_read(der, len, &c, NULL);
    ngx_http_sekisho_crl_entries_init(&c, &it);
    rc = ngx_http_sekisho_crl_entries_next(&it, &serial, NULL);
    rc = ngx_http_sekisho_crl_entries_next(&it, &serial, &why);
    i = (size_t) (it.pos - c.revoked.data);
    ok(rc == NGX_ERROR
       && ngx_http_sekisho_crl_entries_next(&it, &serial, NULL) == NGX_ERROR
       && i == 20,
       "a bad entry stays an error, the walk on it");

    /* no list at all */
    kit_default(&k);
    k.revoked = "";
    len = kit_der(&k, der);
    rc = ngx_http_sekisho_crl_der_read(der, len, &c, NULL);
    ngx_http_sekisho_crl_entries_init(&c, &it);
    ok(rc == NGX_OK && c.revoked.len == 0
       && ngx_http_sekisho_crl_entries_next(&it, &serial, NULL) == NGX_DONE,
       "a CRL without revokedCertificates: the end at once");

    free(der);
}


/* the hand-written CRL as it is: the control for what follows */

static void
test_control(void)
{
    kit_t                       k;
    u_char                     *der;
    size_t                      len;
    ngx_http_sekisho_crl_der_t  c;

    kit_default(&k);
    kit_case(&k, NGX_OK, NULL, 1, "control: the hand-written CRL is read");

    der = malloc(SPEC_MAX);
    len = kit_der(&k, der);

    if (ngx_http_sekisho_crl_der_read(der, len, &c, NULL) == NGX_OK) {
        ok(c.v2 && c.idp && c.only_user && !c.only_ca
           && c.number.len == 1 && c.number.data[0] == 0x2a
           && c.key_id.len == 20 && c.key_id.data[0] == 0x01
           && c.idp_names.len == 2 + sizeof("http://crl.example.jp/auth/"
                                            "01100.crl") - 1
           && c.idp_names.data[0] == 0x86
           && c.signature.len == 4 && c.signature.data[0] == 0xde
           && c.this_update == 1717200000 && c.next_update == 1719792000,
           "control: its fields, by hand");

    } else {
        ok(0, "control: its fields, by hand");
    }

    free(der);

    kit_default(&k);
    k.next_update = "";
    kit_case(&k, NGX_OK, NULL, 1, "control: without nextUpdate");

    /* RFC 5280 wants UTCTime before 2050; OpenSSL takes both, as here */
    kit_default(&k);
    k.this_update = "18{'20240601000000Z'}";
    kit_case(&k, NGX_OK, NULL, 1,
             "a GeneralizedTime before 2050 is read, as OpenSSL reads it");

    kit_default(&k);
    k.version = "";
    k.exts = "";
    k.revoked = "30{ 30{ 02 02 1234 17{'240515093000Z'} } }";
    kit_case(&k, NGX_OK, NULL, 1, "control: a v1 CRL, by hand");

    kit_default(&k);
    k.alg = "30{ 06 09 2a864886f70d01010b }";
    kit_case(&k, NGX_OK, NULL, 1,
             "an algorithm without its NULL, the same outside, is read");
}


/* lengths, forms and what follows the end */

static void
test_encoding(void)
{
    kit_t  k;

    /*
     * OpenSSL's decoder is BER: it takes a long-form length that
     * should be short, leading zeros, and the indefinite form.
     */

    kit_default(&k);
    k.revoked = "30{ 30~1{ 02 02 1234 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, NULL, 1,
             "a short length in the long form (81 1d) is an error");

    kit_default(&k);
    k.tbs = "30~3";
    kit_case(&k, NGX_ERROR, "no TBSCertList", 1,
             "a length with a leading zero octet (83 00 ..) is an error");

    kit_default(&k);
    k.outer = "30~5";
    kit_case(&k, NGX_ERROR, "not a single DER SEQUENCE", 1,
             "a length in five octets is an error");

    kit_default(&k);
    k.tbs = "30~i";
    kit_case(&k, NGX_ERROR, "no TBSCertList", 1,
             "an indefinite length (80 .. 00 00) is an error");

    kit_default(&k);
    k.outer = "30~i";
    kit_case(&k, NGX_ERROR, NULL, 1,
             "the CRL itself of indefinite length is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 1234 17~i{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, "a malformed revocationDate", -1,
             "a time in the constructed indefinite form is an error");

    /* after the end */
    kit_default(&k);
    k.trailing = "00";
    kit_case(&k, NGX_ERROR, "not a single DER SEQUENCE", 0,
             "a zero octet after the CRL is an error");

    kit_default(&k);
    k.trailing = "30{ }";
    kit_case(&k, NGX_ERROR, "not a single DER SEQUENCE", 0,
             "an element after the CRL is an error");

    kit_default(&k);
    k.signature = "03{ 00 deadbeef } 05 00";
    kit_case(&k, NGX_ERROR, "bytes after the signatureValue", 0,
             "an element after the signature is an error");

    kit_default(&k);
    k.after = "05 00";
    kit_case(&k, NGX_ERROR, NULL, 0,
             "an element after the extensions is an error");

    kit_default(&k);
    k.after = "bf81 00";
    kit_case(&k, NGX_ERROR, NULL, 0,
             "a tag in the high-tag-number form is an error");

    /* INTEGERs: OpenSSL refuses padding and no contents, takes a sign */
    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 0012 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, "a malformed or negative serial in a CRL entry",
             0, "a serial with a needless zero octet is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 ff92 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, NULL, 0,
             "a serial with a needless ff octet is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 00 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, NULL, 0, "a serial of no octets is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 85 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, "a malformed or negative serial in a CRL entry",
             1, "a negative serial is an error (OpenSSL takes it)");

    kit_default(&k);
    k.revoked = "30{ 30{ 22{ 02 01 05 } 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, NULL, 0,
             "a serial in the constructed form is an error");

    /* BOOLEANs: DER has TRUE as ff, and leaves FALSE out */
    kit_default(&k);
    k.more = "30{ 06 03 551d2e 01 01 00 04{ 30{ 30{ a0{ a0{ 86{'x'} } } } } }"
             " }";
    kit_case(&k, NGX_ERROR, "a malformed CRL extension", 1,
             "an explicit critical FALSE is an error (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 01 04{ 30{ 81 01 ff } } }";
    kit_case(&k, NGX_ERROR, NULL, 1,
             "a TRUE of 01 is an error (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 02 ffff 04{ 30{ 81 01 ff } } }";
    kit_case(&k, NGX_ERROR, NULL, 0, "a BOOLEAN of two octets is an error");

    /* the signature: whole octets */
    kit_default(&k);
    k.signature = "03{ 04 deadbee0 }";
    kit_case(&k, NGX_ERROR, "a malformed signatureValue", 1,
             "a signature with unused bits is an error (OpenSSL takes it)");

    kit_default(&k);
    k.signature = "03{ 00 }";
    kit_case(&k, NGX_ERROR, "a malformed signatureValue", 1,
             "an empty signature is an error (OpenSSL takes it)");

    kit_default(&k);
    k.signature = "04{ 00 deadbeef }";
    kit_case(&k, NGX_ERROR, "a malformed signatureValue", 0,
             "a signature in an OCTET STRING is an error");
}


/* the TBSCertList's parts and their order */

static void
test_structure(void)
{
    kit_t  k;

    /* RFC 5280 5.1.2.1: v1 has no version field, and v2 is 1 */
    kit_default(&k);
    k.version = "02 01 00";
    kit_case(&k, NGX_ERROR, "a version other than v2", 1,
             "an explicit v1 version is an error (OpenSSL takes it)");

    kit_default(&k);
    k.version = "02 01 02";
    kit_case(&k, NGX_ERROR, "a version other than v2", 1,
             "version 3 is an error (OpenSSL takes it)");

    kit_default(&k);
    k.version = "02 02 0001";
    kit_case(&k, NGX_ERROR, "a version other than v2", 0,
             "a version with a needless zero is an error");

    kit_default(&k);
    k.version = "";
    kit_case(&k, NGX_ERROR, "extensions in a v1 CRL", 1,
             "a v1 CRL with extensions is an error (OpenSSL takes it)");

    kit_default(&k);
    k.version = "";
    k.exts = "";
    kit_case(&k, NGX_ERROR, "entry extensions in a v1 CRL", 1,
             "a v1 CRL with entry extensions is an error"
             " (OpenSSL takes it)");

    /* the algorithms */
    kit_default(&k);
    k.alg_out = "30{ 06 09 2a864886f70d01010c 05 00 }";
    kit_case(&k, NGX_ERROR,
             "the signature algorithms inside and outside differ", 1,
             "sha256 inside, sha384 outside is an error");

    kit_default(&k);
    k.alg_out = "30{ 06 09 2a864886f70d01010b }";
    kit_case(&k, NGX_ERROR,
             "the signature algorithms inside and outside differ", 1,
             "the NULL inside only is an error");

    kit_default(&k);
    k.alg = "30{ 06 09 2a864886f70d01010b 02 01 00 }";
    kit_case(&k, NGX_ERROR, "a malformed signatureAlgorithm", 1,
             "parameters of another type are an error");

    kit_default(&k);
    k.alg = "30{ 06 09 2a864886f70d01010b 05 01 00 }";
    kit_case(&k, NGX_ERROR, "a malformed signatureAlgorithm", 0,
             "a NULL with contents is an error");

    kit_default(&k);
    k.alg = "30{ 06 0a 2a864886f70d0101800b 05 00 }";
    kit_case(&k, NGX_ERROR, "a malformed signatureAlgorithm", 0,
             "an OID with a subidentifier padded with 80 is an error");

    kit_default(&k);
    k.alg = "30{ 06 09 2a864886f70d01018b 05 00 }";
    kit_case(&k, NGX_ERROR, "a malformed signatureAlgorithm", 0,
             "an OID ending inside a subidentifier is an error");

    /* RFC 5280 5.1.2.6: "When there are no revoked certificates, the
     * revoked certificates list MUST be absent"; OpenSSL takes it */
    kit_default(&k);
    k.revoked = "30{ }";
    kit_case(&k, NGX_ERROR, "an empty or malformed revokedCertificates", 1,
             "an empty revokedCertificates is an error (OpenSSL takes it)");

    kit_default(&k);
    k.revoked = "31{ 30{ 02 02 1234 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, "an unexpected element in the TBSCertList", 0,
             "revokedCertificates as a SET is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 1234 17{'240515093000Z'} } }"
                " 30{ 30{ 02 02 1235 17{'240515093000Z'} } }";
    kit_case(&k, NGX_ERROR, NULL, 0, "two revoked lists are an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 1234 } }";
    kit_case(&k, NGX_ERROR, "a malformed revocationDate", 0,
             "an entry without its date is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 1234 17{'240515093000Z'} 05 00 } }";
    kit_case(&k, NGX_ERROR, "malformed CRL entry extensions", 0,
             "an entry with a NULL after its date is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 02 1234 17{'2405150930Z'} } }";
    kit_case(&k, NGX_ERROR, "a malformed revocationDate", -1,
             "a revocationDate without seconds is an error");

    /* the times */
    kit_default(&k);
    k.this_update = "";
    k.next_update = "";
    kit_case(&k, NGX_ERROR, "a malformed thisUpdate", 0,
             "no thisUpdate is an error");

    kit_default(&k);
    k.this_update = "18{'20240601000000.5Z'}";
    kit_case(&k, NGX_ERROR, "a malformed thisUpdate", 1,
             "a thisUpdate with a fraction is an error (OpenSSL takes it)");

    kit_default(&k);
    k.this_update = "17{'240601000000+0900'}";
    kit_case(&k, NGX_ERROR, "a malformed thisUpdate", 1,
             "a thisUpdate with an offset is an error (OpenSSL takes it)");

    kit_default(&k);
    k.this_update = "17{'240631000000Z'}";
    kit_case(&k, NGX_ERROR, "a malformed thisUpdate", -1,
             "a thisUpdate of June 31 is an error");

    kit_default(&k);
    k.next_update = "17{'240501000000Z'}";
    kit_case(&k, NGX_ERROR, "a nextUpdate not after thisUpdate", 1,
             "a nextUpdate before thisUpdate is an error (OpenSSL takes it)");

    kit_default(&k);
    k.next_update = "17{'240601000000Z'}";
    kit_case(&k, NGX_ERROR, "a nextUpdate not after thisUpdate", 1,
             "a nextUpdate equal to thisUpdate is an error");

    kit_default(&k);
    k.this_update = "17{'600601000000Z'}";
    k.next_update = "17{'700101000000Z'}";
    kit_case(&k, NGX_ERROR, "a nextUpdate not after thisUpdate", 1,
             "a nextUpdate of the epoch (0 says absent) is an error");

    kit_default(&k);
    k.next_update = "04{'240701000000Z'}";
    kit_case(&k, NGX_ERROR, NULL, 0, "a time in an OCTET STRING is an error");

    /* the extensions' wrapping */
    kit_default(&k);
    k.exts = "a0{ 30{ } }";
    kit_case(&k, NGX_ERROR, "malformed crlExtensions", 1,
             "an empty extensions list is an error (OpenSSL takes it)");

    kit_default(&k);
    k.exts = "a0{ 30{ 30{ 06 03 551d14 04{ 02 01 2a } } } 30{ } }";
    kit_case(&k, NGX_ERROR, "malformed crlExtensions", 0,
             "two lists in the [0] are an error");

    kit_default(&k);
    k.exts = "a1{ 30{ 30{ 06 03 551d14 04{ 02 01 2a } } } }";
    kit_case(&k, NGX_ERROR, "an unexpected element in the TBSCertList", 0,
             "extensions under [1] are an error");

    kit_default(&k);
    k.exts = "30{ 30{ 06 03 551d14 04{ 02 01 2a } } }";
    kit_case(&k, NGX_ERROR, "an unexpected element in the TBSCertList", 0,
             "extensions without their [0] are an error");

    kit_default(&k);
    k.issuer = "";
    kit_case(&k, NGX_ERROR, NULL, 0, "no issuer is an error");

    kit_default(&k);
    k.tbs = "31";
    kit_case(&k, NGX_ERROR, "no TBSCertList", 0,
             "a TBSCertList as a SET is an error");
}


/* the issuer's Name, as d2i_X509_NAME() would have it and a bit more */

static void
test_names(void)
{
    char         *value;
    kit_t         k;
    X509_CRL     *crl;
    ASN1_OBJECT  *obj;

    kit_default(&k);
    k.issuer = "30{ }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 1,
             "an empty issuer is an error (RFC 5280 5.1.2.3;"
             " OpenSSL takes it)");

    kit_default(&k);
    k.issuer = "30{ 31{ } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", -1,
             "an empty RDN is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550406 13{'JP'} }"
               " 30{ 06 03 55040a 13{'JPKI'} } } }";
    kit_case(&k, NGX_OK, NULL, 1, "a multi-valued RDN in DER order is read");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 55040a 13{'JPKI'} }"
               " 30{ 06 03 550406 13{'JP'} } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 1,
             "a multi-valued RDN out of order is an error"
             " (OpenSSL takes it)");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 0c{ e69cade5b98ce5b882 } } } }";
    kit_case(&k, NGX_OK, NULL, 1, "a UTF8String in Japanese is read");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 0c{ c328 } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 0,
             "a UTF8String that is not UTF-8 is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 0c{ eda080 } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", -1,
             "a UTF8String with a surrogate is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 1e{ 672d5e4c } } } }";
    kit_case(&k, NGX_OK, NULL, 1, "a BMPString is read");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 1e{ 672d5e } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 0,
             "a BMPString of odd length is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 1e{ d800dc00 } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", -1,
             "a BMPString with surrogates is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 13{'a@b'} } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 1,
             "a PrintableString with an @ is an error (OpenSSL takes it)");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 09 2a864886f70d010901 16{'a@b.jp'} } } }";
    kit_case(&k, NGX_OK, NULL, 1, "an IA5String is read");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 14{'JPKI'} } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 1,
             "a TeletexString is an error (OpenSSL takes it)");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 13{ } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 1,
             "an empty attribute value is an error (OpenSSL takes it)");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 02 01 05 } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 0,
             "an INTEGER attribute value is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 04 55800403 13{'JPKI'} } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 0,
             "an attribute type with a padded subidentifier is an error");

    kit_default(&k);
    k.issuer = "30{ 31{ 30{ 06 03 550403 13{'JPKI'} 05 00 } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuer name", 0,
             "an attribute with a third element is an error");

    /* a name over 64 KB: OpenSSL takes up to 1 MB */
    value = malloc(70001);
    memset(value, 'J', 70000);
    value[70000] = '\0';
    crl = make_crl(WITH_ALL, 1);
    obj = OBJ_txt2obj("1.2.392.200149.8.5.9.2", 1);
    X509_NAME_add_entry_by_OBJ(X509_CRL_get_issuer(crl), obj, MBSTRING_ASC,
                               (const u_char *) value, -1, -1, 0);
    ASN1_OBJECT_free(obj);
    sign_crl(crl, ca_key, EVP_sha256());
    refused(crl, NGX_ERROR, "a malformed issuer name",
            "an issuer name over 64 KB is an error");
    X509_CRL_free(crl);
    free(value);
}


/* the CRL extensions one by one */

static void
test_extensions(void)
{
    int    i;
    char   more[4096];
    kit_t  k;

    /* authorityKeyIdentifier */
    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{ 80{ 0102 }"
            " a1{ a4{ 30{ 31{ 30{ 06 03 550406 13{'JP'} } } } } } 82 01 01 } }"
            " }";
    kit_case(&k, NGX_OK, NULL, 1,
             "an AKI with a key id, an issuer and a serial is read");

    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{"
            " a1{ a4{ 30{ 31{ 30{ 06 03 550406 13{'JP'} } } } } } 82 01 01 } }"
            " }";
    kit_case(&k, NGX_OK, NULL, 1,
             "an AKI with an issuer and a serial alone is read, no key id");

    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{ 80{ 0102 }"
            " a1{ a4{ 30{ 31{ 30{ 06 03 550406 13{'JP'} } } } } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed authorityKeyIdentifier", 1,
             "an AKI with an issuer and no serial is an error"
             " (RFC 5280 4.2.1.1; OpenSSL takes it)");

    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{ } } }";
    kit_case(&k, NGX_ERROR, "a malformed authorityKeyIdentifier", 1,
             "an empty AKI is an error (OpenSSL takes it)");

    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{ 80{ } } } }";
    kit_case(&k, NGX_ERROR, "a malformed authorityKeyIdentifier", 1,
             "an AKI with an empty key id is an error (OpenSSL takes it)");

    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{ 82 01 01 80{ 0102 } } } }";
    kit_case(&k, NGX_ERROR, "a malformed authorityKeyIdentifier", -1,
             "an AKI's fields out of order are an error");

    kit_default(&k);
    k.aki = "30{ 06 03 551d23 04{ 30{ 80{ 0102 } } 00 } }";
    kit_case(&k, NGX_ERROR, "a malformed authorityKeyIdentifier", 1,
             "a byte after the AKI in its value is an error");

    /* cRLNumber */
    kit_default(&k);
    k.number = "30{ 06 03 551d14 04{ 02 01 ff } }";
    kit_case(&k, NGX_ERROR, "a malformed cRLNumber", 1,
             "a negative cRLNumber is an error (OpenSSL takes it)");

    kit_default(&k);
    k.number = "30{ 06 03 551d14 04{ 02 15 01"
               " 0000000000000000000000000000000000000000 } }";
    kit_case(&k, NGX_ERROR, "a malformed cRLNumber", 1,
             "a cRLNumber of 21 octets is an error (OpenSSL takes it)");

    kit_default(&k);
    k.number = "30{ 06 03 551d14 04{ 04 01 2a } }";
    kit_case(&k, NGX_ERROR, "a malformed cRLNumber", 1,
             "a cRLNumber that is not an INTEGER is an error");

    kit_default(&k);
    k.number = "30{ 06 03 551d14 04{ 02 01 2a 00 } }";
    kit_case(&k, NGX_ERROR, "a malformed cRLNumber", 1,
             "a byte after the cRLNumber in its value is an error");

    kit_default(&k);
    k.number = "30{ 06 03 551d14 04{ 02 01 2a } }"
               " 30{ 06 03 551d14 04{ 02 01 2b } }";
    kit_case(&k, NGX_ERROR, "a CRL extension present twice", 1,
             "two cRLNumbers are an error (OpenSSL takes them)");

    kit_default(&k);
    k.more = "30{ 06 03 2a0304 04{ 05 00 } } 30{ 06 03 2a0304 04{ 05 00 } }";
    kit_case(&k, NGX_ERROR, "a CRL extension present twice", 1,
             "an unknown extension twice is an error");

    /* as many as the reader takes, and one more */
    more[0] = '\0';

    for (i = 0; i < 29; i++) {
        snprintf(more + strlen(more), sizeof(more) - strlen(more),
                 "30{ 06 04 2a0304%02x 04{ 05 00 } } ", i);
    }

    kit_default(&k);
    k.more = more;
    kit_case(&k, NGX_OK, NULL, 1, "32 CRL extensions are read");

    snprintf(more + strlen(more), sizeof(more) - strlen(more),
             "30{ 06 04 2a0304%02x 04{ 05 00 } } ", i);
    kit_case(&k, NGX_ERROR, "too many CRL extensions", 1,
             "33 CRL extensions are an error");

    kit_default(&k);
    k.more = "30{ 06 03 551d12 04{ 30{ 86{'http://jpki.jp/'} } } }";
    kit_case(&k, NGX_OK, NULL, 1, "an issuerAltName is read (left alone)");

    kit_default(&k);
    k.more = "30{ 06 03 551d2e 01 01 ff 04{ 30{ 30{ a0{ a0{ 86{'x'} } } } } }"
             " }";
    kit_case(&k, NGX_DECLINED, "a critical freshestCRL", 1,
             "a critical freshestCRL declined");

    /* declining, and the errors that still come first */
    kit_default(&k);
    k.more = "30{ 06 03 551d1b 01 01 ff 04{ 02 01 05 } }";
    kit_case(&k, NGX_DECLINED, "a delta CRL", 1, "a delta CRL declined");

    kit_default(&k);
    k.more = "30{ 06 03 551d1b 01 01 ff 04{ 02 01 85 } }";
    kit_case(&k, NGX_ERROR, "a malformed deltaCRLIndicator", 1,
             "a delta CRL with a negative base number is an error");

    kit_default(&k);
    k.more = "30{ 06 03 551d1b 01 01 ff 04{ 02 01 05 } }"
             " 30{ 06 03 2a0304 01 01 00 04{ 05 00 } }";
    kit_case(&k, NGX_ERROR, "a malformed CRL extension", 1,
             "a delta CRL with a malformed extension after is an error");

    kit_default(&k);
    k.more = "30{ 06 03 551d1b 01 01 ff 04{ 02 01 05 } }";
    k.after = "05 00";
    kit_case(&k, NGX_ERROR, "bytes after the crlExtensions", 0,
             "a delta CRL with an element after its extensions is an error");

    kit_default(&k);
    k.version = "";
    k.more = "30{ 06 03 551d1b 01 01 ff 04{ 02 01 05 } }";
    kit_case(&k, NGX_ERROR, "extensions in a v1 CRL", 1,
             "a v1 delta CRL is an error");

    /* issuingDistributionPoint */
    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "an empty IDP is an error (RFC 5280 5.2.5; OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 81 01 00 } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "an IDP with onlyContainsUserCerts FALSE written is an error"
             " (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 82 01 ff 81 01 ff } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an IDP's fields out of order are an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 81 01 ff 81 01 ff } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an IDP's field twice is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 86 01 ff } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an IDP with an unknown [6] is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a0{ } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an IDP with an empty fullName is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ 86{'http://x/'} } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an IDP's name without the CHOICE's explicit tag is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{"
            " a0{ a0{ a4{ 30{ 31{ 30{ 06 03 550406 13{'JP'} } }"
            " 31{ 30{ 06 03 550403 13{'Naha-shi'} } } } }"
            " 86{'ldap://jpki.jp/cn=Naha-shi'} 87 04 7f000001"
            " 88 03 2a0304 a0{ 06 03 2a0304 a0{ 0c{'x'} } } } } } } }";
    kit_case(&k, NGX_OK, NULL, 1,
             "an IDP named by a directoryName, a URI, an iPAddress,"
             " a registeredID and an otherName is read");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{"
            " a0{ a0{ 86{ 'http://x/' e3 } } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "a URI with an 8-bit octet is an error (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a0{ 86{ } } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "an empty URI is an error (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a0{ 87 05 7f00000100 } } }"
            " } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "an iPAddress of 5 octets is an error (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a0{ a3{ 30{ } } } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an x400Address is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a0{ a4{ 30{ } } } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "an empty directoryName is an error (OpenSSL takes it)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 83{ 07 c0 } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", 1,
             "onlySomeReasons with an unused bit set is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 83{ 05 60 } } } }";
    kit_case(&k, NGX_DECLINED, "an IDP with onlySomeReasons", 1,
             "onlySomeReasons declined (hand-written)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 04{ 30{ 82 01 ff } } }";
    kit_case(&k, NGX_OK, NULL, 1,
             "a non-critical IDP with onlyContainsCACerts is read");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a1{"
            " 30{ 06 03 550403 13{'Naha-shi'} } } } } } }";
    kit_case(&k, NGX_DECLINED, "an IDP with a nameRelativeToCRLIssuer", 1,
             "nameRelativeToCRLIssuer declined (hand-written)");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ a0{ a1{ } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed issuingDistributionPoint", -1,
             "an empty nameRelativeToCRLIssuer is an error");

    kit_default(&k);
    k.idp = "30{ 06 03 551d1c 01 01 ff 04{ 30{ 84 01 ff 85 01 ff } } }";
    kit_case(&k, NGX_DECLINED, "an indirect CRL", 1,
             "indirectCRL declined (hand-written), the first reason given");
}


/* the entries' extensions, on an entry of its own */

static void
test_entry_extensions(void)
{
    int    i;
    char   revoked[4096];
    kit_t  k;

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 2a0304 04{ 05 00 } } } } }";
    kit_case(&k, NGX_OK, NULL, 1,
             "an entry with an unknown extension is read");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 01 01 ff 04{ 0a 01 01 } } } } }";
    kit_case(&k, NGX_ERROR, "a critical CRL entry extension", 1,
             "a critical reasonCode is an error (OpenSSL takes it,"
             " X509_CRL_verify() does not)");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 2a0304 01 01 ff 04{ 05 00 } } } } }";
    kit_case(&k, NGX_ERROR, "a critical CRL entry extension", 1,
             "an unknown critical entry extension is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d1d 04{ 30{ 86{'http://x/'} } } } } } }";
    kit_case(&k, NGX_ERROR, "a certificateIssuer (an indirect CRL)", 1,
             "a non-critical certificateIssuer is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 04{ 0a 01 07 } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed reasonCode", 1,
             "the unused reasonCode 7 is an error (OpenSSL takes it)");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 04{ 0a 01 0b } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed reasonCode", 1,
             "reasonCode 11 is an error (OpenSSL takes it)");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 04{ 0a 01 0a } } } } }";
    kit_case(&k, NGX_OK, NULL, 1, "reasonCode aACompromise (10) is read");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 04{ 0a 02 0001 } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed reasonCode", -1,
             "a reasonCode with a needless zero is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 04{ 02 01 01 } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed reasonCode", -1,
             "a reasonCode as an INTEGER is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d15 04{ 0a 01 01 } }"
                " 30{ 06 03 551d15 04{ 0a 01 01 } } } } }";
    kit_case(&k, NGX_ERROR, "a CRL entry extension present twice", 1,
             "two reasonCodes are an error (OpenSSL takes them)");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d18 04{ 18{'20240510000000.1Z'} } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed invalidityDate", 1,
             "an invalidityDate with a fraction is an error"
             " (OpenSSL takes it)");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 551d18 04{ 17{'240510000000Z'} } } } } }";
    kit_case(&k, NGX_ERROR, "a malformed invalidityDate", 1,
             "an invalidityDate as a UTCTime is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'} 30{ } } }";
    kit_case(&k, NGX_ERROR, "malformed CRL entry extensions", 1,
             "an empty entry extensions list is an error"
             " (OpenSSL takes it)");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 2a0304 04{ 05 00 } } } 05 00 } }";
    kit_case(&k, NGX_ERROR, "malformed CRL entry extensions", 0,
             "an element after the entry extensions is an error");

    kit_default(&k);
    k.revoked = "30{ 30{ 02 01 05 17{'240515093000Z'}"
                " 30{ 30{ 06 03 2a0304 04{ 05 00 } 00 } } } }";
    kit_case(&k, NGX_ERROR, "a malformed CRL entry extension", 0,
             "a byte after an entry extension's value is an error");

    strcpy(revoked, "30{ 30{ 02 01 05 17{'240515093000Z'} 30{ ");

    for (i = 0; i < 8; i++) {
        snprintf(revoked + strlen(revoked), sizeof(revoked) - strlen(revoked),
                 "30{ 06 04 2a0304%02x 04{ 05 00 } } ", i);
    }

    kit_default(&k);
    k.revoked = revoked;
    strcat(revoked, "} } }");
    kit_case(&k, NGX_OK, NULL, 1, "8 entry extensions are read");

    revoked[strlen(revoked) - 5] = '\0';
    strcat(revoked, "30{ 06 04 2a03047f 04{ 05 00 } } } } }");
    kit_case(&k, NGX_ERROR, "too many CRL entry extensions", 1,
             "9 entry extensions are an error");
}


static void
test_truncations(void)
{
    u_char    *der;
    size_t     len, n, bad;
    X509_CRL  *crl;

    crl = make_crl(WITH_ALL, 6);
    der = crl_der(crl, &len);
    bad = 0;

    is_int(crl_rc(der, len, NULL, NULL), NGX_OK, "the CRL to cut is read");

    for (n = 0; n < len; n++) {
        if (crl_rc(der, n, NULL, NULL) != NGX_ERROR && bad++ == 0) {
            printf("# the first %lu bytes are not an error\n",
                   (unsigned long) n);
        }
    }

    ok(bad == 0, "every truncation of a CRL is an error");

    free(der);
    X509_CRL_free(crl);
}


/*
 * Every single-bit flip of a CRL: an answer, never a fault; what the
 * reader takes, OpenSSL parses, and reads alike.
 */

static void
test_flips(void)
{
    u_char                     *der, *copy;
    size_t                      len, i, taken, declined, odd;
    X509_CRL                   *crl;
    ngx_int_t                   rc;
    ngx_uint_t                  bit, other, diff;
    ngx_http_sekisho_crl_der_t  c;

    crl = make_crl(WITH_ALL, 4);
    der = crl_der(crl, &len);
    taken = 0;
    declined = 0;
    odd = 0;
    other = 0;

    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            copy = copy_of(der, len);
            copy[i] ^= (u_char) (1 << bit);

            rc = crl_rc(copy, len, NULL, NULL);

            if (rc == NGX_OK) {
                taken++;
                ngx_http_sekisho_crl_der_read(copy, len, &c, NULL);
                diff = compare(copy, len, &c);

                if (diff && odd++ < 5) {
                    printf("# byte %lu bit %lu:\n", (unsigned long) i,
                           (unsigned long) bit);
                    diag_fields(diff);
                }

            } else if (rc == NGX_DECLINED) {
                declined++;

            } else if (rc != NGX_ERROR) {
                other++;
            }

            free(copy);
        }
    }

    printf("# %lu flips: %lu read, %lu declined\n",
           (unsigned long) len * 8, (unsigned long) taken,
           (unsigned long) declined);
    ok(other == 0, "every single-bit flip read, declined or an error");
    ok(taken > 0 && odd == 0,
       "every flip read is parsed by d2i_X509_CRL, every field as OpenSSL"
       " reads it");

    free(der);
    X509_CRL_free(crl);
}


/* a tag and a length in the fewest octets */

static size_t
put_header(u_char *out, u_char tag, size_t len)
{
    size_t  n, i;

    out[0] = tag;

    if (len < 0x80) {
        out[1] = (u_char) len;
        return 2;
    }

    for (n = 1; n < sizeof(size_t) && (len >> (8 * n)); n++) {
        /* void */
    }

    out[1] = (u_char) (0x80 | n);

    for (i = 0; i < n; i++) {
        out[2 + i] = (u_char) (len >> (8 * (n - 1 - i)));
    }

    return 2 + n;
}


/*
 * A CRL of 700,000 entries, 19 MB: its lengths take four octets, and
 * a reader with anything quadratic in it would not end in time.
 */

static void
test_big(void)
{
    u_char                         *der, *p, head[64], *rev;
    size_t                          n, rlen, tlen, i, h;
    uint64_t                        serial;
    ngx_int_t                       rc;
    ngx_str_t                       s;
    ngx_uint_t                      count, order, diff;
    const char                     *why;
    struct timespec                 t0, t1;
    ngx_http_sekisho_crl_der_t      c;
    ngx_http_sekisho_crl_entries_t  it;

    static const u_char  alg[] = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        0x01, 0x01, 0x0b, 0x05, 0x00
    };

    static const u_char  front[] = {
        0x02, 0x01, 0x01,
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        0x01, 0x01, 0x0b, 0x05, 0x00,
        0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x0a,
        0x13, 0x04, 'J', 'P', 'K', 'I',
        0x17, 0x0d, '2', '4', '0', '6', '0', '1', '0', '0', '0', '0', '0',
        '0', 'Z',
        0x17, 0x0d, '2', '4', '0', '7', '0', '1', '0', '0', '0', '0', '0',
        '0', 'Z'
    };

    static const u_char  sig[] = { 0x03, 0x05, 0x00, 0xde, 0xad, 0xbe, 0xef };

    n = 700000;
    rlen = n * 27;
    tlen = sizeof(front) + 6 + rlen;
    der = malloc(tlen + 64);

    /* SEQUENCE { SEQUENCE { front, SEQUENCE OF entries }, alg, sig } */
    h = put_header(head, 0x30, 6 + tlen + sizeof(alg) + sizeof(sig));
    memcpy(der, head, h);
    p = der + h;
    p += put_header(p, 0x30, tlen);
    memcpy(p, front, sizeof(front));
    p += sizeof(front);
    p += put_header(p, 0x30, rlen);
    rev = p;

    for (i = 0; i < n; i++) {
        serial = 0x0123456789000000ULL + i * 7919;
        *p++ = 0x30;
        *p++ = 25;
        *p++ = 0x02;
        *p++ = 8;

        for (h = 0; h < 8; h++) {
            *p++ = (u_char) (serial >> (8 * (7 - h)));
        }

        *p++ = 0x17;
        *p++ = 13;
        memcpy(p, "240515093000Z", 13);
        p += 13;
    }

    memcpy(p, alg, sizeof(alg));
    p += sizeof(alg);
    memcpy(p, sig, sizeof(sig));
    p += sizeof(sig);

    ok(der[1] == 0x84 && rev[-5] == 0x84,
       "the CRL's and the list's lengths take four octets");

    clock_gettime(CLOCK_MONOTONIC, &t0);

    rc = ngx_http_sekisho_crl_der_read(der, (size_t) (p - der), &c, &why);
    count = 0;
    order = 1;

    if (rc == NGX_OK) {
        ngx_http_sekisho_crl_entries_init(&c, &it);

        while ((rc = ngx_http_sekisho_crl_entries_next(&it, &s, &why))
               == NGX_OK)
        {
            serial = 0x0123456789000000ULL + count * 7919;
            order &= (s.len == 8 && s.data[7] == (u_char) serial);
            count++;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    is_int(rc, NGX_DONE, "a CRL of 19 MB is read to its end");
    is_int(count, n, "its 700,000 entries, each serial as written");
    ok(order, "the serials in their order");

    printf("# %lu bytes read in %.3f s\n", (unsigned long) (p - der),
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    ok((t1.tv_sec - t0.tv_sec) < 10,
       "in less than 10 s, ASan and all (linear)");

    rc = ngx_http_sekisho_crl_der_read(der, (size_t) (p - der), &c, NULL);
    diff = (rc == NGX_OK) ? compare(der, (size_t) (p - der), &c) : 1;
    ok(diff == 0, "the big CRL as OpenSSL reads it, entry by entry");
    diag_fields(diff);

    free(der);
}


/* GeneralNames as OpenSSL encodes them, element by element */

static void
test_general_names(void)
{
    int                 len, m;
    u_char             *der, *buf, *copy, spec[256];
    size_t              h, clen, cut, edge;
    ngx_int_t           rc;
    ngx_str_t           names[8];
    ASN1_TYPE          *value;
    ngx_uint_t          n, i, all, bad, k;
    GENERAL_NAME       *gen;
    GENERAL_NAMES      *gens;
    ASN1_IA5STRING     *ia5;
    ASN1_OCTET_STRING  *ip;

    gens = make_dp_names("Sapporo-shi");

    ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, "crl.example.jp", -1);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    sk_GENERAL_NAME_push(gens, gen);

    ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, "crl@example.jp", -1);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_EMAIL, ia5);
    sk_GENERAL_NAME_push(gens, gen);

    ip = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(ip, (const u_char *) "\xc0\x00\x02\x01", 4);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    sk_GENERAL_NAME_push(gens, gen);

    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_RID, OBJ_txt2obj("1.2.392.200149", 1));
    sk_GENERAL_NAME_push(gens, gen);

    value = ASN1_TYPE_new();
    ia5 = ASN1_UTF8STRING_new();
    ASN1_STRING_set(ia5, "JPKI TARO", -1);
    ASN1_TYPE_set(value, V_ASN1_UTF8STRING, ia5);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_othername(gen, OBJ_txt2obj("1.2.392.200149.8.5.5.1", 1),
                                value);
    sk_GENERAL_NAME_push(gens, gen);

    der = NULL;
    len = i2d_GENERAL_NAMES(gens, &der);
    h = der_header(der, (size_t) len, &clen);
    copy = copy_of(der + h, clen);

    rc = ngx_http_sekisho_general_names(copy, clen, names, 8, &n);
    ok(rc == NGX_OK && n == 7, "seven GeneralNames of six forms are read");

    all = (rc == NGX_OK && n == 7);

    for (i = 0; all && i < n; i++) {
        buf = NULL;
        m = i2d_GENERAL_NAME(sk_GENERAL_NAME_value(gens, (int) i), &buf);
        all = same(&names[i], buf, m);
        OPENSSL_free(buf);
    }

    ok(all, "each one as OpenSSL encodes it, in order");

    is_int(ngx_http_sekisho_general_names(copy, clen, names, 7, &n), NGX_OK,
           "seven names with room for seven are read");
    is_int(ngx_http_sekisho_general_names(copy, clen, names, 6, &n),
           NGX_ERROR, "seven names with room for six are an error");
    is_int(ngx_http_sekisho_general_names(copy, 0, names, 8, &n), NGX_ERROR,
           "no names at all are an error (SIZE (1..MAX))");

    /* a cut is read exactly when it falls between two names */
    bad = 0;

    for (cut = 1; cut < clen; cut++) {
        buf = copy_of(copy, cut);
        rc = ngx_http_sekisho_general_names(buf, cut, names, 8, &n);
        free(buf);

        for (edge = 0, k = 0; k < 7 && edge < cut; k++) {
            buf = NULL;
            m = i2d_GENERAL_NAME(sk_GENERAL_NAME_value(gens, (int) k), &buf);
            OPENSSL_free(buf);
            edge += (size_t) m;
        }

        if ((rc == NGX_OK) != (edge == cut) || (rc == NGX_OK && n != k)) {
            bad++;
        }
    }

    is_int(bad, 0, "every cut inside a name is an error, between two read");

    free(copy);
    OPENSSL_free(der);
    GENERAL_NAMES_free(gens);

    m = (int) der_of("a3{ 30{ } }", spec);
    is_int(ngx_http_sekisho_general_names(spec, (size_t) m, names, 8, &n),
           NGX_ERROR, "an x400Address is an error");

    m = (int) der_of("a5{ 81{'x'} }", spec);
    is_int(ngx_http_sekisho_general_names(spec, (size_t) m, names, 8, &n),
           NGX_ERROR, "an ediPartyName is an error");

    m = (int) der_of("86{'http://x/'} 00", spec);
    is_int(ngx_http_sekisho_general_names(spec, (size_t) m, names, 8, &n),
           NGX_ERROR, "a zero octet after the names is an error");

    m = (int) der_of("a4{ 30{ 31{ 30{ 06 03 550406 13{'JP'} } } } 05 00 }",
                     spec);
    is_int(ngx_http_sekisho_general_names(spec, (size_t) m, names, 8, &n),
           NGX_ERROR, "a directoryName with more than a Name is an error");

    m = (int) der_of("a0{ 06 03 2a0304 a0{ 0c{'x'} 0c{'y'} } }", spec);
    is_int(ngx_http_sekisho_general_names(spec, (size_t) m, names, 8, &n),
           NGX_ERROR, "an otherName of two values is an error");

    m = (int) der_of("a0{ 06 03 2a0304 a0{ 30{ 02 01 05 } } }", spec);
    is_int(ngx_http_sekisho_general_names(spec, (size_t) m, names, 8, &n),
           NGX_OK, "an otherName with a SEQUENCE is read");
}


/* on an exact copy, kept until the next call: the names point in it */

static ngx_int_t
dp_rc(const u_char *p, size_t len, ngx_str_t *names, ngx_uint_t max,
    ngx_uint_t *n)
{
    static u_char  *copy;

    free(copy);
    copy = NULL;

    if (p == NULL) {
        return NGX_DONE;
    }

    copy = copy_of(p, len);

    return ngx_http_sekisho_crl_dp_names(copy, len, names, max, n);
}


/* a certificate's cRLDistributionPoints */

static void
test_dp_names(void)
{
    int                 len, m;
    u_char             *der, *buf, spec[512];
    size_t              cut, bad;
    ngx_str_t           names[8];
    ngx_uint_t          n, all, i;
    X509V3_CTX          v3;
    DIST_POINT         *dp;
    GENERAL_NAME       *gen;
    X509_EXTENSION     *ext;
    CRL_DIST_POINTS    *dps;
    ASN1_OCTET_STRING  *data;

    dps = sk_DIST_POINT_new_null();
    dp = DIST_POINT_new();
    dp->distpoint = DIST_POINT_NAME_new();
    dp->distpoint->type = 0;
    dp->distpoint->name.fullname = make_dp_names("Sapporo-shi");
    sk_DIST_POINT_push(dps, dp);

    der = NULL;
    len = i2d_CRL_DIST_POINTS(dps, &der);
    ok(dp_rc(der, (size_t) len, names, 8, &n) == NGX_OK && n == 2,
       "one distribution point of two names is read");

    all = (n == 2);

    for (i = 0; all && i < n; i++) {
        buf = NULL;
        m = i2d_GENERAL_NAME(sk_GENERAL_NAME_value(
                                 dp->distpoint->name.fullname, (int) i),
                             &buf);
        all = same(&names[i], buf, m);
        OPENSSL_free(buf);
    }

    ok(all, "the names as OpenSSL encodes them");

    bad = 0;

    for (cut = 0; cut < (size_t) len; cut++) {
        bad += (dp_rc(der, cut, names, 8, &n) != NGX_ERROR);
    }

    is_int(bad, 0, "every truncation of it is an error");
    OPENSSL_free(der);

    /* a second point: the names of both together */
    dp = DIST_POINT_new();
    dp->distpoint = DIST_POINT_NAME_new();
    dp->distpoint->type = 0;
    dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_URI, ASN1_IA5STRING_new());
    ASN1_STRING_set(gen->d.uniformResourceIdentifier, "ldap://jpki.jp/x", -1);
    sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gen);
    sk_DIST_POINT_push(dps, dp);

    der = NULL;
    len = i2d_CRL_DIST_POINTS(dps, &der);
    ok(dp_rc(der, (size_t) len, names, 8, &n) == NGX_OK && n == 3
       && names[2].len == 18 && names[2].data[0] == 0x86,
       "two distribution points: their three names together");
    is_int(dp_rc(der, (size_t) len, names, 2, &n), NGX_ERROR,
           "three names with room for two are an error");
    OPENSSL_free(der);

    /* reasons, a cRLIssuer, a relative name: not for this gateway */
    dp->reasons = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set_bit(dp->reasons, 1, 1);
    der = NULL;
    len = i2d_CRL_DIST_POINTS(dps, &der);
    ok(dp_rc(der, (size_t) len, names, 8, &n) == NGX_DECLINED && n == 0,
       "a distribution point with reasons declined, no names");
    OPENSSL_free(der);
    ASN1_BIT_STRING_free(dp->reasons);
    dp->reasons = NULL;

    dp->CRLissuer = make_dp_names("Naha-shi");
    der = NULL;
    len = i2d_CRL_DIST_POINTS(dps, &der);
    is_int(dp_rc(der, (size_t) len, names, 8, &n), NGX_DECLINED,
           "a distribution point with a cRLIssuer declined");
    OPENSSL_free(der);
    GENERAL_NAMES_free(dp->CRLissuer);
    dp->CRLissuer = NULL;

    CRL_DIST_POINTS_free(dps);

    m = (int) der_of("30{ 30{ a0{ a1{ 30{ 06 03 550403 13{'Naha-shi'} } } } }"
                     " 30{ a0{ a0{ 86{'http://x/'} } } } }", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_DECLINED,
           "a nameRelativeToCRLIssuer declined");

    m = (int) der_of("30{ 30{ a0{ a1{ 30{ 06 03 550403 13{'Naha-shi'} } } } }"
                     " 30{ a0{ a0{ 86{ } } } } }", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_ERROR,
           "a malformed point after a declined one is an error");

    m = (int) der_of("30{ }", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_ERROR,
           "no distribution point is an error");

    m = (int) der_of("30{ 30{ } }", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_ERROR,
           "an empty distribution point is an error");

    m = (int) der_of("30{ 30{ 81{ 07 80 } } }", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_ERROR,
           "a distribution point of reasons alone is an error");

    m = (int) der_of("30{ 30{ a2{ 86{'http://x/'} } a0{ a0{ 86{'http://y/'} }"
                     " } } }", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_ERROR,
           "a distribution point's fields out of order are an error");

    m = (int) der_of("30{ 30{ a0{ a0{ 86{'http://x/'} } } } } 00", spec);
    is_int(dp_rc(spec, (size_t) m, names, 8, &n), NGX_ERROR,
           "a zero octet after the value is an error");

    /* as X509V3_EXT_conf_nid() makes it for a certificate */
    X509V3_set_ctx(&v3, NULL, NULL, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_crl_distribution_points,
                              "URI:http://crl.example.jp/auth.crl");
    data = X509_EXTENSION_get_data(ext);
    ok(dp_rc(ASN1_STRING_get0_data(data), (size_t) ASN1_STRING_length(data),
             names, 8, &n) == NGX_OK
       && n == 1
       && names[0].len == 2 + strlen("http://crl.example.jp/auth.crl"),
       "a certificate's extension value is read");
    X509_EXTENSION_free(ext);

    dp_rc(NULL, 0, NULL, 0, NULL);
}


/* the decoder with the least room the API promises it */

static ngx_int_t
pem_rc(const u_char *text, size_t len, u_char **der, size_t *dlen)
{
    u_char    *copy;
    ngx_int_t  rc;

    copy = copy_of(text, len);
    *der = malloc(len * 3 / 4 ? len * 3 / 4 : 1);
    rc = ngx_http_sekisho_crl_pem(copy, len, *der, dlen);
    free(copy);

    return rc;
}


#define pem_is(text, want, name)                                              \
    do {                                                                      \
        u_char  *d_;                                                          \
        size_t   l_;                                                          \
        is_int(pem_rc((u_char *) text, strlen(text), &d_, &l_), want, name);  \
        free(d_);                                                             \
    } while (0)


static void
test_pem(void)
{
    BIO       *bio;
    char      *text, *pem, *alt, *p, *q;
    u_char    *der, *out, *copy;
    size_t     len, plen, dlen, cut, end, bad;
    X509_CRL  *crl;
    ngx_int_t  rc;

    crl = make_crl(WITH_ALL, 5);
    der = crl_der(crl, &len);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(bio, crl);
    plen = (size_t) BIO_get_mem_data(bio, &text);

    /* room for the text twice; another for its changes */
    pem = malloc(2 * plen + 1);
    alt = malloc(2 * plen + 64);
    memcpy(pem, text, plen);
    pem[plen] = '\0';

    rc = pem_rc((u_char *) pem, plen, &out, &dlen);
    ok(rc == NGX_OK && dlen == len && memcmp(out, der, len) == 0,
       "PEM_write_bio_X509_CRL()'s text decoded: the DER");
    free(out);

    copy = copy_of((u_char *) pem, plen);
    rc = ngx_http_sekisho_crl_pem(copy, plen, copy, &dlen);
    ok(rc == NGX_OK && dlen == len && memcmp(copy, der, len) == 0,
       "decoded in place");
    free(copy);

    /* CRLF */
    for (p = pem, q = alt; p < pem + plen; p++) {
        if (*p == '\n') {
            *q++ = '\r';
        }

        *q++ = *p;
    }

    *q = '\0';
    rc = pem_rc((u_char *) alt, strlen(alt), &out, &dlen);
    ok(rc == NGX_OK && dlen == len && memcmp(out, der, len) == 0,
       "with CRLF line ends");
    free(out);

    /* white space around it, text around it */
    snprintf(alt, plen + 64, " \t\n\r\n%s\n \n", pem);
    pem_is(alt, NGX_OK, "white space before and after is read");

    snprintf(alt, plen + 64, "\r\n \t%s", pem);
    pem_is(alt, NGX_ERROR, "BEGIN after white space on its line is an error"
           " (OpenSSL's reader would not find it)");

    snprintf(alt, plen + 64, "CRL:\n%s", pem);
    pem_is(alt, NGX_ERROR, "text before BEGIN is an error");

    snprintf(alt, plen + 64, "%s.\n", pem);
    pem_is(alt, NGX_ERROR, "text after END is an error");

    memcpy(pem + plen, pem, plen);
    pem[2 * plen] = '\0';
    pem_is(pem, NGX_ERROR, "two CRLs are an error");
    pem[plen] = '\0';

    /* what is not PEM: perhaps DER */
    rc = pem_rc(der, len, &out, &dlen);
    is_int(rc, NGX_DECLINED, "DER declined");
    free(out);

    pem_is("", NGX_DECLINED, "nothing declined");
    pem_is("a CRL, once\n", NGX_DECLINED, "text without BEGIN declined");

    /* the text's own ways of breaking */
    p = strstr(pem, "-----END");
    end = p ? (size_t) (p - pem) + sizeof("-----END X509 CRL-----") - 1 : 0;
    bad = 0;

    for (cut = 0; cut < end; cut++) {
        rc = pem_rc((u_char *) pem, cut, &out, &dlen);
        bad += (rc == NGX_OK);
        free(out);
    }

    ok(end > 0 && bad == 0, "every truncation before END's end: no CRL");

    pem[30] = '*';
    pem_is(pem, NGX_ERROR, "a character outside base64 is an error");
    pem[30] = ' ';
    pem_is(pem, NGX_ERROR,
           "a space in the base64 is an error (OpenSSL's decoder skips it)");

    pem_is("-----BEGIN X509 CRL-----\nMA==\n-----END X509 CRL-----\n",
           NGX_OK, "control: one octet, padded (MA==)");
    pem_is("-----BEGIN X509 CRL-----\nMB==\n-----END X509 CRL-----\n",
           NGX_ERROR, "bits set past the last octet (MB==) are an error");
    pem_is("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n",
           NGX_OK, "control: two octets, padded (MAA=)");
    pem_is("-----BEGIN X509 CRL-----\nMAB=\n-----END X509 CRL-----\n",
           NGX_ERROR, "bits set past the last octet (MAB=) are an error");
    pem_is("-----BEGIN X509 CRL-----\nMA\n-----END X509 CRL-----\n",
           NGX_ERROR, "padding left out is an error");
    pem_is("-----BEGIN X509 CRL-----\nMA=\n-----END X509 CRL-----\n",
           NGX_ERROR, "half the padding is an error");
    pem_is("-----BEGIN X509 CRL-----\nM===\n-----END X509 CRL-----\n",
           NGX_ERROR, "three padding characters are an error");
    pem_is("-----BEGIN X509 CRL-----\nMA==MA==\n-----END X509 CRL-----\n",
           NGX_ERROR, "data after the padding is an error");
    pem_is("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n",
           NGX_ERROR, "no data is an error");
    pem_is("-----BEGIN X509 CRL-----\nMAAA\n", NGX_ERROR,
           "no END is an error");
    pem_is("-----BEGIN X509 CRL-----\nMAAA -----END X509 CRL-----\n",
           NGX_ERROR, "END not at a line's start is an error");
    pem_is("-----BEGIN X509 CRL-----MAAA\n-----END X509 CRL-----\n",
           NGX_ERROR, "data on the BEGIN line is an error");
    pem_is("-----BEGIN X509 CRL-----\nMAAA\n\nMAAA\n-----END X509 CRL-----\n",
           NGX_ERROR, "an empty line is an error (OpenSSL's reader would"
           " take the lines above it for headers)");
    pem_is("-----BEGIN X509 CRL-----\n\nMAAA\n-----END X509 CRL-----\n",
           NGX_ERROR, "an empty line after BEGIN is an error");
    pem_is("-----BEGIN X509 CRL-----\r\nMAAA\r\n-----END X509 CRL-----\r\n",
           NGX_OK, "control: CRLF");
    pem_is("-----BEGIN X509 CRL-----\nMA\rAA\n-----END X509 CRL-----\n",
           NGX_ERROR, "a lone CR is an error");
    pem_is("-----BEGIN X509 CRL-----\nProc-Type: 4,ENCRYPTED\n\nMAAA\n"
           "-----END X509 CRL-----\n", NGX_ERROR,
           "an encapsulated header is an error");
    pem_is("-----BEGIN CERTIFICATE-----\nMAAA\n-----END CERTIFICATE-----\n",
           NGX_ERROR, "a certificate is an error");
    pem_is("-----BEGIN X509 CRL-----\nMAAA\n-----END CERTIFICATE-----\n",
           NGX_ERROR, "END of another label is an error");

    BIO_free(bio);
    free(alt);
    free(pem);
    free(der);
    X509_CRL_free(crl);
}


int
main(void)
{
    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

    test_made();
    test_signatures();
    test_declined();
    test_entries();
    test_control();
    test_encoding();
    test_structure();
    test_names();
    test_extensions();
    test_entry_extensions();
    test_truncations();
    test_flips();
    test_big();
    test_general_names();
    test_dp_names();
    test_pem();

    EVP_PKEY_free(ca_key);

    return done_testing();
}
