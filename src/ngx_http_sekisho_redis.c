
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>
#include <openssl/sha.h>
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_redis_conf.h"
#include "ngx_http_sekisho_redis_node.h"
#include "ngx_http_sekisho_redis_parse.h"
#include "ngx_http_sekisho_redis_sentinel.h"
#include "ngx_http_sekisho_metrics.h"


/* EVALSHA sha numkeys key... arg... */
#define NGX_HTTP_SEKISHO_REDIS_MAX_ARGS    32

/* MOVED, ASK and READONLY followed in a row by a command, at most */
#define NGX_HTTP_SEKISHO_REDIS_MAX_REDIRECTS  5

/* TRYAGAIN: the wait before a command goes again, within its timeout */
#define NGX_HTTP_SEKISHO_REDIS_TRYAGAIN_MS    20

/* Sentinels asked again in a row when the node named is no master */
#define NGX_HTTP_SEKISHO_REDIS_MAX_ASKS    3


struct ngx_http_sekisho_redis_s {
    ngx_http_sekisho_redis_conf_t      conf;        /* made by the master */
    ngx_http_sekisho_redis_state_pt    on_state;

    /* the worker's connections */
    ngx_http_sekisho_redis_node_t     *nodes;
    ngx_uint_t                         nnodes;
    u_char                            *slots;       /* node + 1, or 0 */
    ngx_log_t                         *log;
    int64_t                            offset;      /* Redis - ours, ms */
    unsigned                           down_logged:1;
};


struct ngx_http_sekisho_redis_cmd_s {
    ngx_http_sekisho_redis_t        *rd;
    ngx_http_sekisho_redis_node_t   *node;          /* waited on, sent to */
    ngx_http_sekisho_redis_node_t   *ask;           /* ASK: once there */
    ngx_http_sekisho_redis_script_t *script;
    ngx_http_sekisho_redis_handler_pt handler;
    void                            *data;
    ngx_event_t                      timer;
    ngx_event_t                      again;         /* after TRYAGAIN */
    ngx_queue_t                      queue;
    ngx_uint_t                       slot;
    ngx_uint_t                       redirects;
    int                              argc;
    const char                      *argv[NGX_HTTP_SEKISHO_REDIS_MAX_ARGS];
    size_t                           argvlen[NGX_HTTP_SEKISHO_REDIS_MAX_ARGS];
    uint64_t                         sent;          /* microseconds */
    unsigned                         done:1;        /* handler called */
    unsigned                         in_flight:1;   /* hiredis holds it */
    unsigned                         queued:1;      /* in node->pending */
    unsigned                         waiting:1;     /* "again" is set */
    unsigned                         retried:1;     /* EVAL after NOSCRIPT */
    unsigned                         asking:1;      /* ASKING goes first */
    /* the argument bytes follow */
};


static ngx_http_sekisho_redis_cmd_t *ngx_http_sekisho_redis_send(
    ngx_http_sekisho_redis_t *rd, ngx_http_sekisho_redis_script_t *script,
    ngx_uint_t argc, ngx_str_t *argv,
    ngx_http_sekisho_redis_handler_pt handler, void *data);
static ngx_int_t ngx_http_sekisho_redis_route(
    ngx_http_sekisho_redis_cmd_t *cmd);
static ngx_int_t ngx_http_sekisho_redis_write(
    ngx_http_sekisho_redis_node_t *node, ngx_http_sekisho_redis_cmd_t *cmd);
static ngx_int_t ngx_http_sekisho_redis_redirect(
    ngx_http_sekisho_redis_cmd_t *cmd, redisAsyncContext *ac,
    redisReply *reply);
static ngx_http_sekisho_redis_node_t *ngx_http_sekisho_redis_cluster_node(
    ngx_http_sekisho_redis_t *rd, ngx_http_sekisho_redis_addr_t *addr);
static void ngx_http_sekisho_redis_forget(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_node_t *node);
static uint64_t ngx_http_sekisho_redis_now(void);
static uint64_t ngx_http_sekisho_redis_wall(void);
static ngx_int_t ngx_http_sekisho_redis_connect(
    ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_master(void *data,
    ngx_http_sekisho_redis_addr_t *master,
    ngx_http_sekisho_redis_addr_t *from, ngx_uint_t event);
static void ngx_http_sekisho_redis_ask_again(
    ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_node_event(
    ngx_http_sekisho_redis_node_t *node, ngx_uint_t event, const char *why);
static void ngx_http_sekisho_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_sekisho_redis_again(ngx_event_t *ev);
static void ngx_http_sekisho_redis_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_finish(ngx_http_sekisho_redis_cmd_t *cmd,
    redisReply *reply);


/*
 * The directive is read by redis_conf.c; the worker's state is made by
 * init_worker().
 */

char *
ngx_http_sekisho_redis_conf(ngx_conf_t *cf, ngx_http_sekisho_redis_t **rdp)
{
    ngx_http_sekisho_redis_t  *rd;

    if (*rdp) {
        return "is duplicate";
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_sekisho_redis_conf_parse(cf, &rd->conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    *rdp = rd;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_sekisho_redis_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_redis_t *rd)
{
    ngx_uint_t                      i, n;
    ngx_http_sekisho_redis_node_t  *node;

    rd->log = cycle->log;

    n = (rd->conf.mode == NGX_HTTP_SEKISHO_REDIS_CLUSTER)
        ? NGX_HTTP_SEKISHO_REDIS_MAX_NODES : 1;

    rd->nodes = ngx_pcalloc(cycle->pool,
                            n * sizeof(ngx_http_sekisho_redis_node_t));
    if (rd->nodes == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        node = &rd->nodes[i];

        ngx_http_sekisho_redis_node_init(node, &rd->conf, cycle->log,
                                         ngx_http_sekisho_redis_node_event,
                                         rd);
    }

    switch (rd->conf.mode) {

    case NGX_HTTP_SEKISHO_REDIS_CLUSTER:
        rd->slots = ngx_pcalloc(cycle->pool, NGX_HTTP_SEKISHO_REDIS_SLOTS);
        if (rd->slots == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < rd->conf.nseeds; i++) {
            rd->nodes[i].addr = rd->conf.seeds[i];
        }

        rd->nnodes = rd->conf.nseeds;
        break;

    case NGX_HTTP_SEKISHO_REDIS_SENTINEL:
        ngx_http_sekisho_redis_sentinel_init(rd->conf.sentinel, cycle->log,
                                             ngx_http_sekisho_redis_master,
                                             rd);
        rd->nodes[0].stale = 1;
        rd->nnodes = 1;
        break;

    default:
        rd->nodes[0].addr = rd->conf.addr;
        rd->nnodes = 1;
    }

    /* the connections are opened by the first command */

    return NGX_OK;
}


/* a worker that exits closes its connections; nginx checks for leftovers */

void
ngx_http_sekisho_redis_exit_worker(ngx_http_sekisho_redis_t *rd)
{
    ngx_uint_t                      i;
    redisAsyncContext              *ac;
    ngx_http_sekisho_redis_node_t  *node;

    if (rd->conf.sentinel) {
        ngx_http_sekisho_redis_sentinel_exit(rd->conf.sentinel);
    }

    for (i = 0; i < rd->nnodes; i++) {
        node = &rd->nodes[i];

        if (node->connect_timer.timer_set) {
            ngx_del_timer(&node->connect_timer);
        }

        ac = node->ac;
        node->ac = NULL;
        node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;

        if (ac) {
            redisAsyncFree(ac);
        }
    }
}


ngx_str_t *
ngx_http_sekisho_redis_prefix(ngx_http_sekisho_redis_t *rd)
{
    return &rd->conf.prefix;
}


void
ngx_http_sekisho_redis_on_state(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_state_pt handler)
{
    rd->on_state = handler;
}


ngx_int_t
ngx_http_sekisho_redis_script(ngx_http_sekisho_redis_script_t *s,
    const char *body)
{
    u_char  md[SHA_DIGEST_LENGTH];

    s->body.data = (u_char *) body;
    s->body.len = ngx_strlen(body);

    if (SHA1(s->body.data, s->body.len, md) == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(s->sha1, md, SHA_DIGEST_LENGTH);

    return NGX_OK;
}


/*
 * Sends EVALSHA.  NULL means Redis cannot be asked now (down, backing
 * off, or out of memory): the caller applies its failure policy at
 * once instead of waiting.
 */

ngx_http_sekisho_redis_cmd_t *
ngx_http_sekisho_redis_eval(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_script_t *script, ngx_uint_t nkeys,
    ngx_uint_t nargs, ngx_str_t *args,
    ngx_http_sekisho_redis_handler_pt handler, void *data)
{
    u_char      n[NGX_INT_T_LEN];
    ngx_str_t   argv[NGX_HTTP_SEKISHO_REDIS_MAX_ARGS];
    ngx_uint_t  i;

    if (nargs + 3 > NGX_HTTP_SEKISHO_REDIS_MAX_ARGS || nkeys > nargs) {
        return NULL;
    }

    ngx_str_set(&argv[0], "EVALSHA");
    argv[1].data = script->sha1;
    argv[1].len = 40;
    argv[2].data = n;
    argv[2].len = ngx_sprintf(n, "%ui", nkeys) - n;

    for (i = 0; i < nargs; i++) {
        argv[i + 3] = args[i];
    }

    return ngx_http_sekisho_redis_send(rd, script, nargs + 3, argv, handler,
                                       data);
}


/* any other command, e.g. XADD */

ngx_http_sekisho_redis_cmd_t *
ngx_http_sekisho_redis_command(ngx_http_sekisho_redis_t *rd, ngx_uint_t argc,
    ngx_str_t *argv, ngx_http_sekisho_redis_handler_pt handler, void *data)
{
    if (argc > NGX_HTTP_SEKISHO_REDIS_MAX_ARGS) {
        return NULL;
    }

    return ngx_http_sekisho_redis_send(rd, NULL, argc, argv, handler, data);
}


static ngx_http_sekisho_redis_cmd_t *
ngx_http_sekisho_redis_send(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_script_t *script, ngx_uint_t argc, ngx_str_t *argv,
    ngx_http_sekisho_redis_handler_pt handler, void *data)
{
    u_char                        *p;
    size_t                         size;
    ngx_uint_t                     i, key;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    size = sizeof(ngx_http_sekisho_redis_cmd_t);
    for (i = 0; i < argc; i++) {
        size += argv[i].len;
    }

    cmd = ngx_calloc(size, rd->log);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->rd = rd;
    cmd->script = script;
    cmd->handler = handler;
    cmd->data = data;

    p = (u_char *) cmd + sizeof(ngx_http_sekisho_redis_cmd_t);

    for (i = 0; i < argc; i++) {
        cmd->argv[i] = (const char *) p;
        cmd->argvlen[i] = argv[i].len;
        p = ngx_cpymem(p, argv[i].data, argv[i].len);
    }

    cmd->argc = argc;

    /* the first key: after EVALSHA's sha and numkeys, else the first word */
    if (rd->conf.mode == NGX_HTTP_SEKISHO_REDIS_CLUSTER && argc > 1) {
        key = (script && argc > 3) ? 3 : 1;
        cmd->slot = ngx_http_sekisho_redis_key_slot((u_char *) cmd->argv[key],
                                                    cmd->argvlen[key]);
    }

    cmd->timer.handler = ngx_http_sekisho_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = rd->log;

    if (ngx_http_sekisho_redis_route(cmd) != NGX_OK) {
        ngx_free(cmd);
        return NULL;
    }

    ngx_add_timer(&cmd->timer, rd->conf.timeout);

    return cmd;
}


/*
 * To the node of the command's slot (or of its ASK), sent at once when
 * that node is ready, else kept until it is: a command kept has not
 * been written, so that it may go elsewhere if its node changes.
 * NGX_ERROR: no node can take it now (down, backing off).
 */

static ngx_int_t
ngx_http_sekisho_redis_route(ngx_http_sekisho_redis_cmd_t *cmd)
{
    ngx_uint_t                      i;
    ngx_http_sekisho_redis_t       *rd;
    ngx_http_sekisho_redis_node_t  *node;

    rd = cmd->rd;
    node = &rd->nodes[0];

    /* ASKING again with EVAL after NOSCRIPT: the write keeps it */
    cmd->asking = 0;

    if (cmd->ask) {
        node = cmd->ask;
        cmd->ask = NULL;
        cmd->asking = 1;

    } else if (rd->slots && rd->slots[cmd->slot]) {
        node = &rd->nodes[rd->slots[cmd->slot] - 1];

        /* down and waiting: the slot is asked of the others (below) */
        if (ngx_http_sekisho_redis_waiting(node) && cmd->redirects == 0) {
            ngx_http_sekisho_redis_forget(rd, node);
        }
    }

    if (rd->slots && rd->slots[cmd->slot] == 0 && !cmd->asking) {
        /* a slot not seen yet: any node answers it or says MOVED */
        for (i = 0; i < rd->nnodes; i++) {
            if (rd->nodes[i].state == NGX_HTTP_SEKISHO_REDIS_READY) {
                node = &rd->nodes[i];
                break;
            }

            if (!ngx_http_sekisho_redis_waiting(&rd->nodes[i])) {
                node = &rd->nodes[i];
            }
        }
    }

    cmd->node = node;

    switch (node->state) {

    case NGX_HTTP_SEKISHO_REDIS_READY:
        return ngx_http_sekisho_redis_write(node, cmd);

    case NGX_HTTP_SEKISHO_REDIS_DOWN:
        if (ngx_http_sekisho_redis_waiting(node)
            || ngx_http_sekisho_redis_connect(node) != NGX_OK)
        {
            ngx_http_sekisho_metrics_count(
                                      NGX_HTTP_SEKISHO_M_REDIS_UNAVAILABLE);
            return NGX_ERROR;
        }

        /* fall through */

    default:
        ngx_queue_insert_tail(&node->pending, &cmd->queue);
        cmd->queued = 1;
        return NGX_OK;
    }
}


static ngx_int_t
ngx_http_sekisho_redis_write(ngx_http_sekisho_redis_node_t *node,
    ngx_http_sekisho_redis_cmd_t *cmd)
{
    cmd->node = node;

    /* ASKING holds for the one command that follows it */
    if (cmd->asking
        && redisAsyncCommand(node->ac, NULL, NULL, "ASKING") != REDIS_OK)
    {
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(node->ac, ngx_http_sekisho_redis_reply, cmd,
                              cmd->argc, cmd->argv, cmd->argvlen)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    cmd->in_flight = 1;
    cmd->sent = ngx_http_sekisho_redis_now();

    return NGX_OK;
}


/* microseconds, for the latency histogram */

static uint64_t
ngx_http_sekisho_redis_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/*
 * The gateway gives a command up "timeout" after sending it.  Until a
 * reply says what time Redis keeps, the clocks are taken to agree (as
 * NTP keeps them); after one, the offset measured is used, which errs
 * early, never late: Redis's time was read before the reply reached us.
 */

uint64_t
ngx_http_sekisho_redis_deadline(ngx_http_sekisho_redis_t *rd,
    ngx_msec_t *local)
{
    *local = ngx_current_msec + rd->conf.timeout;

    return (uint64_t) ((int64_t) ngx_http_sekisho_redis_wall() + rd->offset
                       + (int64_t) rd->conf.timeout);
}


void
ngx_http_sekisho_redis_clock(ngx_http_sekisho_redis_t *rd, uint64_t redis_ms)
{
    rd->offset = (int64_t) redis_ms - (int64_t) ngx_http_sekisho_redis_wall();
}


/* milliseconds since the epoch, read now, not the event loop's cache */

static uint64_t
ngx_http_sekisho_redis_wall(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* the request went away: its handler must never be called */

void
ngx_http_sekisho_redis_cancel(ngx_http_sekisho_redis_cmd_t *cmd)
{
    cmd->done = 1;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (cmd->queued) {
        ngx_queue_remove(&cmd->queue);
        cmd->queued = 0;
    }

    if (cmd->waiting) {
        ngx_del_timer(&cmd->again);
        cmd->waiting = 0;
    }

    if (!cmd->in_flight) {
        ngx_free(cmd);
    }
}


static void
ngx_http_sekisho_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                    *reply = r;
    ngx_http_sekisho_redis_cmd_t  *cmd = privdata;

    cmd->in_flight = 0;

    if (reply) {
        ngx_http_sekisho_metrics_redis_latency(ngx_http_sekisho_redis_now()
                                               - cmd->sent);
    }

    if (cmd->done) {
        ngx_free(cmd);
        return;
    }

    /* the script cache is empty after a restart, a failover, on a new node */
    if (reply && reply->type == REDIS_REPLY_ERROR
        && cmd->script && !cmd->retried
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0
        && cmd->node->ac == ac)
    {
        cmd->retried = 1;
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = sizeof("EVAL") - 1;
        cmd->argv[1] = (const char *) cmd->script->body.data;
        cmd->argvlen[1] = cmd->script->body.len;

        if (ngx_http_sekisho_redis_write(cmd->node, cmd) == NGX_OK) {
            return;
        }

        reply = NULL;
    }

    /* answers that say the command did not run: it may go again */
    if (reply && reply->type == REDIS_REPLY_ERROR
        && cmd->redirects < NGX_HTTP_SEKISHO_REDIS_MAX_REDIRECTS)
    {
        switch (ngx_http_sekisho_redis_redirect(cmd, ac, reply)) {

        case NGX_OK:
            return;

        case NGX_ERROR:
            reply = NULL;
            break;

        default: /* NGX_DECLINED: an error to report */
            break;
        }
    }

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_REDIS_ERROR);

        ngx_log_error(NGX_LOG_ERR, cmd->rd->log, 0,
                      "sekisho: redis %V answered an error: %*s",
                      &cmd->rd->conf.name, (size_t) reply->len, reply->str);
        reply = NULL;
    }

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    ngx_http_sekisho_redis_finish(cmd, reply);

    ngx_free(cmd);
}


/*
 * MOVED (the slot lives elsewhere now: remembered), ASK (the slot is
 * being moved: this once to the other node, after ASKING), READONLY
 * (a replica, after a failover: the Sentinels are asked again) and
 * TRYAGAIN are answers of a command that did not run, so it is sent
 * again.  NGX_OK: sent or kept; NGX_DECLINED: another error; NGX_ERROR:
 * to be failed.
 */

static ngx_int_t
ngx_http_sekisho_redis_redirect(ngx_http_sekisho_redis_cmd_t *cmd,
    redisAsyncContext *ac, redisReply *reply)
{
    ngx_int_t                       kind;
    ngx_uint_t                      slot;
    ngx_http_sekisho_redis_t       *rd;
    ngx_http_sekisho_redis_addr_t   addr;
    ngx_http_sekisho_redis_node_t  *node;

    rd = cmd->rd;

    if (rd->conf.mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL
        && ngx_strncmp(reply->str, "READONLY", 8) == 0)
    {
        node = cmd->node;

        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "sekisho: redis %V: %s:%d is a replica now, "
                      "asking the Sentinels again", &rd->conf.name,
                      node->addr.host, node->addr.port);

        if (node->ac == ac) {
            ngx_http_sekisho_redis_ask_again(node);
        }

        cmd->redirects++;
        return ngx_http_sekisho_redis_route(cmd);
    }

    if (rd->conf.mode != NGX_HTTP_SEKISHO_REDIS_CLUSTER) {
        return NGX_DECLINED;
    }

    /* the slot is being moved and the keys are split: not for long */
    if (ngx_strncmp(reply->str, "TRYAGAIN", 8) == 0) {
        cmd->redirects = 0;
        cmd->waiting = 1;
        cmd->again.handler = ngx_http_sekisho_redis_again;
        cmd->again.data = cmd;
        cmd->again.log = rd->log;

        ngx_add_timer(&cmd->again, NGX_HTTP_SEKISHO_REDIS_TRYAGAIN_MS);
        return NGX_OK;
    }

    kind = ngx_http_sekisho_redis_parse_redirect((u_char *) reply->str,
                                                 reply->len, &slot, &addr);

    if (kind != NGX_HTTP_SEKISHO_REDIS_MOVED
        && kind != NGX_HTTP_SEKISHO_REDIS_ASK)
    {
        return NGX_DECLINED;
    }

    node = ngx_http_sekisho_redis_cluster_node(rd, &addr);
    if (node == NULL) {
        return NGX_ERROR;
    }

    /* the cluster still names a node found down: not failed over yet */
    if (ngx_http_sekisho_redis_waiting(node)) {
        ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_REDIS_UNAVAILABLE);
        return NGX_ERROR;
    }

    cmd->redirects++;

    if (kind == NGX_HTTP_SEKISHO_REDIS_MOVED) {
        if (rd->slots[slot] != node - rd->nodes + 1) {
            ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                          "sekisho: redis %V: MOVED slot %ui to %s:%d",
                          &rd->conf.name, slot, addr.host, addr.port);
        }

        rd->slots[slot] = (u_char) (node - rd->nodes + 1);

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "sekisho: redis %V: ASK slot %ui at %s:%d",
                      &rd->conf.name, slot, addr.host, addr.port);

        cmd->ask = node;
    }

    return ngx_http_sekisho_redis_route(cmd);
}


/* a cluster node by its address, added when first named */

static ngx_http_sekisho_redis_node_t *
ngx_http_sekisho_redis_cluster_node(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_addr_t *addr)
{
    ngx_uint_t                      i;
    ngx_http_sekisho_redis_node_t  *node;

    for (i = 0; i < rd->nnodes; i++) {
        if (ngx_http_sekisho_redis_same_addr(&rd->nodes[i].addr, addr)) {
            return &rd->nodes[i];
        }
    }

    if (rd->nnodes == NGX_HTTP_SEKISHO_REDIS_MAX_NODES) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "sekisho: redis %V: more than %d nodes, %s:%d not "
                      "connected", &rd->conf.name,
                      NGX_HTTP_SEKISHO_REDIS_MAX_NODES, addr->host,
                      addr->port);
        return NULL;
    }

    node = &rd->nodes[rd->nnodes++];
    node->addr = *addr;

    return node;
}


/*
 * A cluster node down loses its slots here: after a failover its
 * replica serves them, and any other node says so with MOVED.  A
 * command already redirected does not come back here (a MOVED to the
 * node down: the cluster has not failed over yet, the command fails).
 */

static void
ngx_http_sekisho_redis_forget(ngx_http_sekisho_redis_t *rd,
    ngx_http_sekisho_redis_node_t *node)
{
    u_char      n;
    ngx_uint_t  i, forgot;

    n = (u_char) (node - rd->nodes + 1);
    forgot = 0;

    for (i = 0; i < NGX_HTTP_SEKISHO_REDIS_SLOTS; i++) {
        if (rd->slots[i] == n) {
            rd->slots[i] = 0;
            forgot++;
        }
    }

    if (forgot) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "sekisho: redis %V: %s:%d is down, its %ui slots are "
                      "asked of the other nodes", &rd->conf.name,
                      node->addr.host, node->addr.port, forgot);
    }
}


static void
ngx_http_sekisho_redis_again(ngx_event_t *ev)
{
    ngx_http_sekisho_redis_cmd_t  *cmd = ev->data;

    cmd->waiting = 0;

    if (ngx_http_sekisho_redis_route(cmd) != NGX_OK) {
        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        ngx_http_sekisho_redis_finish(cmd, NULL);
        ngx_free(cmd);
    }
}


/*
 * A command that did not get its answer in time fails, and so does the
 * connection: a healthy Redis answers within the timeout, and a stalled
 * one would only queue more commands behind the first.
 */

static void
ngx_http_sekisho_redis_timeout(ngx_event_t *ev)
{
    void                               *data;
    ngx_uint_t                          mine;
    ngx_http_sekisho_redis_t           *rd;
    ngx_http_sekisho_redis_cmd_t       *cmd;
    ngx_http_sekisho_redis_node_t      *node;
    ngx_http_sekisho_redis_handler_pt   handler;

    cmd = ev->data;
    rd = cmd->rd;
    node = cmd->node;
    handler = cmd->handler;
    data = cmd->data;

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "sekisho: redis %V did not answer within %M ms",
                  &rd->conf.name, rd->conf.timeout);

    ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_REDIS_TIMEOUT);

    /* dropping the connection frees a command sent: it must be done first */
    cmd->done = 1;

    if (cmd->queued) {
        ngx_queue_remove(&cmd->queue);
        cmd->queued = 0;
    }

    mine = !cmd->in_flight;

    if (cmd->waiting) {
        /* waiting for a slot to settle: the connection is fine */
        ngx_del_timer(&cmd->again);
        cmd->waiting = 0;

    } else if (node->state != NGX_HTTP_SEKISHO_REDIS_DOWN) {
        ngx_http_sekisho_redis_node_drop(node, "command timed out");
    }

    if (mine) {
        ngx_free(cmd);
    }

    handler(data, NULL);
}


static void
ngx_http_sekisho_redis_finish(ngx_http_sekisho_redis_cmd_t *cmd,
    redisReply *reply)
{
    cmd->done = 1;
    cmd->handler(cmd->data, reply);
}


/* Sentinel's master is asked for first, unless it is known and current */

static ngx_int_t
ngx_http_sekisho_redis_connect(ngx_http_sekisho_redis_node_t *node)
{
    ngx_http_sekisho_redis_t  *rd = node->data;

    if (rd->conf.mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL && node->stale) {
        node->state = NGX_HTTP_SEKISHO_REDIS_DISCOVER;
        ngx_http_sekisho_redis_sentinel_ask(rd->conf.sentinel);

        /* no Sentinel could be asked: the node is down already */
        return node->state == NGX_HTTP_SEKISHO_REDIS_DOWN ? NGX_ERROR
                                                          : NGX_OK;
    }

    return ngx_http_sekisho_redis_node_open(node);
}


/*
 * The Sentinels' answer.  An answer to a question connects to the
 * master named.  A message (+promoted-slave, +switch-master) closes the
 * connection to the old master at once: a command in flight there fails
 * (it may have run), and the next one goes to the new master, rather
 * than to the old one, whose writes from now on would be lost when it
 * is made a replica.
 */

static void
ngx_http_sekisho_redis_master(void *data, ngx_http_sekisho_redis_addr_t *master,
    ngx_http_sekisho_redis_addr_t *from, ngx_uint_t event)
{
    ngx_uint_t                      pending;
    ngx_http_sekisho_redis_t       *rd = data;
    ngx_http_sekisho_redis_node_t  *node;

    static const char  *how[] = { "", " (+promoted-slave)",
                                  " (+switch-master)" };

    node = &rd->nodes[0];

    if (master == NULL) {
        if (node->state == NGX_HTTP_SEKISHO_REDIS_DISCOVER) {
            ngx_http_sekisho_redis_node_down(node, "no Sentinel answered");
        }

        return;
    }

    /* an answer comes to a question; a late one is not used */
    if (event == NGX_HTTP_SEKISHO_REDIS_ANSWERED
        && node->state != NGX_HTTP_SEKISHO_REDIS_DISCOVER)
    {
        return;
    }

    if (node->addr.port && !ngx_http_sekisho_redis_same_addr(&node->addr,
                                                             master))
    {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "sekisho: redis master \"%V\" failed over from %s:%d "
                      "to %s:%d%s", &rd->conf.name, node->addr.host,
                      node->addr.port, master->host, master->port,
                      how[event]);

    } else if (event != NGX_HTTP_SEKISHO_REDIS_ANSWERED && !node->stale) {
        /* the master in use already */
        return;
    }

    node->addr = *master;
    node->stale = 0;

    if (node->state != NGX_HTTP_SEKISHO_REDIS_DISCOVER) {
        pending = !ngx_queue_empty(&node->pending);

        /* the next command connects at once, without backoff */
        ngx_http_sekisho_redis_node_close(node);

        if (!pending) {
            return;
        }
    }

    /* commands wait: to the master now */
    (void) ngx_http_sekisho_redis_node_open(node);
}


/*
 * The node is no master (any more): its connection is closed before a
 * command is written, and the Sentinels are asked again; the commands
 * kept wait for the answer.
 */

static void
ngx_http_sekisho_redis_ask_again(ngx_http_sekisho_redis_node_t *node)
{
    ngx_http_sekisho_redis_t  *rd = node->data;

    if (++node->asks > NGX_HTTP_SEKISHO_REDIS_MAX_ASKS) {
        ngx_http_sekisho_redis_node_drop(node, "the Sentinels name no master");
        return;
    }

    ngx_http_sekisho_redis_node_close(node);

    node->stale = 1;
    node->state = NGX_HTTP_SEKISHO_REDIS_DISCOVER;

    ngx_http_sekisho_redis_sentinel_ask(rd->conf.sentinel);
}


/*
 * A node ready sends the commands kept, in order; a node down fails
 * them (they were never written: the caller's failure policy applies
 * at once rather than after a wait).  Down and back are logged and
 * told once each way, for all the nodes together.
 */

static void
ngx_http_sekisho_redis_node_event(ngx_http_sekisho_redis_node_t *node,
    ngx_uint_t event, const char *why)
{
    ngx_queue_t                   *q;
    ngx_http_sekisho_redis_t      *rd;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    rd = node->data;

    if (event == NGX_HTTP_SEKISHO_REDIS_NODE_REPLICA) {
        ngx_http_sekisho_redis_ask_again(node);
        return;
    }

    if (event == NGX_HTTP_SEKISHO_REDIS_NODE_READY && rd->down_logged) {
        rd->down_logged = 0;
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "sekisho: redis %V recovered (%s:%d)", &rd->conf.name,
                      node->addr.host, node->addr.port);
    }

    /*
     * Every connection made says Redis is up, also a new worker's after
     * a reload during an outage (the node's state is shared and kept):
     * the handler alerts only on a change.
     */
    if (event == NGX_HTTP_SEKISHO_REDIS_NODE_READY && rd->on_state) {
        rd->on_state(0, &rd->conf.name);
    }

    if (event == NGX_HTTP_SEKISHO_REDIS_NODE_DOWN
        && rd->conf.mode == NGX_HTTP_SEKISHO_REDIS_CLUSTER)
    {
        ngx_http_sekisho_redis_forget(rd, node);
    }

    if (event == NGX_HTTP_SEKISHO_REDIS_NODE_DOWN && !rd->down_logged) {
        rd->down_logged = 1;
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "sekisho: redis %V unavailable: %s (%s:%d)",
                      &rd->conf.name, why,
                      node->addr.port ? (char *) node->addr.host : "-",
                      node->addr.port);
        if (rd->on_state) {
            rd->on_state(1, &rd->conf.name);
        }
    }

    while (!ngx_queue_empty(&node->pending)) {
        q = ngx_queue_head(&node->pending);
        ngx_queue_remove(q);

        cmd = ngx_queue_data(q, ngx_http_sekisho_redis_cmd_t, queue);
        cmd->queued = 0;

        if (event == NGX_HTTP_SEKISHO_REDIS_NODE_READY
            && node->state == NGX_HTTP_SEKISHO_REDIS_READY
            && ngx_http_sekisho_redis_write(node, cmd) == NGX_OK)
        {
            continue;
        }

        /* never written: in a cluster another node may take it */
        if (event == NGX_HTTP_SEKISHO_REDIS_NODE_DOWN
            && rd->conf.mode == NGX_HTTP_SEKISHO_REDIS_CLUSTER
            && cmd->redirects == 0 && cmd->ask == NULL && !cmd->asking
            && ngx_http_sekisho_redis_route(cmd) == NGX_OK)
        {
            continue;
        }

        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        ngx_http_sekisho_redis_finish(cmd, NULL);
        ngx_free(cmd);
    }
}


