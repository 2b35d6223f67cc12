
/*
 * Copyright (C) Sekisho authors
 *
 * The audit key's state file: the key of the current epoch, kept so
 * that a restarted gateway goes on without the initial key.  Read at
 * configuration time, replaced whole (written aside, then renamed) at
 * every epoch, mode 0600.
 */


#ifndef _NGX_HTTP_SEKISHO_AUDIT_STATE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_AUDIT_STATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_audit_chain.h"


ngx_int_t ngx_http_sekisho_audit_seed(ngx_conf_t *cf, ngx_str_t *state,
    ngx_str_t *key_file, ngx_http_sekisho_audit_state_t *st,
    ngx_str_t *key);
ngx_int_t ngx_http_sekisho_audit_state_save(ngx_str_t *path, u_char *tmp,
    ngx_http_sekisho_audit_state_t *st, ngx_shmtx_t *mutex,
    uint64_t *epoch, ngx_log_t *log);
void ngx_http_sekisho_audit_wipe(void *p, size_t len);


#endif /* _NGX_HTTP_SEKISHO_AUDIT_STATE_H_INCLUDED_ */
