
/*
 * Copyright (C) Sekisho authors
 *
 * What a JPKI check trusts: the authentication and signing CAs
 * (sekisho_jpki_auth_ca, sekisho_jpki_sign_ca), the names of their
 * roots, the CRLs (ngx_http_sekisho_jpki_crl.c) and the revocation
 * policy.  Below both the card endpoints and the session check.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_TRUST_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_TRUST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_jpki_verify.h"
#include "ngx_http_sekisho_jpki_crl.h"


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
    ngx_http_sekisho_jpki_cache_t  *cache;         /* per worker */
} ngx_http_sekisho_jpki_trust_t;


/* sekisho_jpki_auth_ca <file> | sekisho_jpki_sign_ca <file> */
char *ngx_http_sekisho_jpki_ca_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_sekisho_jpki_trust_create(ngx_http_sekisho_jpki_trust_t *t);
char *ngx_http_sekisho_jpki_trust_init(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_trust_t *t);
ngx_int_t ngx_http_sekisho_jpki_trust_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_trust_t *t);
void ngx_http_sekisho_jpki_trust_exit_worker(
    ngx_http_sekisho_jpki_trust_t *t);

/* a check of the kind given (NGX_HTTP_SEKISHO_JPKI_AUTH or _SIGN), now */
void ngx_http_sekisho_jpki_prepare(ngx_http_sekisho_jpki_trust_t *t,
    ngx_http_sekisho_jpki_check_t *chk, ngx_uint_t kind);

/* the RFC 2253 name of the root with this key identifier */
ngx_int_t ngx_http_sekisho_jpki_issuer(ngx_http_sekisho_jpki_trust_t *t,
    u_char *id, size_t len, ngx_str_t *name);


#endif /* _NGX_HTTP_SEKISHO_JPKI_TRUST_H_INCLUDED_ */
