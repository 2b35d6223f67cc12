
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI CRLs read straight from their DER, strictly and without
 * allocating: J-LIS publishes some 2,000 of them, millions of entries,
 * up to ~100 MB each, and d2i_X509_CRL() would spend ~200 bytes on
 * every entry.  Pure: bytes in, byte ranges within them out.  Nothing
 * here is trusted until the caller has checked the issuer's signature
 * over "tbs" with "sig_alg".
 */


#ifndef _NGX_HTTP_SEKISHO_CRL_DER_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_CRL_DER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* a CRL (RFC 5280 5.1) read from its DER */
typedef struct {
    ngx_str_t     tbs;          /* TBSCertList, tag and all: what is signed */
    ngx_str_t     sig_alg;      /* the outer AlgorithmIdentifier, tag and all */
    ngx_str_t     signature;    /* the BIT STRING's bits, without the
                                   unused-bits byte */
    ngx_str_t     issuer;       /* the issuer Name, tag and all */
    time_t        this_update;
    time_t        next_update;  /* 0: absent */
    ngx_str_t     number;       /* cRLNumber: the INTEGER's content,
                                   or empty */
    ngx_str_t     key_id;       /* authorityKeyIdentifier's keyIdentifier,
                                   or empty */
    ngx_str_t     idp_names;    /* IDP distributionPoint fullName: the
                                   GeneralNames' content (the elements),
                                   or empty */
    ngx_str_t     revoked;      /* revokedCertificates: the SEQUENCE's
                                   content, or empty */
    unsigned      v2:1;         /* version v2: entry extensions allowed */
    unsigned      idp:1;        /* an issuingDistributionPoint is present */
    unsigned      only_user:1;  /* onlyContainsUserCerts */
    unsigned      only_ca:1;    /* onlyContainsCACerts */
} ngx_http_sekisho_crl_der_t;

/*
 * NGX_OK, NGX_ERROR for DER that is malformed (not DER: indefinite
 * lengths, non-minimal lengths, trailing bytes, wrong tags, a v1 CRL
 * with extensions, ...), NGX_DECLINED for a well-formed CRL that must
 * not be used to decide a card's revocation: a delta CRL
 * (deltaCRLIndicator), an IDP with onlySomeReasons, indirectCRL,
 * onlyContainsAttributeCerts or nameRelativeToCRLIssuer, both
 * onlyContainsUserCerts and onlyContainsCACerts, any critical CRL
 * extension but the IDP and the AKI (an unknown one, or a cRLNumber or
 * freshestCRL marked critical, as OpenSSL's verification has it);
 * freshestCRL is fine.  "why" (may be NULL) receives a short static
 * English reason for the error log.  The entries are not read here:
 * the CRL is usable only when the walk below ends in NGX_DONE.
 */
ngx_int_t ngx_http_sekisho_crl_der_read(u_char *der, size_t len,
    ngx_http_sekisho_crl_der_t *crl, const char **why);

/*
 * The entries one by one: NGX_OK with the serial (the INTEGER's content
 * bytes, as in the DER, leading 00 kept), NGX_DONE at the end, NGX_ERROR
 * for a malformed entry or one this gateway must not use: a critical
 * entry extension, or a certificateIssuer (indirect CRLs).  The
 * reasonCode and invalidityDate entry extensions are known (checked,
 * ignored).  A negative or zero-length serial is NGX_ERROR.  After
 * NGX_ERROR, "why" (may be NULL) has the reason and "pos" the entry.
 */
typedef struct {
    u_char       *pos;
    u_char       *end;
    unsigned      v2:1;         /* entry extensions allowed */
} ngx_http_sekisho_crl_entries_t;

void ngx_http_sekisho_crl_entries_init(ngx_http_sekisho_crl_der_t *crl,
    ngx_http_sekisho_crl_entries_t *it);
ngx_int_t ngx_http_sekisho_crl_entries_next(
    ngx_http_sekisho_crl_entries_t *it, ngx_str_t *serial, const char **why);


#endif /* _NGX_HTTP_SEKISHO_CRL_DER_H_INCLUDED_ */
