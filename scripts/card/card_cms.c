
/*
 * Copyright (C) Sekisho authors
 *
 * SignedData, detached: version 1, sha256, the id-data content type
 * without content, the signer's certificate, and one SignerInfo
 * (issuer and serial number, signed attributes contentType,
 * signingTime and messageDigest, rsaEncryption).  The signature covers
 * the DER of the signed attributes as a SET OF, which DER sorts by
 * encoding; verifiers re-encode them, so the order matters.
 */


#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include "card_cms.h"
#include "jpki_apdu.h"


typedef struct {
    u_char     *data;
    size_t      len;
    size_t      cap;
    int         failed;
} card_der_t;


typedef struct {
    const u_char  *p;
    size_t         n;
} card_der_part_t;


static void card_der_put(card_der_t *b, const u_char *p, size_t n);
static void card_der_tlv(card_der_t *b, u_char tag, const u_char *p,
    size_t n);
static void card_der_wrap(card_der_t *b, u_char tag, card_der_t *in);
static int card_der_part_cmp(const void *a, const void *b);
static void card_cms_time(card_der_t *b, time_t now);


static const u_char  card_alg_sha256[] = {
    0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
    0x01
};

static const u_char  card_alg_rsa[] = {
    0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01,
    0x01, 0x05, 0x00
};

static const u_char  card_oid_signed_data[] = {
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02
};

static const u_char  card_oid_data[] = {
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01
};

/* pkcs-9 attributes: 1.2.840.113549.1.9.{3,4,5} without the last byte */
static const u_char  card_oid_pkcs9[] = {
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09
};

static const u_char  card_int_1[] = { 0x02, 0x01, 0x01 };


static void
card_der_put(card_der_t *b, const u_char *p, size_t n)
{
    u_char  *d;
    size_t   cap;

    if (b->failed) {
        return;
    }

    if (b->len + n > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }

        d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return;
        }

        b->data = d;
        b->cap = cap;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}


static void
card_der_tlv(card_der_t *b, u_char tag, const u_char *p, size_t n)
{
    u_char  h[6];
    size_t  hl;

    h[0] = tag;

    if (n < 0x80) {
        h[1] = (u_char) n;
        hl = 2;

    } else if (n < 0x100) {
        h[1] = 0x81;
        h[2] = (u_char) n;
        hl = 3;

    } else if (n < 0x10000) {
        h[1] = 0x82;
        h[2] = (u_char) (n >> 8);
        h[3] = (u_char) n;
        hl = 4;

    } else if (n < 0x1000000) {
        h[1] = 0x83;
        h[2] = (u_char) (n >> 16);
        h[3] = (u_char) (n >> 8);
        h[4] = (u_char) n;
        hl = 5;

    } else {
        b->failed = 1;
        return;
    }

    card_der_put(b, h, hl);
    card_der_put(b, p, n);
}


/* appends tag, length and in's bytes, then frees in */

static void
card_der_wrap(card_der_t *b, u_char tag, card_der_t *in)
{
    if (in->failed) {
        b->failed = 1;
    }

    card_der_tlv(b, tag, in->data, in->len);
    free(in->data);
    memset(in, 0, sizeof(card_der_t));
}


static int
card_der_part_cmp(const void *a, const void *b)
{
    const card_der_part_t  *x = a, *y = b;
    int                     r;

    r = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    if (r != 0) {
        return r;
    }

    return (x->n > y->n) - (x->n < y->n);
}


/* UTCTime through 2049, GeneralizedTime after (RFC 5652 11.3) */

static void
card_cms_time(card_der_t *b, time_t now)
{
    struct tm  tm;
    char       s[20];

    if (gmtime_r(&now, &tm) == NULL) {
        b->failed = 1;
        return;
    }

    if (tm.tm_year >= 50 && tm.tm_year < 150) {
        strftime(s, sizeof(s), "%y%m%d%H%M%SZ", &tm);
        card_der_tlv(b, 0x17, (u_char *) s, 13);

    } else {
        strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
        card_der_tlv(b, 0x18, (u_char *) s, strlen(s));
    }
}


/*
 * 0 and the DER in *out (to be freed); -1 on a bad certificate or no
 * memory; the signer's own error code if it fails.
 */

int
card_cms_detached(const u_char *cert, size_t cert_len,
    const u_char *content_sha256, time_t now, card_cms_sign_pt sign,
    void *data, u_char **out, size_t *out_len)
{
    int               rc, i, n;
    u_char            hash[SHA256_DIGEST_LENGTH], di[JPKI_DIGEST_INFO_LEN];
    u_char            sig[512], *name, *serial, *p;
    size_t            siglen;
    X509             *x;
    card_der_t        attr[3], attrs, set, v, sid, si, sd, ci, tmp;
    card_der_part_t   parts[3];
    const u_char     *cp;

    *out = NULL;
    rc = -1;
    name = NULL;
    serial = NULL;
    memset(attr, 0, sizeof(attr));
    memset(&attrs, 0, sizeof(card_der_t));
    memset(&set, 0, sizeof(card_der_t));
    memset(&v, 0, sizeof(card_der_t));
    memset(&sid, 0, sizeof(card_der_t));
    memset(&si, 0, sizeof(card_der_t));
    memset(&sd, 0, sizeof(card_der_t));
    memset(&ci, 0, sizeof(card_der_t));
    memset(&tmp, 0, sizeof(card_der_t));

    cp = cert;
    x = d2i_X509(NULL, &cp, (long) cert_len);
    if (x == NULL || cp != cert + cert_len) {
        goto done;
    }

    /* the signer: issuer and serial number, as i2d writes them */
    n = i2d_X509_NAME(X509_get_issuer_name(x), &name);
    if (n <= 0) {
        goto done;
    }
    card_der_put(&v, name, (size_t) n);

    n = i2d_ASN1_INTEGER((ASN1_INTEGER *) X509_get0_serialNumber(x),
                         &serial);
    if (n <= 0) {
        goto done;
    }
    card_der_put(&v, serial, (size_t) n);
    card_der_wrap(&sid, 0x30, &v);

    /* the signed attributes, each an Attribute SEQUENCE */
    for (i = 0; i < 3; i++) {
        card_der_put(&v, card_oid_pkcs9, sizeof(card_oid_pkcs9));
        card_der_put(&v, (const u_char *) "\x03\x04\x05" + i, 1);

        switch (i) {
        case 0:
            card_der_put(&tmp, card_oid_data, sizeof(card_oid_data));
            break;
        case 1:
            card_der_tlv(&tmp, 0x04, content_sha256, SHA256_DIGEST_LENGTH);
            break;
        default:
            card_cms_time(&tmp, now);
        }

        card_der_wrap(&v, 0x31, &tmp);
        card_der_wrap(&attr[i], 0x30, &v);

        if (attr[i].failed) {
            goto done;
        }

        parts[i].p = attr[i].data;
        parts[i].n = attr[i].len;
    }

    qsort(parts, 3, sizeof(card_der_part_t), card_der_part_cmp);

    for (i = 0; i < 3; i++) {
        card_der_put(&attrs, parts[i].p, parts[i].n);
    }

    if (attrs.failed) {
        goto done;
    }

    /* what is signed: the attributes with the SET OF tag */
    card_der_tlv(&set, 0x31, attrs.data, attrs.len);
    if (set.failed) {
        goto done;
    }

    SHA256(set.data, set.len, hash);
    jpki_digest_info_sha256(hash, di);

    siglen = sizeof(sig);
    rc = sign(data, di, sizeof(di), sig, &siglen);
    if (rc != 0) {
        goto done;
    }

    rc = -1;

    /* SignerInfo */
    card_der_put(&v, card_int_1, sizeof(card_int_1));
    card_der_put(&v, sid.data, sid.len);
    card_der_put(&v, card_alg_sha256, sizeof(card_alg_sha256));
    card_der_wrap(&v, 0xA0, &attrs);
    card_der_put(&v, card_alg_rsa, sizeof(card_alg_rsa));
    card_der_tlv(&v, 0x04, sig, siglen);
    card_der_wrap(&si, 0x30, &v);

    /* SignedData */
    card_der_put(&v, card_int_1, sizeof(card_int_1));
    card_der_tlv(&v, 0x31, card_alg_sha256, sizeof(card_alg_sha256));
    card_der_tlv(&v, 0x30, card_oid_data, sizeof(card_oid_data));
    card_der_tlv(&v, 0xA0, cert, cert_len);
    card_der_wrap(&v, 0x31, &si);
    card_der_wrap(&sd, 0x30, &v);

    /* ContentInfo */
    card_der_put(&v, card_oid_signed_data, sizeof(card_oid_signed_data));
    card_der_wrap(&v, 0xA0, &sd);
    card_der_wrap(&ci, 0x30, &v);

    if (ci.failed) {
        goto done;
    }

    p = ci.data;
    ci.data = NULL;
    *out = p;
    *out_len = ci.len;
    rc = 0;

done:

    X509_free(x);
    OPENSSL_free(name);
    OPENSSL_free(serial);
    OPENSSL_cleanse(sig, sizeof(sig));

    for (i = 0; i < 3; i++) {
        free(attr[i].data);
    }

    free(attrs.data);
    free(set.data);
    free(v.data);
    free(sid.data);
    free(si.data);
    free(sd.data);
    free(ci.data);
    free(tmp.data);

    return rc;
}
