
/*
 * Copyright (C) Sekisho authors
 *
 * Small pure helpers over bytes that every part shares (characters,
 * UTF-8, hex, base64url): nothing here allocates or calls into nginx's
 * core, so that unit tests and fuzzers link them alone.
 */


#ifndef _NGX_HTTP_SEKISHO_TEXT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_TEXT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* a hexadecimal digit's value, or NGX_ERROR */
ngx_int_t ngx_http_sekisho_hex_value(u_char c);

/* upper-case hex of len bytes into dst (2 * len): 2 * len */
size_t ngx_http_sekisho_hex(u_char *dst, u_char *src, size_t len);

/* a big-endian number (at most 32 bytes) in decimal: the digits written */
size_t ngx_http_sekisho_decimal(u_char *dst, u_char *src, size_t len);

/* a time in UTC, RFC 3339 to the second: 2026-11-01T00:00:00Z */
#define NGX_HTTP_SEKISHO_UTC_LEN  (sizeof("2026-11-01T00:00:00Z") - 1)
u_char *ngx_http_sekisho_utc(u_char *dst, time_t t);

/*
 * base64url without padding (RFC 4648, section 5): the length written;
 * decoded strictly (one spelling per value), at most max bytes
 */
ngx_int_t ngx_http_sekisho_base64_digit(u_char c, ngx_uint_t url);
size_t ngx_http_sekisho_base64url_encode(u_char *dst, u_char *src,
    size_t len);
ngx_int_t ngx_http_sekisho_base64url_decode(u_char *dst, size_t max,
    u_char *src, size_t len, size_t *out);

/* an RFC 9110 token character */
ngx_uint_t ngx_http_sekisho_token_char(u_char c);

/* two strings of "len" bytes equal without regard to ASCII case */
ngx_uint_t ngx_http_sekisho_caseless_eq(u_char *a, u_char *b, size_t len);

/* a UTF-8 sequence at p (RFC 3629): its length, or 0 if invalid */
size_t ngx_http_sekisho_utf8_valid(u_char *p, u_char *end);

/* NGX_OK when all of [p, end) is valid UTF-8 */
ngx_int_t ngx_http_sekisho_utf8_string(u_char *p, u_char *end);


#endif /* _NGX_HTTP_SEKISHO_TEXT_H_INCLUDED_ */
