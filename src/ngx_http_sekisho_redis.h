
/*
 * Copyright (C) Sekisho authors
 *
 * A Redis client for nginx workers: hiredis's asynchronous API driven by
 * nginx's own event loop, one connection per worker and Redis node,
 * opened lazily, reconnected with backoff, every command bounded by a
 * timer.  One server, the master Redis Sentinel names (failovers
 * followed), or a Redis Cluster (MOVED, ASK, TRYAGAIN followed); a
 * command goes again only when it certainly did not run.  Requests wait
 * for an answer; the worker never does.
 */


#ifndef _NGX_HTTP_SEKISHO_REDIS_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>


typedef struct ngx_http_sekisho_redis_s      ngx_http_sekisho_redis_t;
typedef struct ngx_http_sekisho_redis_cmd_s  ngx_http_sekisho_redis_cmd_t;


/* a Lua script, sent with EVALSHA and loaded again on NOSCRIPT */
typedef struct {
    ngx_str_t                   body;
    u_char                      sha1[40];
} ngx_http_sekisho_redis_script_t;


/*
 * Called once per command: with the reply (freed by hiredis after the
 * call), or with NULL when Redis did not answer in time, the connection
 * failed, or the reply was an error.
 */
typedef void (*ngx_http_sekisho_redis_handler_pt)(void *data,
    redisReply *reply);

/*
 * Told when the server becomes unavailable (down 1) or comes back
 * (down 0), once each way: the module hands the alerts this, so that
 * the client knows nothing of what is done about it.
 */
typedef void (*ngx_http_sekisho_redis_state_pt)(ngx_uint_t down,
    ngx_str_t *name);


char *ngx_http_sekisho_redis_conf(ngx_conf_t *cf,
    ngx_http_sekisho_redis_t **rdp);
ngx_int_t ngx_http_sekisho_redis_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_redis_t *rd);
void ngx_http_sekisho_redis_exit_worker(ngx_http_sekisho_redis_t *rd);
ngx_str_t *ngx_http_sekisho_redis_prefix(ngx_http_sekisho_redis_t *rd);
void ngx_http_sekisho_redis_on_state(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_state_pt handler);

ngx_int_t ngx_http_sekisho_redis_script(ngx_http_sekisho_redis_script_t *s,
    const char *body);
ngx_http_sekisho_redis_cmd_t *ngx_http_sekisho_redis_eval(
    ngx_http_sekisho_redis_t *rd, ngx_http_sekisho_redis_script_t *script,
    ngx_uint_t nkeys, ngx_uint_t nargs, ngx_str_t *args,
    ngx_http_sekisho_redis_handler_pt handler, void *data);
ngx_http_sekisho_redis_cmd_t *ngx_http_sekisho_redis_command(
    ngx_http_sekisho_redis_t *rd, ngx_uint_t argc, ngx_str_t *argv,
    ngx_http_sekisho_redis_handler_pt handler, void *data);
void ngx_http_sekisho_redis_cancel(ngx_http_sekisho_redis_cmd_t *cmd);

/*
 * In Redis's clock (ms), the moment by which a command sent now has
 * been given up; "local" receives the same moment in ngx_current_msec.
 * Redis's time as a reply tells it keeps the two clocks in step.
 */
uint64_t ngx_http_sekisho_redis_deadline(ngx_http_sekisho_redis_t *rd,
    ngx_msec_t *local);
void ngx_http_sekisho_redis_clock(ngx_http_sekisho_redis_t *rd,
    uint64_t redis_ms);


#endif /* _NGX_HTTP_SEKISHO_REDIS_H_INCLUDED_ */
