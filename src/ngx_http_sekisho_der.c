
/*
 * Copyright (C) Sekisho authors
 *
 * X.690 DER, read strictly: a definite length in the fewest octets,
 * one-octet tags, minimal INTEGERs and named bit lists, TRUE as ff and
 * FALSE left out.  A length takes at most four octets: a CRL of 100 MB
 * needs four.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_der.h"


ngx_int_t
ngx_http_sekisho_der_tlv(ngx_http_sekisho_der_cursor_t *d, ngx_str_t *value,
    ngx_str_t *tlv)
{
    u_char  *p, *start;
    size_t   len, n;

    p = d->pos;

    if (d->end - p < 2 || p[0] == 0x00 || (p[0] & 0x1f) == 0x1f) {
        return NGX_DECLINED;
    }

    start = p;
    p++;
    len = *p++;

    if (len & 0x80) {
        n = len & 0x7f;

        /* indefinite (0x80), a leading zero, or a short length long */
        if (n == 0 || n > 4 || (size_t) (d->end - p) < n || p[0] == 0) {
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


ngx_int_t
ngx_http_sekisho_der_next(ngx_http_sekisho_der_cursor_t *d, u_char tag,
    ngx_str_t *value, ngx_str_t *tlv)
{
    if (!ngx_http_sekisho_der_at(d, tag)) {
        return NGX_DECLINED;
    }

    return ngx_http_sekisho_der_tlv(d, value, tlv);
}


ngx_int_t
ngx_http_sekisho_der_single(ngx_str_t *s, u_char tag, ngx_str_t *value)
{
    ngx_http_sekisho_der_cursor_t  d;

    ngx_http_sekisho_der_cursor(&d, s);

    if (ngx_http_sekisho_der_next(&d, tag, value, NULL) != NGX_OK
        || d.pos != d.end)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


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


ngx_int_t
ngx_http_sekisho_der_next_time(ngx_http_sekisho_der_cursor_t *d, time_t *t)
{
    u_char     tag;
    ngx_str_t  v;

    tag = (d->pos < d->end) ? d->pos[0] : 0;

    if ((tag != 0x17 && tag != 0x18)
        || ngx_http_sekisho_der_next(d, tag, &v, NULL) != NGX_OK
        || ngx_http_sekisho_der_time(tag, v.data, v.len, t) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_der_integer(ngx_str_t *v)
{
    if (v->len == 0 || (v->data[0] & 0x80)) {
        return NGX_DECLINED;
    }

    /* a leading zero only before a high bit */
    if (v->len > 1 && v->data[0] == 0 && !(v->data[1] & 0x80)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* X.690 8.19: the last octet ends a subidentifier, none starts with 80 */

ngx_int_t
ngx_http_sekisho_der_oid(ngx_str_t *oid)
{
    size_t  i;

    if (oid->len == 0 || (oid->data[oid->len - 1] & 0x80)) {
        return NGX_DECLINED;
    }

    for (i = 0; i < oid->len; i++) {
        if (oid->data[i] == 0x80 && (i == 0 || !(oid->data[i - 1] & 0x80))) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * DER drops a named bit list's trailing zero bits (X.690 11.2.2): the
 * last octet's lowest used bit is set, and the unused ones are clear.
 */

ngx_int_t
ngx_http_sekisho_der_bits(ngx_str_t *v)
{
    u_char  unused, last;

    if (v->len == 0 || v->len > 3 || v->data[0] > 7) {
        return NGX_DECLINED;
    }

    unused = v->data[0];

    if (v->len == 1) {
        return (unused == 0) ? NGX_OK : NGX_DECLINED;
    }

    last = v->data[v->len - 1];

    if (!(last & (1 << unused)) || (last & ((1 << unused) - 1))) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_der_extension(ngx_http_sekisho_der_cursor_t *d,
    ngx_str_t *oid, ngx_uint_t *critical, ngx_str_t *value)
{
    ngx_str_t                      ext, b;
    ngx_http_sekisho_der_cursor_t  e;

    if (ngx_http_sekisho_der_next(d, 0x30, &ext, NULL) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_sekisho_der_cursor(&e, &ext);

    if (ngx_http_sekisho_der_next(&e, 0x06, oid, NULL) != NGX_OK
        || ngx_http_sekisho_der_oid(oid) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    *critical = 0;

    if (ngx_http_sekisho_der_at(&e, 0x01)) {
        if (ngx_http_sekisho_der_next(&e, 0x01, &b, NULL) != NGX_OK
            || b.len != 1 || b.data[0] != 0xff)
        {
            return NGX_DECLINED;
        }

        *critical = 1;
    }

    if (ngx_http_sekisho_der_next(&e, 0x04, value, NULL) != NGX_OK
        || e.pos != e.end)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
