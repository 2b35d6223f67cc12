
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>
#include <openssl/sha.h>
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_secret.h"
#include "ngx_http_sekisho_metrics.h"


#define NGX_HTTP_SEKISHO_REDIS_DOWN        0
#define NGX_HTTP_SEKISHO_REDIS_CONNECTING  1
#define NGX_HTTP_SEKISHO_REDIS_READY       2

#define NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX  5000

/* EVALSHA sha numkeys key... arg... */
#define NGX_HTTP_SEKISHO_REDIS_MAX_ARGS    32


struct ngx_http_sekisho_redis_s {
    /* configuration, made by the master */
    ngx_str_t                        name;          /* for the logs */
    u_char                          *host;          /* numeric, or NULL */
    int                              port;
    u_char                          *unix_path;
    ngx_uint_t                       db;
    ngx_str_t                        password;
    ngx_msec_t                       timeout;
    ngx_str_t                        prefix;
    ngx_http_sekisho_redis_state_pt  on_state;

    /* the worker's connection */
    redisAsyncContext               *ac;
    ngx_uint_t                       state;
    ngx_msec_t                       backoff;
    ngx_msec_t                       next_attempt;
    ngx_event_t                      connect_timer;
    ngx_log_t                       *log;
    int64_t                          offset;        /* Redis - ours, ms */
    unsigned                         down_logged:1;
};


struct ngx_http_sekisho_redis_cmd_s {
    ngx_http_sekisho_redis_t        *rd;
    ngx_http_sekisho_redis_script_t *script;
    ngx_http_sekisho_redis_handler_pt handler;
    void                            *data;
    ngx_event_t                      timer;
    int                              argc;
    const char                      *argv[NGX_HTTP_SEKISHO_REDIS_MAX_ARGS];
    size_t                           argvlen[NGX_HTTP_SEKISHO_REDIS_MAX_ARGS];
    uint64_t                         sent;          /* microseconds */
    unsigned                         done:1;        /* handler called */
    unsigned                         in_flight:1;   /* hiredis holds it */
    unsigned                         retried:1;
    /* the argument bytes follow */
};


static ngx_http_sekisho_redis_cmd_t *ngx_http_sekisho_redis_send(
    ngx_http_sekisho_redis_t *rd, ngx_http_sekisho_redis_script_t *script,
    ngx_uint_t argc, ngx_str_t *argv,
    ngx_http_sekisho_redis_handler_pt handler, void *data);
static uint64_t ngx_http_sekisho_redis_now(void);
static uint64_t ngx_http_sekisho_redis_wall(void);
static ngx_int_t ngx_http_sekisho_redis_connect(ngx_http_sekisho_redis_t *rd);
static void ngx_http_sekisho_redis_down(ngx_http_sekisho_redis_t *rd,
    const char *why);
static void ngx_http_sekisho_redis_drop(ngx_http_sekisho_redis_t *rd,
    const char *why);
static void ngx_http_sekisho_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_sekisho_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_sekisho_redis_setup_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_sekisho_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_sekisho_redis_timeout(ngx_event_t *ev);
static void ngx_http_sekisho_redis_finish(ngx_http_sekisho_redis_cmd_t *cmd,
    redisReply *reply);

static void ngx_http_sekisho_redis_add_read(void *privdata);
static void ngx_http_sekisho_redis_del_read(void *privdata);
static void ngx_http_sekisho_redis_add_write(void *privdata);
static void ngx_http_sekisho_redis_del_write(void *privdata);
static void ngx_http_sekisho_redis_cleanup(void *privdata);
static void ngx_http_sekisho_redis_read_handler(ngx_event_t *ev);
static void ngx_http_sekisho_redis_write_handler(ngx_event_t *ev);


/*
 * sekisho_redis <host:port | unix:path> [db=N] [password_file=file]
 *               [timeout=time] [prefix=str];
 *
 * A host name is resolved here, at configuration time, because hiredis
 * would resolve it with a blocking getaddrinfo() in the worker.
 */

char *
ngx_http_sekisho_redis_conf(ngx_conf_t *cf, ngx_http_sekisho_redis_t **rdp)
{
    u_char                    *p, text[NGX_SOCKADDR_STRLEN];
    size_t                     len;
    ngx_int_t                  n;
    ngx_str_t                 *value, s, file;
    ngx_url_t                  u;
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
    rd->name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

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

        goto invalid;
    }

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        len = value[1].len - 5;
        rd->unix_path = ngx_pnalloc(cf->pool, len + 1);
        if (rd->unix_path == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(rd->unix_path, value[1].data + 5, len);
        rd->unix_path[len] = '\0';

        *rdp = rd;
        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\" in \"sekisho_redis\" "
                           "directive%s%s", &value[1], u.err ? ": " : "",
                           u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);

    rd->host = ngx_pnalloc(cf->pool, len + 1);
    if (rd->host == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(rd->host, text, len);
    *p = '\0';
    rd->port = ngx_inet_get_port(u.addrs[0].sockaddr);

    *rdp = rd;
    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"sekisho_redis\" "
                       "directive", &value[i]);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_sekisho_redis_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_redis_t *rd)
{
    rd->log = cycle->log;
    rd->state = NGX_HTTP_SEKISHO_REDIS_DOWN;
    rd->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;

    rd->connect_timer.handler = ngx_http_sekisho_redis_connect_timeout;
    rd->connect_timer.data = rd;
    rd->connect_timer.log = cycle->log;
    rd->connect_timer.cancelable = 1;

    /* the connection is opened by the first command */

    return NGX_OK;
}


/* a worker that exits closes its connection; nginx checks for leftovers */

void
ngx_http_sekisho_redis_exit_worker(ngx_http_sekisho_redis_t *rd)
{
    redisAsyncContext  *ac;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    ac = rd->ac;
    rd->ac = NULL;
    rd->state = NGX_HTTP_SEKISHO_REDIS_DOWN;

    if (ac) {
        redisAsyncFree(ac);
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
    ngx_uint_t                     i;
    ngx_http_sekisho_redis_cmd_t  *cmd;

    if (rd->state == NGX_HTTP_SEKISHO_REDIS_DOWN) {
        if (ngx_current_msec < rd->next_attempt
            || ngx_http_sekisho_redis_connect(rd) != NGX_OK)
        {
            ngx_http_sekisho_metrics_count(
                                      NGX_HTTP_SEKISHO_M_REDIS_UNAVAILABLE);
            return NULL;
        }
    }

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

    if (redisAsyncCommandArgv(rd->ac, ngx_http_sekisho_redis_reply, cmd,
                              cmd->argc, cmd->argv, cmd->argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NULL;
    }

    cmd->in_flight = 1;
    cmd->sent = ngx_http_sekisho_redis_now();

    cmd->timer.handler = ngx_http_sekisho_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = rd->log;

    ngx_add_timer(&cmd->timer, rd->timeout);

    return cmd;
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

    /* the script cache is empty after a restart or a failover */
    if (reply) {
        ngx_http_sekisho_metrics_redis_latency(ngx_http_sekisho_redis_now()
                                               - cmd->sent);
    }

    if (reply && reply->type == REDIS_REPLY_ERROR && !cmd->done
        && cmd->script && !cmd->retried
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0
        && cmd->rd->ac == ac)
    {
        cmd->retried = 1;
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = sizeof("EVAL") - 1;
        cmd->argv[1] = (const char *) cmd->script->body.data;
        cmd->argvlen[1] = cmd->script->body.len;

        if (redisAsyncCommandArgv(ac, ngx_http_sekisho_redis_reply, cmd,
                                  cmd->argc, cmd->argv, cmd->argvlen)
            == REDIS_OK)
        {
            cmd->in_flight = 1;
            cmd->sent = ngx_http_sekisho_redis_now();
            return;
        }

        reply = NULL;
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

    if (!cmd->done) {
        ngx_http_sekisho_redis_finish(cmd, reply);
    }

    ngx_free(cmd);
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
    ngx_http_sekisho_redis_t           *rd;
    ngx_http_sekisho_redis_cmd_t       *cmd;
    ngx_http_sekisho_redis_handler_pt   handler;

    cmd = ev->data;
    rd = cmd->rd;
    handler = cmd->handler;
    data = cmd->data;

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "sekisho: redis %V did not answer within %M ms",
                  &rd->name, rd->timeout);

    ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_REDIS_TIMEOUT);

    /* dropping the connection frees the command: it must be done first */
    cmd->done = 1;

    if (rd->ac) {
        ngx_http_sekisho_redis_drop(rd, "command timed out");
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


static ngx_int_t
ngx_http_sekisho_redis_connect(ngx_http_sekisho_redis_t *rd)
{
    ngx_str_t           arg;
    ngx_connection_t   *c;
    redisAsyncContext  *ac;
    u_char              db[NGX_INT_T_LEN];
    const char         *argv[2];
    size_t              argvlen[2];

    if (rd->unix_path) {
        ac = redisAsyncConnectUnix((char *) rd->unix_path);

    } else {
        ac = redisAsyncConnect((char *) rd->host, rd->port);
    }

    if (ac == NULL) {
        ngx_http_sekisho_redis_down(rd, "out of memory");
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_http_sekisho_redis_down(rd, ac->errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        ngx_http_sekisho_redis_down(rd, "no free connection");
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = rd->log;
    c->read->handler = ngx_http_sekisho_redis_read_handler;
    c->write->handler = ngx_http_sekisho_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    ac->data = rd;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_sekisho_redis_add_read;
    ac->ev.delRead = ngx_http_sekisho_redis_del_read;
    ac->ev.addWrite = ngx_http_sekisho_redis_add_write;
    ac->ev.delWrite = ngx_http_sekisho_redis_del_write;
    ac->ev.cleanup = ngx_http_sekisho_redis_cleanup;

    rd->ac = ac;
    rd->state = NGX_HTTP_SEKISHO_REDIS_CONNECTING;

    redisAsyncSetConnectCallback(ac, ngx_http_sekisho_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_sekisho_redis_on_disconnect);

    /*
     * AUTH and SELECT go first; commands sent before the connection is
     * up queue behind them in hiredis and reach Redis in order.
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

    ngx_add_timer(&rd->connect_timer, rd->timeout);

    return NGX_OK;
}


static void
ngx_http_sekisho_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                *reply = r;
    ngx_http_sekisho_redis_t  *rd = ac->data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR || rd->ac != ac) {
        return;
    }

    /* the reply does not contain the password */
    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "sekisho: redis %V refused %s: %*s", &rd->name,
                  (char *) privdata, (size_t) reply->len, reply->str);

    ngx_http_sekisho_redis_down(rd, "setup refused");

    /* hiredis frees the context once this callback returns */
    rd->ac = NULL;
    redisAsyncFree(ac);
}


static void
ngx_http_sekisho_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_sekisho_redis_t  *rd = ev->data;

    if (rd->state == NGX_HTTP_SEKISHO_REDIS_CONNECTING && rd->ac) {
        ngx_http_sekisho_redis_drop(rd, "connect timed out");
    }
}


static void
ngx_http_sekisho_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_sekisho_redis_t  *rd = ac->data;

    if (rd->ac != ac) {
        return;
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        rd->ac = NULL;
        ngx_http_sekisho_redis_down(rd, ac->errstr);
        return;
    }

    rd->state = NGX_HTTP_SEKISHO_REDIS_READY;
    rd->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MIN;

    if (rd->down_logged) {
        rd->down_logged = 0;
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "sekisho: redis %V recovered", &rd->name);
        if (rd->on_state) {
            rd->on_state(0, &rd->name);
        }
    }
}


static void
ngx_http_sekisho_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_sekisho_redis_t  *rd = ac->data;

    if (rd->ac != ac) {
        return;
    }

    rd->ac = NULL;
    ngx_http_sekisho_redis_down(rd, ac->err ? ac->errstr : "connection closed");
}


/* closes the connection now; pending commands fail with a NULL reply */

static void
ngx_http_sekisho_redis_drop(ngx_http_sekisho_redis_t *rd, const char *why)
{
    redisAsyncContext  *ac;

    ac = rd->ac;
    rd->ac = NULL;

    ngx_http_sekisho_redis_down(rd, why);

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* logged once per outage; the next attempt waits for the backoff */

static void
ngx_http_sekisho_redis_down(ngx_http_sekisho_redis_t *rd, const char *why)
{
    ngx_msec_t  jitter;

    rd->state = NGX_HTTP_SEKISHO_REDIS_DOWN;

    if (!rd->down_logged) {
        rd->down_logged = 1;
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "sekisho: redis %V unavailable: %s", &rd->name,
                      why ? why : "unknown error");
        if (rd->on_state) {
            rd->on_state(1, &rd->name);
        }
    }

    jitter = rd->backoff / 5;
    rd->next_attempt = ngx_current_msec + rd->backoff
                       - jitter + (jitter ? ngx_random() % (2 * jitter) : 0);

    rd->backoff *= 2;
    if (rd->backoff > NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX) {
        rd->backoff = NGX_HTTP_SEKISHO_REDIS_BACKOFF_MAX;
    }
}


/*
 * The adapter: hiredis asks for read and write interest, nginx reports
 * readiness.  Level-triggered events, so that a reply larger than one
 * read is not left behind under edge-triggered epoll.
 */

static void
ngx_http_sekisho_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "sekisho: redis read event not added");
        }
    }
}


static void
ngx_http_sekisho_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_sekisho_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "sekisho: redis write event not added");
        }
    }
}


static void
ngx_http_sekisho_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself: nginx only forgets the connection */

static void
ngx_http_sekisho_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;
    c->fd = (ngx_socket_t) -1;

    ngx_free_connection(c);
}


static void
ngx_http_sekisho_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_sekisho_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleWrite(c->data);
}
