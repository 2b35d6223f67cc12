
/*
 * Copyright (C) Sekisho authors
 *
 * What every part of the module does with a request's headers: found
 * by name, counted, a header added for the upstream.  Nothing here knows about Sekisho's own rules.
 */


#ifndef _NGX_HTTP_SEKISHO_REQUEST_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_table_elt_t *ngx_http_sekisho_find_header(ngx_list_t *headers,
    ngx_str_t *name, ngx_str_t *value);
ngx_uint_t ngx_http_sekisho_count_headers(ngx_list_t *headers,
    ngx_str_t *name, ngx_uint_t underscores, ngx_table_elt_t **first);
ngx_int_t ngx_http_sekisho_push_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value);


#endif /* _NGX_HTTP_SEKISHO_REQUEST_H_INCLUDED_ */
