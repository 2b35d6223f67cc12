
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_audit.h"
#include "ngx_http_sekisho_metrics.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_audit_chain.h"
#include "ngx_http_sekisho_secret.h"
#include "ngx_http_sekisho_page.h"


/* the longest User-Agent kept in a record */
#define NGX_HTTP_SEKISHO_AUDIT_UA_MAX  256

/* the ECS release whose field names and types the records follow */
#define NGX_HTTP_SEKISHO_AUDIT_ECS                                            \
    "\"ecs.version\":\"8.11.0\",\"event.kind\":\"event\","

#define NGX_HTTP_SEKISHO_AUDIT_OBSERVER                                       \
    ",\"observer.product\":\"Sekisho\",\"observer.type\":\"gateway\""

/* what a request was, as ECS categorises events (ngx_http_sekisho_kinds) */
#define NGX_HTTP_SEKISHO_KIND_REQUEST   0
#define NGX_HTTP_SEKISHO_KIND_COUNTRY   1
#define NGX_HTTP_SEKISHO_KIND_PASSWORD  2
#define NGX_HTTP_SEKISHO_KIND_CARD      3
#define NGX_HTTP_SEKISHO_KIND_LOGOUT    4
#define NGX_HTTP_SEKISHO_KIND_SESSION   5
#define NGX_HTTP_SEKISHO_KIND_SIGNED    6


/* in shared memory: where the chain stands */
typedef struct {
    uint64_t                     seq;
    u_char                       prev[NGX_HTTP_SEKISHO_MAC_HEX];
} ngx_http_sekisho_audit_sh_t;


/*
 * event.action, event.category and event.type (allowed, refused): the
 * types are among those ECS expects of the category
 */
typedef struct {
    ngx_str_t                    action;
    ngx_str_t                    category;
    ngx_str_t                    type[2];
} ngx_http_sekisho_audit_kind_t;


struct ngx_http_sekisho_audit_s {
    ngx_str_t                    path;
    ngx_open_file_t             *file;
    ngx_str_t                    key;
    ngx_shm_zone_t              *zone;
    ngx_shmtx_t                 *mutex;
    ngx_http_sekisho_audit_sh_t *sh;
    ngx_str_t                   *node;         /* the new cycle's */
    time_t                       error_logged;
};



static ngx_int_t ngx_http_sekisho_audit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_sekisho_audit_resume(ngx_http_sekisho_audit_t *audit,
    ngx_log_t *log);
static ngx_int_t ngx_http_sekisho_audit_wanted(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_uint_t events);
static ngx_int_t ngx_http_sekisho_audit_append(
    ngx_http_sekisho_audit_t *audit, u_char *start, u_char *p,
    ngx_log_t *log);
static ngx_uint_t ngx_http_sekisho_audit_kind(ngx_http_sekisho_ctx_t *ctx);
static u_char *ngx_http_sekisho_audit_timestamp(u_char *p);
static u_char *ngx_http_sekisho_audit_date(u_char *p, const char *name,
    time_t t);
static u_char *ngx_http_sekisho_audit_field(u_char *p, const char *name,
    ngx_str_t *value);


static ngx_http_sekisho_audit_kind_t  ngx_http_sekisho_kinds[] = {
    { ngx_string("request"), ngx_string("web"),
      { ngx_string("access"), ngx_string("access") } },
    { ngx_string("country_check"), ngx_string("network"),
      { ngx_string("allowed"), ngx_string("denied") } },
    { ngx_string("password_login"), ngx_string("authentication"),
      { ngx_string("start"), ngx_string("start") } },
    { ngx_string("card_login"), ngx_string("authentication"),
      { ngx_string("start"), ngx_string("start") } },
    { ngx_string("card_logout"), ngx_string("authentication"),
      { ngx_string("end"), ngx_string("end") } },
    { ngx_string("session_check"), ngx_string("session"),
      { ngx_string("info"), ngx_string("info") } },
    { ngx_string("signed_submission"), ngx_string("web"),
      { ngx_string("access"), ngx_string("access") } }
};


static ngx_str_t  ngx_http_sekisho_audit_events[] = {
    ngx_string("deny"),
    ngx_string("decisions"),
    ngx_string("all")
};


/* sekisho_audit_log off | <file> [key=<file>] [events=deny|decisions|all] */

char *
ngx_http_sekisho_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sekisho_audit_conf_t *ac = (void *) ((char *) conf
                                                  + cmd->offset);

    ngx_str_t                      *value, path, key, name;
    ngx_uint_t                      i, j;
    ngx_http_sekisho_audit_t       *audit, **ap;
    ngx_http_sekisho_main_conf_t   *mcf;

    if (ac->log != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0 && cf->args->nelts == 2) {
        ac->log = NULL;
        return NGX_CONF_OK;
    }

    ac->events = NGX_HTTP_SEKISHO_AUDIT_DECISIONS;
    ngx_str_null(&key);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0 && value[i].len > 4) {
            name.data = value[i].data + 4;
            name.len = value[i].len - 4;

            if (ngx_http_sekisho_read_secret(cf, &name, 16, &key) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "events=", 7) == 0) {
            for (j = 0; j < 3; j++) {
                if (value[i].len - 7 == ngx_http_sekisho_audit_events[j].len
                    && ngx_strncmp(value[i].data + 7,
                                   ngx_http_sekisho_audit_events[j].data,
                                   value[i].len - 7) == 0)
                {
                    ac->events = j;
                    break;
                }
            }

            if (j < 3) {
                continue;
            }
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\" directive",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* one chain per file, whatever the number of locations writing to it */

    mcf = ngx_http_sekisho_cf_main_conf(cf);
    ap = mcf->audit_logs.elts;

    for (i = 0; i < mcf->audit_logs.nelts; i++) {
        audit = ap[i];

        if (audit->path.len == path.len
            && ngx_strncmp(audit->path.data, path.data, path.len) == 0)
        {
            if (audit->key.len != key.len
                || ngx_memcmp(audit->key.data, key.data, key.len) != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" \"%V\" is used with another key "
                                   "elsewhere: one file has one chain and "
                                   "one key", &cmd->name, &path);
                return NGX_CONF_ERROR;
            }

            ac->log = audit;
            return NGX_CONF_OK;
        }
    }

    audit = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_audit_t));
    ap = ngx_array_push(&mcf->audit_logs);
    if (audit == NULL || ap == NULL) {
        return NGX_CONF_ERROR;
    }

    *ap = audit;
    audit->path = path;
    audit->key = key;
    audit->node = &cf->cycle->hostname;

    if (key.len == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"%V\" \"%V\" has no key: its chain detects "
                           "edits but not a forger who recomputes it",
                           &cmd->name, &path);
    }

    audit->file = ngx_conf_open_file(cf->cycle, &value[1]);
    if (audit->file == NULL) {
        return NGX_CONF_ERROR;
    }

    name.len = sizeof("sekisho_audit:") - 1 + path.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(name.data, "sekisho_audit:%V", &path);

    /* a slab pool, as nginx expects of every zone, holds the chain */
    audit->zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                        &ngx_http_sekisho_conf_index);
    if (audit->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    audit->zone->init = ngx_http_sekisho_audit_init_zone;
    audit->zone->data = audit;

    ac->log = audit;

    return NGX_CONF_OK;
}


/*
 * On reload the zone is kept and the chain goes on.  On a start, it
 * goes on from the last record of the file, after a record that says
 * the gateway started.
 */

static ngx_int_t
ngx_http_sekisho_audit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t           *shpool;
    ngx_http_sekisho_audit_t  *audit;

    audit = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data == NULL) {
        shpool->data = ngx_slab_calloc(shpool,
                                       sizeof(ngx_http_sekisho_audit_sh_t));
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memset(((ngx_http_sekisho_audit_sh_t *) shpool->data)->prev, '0',
                   NGX_HTTP_SEKISHO_MAC_HEX);
    }

    audit->sh = shpool->data;

    /* the pool's own mutex: nginx frees it if a worker dies holding it */
    audit->mutex = &shpool->mutex;

    if (data == NULL && !ngx_test_config) {
        ngx_http_sekisho_audit_resume(audit, shm_zone->shm.log);
    }

    return NGX_OK;
}


static void
ngx_http_sekisho_audit_resume(ngx_http_sekisho_audit_t *audit, ngx_log_t *log)
{
    u_char           *p, *line, buf[8192], rec[1024];
    off_t             size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         resumed;
    ngx_file_info_t   fi;

    ngx_str_set(&resumed, "new");

    fd = ngx_open_file(audit->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {

        if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
            && ngx_file_size(&fi) > 0)
        {
            size = ngx_min(ngx_file_size(&fi), (off_t) sizeof(buf));
            n = pread(fd, buf, size, ngx_file_size(&fi) - size);

            ngx_str_set(&resumed, "unreadable");

            if (n > 1 && buf[n - 1] == LF) {
                for (line = buf + n - 1; line > buf && line[-1] != LF; line--)
                {
                    /* void */
                }

                if (ngx_http_sekisho_audit_tail(line, buf + n - line,
                                                &audit->sh->seq,
                                                audit->sh->prev)
                    == NGX_OK)
                {
                    ngx_str_set(&resumed, "resumed");
                }
            }
        }

        ngx_close_file(fd);
    }

    /* the record that says the chain (re)starts here, and why */
    p = ngx_cpymem(rec, "{\"@timestamp\":\"", 15);
    p = ngx_http_sekisho_audit_timestamp(p);
    p = ngx_sprintf(p, "\"," NGX_HTTP_SEKISHO_AUDIT_ECS
                    "\"event.category\":\"process\",\"event.type\":\"start\","
                    "\"event.action\":\"audit_start\","
                    "\"event.outcome\":\"success\",\"host.name\":\"%V\""
                    NGX_HTTP_SEKISHO_AUDIT_OBSERVER
                    ",\"sekisho.audit.chain\":\"%V\"", audit->node, &resumed);

    if (ngx_http_sekisho_audit_append(audit, rec, p, log) == NGX_OK
        && resumed.data[0] == 'u')
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "sekisho: the last line of audit log \"%V\" is not a "
                      "record; the chain starts again", &audit->path);
    }
}


/* from the log phase handler, with the main request's context if any */

void
ngx_http_sekisho_audit_request(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    u_char                         *p, *start;
    size_t                          len;
    ngx_str_t                       s, path, ua;
    ngx_uint_t                      upstream;
    ngx_http_sekisho_loc_conf_t    *lcf;
    ngx_http_variable_value_t      *id;
    const ngx_str_t                *decision, *reason;
    ngx_http_sekisho_audit_kind_t  *kind;

    lcf = ngx_http_sekisho_loc_conf(r);

    if (lcf->audit.log == NULL
        || !ngx_http_sekisho_audit_wanted(r, ctx, lcf->audit.events))
    {
        return;
    }

    if (ctx && ctx->decision != NGX_HTTP_SEKISHO_UNDECIDED) {
        decision = ngx_http_sekisho_decision_name(ctx->decision);
        reason = ngx_http_sekisho_reason_name(ctx->reason);

    } else {
        decision = ngx_http_sekisho_decision_name(NGX_HTTP_SEKISHO_ALLOW);
        reason = ngx_http_sekisho_reason_name(
                                      NGX_HTTP_SEKISHO_REASON_GEO_OFF);
    }

    id = ngx_http_get_indexed_variable(r, ngx_http_sekisho_request_id_index);

    /* the path as the client sent it, without the query string */
    path = r->uri;
    if (r->uri_start && r->uri_end) {
        path.data = r->uri_start;
        path.len = (r->args_start ? r->args_start - 1 : r->uri_end)
                   - r->uri_start;
    }

    ngx_str_null(&ua);
    if (r->headers_in.user_agent) {
        ua = r->headers_in.user_agent->value;
        ua.len = ngx_min(ua.len, NGX_HTTP_SEKISHO_AUDIT_UA_MAX);
    }

    upstream = 0;
    if (r->upstream_states && r->upstream_states->nelts) {
        upstream = ((ngx_http_upstream_state_t *)
                    r->upstream_states->elts)[r->upstream_states->nelts - 1]
                   .status;
    }

    kind = &ngx_http_sekisho_kinds[ngx_http_sekisho_audit_kind(ctx)];

    len = sizeof("{\"@timestamp\":\"2026-01-01T00:00:00.000+00:00\"") - 1
          + 1024
          + ngx_cycle->hostname.len
          + (id && !id->not_found ? id->len : 0)
          + r->connection->addr_text.len
          + decision->len + reason->len
          + r->method_name.len
          + ngx_http_sekisho_json_escape_len(path.data, path.len)
          + ngx_http_sekisho_json_escape_len(ua.data, ua.len)
          + (ctx ? ngx_http_sekisho_json_escape_len(ctx->account.data,
                                                     ctx->account.len)
                   + 2 * ngx_http_sekisho_json_escape_len(
                                                     ctx->jpki_issuer.data,
                                                     ctx->jpki_issuer.len)
                   + ctx->jpki_serial.len + ctx->session_id.len
                   + ctx->crl_number.len + 320
                 : 0)
          + NGX_HTTP_SEKISHO_CHAIN_LEN + NGX_HTTP_SEKISHO_SEAL_LEN;

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return;
    }

    p = ngx_cpymem(start, "{\"@timestamp\":\"", 15);
    p = ngx_http_sekisho_audit_timestamp(p);
    p = ngx_cpymem(p, "\"," NGX_HTTP_SEKISHO_AUDIT_ECS,
                   sizeof("\"," NGX_HTTP_SEKISHO_AUDIT_ECS) - 1);

    /* what happened, in ECS's categories, then Sekisho's words for it */
    p = ngx_sprintf(p, "\"event.category\":\"%V\",\"event.type\":\"%V\"",
                    &kind->category,
                    &kind->type[ctx && ctx->decision
                                       == NGX_HTTP_SEKISHO_DENY]);
    p = ngx_http_sekisho_audit_field(p, "event.action", &kind->action);
    p = ngx_http_sekisho_audit_field(p, "event.reason", (ngx_str_t *) reason);

    if (ctx && (ctx->decision == NGX_HTTP_SEKISHO_DENY
                || ctx->decision == NGX_HTTP_SEKISHO_DRYRUN_DENY
                || ctx->reason == NGX_HTTP_SEKISHO_REASON_LOGIN_FAILED))
    {
        ngx_str_set(&s, "failure");

    } else if (ctx && (ctx->reason == NGX_HTTP_SEKISHO_REASON_LOGIN_ERROR
                       || ctx->reason
                          == NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE))
    {
        ngx_str_set(&s, "unknown");

    } else {
        ngx_str_set(&s, "success");
    }

    p = ngx_http_sekisho_audit_field(p, "event.outcome", &s);
    p = ngx_http_sekisho_audit_field(p, "sekisho.decision",
                                     (ngx_str_t *) decision);

    s = ngx_cycle->hostname;
    p = ngx_http_sekisho_audit_field(p, "host.name", &s);
    p = ngx_cpymem(p, NGX_HTTP_SEKISHO_AUDIT_OBSERVER,
                   sizeof(NGX_HTTP_SEKISHO_AUDIT_OBSERVER) - 1);

    if (id && !id->not_found) {
        s.data = id->data;
        s.len = id->len;
        p = ngx_http_sekisho_audit_field(p, "http.request.id", &s);
    }

    p = ngx_http_sekisho_audit_field(p, "source.ip",
                                     &r->connection->addr_text);

    if (ctx && ctx->country) {
        s.data = ctx->country_text;
        s.len = 2;
        p = ngx_http_sekisho_audit_field(p, "source.geo.country_iso_code",
                                         &s);
    }

    /* the country database that placed it (or could not) */
    if (ctx && ctx->geo_build) {
        p = ngx_http_sekisho_audit_date(p, "sekisho.geoip.build",
                                        ctx->geo_build);
    }

    p = ngx_http_sekisho_audit_field(p, "http.request.method",
                                     &r->method_name);
    p = ngx_http_sekisho_audit_field(p, "url.path", &path);

    p = ngx_sprintf(p, ",\"http.response.status_code\":%ui",
                    r->headers_out.status ? r->headers_out.status
                                          : (ngx_uint_t) 0);

    if (upstream) {
        p = ngx_sprintf(p, ",\"sekisho.upstream.status_code\":%ui", upstream);
    }

    if (ctx && ctx->account.len) {
        p = ngx_http_sekisho_audit_field(p, "user.name", &ctx->account);
    }

    /* which card: the certificate, and what its revocation was checked on */
    if (ctx && ctx->jpki_serial.len) {
        p = ngx_http_sekisho_audit_field(p, "tls.client.x509.serial_number",
                                         &ctx->jpki_serial);
    }

    if (ctx && ctx->jpki_issuer.len) {
        p = ngx_http_sekisho_audit_field(p,
                                "tls.client.x509.issuer.distinguished_name",
                                &ctx->jpki_issuer);
    }

    if (ctx && ctx->jpki_not_after) {
        p = ngx_http_sekisho_audit_date(p, "tls.client.x509.not_after",
                                        ctx->jpki_not_after);
    }

    if (ctx && ctx->jpki_revocation && ctx->jpki_revocation <= 3) {
        p = ngx_http_sekisho_audit_field(p, "sekisho.jpki.revocation",
                                         (ngx_str_t *)
                                         ngx_http_sekisho_revocation_name(
                                                   ctx->jpki_revocation - 1));
    }

    if (ctx && ctx->crl_number.len) {
        p = ngx_http_sekisho_audit_field(p, "sekisho.jpki.crl.number",
                                         &ctx->crl_number);

        if (ctx->jpki_issuer.len) {
            p = ngx_http_sekisho_audit_field(p, "sekisho.jpki.crl.issuer",
                                             &ctx->jpki_issuer);
        }

        p = ngx_http_sekisho_audit_date(p, "sekisho.jpki.crl.this_update",
                                        ctx->crl_this_update);
    }

    if (ctx && ctx->session_id.len) {
        p = ngx_http_sekisho_audit_field(p, "sekisho.session.id",
                                         &ctx->session_id);
    }

    if (ua.len) {
        p = ngx_http_sekisho_audit_field(p, "user_agent.original", &ua);
    }

    (void) ngx_http_sekisho_audit_append(lcf->audit.log, start, p,
                                         r->connection->log);
}


/* what a request was: the step Sekisho took, from what it decided */

static ngx_uint_t
ngx_http_sekisho_audit_kind(ngx_http_sekisho_ctx_t *ctx)
{
    ngx_http_sekisho_reason_e  reason;

    if (ctx == NULL || ctx->decision == NGX_HTTP_SEKISHO_UNDECIDED) {
        return NGX_HTTP_SEKISHO_KIND_REQUEST;
    }

    reason = ctx->reason;

    if (reason == NGX_HTTP_SEKISHO_REASON_JPKI_LOGOUT) {
        return NGX_HTTP_SEKISHO_KIND_LOGOUT;
    }

    if (reason >= NGX_HTTP_SEKISHO_REASON_SESSION_OK
        && reason <= NGX_HTTP_SEKISHO_REASON_SESSION_REVOKED)
    {
        return NGX_HTTP_SEKISHO_KIND_SESSION;
    }

    if (ctx->jpki_use == NGX_HTTP_SEKISHO_JPKI_USE_BODY
        || reason == NGX_HTTP_SEKISHO_REASON_JPKI_UNSIGNED
        || reason == NGX_HTTP_SEKISHO_REASON_JPKI_SIGNED_BODY)
    {
        return NGX_HTTP_SEKISHO_KIND_SIGNED;
    }

    if (ctx->jpki_use == NGX_HTTP_SEKISHO_JPKI_USE_LOGIN || ctx->jpki
        || (reason >= NGX_HTTP_SEKISHO_REASON_JPKI_LOGIN_OK
            && reason <= NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS)
        || reason == NGX_HTTP_SEKISHO_REASON_JPKI_WRONG_HOST)
    {
        return NGX_HTTP_SEKISHO_KIND_CARD;
    }

    /* Redis down on a location a card session protects */
    if (ctx->jpki_lcf) {
        return NGX_HTTP_SEKISHO_KIND_SESSION;
    }

    if (ctx->login
        || (reason >= NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED
            && reason <= NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY)
        || reason == NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE
        || reason == NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_ACCOUNT)
    {
        return NGX_HTTP_SEKISHO_KIND_PASSWORD;
    }

    if (reason >= NGX_HTTP_SEKISHO_REASON_GEO_COUNTRY
        && reason <= NGX_HTTP_SEKISHO_REASON_GEO_DENYLIST)
    {
        return NGX_HTTP_SEKISHO_KIND_COUNTRY;
    }

    return NGX_HTTP_SEKISHO_KIND_REQUEST;
}


static ngx_int_t
ngx_http_sekisho_audit_wanted(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_uint_t events)
{
    if (events == NGX_HTTP_SEKISHO_AUDIT_ALL) {
        return 1;
    }

    if (ctx == NULL) {
        return 0;
    }

    if (ctx->decision == NGX_HTTP_SEKISHO_DENY
        || ctx->decision == NGX_HTTP_SEKISHO_DRYRUN_DENY)
    {
        return 1;
    }

    /* "decisions": refusals, and every login attempt and its outcome */
    return events == NGX_HTTP_SEKISHO_AUDIT_DECISIONS
           && ctx->reason >= NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED
           && ctx->reason != NGX_HTTP_SEKISHO_REASON_SESSION_OK;
}


/*
 * Under the zone's lock: the next number, the previous MAC, the seal,
 * one write.  A record that cannot be written leaves the chain as it
 * was, so the file stays verifiable; the loss is logged.
 */

static ngx_int_t
ngx_http_sekisho_audit_append(ngx_http_sekisho_audit_t *audit, u_char *start,
    u_char *p, ngx_log_t *log)
{
    u_char                          *last, mac[NGX_HTTP_SEKISHO_MAC_HEX];
    ssize_t                          n;
    uint64_t                         seq;
    ngx_err_t                        err;
    ngx_http_sekisho_alert_param_t   param;

    ngx_shmtx_lock(audit->mutex);

    seq = audit->sh->seq + 1;

    p = ngx_http_sekisho_audit_chain(p, seq, audit->sh->prev);
    last = ngx_http_sekisho_audit_seal(start, p, &audit->key, mac);

    n = last ? ngx_write_fd(audit->file->fd, start, last - start) : -1;
    err = ngx_errno;

    if (last && n == last - start) {
        audit->sh->seq = seq;
        ngx_memcpy(audit->sh->prev, mac, NGX_HTTP_SEKISHO_MAC_HEX);
    }

    ngx_shmtx_unlock(audit->mutex);

    if (last && n == last - start) {
        ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_AUDIT_RECORDS);
        return NGX_OK;
    }

    ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_AUDIT_ERRORS);

    /* the SOC hears of it once a minute at most */
    param.name = "file";
    param.value = audit->path;
    ngx_http_sekisho_alert_once(NGX_HTTP_SEKISHO_ALERT_AUDIT_WRITE_FAILED,
                                (uint64_t) ngx_time() / 60, &param, 1);

    /* at most one line a second, not one per request */
    if (audit->error_logged != ngx_time()) {
        audit->error_logged = ngx_time();

        ngx_log_error(NGX_LOG_ERR, log, n == -1 ? err : 0,
                      "sekisho: audit log \"%V\" write failed (%z of %z "
                      "bytes), the record is lost", &audit->path,
                      n, last ? last - start : 0);
    }

    return NGX_ERROR;
}


/* RFC 3339 with milliseconds and the offset: 2026-11-24T13:05:01.123+09:00 */

static u_char *
ngx_http_sekisho_audit_timestamp(u_char *p)
{
    ngx_tm_t     tm;
    ngx_int_t    off;
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    off = tp->gmtoff;
    ngx_gmtime(tp->sec + off * 60, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02d.%03M%c%02i:%02i",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                       tp->msec, off < 0 ? '-' : '+',
                       ngx_abs(off / 60), ngx_abs(off % 60));
}


/* a date of the data a decision used, in UTC: 2026-11-01T00:00:00Z */

static u_char *
ngx_http_sekisho_audit_date(u_char *p, const char *name, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, ",\"%s\":\"%4d-%02d-%02dT%02d:%02d:%02dZ\"", name,
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}


static u_char *
ngx_http_sekisho_audit_field(u_char *p, const char *name, ngx_str_t *value)
{
    *p++ = ',';
    *p++ = '"';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '"';
    *p++ = ':';
    *p++ = '"';
    p = ngx_http_sekisho_json_escape(p, value->data, value->len);
    *p++ = '"';

    return p;
}
