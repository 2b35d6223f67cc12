
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI (My Number card) checks with OpenSSL: a certificate against the
 * trusted authority and its CRLs, a login signature, a detached CMS
 * signature over a request body, and the identity a signing
 * certificate carries.  They take buffers and OpenSSL objects, never a
 * request, so that unit tests can call them directly.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_VERIFY_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_VERIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_crl_index.h"


typedef enum {
    NGX_HTTP_SEKISHO_JPKI_OK = 0,
    NGX_HTTP_SEKISHO_JPKI_BAD_CERT,         /* not a certificate */
    NGX_HTTP_SEKISHO_JPKI_UNTRUSTED,        /* not issued by the CA */
    NGX_HTTP_SEKISHO_JPKI_VALIDITY,         /* expired or not yet valid */
    NGX_HTTP_SEKISHO_JPKI_KEY_USAGE,        /* not a JPKI end-user key */
    NGX_HTTP_SEKISHO_JPKI_WRONG_CERT,       /* signing for auth or back */
    NGX_HTTP_SEKISHO_JPKI_REVOKED,
    NGX_HTTP_SEKISHO_JPKI_CRL_STALE,        /* no current CRL: require */
    NGX_HTTP_SEKISHO_JPKI_BAD_ALGORITHM,    /* not RSA PKCS#1 v1.5 SHA-256 */
    NGX_HTTP_SEKISHO_JPKI_BAD_SIGNATURE,
    NGX_HTTP_SEKISHO_JPKI_BAD_CMS           /* not a detached SignedData */
} ngx_http_sekisho_jpki_result_e;


#define NGX_HTTP_SEKISHO_JPKI_AUTH  0      /* user authentication */
#define NGX_HTTP_SEKISHO_JPKI_SIGN  1      /* digital signature */

#define NGX_HTTP_SEKISHO_REVOKE_OFF          0
#define NGX_HTTP_SEKISHO_REVOKE_BEST_EFFORT  1
#define NGX_HTTP_SEKISHO_REVOKE_REQUIRE      2


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


/*
 * Certificates seen at login and their chain results, per worker,
 * keyed by the DER's hash: a card that logs in again is neither read
 * nor chained again within a minute.
 */
typedef struct ngx_http_sekisho_jpki_cache_s  ngx_http_sekisho_jpki_cache_t;
typedef struct ngx_http_sekisho_jpki_slot_s   ngx_http_sekisho_jpki_slot_t;


typedef struct {
    ngx_http_sekisho_jpki_ca_t  *ca;         /* the kind wanted */
    ngx_http_sekisho_jpki_ca_t  *other;      /* the other kind, or NULL */
    ngx_uint_t                   kind;
    ngx_http_sekisho_crlix_t    *crlix;      /* the CRLs, or NULL */
    ngx_uint_t                   revocation; /* NGX_HTTP_SEKISHO_REVOKE_* */
    time_t                       now;
} ngx_http_sekisho_jpki_check_t;


/* what a checked certificate is known by */
typedef struct {
    X509                       *issuer;      /* a trusted root */
    const ASN1_INTEGER         *serial;
    time_t                      not_after;
    ngx_uint_t                  revocation;  /* token.h REVOCATION_* */
    ngx_uint_t                  fast;        /* chained without d2i_X509 */
    int                         error;       /* OpenSSL's, for the log */
    ngx_str_t                   crldp;       /* its cRLDistributionPoints */
    ngx_str_t                   dp;          /* the first point's name */
    ngx_http_sekisho_crlix_row_t *crl;       /* the CRL that decided */
} ngx_http_sekisho_jpki_cert_t;


/* the identity in a signing certificate, UTF-8 as on the card */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   sex;
    ngx_str_t                   birth;
    ngx_str_t                   address;
} ngx_http_sekisho_jpki_identity_t;


ngx_int_t ngx_http_sekisho_jpki_ca_load(ngx_http_sekisho_jpki_ca_t *ca,
    const char *file, char *err, size_t errlen);
ngx_int_t ngx_http_sekisho_jpki_ca_add(ngx_http_sekisho_jpki_ca_t *ca,
    X509 *x, char *err, size_t errlen);
void ngx_http_sekisho_jpki_ca_free(ngx_http_sekisho_jpki_ca_t *ca);

ngx_http_sekisho_jpki_cache_t *ngx_http_sekisho_jpki_cache_create(
    ngx_uint_t size);
void ngx_http_sekisho_jpki_cache_free(ngx_http_sekisho_jpki_cache_t *cache);
ngx_http_sekisho_jpki_slot_t *ngx_http_sekisho_jpki_read(
    ngx_http_sekisho_jpki_cache_t *cache, u_char *der, size_t len);
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_slot(
    ngx_http_sekisho_jpki_check_t *chk, ngx_http_sekisho_jpki_slot_t *slot,
    ngx_http_sekisho_jpki_cert_t *out);

ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_cert(
    ngx_http_sekisho_jpki_check_t *chk, X509 *cert,
    ngx_http_sekisho_jpki_cert_t *out);

void ngx_http_sekisho_jpki_login_digest(ngx_str_t *host,
    ngx_str_t *challenge, u_char *digest);
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_signature(
    ngx_http_sekisho_jpki_slot_t *slot, u_char *sig, size_t len,
    u_char *digest);

ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_cms(
    ngx_http_sekisho_jpki_check_t *chk, u_char *der, size_t len,
    u_char *body, size_t blen, X509 **signer,
    ngx_http_sekisho_jpki_cert_t *out);

ngx_int_t ngx_http_sekisho_jpki_identity(X509 *cert,
    ngx_http_sekisho_jpki_identity_t *id, u_char *buf, size_t size);
size_t ngx_http_sekisho_pct_encode(u_char *dst, u_char *src, size_t len);
size_t ngx_http_sekisho_jpki_key_id(X509 *cert, u_char *id, size_t max);
size_t ngx_http_sekisho_jpki_serial(const ASN1_INTEGER *ai, u_char *serial,
    size_t max);
size_t ngx_http_sekisho_jpki_dp_text(ngx_str_t *dp, u_char *buf, size_t size);


#endif /* _NGX_HTTP_SEKISHO_JPKI_VERIFY_H_INCLUDED_ */
