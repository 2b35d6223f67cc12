
/*
 * Copyright (C) Sekisho authors
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_ACCESS_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_ACCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The access phase of a location with "sekisho_jpki_require" or
 * "sekisho_jpki_signed_body": NGX_DECLINED to go on, NGX_DONE while
 * the body is read, else the refusal.
 */
ngx_int_t ngx_http_sekisho_jpki_access(ngx_http_request_t *r);


#endif /* _NGX_HTTP_SEKISHO_JPKI_ACCESS_H_INCLUDED_ */
