
/*
 * Copyright (C) Sekisho authors
 *
 * The JPKI end-user profile (../shared/JPKI.md, section 3), read
 * strictly: X.509 v3, sha256WithRSAEncryption inside and out, an
 * RSA-2048 key with e = 65537, a key usage, an authority key
 * identifier with a key id only, no unique ids, and only the
 * extensions below, critical only for key usage and basic
 * constraints.  DER only: minimal lengths, no indefinite forms, no
 * explicit FALSE.  Nothing here is trusted until the caller has
 * checked the issuer's signature over "tbs".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_jpki_der.h"


typedef struct {
    u_char                     *pos;
    u_char                     *end;
} ngx_http_sekisho_der_cursor_t;


static ngx_int_t ngx_http_sekisho_der_next(ngx_http_sekisho_der_cursor_t *d,
    u_char tag, ngx_str_t *value, ngx_str_t *tlv);
static ngx_int_t ngx_http_sekisho_der_is(ngx_str_t *s, const u_char *bytes,
    size_t len);
static ngx_int_t ngx_http_sekisho_der_validity(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_int_t ngx_http_sekisho_der_key(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_int_t ngx_http_sekisho_der_extensions(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_int_t ngx_http_sekisho_der_extension(ngx_str_t *oid,
    ngx_uint_t critical, ngx_str_t *value, ngx_http_sekisho_jpki_der_t *c,
    ngx_uint_t *seen);


#define ngx_http_sekisho_der_cursor(d, v)                                     \
    ((d)->pos = (v)->data, (d)->end = (v)->data + (v)->len)


/* AlgorithmIdentifier sha256WithRSAEncryption, NULL parameters */
static const u_char  ngx_http_sekisho_der_sha256_rsa[] = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x0b, 0x05, 0x00
};

/* AlgorithmIdentifier rsaEncryption, NULL parameters */
static const u_char  ngx_http_sekisho_der_rsa[] = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x01, 0x05, 0x00
};

static const u_char  ngx_http_sekisho_der_v3[] = { 0x02, 0x01, 0x02 };
static const u_char  ngx_http_sekisho_der_e65537[] = { 0x01, 0x00, 0x01 };
static const u_char  ngx_http_sekisho_der_not_ca[] = { 0x30, 0x00 };

/* id-ce-* (2.5.29.n) is 55 1d n; authorityInfoAccess is id-pe-1 */
#define NGX_HTTP_SEKISHO_CE_SKI       0x0e
#define NGX_HTTP_SEKISHO_CE_KU        0x0f
#define NGX_HTTP_SEKISHO_CE_SAN       0x11
#define NGX_HTTP_SEKISHO_CE_IAN       0x12
#define NGX_HTTP_SEKISHO_CE_BC        0x13
#define NGX_HTTP_SEKISHO_CE_CRLDP     0x1f
#define NGX_HTTP_SEKISHO_CE_POLICIES  0x20
#define NGX_HTTP_SEKISHO_CE_AKI       0x23
#define NGX_HTTP_SEKISHO_CE_EKU       0x25

static const u_char  ngx_http_sekisho_der_aia[] = {
    0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01
};

/* keyCertSign as X509_get_key_usage() has it (KU_KEY_CERT_SIGN) */
#define NGX_HTTP_SEKISHO_KU_CERT_SIGN  0x0004

/* "seen" bits beyond the NGX_HTTP_SEKISHO_EXT_* ones */
#define NGX_HTTP_SEKISHO_SEEN_KU      (1 << 8)
#define NGX_HTTP_SEKISHO_SEEN_BC      (1 << 9)
#define NGX_HTTP_SEKISHO_SEEN_AKI     (1 << 10)


/* NGX_OK: "c" holds the certificate's parts; NGX_DECLINED: not ours */

ngx_int_t
ngx_http_sekisho_jpki_der_read(u_char *der, size_t len,
    ngx_http_sekisho_jpki_der_t *c)
{
    ngx_str_t                      v, tlv;
    ngx_http_sekisho_der_cursor_t  top, cert, tbs;

    ngx_memzero(c, sizeof(ngx_http_sekisho_jpki_der_t));

    top.pos = der;
    top.end = der + len;

    if (ngx_http_sekisho_der_next(&top, 0x30, &v, NULL) != NGX_OK
        || top.pos != top.end)
    {
        return NGX_DECLINED;
    }

    ngx_http_sekisho_der_cursor(&cert, &v);

    if (ngx_http_sekisho_der_next(&cert, 0x30, &v, &c->tbs) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_sekisho_der_cursor(&tbs, &v);

    if (ngx_http_sekisho_der_next(&cert, 0x30, &v, &tlv) != NGX_OK
        || ngx_http_sekisho_der_is(&tlv, ngx_http_sekisho_der_sha256_rsa,
                                   sizeof(ngx_http_sekisho_der_sha256_rsa))
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* the signature: a BIT STRING of whole bytes */
    if (ngx_http_sekisho_der_next(&cert, 0x03, &v, NULL) != NGX_OK
        || v.len < 2 || v.data[0] != 0 || cert.pos != cert.end)
    {
        return NGX_DECLINED;
    }

    c->signature.data = v.data + 1;
    c->signature.len = v.len - 1;

    /* TBSCertificate: version [0] v3 */
    if (ngx_http_sekisho_der_next(&tbs, 0xa0, &v, NULL) != NGX_OK
        || ngx_http_sekisho_der_is(&v, ngx_http_sekisho_der_v3,
                                   sizeof(ngx_http_sekisho_der_v3))
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* a positive serial of at most 20 octets, minimally encoded */
    if (ngx_http_sekisho_der_next(&tbs, 0x02, &v, &c->serial) != NGX_OK
        || v.len == 0 || v.len > 20 || (v.data[0] & 0x80)
        || (v.len == 1 && v.data[0] == 0)
        || (v.len > 1 && v.data[0] == 0 && !(v.data[1] & 0x80)))
    {
        return NGX_DECLINED;
    }

    /* the same algorithm inside as outside */
    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, &tlv) != NGX_OK
        || ngx_http_sekisho_der_is(&tlv, ngx_http_sekisho_der_sha256_rsa,
                                   sizeof(ngx_http_sekisho_der_sha256_rsa))
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, &c->issuer) != NGX_OK
        || v.len == 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, NULL) != NGX_OK
        || ngx_http_sekisho_der_validity(&v, c) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /*
     * A self-issued certificate may look self-signed to OpenSSL, which
     * then refuses it as such: such are for the full path to judge.
     */

    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, &c->subject) != NGX_OK
        || v.len == 0
        || (c->subject.len == c->issuer.len
            && ngx_memcmp(c->subject.data, c->issuer.data, c->issuer.len)
               == 0))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, NULL) != NGX_OK
        || ngx_http_sekisho_der_key(&v, c) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* no unique identifiers: extensions [3] end the TBSCertificate */
    if (ngx_http_sekisho_der_next(&tbs, 0xa3, &v, NULL) != NGX_OK
        || tbs.pos != tbs.end
        || ngx_http_sekisho_der_extensions(&v, c) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The next element, which must have the tag given (single-octet tags
 * only): "value" its contents, "tlv" the whole of it.
 */

static ngx_int_t
ngx_http_sekisho_der_next(ngx_http_sekisho_der_cursor_t *d, u_char tag,
    ngx_str_t *value, ngx_str_t *tlv)
{
    u_char  *p, *start;
    size_t   len, n;

    p = d->pos;

    if (d->end - p < 2 || p[0] != tag) {
        return NGX_DECLINED;
    }

    start = p;
    p++;
    len = *p++;

    if (len & 0x80) {
        n = len & 0x7f;

        /* indefinite (0x80), a leading zero, or a short length long */
        if (n == 0 || n > 3 || (size_t) (d->end - p) < n || p[0] == 0) {
            return NGX_DECLINED;
        }

        len = 0;

        while (n--) {
            len = (len << 8) | *p++;
        }

        if (len < 0x80) {
            return NGX_DECLINED;
        }
    }

    if ((size_t) (d->end - p) < len) {
        return NGX_DECLINED;
    }

    value->data = p;
    value->len = len;

    if (tlv) {
        tlv->data = start;
        tlv->len = p + len - start;
    }

    d->pos = p + len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_der_is(ngx_str_t *s, const u_char *bytes, size_t len)
{
    return (s->len == len && ngx_memcmp(s->data, bytes, len) == 0)
           ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_sekisho_der_validity(ngx_str_t *v, ngx_http_sekisho_jpki_der_t *c)
{
    u_char                         tag;
    ngx_str_t                      t;
    ngx_http_sekisho_der_cursor_t  d;

    ngx_http_sekisho_der_cursor(&d, v);

    tag = (d.pos < d.end) ? d.pos[0] : 0;

    if (ngx_http_sekisho_der_next(&d, tag, &t, NULL) != NGX_OK
        || ngx_http_sekisho_der_time(tag, t.data, t.len, &c->not_before)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    tag = (d.pos < d.end) ? d.pos[0] : 0;

    if (ngx_http_sekisho_der_next(&d, tag, &t, NULL) != NGX_OK
        || ngx_http_sekisho_der_time(tag, t.data, t.len, &c->not_after)
           != NGX_OK
        || d.pos != d.end)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * UTCTime YYMMDDHHMMSSZ (years 1950-2049) or GeneralizedTime
 * YYYYMMDDHHMMSSZ, as seconds since the epoch; nothing looser.
 */

ngx_int_t
ngx_http_sekisho_der_time(u_char tag, u_char *p, size_t len, time_t *t)
{
    size_t      i, digits;
    ngx_int_t   f[6], year, month, day, mdays, era, yoe, doy, doe;

    static const ngx_int_t  days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (tag == 0x17 && len == 13) {
        digits = 12;

    } else if (tag == 0x18 && len == 15) {
        digits = 14;

    } else {
        return NGX_DECLINED;
    }

    if (p[digits] != 'Z') {
        return NGX_DECLINED;
    }

    for (i = 0; i < digits; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_DECLINED;
        }
    }

    /* two digits each, the year's four when generalized */
    for (i = 0; i < 6; i++) {
        f[i] = (p[digits - 12 + 2 * i] - '0') * 10
               + (p[digits - 11 + 2 * i] - '0');
    }

    if (digits == 12) {
        year = (f[0] < 50) ? 2000 + f[0] : 1900 + f[0];

    } else {
        year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + f[0];
    }

    month = f[1];
    day = f[2];

    /* older dates are for OpenSSL's full path to judge */
    if (year < 1950 || month < 1 || month > 12 || day < 1 || f[3] > 23
        || f[4] > 59 || f[5] > 59)
    {
        return NGX_DECLINED;
    }

    mdays = days[month - 1];

    if (month == 2
        && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
    {
        mdays++;
    }

    if (day > mdays) {
        return NGX_DECLINED;
    }

    /* days since 1970-01-01, counted in 400-year eras from March 0000 */
    if (month <= 2) {
        year--;
    }

    era = year / 400;
    yoe = year - era * 400;
    doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    *t = ((time_t) (era * 146097 + doe - 719468)) * 86400
         + f[3] * 3600 + f[4] * 60 + f[5];

    return NGX_OK;
}


/* rsaEncryption: a 2048-bit modulus and e = 65537 */

static ngx_int_t
ngx_http_sekisho_der_key(ngx_str_t *v, ngx_http_sekisho_jpki_der_t *c)
{
    ngx_str_t                      alg, bits, n, e, seq;
    ngx_http_sekisho_der_cursor_t  d, key, rsa;

    ngx_http_sekisho_der_cursor(&d, v);

    if (ngx_http_sekisho_der_next(&d, 0x30, &seq, &alg) != NGX_OK
        || ngx_http_sekisho_der_is(&alg, ngx_http_sekisho_der_rsa,
                                   sizeof(ngx_http_sekisho_der_rsa))
           != NGX_OK
        || ngx_http_sekisho_der_next(&d, 0x03, &bits, NULL) != NGX_OK
        || d.pos != d.end
        || bits.len < 1 || bits.data[0] != 0)
    {
        return NGX_DECLINED;
    }

    key.pos = bits.data + 1;
    key.end = bits.data + bits.len;

    if (ngx_http_sekisho_der_next(&key, 0x30, &seq, &c->rsa_key) != NGX_OK
        || key.pos != key.end)
    {
        return NGX_DECLINED;
    }

    ngx_http_sekisho_der_cursor(&rsa, &seq);

    if (ngx_http_sekisho_der_next(&rsa, 0x02, &n, NULL) != NGX_OK
        || n.len != 257 || n.data[0] != 0 || !(n.data[1] & 0x80)
        || ngx_http_sekisho_der_next(&rsa, 0x02, &e, NULL) != NGX_OK
        || ngx_http_sekisho_der_is(&e, ngx_http_sekisho_der_e65537,
                                   sizeof(ngx_http_sekisho_der_e65537))
           != NGX_OK
        || rsa.pos != rsa.end)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_der_extensions(ngx_str_t *v, ngx_http_sekisho_jpki_der_t *c)
{
    ngx_str_t                      list, ext, oid, value, b;
    ngx_uint_t                     seen, critical;
    ngx_http_sekisho_der_cursor_t  d, exts, e;

    ngx_http_sekisho_der_cursor(&d, v);

    if (ngx_http_sekisho_der_next(&d, 0x30, &list, NULL) != NGX_OK
        || d.pos != d.end || list.len == 0)
    {
        return NGX_DECLINED;
    }

    ngx_http_sekisho_der_cursor(&exts, &list);
    seen = 0;

    while (exts.pos < exts.end) {

        if (ngx_http_sekisho_der_next(&exts, 0x30, &ext, NULL) != NGX_OK) {
            return NGX_DECLINED;
        }

        ngx_http_sekisho_der_cursor(&e, &ext);

        if (ngx_http_sekisho_der_next(&e, 0x06, &oid, NULL) != NGX_OK) {
            return NGX_DECLINED;
        }

        critical = 0;

        /* DER leaves a FALSE default out: only TRUE may be present */
        if (e.pos < e.end && e.pos[0] == 0x01) {
            if (ngx_http_sekisho_der_next(&e, 0x01, &b, NULL) != NGX_OK
                || b.len != 1 || b.data[0] != 0xff)
            {
                return NGX_DECLINED;
            }

            critical = 1;
        }

        if (ngx_http_sekisho_der_next(&e, 0x04, &value, NULL) != NGX_OK
            || e.pos != e.end
            || ngx_http_sekisho_der_extension(&oid, critical, &value, c,
                                              &seen)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }
    }

    /*
     * A key usage to check, and the key id that finds the root.  A
     * non-CA certificate that may sign certificates is refused by
     * OpenSSL's strict checks as untrusted: the full path says so.
     */

    if (!(seen & NGX_HTTP_SEKISHO_SEEN_KU)
        || !(seen & NGX_HTTP_SEKISHO_SEEN_AKI)
        || (c->key_usage & NGX_HTTP_SEKISHO_KU_CERT_SIGN))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_der_extension(ngx_str_t *oid, ngx_uint_t critical,
    ngx_str_t *value, ngx_http_sekisho_jpki_der_t *c, ngx_uint_t *seen)
{
    u_char                         last;
    ngx_str_t                      v, id;
    ngx_uint_t                     bit, slot;
    ngx_http_sekisho_der_cursor_t  d, aki;

    ngx_http_sekisho_der_cursor(&d, value);

    if (ngx_http_sekisho_der_is(oid, ngx_http_sekisho_der_aia,
                                sizeof(ngx_http_sekisho_der_aia))
        == NGX_OK)
    {
        slot = NGX_HTTP_SEKISHO_EXT_AIA;
        goto informational;
    }

    if (oid->len != 3 || oid->data[0] != 0x55 || oid->data[1] != 0x1d) {
        return NGX_DECLINED;
    }

    switch (oid->data[2]) {

    case NGX_HTTP_SEKISHO_CE_KU:
        bit = NGX_HTTP_SEKISHO_SEEN_KU;

        /* one or two octets of named bits, trailing zero bits trimmed */
        if ((*seen & bit)
            || ngx_http_sekisho_der_next(&d, 0x03, &v, NULL) != NGX_OK
            || d.pos != d.end || v.len < 2 || v.len > 3 || v.data[0] > 7)
        {
            return NGX_DECLINED;
        }

        last = v.data[v.len - 1];

        /* the lowest bit used is set, those unused are clear */
        if (!(last & (1 << v.data[0])) || (last & ((1 << v.data[0]) - 1))) {
            return NGX_DECLINED;
        }

        c->key_usage = v.data[1];

        if (v.len == 3) {
            c->key_usage |= (uint32_t) v.data[2] << 8;
        }

        *seen |= bit;
        return NGX_OK;

    case NGX_HTTP_SEKISHO_CE_BC:
        bit = NGX_HTTP_SEKISHO_SEEN_BC;

        /* not a CA, and nothing else said */
        if ((*seen & bit)
            || ngx_http_sekisho_der_is(value, ngx_http_sekisho_der_not_ca,
                                       sizeof(ngx_http_sekisho_der_not_ca))
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        *seen |= bit;
        return NGX_OK;

    case NGX_HTTP_SEKISHO_CE_AKI:
        bit = NGX_HTTP_SEKISHO_SEEN_AKI;

        /* the key id alone: an issuer and serial would be checked too */
        if ((*seen & bit) || critical
            || ngx_http_sekisho_der_next(&d, 0x30, &v, NULL) != NGX_OK
            || d.pos != d.end)
        {
            return NGX_DECLINED;
        }

        ngx_http_sekisho_der_cursor(&aki, &v);

        if (ngx_http_sekisho_der_next(&aki, 0x80, &id, NULL) != NGX_OK
            || aki.pos != aki.end || id.len == 0 || id.len > 64)
        {
            return NGX_DECLINED;
        }

        c->key_id = id;
        *seen |= bit;
        return NGX_OK;

    case NGX_HTTP_SEKISHO_CE_SKI:
        slot = NGX_HTTP_SEKISHO_EXT_SKI;
        break;

    case NGX_HTTP_SEKISHO_CE_SAN:
        slot = NGX_HTTP_SEKISHO_EXT_SAN;
        break;

    case NGX_HTTP_SEKISHO_CE_IAN:
        slot = NGX_HTTP_SEKISHO_EXT_IAN;
        break;

    case NGX_HTTP_SEKISHO_CE_CRLDP:
        slot = NGX_HTTP_SEKISHO_EXT_CRLDP;
        break;

    case NGX_HTTP_SEKISHO_CE_POLICIES:
        slot = NGX_HTTP_SEKISHO_EXT_POLICIES;
        break;

    case NGX_HTTP_SEKISHO_CE_EKU:
        slot = NGX_HTTP_SEKISHO_EXT_EKU;
        break;

    default:
        return NGX_DECLINED;
    }

informational:

    /* decoded by the caller with OpenSSL's own decoder for each */
    if (critical || (*seen & (1 << slot)) || value->len == 0) {
        return NGX_DECLINED;
    }

    c->ext[slot] = *value;
    *seen |= 1 << slot;

    return NGX_OK;
}
