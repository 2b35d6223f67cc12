
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ngx_http_sekisho_attempt.h"
#include "ngx_http_sekisho_account.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_metrics.h"


/* the Redis keys of one attempt: failures, pending, lock; twice */
#define NGX_HTTP_SEKISHO_LOGIN_KEYS     6

/* a reservation not settled within this time no longer counts */
#define NGX_HTTP_SEKISHO_PENDING_MS     300000

/* a lost settlement is sent again this much later, and again */
#define NGX_HTTP_SEKISHO_RETRY_MS       1000

/* the most settlements a worker keeps for Redis's return */
#define NGX_HTTP_SEKISHO_RETRY_MAX      10000


/*
 * It outlives its request when Redis answers late or not at all, so it
 * has its own memory and a count of its holders: the owner (the
 * request), a command in flight, the retry queue.
 */
struct ngx_http_sekisho_attempt_s {
    ngx_queue_t                     queue;
    ngx_uint_t                      refs;
    void                           *owner;        /* NULL: gone */
    ngx_http_sekisho_reserved_pt    handler;
    ngx_http_sekisho_redis_t       *redis;
    ngx_str_t                       keys[NGX_HTTP_SEKISHO_LOGIN_KEYS];
    ngx_str_t                       id;
    ngx_http_sekisho_limit_t        account_limit;
    ngx_http_sekisho_limit_t        ip_limit;
    ngx_uint_t                      outcome;      /* of the settlement */
    ngx_msec_t                      created;
    ngx_msec_t                      deadline;     /* of the reservation */
    ngx_msec_t                      not_before;   /* of a retry */
    u_char                          addr[NGX_SOCKADDR_STRLEN];
    size_t                          addr_len;
    unsigned                        queued:1;
};


static ngx_int_t ngx_http_sekisho_hmac_key(u_char *dst, ngx_str_t *key,
    ngx_str_t *prefix, const char *kind, u_char *data, size_t len);
static ngx_uint_t ngx_http_sekisho_limit_args(ngx_http_sekisho_limit_t *l,
    u_char **p, ngx_str_t *args);
static void ngx_http_sekisho_attempt_reserved(void *data, redisReply *reply);
static void ngx_http_sekisho_attempt_send(ngx_http_sekisho_attempt_t *a);
static void ngx_http_sekisho_attempt_settled(void *data, redisReply *reply);
static void ngx_http_sekisho_attempt_retry(ngx_http_sekisho_attempt_t *a);
static void ngx_http_sekisho_retry_handler(ngx_event_t *ev);


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


/* the worker's settlements waiting for Redis to answer again */
static ngx_queue_t  ngx_http_sekisho_retries;
static ngx_uint_t   ngx_http_sekisho_nretries;
static ngx_event_t  ngx_http_sekisho_retry_event;


ngx_int_t
ngx_http_sekisho_attempt_init(void)
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
ngx_http_sekisho_attempt_init_worker(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_sekisho_retries);
    ngx_http_sekisho_nretries = 0;

    ngx_http_sekisho_retry_event.handler = ngx_http_sekisho_retry_handler;
    ngx_http_sekisho_retry_event.log = cycle->log;
    ngx_http_sekisho_retry_event.cancelable = 1;
}


/* what a worker that exits could not send is said, not hidden */

void
ngx_http_sekisho_attempt_exit_worker(void)
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


/*
 * Redis sees only keyed hashes (HMAC-SHA256) of the account id and of
 * the address, never the personal data.  Every key shares the hash tag
 * {lockout}, so that one script's keys share a Cluster slot.
 */

ngx_http_sekisho_attempt_t *
ngx_http_sekisho_attempt_create(ngx_http_sekisho_redis_t *redis,
    ngx_str_t *key, ngx_str_t *account, ngx_str_t *addr,
    ngx_str_t *addr_text, ngx_http_sekisho_limit_t *account_limit,
    ngx_http_sekisho_limit_t *ip_limit, ngx_log_t *log)
{
    u_char                      *p;
    size_t                       klen;
    ngx_str_t                   *prefix, *data;
    ngx_uint_t                   i;
    ngx_http_sekisho_attempt_t  *a;

    static const char  *suffix[] = { ":f", ":p", ":l" };

    prefix = ngx_http_sekisho_redis_prefix(redis);

    /* "<prefix>{lockout}:a:<64 hex digits>:f" */
    klen = prefix->len + sizeof("{lockout}:a:") - 1 + 64 + 2;

    a = ngx_calloc(sizeof(ngx_http_sekisho_attempt_t)
                   + NGX_HTTP_SEKISHO_LOGIN_KEYS * klen + 3 * NGX_INT_T_LEN,
                   log);
    if (a == NULL) {
        return NULL;
    }

    a->refs = 1;
    a->redis = redis;
    a->created = ngx_current_msec;
    a->account_limit = *account_limit;
    a->ip_limit = *ip_limit;
    a->addr_len = ngx_min(addr_text->len, NGX_SOCKADDR_STRLEN);
    ngx_memcpy(a->addr, addr_text->data, a->addr_len);

    p = (u_char *) a + sizeof(ngx_http_sekisho_attempt_t);

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        a->keys[i].data = p;
        data = (i < 3) ? account : addr;

        if (ngx_http_sekisho_hmac_key(p, key, prefix, (i < 3) ? "a:" : "i:",
                                      data->data, data->len)
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


u_char *
ngx_http_sekisho_attempt_account_hash(ngx_http_sekisho_attempt_t *a)
{
    return a->keys[0].data + a->keys[0].len - 2 - 64;
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
 * The reservation, with the deadline after which the gateway has given
 * it up, in Redis's clock: a script that runs later reserves nothing.
 */

ngx_int_t
ngx_http_sekisho_attempt_reserve(ngx_http_sekisho_attempt_t *a,
    ngx_http_sekisho_reserved_pt handler, void *owner)
{
    u_char                        *p, buf[9 * NGX_INT64_LEN];
    ngx_str_t                      args[NGX_HTTP_SEKISHO_LOGIN_KEYS + 9];
    ngx_uint_t                     i;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    for (i = 0; i < NGX_HTTP_SEKISHO_LOGIN_KEYS; i++) {
        args[i] = a->keys[i];
    }

    args[i++] = a->id;

    p = buf;
    i += ngx_http_sekisho_limit_args(&a->account_limit, &p, &args[i]);
    i += ngx_http_sekisho_limit_args(&a->ip_limit, &p, &args[i]);

    args[i].data = p;
    p = ngx_sprintf(p, "%ui", (ngx_uint_t) NGX_HTTP_SEKISHO_PENDING_MS);
    args[i].len = p - args[i].data;
    i++;

    args[i].data = p;
    p = ngx_sprintf(p, "%uL", ngx_http_sekisho_redis_deadline(a->redis,
                                                              &a->deadline));
    args[i].len = p - args[i].data;
    i++;

    cmd = ngx_http_sekisho_redis_eval(a->redis,
                                      &ngx_http_sekisho_reserve_script,
                                      NGX_HTTP_SEKISHO_LOGIN_KEYS, i, args,
                                      ngx_http_sekisho_attempt_reserved, a);
    if (cmd == NULL) {
        return NGX_DECLINED;
    }

    a->refs++;
    a->owner = owner;
    a->handler = handler;

    return NGX_OK;
}


/*
 * Redis answered the reservation (or did not).  The owner hears of it;
 * if the owner has gone, a reservation made is refunded at once, on the
 * same connection, after it.  One whose answer was lost is refunded
 * when Redis answers again.
 */

static void
ngx_http_sekisho_attempt_reserved(void *data, redisReply *reply)
{
    ngx_http_sekisho_attempt_t *a = data;

    ngx_int_t                       code, i;
    ngx_http_sekisho_reservation_t  res;

    code = -1;
    res.result = NGX_HTTP_SEKISHO_NO_ANSWER;
    res.attempts_left = -1;
    res.retry_after = 0;

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 4) {
        for (i = 0; i < 4; i++) {
            if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
                break;
            }
        }

        if (i == 4) {
            code = (ngx_int_t) reply->element[0]->integer;
            ngx_http_sekisho_redis_clock(a->redis,
                                        (uint64_t) reply->element[3]->integer);
        }
    }

    switch (code) {

    case 0:
        res.result = NGX_HTTP_SEKISHO_RESERVED;
        res.attempts_left = (reply->element[1]->integer >= 0)
                            ? (ngx_int_t) reply->element[1]->integer
                            : (ngx_int_t) reply->element[2]->integer;
        break;

    case 1:
    case 3:
        res.result = NGX_HTTP_SEKISHO_ACCOUNT_LOCKED;
        res.retry_after = (ngx_msec_t) reply->element[1]->integer;
        res.attempts_left = 0;
        break;

    case 2:
    case 4:
        res.result = NGX_HTTP_SEKISHO_IP_LOCKED;
        res.retry_after = (ngx_msec_t) reply->element[1]->integer;
        res.attempts_left = 0;
        break;

    case 5:
        /* too late: nothing was reserved */
        break;

    default:
        /* it may have run and its answer been lost: refund it later */
        a->outcome = NGX_HTTP_SEKISHO_OUTCOME_NONE;
        ngx_http_sekisho_attempt_retry(a);
        break;
    }

    if (a->owner) {
        a->handler(a->owner, &res);

    } else if (res.result == NGX_HTTP_SEKISHO_RESERVED) {
        a->outcome = NGX_HTTP_SEKISHO_OUTCOME_NONE;
        ngx_http_sekisho_attempt_send(a);
    }

    /* the command's reference */
    ngx_http_sekisho_attempt_release(a);
}


void
ngx_http_sekisho_attempt_settle(ngx_http_sekisho_attempt_t *a,
    ngx_uint_t outcome)
{
    a->outcome = outcome;
    ngx_http_sekisho_attempt_send(a);
}


void
ngx_http_sekisho_attempt_forget(ngx_http_sekisho_attempt_t *a)
{
    a->owner = NULL;
}


/* sent now, or kept to be sent again when Redis answers again */

static void
ngx_http_sekisho_attempt_send(ngx_http_sekisho_attempt_t *a)
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
                                      ngx_http_sekisho_attempt_settled, a);

    if (cmd == NULL) {
        ngx_http_sekisho_attempt_retry(a);
        return;
    }

    a->refs++;
}


static void
ngx_http_sekisho_attempt_settled(void *data, redisReply *reply)
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
            ngx_http_sekisho_attempt_send(a);

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


void
ngx_http_sekisho_attempt_release(ngx_http_sekisho_attempt_t *a)
{
    if (--a->refs == 0) {
        ngx_free(a);
    }
}
