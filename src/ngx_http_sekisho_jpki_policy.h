
/*
 * Copyright (C) Sekisho authors
 *
 * The rules a card's certificate is held to once it is chained,
 * however it was read and chained: its times and its root's, the key
 * usage of its kind, and revocation in the CRL index (RFC 5280 6.3.3).
 * Here too the words every check speaks: the verdicts, the kinds of
 * certificate, what a check is made against and what a checked
 * certificate is known by.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_POLICY_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_POLICY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_crl_index.h"
#include "ngx_http_sekisho_jpki_ca.h"


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


/*
 * Valid from not_before to before not_after, and so is the issuer when
 * given: NGX_OK or NGX_DECLINED.
 */
ngx_int_t ngx_http_sekisho_jpki_times(time_t now, time_t not_before,
    time_t not_after, X509 *issuer);

/*
 * A chained certificate's key usage "ku" (as X509_get_key_usage() has
 * it) for the kind wanted, then its revocation; "out" has its issuer,
 * serial and distribution points, and gets what revocation found.
 */
ngx_http_sekisho_jpki_result_e ngx_http_sekisho_jpki_check_leaf(
    ngx_http_sekisho_jpki_check_t *chk, uint32_t ku,
    ngx_http_sekisho_jpki_cert_t *out);

/* the DER value of a certificate's cRLDistributionPoints, or empty */
void ngx_http_sekisho_jpki_x509_crldp(X509 *x, ngx_str_t *crldp);


#endif /* _NGX_HTTP_SEKISHO_JPKI_POLICY_H_INCLUDED_ */
