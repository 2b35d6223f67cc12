
/*
 * Copyright (C) Sekisho authors
 *
 * The trusted JPKI authorities, one for each kind of certificate: the
 * roots of every generation in an OpenSSL store, for the full path,
 * and those the login's fast path may chain to, each with its key
 * ready.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_CA_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_CA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>


/* a root ready for the fast path: ngx_http_sekisho_jpki_der.h */
typedef struct {
    X509                       *cert;
    u_char                     *subject;     /* its Name, DER */
    size_t                      subject_len;
    const ASN1_OCTET_STRING    *key_id;
    EVP_PKEY_CTX               *verify;      /* sha256WithRSAEncryption */
    size_t                      sig_len;
} ngx_http_sekisho_jpki_root_t;


/* the authority for one kind of certificate */
typedef struct {
    X509_STORE                 *store;
    STACK_OF(X509)             *roots;
    ngx_http_sekisho_jpki_root_t *fast;
    ngx_uint_t                  nfast;
} ngx_http_sekisho_jpki_ca_t;


ngx_int_t ngx_http_sekisho_jpki_ca_load(ngx_http_sekisho_jpki_ca_t *ca,
    const char *file, char *err, size_t errlen);
ngx_int_t ngx_http_sekisho_jpki_ca_add(ngx_http_sekisho_jpki_ca_t *ca,
    X509 *x, char *err, size_t errlen);
void ngx_http_sekisho_jpki_ca_free(ngx_http_sekisho_jpki_ca_t *ca);

/* an ASN1_TIME as seconds since the epoch; (time_t) -1 when it is none */
time_t ngx_http_sekisho_jpki_time(const ASN1_TIME *t);


#endif /* _NGX_HTTP_SEKISHO_JPKI_CA_H_INCLUDED_ */
