
/*
 * Copyright (C) Sekisho authors
 *
 * A JPKI end-user certificate read straight from its DER, for the card
 * login's fast path.  OpenSSL 3.0 spends about 200 us parsing a
 * certificate (its RSA key goes through the provider decoders), the
 * whole budget of a login.  JPKI certificates have one fixed profile;
 * this reader accepts that profile only, strictly, and says DECLINED
 * for anything else, which then takes OpenSSL's full path.  Pure: it
 * takes bytes and returns byte ranges within them.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_DER_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_DER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* extensions the fast path knows; any other one declines */
#define NGX_HTTP_SEKISHO_EXT_SKI       0    /* subjectKeyIdentifier */
#define NGX_HTTP_SEKISHO_EXT_SAN       1    /* subjectAltName */
#define NGX_HTTP_SEKISHO_EXT_IAN       2    /* issuerAltName */
#define NGX_HTTP_SEKISHO_EXT_CRLDP     3    /* cRLDistributionPoints */
#define NGX_HTTP_SEKISHO_EXT_POLICIES  4    /* certificatePolicies */
#define NGX_HTTP_SEKISHO_EXT_EKU       5    /* extKeyUsage */
#define NGX_HTTP_SEKISHO_EXT_AIA       6    /* authorityInfoAccess */
#define NGX_HTTP_SEKISHO_EXT_N         7


typedef struct {
    ngx_str_t                   tbs;         /* what the issuer signed */
    ngx_str_t                   serial;      /* the INTEGER, tag and all */
    ngx_str_t                   issuer;      /* the Name, tag and all */
    ngx_str_t                   subject;     /* the Name, tag and all */
    ngx_str_t                   rsa_key;     /* RSAPublicKey SEQUENCE */
    ngx_str_t                   key_id;      /* authorityKeyIdentifier */
    ngx_str_t                   signature;   /* sha256WithRSAEncryption */
    time_t                      not_before;
    time_t                      not_after;
    uint32_t                    key_usage;   /* as X509_get_key_usage() */

    /* the DER values of the known informational extensions, or empty */
    ngx_str_t                   ext[NGX_HTTP_SEKISHO_EXT_N];
} ngx_http_sekisho_jpki_der_t;


ngx_int_t ngx_http_sekisho_jpki_der_read(u_char *der, size_t len,
    ngx_http_sekisho_jpki_der_t *c);


#endif /* _NGX_HTTP_SEKISHO_JPKI_DER_H_INCLUDED_ */
