
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
#include "ngx_http_sekisho_der.h"
#include "ngx_http_sekisho_jpki_der.h"


static ngx_int_t ngx_http_sekisho_jpki_der_is(ngx_str_t *s,
    const u_char *bytes, size_t len);
static ngx_int_t ngx_http_sekisho_jpki_der_validity(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_int_t ngx_http_sekisho_jpki_der_key(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_int_t ngx_http_sekisho_jpki_der_extensions(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c);
static ngx_int_t ngx_http_sekisho_jpki_der_extension(ngx_str_t *oid,
    ngx_uint_t critical, ngx_str_t *value, ngx_http_sekisho_jpki_der_t *c,
    ngx_uint_t *seen);


/* AlgorithmIdentifier sha256WithRSAEncryption, NULL parameters */
static const u_char  ngx_http_sekisho_jpki_sig_alg[] = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x0b, 0x05, 0x00
};

/* AlgorithmIdentifier rsaEncryption, NULL parameters */
static const u_char  ngx_http_sekisho_jpki_key_alg[] = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x01, 0x05, 0x00
};

static const u_char  ngx_http_sekisho_jpki_v3[] = { 0x02, 0x01, 0x02 };
static const u_char  ngx_http_sekisho_jpki_e65537[] = { 0x01, 0x00, 0x01 };
static const u_char  ngx_http_sekisho_jpki_no_ca[] = { 0x30, 0x00 };

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

static const u_char  ngx_http_sekisho_jpki_aia[] = {
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
        || ngx_http_sekisho_jpki_der_is(&tlv, ngx_http_sekisho_jpki_sig_alg,
                                        sizeof(ngx_http_sekisho_jpki_sig_alg))
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
        || ngx_http_sekisho_jpki_der_is(&v, ngx_http_sekisho_jpki_v3,
                                        sizeof(ngx_http_sekisho_jpki_v3))
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* a positive serial of at most 20 octets, minimally encoded */
    if (ngx_http_sekisho_der_next(&tbs, 0x02, &v, &c->serial) != NGX_OK
        || ngx_http_sekisho_der_integer(&v) != NGX_OK
        || v.len > 20 || (v.len == 1 && v.data[0] == 0))
    {
        return NGX_DECLINED;
    }

    /* the same algorithm inside as outside */
    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, &tlv) != NGX_OK
        || ngx_http_sekisho_jpki_der_is(&tlv, ngx_http_sekisho_jpki_sig_alg,
                                        sizeof(ngx_http_sekisho_jpki_sig_alg))
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
        || ngx_http_sekisho_jpki_der_validity(&v, c) != NGX_OK)
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
        || ngx_http_sekisho_jpki_der_key(&v, c) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* no unique identifiers: extensions [3] end the TBSCertificate */
    if (ngx_http_sekisho_der_next(&tbs, 0xa3, &v, NULL) != NGX_OK
        || tbs.pos != tbs.end
        || ngx_http_sekisho_jpki_der_extensions(&v, c) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_jpki_der_is(ngx_str_t *s, const u_char *bytes, size_t len)
{
    return (s->len == len && ngx_memcmp(s->data, bytes, len) == 0)
           ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_sekisho_jpki_der_validity(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c)
{
    ngx_http_sekisho_der_cursor_t  d;

    ngx_http_sekisho_der_cursor(&d, v);

    if (ngx_http_sekisho_der_next_time(&d, &c->not_before) != NGX_OK
        || ngx_http_sekisho_der_next_time(&d, &c->not_after) != NGX_OK
        || d.pos != d.end)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* rsaEncryption: a 2048-bit modulus and e = 65537 */

static ngx_int_t
ngx_http_sekisho_jpki_der_key(ngx_str_t *v, ngx_http_sekisho_jpki_der_t *c)
{
    ngx_str_t                      alg, bits, n, e, seq;
    ngx_http_sekisho_der_cursor_t  d, key, rsa;

    ngx_http_sekisho_der_cursor(&d, v);

    if (ngx_http_sekisho_der_next(&d, 0x30, &seq, &alg) != NGX_OK
        || ngx_http_sekisho_jpki_der_is(&alg, ngx_http_sekisho_jpki_key_alg,
                                        sizeof(ngx_http_sekisho_jpki_key_alg))
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
        || ngx_http_sekisho_jpki_der_is(&e, ngx_http_sekisho_jpki_e65537,
                                        sizeof(ngx_http_sekisho_jpki_e65537))
           != NGX_OK
        || rsa.pos != rsa.end)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_jpki_der_extensions(ngx_str_t *v,
    ngx_http_sekisho_jpki_der_t *c)
{
    ngx_str_t                      list, oid, value;
    ngx_uint_t                     seen, critical;
    ngx_http_sekisho_der_cursor_t  exts;

    if (ngx_http_sekisho_der_single(v, 0x30, &list) != NGX_OK
        || list.len == 0)
    {
        return NGX_DECLINED;
    }

    ngx_http_sekisho_der_cursor(&exts, &list);
    seen = 0;

    while (exts.pos < exts.end) {

        if (ngx_http_sekisho_der_extension(&exts, &oid, &critical, &value)
            != NGX_OK
            || ngx_http_sekisho_jpki_der_extension(&oid, critical, &value, c,
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
ngx_http_sekisho_jpki_der_extension(ngx_str_t *oid, ngx_uint_t critical,
    ngx_str_t *value, ngx_http_sekisho_jpki_der_t *c, ngx_uint_t *seen)
{
    ngx_str_t   v, id;
    ngx_uint_t  bit, slot;

    if (ngx_http_sekisho_jpki_der_is(oid, ngx_http_sekisho_jpki_aia,
                                     sizeof(ngx_http_sekisho_jpki_aia))
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

        /* one or two octets of named bits */
        if ((*seen & bit)
            || ngx_http_sekisho_der_single(value, 0x03, &v) != NGX_OK
            || v.len < 2 || ngx_http_sekisho_der_bits(&v) != NGX_OK)
        {
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
            || ngx_http_sekisho_jpki_der_is(value, ngx_http_sekisho_jpki_no_ca,
                                            sizeof(ngx_http_sekisho_jpki_no_ca))
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
            || ngx_http_sekisho_der_single(value, 0x30, &v) != NGX_OK
            || ngx_http_sekisho_der_single(&v, 0x80, &id) != NGX_OK
            || id.len == 0 || id.len > 64)
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
