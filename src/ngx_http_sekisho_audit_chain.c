
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ngx_http_sekisho_audit_chain.h"


/* no ngx_sprintf() or ngx_hex_dump(): unit tests link this file alone */
static u_char *ngx_http_sekisho_put_uint64(u_char *p, uint64_t n);
static u_char *ngx_http_sekisho_put_hex(u_char *p, u_char *src, size_t len);
static ngx_int_t ngx_http_sekisho_get_hex(u_char *p, size_t len, u_char *dst);
static ngx_int_t ngx_http_sekisho_audit_hmac(u_char *key, size_t len,
    const char *label, uint64_t epoch, u_char *link, u_char *md);
static u_char *ngx_http_sekisho_state_line(u_char *p, u_char *last,
    const char *name, u_char **value);


static u_char  ngx_http_sekisho_audit_hex[] = "0123456789abcdef";


/*
 * JSON string content: '"', '\' and control characters escaped (as
 * \uXXXX), other bytes as they are.
 */

size_t
ngx_http_sekisho_json_escape_len(u_char *src, size_t size)
{
    size_t  n;

    for (n = 0; size; size--, src++) {
        if (*src == '"' || *src == '\\') {
            n += 2;

        } else if (*src < 0x20 || *src == 0x7f) {
            n += sizeof("\\u0000") - 1;

        } else {
            n++;
        }
    }

    return n;
}


u_char *
ngx_http_sekisho_json_escape(u_char *dst, u_char *src, size_t size)
{
    for ( /* void */ ; size; size--, src++) {

        if (*src == '"' || *src == '\\') {
            *dst++ = '\\';
            *dst++ = *src;

        } else if (*src < 0x20 || *src == 0x7f) {
            *dst++ = '\\';
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = ngx_http_sekisho_audit_hex[*src >> 4];
            *dst++ = ngx_http_sekisho_audit_hex[*src & 0xf];

        } else {
            *dst++ = *src;
        }
    }

    return dst;
}


/*
 * Appends the chain fields: [,"epoch":E[,"close":"<hex>"]],"seq":N,
 * "prev":"<hex>"; epoch 0 (a key that does not evolve, or none) is
 * left out, so such a log reads as before epochs.
 */

u_char *
ngx_http_sekisho_audit_chain(u_char *p, uint64_t epoch, u_char *close,
    uint64_t seq, u_char *prev)
{
    if (epoch) {
        p = ngx_cpymem(p, ",\"epoch\":", sizeof(",\"epoch\":") - 1);
        p = ngx_http_sekisho_put_uint64(p, epoch);

        if (close) {
            p = ngx_cpymem(p, ",\"close\":\"", sizeof(",\"close\":\"") - 1);
            p = ngx_cpymem(p, close, NGX_HTTP_SEKISHO_MAC_HEX);
            *p++ = '"';
        }
    }

    p = ngx_cpymem(p, ",\"seq\":", sizeof(",\"seq\":") - 1);
    p = ngx_http_sekisho_put_uint64(p, seq);
    p = ngx_cpymem(p, ",\"prev\":\"", sizeof(",\"prev\":\"") - 1);
    p = ngx_cpymem(p, prev, NGX_HTTP_SEKISHO_MAC_HEX);
    *p++ = '"';

    return p;
}


/*
 * Seals the record from "start" to "p": the MAC goes into "mac" (hex)
 * and after the record, which is closed with '}' and a newline.
 * NULL if OpenSSL fails.
 */

u_char *
ngx_http_sekisho_audit_seal(u_char *start, u_char *p, ngx_str_t *key,
    u_char *mac)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  mdlen;

    if (key && key->len) {
        if (HMAC(EVP_sha256(), key->data, (int) key->len, start, p - start,
                 md, &mdlen)
            == NULL)
        {
            return NULL;
        }

    } else if (EVP_Digest(start, p - start, md, &mdlen, EVP_sha256(), NULL)
               != 1)
    {
        return NULL;
    }

    ngx_http_sekisho_put_hex(mac, md, mdlen);

    p = ngx_cpymem(p, ",\"mac\":\"", sizeof(",\"mac\":\"") - 1);
    p = ngx_cpymem(p, mac, NGX_HTTP_SEKISHO_MAC_HEX);
    *p++ = '"';
    *p++ = '}';
    *p++ = LF;

    return p;
}


static u_char *
ngx_http_sekisho_put_uint64(u_char *p, uint64_t n)
{
    u_char   buf[NGX_INT64_LEN], *q;

    q = buf + sizeof(buf);

    do {
        *--q = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, q, buf + sizeof(buf) - q);
}


static u_char *
ngx_http_sekisho_put_hex(u_char *p, u_char *src, size_t len)
{
    while (len--) {
        *p++ = ngx_http_sekisho_audit_hex[*src >> 4];
        *p++ = ngx_http_sekisho_audit_hex[*src++ & 0xf];
    }

    return p;
}


/*
 * Reads the chain fields of a record (the last line of a log when
 * nginx starts, so that the chain goes on): NGX_OK with its "seq" and
 * "mac", NGX_DECLINED if the line does not end as a record does.
 */

ngx_int_t
ngx_http_sekisho_audit_tail(u_char *line, size_t len, uint64_t *seq,
    u_char *mac, uint64_t *epoch)
{
    u_char    *p, *end, *digits;
    uint64_t   n;

    static u_char  tail[] = ",\"mac\":\"";

    if (len && line[len - 1] == LF) {
        len--;
    }

    /* ',"seq":' one digit ',"prev":"' hex '"' ',"mac":"' hex '"}' */
    if (len < sizeof(",\"seq\":0,\"prev\":\"\"") - 1
              + NGX_HTTP_SEKISHO_SEAL_LEN - 1 + NGX_HTTP_SEKISHO_MAC_HEX)
    {
        return NGX_DECLINED;
    }

    end = line + len;

    /* ...,"seq":N,"prev":"<64>","mac":"<64>"} */
    p = end - 2 - NGX_HTTP_SEKISHO_MAC_HEX - (sizeof(tail) - 1);

    if (end[-1] != '}' || end[-2] != '"'
        || ngx_memcmp(p, tail, sizeof(tail) - 1) != 0)
    {
        return NGX_DECLINED;
    }

    for (n = 0; n < NGX_HTTP_SEKISHO_MAC_HEX; n++) {
        if (!((p[8 + n] >= '0' && p[8 + n] <= '9')
              || (p[8 + n] >= 'a' && p[8 + n] <= 'f')))
        {
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(mac, p + sizeof(tail) - 1, NGX_HTTP_SEKISHO_MAC_HEX);

    /* back over ',"prev":"<64>"' to the digits of "seq" */
    p -= sizeof(",\"prev\":\"") - 1 + NGX_HTTP_SEKISHO_MAC_HEX + 1;

    if (p <= line || ngx_memcmp(p, ",\"prev\":\"", 9) != 0) {
        return NGX_DECLINED;
    }

    end = p;

    while (p > line && p[-1] >= '0' && p[-1] <= '9') {
        p--;
    }

    if (p == end || end - p > 20 || p - line < 7
        || ngx_memcmp(p - 7, ",\"seq\":", 7) != 0)
    {
        return NGX_DECLINED;
    }

    digits = p;

    for (n = 0; p < end; p++) {
        n = n * 10 + (*p - '0');
    }

    *seq = n;
    *epoch = 0;

    /* before ',"seq":', the optional ',"close":"<64>"' and ',"epoch":E' */
    p = digits - 7;

    if (p - line > 10 + NGX_HTTP_SEKISHO_MAC_HEX + 1
        && p[-1] == '"'
        && ngx_memcmp(p - 11 - NGX_HTTP_SEKISHO_MAC_HEX, ",\"close\":\"", 10)
           == 0)
    {
        p -= 11 + NGX_HTTP_SEKISHO_MAC_HEX;
    }

    end = p;

    while (p > line && p[-1] >= '0' && p[-1] <= '9') {
        p--;
    }

    if (p < end && end - p <= 20 && p - line >= 9
        && ngx_memcmp(p - 9, ",\"epoch\":", 9) == 0)
    {
        for (n = 0; p < end; p++) {
            n = n * 10 + (*p - '0');
        }

        *epoch = n;
    }

    return NGX_OK;
}


/*
 * The key of the next epoch: HMAC-SHA256(key, "sekisho-audit-epoch" ||
 * epoch as 8 bytes big-endian), "epoch" being the new epoch's number.
 */

ngx_int_t
ngx_http_sekisho_audit_evolve(u_char *key, size_t len, uint64_t epoch,
    u_char *next)
{
    return ngx_http_sekisho_audit_hmac(key, len, "sekisho-audit-epoch",
                                       epoch, NULL, next);
}


/*
 * The close of an epoch that ends, under its own key (before it is
 * wiped): HMAC-SHA256(key, "sekisho-audit-close" || epoch as 8 bytes
 * big-endian || link), as hex, link being 64 hex digits.
 */

ngx_int_t
ngx_http_sekisho_audit_close(u_char *key, size_t len, uint64_t epoch,
    u_char *link, u_char *close)
{
    u_char     md[NGX_HTTP_SEKISHO_KEY_LEN];
    ngx_int_t  rc;

    rc = ngx_http_sekisho_audit_hmac(key, len, "sekisho-audit-close", epoch,
                                     link, md);

    ngx_http_sekisho_put_hex(close, md, sizeof(md));

    return rc;
}


static ngx_int_t
ngx_http_sekisho_audit_hmac(u_char *key, size_t len, const char *label,
    uint64_t epoch, u_char *link, u_char *md)
{
    u_char        msg[32 + NGX_HTTP_SEKISHO_MAC_HEX], *p;
    ngx_uint_t    i;
    unsigned int  mdlen;

    p = ngx_cpymem(msg, label, ngx_strlen(label));

    for (i = 0; i < 8; i++) {
        *p++ = (u_char) (epoch >> (56 - 8 * i));
    }

    if (link) {
        p = ngx_cpymem(p, link, NGX_HTTP_SEKISHO_MAC_HEX);
    }

    if (HMAC(EVP_sha256(), key, (int) len, msg, p - msg, md, &mdlen) == NULL
        || mdlen != NGX_HTTP_SEKISHO_KEY_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The state file, text:
 *
 *     sekisho-audit-state 1
 *     epoch <N>
 *     key <64 hex>
 *     head <seq> <64 hex>
 *     close <64 hex>          (when an epoch ended with no record since)
 */

u_char *
ngx_http_sekisho_audit_state_print(u_char *p,
    ngx_http_sekisho_audit_state_t *st)
{
    p = ngx_cpymem(p, "sekisho-audit-state 1\nepoch ",
                   sizeof("sekisho-audit-state 1\nepoch ") - 1);
    p = ngx_http_sekisho_put_uint64(p, st->epoch);
    p = ngx_cpymem(p, "\nkey ", sizeof("\nkey ") - 1);
    p = ngx_http_sekisho_put_hex(p, st->key, NGX_HTTP_SEKISHO_KEY_LEN);
    p = ngx_cpymem(p, "\nhead ", sizeof("\nhead ") - 1);
    p = ngx_http_sekisho_put_uint64(p, st->seq);
    *p++ = ' ';
    p = ngx_cpymem(p, st->mac, NGX_HTTP_SEKISHO_MAC_HEX);
    *p++ = LF;

    if (st->close_pending) {
        p = ngx_cpymem(p, "close ", sizeof("close ") - 1);
        p = ngx_cpymem(p, st->close, NGX_HTTP_SEKISHO_MAC_HEX);
        *p++ = LF;
    }

    return p;
}


/* NGX_OK, or NGX_DECLINED for anything but a state file as printed */

ngx_int_t
ngx_http_sekisho_audit_state_parse(u_char *p, size_t len,
    ngx_http_sekisho_audit_state_t *st)
{
    u_char      *last, *v, *e, *q;
    uint64_t     n;
    ngx_uint_t   i;

    static const char  *names[] = { "sekisho-audit-state", "epoch", "key",
                                    "head" };

    ngx_memzero(st, sizeof(ngx_http_sekisho_audit_state_t));
    last = p + len;

    for (i = 0; i < 5; i++) {

        if (i == 4) {
            if (p == last) {
                return NGX_OK;
            }

            e = ngx_http_sekisho_state_line(p, last, "close", &v);

        } else {
            e = ngx_http_sekisho_state_line(p, last, names[i], &v);
        }

        if (e == NULL) {
            return NGX_DECLINED;
        }

        switch (i) {

        case 0:
            if (e - v != 1 || *v != '1') {
                return NGX_DECLINED;
            }
            break;

        case 1:
        case 3:
            for (n = 0, q = v; q < e && *q >= '0' && *q <= '9'; q++) {
                n = n * 10 + (*q - '0');
            }

            if (q == v || q - v > 19) {
                return NGX_DECLINED;
            }

            if (i == 1) {
                if (q != e) {
                    return NGX_DECLINED;
                }

                st->epoch = n;
                break;
            }

            st->seq = n;

            if (e - q != 1 + NGX_HTTP_SEKISHO_MAC_HEX || *q != ' '
                || ngx_http_sekisho_get_hex(q + 1, NGX_HTTP_SEKISHO_MAC_HEX,
                                            NULL)
                   != NGX_OK)
            {
                return NGX_DECLINED;
            }

            ngx_memcpy(st->mac, q + 1, NGX_HTTP_SEKISHO_MAC_HEX);
            break;

        case 2:
            if (e - v != 2 * NGX_HTTP_SEKISHO_KEY_LEN
                || ngx_http_sekisho_get_hex(v, e - v, st->key) != NGX_OK)
            {
                return NGX_DECLINED;
            }
            break;

        default: /* 4 */
            if (e - v != NGX_HTTP_SEKISHO_MAC_HEX
                || ngx_http_sekisho_get_hex(v, e - v, NULL) != NGX_OK)
            {
                return NGX_DECLINED;
            }

            ngx_memcpy(st->close, v, NGX_HTTP_SEKISHO_MAC_HEX);
            st->close_pending = 1;
        }

        p = e + 1;
    }

    return p == last ? NGX_OK : NGX_DECLINED;
}


/* "name value\n": the end of the value (at its LF), NULL if not so */

static u_char *
ngx_http_sekisho_state_line(u_char *p, u_char *last, const char *name,
    u_char **value)
{
    size_t   n;
    u_char  *lf;

    n = ngx_strlen(name);

    if ((size_t) (last - p) < n + 2 || ngx_memcmp(p, name, n) != 0
        || p[n] != ' ')
    {
        return NULL;
    }

    lf = ngx_strlchr(p, last, LF);
    if (lf == NULL) {
        return NULL;
    }

    *value = p + n + 1;

    return lf;
}


/* lower-case hex only; "dst" NULL: only checks */

static ngx_int_t
ngx_http_sekisho_get_hex(u_char *p, size_t len, u_char *dst)
{
    u_char      c, d;
    ngx_uint_t  i;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            d = c - '0';

        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;

        } else {
            return NGX_DECLINED;
        }

        if (dst) {
            if (i & 1) {
                dst[i / 2] |= d;

            } else {
                dst[i / 2] = (u_char) (d << 4);
            }
        }
    }

    return NGX_OK;
}
