
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_session_token.h"
#include "ngx_http_sekisho_session_logout.h"


/* how often each worker refreshes its copy of the list */
#define NGX_HTTP_SEKISHO_SYNC_MS        1000


typedef struct {
    ngx_rbtree_node_t               node;      /* key: sid's first bytes */
    ngx_queue_t                     queue;
    u_char                          sid[NGX_HTTP_SEKISHO_SID_LEN];
    time_t                          expires;
} ngx_http_sekisho_revoked_t;


/* a logout waiting for Redis */
typedef struct {
    ngx_http_sekisho_ctx_t         *ctx;
    ngx_http_sekisho_logout_pt      done;
} ngx_http_sekisho_logout_t;


static void ngx_http_sekisho_revoked_add(ngx_http_sekisho_logout_list_t *list,
    u_char *sid, time_t expires);
static void ngx_http_sekisho_revoked_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_sekisho_logout_recorded(void *data, redisReply *reply);
static void ngx_http_sekisho_logout_sync(ngx_event_t *ev);
static void ngx_http_sekisho_logout_synced(void *data, redisReply *reply);


/*
 * KEYS[1]: the logged-out list; ARGV: session id, lifetime (ms).
 * Scores are Redis's time, the same for every gateway; entries older
 * than a lifetime are of sessions that have expired anyway.
 */

static ngx_http_sekisho_redis_script_t  ngx_http_sekisho_revoke_script;

static const char  ngx_http_sekisho_revoke_lua[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"redis.call('ZADD', KEYS[1], now, ARGV[1])\n"
"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))\n"
"redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))\n"
"return now\n";


ngx_int_t
ngx_http_sekisho_logout_list_conf(ngx_conf_t *cf,
    ngx_http_sekisho_logout_list_t *list, ngx_http_sekisho_redis_t *redis,
    time_t lifetime)
{
    ngx_str_t  *prefix;

    list->redis = redis;
    list->lifetime = lifetime;

    if (redis == NULL) {
        return NGX_OK;
    }

    prefix = ngx_http_sekisho_redis_prefix(redis);

    list->key.len = prefix->len + sizeof("{jpki}:revoked") - 1;
    list->key.data = ngx_pnalloc(cf->pool, list->key.len);
    if (list->key.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(list->key.data, prefix->data, prefix->len),
               "{jpki}:revoked", sizeof("{jpki}:revoked") - 1);

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_logout_list_init(ngx_conf_t *cf)
{
    return ngx_http_sekisho_redis_script(&ngx_http_sekisho_revoke_script,
                                         ngx_http_sekisho_revoke_lua);
}


ngx_msec_t
ngx_http_sekisho_logout_list_age(ngx_http_sekisho_logout_list_t *list)
{
    return ngx_current_msec - (list->synced ? list->synced : list->started);
}


/* logout: listed in Redis for every gateway, here at once */

ngx_int_t
ngx_http_sekisho_logout_add(ngx_http_request_t *r,
    ngx_http_sekisho_logout_list_t *list, ngx_http_sekisho_session_t *s,
    ngx_http_sekisho_logout_pt done)
{
    u_char                     *p;
    ngx_str_t                   args[3];
    ngx_http_sekisho_ctx_t     *ctx;
    ngx_http_sekisho_logout_t  *lo;

    ctx = ngx_http_sekisho_ctx(r, 0);

    ngx_http_sekisho_revoked_add(list, s->sid, s->expires);

    lo = ngx_palloc(r->pool, sizeof(ngx_http_sekisho_logout_t));
    p = ngx_pnalloc(r->pool, 22 + NGX_INT64_LEN);

    if (ctx == NULL || lo == NULL || p == NULL) {
        return NGX_ERROR;
    }

    lo->ctx = ctx;
    lo->done = done;

    args[0] = list->key;
    args[1].data = p;
    args[1].len = ngx_http_sekisho_base64url_encode(p, s->sid,
                                                    NGX_HTTP_SEKISHO_SID_LEN);
    p += args[1].len;
    args[2].data = p;
    args[2].len = ngx_sprintf(p, "%T", list->lifetime * 1000) - p;

    ctx->jpki_cmd = ngx_http_sekisho_redis_eval(list->redis,
                                            &ngx_http_sekisho_revoke_script,
                                            1, 3, args,
                                            ngx_http_sekisho_logout_recorded,
                                            lo);

    return ctx->jpki_cmd ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_sekisho_logout_recorded(void *data, redisReply *reply)
{
    ngx_http_sekisho_logout_t *lo = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = lo->ctx->request;
    c = r->connection;
    lo->ctx->jpki_cmd = NULL;

    lo->done(r, reply != NULL && reply->type == REDIS_REPLY_INTEGER);

    ngx_http_run_posted_requests(c);
}


ngx_uint_t
ngx_http_sekisho_logout_listed(ngx_http_sekisho_logout_list_t *list,
    u_char *sid)
{
    ngx_rbtree_key_t             key;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_http_sekisho_revoked_t  *rv;

    if (list->tree.root == NULL) {
        return 0;
    }

    ngx_memcpy(&key, sid, sizeof(ngx_rbtree_key_t));

    node = list->tree.root;
    sentinel = list->tree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        rv = (ngx_http_sekisho_revoked_t *) node;

        if (ngx_memcmp(rv->sid, sid, NGX_HTTP_SEKISHO_SID_LEN) == 0) {
            return 1;
        }

        node = node->right;
    }

    return 0;
}


static void
ngx_http_sekisho_revoked_add(ngx_http_sekisho_logout_list_t *list,
    u_char *sid, time_t expires)
{
    ngx_http_sekisho_revoked_t  *rv;

    if (list->tree.root == NULL
        || ngx_http_sekisho_logout_listed(list, sid))
    {
        return;
    }

    rv = ngx_alloc(sizeof(ngx_http_sekisho_revoked_t), ngx_cycle->log);
    if (rv == NULL) {
        return;
    }

    ngx_memcpy(rv->sid, sid, NGX_HTTP_SEKISHO_SID_LEN);
    ngx_memcpy(&rv->node.key, sid, sizeof(ngx_rbtree_key_t));
    rv->expires = expires;

    ngx_rbtree_insert(&list->tree, &rv->node);
    ngx_queue_insert_tail(&list->queue, &rv->queue);
}


static void
ngx_http_sekisho_revoked_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {
        p = (node->key < temp->key) ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_int_t
ngx_http_sekisho_logout_list_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_logout_list_t *list)
{
    ngx_rbtree_init(&list->tree, &list->sentinel,
                    ngx_http_sekisho_revoked_insert);
    ngx_queue_init(&list->queue);

    list->started = ngx_current_msec;
    list->synced = 0;
    list->since = 0;

    list->sync.handler = ngx_http_sekisho_logout_sync;
    list->sync.data = list;
    list->sync.log = cycle->log;
    list->sync.cancelable = 1;

    ngx_add_timer(&list->sync, 1);

    return NGX_OK;
}


/* each second: the logout list's entries since the last look */

static void
ngx_http_sekisho_logout_sync(ngx_event_t *ev)
{
    u_char                          *p, buf[NGX_INT64_LEN + 2];
    ngx_str_t                        args[5];
    ngx_http_sekisho_logout_list_t  *list;

    list = ev->data;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    if (list->sync_cmd == NULL) {
        ngx_str_set(&args[0], "ZRANGEBYSCORE");
        args[1] = list->key;

        /* an overlap of two seconds: scores are not written in order */
        p = ngx_sprintf(buf, "%L",
                        list->since > 2000 ? list->since - 2000 : 0);
        args[2].data = buf;
        args[2].len = p - buf;

        ngx_str_set(&args[3], "+inf");
        ngx_str_set(&args[4], "WITHSCORES");

        list->sync_cmd = ngx_http_sekisho_redis_command(list->redis, 5,
                                              args,
                                              ngx_http_sekisho_logout_synced,
                                              list);
    }

    ngx_add_timer(&list->sync, NGX_HTTP_SEKISHO_SYNC_MS);
}


static void
ngx_http_sekisho_logout_synced(void *data, redisReply *reply)
{
    ngx_http_sekisho_logout_list_t *list = data;

    u_char                       sid[NGX_HTTP_SEKISHO_SID_LEN + 4];
    size_t                       n, i;
    time_t                       now;
    int64_t                      score;
    ngx_queue_t                 *q;
    redisReply                  *m, *sc;
    ngx_http_sekisho_revoked_t  *rv;

    list->sync_cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i + 1 < reply->elements; i += 2) {
        m = reply->element[i];
        sc = reply->element[i + 1];

        if (m->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING
            || ngx_http_sekisho_base64url_decode(sid, sizeof(sid),
                                                 (u_char *) m->str,
                                                 m->len, &n)
               != NGX_OK
            || n != NGX_HTTP_SEKISHO_SID_LEN)
        {
            continue;
        }

        score = (int64_t) ngx_atoof((u_char *) sc->str, sc->len);

        if (score > list->since) {
            list->since = score;
        }

        ngx_http_sekisho_revoked_add(list, sid,
                                     (time_t) (score / 1000) + list->lifetime);
    }

    list->synced = ngx_current_msec;

    /* sessions past their lifetime are refused anyway */
    now = ngx_time();

    while (!ngx_queue_empty(&list->queue)) {
        q = ngx_queue_head(&list->queue);
        rv = ngx_queue_data(q, ngx_http_sekisho_revoked_t, queue);

        if (rv->expires > now) {
            break;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&list->tree, &rv->node);
        ngx_free(rv);
    }
}
