
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_geo.h"
#include "ngx_http_sekisho_geo_gate.h"
#include "ngx_http_sekisho_geo_rules.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_reason.h"


/* the default reload interval of "sekisho_geoip_db" */
#define NGX_HTTP_SEKISHO_GEO_RELOAD     60000


#if (NGX_HAVE_UNIX_DOMAIN)
static ngx_uint_t ngx_http_sekisho_gate_unix(ngx_array_t *list);
#endif


ngx_int_t
ngx_http_sekisho_gate(ngx_http_request_t *r, ngx_http_sekisho_gate_conf_t *g)
{
    u_char                         cc[2];
    struct sockaddr               *sa;
    struct sockaddr_in             sin;
    const ngx_str_t               *reason;
    ngx_http_sekisho_ctx_t        *ctx;
    ngx_http_sekisho_geo_facts_t   facts;

    ctx = ngx_http_sekisho_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sa = ngx_http_sekisho_unmap_v4(r->connection->sockaddr, &sin);

    ngx_memzero(&facts, sizeof(ngx_http_sekisho_geo_facts_t));

#if (NGX_HAVE_UNIX_DOMAIN)
    if (sa->sa_family == AF_UNIX) {
        /* "unix:" in a list, as nginx's "allow unix:" */
        facts.in_deny = ngx_http_sekisho_gate_unix(g->deny);
        facts.in_allow = ngx_http_sekisho_gate_unix(g->allow);

    } else
#endif
    {
        facts.in_deny = (g->deny && ngx_cidr_match(sa, g->deny) == NGX_OK);
        facts.in_allow = (g->allow
                          && ngx_cidr_match(sa, g->allow) == NGX_OK);
    }

    facts.country = ngx_http_sekisho_country(r, ctx);

    ctx->decision = ngx_http_sekisho_geo_decide(&facts, &g->policy,
                                                &ctx->reason);

    if (ctx->decision == NGX_HTTP_SEKISHO_ALLOW) {
        return NGX_DECLINED;
    }

    reason = ngx_http_sekisho_reason_name(ctx->reason);

    if (facts.country) {
        ngx_http_sekisho_country_unpack(facts.country, cc);
    } else {
        cc[0] = '-';
        cc[1] = '-';
    }

    if (ctx->decision == NGX_HTTP_SEKISHO_DRYRUN_DENY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sekisho: dry run, would refuse %V, reason: %V, "
                      "country: %*s", &r->connection->addr_text, reason,
                      (size_t) 2, cc);
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: refused %V, reason: %V, country: %*s",
                  &r->connection->addr_text, reason, (size_t) 2, cc);

    if (ctx->reason != NGX_HTTP_SEKISHO_REASON_GEO_DENYLIST) {
        ngx_http_sekisho_alert_refusal(sa, &r->connection->addr_text);
    }

    return ngx_http_sekisho_refuse(r, NGX_HTTP_FORBIDDEN,
                                   NGX_HTTP_SEKISHO_PAGE_GEO, NULL);
}


/* looked up once per request, for the gate and for $sekisho_country */

uint16_t
ngx_http_sekisho_country(ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx)
{
    uint16_t                       code;
    struct sockaddr               *sa;
    struct sockaddr_in             sin;
    ngx_http_sekisho_main_conf_t  *mcf;

    if (ctx->looked_up) {
        return ctx->country;
    }

    ctx->looked_up = 1;

    mcf = ngx_http_sekisho_main_conf(r);

    if (mcf->geo_db == NULL) {
        return 0;
    }

    /* the database that answers, for the audit record */
    ctx->geo_build = ngx_http_sekisho_geo_build(mcf->geo_db);

    sa = ngx_http_sekisho_unmap_v4(r->connection->sockaddr, &sin);

    if (ngx_http_sekisho_geo_lookup(mcf->geo_db, sa, r->connection->log,
                                    &code)
        != NGX_OK)
    {
        return 0;
    }

    ctx->country = code;
    ngx_http_sekisho_country_unpack(code, ctx->country_text);

    return code;
}


/*
 * sekisho_geoip_db <file> [reload=<time>|off] [path=<field path>]
 *                  [max_age=<time> [stale=alert|refuse]]
 */

char *
ngx_http_sekisho_gate_db_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    time_t                       max_age;
    ngx_str_t                   *value, path, s, age;
    ngx_msec_t                   reload;
    ngx_uint_t                   i, refuse, stale;
    ngx_http_sekisho_geo_db_t  **db;

    db = (ngx_http_sekisho_geo_db_t **) (p + cmd->offset);

    if (*db) {
        return "is duplicate";
    }

    value = cf->args->elts;

    reload = NGX_HTTP_SEKISHO_GEO_RELOAD;
    ngx_str_null(&path);
    ngx_str_null(&age);
    max_age = 0;
    refuse = 0;
    stale = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "reload=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                reload = 0;
                continue;
            }

            reload = ngx_parse_time(&s, 0);
            if (reload == (ngx_msec_t) NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            age.data = value[i].data + 8;
            age.len = value[i].len - 8;

            max_age = ngx_parse_time(&age, 1);
            if (max_age == (time_t) NGX_ERROR || max_age == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "stale=alert") == 0
            || ngx_strcmp(value[i].data, "stale=refuse") == 0)
        {
            refuse = (value[i].data[6] == 'r');
            stale = i;
            continue;
        }

        if (ngx_strncmp(value[i].data, "path=", 5) == 0) {
            path.data = value[i].data + 5;
            path.len = value[i].len - 5;

            if (path.len == 0) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (stale && max_age == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" in \"%V\" directive requires "
                           "\"max_age=\"", &value[stale], &cmd->name);
        return NGX_CONF_ERROR;
    }

    *db = ngx_http_sekisho_geo_db_create(cf, &value[1], reload, &path);

    if (*db == NULL) {
        return NGX_CONF_ERROR;
    }

    if (max_age
        && ngx_http_sekisho_geo_db_max_age(cf, *db, max_age, &age, refuse)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive",
                       &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


#if (NGX_HAVE_UNIX_DOMAIN)

static ngx_uint_t
ngx_http_sekisho_gate_unix(ngx_array_t *list)
{
    ngx_uint_t   i;
    ngx_cidr_t  *cidr;

    if (list == NULL) {
        return 0;
    }

    cidr = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (cidr[i].family == AF_UNIX) {
            return 1;
        }
    }

    return 0;
}

#endif


/* sekisho_geo_countries <code>...: ISO 3166 two-letter codes */

char *
ngx_http_sekisho_gate_countries_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    uint16_t      *code;
    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_array_t  **countries;

    countries = (ngx_array_t **) (p + cmd->offset);

    if (*countries != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *countries = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                  sizeof(uint16_t));
    if (*countries == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        code = ngx_array_push(*countries);
        if (code == NULL) {
            return NGX_CONF_ERROR;
        }

        *code = ngx_http_sekisho_country_pack(value[i].data, value[i].len);

        if (*code == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid country code \"%V\" in \"%V\" "
                               "directive, it must be an ISO 3166 two-letter "
                               "code such as \"JP\"", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "sekisho_geo_allow" and "sekisho_geo_deny": addresses and networks */

char *
ngx_http_sekisho_gate_cidrs_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_int_t     rc;
    ngx_str_t    *value;
    ngx_uint_t    i;
    ngx_cidr_t   *cidr;
    ngx_array_t **list;

    list = (ngx_array_t **) (p + cmd->offset);

    if (*list == NGX_CONF_UNSET_PTR) {
        *list = ngx_array_create(cf->pool, 4, sizeof(ngx_cidr_t));
        if (*list == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        cidr = ngx_array_push(*list);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

#if (NGX_HAVE_UNIX_DOMAIN)
        /* clients on UNIX sockets: an entry of that family only */
        if (value[i].len == 5 && ngx_strncmp(value[i].data, "unix:", 5) == 0)
        {
            ngx_memzero(cidr, sizeof(ngx_cidr_t));
            cidr->family = AF_UNIX;
            continue;
        }
#endif

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address or network \"%V\" in \"%V\" "
                               "directive", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless in "
                               "\"%V\" directive", &value[i], &cmd->name);
        }
    }

    return NGX_CONF_OK;
}


void
ngx_http_sekisho_gate_create(ngx_http_sekisho_gate_conf_t *g)
{
    /*
     * set by ngx_pcalloc():
     *
     *     g->policy = { NULL, 0, 0, 0 };
     */

    g->enable = NGX_CONF_UNSET;
    g->countries = NGX_CONF_UNSET_PTR;
    g->allow = NGX_CONF_UNSET_PTR;
    g->deny = NGX_CONF_UNSET_PTR;
    g->unknown = NGX_CONF_UNSET_UINT;
    g->dry_run = NGX_CONF_UNSET;
}


char *
ngx_http_sekisho_gate_merge(ngx_conf_t *cf, ngx_http_sekisho_gate_conf_t *prev,
    ngx_http_sekisho_gate_conf_t *conf, ngx_http_sekisho_geo_db_t *db)
{
    uint16_t  *code;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->countries, prev->countries, NULL);
    ngx_conf_merge_ptr_value(conf->allow, prev->allow, NULL);
    ngx_conf_merge_ptr_value(conf->deny, prev->deny, NULL);
    ngx_conf_merge_uint_value(conf->unknown, prev->unknown,
                              NGX_HTTP_SEKISHO_GATE_UNKNOWN_DENY);
    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);

    /* the default allowed country set: Japan */
    if (conf->countries == NULL) {
        conf->countries = ngx_array_create(cf->pool, 1, sizeof(uint16_t));
        if (conf->countries == NULL) {
            return NGX_CONF_ERROR;
        }

        code = ngx_array_push(conf->countries);
        if (code == NULL) {
            return NGX_CONF_ERROR;
        }

        *code = ngx_http_sekisho_country_pack((u_char *) "JP", 2);
    }

    conf->policy.countries = conf->countries->elts;
    conf->policy.ncountries = conf->countries->nelts;
    conf->policy.unknown_allow =
                      (conf->unknown == NGX_HTTP_SEKISHO_GATE_UNKNOWN_ALLOW);
    conf->policy.dry_run = conf->dry_run ? 1 : 0;

    if (conf->enable && db == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho on\" requires \"sekisho_geoip_db\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
