
/*
 * Copyright (C) Sekisho authors
 *
 * Counters in shared memory, the same for every worker, and the
 * Prometheus text exposition of them ("sekisho_metrics").
 */


#ifndef _NGX_HTTP_SEKISHO_METRICS_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef enum {
    NGX_HTTP_SEKISHO_M_REDIS_TIMEOUT = 0,
    NGX_HTTP_SEKISHO_M_REDIS_ERROR,
    NGX_HTTP_SEKISHO_M_REDIS_UNAVAILABLE,
    NGX_HTTP_SEKISHO_M_LOCKOUT_ACCOUNT,
    NGX_HTTP_SEKISHO_M_LOCKOUT_IP,
    NGX_HTTP_SEKISHO_M_GEOIP_RELOAD_OK,
    NGX_HTTP_SEKISHO_M_GEOIP_RELOAD_FAILED,
    NGX_HTTP_SEKISHO_M_AUDIT_RECORDS,
    NGX_HTTP_SEKISHO_M_AUDIT_ERRORS,
    NGX_HTTP_SEKISHO_M_ALERTS_SENT,
    NGX_HTTP_SEKISHO_M_ALERTS_FAILED,
    NGX_HTTP_SEKISHO_M_COUNT
} ngx_http_sekisho_counter_e;


ngx_int_t ngx_http_sekisho_metrics_init(ngx_conf_t *cf);
char *ngx_http_sekisho_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_sekisho_metrics_count(ngx_http_sekisho_counter_e counter);
void ngx_http_sekisho_metrics_request(ngx_uint_t decision, ngx_uint_t reason);
void ngx_http_sekisho_metrics_jpki(ngx_uint_t use, ngx_uint_t reason);
void ngx_http_sekisho_metrics_redis_latency(uint64_t us);
void ngx_http_sekisho_metrics_geoip(time_t built, time_t loaded);
void ngx_http_sekisho_metrics_geoip_max_age(time_t max_age);
void ngx_http_sekisho_metrics_redis(ngx_uint_t down);
void ngx_http_sekisho_metrics_crl(int64_t built, int64_t next_update);
void ngx_http_sekisho_metrics_locked(u_char *key, ngx_msec_t lock_ms);


#endif /* _NGX_HTTP_SEKISHO_METRICS_H_INCLUDED_ */
