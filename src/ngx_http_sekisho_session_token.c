
/*
 * Copyright (C) Sekisho authors
 *
 * A session token is one line of dot-separated fields:
 *
 *   s1.<sid>.<issued>.<last>.<expires>.<not after>.<serial>.<ca id>
 *      .<revocation>.<mac>
 *
 * times in Unix seconds, binary fields in base64url without padding,
 * and the MAC, HMAC-SHA256 under the session key, over everything
 * before its own dot.  The client holds nothing secret in it: it
 * cannot change a field without the key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_text.h"


#define NGX_HTTP_SEKISHO_TOKEN_FIELDS  10
#define NGX_HTTP_SEKISHO_MAC_LEN       32


static u_char *ngx_http_sekisho_token_time(u_char *p, time_t t);
static ngx_int_t ngx_http_sekisho_token_parse_time(u_char *p, size_t len,
    time_t *t);
static ngx_int_t ngx_http_sekisho_token_mac(ngx_str_t *key, u_char *data,
    size_t len, u_char *mac);


/* buf holds at least NGX_HTTP_SEKISHO_TOKEN_MAX bytes; 0 on failure */

size_t
ngx_http_sekisho_session_encode(u_char *buf, ngx_http_sekisho_session_t *s,
    ngx_str_t *key)
{
    u_char  *p, mac[NGX_HTTP_SEKISHO_MAC_LEN];

    if (s->serial_len == 0 || s->serial_len > NGX_HTTP_SEKISHO_SERIAL_MAX
        || s->ca_id_len > NGX_HTTP_SEKISHO_CA_ID_MAX
        || s->revocation > NGX_HTTP_SEKISHO_REVOCATION_REVOKED)
    {
        return 0;
    }

    p = ngx_cpymem(buf, "s1.", 3);
    p += ngx_http_sekisho_base64url_encode(p, s->sid,
                                           NGX_HTTP_SEKISHO_SID_LEN);
    p = ngx_http_sekisho_token_time(p, s->issued);
    p = ngx_http_sekisho_token_time(p, s->last);
    p = ngx_http_sekisho_token_time(p, s->expires);
    p = ngx_http_sekisho_token_time(p, s->not_after);
    *p++ = '.';
    p += ngx_http_sekisho_base64url_encode(p, s->serial, s->serial_len);
    *p++ = '.';
    p += ngx_http_sekisho_base64url_encode(p, s->ca_id, s->ca_id_len);
    *p++ = '.';
    *p++ = (u_char) ('0' + s->revocation);

    if (ngx_http_sekisho_token_mac(key, buf, p - buf, mac) != NGX_OK) {
        return 0;
    }

    *p++ = '.';
    p += ngx_http_sekisho_base64url_encode(p, mac, NGX_HTTP_SEKISHO_MAC_LEN);

    return p - buf;
}


/*
 * NGX_OK and the fields in "s", with "key" the index of the key that
 * signed it; NGX_DECLINED when the value is not a token at all;
 * NGX_ERROR when no key signed it.  The MAC is checked first: nothing
 * a client wrote is parsed before it is known to be ours.
 */

ngx_int_t
ngx_http_sekisho_session_decode(u_char *value, size_t len, ngx_str_t *keys,
    ngx_uint_t nkeys, ngx_http_sekisho_session_t *s, ngx_uint_t *key)
{
    u_char      *f[NGX_HTTP_SEKISHO_TOKEN_FIELDS + 1], *p, *last;
    u_char       mac[NGX_HTTP_SEKISHO_MAC_LEN], want[NGX_HTTP_SEKISHO_MAC_LEN];
    size_t       n, flen;
    ngx_uint_t   i, k;

    if (len < 3 || len > NGX_HTTP_SEKISHO_TOKEN_MAX
        || ngx_strncmp(value, "s1.", 3) != 0)
    {
        return NGX_DECLINED;
    }

    last = value + len;
    i = 0;
    f[i++] = value;

    for (p = value; p < last; p++) {
        if (*p == '.') {
            if (i == NGX_HTTP_SEKISHO_TOKEN_FIELDS) {
                return NGX_DECLINED;
            }

            f[i++] = p + 1;
        }
    }

    if (i != NGX_HTTP_SEKISHO_TOKEN_FIELDS) {
        return NGX_DECLINED;
    }

    f[i] = last + 1;

    /* field j runs from f[j] to f[j + 1] - 1 */
#define flen(j)  ((size_t) (f[(j) + 1] - 1 - f[j]))

    if (ngx_http_sekisho_base64url_decode(mac, sizeof(mac), f[9], flen(9),
                                          &n)
        != NGX_OK
        || n != NGX_HTTP_SEKISHO_MAC_LEN)
    {
        return NGX_DECLINED;
    }

    for (k = 0; k < nkeys; k++) {
        if (ngx_http_sekisho_token_mac(&keys[k], value, f[9] - 1 - value,
                                       want)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (CRYPTO_memcmp(mac, want, NGX_HTTP_SEKISHO_MAC_LEN) == 0) {
            break;
        }
    }

    if (k == nkeys) {
        return NGX_ERROR;
    }

    *key = k;

    ngx_memzero(s, sizeof(ngx_http_sekisho_session_t));

    if (ngx_http_sekisho_base64url_decode(s->sid, sizeof(s->sid), f[1],
                                          flen(1), &n)
        != NGX_OK
        || n != NGX_HTTP_SEKISHO_SID_LEN
        || ngx_http_sekisho_token_parse_time(f[2], flen(2), &s->issued)
           != NGX_OK
        || ngx_http_sekisho_token_parse_time(f[3], flen(3), &s->last)
           != NGX_OK
        || ngx_http_sekisho_token_parse_time(f[4], flen(4), &s->expires)
           != NGX_OK
        || ngx_http_sekisho_token_parse_time(f[5], flen(5), &s->not_after)
           != NGX_OK
        || ngx_http_sekisho_base64url_decode(s->serial, sizeof(s->serial),
                                             f[6], flen(6), &s->serial_len)
           != NGX_OK
        || s->serial_len == 0
        || ngx_http_sekisho_base64url_decode(s->ca_id, sizeof(s->ca_id),
                                             f[7], flen(7), &s->ca_id_len)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    flen = flen(8);

    if (flen != 1 || f[8][0] < '0'
        || f[8][0] > '0' + NGX_HTTP_SEKISHO_REVOCATION_REVOKED)
    {
        return NGX_DECLINED;
    }

#undef flen

    s->revocation = f[8][0] - '0';

    return NGX_OK;
}


static u_char *
ngx_http_sekisho_token_time(u_char *p, time_t t)
{
    u_char  tmp[NGX_TIME_T_LEN];
    size_t  n;

    *p++ = '.';

    if (t <= 0) {
        *p++ = '0';
        return p;
    }

    n = 0;

    while (t) {
        tmp[n++] = (u_char) ('0' + t % 10);
        t /= 10;
    }

    while (n) {
        *p++ = tmp[--n];
    }

    return p;
}


static ngx_int_t
ngx_http_sekisho_token_parse_time(u_char *p, size_t len, time_t *t)
{
    time_t  v;

    /* 12 digits reach the year 33658: plenty, and no overflow */
    if (len == 0 || len > 12 || (len > 1 && p[0] == '0')) {
        return NGX_DECLINED;
    }

    v = 0;

    while (len--) {
        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }

        v = v * 10 + (*p++ - '0');
    }

    *t = v;

    return NGX_OK;
}


/*
 * OpenSSL 3's one-shot HMAC() looks the algorithm up on every call,
 * which costs more than the MAC itself; a context per key is kept and
 * reset instead.  The key's bytes are compared, not its address, so
 * that a reload's new key is never mistaken for the old one.
 */

#define NGX_HTTP_SEKISHO_MAC_KEYS     4
#define NGX_HTTP_SEKISHO_MAC_KEY_MAX  256

typedef struct {
    EVP_MAC_CTX                *ctx;
    size_t                      len;
    u_char                      key[NGX_HTTP_SEKISHO_MAC_KEY_MAX];
} ngx_http_sekisho_mac_key_t;

static ngx_http_sekisho_mac_key_t  ngx_http_sekisho_mac_keys[
                                                NGX_HTTP_SEKISHO_MAC_KEYS];
static ngx_uint_t                  ngx_http_sekisho_mac_next;


static EVP_MAC_CTX *
ngx_http_sekisho_token_mac_ctx(ngx_str_t *key)
{
    EVP_MAC                     *mac;
    OSSL_PARAM                   params[2];
    ngx_uint_t                   i;
    ngx_http_sekisho_mac_key_t  *k;

    for (i = 0; i < NGX_HTTP_SEKISHO_MAC_KEYS; i++) {
        k = &ngx_http_sekisho_mac_keys[i];

        if (k->ctx && k->len == key->len
            && CRYPTO_memcmp(k->key, key->data, key->len) == 0)
        {
            return (EVP_MAC_init(k->ctx, NULL, 0, NULL) == 1) ? k->ctx : NULL;
        }
    }

    if (key->len > NGX_HTTP_SEKISHO_MAC_KEY_MAX) {
        return NULL;
    }

    k = &ngx_http_sekisho_mac_keys[ngx_http_sekisho_mac_next++
                                   % NGX_HTTP_SEKISHO_MAC_KEYS];

    if (k->ctx) {
        EVP_MAC_CTX_free(k->ctx);
        k->ctx = NULL;
    }

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return NULL;
    }

    k->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (k->ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256",
                                                 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(k->ctx, key->data, key->len, params) != 1) {
        EVP_MAC_CTX_free(k->ctx);
        k->ctx = NULL;
        return NULL;
    }

    ngx_memcpy(k->key, key->data, key->len);
    k->len = key->len;

    return k->ctx;
}


static ngx_int_t
ngx_http_sekisho_token_mac(ngx_str_t *key, u_char *data, size_t len,
    u_char *mac)
{
    size_t        n;
    EVP_MAC_CTX  *ctx;

    ctx = ngx_http_sekisho_token_mac_ctx(key);

    if (ctx == NULL
        || EVP_MAC_update(ctx, data, len) != 1
        || EVP_MAC_final(ctx, mac, &n, NGX_HTTP_SEKISHO_MAC_LEN) != 1
        || n != NGX_HTTP_SEKISHO_MAC_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The value of the cookie "name" in one Cookie header, found by the
 * rules of nginx's $cookie_ variables (ngx_http_parse_multi_header_lines()),
 * so that the two never disagree on which value is the session's: the
 * name without regard to case at the start of a pair, spaces around
 * "=", the value up to ";".  After a name not followed by "=", the
 * search goes on one character later, as nginx's does.
 */

ngx_int_t
ngx_http_sekisho_cookie_value(u_char *p, size_t len, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char  c, *end, *q;
    size_t  i;

    if (name->len > len) {
        return NGX_DECLINED;
    }

    end = p + len;

    while (p < end) {

        for (i = 0; i < name->len && p + i < end; i++) {
            if (ngx_tolower(p[i]) != ngx_tolower(name->data[i])) {
                break;
            }
        }

        if (i == name->len) {

            for (q = p + name->len; q < end && *q == ' '; q++) {
                /* void */
            }

            if (q < end && *q == '=') {

                for (q++; q < end && *q == ' '; q++) {
                    /* void */
                }

                /* the session's value is long: memchr() beats a loop */
                p = memchr(q, ';', end - q);

                value->data = q;
                value->len = (p ? p : end) - q;

                return NGX_OK;
            }

            p = (q < end) ? q + 1 : end;
        }

        /* the next pair, after ";" or "," and spaces */

        while (p < end) {
            c = *p++;

            if (c == ';' || c == ',') {
                break;
            }
        }

        while (p < end && *p == ' ') {
            p++;
        }
    }

    return NGX_DECLINED;
}


/*
 * Constant time for a given length, as CRYPTO_memcmp(), but a word at
 * a time: a cookie value is compared on every request, and byte by
 * byte that cost more than the rest of the check together.
 */

ngx_uint_t
ngx_http_sekisho_token_equal(u_char *a, u_char *b, size_t len)
{
    uint64_t  x, y, d;

    d = 0;

    while (len >= sizeof(uint64_t)) {
        ngx_memcpy(&x, a, sizeof(uint64_t));
        ngx_memcpy(&y, b, sizeof(uint64_t));

        d |= x ^ y;

        a += sizeof(uint64_t);
        b += sizeof(uint64_t);
        len -= sizeof(uint64_t);
    }

    while (len--) {
        d |= *a++ ^ *b++;
    }

    return d == 0;
}


/* "unchecked", "good" or "revoked": for headers, variables, the audit */

const ngx_str_t *
ngx_http_sekisho_revocation_name(ngx_uint_t revocation)
{
    static ngx_str_t  names[] = {
        ngx_string("unchecked"), ngx_string("good"), ngx_string("revoked")
    };

    if (revocation > NGX_HTTP_SEKISHO_REVOCATION_REVOKED) {
        revocation = NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED;
    }

    return &names[revocation];
}
