
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_text.h"


static const u_char  ngx_http_sekisho_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


ngx_int_t
ngx_http_sekisho_hex_value(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}


/* RFC 9110 tchar */

ngx_uint_t
ngx_http_sekisho_token_char(u_char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'':
    case '*': case '+': case '-': case '.': case '^': case '_':
    case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}


ngx_uint_t
ngx_http_sekisho_caseless_eq(u_char *a, u_char *b, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (ngx_tolower(a[i]) != ngx_tolower(b[i])) {
            return 0;
        }
    }

    return 1;
}


/* shortest form only, no surrogates, nothing above U+10FFFF */

size_t
ngx_http_sekisho_utf8_valid(u_char *p, u_char *end)
{
    size_t    n, i;
    uint32_t  cp, min;

    if (p >= end) {
        return 0;
    }

    if (*p < 0x80) {
        return 1;
    }

    if ((*p & 0xe0) == 0xc0) {
        n = 2;
        cp = *p & 0x1f;
        min = 0x80;

    } else if ((*p & 0xf0) == 0xe0) {
        n = 3;
        cp = *p & 0x0f;
        min = 0x800;

    } else if ((*p & 0xf8) == 0xf0) {
        n = 4;
        cp = *p & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


ngx_int_t
ngx_http_sekisho_utf8_string(u_char *p, u_char *end)
{
    size_t  n;

    for ( /* void */ ; p < end; p += n) {
        n = ngx_http_sekisho_utf8_valid(p, end);
        if (n == 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* serial numbers in upper-case hex, as certificate tools print them */

size_t
ngx_http_sekisho_hex(u_char *dst, u_char *src, size_t len)
{
    size_t  i;

    static const u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        dst[2 * i] = hex[src[i] >> 4];
        dst[2 * i + 1] = hex[src[i] & 0x0f];
    }

    return 2 * len;
}


/*
 * RFC 3339 in UTC, as the audit records and the logs name dates; with
 * the C library alone, as everything here (the tools link this file
 * without nginx).  Writes NGX_HTTP_SEKISHO_UTC_LEN bytes (years 0 to
 * 9999; others as the epoch), no terminating zero.
 */

u_char *
ngx_http_sekisho_utc(u_char *dst, time_t t)
{
    char       buf[64];
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm)
           != NGX_HTTP_SEKISHO_UTC_LEN)
    {
        t = 0;
        (void) gmtime_r(&t, &tm);
        (void) strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }

    return ngx_cpymem(dst, buf, NGX_HTTP_SEKISHO_UTC_LEN);
}


/*
 * A big-endian unsigned number of len bytes (at most 32) in decimal,
 * as "openssl crl -text" prints a CRL number: the digits written.
 * dst holds 2.5 * len + 1 digits.
 */

size_t
ngx_http_sekisho_decimal(u_char *dst, u_char *src, size_t len)
{
    u_char      n[32], digits[80];
    size_t      i, k, start;
    ngx_uint_t  rem, cur;

    len = ngx_min(len, sizeof(n));
    ngx_memcpy(n, src, len);

    k = 0;
    start = 0;

    /* long division by ten, until the number is zero */
    do {
        rem = 0;

        for (i = start; i < len; i++) {
            cur = (rem << 8) | n[i];
            n[i] = (u_char) (cur / 10);
            rem = cur % 10;
        }

        digits[k++] = (u_char) ('0' + rem);

        while (start < len && n[start] == 0) {
            start++;
        }

    } while (start < len);

    for (i = 0; i < k; i++) {
        dst[i] = digits[k - 1 - i];
    }

    return k;
}


/* base64url without padding (RFC 4648, section 5); returns the length */

size_t
ngx_http_sekisho_base64url_encode(u_char *dst, u_char *src, size_t len)
{
    u_char  *d;

    d = dst;

    while (len > 2) {
        *d++ = ngx_http_sekisho_b64url[(src[0] >> 2) & 0x3f];
        *d++ = ngx_http_sekisho_b64url[((src[0] & 3) << 4) | (src[1] >> 4)];
        *d++ = ngx_http_sekisho_b64url[((src[1] & 0x0f) << 2)
                                       | (src[2] >> 6)];
        *d++ = ngx_http_sekisho_b64url[src[2] & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len) {
        *d++ = ngx_http_sekisho_b64url[(src[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = ngx_http_sekisho_b64url[(src[0] & 3) << 4];

        } else {
            *d++ = ngx_http_sekisho_b64url[((src[0] & 3) << 4)
                                           | (src[1] >> 4)];
            *d++ = ngx_http_sekisho_b64url[(src[1] & 0x0f) << 2];
        }
    }

    return d - dst;
}


/*
 * A base64 digit's value (RFC 4648): the standard alphabet ("+", "/"),
 * or with "url" the URL-safe one ("-", "_"); NGX_ERROR for any other
 * byte.
 */

ngx_int_t
ngx_http_sekisho_base64_digit(u_char c, ngx_uint_t url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == (url ? '-' : '+')) {
        return 62;
    }

    if (c == (url ? '_' : '/')) {
        return 63;
    }

    return NGX_ERROR;
}


/*
 * Strict: only the base64url alphabet, no padding, no unused bits set,
 * so that each value has exactly one spelling.
 */

ngx_int_t
ngx_http_sekisho_base64url_decode(u_char *dst, size_t max, u_char *src,
    size_t len, size_t *out)
{
    size_t      n, i;
    uint32_t    acc;
    ngx_int_t   v;
    ngx_uint_t  bits;

    if (len % 4 == 1 || (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0) > max) {
        return NGX_ERROR;
    }

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        v = ngx_http_sekisho_base64_digit(src[i], 1);

        if (v == NGX_ERROR) {
            return NGX_ERROR;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (acc != 0) {
        return NGX_ERROR;
    }

    *out = n;

    return NGX_OK;
}
