
/*
 * Copyright (C) Sekisho authors
 *
 * Signed request bodies: a detached CMS SignedData made with the
 * card's signing key, checked with OpenSSL.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_CMS_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_CMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_jpki_policy.h"


ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_cms(
    ngx_http_sekisho_jpki_check_t *chk, u_char *der, size_t len,
    u_char *body, size_t blen, X509 **signer,
    ngx_http_sekisho_jpki_cert_t *out);


#endif /* _NGX_HTTP_SEKISHO_JPKI_CMS_H_INCLUDED_ */
