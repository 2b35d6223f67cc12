
/*
 * Copyright (C) Sekisho authors
 *
 * Refusal pages: short, bilingual (Japanese first, then English), and
 * replaceable with "error_page".
 */


#ifndef _NGX_HTTP_SEKISHO_PAGE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_PAGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef enum {
    NGX_HTTP_SEKISHO_PAGE_GEO = 0,
    NGX_HTTP_SEKISHO_PAGE_BAD_LOGIN,
    NGX_HTTP_SEKISHO_PAGE_LOCKED,
    NGX_HTTP_SEKISHO_PAGE_UNAVAILABLE,
    NGX_HTTP_SEKISHO_PAGE_LOGIN_REQUIRED,
    NGX_HTTP_SEKISHO_PAGE_SIGNATURE
} ngx_http_sekisho_page_e;


ngx_int_t ngx_http_sekisho_page_init(ngx_conf_t *cf);


/* $request_id: the reference on pages, the request.id of audit records */
extern ngx_int_t  ngx_http_sekisho_request_id_index;

ngx_int_t ngx_http_sekisho_refuse(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_sekisho_page_e page, ngx_str_t *detail);
ngx_int_t ngx_http_sekisho_refuse_json(ngx_http_request_t *r,
    ngx_uint_t status, const ngx_str_t *reason, ngx_str_t *extra);
ngx_int_t ngx_http_sekisho_json_refusal(ngx_http_request_t *r,
    ngx_uint_t status, const ngx_str_t *reason, ngx_str_t *extra);
ngx_int_t ngx_http_sekisho_wants_json(ngx_http_request_t *r);
ngx_int_t ngx_http_sekisho_reply_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *json);


#endif /* _NGX_HTTP_SEKISHO_PAGE_H_INCLUDED_ */
