
/*
 * Copyright (C) Sekisho authors
 *
 * The CRLs of JPKI as J-LIS publishes them: the files named by
 * "sekisho_jpki_crl" and the folders of "sekisho_jpki_crl_dir",
 * thousands of partitioned CRLs, kept as one revocation index file that
 * every worker maps.  The master builds it at startup (or finds it
 * current), worker 0 rebuilds it in nginx's thread pool when a file
 * changes, and every worker maps a new one when it appears: no worker
 * ever parses a CRL on its event loop.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_CRL_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_CRL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_crl_index.h"
#include "ngx_http_sekisho_crl_set.h"


typedef struct ngx_http_sekisho_jpki_crl_s  ngx_http_sekisho_jpki_crl_t;


/* "conf" + cmd->offset holds a ngx_http_sekisho_jpki_crl_t pointer */
char *ngx_http_sekisho_jpki_crl_files(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_jpki_crl_dir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* after the CAs are known: the index found current, or built */
char *ngx_http_sekisho_jpki_crl_init(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_crl_t *crl, X509 **roots, ngx_uint_t nroots);

ngx_int_t ngx_http_sekisho_jpki_crl_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_crl_t *crl);
void ngx_http_sekisho_jpki_crl_exit_worker(ngx_http_sekisho_jpki_crl_t *crl);

/* the index this process uses now (an empty one when there is none) */
ngx_http_sekisho_crlix_t *ngx_http_sekisho_jpki_crl_index(
    ngx_http_sekisho_jpki_crl_t *crl);


#endif /* _NGX_HTTP_SEKISHO_JPKI_CRL_H_INCLUDED_ */
