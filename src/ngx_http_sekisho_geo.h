
/*
 * Copyright (C) Sekisho authors
 *
 * The country database: loaded and verified at configuration time,
 * watched by every worker and swapped in when its file changes.
 */


#ifndef _NGX_HTTP_SEKISHO_GEO_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_GEO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_sekisho_geo_db_s  ngx_http_sekisho_geo_db_t;


ngx_http_sekisho_geo_db_t *ngx_http_sekisho_geo_db_create(ngx_conf_t *cf,
    ngx_str_t *file, ngx_msec_t reload, ngx_str_t *path);
ngx_int_t ngx_http_sekisho_geo_db_max_age(ngx_conf_t *cf,
    ngx_http_sekisho_geo_db_t *db, time_t max_age, ngx_str_t *text,
    ngx_uint_t refuse);
ngx_int_t ngx_http_sekisho_geo_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_geo_db_t *db);
ngx_int_t ngx_http_sekisho_geo_lookup(ngx_http_sekisho_geo_db_t *db,
    struct sockaddr *sa, ngx_log_t *log, uint16_t *country);
/* the build time (MMDB build_epoch) of the database this worker uses */
time_t ngx_http_sekisho_geo_build(ngx_http_sekisho_geo_db_t *db);


#endif /* _NGX_HTTP_SEKISHO_GEO_H_INCLUDED_ */
