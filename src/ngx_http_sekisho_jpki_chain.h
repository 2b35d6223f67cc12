
/*
 * Copyright (C) Sekisho authors
 *
 * OpenSSL's full path: a certificate as OpenSSL parsed it, chained by
 * its strict verifier to an authority's roots.  It takes any
 * certificate the fast path declines, and names what is wrong.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_CHAIN_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_CHAIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_jpki_policy.h"


/*
 * The chain to the wanted kind's authority: "issuer" the root, "error"
 * OpenSSL's verify error; WRONG_CERT when the other kind's authority
 * issued it.
 */
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_chain_kind(
    ngx_http_sekisho_jpki_check_t *chk, X509 *cert, X509 **issuer,
    int *error);

/* the whole check of a certificate OpenSSL has parsed: chain and rules */
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_cert(
    ngx_http_sekisho_jpki_check_t *chk, X509 *cert,
    ngx_http_sekisho_jpki_cert_t *out);


#endif /* _NGX_HTTP_SEKISHO_JPKI_CHAIN_H_INCLUDED_ */
