
/*
 * Copyright (C) Sekisho authors
 *
 * Finding the account id of a login request in its body: pure
 * functions over buffers, so that unit tests can feed them anything.
 */


#ifndef _NGX_HTTP_SEKISHO_LOGIN_PARSE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_LOGIN_PARSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the longest account id accepted, in bytes after normalisation */
#define NGX_HTTP_SEKISHO_ACCOUNT_MAX  256


/*
 * Each returns NGX_OK with the decoded value in "out" (which points
 * into "buf", of at least "len" bytes), NGX_DECLINED when the field is
 * absent, NGX_ERROR when the body is malformed.
 */
ngx_int_t ngx_http_sekisho_form_value(u_char *body, size_t len,
    ngx_str_t *name, ngx_str_t *out, u_char *buf);
ngx_int_t ngx_http_sekisho_json_value(u_char *body, size_t len,
    ngx_str_t *name, ngx_str_t *out, u_char *buf);

ngx_int_t ngx_http_sekisho_account_normalize(ngx_str_t *account);


#endif /* _NGX_HTTP_SEKISHO_LOGIN_PARSE_H_INCLUDED_ */
