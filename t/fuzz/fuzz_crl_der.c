
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the CRL reader (ngx_http_sekisho_crl_der.c)
 * against OpenSSL on the same bytes (scripts/fuzz, make fuzz).  Each
 * input goes to all four readers:
 *
 * - the CRL: whenever the reader takes it (NGX_OK, and every entry
 *   read to NGX_DONE), d2i_X509_CRL must parse all of it and see the
 *   same CRL: the tbs as i2d_re_X509_CRL_tbs() encodes it again (so
 *   anything but DER shows), the signature algorithm and value, the
 *   issuer's bytes, thisUpdate and nextUpdate, the cRLNumber, the AKI
 *   key id, the IDP's flags and fullName, the serials in order, and no
 *   extension OpenSSL fails to decode or would refuse as critical.  A
 *   CRL declined as well-formed must parse too;
 * - cRLDistributionPoints: taken, d2i_CRL_DIST_POINTS parses it and its
 *   fullName names, encoded again, are the names given; declined, it
 *   parses and has reasons, a cRLIssuer or a relative name;
 * - GeneralNames' contents: taken, d2i_GENERAL_NAMES parses them, each
 *   name encoded again as given;
 * - PEM: taken, PEM_read_bio() finds "X509 CRL", no headers, the same
 *   octets.
 *
 * Any difference aborts.  Seeds: LLVMFuzzerInitialize() writes CRLs
 * made here with OpenSSL (and their PEM, a distribution point list and
 * GeneralNames) into each corpus directory named on the command line
 * that holds no file yet; nothing is written when it has files.
 *
 * uses: ngx_http_sekisho_crl_der.c ngx_http_sekisho_crl_pem.c
 * uses: ngx_http_sekisho_der.c ngx_http_sekisho_der_names.c
 * uses: ngx_http_sekisho_text.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_crl_der.h"
#include "ngx_http_sekisho_crl_pem.h"
#include "ngx_http_sekisho_der_names.h"


#define FUZZ_NAMES  64


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_fail(const char *what);
static ngx_uint_t fuzz_same(ngx_str_t *s, const u_char *p, int len);
static ngx_uint_t fuzz_same_content(ngx_str_t *s, const u_char *tlv,
    int len);
static time_t fuzz_time(const ASN1_TIME *t);
static void fuzz_crl(u_char *der, size_t len);
static void fuzz_compare(const u_char *der, size_t len,
    ngx_http_sekisho_crl_der_t *c);
static void fuzz_dp(u_char *der, size_t len);
static void fuzz_names(u_char *der, size_t len);
static void fuzz_pem(u_char *der, size_t len);
static ngx_uint_t fuzz_dir_empty(const char *path);
static void fuzz_seed(const char *dir);
static void fuzz_seed_write(const char *dir, const char *name,
    const u_char *p, size_t len);
static GENERAL_NAMES *fuzz_gens(const char *city);
static X509_CRL *fuzz_make(EVP_PKEY *key, ngx_uint_t delta);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int          i;
    char        *arg;
    struct stat  st;

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
    u_char  *der;

    /* an exact copy: a read past the end is ASan's to see */
    der = malloc(size ? size : 1);
    if (der == NULL) {
        return 0;
    }

    memcpy(der, data, size);

    fuzz_crl(der, size);
    fuzz_dp(der, size);
    fuzz_names(der, size);
    fuzz_pem(der, size);

    free(der);
    ERR_clear_error();

    return 0;
}


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_crl_der: %s\n", what);
    abort();
}


static ngx_uint_t
fuzz_same(ngx_str_t *s, const u_char *p, int len)
{
    return len >= 0 && s->len == (size_t) len
           && (len == 0 || memcmp(s->data, p, (size_t) len) == 0);
}


/* "s" is the contents of the TLV OpenSSL encoded */

static ngx_uint_t
fuzz_same_content(ngx_str_t *s, const u_char *tlv, int len)
{
    size_t  h, clen, i, n;

    if (len < 2) {
        return 0;
    }

    if (tlv[1] < 0x80) {
        h = 2;
        clen = tlv[1];

    } else {
        n = tlv[1] & 0x7f;
        h = 2 + n;
        clen = 0;

        if (n == 0 || n > 4 || (size_t) len < h) {
            return 0;
        }

        for (i = 0; i < n; i++) {
            clen = (clen << 8) | tlv[2 + i];
        }
    }

    return h + clen == (size_t) len && fuzz_same(s, tlv + h, (int) clen);
}


static time_t
fuzz_time(const ASN1_TIME *t)
{
    struct tm  tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        fuzz_fail("ASN1_TIME_to_tm() fails on a time taken");
    }

    return timegm(&tm);
}


static void
fuzz_crl(u_char *der, size_t len)
{
    X509_CRL                       *x;
    ngx_int_t                       rc, erc;
    ngx_str_t                       serial;
    const u_char                   *p;
    ngx_http_sekisho_crl_der_t      c;
    ngx_http_sekisho_crl_entries_t  it;

    rc = ngx_http_sekisho_crl_der_read(der, len, &c, NULL);

    if (rc == NGX_ERROR) {
        return;
    }

    ngx_http_sekisho_crl_entries_init(&c, &it);

    do {
        erc = ngx_http_sekisho_crl_entries_next(&it, &serial, NULL);
    } while (erc == NGX_OK);

    if (erc != NGX_DONE) {
        return;
    }

    if (rc == NGX_OK) {
        fuzz_compare(der, len, &c);
        return;
    }

    /* declined as well-formed: OpenSSL parses it all the same */
    p = der;
    x = d2i_X509_CRL(NULL, &p, (long) len);

    if (x == NULL || p != der + len) {
        fuzz_fail("a CRL declined (well-formed) that d2i_X509_CRL refuses");
    }

    X509_CRL_free(x);
}


/* OpenSSL's view of the same bytes: any difference aborts */

static void
fuzz_compare(const u_char *der, size_t len, ngx_http_sekisho_crl_der_t *c)
{
    int                              n, crit, i, k, num;
    u_char                          *buf;
    X509_CRL                        *x;
    ngx_str_t                        serial;
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
        fuzz_fail("a CRL taken that d2i_X509_CRL refuses");
    }

    X509_CRL_get0_signature(x, &sig, &alg);

    buf = NULL;
    n = i2d_X509_ALGOR(alg, &buf);

    if (!fuzz_same(&c->sig_alg, buf, n)) {
        fuzz_fail("sig_alg differs");
    }

    OPENSSL_free(buf);

    if (!fuzz_same(&c->signature, ASN1_STRING_get0_data(sig),
                   ASN1_STRING_length(sig))
        || (sig->flags & ASN1_STRING_FLAG_BITS_LEFT && sig->flags & 0x07))
    {
        fuzz_fail("signature differs");
    }

    buf = NULL;
    n = i2d_X509_NAME(X509_CRL_get_issuer(x), &buf);

    if (!fuzz_same(&c->issuer, buf, n)) {
        fuzz_fail("issuer differs");
    }

    OPENSSL_free(buf);

    if (c->this_update != fuzz_time(X509_CRL_get0_lastUpdate(x))) {
        fuzz_fail("this_update differs");
    }

    next = X509_CRL_get0_nextUpdate(x);

    if (c->next_update != (next ? fuzz_time(next) : 0)) {
        fuzz_fail("next_update differs");
    }

    number = X509_CRL_get_ext_d2i(x, NID_crl_number, &crit, NULL);

    if (number) {
        buf = NULL;
        n = i2d_ASN1_INTEGER(number, &buf);

        if (!fuzz_same_content(&c->number, buf, n)) {
            fuzz_fail("number differs");
        }

        OPENSSL_free(buf);
        ASN1_INTEGER_free(number);

    } else if (crit != -1 || c->number.len) {
        fuzz_fail("number: OpenSSL does not decode it");
    }

    aki = X509_CRL_get_ext_d2i(x, NID_authority_key_identifier, &crit, NULL);

    if (aki) {
        if (aki->keyid
            ? !fuzz_same(&c->key_id, aki->keyid->data, aki->keyid->length)
            : c->key_id.len != 0)
        {
            fuzz_fail("key_id differs");
        }

        AUTHORITY_KEYID_free(aki);

    } else if (crit != -1 || c->key_id.len) {
        fuzz_fail("AKI: OpenSSL does not decode it");
    }

    idp = X509_CRL_get_ext_d2i(x, NID_issuing_distribution_point, &crit,
                               NULL);

    if (idp) {
        if (!c->idp || c->only_user != (idp->onlyuser > 0)
            || c->only_ca != (idp->onlyCA > 0)
            || idp->onlyattr > 0 || idp->indirectCRL > 0
            || idp->onlysomereasons != NULL
            || (idp->distpoint && idp->distpoint->type != 0))
        {
            fuzz_fail("IDP flags differ");
        }

        if (idp->distpoint) {
            buf = NULL;
            n = i2d_GENERAL_NAMES(idp->distpoint->name.fullname, &buf);

            if (!fuzz_same_content(&c->idp_names, buf, n)) {
                fuzz_fail("idp_names differ");
            }

            OPENSSL_free(buf);

        } else if (c->idp_names.len) {
            fuzz_fail("idp_names where OpenSSL has none");
        }

        ISSUING_DIST_POINT_free(idp);

    } else if (crit != -1 || c->idp || c->idp_names.len) {
        fuzz_fail("IDP: OpenSSL does not decode it");
    }

    /* no delta; X509_CRL_verify() handles every critical one */
    if (X509_CRL_get_ext_by_NID(x, NID_delta_crl, -1) >= 0) {
        fuzz_fail("a delta CRL taken");
    }

    exts = X509_CRL_get0_extensions(x);

    for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        ext = sk_X509_EXTENSION_value(exts, i);
        n = OBJ_obj2nid(X509_EXTENSION_get_object(ext));

        if (X509_EXTENSION_get_critical(ext)
            && n != NID_issuing_distribution_point
            && n != NID_authority_key_identifier)
        {
            fuzz_fail("a critical extension OpenSSL does not handle");
        }
    }

    /* the serials in order; entries OpenSSL takes as clean */
    revoked = X509_CRL_get_REVOKED(x);
    num = sk_X509_REVOKED_num(revoked);
    ngx_http_sekisho_crl_entries_init(c, &it);

    if ((num > 0) != (c->revoked.len > 0)) {
        fuzz_fail("revoked: one list is empty, the other not");
    }

    for (i = 0; i < num; i++) {
        rev = sk_X509_REVOKED_value(revoked, i);

        if (ngx_http_sekisho_crl_entries_next(&it, &serial, NULL) != NGX_OK) {
            fuzz_fail("fewer entries than OpenSSL has");
        }

        buf = NULL;
        n = i2d_ASN1_INTEGER(X509_REVOKED_get0_serialNumber(rev), &buf);

        if (!fuzz_same_content(&serial, buf, n)) {
            fuzz_fail("a serial differs");
        }

        OPENSSL_free(buf);

        reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);

        if (reason == NULL && crit != -1) {
            fuzz_fail("a reasonCode OpenSSL does not decode");
        }

        ASN1_ENUMERATED_free(reason);

        if (X509_REVOKED_get_ext_by_NID(rev, NID_certificate_issuer, -1)
            >= 0)
        {
            fuzz_fail("a certificateIssuer taken");
        }

        exts = X509_REVOKED_get0_extensions(rev);

        for (k = 0; k < sk_X509_EXTENSION_num(exts); k++) {
            if (X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, k))) {
                fuzz_fail("a critical entry extension taken");
            }
        }
    }

    if (ngx_http_sekisho_crl_entries_next(&it, &serial, NULL) != NGX_DONE) {
        fuzz_fail("more entries than OpenSSL has");
    }

    /* last: it encodes the tbs again, in DER */
    buf = NULL;
    n = i2d_re_X509_CRL_tbs(x, &buf);

    if (!fuzz_same(&c->tbs, buf, n)) {
        fuzz_fail("the tbs differs from OpenSSL's DER of it");
    }

    OPENSSL_free(buf);
    X509_CRL_free(x);
}


/* cRLDistributionPoints */

static void
fuzz_dp(u_char *der, size_t len)
{
    int               i, j, m;
    u_char           *buf;
    ngx_int_t         rc;
    ngx_str_t         names[FUZZ_NAMES];
    ngx_uint_t        n, k, other;
    DIST_POINT       *dp;
    const u_char     *p;
    GENERAL_NAMES    *full;
    CRL_DIST_POINTS  *dps;

    rc = ngx_http_sekisho_crl_dp_names(der, len, names, FUZZ_NAMES, &n);

    if (rc == NGX_ERROR) {
        return;
    }

    p = der;
    dps = d2i_CRL_DIST_POINTS(NULL, &p, (long) len);

    if (dps == NULL || p != der + len) {
        fuzz_fail("distribution points taken that OpenSSL refuses");
    }

    k = 0;
    other = 0;

    for (i = 0; i < sk_DIST_POINT_num(dps); i++) {
        dp = sk_DIST_POINT_value(dps, i);

        if (dp->reasons || dp->CRLissuer
            || (dp->distpoint && dp->distpoint->type != 0))
        {
            other = 1;
        }

        if (rc != NGX_OK) {
            continue;
        }

        if (dp->distpoint == NULL) {
            fuzz_fail("a distribution point without a name taken");
        }

        full = dp->distpoint->name.fullname;

        for (j = 0; j < sk_GENERAL_NAME_num(full); j++) {
            buf = NULL;
            m = i2d_GENERAL_NAME(sk_GENERAL_NAME_value(full, j), &buf);

            if (k >= n || !fuzz_same(&names[k], buf, m)) {
                fuzz_fail("a distribution point's name differs");
            }

            OPENSSL_free(buf);
            k++;
        }
    }

    if ((rc == NGX_OK && (k != n || other))
        || (rc == NGX_DECLINED && !other))
    {
        fuzz_fail("distribution points read otherwise than OpenSSL has them");
    }

    CRL_DIST_POINTS_free(dps);
}


/* GeneralNames' contents, wrapped in their SEQUENCE for OpenSSL */

static void
fuzz_names(u_char *der, size_t len)
{
    int             i, m;
    u_char         *seq, *buf;
    size_t          h;
    ngx_str_t       names[FUZZ_NAMES];
    ngx_uint_t      n;
    const u_char   *p;
    GENERAL_NAMES  *gens;

    if (ngx_http_sekisho_general_names(der, len, names, FUZZ_NAMES, &n)
        != NGX_OK)
    {
        return;
    }

    seq = malloc(len + 8);
    if (seq == NULL) {
        return;
    }

    seq[0] = 0x30;

    if (len < 0x80) {
        seq[1] = (u_char) len;
        h = 2;

    } else if (len < 0x100) {
        seq[1] = 0x81;
        seq[2] = (u_char) len;
        h = 3;

    } else {
        seq[1] = 0x82;
        seq[2] = (u_char) (len >> 8);
        seq[3] = (u_char) len;
        h = 4;
    }

    memcpy(seq + h, der, len);

    p = seq;
    gens = d2i_GENERAL_NAMES(NULL, &p, (long) (h + len));

    if (gens == NULL || p != seq + h + len
        || sk_GENERAL_NAME_num(gens) != (int) n)
    {
        fuzz_fail("GeneralNames taken that OpenSSL refuses");
    }

    for (i = 0; i < (int) n; i++) {
        buf = NULL;
        m = i2d_GENERAL_NAME(sk_GENERAL_NAME_value(gens, i), &buf);

        if (!fuzz_same(&names[i], buf, m)) {
            fuzz_fail("a GeneralName differs");
        }

        OPENSSL_free(buf);
    }

    GENERAL_NAMES_free(gens);
    free(seq);
}


static void
fuzz_pem(u_char *der, size_t len)
{
    BIO       *bio;
    char      *name, *header;
    long       dlen;
    u_char    *out, *data;
    size_t     olen;
    ngx_str_t  s;

    out = malloc(len * 3 / 4 ? len * 3 / 4 : 1);
    if (out == NULL) {
        return;
    }

    if (ngx_http_sekisho_crl_pem(der, len, out, &olen) != NGX_OK) {
        free(out);
        return;
    }

    bio = BIO_new_mem_buf(der, (int) len);
    dlen = 0;
    name = NULL;
    header = NULL;
    data = NULL;

    if (bio == NULL
        || PEM_read_bio(bio, &name, &header, &data, &dlen) != 1
        || strcmp(name, "X509 CRL") != 0 || header[0] != '\0')
    {
        fuzz_fail("PEM taken that PEM_read_bio() refuses");
    }

    s.data = out;
    s.len = olen;

    if (!fuzz_same(&s, data, (int) dlen)) {
        fuzz_fail("PEM decoded otherwise than by PEM_read_bio()");
    }

    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    free(out);
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


/* CRLs of the kinds the gateway meets, and the other three inputs */

static void
fuzz_seed(const char *dir)
{
    int               n;
    BIO              *bio;
    char             *text;
    long              tlen;
    u_char           *der;
    X509_CRL         *crl;
    EVP_PKEY         *key;
    DIST_POINT       *dp;
    GENERAL_NAMES    *gens;
    CRL_DIST_POINTS  *dps;

    key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

    if (key == NULL) {
        return;
    }

    crl = fuzz_make(key, 0);
    der = NULL;
    n = i2d_X509_CRL(crl, &der);
    fuzz_seed_write(dir, "seed-crl.der", der, (size_t) n);
    OPENSSL_free(der);

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(bio, crl);
    tlen = BIO_get_mem_data(bio, &text);
    fuzz_seed_write(dir, "seed-crl.pem", (u_char *) text, (size_t) tlen);
    BIO_free(bio);
    X509_CRL_free(crl);

    crl = fuzz_make(key, 1);
    der = NULL;
    n = i2d_X509_CRL(crl, &der);
    fuzz_seed_write(dir, "seed-crl-delta.der", der, (size_t) n);
    OPENSSL_free(der);
    X509_CRL_free(crl);

    crl = fuzz_make(key, 2);
    der = NULL;
    n = i2d_X509_CRL(crl, &der);
    fuzz_seed_write(dir, "seed-crl-v1.der", der, (size_t) n);
    OPENSSL_free(der);
    X509_CRL_free(crl);

    dps = sk_DIST_POINT_new_null();
    dp = DIST_POINT_new();
    dp->distpoint = DIST_POINT_NAME_new();
    dp->distpoint->type = 0;
    dp->distpoint->name.fullname = fuzz_gens("Sapporo-shi");
    sk_DIST_POINT_push(dps, dp);
    der = NULL;
    n = i2d_CRL_DIST_POINTS(dps, &der);
    fuzz_seed_write(dir, "seed-crldp.der", der, (size_t) n);
    OPENSSL_free(der);

    dp = DIST_POINT_new();
    dp->CRLissuer = fuzz_gens("Naha-shi");
    sk_DIST_POINT_push(dps, dp);
    der = NULL;
    n = i2d_CRL_DIST_POINTS(dps, &der);
    fuzz_seed_write(dir, "seed-crldp-issuer.der", der, (size_t) n);
    OPENSSL_free(der);
    CRL_DIST_POINTS_free(dps);

    gens = fuzz_gens("Kobe-shi");
    der = NULL;
    n = i2d_GENERAL_NAMES(gens, &der);

    /* the contents, past a header of 2 or 3 octets */
    if (n > 3) {
        fuzz_seed_write(dir, "seed-names.der", der + (der[1] < 0x80 ? 2 : 3),
                        (size_t) n - (der[1] < 0x80 ? 2 : 3));
    }

    OPENSSL_free(der);
    GENERAL_NAMES_free(gens);

    EVP_PKEY_free(key);
    ERR_clear_error();
}


static void
fuzz_seed_write(const char *dir, const char *name, const u_char *p,
    size_t len)
{
    FILE  *f;
    char   path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");

    if (f) {
        fwrite(p, 1, len, f);
        fclose(f);
        fprintf(stderr, "fuzz_crl_der: seeded %s\n", path);
    }
}


/* a distribution point's names: directoryName, URI, otherName, IP */

static GENERAL_NAMES *
fuzz_gens(const char *city)
{
    char            uri[128];
    X509_NAME      *name;
    ASN1_TYPE      *value;
    ASN1_STRING    *s;
    GENERAL_NAME   *gen;
    GENERAL_NAMES  *gens;

    gens = sk_GENERAL_NAME_new_null();

    name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                               (const u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const u_char *) "JPKI", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                               (const u_char *) city, -1, -1, 0);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_DIRNAME, name);
    sk_GENERAL_NAME_push(gens, gen);

    snprintf(uri, sizeof(uri), "http://crl.example.jp/auth/%s.crl", city);
    s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, uri, -1);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_URI, s);
    sk_GENERAL_NAME_push(gens, gen);

    value = ASN1_TYPE_new();
    s = ASN1_UTF8STRING_new();
    ASN1_STRING_set(s, "JPKI", -1);
    ASN1_TYPE_set(value, V_ASN1_UTF8STRING, s);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_othername(gen, OBJ_txt2obj("1.2.392.200149.8.5.5.1", 1),
                                value);
    sk_GENERAL_NAME_push(gens, gen);

    s = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(s, (const u_char *) "\xc0\x00\x02\x01", 4);
    gen = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gen, GEN_IPADD, s);
    sk_GENERAL_NAME_push(gens, gen);

    return gens;
}


/*
 * A JPKI-like CRL of five entries: "kind" 0 a full v2 CRL, 1 a delta
 * CRL, 2 a v1 CRL without nextUpdate.
 */

static X509_CRL *
fuzz_make(EVP_PKEY *key, ngx_uint_t kind)
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

    crl = X509_CRL_new();

    if (kind != 2) {
        X509_CRL_set_version(crl, X509_CRL_VERSION_2);
    }

    name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                               (const u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const u_char *) "JPKI", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                               (const u_char *) "JPKI for user authentication",
                               -1, -1, 0);
    X509_CRL_set_issuer_name(crl, name);
    X509_NAME_free(name);

    t = ASN1_TIME_new();
    ASN1_TIME_set_string(t, "240601000000Z");
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set_string(t, "20500101000000Z");

    if (kind != 2) {
        X509_CRL_set1_nextUpdate(crl, t);
    }

    for (i = 0; i < 5; i++) {
        rev = X509_REVOKED_new();
        ai = ASN1_INTEGER_new();
        ASN1_INTEGER_set(ai, (long) (0x7f00 + i * 0x4321));
        X509_REVOKED_set_serialNumber(rev, ai);
        ASN1_INTEGER_free(ai);
        ASN1_TIME_set_string(t, i % 2 ? "240515093000Z" : "20240516000000Z");
        X509_REVOKED_set_revocationDate(rev, t);

        if (kind != 2 && i % 2) {
            reason = ASN1_ENUMERATED_new();
            ASN1_ENUMERATED_set(reason, CRL_REASON_KEY_COMPROMISE);
            X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
            ASN1_ENUMERATED_free(reason);
        }

        if (kind != 2 && i == 2) {
            ASN1_TIME_set_string(t, "20240510000000Z");
            X509_REVOKED_add1_ext_i2d(rev, NID_invalidity_date, t, 0, 0);
        }

        X509_CRL_add0_revoked(crl, rev);
    }

    ASN1_TIME_free(t);

    if (kind != 2) {
        aki = AUTHORITY_KEYID_new();
        aki->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(aki->keyid, (const u_char *) "0123456789abcdef"
                              "0123", 20);
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0, 0);
        AUTHORITY_KEYID_free(aki);

        ai = ASN1_INTEGER_new();
        ASN1_INTEGER_set(ai, 0x1234);
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0);

        if (kind == 1) {
            ASN1_INTEGER_set(ai, 0x1200);
            X509_CRL_add1_ext_i2d(crl, NID_delta_crl, ai, 1, 0);
        }

        ASN1_INTEGER_free(ai);

        idp = ISSUING_DIST_POINT_new();
        idp->distpoint = DIST_POINT_NAME_new();
        idp->distpoint->type = 0;
        idp->distpoint->name.fullname = fuzz_gens("Sapporo-shi");
        idp->onlyuser = 0xff;
        X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
        ISSUING_DIST_POINT_free(idp);
    }

    X509_CRL_sign(crl, key, EVP_sha256());

    return crl;
}
