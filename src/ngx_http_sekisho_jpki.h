
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI (My Number card) login: the challenge, login and logout
 * endpoints, and the location settings of every JPKI directive.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_SEKISHO_JPKI_NONE       0
#define NGX_HTTP_SEKISHO_JPKI_CHALLENGE  1
#define NGX_HTTP_SEKISHO_JPKI_LOGIN      2
#define NGX_HTTP_SEKISHO_JPKI_LOGOUT     3


typedef struct {
    ngx_uint_t                      handler;
    ngx_msec_t                      challenge_ttl;
    ngx_flag_t                      require;
    ngx_flag_t                      signed_body;
    ngx_array_t                    *hosts;         /* sekisho_jpki_host */
    ngx_array_t                    *server_hosts;  /* or server_name */
} ngx_http_sekisho_jpki_loc_t;


/* sekisho_jpki_challenge [ttl=<time>] | sekisho_jpki_login | _logout */
char *ngx_http_sekisho_jpki_handler_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_sekisho_jpki_loc_create(ngx_http_sekisho_jpki_loc_t *jl);
char *ngx_http_sekisho_jpki_loc_merge(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_loc_t *prev, ngx_http_sekisho_jpki_loc_t *conf);


#endif /* _NGX_HTTP_SEKISHO_JPKI_H_INCLUDED_ */
