
/*
 * Copyright (C) Sekisho authors
 *
 * Names as RFC 5280 has them, checked as far as d2i_X509_NAME() and
 * d2i_GENERAL_NAMES() check them (and a little further: the string
 * types a CA writes, non-empty, sorted), so that what is taken here
 * OpenSSL also parses.  Nothing recurses: a directoryName holds a Name,
 * a Name holds no GeneralName.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_der.h"
#include "ngx_http_sekisho_text.h"
#include "ngx_http_sekisho_der_names.h"


static ngx_int_t ngx_http_sekisho_der_names_add(u_char *p, size_t len,
    ngx_str_t *names, ngx_uint_t max, ngx_uint_t *n);
static ngx_int_t ngx_http_sekisho_der_general_name(
    ngx_http_sekisho_der_cursor_t *d, ngx_str_t *tlv);
static ngx_int_t ngx_http_sekisho_der_rdn(ngx_str_t *set);
static ngx_int_t ngx_http_sekisho_der_set_order(ngx_str_t *a, ngx_str_t *b);
static ngx_int_t ngx_http_sekisho_der_string(u_char tag, ngx_str_t *v);


/* far above any real name; d2i_X509_NAME() refuses one over 1 MB */
#define NGX_HTTP_SEKISHO_DER_NAME_MAX  65535


ngx_int_t
ngx_http_sekisho_crl_dp_names(u_char *ext, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n)
{
    ngx_int_t                      rc;
    ngx_str_t                      v, dpn, full, bits, issuer;
    ngx_uint_t                     declined, skip, k;
    ngx_http_sekisho_der_cursor_t  top, dps, dp;

    *n = 0;

    top.pos = ext;
    top.end = ext + len;

    if (ngx_http_sekisho_der_next(&top, 0x30, &v, NULL) != NGX_OK
        || top.pos != top.end || v.len == 0)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&dps, &v);
    declined = 0;

    while (dps.pos < dps.end) {

        if (ngx_http_sekisho_der_next(&dps, 0x30, &v, NULL) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_sekisho_der_cursor(&dp, &v);
        ngx_str_null(&full);
        skip = 0;

        if (ngx_http_sekisho_der_at(&dp, 0xa0)) {
            if (ngx_http_sekisho_der_next(&dp, 0xa0, &dpn, NULL) != NGX_OK) {
                return NGX_ERROR;
            }

            rc = ngx_http_sekisho_der_dp_name(&dpn, &full);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            skip = (rc == NGX_DECLINED);
        }

        if (ngx_http_sekisho_der_at(&dp, 0x81)) {
            if (ngx_http_sekisho_der_next(&dp, 0x81, &bits, NULL) != NGX_OK
                || ngx_http_sekisho_der_bits(&bits) != NGX_OK)
            {
                return NGX_ERROR;
            }

            skip = 1;
        }

        if (ngx_http_sekisho_der_at(&dp, 0xa2)) {
            if (ngx_http_sekisho_der_next(&dp, 0xa2, &issuer, NULL) != NGX_OK
                || ngx_http_sekisho_general_names(issuer.data, issuer.len,
                                                  NULL, 0, &k)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            skip = 1;
        }

        /* RFC 5280 4.2.1.13: a name or an issuer, in order, nothing else */
        if (dp.pos != dp.end || v.len == 0
            || (v.data[0] != 0xa0 && v.data[0] != 0xa2))
        {
            return NGX_ERROR;
        }

        declined |= skip;

        /* once declined, the names are only checked */
        if (full.len && !declined
            && ngx_http_sekisho_der_names_add(full.data, full.len, names,
                                              max, n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (declined) {
        *n = 0;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a CHOICE under an explicit [0]: fullName [0] or a relative name [1] */

ngx_int_t
ngx_http_sekisho_der_dp_name(ngx_str_t *v, ngx_str_t *full)
{
    ngx_str_t                      rdn;
    ngx_uint_t                     n;
    ngx_http_sekisho_der_cursor_t  d;

    ngx_http_sekisho_der_cursor(&d, v);

    if (ngx_http_sekisho_der_at(&d, 0xa0)) {
        if (ngx_http_sekisho_der_next(&d, 0xa0, full, NULL) != NGX_OK
            || d.pos != d.end
            || ngx_http_sekisho_general_names(full->data, full->len, NULL, 0,
                                              &n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_sekisho_der_next(&d, 0xa1, &rdn, NULL) != NGX_OK
        || d.pos != d.end
        || ngx_http_sekisho_der_rdn(&rdn) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_sekisho_general_names(u_char *p, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n)
{
    *n = 0;

    return ngx_http_sekisho_der_names_add(p, len, names, max, n);
}


/*
 * GeneralNames' contents, at least one name: appended to names[*n]
 * (more than "max" in all is an error), or only checked when "names"
 * is NULL.
 */

static ngx_int_t
ngx_http_sekisho_der_names_add(u_char *p, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n)
{
    ngx_str_t                      tlv;
    ngx_http_sekisho_der_cursor_t  d;

    if (len == 0) {
        return NGX_ERROR;
    }

    d.pos = p;
    d.end = p + len;

    while (d.pos < d.end) {

        if (ngx_http_sekisho_der_general_name(&d, &tlv) != NGX_OK) {
            return NGX_ERROR;
        }

        if (names == NULL) {
            continue;
        }

        if (*n >= max) {
            return NGX_ERROR;
        }

        names[(*n)++] = tlv;
    }

    return NGX_OK;
}


/*
 * One GeneralName (RFC 5280 4.2.1.6, tagged implicitly but for the
 * CHOICE of directoryName): the forms a CRL distribution point is
 * named by, and otherName.  x400Address and ediPartyName are refused.
 */

static ngx_int_t
ngx_http_sekisho_der_general_name(ngx_http_sekisho_der_cursor_t *d,
    ngx_str_t *tlv)
{
    u_char                        *p, tag;
    ngx_str_t                      v, oid, value, name;
    ngx_http_sekisho_der_cursor_t  g, w;

    tag = (d->pos < d->end) ? d->pos[0] : 0;

    if (ngx_http_sekisho_der_tlv(d, &v, tlv) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (tag) {

    case 0x81: /* rfc822Name */
    case 0x82: /* dNSName */
    case 0x86: /* uniformResourceIdentifier */
        if (v.len == 0) {
            return NGX_ERROR;
        }

        for (p = v.data; p < v.data + v.len; p++) {
            if (*p >= 0x80) {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case 0x87: /* iPAddress */
        return (v.len == 4 || v.len == 16) ? NGX_OK : NGX_ERROR;

    case 0x88: /* registeredID */
        return (ngx_http_sekisho_der_oid(&v) == NGX_OK) ? NGX_OK : NGX_ERROR;

    case 0xa4: /* directoryName */
        if (ngx_http_sekisho_der_single(&v, 0x30, &name) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_sekisho_der_name(&name);

    case 0xa0: /* otherName: type-id, [0] EXPLICIT value */
        ngx_http_sekisho_der_cursor(&g, &v);

        if (ngx_http_sekisho_der_next(&g, 0x06, &oid, NULL) != NGX_OK
            || ngx_http_sekisho_der_oid(&oid) != NGX_OK
            || ngx_http_sekisho_der_next(&g, 0xa0, &value, NULL) != NGX_OK
            || g.pos != g.end)
        {
            return NGX_ERROR;
        }

        ngx_http_sekisho_der_cursor(&w, &value);
        tag = (w.pos < w.end) ? w.pos[0] : 0;

        if (ngx_http_sekisho_der_tlv(&w, &v, NULL) != NGX_OK
            || w.pos != w.end)
        {
            return NGX_ERROR;
        }

        /* an OCTET STRING or a SEQUENCE is opaque to OpenSSL too */
        if (tag == 0x04 || tag == 0x30) {
            return NGX_OK;
        }

        return ngx_http_sekisho_der_string(tag, &v);

    default:
        return NGX_ERROR;
    }
}


ngx_int_t
ngx_http_sekisho_der_name(ngx_str_t *v)
{
    ngx_str_t                      set;
    ngx_http_sekisho_der_cursor_t  d;

    if (v->len == 0 || v->len > NGX_HTTP_SEKISHO_DER_NAME_MAX) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&d, v);

    while (d.pos < d.end) {
        if (ngx_http_sekisho_der_next(&d, 0x31, &set, NULL) != NGX_OK
            || ngx_http_sekisho_der_rdn(&set) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a RelativeDistinguishedName's contents: attributes, in DER order */

static ngx_int_t
ngx_http_sekisho_der_rdn(ngx_str_t *set)
{
    u_char                         tag;
    ngx_str_t                      v, atv, prev, oid, value;
    ngx_http_sekisho_der_cursor_t  d, a;

    if (set->len == 0) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&d, set);
    ngx_str_null(&prev);

    while (d.pos < d.end) {

        if (ngx_http_sekisho_der_next(&d, 0x30, &v, &atv) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_sekisho_der_cursor(&a, &v);

        if (ngx_http_sekisho_der_next(&a, 0x06, &oid, NULL) != NGX_OK
            || ngx_http_sekisho_der_oid(&oid) != NGX_OK)
        {
            return NGX_ERROR;
        }

        tag = (a.pos < a.end) ? a.pos[0] : 0;

        if (ngx_http_sekisho_der_tlv(&a, &value, NULL) != NGX_OK
            || a.pos != a.end
            || ngx_http_sekisho_der_string(tag, &value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (prev.data && ngx_http_sekisho_der_set_order(&prev, &atv) > 0) {
            return NGX_ERROR;
        }

        prev = atv;
    }

    return NGX_OK;
}


/*
 * X.690 11.6: a SET OF's encodings in ascending order, the shorter
 * padded with zeros at its end; 1 when "a" must come after "b".
 */

static ngx_int_t
ngx_http_sekisho_der_set_order(ngx_str_t *a, ngx_str_t *b)
{
    size_t     i, n;
    ngx_int_t  rc;

    n = ngx_min(a->len, b->len);
    rc = ngx_memcmp(a->data, b->data, n);

    if (rc != 0) {
        return (rc > 0) ? 1 : -1;
    }

    for (i = n; i < a->len; i++) {
        if (a->data[i] != 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * An attribute's value: the string types CAs write, not empty.
 * d2i_X509_NAME() converts each to UTF-8 and refuses the name when it
 * cannot: a BMPString of odd length or with a surrogate, bad UTF-8.
 */

static ngx_int_t
ngx_http_sekisho_der_string(u_char tag, ngx_str_t *v)
{
    u_char  *p, *end, c;
    size_t   i;

    if (v->len == 0) {
        return NGX_ERROR;
    }

    p = v->data;
    end = v->data + v->len;

    switch (tag) {

    case 0x0c: /* UTF8String */
        return ngx_http_sekisho_utf8_string(p, end);

    case 0x13: /* PrintableString, X.680 41.4 */
        for ( /* void */ ; p < end; p++) {
            c = *p;

            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9'))
            {
                continue;
            }

            switch (c) {
            case ' ': case '\'': case '(': case ')': case '+': case ',':
            case '-': case '.': case '/': case ':': case '=': case '?':
                continue;
            default:
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case 0x16: /* IA5String */
        for ( /* void */ ; p < end; p++) {
            if (*p >= 0x80) {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case 0x1e: /* BMPString: UCS-2, big-endian */
        if (v->len % 2) {
            return NGX_ERROR;
        }

        for (i = 0; i < v->len; i += 2) {
            if (p[i] >= 0xd8 && p[i] <= 0xdf) {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}
