
/*
 * Copyright (C) Sekisho authors
 *
 * The module's configuration as its concerns see it.  The module
 * object (its directives and hooks) is ngx_http_sekisho_module.c, at
 * the top; the concerns below find their configuration through the
 * index nginx gave the module, which ngx_http_sekisho_module.c writes
 * here, and never refer to the module object itself.
 */


#ifndef _NGX_HTTP_SEKISHO_CONF_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_geo.h"
#include "ngx_http_sekisho_geo_rules.h"
#include "ngx_http_sekisho_geo_gate.h"
#include "ngx_http_sekisho_lockout.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_audit.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_jpki.h"
#include "ngx_http_sekisho_jpki_trust.h"
#include "ngx_http_sekisho_session.h"


typedef struct {
    ngx_http_sekisho_geo_db_t      *geo_db;
    ngx_http_sekisho_redis_t       *redis;
    ngx_str_t                       key;           /* HMAC key of ids */
    ngx_array_t                     audit_logs;    /* of audit_t * */
    ngx_http_sekisho_alerts_t      *alerts;
    ngx_http_sekisho_jpki_trust_t   jpki;
    ngx_http_sekisho_session_conf_t session;
} ngx_http_sekisho_main_conf_t;


typedef struct {
    ngx_http_sekisho_gate_conf_t    gate;
    ngx_http_sekisho_login_conf_t   login;
    ngx_http_sekisho_audit_conf_t   audit;
    ngx_http_sekisho_jpki_loc_t     jpki;
} ngx_http_sekisho_loc_conf_t;


/* the module's ctx_index, as nginx numbered it */
extern ngx_uint_t  ngx_http_sekisho_conf_index;


#define ngx_http_sekisho_main_conf(r)                                         \
    ((ngx_http_sekisho_main_conf_t *)                                         \
         (r)->main_conf[ngx_http_sekisho_conf_index])

#define ngx_http_sekisho_loc_conf(r)                                          \
    ((ngx_http_sekisho_loc_conf_t *)                                          \
         (r)->loc_conf[ngx_http_sekisho_conf_index])

#define ngx_http_sekisho_cf_main_conf(cf)                                     \
    ((ngx_http_sekisho_main_conf_t *)                                         \
         ((ngx_http_conf_ctx_t *) (cf)->ctx)                                  \
             ->main_conf[ngx_http_sekisho_conf_index])

#define ngx_http_sekisho_cycle_main_conf(cycle)                               \
    ((cycle)->conf_ctx[ngx_http_module.index]                                 \
     ? (ngx_http_sekisho_main_conf_t *)                                       \
           ((ngx_http_conf_ctx_t *) (cycle)->conf_ctx[ngx_http_module.index]) \
               ->main_conf[ngx_http_sekisho_conf_index]                       \
     : NULL)


#endif /* _NGX_HTTP_SEKISHO_CONF_H_INCLUDED_ */
