
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


/* appends the chain fields: ,"seq":N,"prev":"<hex>" */

u_char *
ngx_http_sekisho_audit_chain(u_char *p, uint64_t seq, u_char *prev)
{
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
    u_char *mac)
{
    u_char    *p, *end;
    uint64_t   n;

    static u_char  tail[] = ",\"mac\":\"";

    if (len && line[len - 1] == LF) {
        len--;
    }

    if (len < NGX_HTTP_SEKISHO_SEAL_LEN - 1 + NGX_HTTP_SEKISHO_CHAIN_LEN
                                           - NGX_INT64_LEN + 1)
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

    for (n = 0; p < end; p++) {
        n = n * 10 + (*p - '0');
    }

    *seq = n;

    return NGX_OK;
}
