
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>
#include <openssl/sha.h>
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_redis_conn.h"
#include "ngx_http_sekisho_redis_parse.h"
#include "ngx_http_sekisho_redis_sentinel.h"
#include "ngx_http_sekisho_secret.h"
#include "ngx_http_sekisho_metrics.h"


#define NGX_HTTP_SEKISHO_REDIS_SINGLE      0
#define NGX_HTTP_SEKISHO_REDIS_SENTINEL    1
#define NGX_HTTP_SEKISHO_REDIS_CLUSTER     2

/* a node's connection */
#define NGX_HTTP_SEKISHO_REDIS_DOWN        0
#define NGX_HTTP_SEKISHO_REDIS_DISCOVER    1    /* asking the Sentinels */
#define NGX_HTTP_SEKISHO_REDIS_CONNECTING  2
#define NGX_HTTP_SEKISHO_REDIS_READY       3

#define NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX  5000

/* EVALSHA sha numkeys key... arg... */
#define NGX_HTTP_SEKISHO_REDIS_MAX_ARGS    32

/* the cluster's nodes a worker may know */
#define NGX_HTTP_SEKISHO_REDIS_MAX_NODES   16

/* MOVED, ASK, READONLY and TRYAGAIN followed per command, at most */
#define NGX_HTTP_SEKISHO_REDIS_MAX_REDIRECTS  5

/* Sentinels asked again in a row when the node named is no master */
#define NGX_HTTP_SEKISHO_REDIS_MAX_ASKS    3


typedef struct {
    ngx_http_sekisho_redis_t        *rd;
    ngx_http_sekisho_redis_addr_t    addr;          /* port 0: not known */
    redisAsyncContext               *ac;
    ngx_uint_t                       state;
    ngx_uint_t                       asks;
    ngx_msec_t                       backoff;
    ngx_msec_t                       next_attempt;
    ngx_event_t                      connect_timer;
    ngx_queue_t                      pending;       /* not yet sent */
    unsigned                         stale:1;       /* ask the Sentinels */
} ngx_http_sekisho_redis_node_t;


struct ngx_http_sekisho_redis_s {
    /* configuration, made by the master */
    ngx_uint_t                         mode;
    ngx_str_t                          name;        /* for the logs */
    ngx_http_sekisho_redis_addr_t      addr;        /* a single server */
    u_char                            *unix_path;
    ngx_http_sekisho_redis_addr_t     *seeds;       /* cluster */
    ngx_uint_t                         nseeds;
    ngx_http_sekisho_redis_sentinel_t *sentinel;
    ngx_uint_t                         db;
    ngx_str_t                          password;
    ngx_msec_t                         timeout;
    ngx_str_t                          prefix;
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
    unsigned                         retried:1;     /* EVAL after NOSCRIPT */
    unsigned                         asking:1;      /* ASKING goes first */
    /* the argument bytes follow */
};


static char *ngx_http_sekisho_redis_conf_check(ngx_conf_t *cf,
    ngx_http_sekisho_redis_t *rd, ngx_str_t *addr, ngx_str_t *sentinel,
    ngx_str_t *cluster, ngx_str_t *master, ngx_str_t *spass);
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
static uint64_t ngx_http_sekisho_redis_now(void);
static uint64_t ngx_http_sekisho_redis_wall(void);
static ngx_int_t ngx_http_sekisho_redis_connect(
    ngx_http_sekisho_redis_node_t *node);
static ngx_int_t ngx_http_sekisho_redis_open_node(
    ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_master(void *data,
    ngx_http_sekisho_redis_addr_t *master,
    ngx_http_sekisho_redis_addr_t *from, ngx_uint_t switched);
static void ngx_http_sekisho_redis_ask_again(
    ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_ready(ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_down(ngx_http_sekisho_redis_node_t *node,
    const char *why);
static void ngx_http_sekisho_redis_drop(ngx_http_sekisho_redis_node_t *node,
    const char *why);
static void ngx_http_sekisho_redis_close(ngx_http_sekisho_redis_node_t *node);
static void ngx_http_sekisho_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_sekisho_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_sekisho_redis_setup_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_sekisho_redis_role_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_sekisho_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_sekisho_redis_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_finish(ngx_http_sekisho_redis_cmd_t *cmd,
    redisReply *reply);


/*
 * sekisho_redis <host:port | unix:path
 *                | sentinel=host:port[,...] master=name
 *                | cluster=host:port[,...]>
 *               [db=N] [password_file=file] [sentinel_password_file=file]
 *               [timeout=time] [prefix=str];
 *
 * Host names are resolved here, at configuration time, because hiredis
 * would resolve them with a blocking getaddrinfo() in the worker.
 */

char *
ngx_http_sekisho_redis_conf(ngx_conf_t *cf, ngx_http_sekisho_redis_t **rdp)
{
    ngx_int_t                  n;
    ngx_str_t                 *value, s, file, addr, sentinel, cluster,
                               master, spass;
    ngx_uint_t                 i;
    ngx_http_sekisho_redis_t  *rd;

    if (*rdp) {
        return "is duplicate";
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    rd->timeout = 200;
    ngx_str_set(&rd->prefix, "sekisho:");

    ngx_str_null(&addr);
    ngx_str_null(&sentinel);
    ngx_str_null(&cluster);
    ngx_str_null(&master);
    ngx_str_null(&spass);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            sentinel.data = value[i].data + 9;
            sentinel.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            master.data = value[i].data + 7;
            master.len = value[i].len - 7;

            if (master.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "cluster=", 8) == 0) {
            cluster.data = value[i].data + 8;
            cluster.len = value[i].len - 8;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 65535) {
                goto invalid;
            }

            rd->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rd->timeout = ngx_parse_time(&s, 0);
            if (rd->timeout == (ngx_msec_t) NGX_ERROR || rd->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rd->prefix.data = value[i].data + 7;
            rd->prefix.len = value[i].len - 7;

            /* braces would break the {hash tag} of the keys */
            if (rd->prefix.len == 0
                || ngx_strlchr(rd->prefix.data,
                               rd->prefix.data + rd->prefix.len, '{')
                || ngx_strlchr(rd->prefix.data,
                               rd->prefix.data + rd->prefix.len, '}'))
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            file.data = value[i].data + 14;
            file.len = value[i].len - 14;

            if (ngx_http_sekisho_read_secret(cf, &file, 1, &rd->password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_password_file=", 23) == 0) {
            file.data = value[i].data + 23;
            file.len = value[i].len - 23;

            if (ngx_http_sekisho_read_secret(cf, &file, 1, &spass)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            if (spass.len == 0) {
                goto invalid;
            }

            continue;
        }

        /* the address comes first, and is no "name=value" */
        if (i == 1
            && (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')
                == NULL
                || ngx_strncmp(value[i].data, "unix:", 5) == 0))
        {
            addr = value[i];
            continue;
        }

        goto invalid;
    }

    if (ngx_http_sekisho_redis_conf_check(cf, rd, &addr, &sentinel, &cluster,
                                          &master, &spass)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    *rdp = rd;
    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"sekisho_redis\" "
                       "directive", &value[i]);

    return NGX_CONF_ERROR;
}


/* one way to reach Redis, and the parameters that belong to it */

static char *
ngx_http_sekisho_redis_conf_check(ngx_conf_t *cf, ngx_http_sekisho_redis_t *rd,
    ngx_str_t *addr, ngx_str_t *sentinel, ngx_str_t *cluster,
    ngx_str_t *master, ngx_str_t *spass)
{
    u_char      *p;
    ngx_str_t    list;
    ngx_uint_t   ways;
    const char  *err;

    ways = (addr->data != NULL) + (sentinel->data != NULL)
           + (cluster->data != NULL);

    err = NULL;

    if (ways == 0) {
        err = "needs an address, \"sentinel=\" or \"cluster=\"";

    } else if (ways > 1) {
        err = "takes only one of an address, \"sentinel=\" and \"cluster=\"";

    } else if (sentinel->data && master->data == NULL) {
        err = "needs \"master=\" with \"sentinel=\"";

    } else if (master->data && sentinel->data == NULL) {
        err = "takes \"master=\" only with \"sentinel=\"";

    } else if (spass->data && sentinel->data == NULL) {
        err = "takes \"sentinel_password_file=\" only with \"sentinel=\"";

    } else if (cluster->data && rd->db) {
        err = "takes no \"db=\" with \"cluster=\": Redis Cluster has db 0 only";
    }

    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho_redis\" directive %s", err);
        return NGX_CONF_ERROR;
    }

    if (sentinel->data) {
        rd->mode = NGX_HTTP_SEKISHO_REDIS_SENTINEL;
        rd->name = *master;

        return ngx_http_sekisho_redis_sentinel_conf(cf, &rd->sentinel,
                                                    sentinel, master, spass,
                                                    rd->timeout);
    }

    if (cluster->data) {
        rd->mode = NGX_HTTP_SEKISHO_REDIS_CLUSTER;
        rd->name = *cluster;

        if (ngx_http_sekisho_redis_resolve(cf, cluster, 0, "Redis Cluster",
                                           &rd->seeds, &rd->nseeds)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (rd->nseeds > NGX_HTTP_SEKISHO_REDIS_MAX_NODES) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    rd->name = *addr;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        rd->unix_path = ngx_pnalloc(cf->pool, addr->len - 5 + 1);
        if (rd->unix_path == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(rd->unix_path, addr->data + 5, addr->len - 5);
        *p = '\0';

        return NGX_CONF_OK;
    }

    list = *addr;

    if (ngx_strlchr(list.data, list.data + list.len, ',')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\" in \"sekisho_redis\" "
                           "directive", addr);
        return NGX_CONF_ERROR;
    }

    rd->nseeds = 1;

    if (ngx_http_sekisho_redis_resolve(cf, &list, 6379, "Redis", &rd->seeds,
                                       &rd->nseeds)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    rd->addr = rd->seeds[0];

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_sekisho_redis_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_redis_t *rd)
{
    ngx_uint_t                      i, n;
    ngx_http_sekisho_redis_node_t  *node;

    rd->log = cycle->log;

    n = (rd->mode == NGX_HTTP_SEKISHO_REDIS_CLUSTER)
        ? NGX_HTTP_SEKISHO_REDIS_MAX_NODES : 1;

    rd->nodes = ngx_pcalloc(cycle->pool,
                            n * sizeof(ngx_http_sekisho_redis_node_t));
    if (rd->nodes == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        node = &rd->nodes[i];

        node->rd = rd;
        node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;
        node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;
        ngx_queue_init(&node->pending);

        node->connect_timer.handler = ngx_http_sekisho_redis_connect_timeout;
        node->connect_timer.data = node;
        node->connect_timer.log = cycle->log;
        node->connect_timer.cancelable = 1;
    }

    switch (rd->mode) {

    case NGX_HTTP_SEKISHO_REDIS_CLUSTER:
        rd->slots = ngx_pcalloc(cycle->pool, NGX_HTTP_SEKISHO_REDIS_SLOTS);
        if (rd->slots == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < rd->nseeds; i++) {
            rd->nodes[i].addr = rd->seeds[i];
        }

        rd->nnodes = rd->nseeds;
        break;

    case NGX_HTTP_SEKISHO_REDIS_SENTINEL:
        ngx_http_sekisho_redis_sentinel_init(rd->sentinel, cycle->log,
                                             ngx_http_sekisho_redis_master,
                                             rd);
        rd->nodes[0].stale = 1;
        rd->nnodes = 1;
        break;

    default:
        rd->nodes[0].addr = rd->addr;
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

    if (rd->sentinel) {
        ngx_http_sekisho_redis_sentinel_exit(rd->sentinel);
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
    return &rd->prefix;
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
    if (rd->mode == NGX_HTTP_SEKISHO_REDIS_CLUSTER && argc > 1) {
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

    ngx_add_timer(&cmd->timer, rd->timeout);

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

    if (cmd->ask) {
        node = cmd->ask;
        cmd->ask = NULL;
        cmd->asking = 1;

    } else if (rd->slots && rd->slots[cmd->slot]) {
        node = &rd->nodes[rd->slots[cmd->slot] - 1];

    } else if (rd->slots) {
        /* a slot not seen yet: any node answers it or says MOVED */
        for (i = 0; i < rd->nnodes; i++) {
            if (rd->nodes[i].state == NGX_HTTP_SEKISHO_REDIS_READY) {
                node = &rd->nodes[i];
                break;
            }

            if (rd->nodes[i].state != NGX_HTTP_SEKISHO_REDIS_DOWN
                || ngx_current_msec >= rd->nodes[i].next_attempt)
            {
                node = &rd->nodes[i];
            }
        }
    }

    cmd->node = node;

    switch (node->state) {

    case NGX_HTTP_SEKISHO_REDIS_READY:
        return ngx_http_sekisho_redis_write(node, cmd);

    case NGX_HTTP_SEKISHO_REDIS_DOWN:
        if (ngx_current_msec < node->next_attempt
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
    *local = ngx_current_msec + rd->timeout;

    return (uint64_t) ((int64_t) ngx_http_sekisho_redis_wall() + rd->offset
                       + (int64_t) rd->timeout);
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
                      &cmd->rd->name, (size_t) reply->len, reply->str);
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

    if (rd->mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL
        && ngx_strncmp(reply->str, "READONLY", 8) == 0)
    {
        node = cmd->node;

        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "sekisho: redis %V: %s:%d is a replica now, "
                      "asking the Sentinels again", &rd->name,
                      node->addr.host, node->addr.port);

        if (node->ac == ac) {
            ngx_http_sekisho_redis_ask_again(node);
        }

        cmd->redirects++;
        return ngx_http_sekisho_redis_route(cmd);
    }

    if (rd->mode != NGX_HTTP_SEKISHO_REDIS_CLUSTER) {
        return NGX_DECLINED;
    }

    if (ngx_strncmp(reply->str, "TRYAGAIN", 8) == 0) {
        cmd->redirects++;
        return ngx_http_sekisho_redis_route(cmd);
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

    cmd->redirects++;

    if (kind == NGX_HTTP_SEKISHO_REDIS_MOVED) {
        if (rd->slots[slot] != node - rd->nodes + 1) {
            ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                          "sekisho: redis %V: MOVED slot %ui to %s:%d",
                          &rd->name, slot, addr.host, addr.port);
        }

        rd->slots[slot] = (u_char) (node - rd->nodes + 1);

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "sekisho: redis %V: ASK slot %ui at %s:%d",
                      &rd->name, slot, addr.host, addr.port);

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
                      "connected", &rd->name,
                      NGX_HTTP_SEKISHO_REDIS_MAX_NODES, addr->host,
                      addr->port);
        return NULL;
    }

    node = &rd->nodes[rd->nnodes++];
    node->addr = *addr;

    return node;
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
                  &rd->name, rd->timeout);

    ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_REDIS_TIMEOUT);

    /* dropping the connection frees a command sent: it must be done first */
    cmd->done = 1;

    if (cmd->queued) {
        ngx_queue_remove(&cmd->queue);
        cmd->queued = 0;
    }

    mine = !cmd->in_flight;

    if (node->state != NGX_HTTP_SEKISHO_REDIS_DOWN) {
        ngx_http_sekisho_redis_drop(node, "command timed out");
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
    ngx_http_sekisho_redis_t  *rd = node->rd;

    if (rd->mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL && node->stale) {
        node->state = NGX_HTTP_SEKISHO_REDIS_DISCOVER;
        ngx_http_sekisho_redis_sentinel_ask(rd->sentinel);

        /* no Sentinel could be asked: the node is down already */
        return node->state == NGX_HTTP_SEKISHO_REDIS_DOWN ? NGX_ERROR
                                                          : NGX_OK;
    }

    return ngx_http_sekisho_redis_open_node(node);
}


static ngx_int_t
ngx_http_sekisho_redis_open_node(ngx_http_sekisho_redis_node_t *node)
{
    ngx_str_t                  arg;
    const char                *err;
    redisAsyncContext         *ac;
    ngx_http_sekisho_redis_t  *rd;
    u_char                     db[NGX_INT_T_LEN];
    const char                *argv[2];
    size_t                     argvlen[2];

    rd = node->rd;

    ac = ngx_http_sekisho_redis_open(node->addr.host, node->addr.port,
                                     rd->unix_path, rd->log, &err);
    if (ac == NULL) {
        ngx_http_sekisho_redis_down(node, err);
        return NGX_ERROR;
    }

    ac->data = node;
    node->ac = ac;
    node->state = NGX_HTTP_SEKISHO_REDIS_CONNECTING;

    redisAsyncSetConnectCallback(ac, ngx_http_sekisho_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_sekisho_redis_on_disconnect);

    /*
     * AUTH and SELECT go first, and with Sentinel ROLE: commands wait
     * in "pending" until the node is known to be the master, so that
     * none is ever written to a replica.
     */

    if (rd->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) rd->password.data;
        argvlen[1] = rd->password.len;

        redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_setup_reply,
                              (void *) "AUTH", 2, argv, argvlen);
    }

    if (rd->db) {
        arg.data = db;
        arg.len = ngx_sprintf(db, "%ui", rd->db) - db;

        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) arg.data;
        argvlen[1] = arg.len;

        redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_setup_reply,
                              (void *) "SELECT", 2, argv, argvlen);
    }

    if (rd->mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL) {
        redisAsyncCommand(ac, ngx_http_sekisho_redis_role_reply, NULL,
                          "ROLE");
    }

    ngx_add_timer(&node->connect_timer, rd->timeout);

    return NGX_OK;
}


/*
 * The Sentinels' answer.  An answer to a question connects to the
 * master named; a "+switch-master" closes the connection to the old
 * master at once (a command in flight there fails: it may have run),
 * and the next command connects to the new one.
 */

static void
ngx_http_sekisho_redis_master(void *data, ngx_http_sekisho_redis_addr_t *master,
    ngx_http_sekisho_redis_addr_t *from, ngx_uint_t switched)
{
    ngx_http_sekisho_redis_t       *rd = data;
    ngx_http_sekisho_redis_node_t  *node;

    node = &rd->nodes[0];

    if (master == NULL) {
        if (node->state == NGX_HTTP_SEKISHO_REDIS_DISCOVER) {
            ngx_http_sekisho_redis_down(node, "no Sentinel answered");
        }

        return;
    }

    if (node->addr.port && !ngx_http_sekisho_redis_same_addr(&node->addr,
                                                             master))
    {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "sekisho: redis master \"%V\" failed over from %s:%d "
                      "to %s:%d%s", &rd->name, node->addr.host,
                      node->addr.port, master->host, master->port,
                      switched ? " (+switch-master)" : "");

    } else if (switched && node->addr.port && !node->stale) {
        return;
    }

    node->addr = *master;
    node->stale = 0;

    if (switched) {
        if (node->state == NGX_HTTP_SEKISHO_REDIS_CONNECTING
            || node->state == NGX_HTTP_SEKISHO_REDIS_READY)
        {
            ngx_http_sekisho_redis_close(node);
        }

        if (node->state == NGX_HTTP_SEKISHO_REDIS_DOWN) {
            node->next_attempt = ngx_current_msec;
            node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;
            return;
        }
    }

    if (node->state == NGX_HTTP_SEKISHO_REDIS_DISCOVER) {
        (void) ngx_http_sekisho_redis_open_node(node);
    }
}


/*
 * The node is no master (any more): its connection is closed before a
 * command is written, and the Sentinels are asked again; the commands
 * kept wait for the answer.
 */

static void
ngx_http_sekisho_redis_ask_again(ngx_http_sekisho_redis_node_t *node)
{
    redisAsyncContext  *ac;

    if (++node->asks > NGX_HTTP_SEKISHO_REDIS_MAX_ASKS) {
        ngx_http_sekisho_redis_drop(node, "the Sentinels name no master");
        return;
    }

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    /* freed at once, or by hiredis when its callback returns */
    ac = node->ac;
    node->ac = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }

    node->stale = 1;
    node->state = NGX_HTTP_SEKISHO_REDIS_DISCOVER;

    ngx_http_sekisho_redis_sentinel_ask(node->rd->sentinel);
}


static void
ngx_http_sekisho_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                     *reply = r;
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR || node->ac != ac) {
        return;
    }

    /* the reply does not contain the password */
    ngx_log_error(NGX_LOG_ERR, node->rd->log, 0,
                  "sekisho: redis %V refused %s: %*s", &node->rd->name,
                  (char *) privdata, (size_t) reply->len, reply->str);

    /* hiredis frees the context once this callback returns */
    ngx_http_sekisho_redis_drop(node, "setup refused");
}


static void
ngx_http_sekisho_redis_role_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                     *reply = r;
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (reply == NULL || node->ac != ac) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
        && reply->element[0]->type == REDIS_REPLY_STRING
        && ngx_strcmp(reply->element[0]->str, "master") == 0)
    {
        ngx_http_sekisho_redis_ready(node);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, node->rd->log, 0,
                  "sekisho: redis %V: %s:%d is not the master (%*s), "
                  "asking the Sentinels again", &node->rd->name,
                  node->addr.host, node->addr.port,
                  (size_t) (reply->type == REDIS_REPLY_ARRAY
                            && reply->elements > 0
                            && reply->element[0]->type == REDIS_REPLY_STRING
                            ? reply->element[0]->len : reply->len),
                  reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
                  && reply->element[0]->type == REDIS_REPLY_STRING
                  ? reply->element[0]->str : reply->str);

    ngx_http_sekisho_redis_ask_again(node);
}


static void
ngx_http_sekisho_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_sekisho_redis_node_t  *node = ev->data;

    if (node->state == NGX_HTTP_SEKISHO_REDIS_CONNECTING && node->ac) {
        ngx_http_sekisho_redis_drop(node, "connect timed out");
    }
}


static void
ngx_http_sekisho_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (node->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        node->ac = NULL;

        if (node->connect_timer.timer_set) {
            ngx_del_timer(&node->connect_timer);
        }

        ngx_http_sekisho_redis_down(node, ac->errstr);
        return;
    }

    /* with Sentinel, ROLE says when the node is ready */
    if (node->rd->mode != NGX_HTTP_SEKISHO_REDIS_SENTINEL) {
        ngx_http_sekisho_redis_ready(node);
    }
}


static void
ngx_http_sekisho_redis_ready(ngx_http_sekisho_redis_node_t *node)
{
    ngx_queue_t                   *q;
    ngx_http_sekisho_redis_t      *rd;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    rd = node->rd;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    node->state = NGX_HTTP_SEKISHO_REDIS_READY;
    node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;
    node->asks = 0;

    if (rd->down_logged) {
        rd->down_logged = 0;
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "sekisho: redis %V recovered (%s:%d)", &rd->name,
                      node->addr.host, node->addr.port);
        if (rd->on_state) {
            rd->on_state(0, &rd->name);
        }
    }

    /* the commands kept go now, in order */
    while (!ngx_queue_empty(&node->pending)
           && node->state == NGX_HTTP_SEKISHO_REDIS_READY)
    {
        q = ngx_queue_head(&node->pending);
        ngx_queue_remove(q);

        cmd = ngx_queue_data(q, ngx_http_sekisho_redis_cmd_t, queue);
        cmd->queued = 0;

        if (ngx_http_sekisho_redis_write(node, cmd) != NGX_OK) {
            if (cmd->timer.timer_set) {
                ngx_del_timer(&cmd->timer);
            }

            ngx_http_sekisho_redis_finish(cmd, NULL);
            ngx_free(cmd);
        }
    }
}


static void
ngx_http_sekisho_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_sekisho_redis_node_t  *node = ac->data;

    if (node->ac != ac) {
        return;
    }

    node->ac = NULL;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    ngx_http_sekisho_redis_down(node, ac->err ? ac->errstr
                                              : "connection closed");
}


/* closes the connection now; commands sent fail with a NULL reply */

static void
ngx_http_sekisho_redis_drop(ngx_http_sekisho_redis_node_t *node,
    const char *why)
{
    redisAsyncContext  *ac;

    ac = node->ac;
    node->ac = NULL;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    ngx_http_sekisho_redis_down(node, why);

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* the same without an outage: the master moved */

static void
ngx_http_sekisho_redis_close(ngx_http_sekisho_redis_node_t *node)
{
    redisAsyncContext  *ac;

    ac = node->ac;
    node->ac = NULL;
    node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    if (ac) {
        redisAsyncFree(ac);
    }
}


/*
 * Logged once per outage; the next attempt waits for the backoff.  The
 * commands kept were never written: they fail now, with their caller's
 * failure policy, rather than wait.
 */

static void
ngx_http_sekisho_redis_down(ngx_http_sekisho_redis_node_t *node,
    const char *why)
{
    ngx_msec_t                     jitter;
    ngx_queue_t                   *q;
    ngx_http_sekisho_redis_t      *rd;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    rd = node->rd;

    node->state = NGX_HTTP_SEKISHO_REDIS_DOWN;
    node->asks = 0;

    /* with Sentinel, a connection lost may be a failover */
    if (rd->mode == NGX_HTTP_SEKISHO_REDIS_SENTINEL) {
        node->stale = 1;
    }

    jitter = node->backoff / 5;
    node->next_attempt = ngx_current_msec + node->backoff
                         - jitter + (jitter ? ngx_random() % (2 * jitter) : 0);

    node->backoff *= 2;
    if (node->backoff > NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX) {
        node->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX;
    }

    if (!rd->down_logged) {
        rd->down_logged = 1;
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "sekisho: redis %V unavailable: %s (%s:%d)", &rd->name,
                      why ? why : "unknown error",
                      node->addr.port ? (char *) node->addr.host : "-",
                      node->addr.port);
        if (rd->on_state) {
            rd->on_state(1, &rd->name);
        }
    }

    while (!ngx_queue_empty(&node->pending)) {
        q = ngx_queue_head(&node->pending);
        ngx_queue_remove(q);

        cmd = ngx_queue_data(q, ngx_http_sekisho_redis_cmd_t, queue);
        cmd->queued = 0;

        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        ngx_http_sekisho_redis_finish(cmd, NULL);
        ngx_free(cmd);
    }
}
