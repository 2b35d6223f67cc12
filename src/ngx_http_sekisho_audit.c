
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
#include "ngx_http_sekisho_audit_chain.h"
#include "ngx_http_sekisho_audit_state.h"
#include "ngx_http_sekisho_audit_record.h"
#include "ngx_http_sekisho_secret.h"


/* how often each worker looks at the clock for epochs and anchors, ms */
#define NGX_HTTP_SEKISHO_AUDIT_TICK    1000


/*
 * In shared memory, under the zone's lock: where the chain stands, and
 * the key of the current epoch (the only copy in memory: it is
 * overwritten in place when the epoch ends).
 */
typedef struct {
    uint64_t                     seq;
    u_char                       prev[NGX_HTTP_SEKISHO_MAC_HEX];
    uint64_t                     epoch;        /* 0: the key does not evolve */
    u_char                       key[NGX_HTTP_SEKISHO_KEY_LEN];
    ngx_uint_t                   close_pending;
    u_char                       close[NGX_HTTP_SEKISHO_MAC_HEX];
    time_t                       epoch_end;
    time_t                       anchor_next;
    ngx_uint_t                   anchor_due;   /* an epoch or a file began */
    uint64_t                     anchored;     /* seq + 1 of the last anchor */
    uint64_t                     file_seq;     /* the file's first record */
    dev_t                        dev;
    ino_t                        ino;
} ngx_http_sekisho_audit_sh_t;


struct ngx_http_sekisho_audit_s {
    ngx_str_t                    path;
    ngx_open_file_t             *file;
    ngx_str_t                    key;          /* a key that never evolves */
    ngx_str_t                    key_file;     /* as configured */
    ngx_str_t                    state;        /* empty: no epochs */
    u_char                      *state_tmp;
    ngx_http_sekisho_audit_saver_t  saver;     /* a worker's saves */
    ngx_http_sekisho_audit_state_t  *seed;     /* wiped once used */
    ngx_str_t                    seed_key;     /* the initial key, if read */
    time_t                       period;
    time_t                       anchor;       /* 0: off */
    ngx_shm_zone_t              *zone;
    ngx_shmtx_t                 *mutex;
    ngx_http_sekisho_audit_sh_t *sh;
    ngx_str_t                   *node;         /* the new cycle's */
    ngx_fd_t                     seen_fd;
    ngx_event_t                  tick;
    time_t                       error_logged;
};



static ngx_int_t ngx_http_sekisho_audit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_sekisho_audit_seed_wipe(void *data);
static ngx_int_t ngx_http_sekisho_audit_resume(
    ngx_http_sekisho_audit_t *audit, ngx_log_t *log);
static const char *ngx_http_sekisho_audit_read_tail(
    ngx_http_sekisho_audit_t *audit, uint64_t *epoch);
static ngx_int_t ngx_http_sekisho_audit_start_epoch(
    ngx_http_sekisho_audit_t *audit, uint64_t tail_epoch,
    ngx_http_sekisho_audit_state_t *st, ngx_log_t *log);
static ngx_int_t ngx_http_sekisho_audit_next_epoch(
    ngx_http_sekisho_audit_t *audit, u_char *key, size_t len,
    ngx_http_sekisho_audit_state_t *st);
static ngx_uint_t ngx_http_sekisho_audit_check(
    ngx_http_sekisho_audit_t *audit, ngx_http_sekisho_audit_state_t *st);
static void ngx_http_sekisho_audit_tick(ngx_event_t *ev);
static ngx_int_t ngx_http_sekisho_audit_wanted(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_uint_t events);
static ngx_int_t ngx_http_sekisho_audit_append(
    ngx_http_sekisho_audit_t *audit, u_char *start, u_char *p,
    ngx_log_t *log);


static ngx_str_t  ngx_http_sekisho_audit_events[] = {
    ngx_string("deny"),
    ngx_string("decisions"),
    ngx_string("all")
};


/*
 * sekisho_audit_log off | <file> [key=<file>] [state=<file>] [epoch=<time>]
 *                   [anchor=<time>|off] [events=deny|decisions|all]
 */

char *
ngx_http_sekisho_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sekisho_audit_conf_t *ac = (void *) ((char *) conf
                                                  + cmd->offset);

    time_t                          period, anchor;
    ngx_str_t                      *value, path, key, state, name, s;
    ngx_uint_t                      i, j;
    ngx_pool_cleanup_t             *cln;
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
    ngx_str_null(&state);
    period = NGX_CONF_UNSET;
    anchor = 30;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0 && value[i].len > 4) {
            key.data = value[i].data + 4;
            key.len = value[i].len - 4;

            if (ngx_conf_full_name(cf->cycle, &key, 1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state=", 6) == 0 && value[i].len > 6)
        {
            state.data = value[i].data + 6;
            state.len = value[i].len - 6;

            if (ngx_conf_full_name(cf->cycle, &state, 1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "epoch=", 6) == 0
            || ngx_strncmp(value[i].data, "anchor=", 7) == 0)
        {
            j = value[i].data[0] == 'e' ? 6 : 7;
            s.data = value[i].data + j;
            s.len = value[i].len - j;

            if (j == 7 && s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                anchor = 0;
                continue;
            }

            /* whole seconds, at least one */
            if (ngx_parse_time(&s, 1) > 0) {
                if (j == 6) {
                    period = ngx_parse_time(&s, 1);

                } else {
                    anchor = ngx_parse_time(&s, 1);
                }

                continue;
            }
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

    if (period != NGX_CONF_UNSET && state.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": epoch= needs state=, the file "
                           "that keeps the evolving key", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (period == NGX_CONF_UNSET) {
        period = 60;
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
            if (audit->key_file.len != key.len
                || ngx_strncmp(audit->key_file.data, key.data, key.len) != 0
                || audit->state.len != state.len
                || ngx_strncmp(audit->state.data, state.data, state.len) != 0
                || (state.len && audit->period != period)
                || audit->anchor != anchor)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" \"%V\" is used with another key "
                                   "elsewhere: one file has one chain and "
                                   "one key (the same key=, state=, epoch= "
                                   "and anchor=)", &cmd->name, &path);
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
    audit->key_file = key;
    audit->state = state;
    audit->period = period;
    audit->anchor = anchor;
    audit->node = &cf->cycle->hostname;
    audit->seen_fd = NGX_INVALID_FILE;

    /* whatever way configuration ends, the key material read goes */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_sekisho_audit_seed_wipe;
    cln->data = audit;

    if (state.len) {
        audit->state_tmp = ngx_pnalloc(cf->pool, state.len + sizeof(".tmp")
                                                 + NGX_INT_T_LEN + 1);
        audit->seed = ngx_pcalloc(cf->pool,
                                  sizeof(ngx_http_sekisho_audit_state_t));
        if (audit->state_tmp == NULL || audit->seed == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_sekisho_audit_seed(cf, &state, &key, audit->seed,
                                        &audit->seed_key)
            != NGX_OK
            || ngx_http_sekisho_audit_saver_conf(cf, &audit->saver,
                                                 &audit->state,
                                                 audit->state_tmp)
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (key.len) {
        if (ngx_http_sekisho_read_secret(cf, &key, 16, &audit->key)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"%V\" \"%V\" has a key but no state=: the key "
                           "never changes, so whoever reads it can rewrite "
                           "the whole log", &cmd->name, &path);

    } else {
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


static void
ngx_http_sekisho_audit_seed_wipe(void *data)
{
    ngx_http_sekisho_audit_t  *audit = data;

    if (audit->seed) {
        ngx_http_sekisho_audit_wipe(audit->seed,
                                    sizeof(ngx_http_sekisho_audit_state_t));
    }

    if (audit->seed_key.len) {
        ngx_http_sekisho_audit_wipe(audit->seed_key.data,
                                    audit->seed_key.len);
        audit->seed_key.len = 0;
    }
}


/*
 * On reload the zone is kept and the chain goes on.  On a start, it
 * goes on from the last record of the file, after a record that says
 * the gateway started; with a state file, in a new epoch.
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
            ngx_http_sekisho_audit_seed_wipe(audit);
            return NGX_ERROR;
        }

        ngx_memset(((ngx_http_sekisho_audit_sh_t *) shpool->data)->prev, '0',
                   NGX_HTTP_SEKISHO_MAC_HEX);
    }

    audit->sh = shpool->data;

    /* the pool's own mutex: nginx frees it if a worker dies holding it */
    audit->mutex = &shpool->mutex;

    if (data == NULL && !ngx_test_config
        && ngx_http_sekisho_audit_resume(audit, shm_zone->shm.log) != NGX_OK)
    {
        ngx_http_sekisho_audit_seed_wipe(audit);
        return NGX_ERROR;
    }

    ngx_http_sekisho_audit_seed_wipe(audit);

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_audit_resume(ngx_http_sekisho_audit_t *audit, ngx_log_t *log)
{
    u_char                          *p, rec[1024];
    uint64_t                         epoch;
    ngx_str_t                        resumed;
    ngx_http_sekisho_audit_state_t   st;

    resumed.data = (u_char *) ngx_http_sekisho_audit_read_tail(audit, &epoch);
    resumed.len = ngx_strlen(resumed.data);

    if (audit->seed) {
        ngx_memzero(&st, sizeof(st));

        /* an empty or new file after a rotation: the chain is in the state */
        if (resumed.data[0] == 'n' && audit->seed_key.len == 0
            && audit->seed->seq)
        {
            audit->sh->seq = audit->seed->seq;
            ngx_memcpy(audit->sh->prev, audit->seed->mac,
                       NGX_HTTP_SEKISHO_MAC_HEX);
            epoch = audit->seed->epoch;
            ngx_str_set(&resumed, "resumed");
        }

        /* fail closed: a gateway that could not keep its key would
           need the initial key again at its next start */
        if (ngx_http_sekisho_audit_start_epoch(audit, epoch, &st, log)
            != NGX_OK
            || ngx_http_sekisho_audit_state_save(&audit->state,
                                                 audit->state_tmp, &st,
                                                 audit->mutex,
                                                 &audit->sh->epoch, log)
               != NGX_OK)
        {
            ngx_http_sekisho_audit_wipe(&st, sizeof(st));
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "\"sekisho_audit_log\" \"%V\": the audit key's "
                          "state file \"%V\" cannot be written",
                          &audit->path, &audit->state);
            return NGX_ERROR;
        }
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

    return NGX_OK;
}


/*
 * The chain from the file: its last record (seq, MAC, epoch) and its
 * first (the file's first seq, for anchors).  "new", "resumed" or
 * "unreadable".
 */

static const char *
ngx_http_sekisho_audit_read_tail(ngx_http_sekisho_audit_t *audit,
    uint64_t *epoch)
{
    u_char           *line, *lf, buf[8192], mac[NGX_HTTP_SEKISHO_MAC_HEX];
    off_t             size;
    ssize_t           n;
    uint64_t          seq, e;
    ngx_fd_t          fd;
    const char       *resumed;
    ngx_file_info_t   fi;

    *epoch = 0;
    resumed = "new";

    fd = ngx_open_file(audit->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        return resumed;
    }

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR && ngx_file_size(&fi) > 0) {
        size = ngx_min(ngx_file_size(&fi), (off_t) sizeof(buf));
        n = pread(fd, buf, size, ngx_file_size(&fi) - size);

        resumed = "unreadable";

        if (n > 1 && buf[n - 1] == LF) {
            for (line = buf + n - 1; line > buf && line[-1] != LF; line--) {
                /* void */
            }

            /* read aside: a line that is no record leaves the chain new */
            if (ngx_http_sekisho_audit_tail(line, buf + n - line, &seq, mac,
                                            epoch)
                == NGX_OK)
            {
                audit->sh->seq = seq;
                ngx_memcpy(audit->sh->prev, mac, NGX_HTTP_SEKISHO_MAC_HEX);
                resumed = "resumed";

            } else {
                *epoch = 0;
            }
        }

        n = pread(fd, buf, sizeof(buf), 0);
        lf = n > 0 ? ngx_strlchr(buf, buf + n, LF) : NULL;

        if (lf && ngx_http_sekisho_audit_tail(buf, lf + 1 - buf, &seq, mac,
                                              &e)
                  == NGX_OK)
        {
            audit->sh->file_seq = seq;
        }
    }

    ngx_close_file(fd);

    return resumed;
}


/*
 * A start with a state file: the key of the last epoch the log or the
 * state reached, then a new epoch, closing the last one.  The seed is
 * the state's key, or the initial key (epoch 0) with no state yet.
 */

static ngx_int_t
ngx_http_sekisho_audit_start_epoch(ngx_http_sekisho_audit_t *audit,
    uint64_t tail_epoch, ngx_http_sekisho_audit_state_t *st, ngx_log_t *log)
{
    u_char                       *key, next[NGX_HTTP_SEKISHO_KEY_LEN];
    size_t                        len;
    ngx_http_sekisho_audit_sh_t  *sh;

    sh = audit->sh;

    if (audit->seed_key.len) {
        key = audit->seed_key.data;
        len = audit->seed_key.len;
        sh->epoch = 0;

    } else {
        key = audit->seed->key;
        len = NGX_HTTP_SEKISHO_KEY_LEN;
        sh->epoch = audit->seed->epoch;
    }

    /* an epoch was closed after the last record, and no record since */
    if (audit->seed_key.len == 0 && audit->seed->close_pending
        && tail_epoch < sh->epoch && audit->seed->seq == sh->seq
        && ngx_memcmp(audit->seed->mac, sh->prev, NGX_HTTP_SEKISHO_MAC_HEX)
           == 0)
    {
        ngx_memcpy(sh->close, audit->seed->close, NGX_HTTP_SEKISHO_MAC_HEX);
        sh->close_pending = 1;

    } else if (tail_epoch < sh->epoch && sh->seq) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "sekisho: audit state file \"%V\" does not follow on "
                      "from the last record of \"%V\": verify will report "
                      "the epoch change at the start record",
                      &audit->state, &audit->path);
    }

    /* the state lags behind the log (it could not be written): catch up */
    while (sh->epoch < tail_epoch) {
        if (ngx_http_sekisho_audit_evolve(key, len, sh->epoch + 1, next)
            != NGX_OK)
        {
            goto failed;
        }

        ngx_memcpy(sh->key, next, NGX_HTTP_SEKISHO_KEY_LEN);
        key = sh->key;
        len = NGX_HTTP_SEKISHO_KEY_LEN;
        sh->epoch++;
    }

    ngx_http_sekisho_audit_wipe(next, sizeof(next));

    if (key != sh->key) {
        /* the seed itself; the next epoch overwrites it */
        if (len == NGX_HTTP_SEKISHO_KEY_LEN) {
            ngx_memcpy(sh->key, key, len);
            key = sh->key;
        }
    }

    sh->epoch_end = ngx_time() + audit->period;

    if (ngx_http_sekisho_audit_next_epoch(audit, key, len, st) != NGX_OK) {
        goto failed;
    }

    return NGX_OK;

failed:

    ngx_http_sekisho_audit_wipe(next, sizeof(next));
    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "sekisho: the audit key of \"%V\" cannot be evolved",
                  &audit->path);
    return NGX_ERROR;
}


/*
 * Under the lock: closes the epoch with its key, derives the next key
 * over it (the old one is gone from shared memory as it is replaced),
 * and fills "st" to be saved.
 */

static ngx_int_t
ngx_http_sekisho_audit_next_epoch(ngx_http_sekisho_audit_t *audit,
    u_char *key, size_t len, ngx_http_sekisho_audit_state_t *st)
{
    u_char                       *link, next[NGX_HTTP_SEKISHO_KEY_LEN];
    u_char                        close[NGX_HTTP_SEKISHO_MAC_HEX];
    ngx_http_sekisho_audit_sh_t  *sh;

    sh = audit->sh;
    link = sh->close_pending ? sh->close : sh->prev;

    if (ngx_http_sekisho_audit_close(key, len, sh->epoch, link, close)
        != NGX_OK
        || ngx_http_sekisho_audit_evolve(key, len, sh->epoch + 1, next)
           != NGX_OK)
    {
        ngx_http_sekisho_audit_wipe(next, sizeof(next));
        return NGX_ERROR;
    }

    ngx_memcpy(sh->close, close, NGX_HTTP_SEKISHO_MAC_HEX);
    sh->close_pending = 1;

    ngx_memcpy(sh->key, next, NGX_HTTP_SEKISHO_KEY_LEN);
    ngx_http_sekisho_audit_wipe(next, sizeof(next));

    sh->epoch++;
    sh->epoch_end = ngx_time() + audit->period;
    sh->anchor_due = 1;

    st->epoch = sh->epoch;
    ngx_memcpy(st->key, sh->key, NGX_HTTP_SEKISHO_KEY_LEN);
    st->seq = sh->seq;
    ngx_memcpy(st->mac, sh->prev, NGX_HTTP_SEKISHO_MAC_HEX);
    st->close_pending = 1;
    ngx_memcpy(st->close, sh->close, NGX_HTTP_SEKISHO_MAC_HEX);

    return NGX_OK;
}


/*
 * Under the lock, before a record and at every tick: a new file (the
 * worker's descriptor changed and names another file: a rotation and
 * reopen) and the end of the epoch each begin a new epoch.  1 if "st"
 * is to be saved.
 */

static ngx_uint_t
ngx_http_sekisho_audit_check(ngx_http_sekisho_audit_t *audit,
    ngx_http_sekisho_audit_state_t *st)
{
    ngx_uint_t                    new_file;
    ngx_file_info_t               fi;
    ngx_http_sekisho_audit_sh_t  *sh;

    sh = audit->sh;
    new_file = 0;

    if (audit->file->fd != audit->seen_fd) {
        audit->seen_fd = audit->file->fd;

        if (ngx_fd_info(audit->file->fd, &fi) != NGX_FILE_ERROR) {

            if ((sh->dev || sh->ino)
                && (fi.st_dev != sh->dev || fi.st_ino != sh->ino))
            {
                new_file = 1;
                sh->file_seq = sh->seq + 1;
                sh->anchor_due = 1;

            } else if (sh->dev == 0 && sh->ino == 0 && sh->file_seq == 0) {
                sh->file_seq = sh->seq + 1;
            }

            sh->dev = fi.st_dev;
            sh->ino = fi.st_ino;
        }
    }

    if (sh->epoch == 0 || (!new_file && ngx_time() < sh->epoch_end)) {
        return 0;
    }

    return ngx_http_sekisho_audit_next_epoch(audit, sh->key,
                                             NGX_HTTP_SEKISHO_KEY_LEN, st)
           == NGX_OK;
}


/*
 * Each worker, once a second: ends the epoch when it is over (also with
 * no record to write), and sends the chain's head out of the host (an
 * "audit_anchor" alert) when an epoch or a file began, and every
 * "anchor" seconds if the head moved.  One worker does each, under the
 * lock; the alert sinks never block.
 */

static void
ngx_http_sekisho_audit_tick(ngx_event_t *ev)
{
    u_char                          mac[NGX_HTTP_SEKISHO_MAC_HEX];
    u_char                          num[3][NGX_INT64_LEN];
    time_t                          now;
    uint64_t                        seq, epoch, first;
    ngx_uint_t                      save, anchor;
    ngx_http_sekisho_audit_t       *audit;
    ngx_http_sekisho_audit_sh_t    *sh;
    ngx_http_sekisho_audit_state_t  st;
    ngx_http_sekisho_alert_param_t  params[5];

    audit = ev->data;
    sh = audit->sh;
    now = ngx_time();
    anchor = 0;
    seq = 0;
    epoch = 0;
    first = 0;

    ngx_shmtx_lock(audit->mutex);

    save = ngx_http_sekisho_audit_check(audit, &st);

    if (audit->anchor
        && (sh->anchor_due
            || (now >= sh->anchor_next && sh->anchored != sh->seq + 1)))
    {
        anchor = 1;
        seq = sh->seq;
        epoch = sh->epoch;
        first = sh->file_seq;
        ngx_memcpy(mac, sh->prev, NGX_HTTP_SEKISHO_MAC_HEX);

        sh->anchor_due = 0;
        sh->anchor_next = now + audit->anchor;
        sh->anchored = sh->seq + 1;
    }

    ngx_shmtx_unlock(audit->mutex);

    if (save) {
        ngx_http_sekisho_audit_saver_post(&audit->saver, &st);
    }

    if (anchor) {
        params[0].name = "file";
        params[0].value = audit->path;
        params[1].name = "first";
        params[1].value.data = num[0];
        params[1].value.len = ngx_sprintf(num[0], "%uL", first) - num[0];
        params[2].name = "seq";
        params[2].value.data = num[1];
        params[2].value.len = ngx_sprintf(num[1], "%uL", seq) - num[1];
        params[3].name = "mac";
        params[3].value.data = mac;
        params[3].value.len = NGX_HTTP_SEKISHO_MAC_HEX;
        params[4].name = "epoch";
        params[4].value.data = num[2];
        params[4].value.len = ngx_sprintf(num[2], "%uL", epoch) - num[2];

        ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_AUDIT_ANCHOR, params, 5);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_SEKISHO_AUDIT_TICK);
    }
}


/* each worker ticks for the logs whose key evolves or which anchor */

ngx_int_t
ngx_http_sekisho_audit_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_sekisho_audit_t      **ap, *audit;
    ngx_http_sekisho_main_conf_t   *mcf;

    mcf = ngx_http_sekisho_cycle_main_conf(cycle);

    if (mcf == NULL) {
        return NGX_OK;
    }

    ap = mcf->audit_logs.elts;

    for (i = 0; i < mcf->audit_logs.nelts; i++) {
        audit = ap[i];

        if (audit->sh == NULL || (audit->sh->epoch == 0 && !audit->anchor)) {
            continue;
        }

        if (audit->sh->epoch && audit->state.len
            && ngx_http_sekisho_audit_saver_init(cycle, &audit->saver,
                                                 audit->mutex,
                                                 &audit->sh->epoch)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        audit->tick.handler = ngx_http_sekisho_audit_tick;
        audit->tick.data = audit;
        audit->tick.log = cycle->log;
        audit->tick.cancelable = 1;

        ngx_add_timer(&audit->tick, NGX_HTTP_SEKISHO_AUDIT_TICK);
    }

    return NGX_OK;
}


/* a key being saved is saved before the worker goes */

void
ngx_http_sekisho_audit_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_sekisho_audit_t      **ap, *audit;
    ngx_http_sekisho_main_conf_t   *mcf;

    mcf = ngx_http_sekisho_cycle_main_conf(cycle);

    if (mcf == NULL) {
        return;
    }

    ap = mcf->audit_logs.elts;

    for (i = 0; i < mcf->audit_logs.nelts; i++) {
        audit = ap[i];

        if (audit->sh && audit->sh->epoch && audit->state.len) {
            ngx_http_sekisho_audit_saver_exit(&audit->saver);
        }
    }
}


/* from the log phase handler, with the main request's context if any */

void
ngx_http_sekisho_audit_request(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    u_char                       *start, *last;
    ngx_http_sekisho_loc_conf_t  *lcf;

    lcf = ngx_http_sekisho_loc_conf(r);

    if (lcf->audit.log == NULL
        || !ngx_http_sekisho_audit_wanted(r, ctx, lcf->audit.events))
    {
        return;
    }

    start = ngx_http_sekisho_audit_record(r, ctx, &last);
    if (start == NULL) {
        return;
    }

    (void) ngx_http_sekisho_audit_append(lcf->audit.log, start, last,
                                         r->connection->log);
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
    ngx_str_t                        key;
    ngx_uint_t                       save;
    ngx_http_sekisho_audit_sh_t     *sh;
    ngx_http_sekisho_alert_param_t   param;
    ngx_http_sekisho_audit_state_t   st;

    sh = audit->sh;

    ngx_shmtx_lock(audit->mutex);

    save = ngx_http_sekisho_audit_check(audit, &st);

    seq = sh->seq + 1;

    if (sh->epoch) {
        key.data = sh->key;
        key.len = NGX_HTTP_SEKISHO_KEY_LEN;

    } else {
        key = audit->key;
    }

    p = ngx_http_sekisho_audit_chain(p, sh->epoch,
                                     sh->close_pending ? sh->close : NULL,
                                     seq, sh->prev);
    last = ngx_http_sekisho_audit_seal(start, p, &key, mac);

    n = last ? ngx_write_fd(audit->file->fd, start, last - start) : -1;
    err = ngx_errno;

    if (last && n == last - start) {
        sh->seq = seq;
        ngx_memcpy(sh->prev, mac, NGX_HTTP_SEKISHO_MAC_HEX);
        sh->close_pending = 0;
    }

    ngx_shmtx_unlock(audit->mutex);

    if (save) {
        ngx_http_sekisho_audit_saver_post(&audit->saver, &st);
    }

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


