
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ngx_http_sekisho_module.h"
#include "ngx_http_sekisho_account.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_request.h"
#include "ngx_http_sekisho_secret.h"


/* the states of a login attempt in ngx_http_sekisho_ctx_t */
#define NGX_HTTP_SEKISHO_LOGIN_START    0
#define NGX_HTTP_SEKISHO_LOGIN_READING  1
#define NGX_HTTP_SEKISHO_LOGIN_READ     2
#define NGX_HTTP_SEKISHO_LOGIN_WAITING  3
#define NGX_HTTP_SEKISHO_LOGIN_VERDICT  4
#define NGX_HTTP_SEKISHO_LOGIN_DONE     5

/* how the upstream's answer settles an attempt */
#define NGX_HTTP_SEKISHO_OUTCOME_OK     0
#define NGX_HTTP_SEKISHO_OUTCOME_FAIL   1
#define NGX_HTTP_SEKISHO_OUTCOME_NONE   2

/* the Redis keys of one attempt: failures, pending, lock; twice */
#define NGX_HTTP_SEKISHO_LOGIN_KEYS     6

/* a reservation not settled within this time no longer counts */
#define NGX_HTTP_SEKISHO_PENDING_MS     300000

/* a lost settlement is sent again this much later, and again */
#define NGX_HTTP_SEKISHO_RETRY_MS       1000

/* the most settlements a worker keeps for Redis's return */
#define NGX_HTTP_SEKISHO_RETRY_MAX      10000

/* Retry-After when Redis cannot answer */
#define NGX_HTTP_SEKISHO_UNAVAILABLE_RETRY  10

#define NGX_HTTP_SEKISHO_DAY            (24 * 60 * 60 * 1000)


/*
 * One attempt in Redis, from the reservation to the last settlement
 * sent for it.  It outlives its request when Redis answers late or not
 * at all, so it has its own memory and a count of its holders: the
 * request, a command in flight, the retry queue.
 */
struct ngx_http_sekisho_attempt_s {
    ngx_queue_t                 queue;
    ngx_uint_t                  refs;
    ngx_http_sekisho_ctx_t     *ctx;           /* NULL: the request is gone */
    ngx_http_sekisho_redis_t   *redis;
    ngx_str_t                   keys[NGX_HTTP_SEKISHO_LOGIN_KEYS];
    ngx_str_t                   id;
    ngx_http_sekisho_limit_t    account_limit;
    ngx_http_sekisho_limit_t    ip_limit;
    ngx_uint_t                  outcome;       /* of the settlement */
    ngx_msec_t                  created;
    ngx_msec_t                  deadline;      /* of the reservation */
    ngx_msec_t                  not_before;    /* of a retry */
    u_char                      addr[NGX_SOCKADDR_STRLEN];
    size_t                      addr_len;
    unsigned                    waiting:1;     /* the reservation is out */
    unsigned                    queued:1;
};


static ngx_int_t ngx_http_sekisho_login_read_body(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static void ngx_http_sekisho_login_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_sekisho_login_reserve(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_login_refused(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_int_t status,
    ngx_http_sekisho_login_read_t *rd);
static ngx_http_sekisho_attempt_t *ngx_http_sekisho_attempt_create(
    ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx, ngx_str_t *account);
static ngx_int_t ngx_http_sekisho_hmac_key(u_char *dst, ngx_str_t *key,
    ngx_str_t *prefix, const char *kind, u_char *data, size_t len);
static ngx_uint_t ngx_http_sekisho_limit_args(ngx_http_sekisho_limit_t *l,
    u_char **p, ngx_str_t *args);
static void ngx_http_sekisho_login_reserved(void *data, redisReply *reply);
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
static void ngx_http_sekisho_attempt_settle(ngx_http_sekisho_attempt_t *a);
static void ngx_http_sekisho_login_settled(void *data, redisReply *reply);
static void ngx_http_sekisho_attempt_retry(ngx_http_sekisho_attempt_t *a);
static void ngx_http_sekisho_retry_handler(ngx_event_t *ev);
static void ngx_http_sekisho_attempt_release(ngx_http_sekisho_attempt_t *a);
static void ngx_http_sekisho_login_terminate(void *data);


/*
 * KEYS: account failures, account pending, account lock, then the same
 * for the address.  ARGV: attempt id, then attempts, window and lock
 * (ms) for the account and for the address (attempts 0: no limit), how
 * long a reservation stays pending, and the gateway's deadline in
 * Redis's time (0: none).
 *
 * An attempt is reserved when failures and pending attempts together
 * stay below the limit, so that concurrent attempts cannot pass it.
 * A script that runs after the deadline (it waited in a stalled Redis
 * while the gateway gave up and answered 503) reserves nothing: no one
 * would ever settle it.  Reply: {code, a, i, now}: code 0 reserved (a
 * and i the attempts left, -1: no limit), 1 account locked, 2 address
 * locked, 3 account busy with pending attempts, 4 address busy (a: the
 * ms to wait), 5 too late.  Time is Redis's, the same for every
 * gateway; "now" lets the gateway keep its deadlines in it.
 */

static ngx_http_sekisho_redis_script_t  ngx_http_sekisho_reserve_script;

static const char  ngx_http_sekisho_reserve_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local pend = tonumber(ARGV[8])\n"
"local deadline = tonumber(ARGV[9])\n"
"if deadline > 0 and now >= deadline then return {5, 0, 0, now} end\n"
"local function check(f, p, l, att, win, lock)\n"
"  if att == 0 then return -1, 0 end\n"
"  local ttl = redis.call('PTTL', l)\n"
"  if ttl == -1 then ttl = lock end\n"
"  if ttl > 0 then return -2, ttl end\n"
"  redis.call('ZREMRANGEBYSCORE', f, '-inf', now - win)\n"
"  redis.call('ZREMRANGEBYSCORE', p, '-inf', now - pend)\n"
"  local failed = redis.call('ZCARD', f)\n"
"  if failed >= att then\n"
"    redis.call('SET', l, '1', 'PX', lock)\n"
"    redis.call('DEL', f)\n"
"    return -2, lock\n"
"  end\n"
"  local used = failed + redis.call('ZCARD', p)\n"
"  if used >= att then return -3, 1000 end\n"
"  return att - used - 1, 0\n"
"end\n"
"local a, ams = check(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[2]),\n"
"                    tonumber(ARGV[3]), tonumber(ARGV[4]))\n"
"if a == -2 then return {1, ams, 0, now} end\n"
"local i, ims = check(KEYS[4], KEYS[5], KEYS[6], tonumber(ARGV[5]),\n"
"                    tonumber(ARGV[6]), tonumber(ARGV[7]))\n"
"if i == -2 then return {2, ims, 0, now} end\n"
"if a == -3 then return {3, ams, 0, now} end\n"
"if i == -3 then return {4, ims, 0, now} end\n"
"if a >= 0 then\n"
"  redis.call('ZADD', KEYS[2], now, ARGV[1])\n"
"  redis.call('PEXPIRE', KEYS[2], pend)\n"
"end\n"
"if i >= 0 then\n"
"  redis.call('ZADD', KEYS[5], now, ARGV[1])\n"
"  redis.call('PEXPIRE', KEYS[5], pend)\n"
"end\n"
"return {0, a, i, now}\n";


/*
 * The same KEYS; ARGV: attempt id, outcome ("ok", "fail" or "none"),
 * then the two limits as above.  "ok" refunds the attempt and clears
 * the account's failures, "fail" keeps it and locks what reached its
 * limit, "none" (the upstream could not tell) only refunds.  Only an
 * attempt still pending is settled, so that a settlement sent again
 * after a lost answer counts once.  Reply: {account locked now, address
 * locked now}.
 */

static ngx_http_sekisho_redis_script_t  ngx_http_sekisho_settle_script;

static const char  ngx_http_sekisho_settle_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local id = ARGV[1]\n"
"if not redis.call('ZSCORE', KEYS[2], id)\n"
"   and not redis.call('ZSCORE', KEYS[5], id) then return {0, 0} end\n"
"redis.call('ZREM', KEYS[2], id)\n"
"redis.call('ZREM', KEYS[5], id)\n"
"if ARGV[2] == 'ok' then\n"
"  redis.call('DEL', KEYS[1])\n"
"  return {0, 0}\n"
"end\n"
"if ARGV[2] ~= 'fail' then return {0, 0} end\n"
"local function fail(f, l, att, win, lock)\n"
"  if att == 0 then return 0 end\n"
"  redis.call('ZREMRANGEBYSCORE', f, '-inf', now - win)\n"
"  redis.call('ZADD', f, now, id)\n"
"  redis.call('PEXPIRE', f, win)\n"
"  if redis.call('ZCARD', f) >= att then\n"
"    redis.call('SET', l, '1', 'PX', lock)\n"
"    redis.call('DEL', f)\n"
"    return 1\n"
"  end\n"
"  return 0\n"
"end\n"
"local la = fail(KEYS[1], KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[4]),\n"
"                tonumber(ARGV[5]))\n"
"local li = fail(KEYS[4], KEYS[6], tonumber(ARGV[6]), tonumber(ARGV[7]),\n"
"                tonumber(ARGV[8]))\n"
"return {la, li}\n";


static ngx_uint_t  ngx_http_sekisho_attempt_seq;


/* a card login has no account id: only its address is limited */
static ngx_http_sekisho_account_source_t  ngx_http_sekisho_no_account = {
    NGX_HTTP_SEKISHO_SRC_NONE, ngx_null_string, ngx_null_string,
    ngx_null_string, ngx_null_string, NULL, NULL, 0
};

static ngx_http_sekisho_limit_t  ngx_http_sekisho_no_limit = { 0, 0, 0 };


/* the worker's settlements waiting for Redis to answer again */
static ngx_queue_t  ngx_http_sekisho_retries;
static ngx_uint_t   ngx_http_sekisho_nretries;
static ngx_event_t  ngx_http_sekisho_retry_event;


#define ngx_http_sekisho_account_limit(lc)                                    \
    (((lc)->account == &ngx_http_sekisho_no_account)                          \
     ? &ngx_http_sekisho_no_limit : &(lc)->account_limit)


ngx_int_t
ngx_http_sekisho_lockout_init(ngx_conf_t *cf)
{
    if (ngx_http_sekisho_redis_script(&ngx_http_sekisho_reserve_script,
                                      ngx_http_sekisho_reserve_lua)
        != NGX_OK
        || ngx_http_sekisho_redis_script(&ngx_http_sekisho_settle_script,
                                         ngx_http_sekisho_settle_lua)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_sekisho_lockout_init_worker(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_sekisho_retries);
    ngx_http_sekisho_nretries = 0;

    ngx_http_sekisho_retry_event.handler = ngx_http_sekisho_retry_handler;
    ngx_http_sekisho_retry_event.log = cycle->log;
    ngx_http_sekisho_retry_event.cancelable = 1;
}


/* what a worker that exits could not send is said, not hidden */

void
ngx_http_sekisho_lockout_exit_worker(void)
{
    ngx_queue_t                 *q;
    ngx_http_sekisho_attempt_t  *a;

    if (ngx_http_sekisho_nretries) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "sekisho: %ui login attempt(s) not settled in Redis "
                      "when the worker exited; their reservations expire "
                      "after %ui s", ngx_http_sekisho_nretries,
                      (ngx_uint_t) NGX_HTTP_SEKISHO_PENDING_MS / 1000);
    }

    while (!ngx_queue_empty(&ngx_http_sekisho_retries)) {
        q = ngx_queue_head(&ngx_http_sekisho_retries);
        ngx_queue_remove(q);
        a = ngx_queue_data(q, ngx_http_sekisho_attempt_t, queue);
        ngx_free(a);
    }

    ngx_http_sekisho_nretries = 0;
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
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

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
            return ngx_http_sekisho_login_read_body(r, ctx);
        }

        ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_READ;

        /* fall through */

    case NGX_HTTP_SEKISHO_LOGIN_READ:
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
 * The body is read in the access phase (as the mirror module does in
 * its own phase): once it is in, the phases run again and come back
 * here.  It stays in r->request_body for the upstream.
 */

static ngx_int_t
ngx_http_sekisho_login_read_body(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_READING;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_sekisho_login_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->decision = NGX_HTTP_SEKISHO_DENY;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY;
        ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
        ctx->login_rc = rc;
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_sekisho_login_body_handler(ngx_http_request_t *r)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL
        || ctx->login_state != NGX_HTTP_SEKISHO_LOGIN_READING)
    {
        return;
    }

    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_READ;

    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * Finds the account id and reserves an attempt.  The request waits for
 * Redis (NGX_DONE, state WAITING); the worker goes on.
 */

static ngx_int_t
ngx_http_sekisho_login_reserve(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    u_char                         *p, deadline[NGX_INT64_LEN];
    ngx_int_t                       rc;
    ngx_str_t                       account, args[NGX_HTTP_SEKISHO_LOGIN_KEYS
                                                  + 9];
    ngx_uint_t                      i;
    ngx_http_cleanup_t             *cln;
    ngx_http_sekisho_attempt_t     *a;
    ngx_http_sekisho_login_conf_t  *lc;
    ngx_http_sekisho_redis_cmd_t   *cmd;
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

    a = ngx_http_sekisho_attempt_create(r, ctx, &account);
    if (a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the request ends with the pool; the attempt goes on alone */
    ctx->attempt = a;

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        args[i] = a->keys[i];
    }

    args[i++] = a->id;

    p = ngx_pnalloc(r->pool, 8 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    i += ngx_http_sekisho_limit_args(&a->account_limit, &p, &args[i]);
    i += ngx_http_sekisho_limit_args(&a->ip_limit, &p, &args[i]);

    args[i].data = p;
    args[i].len = ngx_sprintf(p, "%ui",
                              (ngx_uint_t) NGX_HTTP_SEKISHO_PENDING_MS)
                  - p;
    i++;

    args[i].data = deadline;
    args[i].len = ngx_sprintf(deadline, "%uL",
                              ngx_http_sekisho_redis_deadline(a->redis,
                                                              &a->deadline))
                  - deadline;
    i++;

    cmd = ngx_http_sekisho_redis_eval(a->redis,
                                      &ngx_http_sekisho_reserve_script,
                                      NGX_HTTP_SEKISHO_LOGIN_KEYS, i, args,
                                      ngx_http_sekisho_login_reserved, a);

    if (cmd == NULL) {
        return ngx_http_sekisho_login_unavailable(r, ctx);
    }

    a->refs++;
    a->waiting = 1;

    /* a request ended while it waits is never woken up */
    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sekisho_login_terminate;
    cln->data = a;

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


/*
 * Redis sees only keyed hashes (HMAC-SHA256) of the account id and of
 * the address, never the personal data; an IPv6 address counts by its
 * /64, which one subscriber usually holds whole.  Every key shares the
 * hash tag {lockout}, so that one script's keys share a Cluster slot.
 */

static ngx_http_sekisho_attempt_t *
ngx_http_sekisho_attempt_create(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_str_t *account)
{
    u_char                        *p, addr[17];
    size_t                         len, klen;
    ngx_str_t                     *prefix;
    ngx_uint_t                     i;
    struct sockaddr               *sa;
    struct sockaddr_in             sin;
    ngx_http_sekisho_attempt_t    *a;
    ngx_http_sekisho_main_conf_t  *mcf;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6           *sin6;
#endif

    static const char  *suffix[] = { ":f", ":p", ":l" };

    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);
    prefix = ngx_http_sekisho_redis_prefix(mcf->redis);

    /* "<prefix>{lockout}:a:<64 hex digits>:f" */
    klen = prefix->len + sizeof("{lockout}:a:") - 1 + 64 + 2;

    a = ngx_calloc(sizeof(ngx_http_sekisho_attempt_t)
                   + NGX_HTTP_SEKISHO_LOGIN_KEYS * klen + 3 * NGX_INT_T_LEN,
                   r->connection->log);
    if (a == NULL) {
        return NULL;
    }

    a->refs = 1;
    a->ctx = ctx;
    a->redis = mcf->redis;
    a->created = ngx_current_msec;
    a->account_limit = *ngx_http_sekisho_account_limit(ctx->login);
    a->ip_limit = ctx->login->ip_limit;
    a->addr_len = ngx_min(r->connection->addr_text.len, NGX_SOCKADDR_STRLEN);
    ngx_memcpy(a->addr, r->connection->addr_text.data, a->addr_len);

    p = (u_char *) a + sizeof(ngx_http_sekisho_attempt_t);

    sa = ngx_http_sekisho_unmap_v4(r->connection->sockaddr, &sin);

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        addr[0] = '6';
        ngx_memcpy(&addr[1], sin6->sin6_addr.s6_addr, 8);
        len = 9;
        break;
#endif

    case AF_INET:
        addr[0] = '4';
        ngx_memcpy(&addr[1], &((struct sockaddr_in *) sa)->sin_addr, 4);
        len = 5;
        break;

    default:
        addr[0] = 'u';
        len = 1;
        break;
    }

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        a->keys[i].data = p;

        if (ngx_http_sekisho_hmac_key(p, &mcf->key, prefix,
                                      (i < 3) ? "a:" : "i:",
                                      (i < 3) ? account->data : addr,
                                      (i < 3) ? account->len : len)
            != NGX_OK)
        {
            ngx_free(a);
            return NULL;
        }

        p = ngx_cpymem(p + klen - 2, suffix[i % 3], 2);
        a->keys[i].len = p - a->keys[i].data;
    }

    a->id.data = p;
    a->id.len = ngx_sprintf(p, "%P.%ui.%M", ngx_pid,
                            ngx_http_sekisho_attempt_seq++, ngx_current_msec)
                - p;

    return a;
}


/* "<prefix>{lockout}:<kind><hex HMAC of kind and data>", 64 digits */

static ngx_int_t
ngx_http_sekisho_hmac_key(u_char *dst, ngx_str_t *key, ngx_str_t *prefix,
    const char *kind, u_char *data, size_t len)
{
    u_char         md[EVP_MAX_MD_SIZE], in[NGX_HTTP_SEKISHO_ACCOUNT_MAX + 2];
    unsigned int   mdlen;

    if (len > NGX_HTTP_SEKISHO_ACCOUNT_MAX) {
        return NGX_ERROR;
    }

    ngx_memcpy(in, kind, 2);
    ngx_memcpy(in + 2, data, len);

    if (HMAC(EVP_sha256(), key->data, (int) key->len, in, len + 2, md,
             &mdlen)
        == NULL || mdlen != 32)
    {
        return NGX_ERROR;
    }

    dst = ngx_cpymem(dst, prefix->data, prefix->len);
    dst = ngx_cpymem(dst, "{lockout}:", sizeof("{lockout}:") - 1);
    dst = ngx_cpymem(dst, kind, 2);
    (void) ngx_hex_dump(dst, md, mdlen);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_sekisho_limit_args(ngx_http_sekisho_limit_t *l, u_char **p,
    ngx_str_t *args)
{
    args[0].data = *p;
    *p = ngx_sprintf(*p, "%ui", l->attempts);
    args[0].len = *p - args[0].data;

    args[1].data = *p;
    *p = ngx_sprintf(*p, "%M", l->window);
    args[1].len = *p - args[1].data;

    args[2].data = *p;
    *p = ngx_sprintf(*p, "%M", l->lock);
    args[2].len = *p - args[2].data;

    return 3;
}


/*
 * Redis answered the reservation (or did not).  A request still waiting
 * is woken up; for one that has gone, a reservation made is refunded at
 * once on the same connection, after it, and one whose answer was lost
 * is refunded when Redis answers again.
 */

static void
ngx_http_sekisho_login_reserved(void *data, redisReply *reply)
{
    ngx_http_sekisho_attempt_t *a = data;

    ngx_int_t                code, left, i;
    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_sekisho_ctx_t  *ctx;

    a->waiting = 0;
    code = -1;
    left = 0;

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 4
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[1]->type == REDIS_REPLY_INTEGER
        && reply->element[2]->type == REDIS_REPLY_INTEGER
        && reply->element[3]->type == REDIS_REPLY_INTEGER)
    {
        code = (ngx_int_t) reply->element[0]->integer;
        left = (ngx_int_t) reply->element[1]->integer;

        ngx_http_sekisho_redis_clock(a->redis,
                                     (uint64_t) reply->element[3]->integer);
    }

    if (code == -1) {
        /* it may have run and its answer been lost: refund it later */
        a->outcome = NGX_HTTP_SEKISHO_OUTCOME_NONE;
        ngx_http_sekisho_attempt_retry(a);
    }

    ctx = a->ctx;

    if (ctx == NULL) {
        if (code == 0) {
            a->outcome = NGX_HTTP_SEKISHO_OUTCOME_NONE;
            ngx_http_sekisho_attempt_settle(a);
        }

        ngx_http_sekisho_attempt_release(a);
        return;
    }

    /* the request's reference stays with it */
    ngx_http_sekisho_attempt_release(a);

    r = ctx->request;
    c = r->connection;

    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_VERDICT;

    switch (code) {

    case 0:
        i = (ngx_int_t) reply->element[2]->integer;

        ctx->reserved = 1;
        ctx->attempts_left = (left >= 0) ? left : i;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_NONE;
        break;

    case 1:
    case 3:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED;
        ctx->retry_after = (ngx_msec_t) left;
        ctx->attempts_left = 0;
        break;

    case 2:
    case 4:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_IP_LOCKED;
        ctx->retry_after = (ngx_msec_t) left;
        ctx->attempts_left = 0;
        break;

    default:
        /* no answer, an error, or too late to count */
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
        ngx_http_sekisho_metrics_locked(ctx->attempt->keys[0].data
                                        + ctx->attempt->keys[0].len - 2 - 64,
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

    ctx->attempt->outcome = outcome;
    ngx_http_sekisho_attempt_settle(ctx->attempt);
}


/* sent now, or kept to be sent again when Redis answers again */

static void
ngx_http_sekisho_attempt_settle(ngx_http_sekisho_attempt_t *a)
{
    u_char                        *p, buf[8 * NGX_INT_T_LEN];
    ngx_str_t                      args[NGX_HTTP_SEKISHO_LOGIN_KEYS + 8];
    ngx_uint_t                     i;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    static ngx_str_t  outcomes[] = {
        ngx_string("ok"), ngx_string("fail"), ngx_string("none")
    };

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        args[i] = a->keys[i];
    }

    args[i++] = a->id;
    args[i++] = outcomes[a->outcome];

    p = buf;
    i += ngx_http_sekisho_limit_args(&a->account_limit, &p, &args[i]);
    i += ngx_http_sekisho_limit_args(&a->ip_limit, &p, &args[i]);

    cmd = ngx_http_sekisho_redis_eval(a->redis,
                                      &ngx_http_sekisho_settle_script,
                                      NGX_HTTP_SEKISHO_LOGIN_KEYS, i, args,
                                      ngx_http_sekisho_login_settled, a);

    if (cmd == NULL) {
        ngx_http_sekisho_attempt_retry(a);
        return;
    }

    a->refs++;
}


static void
ngx_http_sekisho_login_settled(void *data, redisReply *reply)
{
    ngx_http_sekisho_attempt_t *a = data;

    ngx_http_sekisho_alert_param_t  params[3];

    if (reply == NULL) {
        /* it may have run: the script counts a second copy once */
        ngx_http_sekisho_attempt_retry(a);
        ngx_http_sekisho_attempt_release(a);
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {

        if (reply->element[0]->type == REDIS_REPLY_INTEGER
            && reply->element[0]->integer == 1)
        {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sekisho: account %*s... locked after %ui failed "
                          "logins, last from %*s", (size_t) 16,
                          a->keys[0].data + a->keys[0].len - 2 - 64,
                          a->account_limit.attempts, a->addr_len, a->addr);

            ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_LOCKOUT_ACCOUNT);
            ngx_http_sekisho_metrics_locked(a->keys[0].data + a->keys[0].len
                                            - 2 - 64, a->account_limit.lock);

            /* the account as its keyed hash: the SOC needs no name */
            params[0].name = "account_hash";
            params[0].value.data = a->keys[0].data + a->keys[0].len - 2 - 64;
            params[0].value.len = 16;
            params[1].name = "last_address";
            params[1].value.data = a->addr;
            params[1].value.len = a->addr_len;

            ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_ACCOUNT_LOCKED,
                                   params, 2);
        }

        if (reply->element[1]->type == REDIS_REPLY_INTEGER
            && reply->element[1]->integer == 1)
        {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "sekisho: address %*s locked after %ui failed "
                          "logins", a->addr_len, a->addr,
                          a->ip_limit.attempts);

            ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_LOCKOUT_IP);

            params[0].name = "address";
            params[0].value.data = a->addr;
            params[0].value.len = a->addr_len;

            ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_IP_LOCKED,
                                   params, 1);
        }
    }

    ngx_http_sekisho_attempt_release(a);
}


/*
 * A settlement (or the refund of a reservation whose answer was lost)
 * is kept and sent again when Redis answers again.  The reservation
 * script refuses to run past the gateway's deadline, and a retry waits
 * a second beyond it, so that a refund never overtakes the reservation
 * it refunds.  What cannot be sent before a reservation would expire
 * anyway is dropped, and said.
 */

static void
ngx_http_sekisho_attempt_retry(ngx_http_sekisho_attempt_t *a)
{
    if (a->queued) {
        return;
    }

    if (ngx_http_sekisho_nretries >= NGX_HTTP_SEKISHO_RETRY_MAX) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "sekisho: too many login attempts wait to be settled "
                      "in Redis; the outcome of one from %*s is dropped",
                      a->addr_len, a->addr);
        ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_REDIS_ERROR);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "sekisho: the outcome of a login attempt from %*s is kept "
                  "until Redis answers again", a->addr_len, a->addr);

    a->refs++;
    a->queued = 1;

    /* after the reservation's deadline, and a second more */
    a->not_before = ngx_current_msec;

    if ((ngx_msec_int_t) (a->deadline - a->not_before) > 0) {
        a->not_before = a->deadline;
    }

    a->not_before += NGX_HTTP_SEKISHO_RETRY_MS;

    ngx_queue_insert_tail(&ngx_http_sekisho_retries, &a->queue);
    ngx_http_sekisho_nretries++;

    if (!ngx_http_sekisho_retry_event.timer_set) {
        ngx_add_timer(&ngx_http_sekisho_retry_event,
                      NGX_HTTP_SEKISHO_RETRY_MS);
    }
}


static void
ngx_http_sekisho_retry_handler(ngx_event_t *ev)
{
    ngx_msec_t                   now;
    ngx_queue_t                 *q, *next;
    ngx_http_sekisho_attempt_t  *a;

    now = ngx_current_msec;

    for (q = ngx_queue_head(&ngx_http_sekisho_retries);
         q != ngx_queue_sentinel(&ngx_http_sekisho_retries);
         q = next)
    {
        next = ngx_queue_next(q);
        a = ngx_queue_data(q, ngx_http_sekisho_attempt_t, queue);

        if ((ngx_msec_int_t) (now - a->created)
            >= NGX_HTTP_SEKISHO_PENDING_MS)
        {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                          "sekisho: the outcome of a login attempt from %*s "
                          "could not be recorded in Redis%s",
                          a->addr_len, a->addr,
                          (a->outcome == NGX_HTTP_SEKISHO_OUTCOME_FAIL)
                          ? ": a failed login was not counted" : "");

        } else if ((ngx_msec_int_t) (now - a->not_before) < 0) {
            continue;

        } else {
            ngx_queue_remove(q);
            ngx_http_sekisho_nretries--;
            a->queued = 0;

            /* the queue's reference becomes the command's */
            ngx_http_sekisho_attempt_settle(a);

            if (a->queued) {
                /* Redis is still away: the others wait too */
                a->refs--;
                break;
            }

            a->refs--;
            continue;
        }

        ngx_queue_remove(q);
        ngx_http_sekisho_nretries--;
        a->queued = 0;
        ngx_http_sekisho_attempt_release(a);
    }

    if (!ngx_queue_empty(&ngx_http_sekisho_retries)) {
        ngx_add_timer(ev, NGX_HTTP_SEKISHO_RETRY_MS);
    }
}


static void
ngx_http_sekisho_attempt_release(ngx_http_sekisho_attempt_t *a)
{
    if (--a->refs == 0) {
        ngx_free(a);
    }
}


/*
 * The request ends, also while it waits for Redis: a reservation in
 * flight is left to its reply, which refunds it.
 */

static void
ngx_http_sekisho_login_terminate(void *data)
{
    ngx_http_sekisho_attempt_t *a = data;

    a->ctx = NULL;
}


/*
 * From the request's pool cleanup: a reservation the upstream never
 * answered (the client went away first) is refunded, not counted.
 */

void
ngx_http_sekisho_login_cleanup(ngx_http_sekisho_ctx_t *ctx)
{
    ngx_http_sekisho_attempt_t  *a;

    a = ctx->attempt;

    if (a == NULL) {
        return;
    }

    a->ctx = NULL;
    ctx->attempt = NULL;

    if (ctx->reserved && !ctx->settled) {
        ctx->settled = 1;
        a->outcome = NGX_HTTP_SEKISHO_OUTCOME_NONE;
        ngx_http_sekisho_attempt_settle(a);
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

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_sekisho_module);

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
