
/*
 * Copyright (C) Sekisho authors
 *
 * Hex and base64.  base64url (RFC 4648 section 5) is written without
 * padding, as the gateway's challenges are; decoding accepts either.
 */


#include <string.h>
#include "card_codec.h"


static int card_hex_digit(int c);
static int card_base64_value(int c, int url);


static const char  card_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char  card_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int
card_hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* whole string of hex pairs; 0 on success, -1 if malformed or too long */

int
card_hex_decode(const char *hex, u_char *out, size_t size, size_t *n)
{
    size_t  len, i;
    int     hi, lo;

    len = strlen(hex);

    if (len % 2 || len / 2 > size) {
        return -1;
    }

    for (i = 0; i < len / 2; i++) {
        hi = card_hex_digit((u_char) hex[2 * i]);
        lo = card_hex_digit((u_char) hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[i] = (u_char) (hi << 4 | lo);
    }

    *n = len / 2;
    return 0;
}


/* out needs card_base64_len(n) + 1 bytes; returns the length written */

size_t
card_base64_encode(const u_char *in, size_t n, char *out, int url)
{
    size_t       i, o;
    unsigned     v;
    const char  *t;

    t = url ? card_b64url : card_b64;
    o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        v = (unsigned) in[i] << 16 | (unsigned) in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = t[v >> 6 & 63];
        out[o++] = t[v & 63];
    }

    if (i < n) {
        v = (unsigned) in[i] << 16;
        if (i + 1 < n) {
            v |= (unsigned) in[i + 1] << 8;
        }

        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];

        if (i + 1 < n) {
            out[o++] = t[v >> 6 & 63];
        } else if (!url) {
            out[o++] = '=';
        }

        if (!url) {
            out[o++] = '=';
        }
    }

    out[o] = '\0';
    return o;
}


static int
card_base64_value(int c, int url)
{
    const char  *p;

    if (c == '\0') {
        return -1;
    }

    p = strchr(url ? card_b64url : card_b64, c);

    return p ? (int) (p - (url ? card_b64url : card_b64)) : -1;
}


/* padding optional; 0 on success, -1 if malformed or out is too small */

int
card_base64_decode(const char *in, size_t len, u_char *out, size_t size,
    size_t *n, int url)
{
    size_t    i, o, pad;
    unsigned  v, bits;
    int       d;

    pad = 0;
    while (len > 0 && in[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }

    if (len % 4 == 1 || (pad && (len + pad) % 4)) {
        return -1;
    }

    v = 0;
    bits = 0;
    o = 0;

    for (i = 0; i < len; i++) {
        d = card_base64_value((u_char) in[i], url);
        if (d < 0) {
            return -1;
        }

        v = (v << 6 | (unsigned) d) & 0xFFFFFF;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            if (o >= size) {
                return -1;
            }
            out[o++] = (u_char) (v >> bits);
        }
    }

    /* the leftover bits must be zero, or the text is not canonical */
    if (v & ((1u << bits) - 1)) {
        return -1;
    }

    *n = o;
    return 0;
}


int
card_is_base64url(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (card_base64_value((u_char) s[i], 1) < 0) {
            return 0;
        }
    }

    return 1;
}
