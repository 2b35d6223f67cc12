
/*
 * Copyright (C) Sekisho authors
 *
 * What the parts of the module share: its configuration and the
 * per-request record of what was decided.
 */


#ifndef _NGX_HTTP_SEKISHO_MODULE_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_geo.h"
#include "ngx_http_sekisho_geo_rules.h"


typedef struct {
    ngx_http_sekisho_geo_db_t      *geo_db;
} ngx_http_sekisho_main_conf_t;


typedef struct {
    ngx_flag_t                      enable;
    ngx_array_t                    *countries;     /* of uint16_t */
    ngx_array_t                    *allow;         /* of ngx_cidr_t */
    ngx_array_t                    *deny;          /* of ngx_cidr_t */
    ngx_uint_t                      unknown;
    ngx_flag_t                      dry_run;
    ngx_http_sekisho_geo_policy_t   policy;        /* the above, merged */
} ngx_http_sekisho_loc_conf_t;


/* survives internal redirects (error_page), see ngx_http_sekisho_ctx() */
typedef struct {
    ngx_http_sekisho_decision_e     decision;
    ngx_http_sekisho_reason_e       reason;
    uint16_t                        country;
    u_char                          country_text[2];
    unsigned                        looked_up:1;
} ngx_http_sekisho_ctx_t;


ngx_http_sekisho_ctx_t *ngx_http_sekisho_ctx(ngx_http_request_t *r,
    ngx_uint_t create);


extern ngx_module_t  ngx_http_sekisho_module;


#endif /* _NGX_HTTP_SEKISHO_MODULE_H_INCLUDED_ */
