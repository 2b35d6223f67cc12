
/*
 * Copyright (C) Sekisho authors
 *
 * The audit key's state file: the key of the current epoch, kept so
 * that a restarted gateway goes on without the initial key.  Read at
 * configuration time, replaced whole (written aside, then renamed) at
 * every epoch, mode 0600.  A worker writes and syncs it in nginx's
 * thread pool, off its event loop; only the rename is done there.
 */


#ifndef _NGX_HTTP_SEKISHO_AUDIT_STATE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_AUDIT_STATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_audit_chain.h"

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif


/*
 * A worker's saves: one written at a time; a state that falls due
 * meanwhile waits in "next" (a newer one replaces it: only the newest
 * key is worth keeping).
 */
typedef struct {
    ngx_str_t                       *path;
    u_char                          *tmp;
    ngx_shmtx_t                     *mutex;
    uint64_t                        *epoch;     /* the newest, the zone's */
    ngx_log_t                       *log;
    ngx_http_sekisho_audit_state_t   st;        /* being written */
    ngx_http_sekisho_audit_state_t   next;
    ngx_int_t                        written;   /* by the thread */
    ngx_err_t                        err;
#if (NGX_THREADS)
    ngx_thread_pool_t               *pool;
    ngx_thread_task_t               *task;
#endif
    unsigned                         busy:1;
    unsigned                         queued:1;
} ngx_http_sekisho_audit_saver_t;


ngx_int_t ngx_http_sekisho_audit_seed(ngx_conf_t *cf, ngx_str_t *state,
    ngx_str_t *key_file, ngx_http_sekisho_audit_state_t *st,
    ngx_str_t *key);
ngx_int_t ngx_http_sekisho_audit_state_save(ngx_str_t *path, u_char *tmp,
    ngx_http_sekisho_audit_state_t *st, ngx_shmtx_t *mutex,
    uint64_t *epoch, ngx_log_t *log);
ngx_int_t ngx_http_sekisho_audit_saver_conf(ngx_conf_t *cf,
    ngx_http_sekisho_audit_saver_t *sv, ngx_str_t *path, u_char *tmp);
ngx_int_t ngx_http_sekisho_audit_saver_init(ngx_cycle_t *cycle,
    ngx_http_sekisho_audit_saver_t *sv, ngx_shmtx_t *mutex,
    uint64_t *epoch);
void ngx_http_sekisho_audit_saver_post(ngx_http_sekisho_audit_saver_t *sv,
    ngx_http_sekisho_audit_state_t *st);
void ngx_http_sekisho_audit_saver_exit(ngx_http_sekisho_audit_saver_t *sv);
void ngx_http_sekisho_audit_wipe(void *p, size_t len);


#endif /* _NGX_HTTP_SEKISHO_AUDIT_STATE_H_INCLUDED_ */
