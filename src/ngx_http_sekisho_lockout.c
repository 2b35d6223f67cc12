
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_body.h"
#include "ngx_http_sekisho_geo_rules.h"
#include "ngx_http_sekisho_lockout.h"
#include "ngx_http_sekisho_metrics.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_account.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_request.h"
#include "ngx_http_sekisho_secret.h"


/* the states of a login attempt in ngx_http_sekisho_ctx_t */
#define NGX_HTTP_SEKISHO_LOGIN_START    0
#define NGX_HTTP_SEKISHO_LOGIN_BODY     1
#define NGX_HTTP_SEKISHO_LOGIN_WAITING  2
#define NGX_HTTP_SEKISHO_LOGIN_VERDICT  3
#define NGX_HTTP_SEKISHO_LOGIN_DONE     4

/* Retry-After when Redis cannot answer */
#define NGX_HTTP_SEKISHO_UNAVAILABLE_RETRY  10

#define NGX_HTTP_SEKISHO_DAY            (24 * 60 * 60 * 1000)


static void ngx_http_sekisho_login_cleanup(void *data);
static ngx_int_t ngx_http_sekisho_login_reserve(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_login_refused(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_int_t status,
    ngx_http_sekisho_login_read_t *rd);
static ngx_http_sekisho_attempt_t *ngx_http_sekisho_login_attempt(
    ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx, ngx_str_t *account);
static void ngx_http_sekisho_login_reserved(void *data,
    ngx_http_sekisho_reservation_t *res);
static ngx_int_t ngx_http_sekisho_login_verdict(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_login_unavailable(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_login_account_header(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_retry_after(ngx_http_request_t *r,
    ngx_msec_t ms);
static void ngx_http_sekisho_login_conclude(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t status, ngx_list_t *headers);
static ngx_uint_t ngx_http_sekisho_login_decide(
    ngx_http_sekisho_login_conf_t *lc, ngx_uint_t status,
    ngx_list_t *headers);
static void ngx_http_sekisho_login_settle(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t outcome);
static void ngx_http_sekisho_login_terminate(void *data);


/* a card login has no account id: only its address is limited */
static ngx_http_sekisho_account_source_t  ngx_http_sekisho_no_account = {
    NGX_HTTP_SEKISHO_SRC_NONE, ngx_null_string, ngx_null_string,
    ngx_null_string, ngx_null_string, NULL, NULL, 0
};

static ngx_http_sekisho_limit_t  ngx_http_sekisho_no_limit = { 0, 0, 0 };


#define ngx_http_sekisho_account_limit(lc)                                    \
    (((lc)->account == &ngx_http_sekisho_no_account)                          \
     ? &ngx_http_sekisho_no_limit : &(lc)->account_limit)


ngx_int_t
ngx_http_sekisho_lockout_init(ngx_conf_t *cf)
{
    return ngx_http_sekisho_attempt_init();
}


void
ngx_http_sekisho_lockout_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_sekisho_attempt_init_worker(cycle);
}


void
ngx_http_sekisho_lockout_exit_worker(void)
{
    ngx_http_sekisho_attempt_exit_worker();
}


/* the phase handler of login locations */

ngx_int_t
ngx_http_sekisho_login_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_sekisho_ctx_t             *ctx;
    ngx_http_sekisho_loc_conf_t        *lcf;
    ngx_http_sekisho_account_source_t  *src;

    ctx = ngx_http_sekisho_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->login_state) {

    case NGX_HTTP_SEKISHO_LOGIN_START:
        lcf = ngx_http_sekisho_loc_conf(r);

        ctx->login = &lcf->login;
        ctx->attempts_left = -1;
        src = ctx->login->account;

        if (src->type == NGX_HTTP_SEKISHO_SRC_NONE
            && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)))
        {
            ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
            ctx->login_rc = NGX_DECLINED;
            return NGX_DECLINED;
        }

        if (ngx_http_sekisho_login_source_body(r, src)) {
            ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_BODY;
            goto body;
        }

        goto reserve;

    case NGX_HTTP_SEKISHO_LOGIN_BODY:

    body:

        /* the body stays in r->request_body for the upstream */
        rc = ngx_http_sekisho_body_read(r, ctx);

        if (rc == NGX_DONE) {
            return NGX_DONE;
        }

        if (rc != NGX_OK) {
            ctx->decision = NGX_HTTP_SEKISHO_DENY;
            ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY;
            ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
            ctx->login_rc = rc;
            return rc;
        }

    reserve:

        /* a refusal may free the request: its state is set first */
        ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
        ctx->login_rc = NGX_DONE;
        ctx->login_upstream = r->upstream;

        rc = ngx_http_sekisho_login_reserve(r, ctx);

        if (rc != NGX_DONE) {
            ctx->login_rc = rc;
        }

        return rc;

    case NGX_HTTP_SEKISHO_LOGIN_VERDICT:
        ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
        ctx->login_rc = ngx_http_sekisho_login_verdict(r, ctx);
        return ctx->login_rc;

    case NGX_HTTP_SEKISHO_LOGIN_DONE:
        return ctx->login_rc;

    default:
        /* reading or waiting: phases run again only when that ends */
        return NGX_DONE;
    }
}


/*
 * Finds the account id and reserves an attempt.  The request waits for
 * Redis (NGX_DONE, state WAITING); the worker goes on.
 */

static ngx_int_t
ngx_http_sekisho_login_reserve(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                       account;
    ngx_http_cleanup_t             *cln;
    ngx_pool_cleanup_t             *pcln;
    ngx_http_sekisho_attempt_t     *a;
    ngx_http_sekisho_login_conf_t  *lc;
    ngx_http_sekisho_login_read_t   rd;

    lc = ctx->login;

    if (lc->account == &ngx_http_sekisho_no_account) {
        ngx_str_set(&account, "-");

    } else {
        rc = ngx_http_sekisho_login_source_find(r, lc->account, &rd);

        if (rc == NGX_DECLINED || rc == NGX_HTTP_INTERNAL_SERVER_ERROR) {
            return rc;
        }

        if (rc != NGX_OK) {
            return ngx_http_sekisho_login_refused(r, ctx, rc, &rd);
        }

        account = rd.account;
        ctx->account = rd.account;
        ctx->no_clear = rd.from_query;
    }

    /* the request ends with its pool; the attempt may go on alone */
    a = ngx_http_sekisho_login_attempt(r, ctx, &account);
    if (a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->attempt = a;

    /* when the request's pool goes, however the request ended */
    pcln = ngx_pool_cleanup_add(r->pool, 0);
    if (pcln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pcln->handler = ngx_http_sekisho_login_cleanup;
    pcln->data = ctx;

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sekisho_login_terminate;
    cln->data = a;

    if (ngx_http_sekisho_attempt_reserve(a, ngx_http_sekisho_login_reserved,
                                         ctx)
        != NGX_OK)
    {
        return ngx_http_sekisho_login_unavailable(r, ctx);
    }

    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_WAITING;

    /* a client that leaves meanwhile ends the request at once */
    r->main->count++;
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_DONE;
}


/* a login the gateway cannot read one way only: it never goes on */

static ngx_int_t
ngx_http_sekisho_login_refused(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_int_t status,
    ngx_http_sekisho_login_read_t *rd)
{
    u_char           *p;
    ngx_str_t         detail;
    const ngx_str_t  *reason;

    ctx->decision = NGX_HTTP_SEKISHO_DENY;
    ctx->reason = rd->reason;

    reason = ngx_http_sekisho_reason_name(ctx->reason);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: login refused with %i, reason: %V (%s)",
                  status, reason, rd->why ? rd->why : "-");

    if (ngx_http_sekisho_wants_json(r)) {
        return ngx_http_sekisho_refuse_json(r, status, reason, NULL);
    }

    p = ngx_pnalloc(r->pool, 64 + reason->len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    detail.data = p;
    detail.len = ngx_sprintf(p, "理由 / Reason: %V", reason) - p;

    return ngx_http_sekisho_refuse(r, status, NGX_HTTP_SEKISHO_PAGE_BAD_LOGIN,
                                   &detail);
}


/* an IPv4 client counts by its address, an IPv6 client by its /64 */

static ngx_http_sekisho_attempt_t *
ngx_http_sekisho_login_attempt(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_str_t *account)
{
    u_char                         buf[17];
    ngx_str_t                      addr;
    struct sockaddr               *sa;
    struct sockaddr_in             sin;
    ngx_http_sekisho_main_conf_t  *mcf;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6           *sin6;
#endif

    mcf = ngx_http_sekisho_main_conf(r);

    sa = ngx_http_sekisho_unmap_v4(r->connection->sockaddr, &sin);
    addr.data = buf;

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        buf[0] = '6';
        ngx_memcpy(&buf[1], sin6->sin6_addr.s6_addr, 8);
        addr.len = 9;
        break;
#endif

    case AF_INET:
        buf[0] = '4';
        ngx_memcpy(&buf[1], &((struct sockaddr_in *) sa)->sin_addr, 4);
        addr.len = 5;
        break;

    default:
        buf[0] = 'u';
        addr.len = 1;
        break;
    }

    return ngx_http_sekisho_attempt_create(mcf->redis, &mcf->key, account,
                                           &addr,
                                           &r->connection->addr_text,
                                           ngx_http_sekisho_account_limit(
                                                                  ctx->login),
                                           &ctx->login->ip_limit,
                                           r->connection->log);
}


/* Redis answered the reservation (or did not): wake the request up */

static void
ngx_http_sekisho_login_reserved(void *data,
    ngx_http_sekisho_reservation_t *res)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_VERDICT;
    ctx->attempts_left = res->attempts_left;
    ctx->retry_after = res->retry_after;

    switch (res->result) {

    case NGX_HTTP_SEKISHO_RESERVED:
        ctx->reserved = 1;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_NONE;
        break;

    case NGX_HTTP_SEKISHO_ACCOUNT_LOCKED:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED;
        break;

    case NGX_HTTP_SEKISHO_IP_LOCKED:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_IP_LOCKED;
        break;

    default:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE;
        break;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);

    /* the reference taken while waiting */
    ngx_http_finalize_request(r, NGX_DONE);

    ngx_http_run_posted_requests(c);
}


/* back in the access phase with Redis's answer */

static ngx_int_t
ngx_http_sekisho_login_verdict(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    u_char      *p;
    ngx_str_t    detail;
    ngx_uint_t   minutes;

    switch (ctx->reason) {

    case NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE:
        return ngx_http_sekisho_login_unavailable(r, ctx);

    case NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED:
    case NGX_HTTP_SEKISHO_REASON_IP_LOCKED:
        break;

    default:
        ctx->decision = NGX_HTTP_SEKISHO_ALLOW;

        if (ngx_http_sekisho_login_account_header(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    ctx->decision = NGX_HTTP_SEKISHO_DENY;

    if (ctx->reason == NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED) {
        ngx_http_sekisho_metrics_locked(
                           ngx_http_sekisho_attempt_account_hash(ctx->attempt),
                           ctx->retry_after);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: login refused, reason: %V, retry after %M ms",
                  ngx_http_sekisho_reason_name(ctx->reason),
                  ctx->retry_after);

    if (ngx_http_sekisho_retry_after(r, ctx->retry_after) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the same words for a known and an unknown account */
    minutes = (ctx->retry_after + 59999) / 60000;

    p = ngx_pnalloc(r->pool, 256);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    detail.data = p;
    detail.len = ngx_snprintf(p, 256,
                              "約 %ui 時間 %ui 分後に再びお試しいただけます。"
                              " / You can try again in about %ui h %ui min.",
                              minutes / 60, minutes % 60,
                              minutes / 60, minutes % 60)
                 - p;

    return ngx_http_sekisho_refuse(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                   NGX_HTTP_SEKISHO_PAGE_LOCKED, &detail);
}


/* "sekisho_redis_failure": closed answers 503, open lets the login by */

static ngx_int_t
ngx_http_sekisho_login_unavailable(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    ctx->reason = NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE;

    if (ctx->login->redis_failure == NGX_HTTP_SEKISHO_REDIS_OPEN) {
        ctx->decision = NGX_HTTP_SEKISHO_ALLOW;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: redis unavailable, login let through "
                      "unchecked (sekisho_redis_failure open)");

        if (ngx_http_sekisho_login_account_header(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    ctx->decision = NGX_HTTP_SEKISHO_DENY;

    /* the outage itself is logged once, as an error, by the client */
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "sekisho: redis unavailable, login refused with 503 "
                  "(sekisho_redis_failure closed)");

    if (ngx_http_sekisho_retry_after(r,
                                     NGX_HTTP_SEKISHO_UNAVAILABLE_RETRY * 1000)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_sekisho_refuse(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   NGX_HTTP_SEKISHO_PAGE_UNAVAILABLE, NULL);
}


/*
 * The application is told which account the gateway counted, so that
 * it can refuse to check a password for any other one.  A client's own
 * X-Sekisho-* headers were removed before anything read them.
 */

static ngx_int_t
ngx_http_sekisho_login_account_header(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    ngx_str_t  v;

    if (ctx->account.len == 0) {
        return NGX_OK;
    }

    v.data = ngx_pnalloc(r->pool, 3 * ctx->account.len);
    if (v.data == NULL) {
        return NGX_ERROR;
    }

    v.len = ngx_http_sekisho_account_escape(v.data, &ctx->account);

    return ngx_http_sekisho_push_header(r, "X-Sekisho-Login-Account", &v);
}


static ngx_int_t
ngx_http_sekisho_retry_after(ngx_http_request_t *r, ngx_msec_t ms)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%M", (ms + 999) / 1000)
                   - h->value.data;

    return NGX_OK;
}


/*
 * From the header filter: the upstream's status (or header) tells
 * whether the password was right.  The update is sent without holding
 * up the response, and completes even if the client has gone.
 */

void
ngx_http_sekisho_login_outcome(ngx_http_request_t *r)
{
    ngx_http_sekisho_ctx_t  *ctx;

    if (r != r->main) {
        return;
    }

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL || !ctx->reserved || ctx->settled) {
        return;
    }

    if (ctx->card_outcome) {
        /* a card login: the gateway itself knows how it went */
        ngx_http_sekisho_login_settle(ctx, ctx->card_outcome - 1);
        return;
    }

    ngx_http_sekisho_login_conclude(ctx, r->headers_out.status,
                                    &r->headers_out.headers);
}


/*
 * The rewrite phase of the location an internal redirect takes a login
 * request to, before anything there can answer it ("return") or ask
 * the application again.  If the application has answered
 * (proxy_intercept_errors and error_page take its answer to another
 * location), that answer settles the attempt now: the page the client
 * is shown instead, often a 200, says nothing about the password.  An
 * answer that asked for the redirect itself (X-Accel-Redirect) hands
 * the verdict on to the location it names, as does a redirect before
 * the application was asked (try_files): the final answer settles
 * those, in the header filter.  An application asked but never heard
 * from (an error_page for 502) settles nothing either way.
 */

ngx_int_t
ngx_http_sekisho_login_redirected(ngx_http_request_t *r)
{
    ngx_http_upstream_t     *u;
    ngx_http_sekisho_ctx_t  *ctx;

    if (!r->internal || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL || !ctx->reserved || ctx->settled || ctx->card_outcome) {
        return NGX_DECLINED;
    }

    u = r->upstream;

    if (u == NULL
        || u == ctx->login_upstream
        || u->headers_in.x_accel_redirect)
    {
        return NGX_DECLINED;
    }

    /* asked and never answered (status 0: a 502 page): says nothing */
    ngx_http_sekisho_login_conclude(ctx, u->headers_in.status_n,
                                    &u->headers_in.headers);

    return NGX_DECLINED;
}


static void
ngx_http_sekisho_login_conclude(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t status, ngx_list_t *headers)
{
    ngx_uint_t  outcome;

    outcome = ngx_http_sekisho_login_decide(ctx->login, status, headers);

    switch (outcome) {

    case NGX_HTTP_SEKISHO_OUTCOME_OK:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_OK;

        /* a page fetched with an id in its query says nothing either */
        if (ctx->no_clear) {
            outcome = NGX_HTTP_SEKISHO_OUTCOME_NONE;
        }

        break;

    case NGX_HTTP_SEKISHO_OUTCOME_FAIL:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_FAILED;
        break;

    default:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_ERROR;
        break;
    }

    ngx_http_sekisho_login_settle(ctx, outcome);
}


static ngx_uint_t
ngx_http_sekisho_login_decide(ngx_http_sekisho_login_conf_t *lc,
    ngx_uint_t status, ngx_list_t *headers)
{
    ngx_uint_t  i, *failure;

    failure = lc->failure_status->elts;

    for (i = 0; i < lc->failure_status->nelts; i++) {
        if (failure[i] == status) {
            return NGX_HTTP_SEKISHO_OUTCOME_FAIL;
        }
    }

    if (lc->failure_header.len
        && ngx_http_sekisho_find_header(headers, &lc->failure_header,
                                        lc->failure_value.len
                                        ? &lc->failure_value : NULL))
    {
        return NGX_HTTP_SEKISHO_OUTCOME_FAIL;
    }

    if (status >= 200 && status < 400) {
        return NGX_HTTP_SEKISHO_OUTCOME_OK;
    }

    /* an error of the upstream says nothing about the password */
    return NGX_HTTP_SEKISHO_OUTCOME_NONE;
}


static void
ngx_http_sekisho_login_settle(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t outcome)
{
    ctx->settled = 1;
    ngx_http_sekisho_attempt_settle(ctx->attempt, outcome);
}


/*
 * The request ends, also while it waits for Redis: a reservation in
 * flight is left to its reply, which refunds it.
 */

static void
ngx_http_sekisho_login_terminate(void *data)
{
    ngx_http_sekisho_attempt_t *a = data;

    ngx_http_sekisho_attempt_forget(a);
}


/*
 * From the request's pool cleanup: a reservation the upstream never
 * answered (the client went away first) is refunded, not counted.
 */

static void
ngx_http_sekisho_login_cleanup(void *data)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    ngx_http_sekisho_attempt_t  *a;

    a = ctx->attempt;

    if (a == NULL) {
        return;
    }

    ctx->attempt = NULL;
    ngx_http_sekisho_attempt_forget(a);

    if (ctx->reserved && !ctx->settled) {
        ctx->settled = 1;
        ngx_http_sekisho_attempt_settle(a, NGX_HTTP_SEKISHO_OUTCOME_NONE);
    }

    ngx_http_sekisho_attempt_release(a);
}


/* sekisho_login_failure [status=401,403] [header=Name[:value]] */

char *
ngx_http_sekisho_login_failure(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_login_conf_t *lc = (void *) ((char *) conf + cmd->offset);

    u_char      *p, *last, *comma;
    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i, *status;

    if (lc->failure_status != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lc->failure_status = ngx_array_create(cf->pool, 2, sizeof(ngx_uint_t));
    if (lc->failure_status == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "status=", 7) == 0) {
            p = value[i].data + 7;
            last = value[i].data + value[i].len;

            while (p < last) {
                comma = ngx_strlchr(p, last, ',');
                if (comma == NULL) {
                    comma = last;
                }

                n = ngx_atoi(p, comma - p);
                if (n < 100 || n > 599) {
                    goto invalid;
                }

                status = ngx_array_push(lc->failure_status);
                if (status == NULL) {
                    return NGX_CONF_ERROR;
                }

                *status = n;
                p = comma + 1;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "header=", 7) == 0
            && value[i].len > 7)
        {
            p = value[i].data + 7;
            last = value[i].data + value[i].len;
            comma = ngx_strlchr(p, last, ':');

            lc->failure_header.data = p;
            lc->failure_header.len = (comma ? comma : last) - p;

            if (comma) {
                lc->failure_value.data = comma + 1;
                lc->failure_value.len = last - comma - 1;
            }

            if (lc->failure_header.len == 0) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (lc->failure_status->nelts == 0 && lc->failure_header.len == 0) {
        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive",
                       &value[i < cf->args->nelts ? i : 1], &cmd->name);

    return NGX_CONF_ERROR;
}


/* sekisho_lockout account|ip [attempts=N] [window=time] [lock=time] | off */

char *
ngx_http_sekisho_lockout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sekisho_login_conf_t *lc = (void *) ((char *) conf + cmd->offset);

    ngx_int_t                  n;
    ngx_str_t                 *value, s;
    ngx_uint_t                 i;
    ngx_msec_t                 t;
    ngx_http_sekisho_limit_t  *l;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "account") == 0) {
        l = &lc->account_limit;

    } else if (ngx_strcmp(value[1].data, "ip") == 0) {
        l = &lc->ip_limit;

    } else {
        i = 1;
        goto invalid;
    }

    if (l->attempts != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    /* the rule of the service: 5 failures in 24 hours lock for 24 hours */
    l->attempts = 5;
    l->window = NGX_HTTP_SEKISHO_DAY;
    l->lock = NGX_HTTP_SEKISHO_DAY;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "off") == 0 && cf->args->nelts == 3) {
            l->attempts = 0;
            return NGX_CONF_OK;
        }

        if (ngx_strncmp(value[i].data, "attempts=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);
            if (n < 1 || n > 1000000) {
                goto invalid;
            }

            l->attempts = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "window=", 7) == 0
            || ngx_strncmp(value[i].data, "lock=", 5) == 0)
        {
            s.data = ngx_strlchr(value[i].data, value[i].data + value[i].len,
                                 '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            t = ngx_parse_time(&s, 0);
            if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
                goto invalid;
            }

            if (value[i].data[0] == 'w') {
                l->window = t;

            } else {
                l->lock = t;
            }

            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive",
                       &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


/* sekisho_redis_key_file <file>: the HMAC key of the ids in Redis */

char *
ngx_http_sekisho_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t *key = (void *) ((char *) conf + cmd->offset);

    ngx_str_t  *value;

    if (key->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_sekisho_read_secret(cf, &value[1], 16, key) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


void
ngx_http_sekisho_login_conf_init(ngx_http_sekisho_login_conf_t *conf)
{
    conf->account = NGX_CONF_UNSET_PTR;
    conf->failure_status = NGX_CONF_UNSET_PTR;
    conf->account_limit.attempts = NGX_CONF_UNSET_UINT;
    conf->ip_limit.attempts = NGX_CONF_UNSET_UINT;
    conf->redis_failure = NGX_CONF_UNSET_UINT;
}


char *
ngx_http_sekisho_login_conf_merge(ngx_conf_t *cf,
    ngx_http_sekisho_login_conf_t *prev, ngx_http_sekisho_login_conf_t *conf)
{
    ngx_uint_t                    *status;
    ngx_http_sekisho_main_conf_t  *mcf;

    ngx_conf_merge_ptr_value(conf->account, prev->account, NULL);

    if (conf->failure_status == NGX_CONF_UNSET_PTR) {
        conf->failure_status = prev->failure_status;
        conf->failure_header = prev->failure_header;
        conf->failure_value = prev->failure_value;
    }

    if (conf->failure_status == NGX_CONF_UNSET_PTR) {
        conf->failure_status = ngx_array_create(cf->pool, 1,
                                                sizeof(ngx_uint_t));
        if (conf->failure_status == NULL) {
            return NGX_CONF_ERROR;
        }

        status = ngx_array_push(conf->failure_status);
        if (status == NULL) {
            return NGX_CONF_ERROR;
        }

        *status = NGX_HTTP_UNAUTHORIZED;
    }

    if (conf->account_limit.attempts == NGX_CONF_UNSET_UINT) {
        conf->account_limit = prev->account_limit;
    }

    if (conf->account_limit.attempts == NGX_CONF_UNSET_UINT) {
        conf->account_limit.attempts = 5;
        conf->account_limit.window = NGX_HTTP_SEKISHO_DAY;
        conf->account_limit.lock = NGX_HTTP_SEKISHO_DAY;
    }

    if (conf->ip_limit.attempts == NGX_CONF_UNSET_UINT) {
        conf->ip_limit = prev->ip_limit;
    }

    if (conf->ip_limit.attempts == NGX_CONF_UNSET_UINT) {
        conf->ip_limit.attempts = 0;
    }

    if (conf->card_login && conf->account == NULL
        && conf->ip_limit.attempts)
    {
        conf->account = &ngx_http_sekisho_no_account;
    }

    ngx_conf_merge_uint_value(conf->redis_failure, prev->redis_failure,
                              NGX_HTTP_SEKISHO_REDIS_CLOSED);

    if (conf->account == NULL) {
        return NGX_CONF_OK;
    }

    mcf = ngx_http_sekisho_cf_main_conf(cf);

    if (mcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"sekisho_redis\" in the "
                           "http block", conf->card_login
                           ? "sekisho_lockout ip" : "sekisho_login_account");
        return NGX_CONF_ERROR;
    }

    if (mcf->key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"sekisho_redis_key_file\" in "
                           "the http block", conf->card_login
                           ? "sekisho_lockout ip" : "sekisho_login_account");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
