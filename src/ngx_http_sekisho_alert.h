
/*
 * Copyright (C) Sekisho authors
 *
 * Alerts for the SOC: RFC 5424 syslog over UDP and/or entries in a
 * Redis Stream, sent without blocking a worker, deduplicated through
 * shared memory so that an attack raises an alert, not a storm.
 */


#ifndef _NGX_HTTP_SEKISHO_ALERT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_ALERT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef enum {
    NGX_HTTP_SEKISHO_ALERT_ACCOUNT_LOCKED = 0,
    NGX_HTTP_SEKISHO_ALERT_IP_LOCKED,
    NGX_HTTP_SEKISHO_ALERT_FOREIGN_BURST,
    NGX_HTTP_SEKISHO_ALERT_REDIS_UNAVAILABLE,
    NGX_HTTP_SEKISHO_ALERT_REDIS_RECOVERED,
    NGX_HTTP_SEKISHO_ALERT_GEOIP_RELOAD_FAILED,
    NGX_HTTP_SEKISHO_ALERT_AUDIT_WRITE_FAILED,
    NGX_HTTP_SEKISHO_ALERT_JPKI_BURST,
    NGX_HTTP_SEKISHO_ALERT_JPKI_REVOKED,
    NGX_HTTP_SEKISHO_ALERT_GEOIP_STALE,
    NGX_HTTP_SEKISHO_ALERT_AUDIT_ANCHOR
} ngx_http_sekisho_alert_e;


typedef struct {
    const char                 *name;
    ngx_str_t                   value;
} ngx_http_sekisho_alert_param_t;


typedef struct ngx_http_sekisho_alerts_s  ngx_http_sekisho_alerts_t;


char *ngx_http_sekisho_alert_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_alert_burst_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_sekisho_alert_init(ngx_conf_t *cf);
ngx_int_t ngx_http_sekisho_alert_init_worker(ngx_cycle_t *cycle);

void ngx_http_sekisho_alert(ngx_http_sekisho_alert_e event,
    ngx_http_sekisho_alert_param_t *params, ngx_uint_t n);
void ngx_http_sekisho_alert_once(ngx_http_sekisho_alert_e event,
    uint64_t key, ngx_http_sekisho_alert_param_t *params, ngx_uint_t n);
void ngx_http_sekisho_alert_redis(ngx_uint_t down, ngx_str_t *name);
void ngx_http_sekisho_alert_refusal(struct sockaddr *sa, ngx_str_t *addr);
void ngx_http_sekisho_alert_jpki_failure(struct sockaddr *sa,
    ngx_str_t *addr);


#endif /* _NGX_HTTP_SEKISHO_ALERT_H_INCLUDED_ */
