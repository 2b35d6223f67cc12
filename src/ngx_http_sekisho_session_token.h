
/*
 * Copyright (C) Sekisho authors
 *
 * The session cookie's value: what a verified card login established,
 * signed with HMAC-SHA256.  Pure functions over buffers, so that unit
 * tests can feed them anything.
 */


#ifndef _NGX_HTTP_SEKISHO_SESSION_TOKEN_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_SESSION_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_text.h"


#define NGX_HTTP_SEKISHO_SID_LEN       16
#define NGX_HTTP_SEKISHO_SERIAL_MAX    20
#define NGX_HTTP_SEKISHO_CA_ID_MAX     20

/* the longest cookie value ngx_http_sekisho_session_encode() writes */
#define NGX_HTTP_SEKISHO_TOKEN_MAX     256


#define NGX_HTTP_SEKISHO_REVOCATION_UNCHECKED  0
#define NGX_HTTP_SEKISHO_REVOCATION_GOOD       1
#define NGX_HTTP_SEKISHO_REVOCATION_REVOKED    2


typedef struct {
    u_char                      sid[NGX_HTTP_SEKISHO_SID_LEN];
    time_t                      issued;        /* the card login */
    time_t                      last;          /* last activity seen */
    time_t                      expires;       /* lifetime or certificate */
    u_char                      serial[NGX_HTTP_SEKISHO_SERIAL_MAX];
    size_t                      serial_len;
    u_char                      ca_id[NGX_HTTP_SEKISHO_CA_ID_MAX];
    size_t                      ca_id_len;     /* issuer's key identifier */
    time_t                      not_after;     /* of the certificate */
    ngx_uint_t                  revocation;
} ngx_http_sekisho_session_t;


size_t ngx_http_sekisho_session_encode(u_char *buf,
    ngx_http_sekisho_session_t *s, ngx_str_t *key);
ngx_int_t ngx_http_sekisho_session_decode(u_char *value, size_t len,
    ngx_str_t *keys, ngx_uint_t nkeys, ngx_http_sekisho_session_t *s,
    ngx_uint_t *key);

ngx_int_t ngx_http_sekisho_cookie_value(u_char *p, size_t len,
    ngx_str_t *name, ngx_str_t *value);
ngx_uint_t ngx_http_sekisho_token_equal(u_char *a, u_char *b, size_t len);

const ngx_str_t *ngx_http_sekisho_revocation_name(ngx_uint_t revocation);


#endif /* _NGX_HTTP_SEKISHO_SESSION_TOKEN_H_INCLUDED_ */
