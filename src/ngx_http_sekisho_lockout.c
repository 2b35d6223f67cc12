
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ngx_http_sekisho_module.h"
#include "ngx_http_sekisho_login_parse.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_secret.h"


#define NGX_HTTP_SEKISHO_SRC_FORM     0
#define NGX_HTTP_SEKISHO_SRC_JSON     1
#define NGX_HTTP_SEKISHO_SRC_HEADER   2
#define NGX_HTTP_SEKISHO_SRC_ARG      3
#define NGX_HTTP_SEKISHO_SRC_REGEX    4
#define NGX_HTTP_SEKISHO_SRC_VALUE    5
#define NGX_HTTP_SEKISHO_SRC_NONE     6     /* card logins: the address */

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

/* a reservation not settled within this time no longer counts */
#define NGX_HTTP_SEKISHO_PENDING_MS     300000

/* Retry-After when Redis cannot answer */
#define NGX_HTTP_SEKISHO_UNAVAILABLE_RETRY  10

#define NGX_HTTP_SEKISHO_DAY            (24 * 60 * 60 * 1000)


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  type;
} ngx_http_sekisho_source_prefix_t;


/* what a settled attempt's reply is logged with */
typedef struct {
    ngx_log_t                  *log;
    u_char                      account[16];
    u_char                      addr[NGX_SOCKADDR_STRLEN];
    size_t                      addr_len;
    ngx_uint_t                  account_attempts;
    ngx_uint_t                  ip_attempts;
    ngx_msec_t                  account_lock;
} ngx_http_sekisho_settle_t;


static ngx_int_t ngx_http_sekisho_login_read_body(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static void ngx_http_sekisho_login_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_sekisho_login_reserve(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_login_find(ngx_http_request_t *r,
    ngx_http_sekisho_login_conf_t *lc, ngx_str_t *account);
static ngx_table_elt_t *ngx_http_sekisho_find_header(ngx_list_t *headers,
    ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_sekisho_login_keys(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_str_t *account);
static ngx_int_t ngx_http_sekisho_hmac_key(ngx_pool_t *pool, ngx_str_t *key,
    ngx_str_t *prefix, const char *kind, u_char *data, size_t len,
    ngx_str_t *out);
static void ngx_http_sekisho_login_reserved(void *data, redisReply *reply);
static ngx_int_t ngx_http_sekisho_login_verdict(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_login_unavailable(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_retry_after(ngx_http_request_t *r,
    ngx_msec_t ms);
static void ngx_http_sekisho_login_conclude(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t status, ngx_list_t *headers, ngx_log_t *log);
static ngx_uint_t ngx_http_sekisho_login_decide(
    ngx_http_sekisho_login_conf_t *lc, ngx_uint_t status,
    ngx_list_t *headers);
static void ngx_http_sekisho_login_settle(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t outcome, ngx_log_t *log);
static void ngx_http_sekisho_login_settled(void *data, redisReply *reply);
static void ngx_http_sekisho_login_terminate(void *data);
static ngx_int_t ngx_http_sekisho_limit_args(ngx_http_sekisho_limit_t *l,
    u_char **p, ngx_str_t *args);


static ngx_http_sekisho_source_prefix_t  ngx_http_sekisho_sources[] = {
    { ngx_string("form:"), NGX_HTTP_SEKISHO_SRC_FORM },
    { ngx_string("json:"), NGX_HTTP_SEKISHO_SRC_JSON },
    { ngx_string("header:"), NGX_HTTP_SEKISHO_SRC_HEADER },
    { ngx_string("arg:"), NGX_HTTP_SEKISHO_SRC_ARG },
    { ngx_string("regex:"), NGX_HTTP_SEKISHO_SRC_REGEX },
    { ngx_null_string, 0 }
};


/*
 * KEYS: account failures, account pending, account lock, then the same
 * for the address.  ARGV: attempt id, then attempts, window and lock
 * (ms) for the account and for the address (attempts 0: no limit),
 * then how long a reservation stays pending.
 *
 * An attempt is reserved when failures and pending attempts together
 * stay below the limit, so that concurrent attempts cannot pass it.
 * Reply: {0, account left, address left} reserved (-1: no limit),
 * {1, ms} account locked, {2, ms} address locked, {3, ms} account
 * busy with pending attempts, {4, ms} address busy.  Time is Redis's,
 * the same for every gateway.
 */

static ngx_http_sekisho_redis_script_t  ngx_http_sekisho_reserve_script;

static const char  ngx_http_sekisho_reserve_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local pend = tonumber(ARGV[8])\n"
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
"if a == -2 then return {1, ams} end\n"
"local i, ims = check(KEYS[4], KEYS[5], KEYS[6], tonumber(ARGV[5]),\n"
"                    tonumber(ARGV[6]), tonumber(ARGV[7]))\n"
"if i == -2 then return {2, ims} end\n"
"if a == -3 then return {3, ams} end\n"
"if i == -3 then return {4, ims} end\n"
"if a >= 0 then\n"
"  redis.call('ZADD', KEYS[2], now, ARGV[1])\n"
"  redis.call('PEXPIRE', KEYS[2], pend)\n"
"end\n"
"if i >= 0 then\n"
"  redis.call('ZADD', KEYS[5], now, ARGV[1])\n"
"  redis.call('PEXPIRE', KEYS[5], pend)\n"
"end\n"
"return {0, a, i}\n";


/*
 * The same KEYS; ARGV: attempt id, outcome ("ok", "fail" or "none"),
 * then the two limits as above.  "ok" refunds the attempt and clears
 * the account's failures, "fail" keeps it and locks what reached its
 * limit, "none" (the upstream could not tell) only refunds.
 * Reply: {account locked now, address locked now}.
 */

static ngx_http_sekisho_redis_script_t  ngx_http_sekisho_settle_script;

static const char  ngx_http_sekisho_settle_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local id = ARGV[1]\n"
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
    NGX_HTTP_SEKISHO_SRC_NONE, ngx_null_string, NULL, NULL
};

static ngx_http_sekisho_limit_t  ngx_http_sekisho_no_limit = { 0, 0, 0 };


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


/* the phase handler of login locations */

ngx_int_t
ngx_http_sekisho_login_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_sekisho_ctx_t       *ctx;
    ngx_http_sekisho_loc_conf_t  *lcf;

    ctx = ngx_http_sekisho_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->login_state) {

    case NGX_HTTP_SEKISHO_LOGIN_START:
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_sekisho_module);

        ctx->login = &lcf->login;
        ctx->attempts_left = -1;

        if (ctx->login->account->type == NGX_HTTP_SEKISHO_SRC_NONE
            && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)))
        {
            ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
            ctx->login_rc = NGX_DECLINED;
            return NGX_DECLINED;
        }

        if (ctx->login->account->type <= NGX_HTTP_SEKISHO_SRC_JSON
            || ctx->login->account->type == NGX_HTTP_SEKISHO_SRC_REGEX)
        {
            /* the login page itself is fetched, not posted */
            if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)) {
                ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_DONE;
                ctx->login_rc = NGX_DECLINED;
                return NGX_DECLINED;
            }

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
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_str_t                       account, args[NGX_HTTP_SEKISHO_LOGIN_KEYS
                                                  + 8];
    ngx_uint_t                      i;
    ngx_http_cleanup_t             *cln;
    ngx_http_sekisho_main_conf_t   *mcf;
    ngx_http_sekisho_login_conf_t  *lc;

    lc = ctx->login;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);

    rc = ngx_http_sekisho_login_find(r, lc, &account);

    if (rc == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return rc;
    }

    if (rc == NGX_OK && lc->account != &ngx_http_sekisho_no_account) {
        ctx->account.data = ngx_pstrdup(r->pool, &account);
        if (ctx->account.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->account.len = account.len;

        rc = ngx_http_sekisho_account_normalize(&account);
    }

    if (rc != NGX_OK) {
        ctx->decision = NGX_HTTP_SEKISHO_DENY;
        ctx->reason = (rc == NGX_DECLINED)
                      ? NGX_HTTP_SEKISHO_REASON_LOGIN_NO_ACCOUNT
                      : NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "sekisho: login refused, reason: %V",
                      ngx_http_sekisho_reason_name(ctx->reason));

        return ngx_http_sekisho_refuse(r, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_SEKISHO_PAGE_BAD_LOGIN, NULL);
    }

    ctx->redis = mcf->redis;

    if (ngx_http_sekisho_login_keys(r, ctx, &account) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, 8 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        args[i] = ctx->keys[i];
    }

    args[i++] = ctx->attempt;
    i += ngx_http_sekisho_limit_args(ngx_http_sekisho_account_limit(lc), &p,
                                     &args[i]);
    i += ngx_http_sekisho_limit_args(&lc->ip_limit, &p, &args[i]);

    args[i].data = p;
    args[i].len = ngx_sprintf(p, "%ui",
                              (ngx_uint_t) NGX_HTTP_SEKISHO_PENDING_MS)
                  - p;
    i++;

    ctx->cmd = ngx_http_sekisho_redis_eval(mcf->redis,
                                           &ngx_http_sekisho_reserve_script,
                                           NGX_HTTP_SEKISHO_LOGIN_KEYS,
                                           i, args,
                                           ngx_http_sekisho_login_reserved,
                                           ctx);

    if (ctx->cmd == NULL) {
        return ngx_http_sekisho_login_unavailable(r, ctx);
    }

    /* a request ended while it waits must never be woken up */
    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        ngx_http_sekisho_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_sekisho_login_terminate;
    cln->data = ctx;

    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_WAITING;

    r->main->count++;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_DONE;
}


static ngx_int_t
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


/* NGX_OK, NGX_DECLINED (no account id), NGX_ERROR (malformed) */

static ngx_int_t
ngx_http_sekisho_login_find(ngx_http_request_t *r,
    ngx_http_sekisho_login_conf_t *lc, ngx_str_t *account)
{
    int                                 captures[6];
    u_char                             *buf;
    ngx_int_t                           rc;
    ngx_str_t                           body;
    ngx_table_elt_t                    *h;
    ngx_http_sekisho_account_source_t  *src;

    src = lc->account;

    switch (src->type) {

    case NGX_HTTP_SEKISHO_SRC_HEADER:
        h = ngx_http_sekisho_find_header(&r->headers_in.headers, &src->name,
                                         NULL);
        if (h == NULL) {
            return NGX_DECLINED;
        }

        *account = h->value;
        return NGX_OK;

    case NGX_HTTP_SEKISHO_SRC_ARG:
        buf = ngx_pnalloc(r->pool, r->args.len + 1);
        if (buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_sekisho_form_value(r->args.data, r->args.len,
                                           &src->name, account, buf);

    case NGX_HTTP_SEKISHO_SRC_NONE:
        ngx_str_set(account, "-");
        return NGX_OK;

    case NGX_HTTP_SEKISHO_SRC_VALUE:
        if (ngx_http_complex_value(r, src->value, account) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return account->len ? NGX_OK : NGX_DECLINED;

    default:
        break;
    }

    rc = ngx_http_sekisho_request_body(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    if (body.len == 0) {
        return NGX_DECLINED;
    }

    buf = ngx_pnalloc(r->pool, body.len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (src->type) {

    case NGX_HTTP_SEKISHO_SRC_FORM:
        return ngx_http_sekisho_form_value(body.data, body.len, &src->name,
                                           account, buf);

    case NGX_HTTP_SEKISHO_SRC_JSON:
        return ngx_http_sekisho_json_value(body.data, body.len, &src->name,
                                           account, buf);

    default: /* NGX_HTTP_SEKISHO_SRC_REGEX */
        rc = ngx_regex_exec(src->regex, &body, captures, 6);

        if (rc == NGX_REGEX_NO_MATCHED) {
            return NGX_DECLINED;
        }

        if (rc < 2 || captures[2] < 0) {
            return (rc < 0) ? NGX_ERROR : NGX_DECLINED;
        }

        account->data = body.data + captures[2];
        account->len = captures[3] - captures[2];

        return NGX_OK;
    }
}


/* a header by name (and value, if given), both without regard to case */

static ngx_table_elt_t *
ngx_http_sekisho_find_header(ngx_list_t *headers, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        /* a header removed by a filter keeps its slot with hash 0 */
        if (h[i].hash == 0
            || h[i].key.len != name->len
            || ngx_strncasecmp(h[i].key.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (value == NULL
            || (h[i].value.len == value->len
                && ngx_strncasecmp(h[i].value.data, value->data,
                                   value->len) == 0))
        {
            return &h[i];
        }
    }
}


/* the whole body in one buffer, from memory or from its temporary file */

/* the whole request body in one piece, from memory or its file */

ngx_int_t
ngx_http_sekisho_request_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * Redis sees only keyed hashes (HMAC-SHA256) of the account id and of
 * the address, never the personal data; an IPv6 address counts by its
 * /64, which one subscriber usually holds whole.  Every key shares the
 * hash tag {lockout}, so that one script's keys share a Cluster slot.
 */

static ngx_int_t
ngx_http_sekisho_login_keys(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_str_t *account)
{
    u_char                        *p, addr[17];
    size_t                         len;
    ngx_str_t                      base, *prefix;
    ngx_uint_t                     i;
    struct sockaddr               *sa;
    struct sockaddr_in             sin;
    ngx_http_sekisho_main_conf_t  *mcf;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6           *sin6;
#endif

    static const char  *suffix[] = { ":f", ":p", ":l" };

    mcf = ngx_http_get_module_main_conf(r, ngx_http_sekisho_module);
    prefix = ngx_http_sekisho_redis_prefix(mcf->redis);

    if (ngx_http_sekisho_hmac_key(r->pool, &mcf->key, prefix, "a:",
                                  account->data, account->len, &base)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        ctx->keys[i].data = ngx_pnalloc(r->pool, base.len + 2);
        if (ctx->keys[i].data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(ctx->keys[i].data, base.data, base.len);
        p = ngx_cpymem(p, suffix[i], 2);
        ctx->keys[i].len = p - ctx->keys[i].data;
    }

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

    if (ngx_http_sekisho_hmac_key(r->pool, &mcf->key, prefix, "i:", addr, len,
                                  &base)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        ctx->keys[i + 3].data = ngx_pnalloc(r->pool, base.len + 2);
        if (ctx->keys[i + 3].data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(ctx->keys[i + 3].data, base.data, base.len);
        p = ngx_cpymem(p, suffix[i], 2);
        ctx->keys[i + 3].len = p - ctx->keys[i + 3].data;
    }

    ctx->attempt.data = ngx_pnalloc(r->pool, 3 * NGX_INT_T_LEN);
    if (ctx->attempt.data == NULL) {
        return NGX_ERROR;
    }

    ctx->attempt.len = ngx_sprintf(ctx->attempt.data, "%P.%ui.%M", ngx_pid,
                                   ngx_http_sekisho_attempt_seq++,
                                   ngx_current_msec)
                       - ctx->attempt.data;

    return NGX_OK;
}


/* "<prefix>{lockout}:<kind><hex HMAC of kind and data>" */

static ngx_int_t
ngx_http_sekisho_hmac_key(ngx_pool_t *pool, ngx_str_t *key,
    ngx_str_t *prefix, const char *kind, u_char *data, size_t len,
    ngx_str_t *out)
{
    u_char         *p, md[EVP_MAX_MD_SIZE], in[NGX_HTTP_SEKISHO_ACCOUNT_MAX
                                               + 2];
    unsigned int    mdlen;

    if (len > NGX_HTTP_SEKISHO_ACCOUNT_MAX) {
        return NGX_ERROR;
    }

    ngx_memcpy(in, kind, 2);
    ngx_memcpy(in + 2, data, len);

    if (HMAC(EVP_sha256(), key->data, (int) key->len, in, len + 2, md,
             &mdlen)
        == NULL)
    {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, prefix->len + sizeof("{lockout}:") - 1
                                  + 2 + 2 * mdlen);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, prefix->data, prefix->len);
    p = ngx_cpymem(p, "{lockout}:", sizeof("{lockout}:") - 1);
    p = ngx_cpymem(p, kind, 2);
    p = ngx_hex_dump(p, md, mdlen);

    out->len = p - out->data;

    return NGX_OK;
}


/* Redis answered the reservation (or did not): wake the request up */

static void
ngx_http_sekisho_login_reserved(void *data, redisReply *reply)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    ngx_int_t            code, a, i;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ctx->cmd = NULL;
    ctx->login_state = NGX_HTTP_SEKISHO_LOGIN_VERDICT;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        ctx->reason = NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE;
        goto wake;
    }

    code = (ngx_int_t) reply->element[0]->integer;
    a = (ngx_int_t) reply->element[1]->integer;

    switch (code) {

    case 0:
        i = (reply->elements > 2
             && reply->element[2]->type == REDIS_REPLY_INTEGER)
            ? (ngx_int_t) reply->element[2]->integer : -1;

        ctx->reserved = 1;
        ctx->attempts_left = (a >= 0) ? a : i;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_NONE;
        break;

    case 1:
    case 3:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED;
        ctx->retry_after = (ngx_msec_t) a;
        ctx->attempts_left = 0;
        break;

    default:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_IP_LOCKED;
        ctx->retry_after = (ngx_msec_t) a;
        ctx->attempts_left = 0;
        break;
    }

wake:

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
        return NGX_DECLINED;
    }

    ctx->decision = NGX_HTTP_SEKISHO_DENY;

    if (ctx->reason == NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED) {
        ngx_http_sekisho_metrics_locked(ctx->keys[0].data + ctx->keys[0].len
                                        - 2 - 64, ctx->retry_after);
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
        ngx_http_sekisho_login_settle(ctx, ctx->card_outcome - 1,
                                      r->connection->log);
        return;
    }

    ngx_http_sekisho_login_conclude(ctx, r->headers_out.status,
                                    &r->headers_out.headers,
                                    r->connection->log);
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
                                    &u->headers_in.headers,
                                    r->connection->log);

    return NGX_DECLINED;
}


static void
ngx_http_sekisho_login_conclude(ngx_http_sekisho_ctx_t *ctx,
    ngx_uint_t status, ngx_list_t *headers, ngx_log_t *log)
{
    ngx_uint_t  outcome;

    outcome = ngx_http_sekisho_login_decide(ctx->login, status, headers);

    switch (outcome) {

    case NGX_HTTP_SEKISHO_OUTCOME_OK:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_OK;
        break;

    case NGX_HTTP_SEKISHO_OUTCOME_FAIL:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_FAILED;
        break;

    default:
        ctx->reason = NGX_HTTP_SEKISHO_REASON_LOGIN_ERROR;
        break;
    }

    ngx_http_sekisho_login_settle(ctx, outcome, log);
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
    ngx_uint_t outcome, ngx_log_t *log)
{
    u_char                         *p, buf[8 * NGX_INT_T_LEN];
    ngx_str_t                       args[NGX_HTTP_SEKISHO_LOGIN_KEYS + 8];
    ngx_uint_t                      i;
    ngx_http_request_t             *r;
    ngx_http_sekisho_settle_t      *note;
    ngx_http_sekisho_redis_cmd_t   *cmd;

    static ngx_str_t  outcomes[] = {
        ngx_string("ok"), ngx_string("fail"), ngx_string("none")
    };

    ctx->settled = 1;
    r = ctx->request;

    /* the reply outlives the request: it gets its own memory */
    note = ngx_alloc(sizeof(ngx_http_sekisho_settle_t), ngx_cycle->log);
    if (note == NULL) {
        return;
    }

    note->log = ngx_cycle->log;
    ngx_memcpy(note->account,
               ctx->keys[0].data + ctx->keys[0].len - 2 - 64, 16);
    note->addr_len = ngx_min(r->connection->addr_text.len,
                             NGX_SOCKADDR_STRLEN);
    ngx_memcpy(note->addr, r->connection->addr_text.data, note->addr_len);
    note->account_attempts = ngx_http_sekisho_account_limit(ctx->login)
                             ->attempts;
    note->ip_attempts = ctx->login->ip_limit.attempts;
    note->account_lock = ctx->login->account_limit.lock;

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        args[i] = ctx->keys[i];
    }

    args[i++] = ctx->attempt;
    args[i++] = outcomes[outcome];

    p = buf;
    i += ngx_http_sekisho_limit_args(ngx_http_sekisho_account_limit(ctx->login),
                                     &p, &args[i]);
    i += ngx_http_sekisho_limit_args(&ctx->login->ip_limit, &p, &args[i]);

    cmd = ngx_http_sekisho_redis_eval(ctx->redis,
                                      &ngx_http_sekisho_settle_script,
                                      NGX_HTTP_SEKISHO_LOGIN_KEYS, i, args,
                                      ngx_http_sekisho_login_settled, note);

    if (cmd == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "sekisho: redis unavailable, the outcome of a login "
                      "attempt was not recorded; the pending reservation "
                      "expires by itself");
        ngx_free(note);
    }
}


static void
ngx_http_sekisho_login_settled(void *data, redisReply *reply)
{
    ngx_http_sekisho_settle_t *note = data;

    ngx_http_sekisho_alert_param_t  params[3];

    if (reply == NULL) {
        ngx_log_error(NGX_LOG_ERR, note->log, 0,
                      "sekisho: the outcome of a login attempt from %*s "
                      "was not recorded", note->addr_len, note->addr);
        ngx_free(note);
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {

        if (reply->element[0]->type == REDIS_REPLY_INTEGER
            && reply->element[0]->integer == 1)
        {
            ngx_log_error(NGX_LOG_WARN, note->log, 0,
                          "sekisho: account %*s... locked after %ui failed "
                          "logins, last from %*s", (size_t) 16,
                          note->account, note->account_attempts,
                          note->addr_len, note->addr);

            ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_LOCKOUT_ACCOUNT);
            ngx_http_sekisho_metrics_locked(note->account, note->account_lock);

            /* the account as its keyed hash: the SOC needs no name */
            params[0].name = "account_hash";
            params[0].value.data = note->account;
            params[0].value.len = 16;
            params[1].name = "last_address";
            params[1].value.data = note->addr;
            params[1].value.len = note->addr_len;

            ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_ACCOUNT_LOCKED,
                                   params, 2);
        }

        if (reply->element[1]->type == REDIS_REPLY_INTEGER
            && reply->element[1]->integer == 1)
        {
            ngx_log_error(NGX_LOG_WARN, note->log, 0,
                          "sekisho: address %*s locked after %ui failed "
                          "logins", note->addr_len, note->addr,
                          note->ip_attempts);

            ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_LOCKOUT_IP);

            params[0].name = "address";
            params[0].value.data = note->addr;
            params[0].value.len = note->addr_len;

            ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_IP_LOCKED,
                                   params, 1);
        }
    }

    ngx_free(note);
}


/* the request is terminated while it waits for Redis */

static void
ngx_http_sekisho_login_terminate(void *data)
{
    ngx_http_sekisho_ctx_t *ctx = data;

    if (ctx->cmd) {
        ngx_http_sekisho_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


/*
 * From the request's pool cleanup: a reservation the upstream never
 * answered (the client went away first) is refunded, not counted.
 */

void
ngx_http_sekisho_login_cleanup(ngx_http_sekisho_ctx_t *ctx)
{
    ngx_http_sekisho_login_terminate(ctx);

    if (ctx->reserved && !ctx->settled) {
        ngx_http_sekisho_login_settle(ctx, NGX_HTTP_SEKISHO_OUTCOME_NONE,
                                      ngx_cycle->log);
    }
}


/* sekisho_login_account form:<f> | json:<f> | header:<h> | arg:<a> |
 *                       regex:<pattern> | <complex value> */

char *
ngx_http_sekisho_login_account(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_login_conf_t *lc = (void *) ((char *) conf + cmd->offset);

    u_char                              errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t                          *value, s;
    ngx_uint_t                          i;
    ngx_regex_compile_t                 rc;
    ngx_http_sekisho_account_source_t  *src;
    ngx_http_compile_complex_value_t    ccv;

    if (lc->account != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    src = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_account_source_t));
    if (src == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    s = value[1];

    for (i = 0; ngx_http_sekisho_sources[i].name.len; i++) {
        if (s.len > ngx_http_sekisho_sources[i].name.len
            && ngx_strncmp(s.data, ngx_http_sekisho_sources[i].name.data,
                           ngx_http_sekisho_sources[i].name.len) == 0)
        {
            src->type = ngx_http_sekisho_sources[i].type;
            src->name.data = s.data + ngx_http_sekisho_sources[i].name.len;
            src->name.len = s.len - ngx_http_sekisho_sources[i].name.len;
            break;
        }
    }

    if (ngx_http_sekisho_sources[i].name.len == 0) {

        if (ngx_strlchr(s.data, s.data + s.len, '$') == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid account source \"%V\" in \"%V\" "
                               "directive, it must be form:, json:, header:, "
                               "arg:, regex: or a variable", &s, &cmd->name);
            return NGX_CONF_ERROR;
        }

        src->type = NGX_HTTP_SEKISHO_SRC_VALUE;

        src->value = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (src->value == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.complex_value = src->value;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (src->type == NGX_HTTP_SEKISHO_SRC_REGEX) {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));
        rc.pattern = src->name;
        rc.pool = cf->pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid regex in \"%V\" directive: %V",
                               &cmd->name, &rc.err);
            return NGX_CONF_ERROR;
        }

        if (rc.captures < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the regex in \"%V\" directive must have a "
                               "capture group for the account id",
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        src->regex = rc.regex;
    }

    lc->account = src;

    return NGX_CONF_OK;
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
