
/*
 * Copyright (C) Sekisho authors
 *
 * A CRL file in PEM, decoded to the DER the CRL reader reads.  Pure:
 * bytes in, bytes out.
 */


#ifndef _NGX_HTTP_SEKISHO_CRL_PEM_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_CRL_PEM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * A PEM CRL ("-----BEGIN X509 CRL-----" ... "-----END X509 CRL-----",
 * base64 with line breaks) decoded into "der" (at least 3/4 of len;
 * "der" may be "pem" itself, decoded in place): NGX_OK with dlen,
 * NGX_DECLINED when the data is not PEM (then it may be DER), NGX_ERROR
 * for broken PEM.  Exactly one CRL block; text before BEGIN or after
 * END other than white space is NGX_ERROR.
 */
ngx_int_t ngx_http_sekisho_crl_pem(u_char *pem, size_t len, u_char *der,
    size_t *dlen);


#endif /* _NGX_HTTP_SEKISHO_CRL_PEM_H_INCLUDED_ */
