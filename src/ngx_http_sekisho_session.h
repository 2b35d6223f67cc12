
/*
 * Copyright (C) Sekisho authors
 *
 * Gateway sessions after a card login: the cookie issued, checked and
 * refreshed, the identity the upstream is told, and logout.
 */


#ifndef _NGX_HTTP_SEKISHO_SESSION_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_session_logout.h"


typedef struct {
    ngx_str_t                       keys[2];       /* current, previous */
    ngx_uint_t                      nkeys;         /* 0: no sessions */
    time_t                          idle;
    time_t                          lifetime;
    ngx_str_t                       cookie;
    ngx_flag_t                      secure;
    ngx_str_t                       login_uri;     /* named on 401 pages */
    void                           *tokens;        /* per worker */
    ngx_http_sekisho_logout_list_t  logout;
} ngx_http_sekisho_session_conf_t;


/* sekisho_session_key, sekisho_session_cookie */
char *ngx_http_sekisho_session_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_session_cookie_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

void ngx_http_sekisho_session_conf_create(ngx_http_sekisho_session_conf_t *sc);
char *ngx_http_sekisho_session_conf_init(ngx_conf_t *cf,
    ngx_http_sekisho_session_conf_t *sc, ngx_http_sekisho_redis_t *redis);
ngx_int_t ngx_http_sekisho_session_init(ngx_conf_t *cf);
ngx_int_t ngx_http_sekisho_session_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_session_conf_t *sc);

/* post-read phase: X-Sekisho-* from the client is dropped */
ngx_int_t ngx_http_sekisho_strip_headers(ngx_http_request_t *r);

/*
 * "sekisho_jpki_require": NGX_DECLINED with a current session (its
 * identity added for the upstream), else the refusal.
 */
ngx_int_t ngx_http_sekisho_session_check(ngx_http_request_t *r);

/* the Set-Cookie of a session issued, refreshed or ended */
ngx_int_t ngx_http_sekisho_session_filter(ngx_http_request_t *r);

/* a new session for a verified card, its cookie in ctx->set_cookie */
ngx_int_t ngx_http_sekisho_session_issue(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s);

/* NGX_OK: a token of ours; NGX_DECLINED: no cookie; NGX_ERROR: forged */
ngx_int_t ngx_http_sekisho_session_find(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_uint_t *key);

/* logout: as ngx_http_sekisho_logout_add() */
ngx_int_t ngx_http_sekisho_session_revoke(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_http_sekisho_logout_pt done);

/* the texts of ctx->session for a login's or logout's answer */
ngx_int_t ngx_http_sekisho_session_text(ngx_http_request_t *r,
    ngx_str_t *not_after);


#endif /* _NGX_HTTP_SEKISHO_SESSION_H_INCLUDED_ */
