
/*
 * Copyright (C) Sekisho authors
 *
 * Where a login location finds the account id ("sekisho_login_account")
 * and the one reading of it that the lockout counts: the request's
 * media type decides the parser, the field must be there once in every
 * spelling an application could read, and the id is normalised as
 * applications compare ids.
 */


#ifndef _NGX_HTTP_SEKISHO_LOGIN_SOURCE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_LOGIN_SOURCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_reason.h"


#define NGX_HTTP_SEKISHO_SRC_BODY     0     /* form:, json:, multipart: */
#define NGX_HTTP_SEKISHO_SRC_HEADER   1
#define NGX_HTTP_SEKISHO_SRC_ARG      2
#define NGX_HTTP_SEKISHO_SRC_REGEX    3
#define NGX_HTTP_SEKISHO_SRC_VALUE    4
#define NGX_HTTP_SEKISHO_SRC_NONE     5     /* card logins: the address */


typedef struct {
    ngx_uint_t                  type;
    ngx_str_t                   form;          /* empty: not taken */
    ngx_str_t                   json;
    ngx_str_t                   multipart;
    ngx_str_t                   name;          /* header:, arg: */
    ngx_http_complex_value_t   *value;
    ngx_regex_t                *regex;
    ngx_flag_t                  ascii;         /* ids=ascii */
} ngx_http_sekisho_account_source_t;


typedef struct {
    ngx_str_t                   account;       /* normalised */
    ngx_str_t                   cookie;        /* a cookie's id, as sent */
    ngx_http_sekisho_reason_e   reason;        /* of a refusal */
    const char                 *why;           /* for the error log */
    unsigned                    from_query:1;  /* a safe method's query */
} ngx_http_sekisho_login_read_t;


char *ngx_http_sekisho_login_account(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* does the request's body have to be read first */
ngx_uint_t ngx_http_sekisho_login_source_body(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src);

/*
 * NGX_OK with the account, NGX_DECLINED when the request is not a
 * login attempt (a page fetched), or the status of a refusal with its
 * reason.
 */
ngx_int_t ngx_http_sekisho_login_source_find(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src,
    ngx_http_sekisho_login_read_t *rd);


#endif /* _NGX_HTTP_SEKISHO_LOGIN_SOURCE_H_INCLUDED_ */
