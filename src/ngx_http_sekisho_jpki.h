
/*
 * Copyright (C) Sekisho authors
 *
 * JPKI (My Number card) login and signed submissions: the challenge,
 * login and logout endpoints, the trusted authorities and their CRLs,
 * and the check of signed request bodies.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_jpki_verify.h"
#include "ngx_http_sekisho_jpki_crl.h"
#include "ngx_http_sekisho_session_token.h"


#define NGX_HTTP_SEKISHO_JPKI_NONE       0
#define NGX_HTTP_SEKISHO_JPKI_CHALLENGE  1
#define NGX_HTTP_SEKISHO_JPKI_LOGIN      2
#define NGX_HTTP_SEKISHO_JPKI_LOGOUT     3


/* a trusted root by its key identifier, for X-Sekisho-JPKI-Issuer */
typedef struct {
    u_char                          id[NGX_HTTP_SEKISHO_CA_ID_MAX];
    size_t                          id_len;
    ngx_str_t                       name;          /* RFC 2253 */
} ngx_http_sekisho_jpki_issuer_t;


typedef struct {
    ngx_http_sekisho_jpki_ca_t      auth;          /* store NULL: none */
    ngx_http_sekisho_jpki_ca_t      sign;
    ngx_array_t                    *issuers;       /* of jpki_issuer_t */
    ngx_http_sekisho_jpki_crl_t    *crl;           /* NULL: no CRLs */
    ngx_uint_t                      revocation;

    /* sessions */
    ngx_str_t                       keys[2];       /* current, previous */
    ngx_uint_t                      nkeys;
    time_t                          idle;
    time_t                          lifetime;
    ngx_str_t                       cookie;
    ngx_flag_t                      secure;
    ngx_str_t                       login_uri;     /* named on 401 pages */
    ngx_uint_t                      used;          /* any JPKI directive */
    ngx_http_sekisho_jpki_cache_t  *cache;         /* per worker */
    void                           *tokens;        /* per worker */

    /* the logged-out sessions, per worker */
    ngx_rbtree_t                    revoked;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     revoked_queue;
    ngx_event_t                     sync;
    ngx_msec_t                      synced;        /* last sync that worked */
    ngx_msec_t                      started;
    int64_t                         since;         /* newest seen, ms */
    void                           *sync_cmd;
    ngx_str_t                       revoked_key;
} ngx_http_sekisho_jpki_main_t;


typedef struct {
    ngx_uint_t                      handler;
    ngx_msec_t                      challenge_ttl;
    ngx_flag_t                      require;
    ngx_flag_t                      signed_body;
    ngx_array_t                    *hosts;         /* sekisho_jpki_host */
    ngx_array_t                    *server_hosts;  /* or server_name */
} ngx_http_sekisho_jpki_loc_t;


char *ngx_http_sekisho_jpki_handler_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_jpki_ca_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_jpki_crl_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_session_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_session_cookie_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

void ngx_http_sekisho_jpki_main_create(ngx_http_sekisho_jpki_main_t *jm);
char *ngx_http_sekisho_jpki_main_init(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_main_t *jm);
void ngx_http_sekisho_jpki_loc_create(ngx_http_sekisho_jpki_loc_t *jl);
char *ngx_http_sekisho_jpki_loc_merge(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_loc_t *prev, ngx_http_sekisho_jpki_loc_t *conf);
ngx_int_t ngx_http_sekisho_jpki_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_main_t *jm);

ngx_int_t ngx_http_sekisho_jpki_access(ngx_http_request_t *r);
ngx_int_t ngx_http_sekisho_strip_headers(ngx_http_request_t *r);
ngx_int_t ngx_http_sekisho_session_filter(ngx_http_request_t *r);


/* sessions: ngx_http_sekisho_session.c */
ngx_int_t ngx_http_sekisho_session_check(ngx_http_request_t *r);
ngx_int_t ngx_http_sekisho_session_issue(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s);
ngx_int_t ngx_http_sekisho_session_revoke(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s);
ngx_int_t ngx_http_sekisho_session_find(ngx_http_request_t *r,
    ngx_http_sekisho_session_t *s, ngx_uint_t *key);
ngx_int_t ngx_http_sekisho_session_sync_init(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_main_t *jm);
ngx_int_t ngx_http_sekisho_session_text(ngx_http_request_t *r,
    ngx_str_t *not_after);
ngx_int_t ngx_http_sekisho_session_add_headers(ngx_http_request_t *r,
    ngx_str_t *not_after);
ngx_int_t ngx_http_sekisho_session_init(ngx_conf_t *cf);
size_t ngx_http_sekisho_hex(u_char *dst, u_char *src, size_t len);

ngx_int_t ngx_http_sekisho_jpki_issuer(ngx_http_sekisho_jpki_main_t *jm,
    u_char *id, size_t len, ngx_str_t *name);
void ngx_http_sekisho_jpki_logged_out(ngx_http_request_t *r,
    ngx_uint_t recorded);


#endif /* _NGX_HTTP_SEKISHO_JPKI_H_INCLUDED_ */
