
/*
 * Copyright (C) Sekisho authors
 *
 * Password-attempt limits on login locations: the account id is found
 * in the request, an attempt is reserved in Redis before the upstream
 * sees the password, and the upstream's answer settles it.
 */


#ifndef _NGX_HTTP_SEKISHO_LOCKOUT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_LOCKOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_login_source.h"
#include "ngx_http_sekisho_attempt.h"
#include "ngx_http_sekisho_ctx.h"


#define NGX_HTTP_SEKISHO_REDIS_CLOSED  0
#define NGX_HTTP_SEKISHO_REDIS_OPEN    1


typedef struct ngx_http_sekisho_login_conf_s {
    ngx_http_sekisho_account_source_t  *account;   /* NULL: not a login */
    ngx_array_t                        *failure_status;  /* of ngx_uint_t */
    ngx_str_t                           failure_header;
    ngx_str_t                           failure_value;
    ngx_http_sekisho_limit_t            account_limit;
    ngx_http_sekisho_limit_t            ip_limit;
    ngx_uint_t                          redis_failure;
    ngx_flag_t                          card_login;  /* sekisho_jpki_login */
} ngx_http_sekisho_login_conf_t;


char *ngx_http_sekisho_login_failure(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_lockout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_sekisho_login_conf_init(ngx_http_sekisho_login_conf_t *conf);
char *ngx_http_sekisho_login_conf_merge(ngx_conf_t *cf,
    ngx_http_sekisho_login_conf_t *prev, ngx_http_sekisho_login_conf_t *conf);
ngx_int_t ngx_http_sekisho_lockout_init(ngx_conf_t *cf);
void ngx_http_sekisho_lockout_init_worker(ngx_cycle_t *cycle);
void ngx_http_sekisho_lockout_exit_worker(void);

ngx_int_t ngx_http_sekisho_login_handler(ngx_http_request_t *r);
void ngx_http_sekisho_login_outcome(ngx_http_request_t *r);
ngx_int_t ngx_http_sekisho_login_redirected(ngx_http_request_t *r);


#endif /* _NGX_HTTP_SEKISHO_LOCKOUT_H_INCLUDED_ */
