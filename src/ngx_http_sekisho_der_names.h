
/*
 * Copyright (C) Sekisho authors
 *
 * X.500 Names and X.509 GeneralNames read from their DER, strictly and
 * without allocating, as a CRL's issuer and distribution points and a
 * certificate's cRLDistributionPoints carry them.  Pure: bytes in, byte
 * ranges within them out.
 */


#ifndef _NGX_HTTP_SEKISHO_DER_NAMES_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_DER_NAMES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * A Name's contents (the RDNs, at least one; the string types a CA
 * writes): NGX_OK, or NGX_ERROR where d2i_X509_NAME() would refuse it
 * or this reader is stricter.
 */
ngx_int_t ngx_http_sekisho_der_name(ngx_str_t *v);

/*
 * The GeneralName elements (each tag and all, as encoded) of a
 * GeneralNames content: for a CRL's idp_names, and for each
 * DistributionPoint of a certificate's cRLDistributionPoints below.
 * NGX_OK with n names (at most max; more is NGX_ERROR), NGX_ERROR
 * malformed, or a form this reader does not take (x400Address,
 * ediPartyName).  With "names" NULL the names are only checked.
 */
ngx_int_t ngx_http_sekisho_general_names(u_char *p, size_t len,
    ngx_str_t *names, ngx_uint_t max, ngx_uint_t *n);

/*
 * A DistributionPointName, the contents of its explicit [0]: NGX_OK
 * with the fullName's contents in "full", NGX_DECLINED for a
 * nameRelativeToCRLIssuer, NGX_ERROR malformed.
 */
ngx_int_t ngx_http_sekisho_der_dp_name(ngx_str_t *v, ngx_str_t *full);

/*
 * A certificate's cRLDistributionPoints extension value (the
 * extnValue OCTET STRING's content): the fullName GeneralName elements
 * of all its DistributionPoints together.  NGX_DECLINED when a
 * DistributionPoint has reasons, a cRLIssuer, or a
 * nameRelativeToCRLIssuer (not supported: the caller treats the
 * certificate as having no matching CRL; n is 0), NGX_ERROR malformed.
 */
ngx_int_t ngx_http_sekisho_crl_dp_names(u_char *ext, size_t len,
    ngx_str_t *names, ngx_uint_t max, ngx_uint_t *n);


#endif /* _NGX_HTTP_SEKISHO_DER_NAMES_H_INCLUDED_ */
