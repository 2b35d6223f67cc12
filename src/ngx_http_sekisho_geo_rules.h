
/*
 * Copyright (C) Sekisho authors
 *
 * The geo gate's rules as pure functions: they take facts already
 * gathered (list matches, the database's answer) and return a verdict,
 * so unit tests can exercise every precedence without nginx or a
 * database.
 */


#ifndef _NGX_HTTP_SEKISHO_GEO_RULES_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_GEO_RULES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_reason.h"


/* the deepest lookup path accepted by "sekisho_geoip_db ... path=" */
#define NGX_HTTP_SEKISHO_GEO_PATH_MAX  8


/* what is known about a client address before the verdict */
typedef struct {
    uint16_t                    country;    /* packed code, 0 if unknown */
    unsigned                    in_deny:1;
    unsigned                    in_allow:1;
} ngx_http_sekisho_geo_facts_t;


typedef struct {
    uint16_t                   *countries;  /* allowed, packed codes */
    ngx_uint_t                  ncountries;
    unsigned                    unknown_allow:1;
    unsigned                    dry_run:1;
} ngx_http_sekisho_geo_policy_t;


ngx_http_sekisho_decision_e ngx_http_sekisho_geo_decide(
    ngx_http_sekisho_geo_facts_t *facts,
    ngx_http_sekisho_geo_policy_t *policy,
    ngx_http_sekisho_reason_e *reason);

uint16_t ngx_http_sekisho_country_pack(const u_char *s, size_t len);
void ngx_http_sekisho_country_unpack(uint16_t code, u_char *out);

ngx_int_t ngx_http_sekisho_geo_split_path(u_char *buf, size_t len,
    const char **out, ngx_uint_t n);

struct sockaddr *ngx_http_sekisho_unmap_v4(struct sockaddr *sa,
    struct sockaddr_in *sin);


#endif /* _NGX_HTTP_SEKISHO_GEO_RULES_H_INCLUDED_ */
