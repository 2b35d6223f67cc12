
/*
 * Copyright (C) Sekisho authors
 *
 * The card login's certificate check: a per-worker cache of the
 * certificates seen, each read by the JPKI profile reader when it fits
 * (ngx_http_sekisho_jpki_der.c) and chained to a prepared root without
 * OpenSSL's parser, or else by OpenSSL's full path; then the rules of
 * ngx_http_sekisho_jpki_policy.h, and the login signature.  Buffers
 * and OpenSSL objects in, never a request, so that unit tests can call
 * them directly.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_VERIFY_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_VERIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_jpki_ca.h"
#include "ngx_http_sekisho_jpki_policy.h"


/*
 * Certificates seen at login and their chain results, per worker,
 * keyed by the DER's hash: a card that logs in again is neither read
 * nor chained again within a minute.
 */
typedef struct ngx_http_sekisho_jpki_cache_s  ngx_http_sekisho_jpki_cache_t;
typedef struct ngx_http_sekisho_jpki_slot_s   ngx_http_sekisho_jpki_slot_t;


ngx_http_sekisho_jpki_cache_t *ngx_http_sekisho_jpki_cache_create(
    ngx_uint_t size);
void ngx_http_sekisho_jpki_cache_free(ngx_http_sekisho_jpki_cache_t *cache);
ngx_http_sekisho_jpki_slot_t *ngx_http_sekisho_jpki_read(
    ngx_http_sekisho_jpki_cache_t *cache, u_char *der, size_t len);
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_slot(
    ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_slot_t *slot,
    ngx_http_sekisho_jpki_cert_t *out);

void ngx_http_sekisho_jpki_login_digest(ngx_str_t *host,
    ngx_str_t *challenge, u_char *digest);
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_signature(
    ngx_http_sekisho_jpki_slot_t *slot, u_char *sig, size_t len,
    u_char *digest);


#endif /* _NGX_HTTP_SEKISHO_JPKI_VERIFY_H_INCLUDED_ */
