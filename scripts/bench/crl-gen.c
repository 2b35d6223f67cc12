
/*
 * Copyright (C) Sekisho authors
 *
 * bench-crl-gen: CRLs at national scale for scripts/bench/run crl, signed
 * by a test CA (never J-LIS): "n" CRLs, one per distribution point
 * (municipality), holding "total" entries together, the first one
 * holding "big" of them (J-LIS's largest city).  Each CRL has an
 * issuingDistributionPoint naming its point, a CRL number, and entries
 * of 8-byte serials; the DER is written directly (OpenSSL would hold
 * every entry as an object), and signed with OpenSSL.
 *
 *   bench-crl-gen <ca.pem> <ca.key> <outdir> <n> <total> <big> [seed]
 *
 * Also writes <outdir>/../serials: for each CRL, one listed serial and
 * one that is not, for lookups.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>


typedef struct {
    unsigned char  *p;
    size_t          len;
    size_t          cap;
} buf_t;


static void put(buf_t *b, const void *data, size_t len);
static size_t der_len_size(size_t len);
static void der_hdr(buf_t *b, unsigned char tag, size_t len);
static void tlv(buf_t *b, unsigned char tag, const void *data, size_t len);
static void utctime(unsigned char *out, time_t t);
static void city_name(buf_t *b, int i);
static void rdn(buf_t *b, unsigned char attr, const char *value);
static unsigned long long rnd(void);


static unsigned long long  seed = 88172645463325252ULL;


int
main(int argc, char **argv)
{
    int             i, n;
    long long       total, big, count, k, left;
    FILE           *f, *serials;
    char            path[4096];
    X509           *ca;
    EVP_PKEY       *key;
    EVP_MD_CTX     *md;
    buf_t           tbs, entries, exts, name, out, sig, tmp;
    size_t          siglen;
    time_t          now;
    unsigned char   t1[13], t2[13], serial[9], *issuer;
    int             issuer_len;

    static const unsigned char  sha256rsa[] = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
        0x01, 0x0b, 0x05, 0x00
    };
    static const unsigned char  oid_idp[] = { 0x06, 0x03, 0x55, 0x1d, 0x1c };
    static const unsigned char  oid_number[] = {
        0x06, 0x03, 0x55, 0x1d, 0x14
    };
    static const unsigned char  v2[] = { 0x02, 0x01, 0x01 };
    static const unsigned char  critical[] = { 0x01, 0x01, 0xff };
    static const unsigned char  only_user[] = { 0x81, 0x01, 0xff };
    static const unsigned char  reason[] = {
        0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03,
        0x0a, 0x01, 0x03
    };

    if (argc < 7) {
        fprintf(stderr, "usage: bench-crl-gen <ca.pem> <ca.key> <outdir> "
                "<n> <total> <big> [seed]\n");
        return 2;
    }

    f = fopen(argv[1], "r");
    ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) fclose(f);
    f = fopen(argv[2], "r");
    key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f) fclose(f);

    if (ca == NULL || key == NULL) {
        fprintf(stderr, "bench-crl-gen: cannot read the CA or its key\n");
        return 1;
    }

    n = atoi(argv[4]);
    total = atoll(argv[5]);
    big = atoll(argv[6]);
    if (argc > 7) {
        seed = strtoull(argv[7], NULL, 10) | 1;
    }

    if (n < 1 || big > total || (n > 1 && total - big < n - 1)) {
        fprintf(stderr, "bench-crl-gen: bad counts\n");
        return 2;
    }

    issuer = NULL;
    issuer_len = i2d_X509_NAME(X509_get_subject_name(ca), &issuer);

    snprintf(path, sizeof(path), "%s/../serials", argv[3]);
    serials = fopen(path, "w");
    if (serials == NULL) {
        perror(path);
        return 1;
    }

    now = time(NULL);
    utctime(t1, now - 3600);
    utctime(t2, now + 30 * 86400);

    md = EVP_MD_CTX_new();
    memset(&tbs, 0, sizeof(buf_t));
    memset(&entries, 0, sizeof(buf_t));
    memset(&exts, 0, sizeof(buf_t));
    memset(&name, 0, sizeof(buf_t));
    memset(&out, 0, sizeof(buf_t));
    memset(&sig, 0, sizeof(buf_t));
    memset(&tmp, 0, sizeof(buf_t));

    left = total;

    for (i = 0; i < n; i++) {
        count = (i == 0) ? big
                         : (left - (n - 1 - i) * 0) / (n - i);
        if (i == n - 1) {
            count = left;
        }

        left -= count;

        /* the entries: SEQUENCE { INTEGER serial, UTCTime, extensions
         * { reasonCode affiliationChanged } }: J-LIS revokes a signing
         * certificate at each change of address */
        entries.len = 0;

        for (k = 0; k < count; k++) {
            unsigned long long  s = rnd();

            /* the top bit set, so that the sign byte is needed: DER */
            serial[0] = 0x00;
            memcpy(serial + 1, &s, 8);
            serial[1] |= 0x80;

            der_hdr(&entries, 0x30, 2 + 9 + 2 + 13 + sizeof(reason));
            tlv(&entries, 0x02, serial, 9);
            tlv(&entries, 0x17, t1, 13);
            put(&entries, reason, sizeof(reason));

            if (k == 0) {
                fprintf(serials, "%d ", i);
                for (int b = 1; b < 9; b++) {
                    fprintf(serials, "%02x", serial[b]);
                }
            }
        }

        /* a serial not listed */
        {
            unsigned long long  s = rnd();

            memcpy(serial + 1, &s, 8);
            serial[1] |= 0x80;
            fprintf(serials, " ");
            for (int b = 1; b < 9; b++) {
                fprintf(serials, "%02x", serial[b]);
            }
            fprintf(serials, "\n");
        }

        /* the point: C=JP, O=JPKI TEST, CN=City <i> CRLDP */
        name.len = 0;
        city_name(&name, i);

        /* extensions: IDP (critical), CRL number */
        exts.len = 0;

        tmp.len = 0;
        {
            buf_t  dp, gn;

            memset(&dp, 0, sizeof(buf_t));
            memset(&gn, 0, sizeof(buf_t));

            /* GeneralName directoryName [4] EXPLICIT Name */
            tlv(&gn, 0xa4, name.p, name.len);
            /* fullName [0] IMPLICIT GeneralNames */
            tlv(&dp, 0xa0, gn.p, gn.len);
            /* distributionPoint [0] EXPLICIT DistributionPointName */
            der_hdr(&tmp, 0x30, 1 + der_len_size(dp.len) + dp.len
                                + sizeof(only_user));
            tlv(&tmp, 0xa0, dp.p, dp.len);
            put(&tmp, only_user, sizeof(only_user));
            free(dp.p);
            free(gn.p);
        }

        {
            buf_t  e, num;
            unsigned char  nb[3];

            memset(&e, 0, sizeof(buf_t));
            memset(&num, 0, sizeof(buf_t));

            put(&e, oid_idp, sizeof(oid_idp));
            put(&e, critical, sizeof(critical));
            tlv(&e, 0x04, tmp.p, tmp.len);
            tlv(&exts, 0x30, e.p, e.len);

            nb[0] = 0x01;
            nb[1] = (unsigned char) (i >> 8);
            nb[2] = (unsigned char) i;
            tlv(&num, 0x02, nb, 3);
            e.len = 0;
            put(&e, oid_number, sizeof(oid_number));
            tlv(&e, 0x04, num.p, num.len);
            tlv(&exts, 0x30, e.p, e.len);

            free(e.p);
            free(num.p);
        }

        /* TBSCertList */
        tbs.len = 0;
        {
            buf_t  body, wrap;

            memset(&body, 0, sizeof(buf_t));
            memset(&wrap, 0, sizeof(buf_t));

            put(&body, v2, sizeof(v2));
            put(&body, sha256rsa, sizeof(sha256rsa));
            put(&body, issuer, issuer_len);
            tlv(&body, 0x17, t1, 13);
            tlv(&body, 0x17, t2, 13);

            if (entries.len) {
                tlv(&body, 0x30, entries.p, entries.len);
            }

            tlv(&wrap, 0x30, exts.p, exts.len);
            tlv(&body, 0xa0, wrap.p, wrap.len);

            tlv(&tbs, 0x30, body.p, body.len);

            free(body.p);
            free(wrap.p);
        }

        /* the signature */
        siglen = EVP_PKEY_get_size(key);
        if (sig.cap < siglen + 1) {
            sig.p = realloc(sig.p, siglen + 1);
            sig.cap = siglen + 1;
        }

        sig.p[0] = 0x00;

        if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1
            || EVP_DigestSign(md, sig.p + 1, &siglen, tbs.p, tbs.len) != 1)
        {
            fprintf(stderr, "bench-crl-gen: cannot sign\n");
            return 1;
        }

        EVP_MD_CTX_reset(md);

        out.len = 0;
        {
            buf_t  body;

            memset(&body, 0, sizeof(buf_t));
            put(&body, tbs.p, tbs.len);
            put(&body, sha256rsa, sizeof(sha256rsa));
            tlv(&body, 0x03, sig.p, siglen + 1);
            tlv(&out, 0x30, body.p, body.len);
            free(body.p);
        }

        snprintf(path, sizeof(path), "%s/city-%04d.crl", argv[3], i);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(out.p, 1, out.len, f) != out.len) {
            perror(path);
            return 1;
        }

        fclose(f);
    }

    fclose(serials);

    return 0;
}


static void
put(buf_t *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            fprintf(stderr, "bench-crl-gen: out of memory\n");
            exit(1);
        }
    }

    memcpy(b->p + b->len, data, len);
    b->len += len;
}


static size_t
der_len_size(size_t len)
{
    return (len < 0x80) ? 1 : (len < 0x100) ? 2 : (len < 0x10000) ? 3
           : (len < 0x1000000) ? 4 : 5;
}


static void
der_hdr(buf_t *b, unsigned char tag, size_t len)
{
    unsigned char  h[6];
    size_t         n, i;

    h[0] = tag;
    n = der_len_size(len);

    if (n == 1) {
        h[1] = (unsigned char) len;

    } else {
        h[1] = (unsigned char) (0x80 | (n - 1));

        for (i = 0; i < n - 1; i++) {
            h[2 + i] = (unsigned char) (len >> (8 * (n - 2 - i)));
        }
    }

    put(b, h, 1 + n);
}


static void
tlv(buf_t *b, unsigned char tag, const void *data, size_t len)
{
    der_hdr(b, tag, len);
    put(b, data, len);
}


static void
utctime(unsigned char *out, time_t t)
{
    struct tm  tm;
    char       s[16];

    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%y%m%d%H%M%SZ", &tm);
    memcpy(out, s, 13);
}


static void
city_name(buf_t *b, int i)
{
    char    cn[64];
    buf_t   rdns;

    static const unsigned char  c[] = {
        0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02,
        'J', 'P'
    };

    memset(&rdns, 0, sizeof(buf_t));

    /* as scripts/test/jpki-test-pki names a point (openssl's UTF8Strings);
     * city 0 is Tsukuba-shi, whose test card the benchmark logs in with */
    if (i == 0) {
        snprintf(cn, sizeof(cn), "Tsukuba-shi CRLDP");
    } else {
        snprintf(cn, sizeof(cn), "City %04d CRLDP", i);
    }

    put(&rdns, c, sizeof(c));
    rdn(&rdns, 0x0a, "JPKI TEST");
    rdn(&rdns, 0x0b, "JPKI for user authentication");
    rdn(&rdns, 0x0b, "CRL Distribution Points");
    rdn(&rdns, 0x0b, "Ibaraki-ken");
    rdn(&rdns, 0x03, cn);

    tlv(b, 0x30, rdns.p, rdns.len);

    free(rdns.p);
}


/* one RDN: SET { SEQUENCE { OID 2.5.4.<attr>, UTF8String } } */

static void
rdn(buf_t *b, unsigned char attr, const char *value)
{
    buf_t          atv, set;
    unsigned char  oid[5] = { 0x06, 0x03, 0x55, 0x04, 0 };

    memset(&atv, 0, sizeof(buf_t));
    memset(&set, 0, sizeof(buf_t));

    oid[4] = attr;
    put(&atv, oid, sizeof(oid));
    tlv(&atv, 0x0c, value, strlen(value));
    tlv(&set, 0x30, atv.p, atv.len);
    tlv(b, 0x31, set.p, set.len);

    free(atv.p);
    free(set.p);
}


static unsigned long long
rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;

    return seed;
}
