
/*
 * Copyright (C) Sekisho authors
 *
 * What a checked certificate says, in the forms the gateway passes on:
 * the identity in a signing certificate and percent-encoding for
 * headers, the serial and the issuer's key identifier for the session,
 * a distribution point's name for the log.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_IDENTITY_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_IDENTITY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>


/* the identity in a signing certificate, UTF-8 as on the card */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   sex;
    ngx_str_t                   birth;
    ngx_str_t                   address;
} ngx_http_sekisho_jpki_identity_t;


ngx_int_t ngx_http_sekisho_jpki_identity(X509 *cert,
    ngx_http_sekisho_jpki_identity_t *id, u_char *buf, size_t size);
size_t ngx_http_sekisho_pct_encode(u_char *dst, u_char *src, size_t len);
size_t ngx_http_sekisho_jpki_key_id(X509 *cert, u_char *id, size_t max);
size_t ngx_http_sekisho_jpki_serial(const ASN1_INTEGER *ai, u_char *serial,
    size_t max);
size_t ngx_http_sekisho_jpki_dp_text(ngx_str_t *dp, u_char *buf, size_t size);


#endif /* _NGX_HTTP_SEKISHO_JPKI_IDENTITY_H_INCLUDED_ */
