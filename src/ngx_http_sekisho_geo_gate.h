
/*
 * Copyright (C) Sekisho authors
 *
 * The country gate: the client's address looked up in the country
 * database (ngx_http_sekisho_geo.c) once per request, decided by the
 * location's rules (ngx_http_sekisho_geo_rules.c), refused with 403
 * and the SOC's alert.
 */


#ifndef _NGX_HTTP_SEKISHO_GEO_GATE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_GEO_GATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_geo.h"
#include "ngx_http_sekisho_geo_rules.h"


/* "sekisho_geo_unknown" */
#define NGX_HTTP_SEKISHO_GATE_UNKNOWN_DENY   0
#define NGX_HTTP_SEKISHO_GATE_UNKNOWN_ALLOW  1


typedef struct {
    ngx_flag_t                      enable;        /* "sekisho on" */
    ngx_array_t                    *countries;     /* of uint16_t */
    ngx_array_t                    *allow;         /* of ngx_cidr_t */
    ngx_array_t                    *deny;          /* of ngx_cidr_t */
    ngx_uint_t                      unknown;
    ngx_flag_t                      dry_run;
    ngx_http_sekisho_geo_policy_t   policy;        /* the above, merged */
} ngx_http_sekisho_gate_conf_t;


/* directives: sekisho_geoip_db, _geo_countries, _geo_allow/_geo_deny */
char *ngx_http_sekisho_gate_db_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_sekisho_gate_countries_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_sekisho_gate_cidrs_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_sekisho_gate_create(ngx_http_sekisho_gate_conf_t *g);
char *ngx_http_sekisho_gate_merge(ngx_conf_t *cf,
    ngx_http_sekisho_gate_conf_t *prev, ngx_http_sekisho_gate_conf_t *conf,
    ngx_http_sekisho_geo_db_t *db);

/* NGX_DECLINED: let through (or a dry run); else the refusal */
ngx_int_t ngx_http_sekisho_gate(ngx_http_request_t *r,
    ngx_http_sekisho_gate_conf_t *g);

/* the client's country, looked up once per request; 0: not known */
uint16_t ngx_http_sekisho_country(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);


#endif /* _NGX_HTTP_SEKISHO_GEO_GATE_H_INCLUDED_ */
