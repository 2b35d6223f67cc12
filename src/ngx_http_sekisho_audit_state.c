
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include "ngx_http_sekisho_audit_chain.h"
#include "ngx_http_sekisho_audit_state.h"
#include "ngx_http_sekisho_secret.h"


static ngx_int_t ngx_http_sekisho_audit_state_load(ngx_conf_t *cf,
    ngx_str_t *path, ngx_http_sekisho_audit_state_t *st);
static void ngx_http_sekisho_audit_state_sweep(ngx_conf_t *cf,
    ngx_str_t *state);
static ngx_int_t ngx_http_sekisho_audit_state_write(u_char *tmp,
    ngx_http_sekisho_audit_state_t *st, ngx_err_t *err);
static void ngx_http_sekisho_audit_state_failed(ngx_str_t *path, u_char *tmp,
    ngx_err_t err, ngx_log_t *log);
static ngx_int_t ngx_http_sekisho_audit_state_commit(ngx_str_t *path,
    u_char *tmp, ngx_uint_t keep, ngx_log_t *log);
static void ngx_http_sekisho_audit_saver_start(
    ngx_http_sekisho_audit_saver_t *sv);
#if (NGX_THREADS)
static void ngx_http_sekisho_audit_saver_write(void *data, ngx_log_t *log);
static void ngx_http_sekisho_audit_saver_done(ngx_event_t *ev);
#endif
static void ngx_http_sekisho_audit_saver_here(
    ngx_http_sekisho_audit_saver_t *sv);
static ngx_uint_t ngx_http_sekisho_audit_saver_next(
    ngx_http_sekisho_audit_saver_t *sv);
static void ngx_http_sekisho_audit_saver_commit(
    ngx_http_sekisho_audit_saver_t *sv);


/*
 * At configuration time, the key to go on from: the state file's (the
 * current epoch's) in "st", or, with no state yet, the initial key of
 * key= (epoch 0) in "key".  With a state, the initial key is not read,
 * and should not be on the gateway.
 */

ngx_int_t
ngx_http_sekisho_audit_seed(ngx_conf_t *cf, ngx_str_t *state,
    ngx_str_t *key_file, ngx_http_sekisho_audit_state_t *st, ngx_str_t *key)
{
    ngx_int_t        rc;
    ngx_str_t        dir;
    ngx_file_info_t  fi;

    rc = ngx_http_sekisho_audit_state_load(cf, state, st);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_audit_state_sweep(cf, state);

    if (rc == NGX_OK) {
        if (key_file->len
            && ngx_file_info(key_file->data, &fi) != NGX_FILE_ERROR)
        {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "the initial audit key \"%V\" is still on "
                               "the gateway: the state file \"%V\" has "
                               "taken over, the auditor keeps the initial "
                               "key offline", key_file, state);
        }

        return NGX_OK;
    }

    if (key_file->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "audit state file \"%V\" does not exist and no "
                           "key= gives the initial key", state);
        return NGX_ERROR;
    }

    /* the first start writes it: its directory must be there */
    dir = *state;

    while (dir.len && dir.data[dir.len - 1] != '/') {
        dir.len--;
    }

    if (dir.len > 1) {
        dir.data = ngx_pstrdup(cf->pool, &dir);
        if (dir.data == NULL) {
            return NGX_ERROR;
        }

        dir.data[dir.len - 1] = '\0';

        if (ngx_file_info(dir.data, &fi) == NGX_FILE_ERROR
            || !ngx_is_dir(&fi))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "the directory of audit state file \"%V\" "
                               "is missing", state);
            return NGX_ERROR;
        }
    }

    return ngx_http_sekisho_read_secret(cf, key_file, 16, key);
}


/*
 * A state written aside by a process that ended before renaming it in
 * (killed, or a disk full) holds an older key: such files ("<state>.
 * <pid>.tmp" of a pid that is gone) are removed at each start and
 * reload; a live worker's is left to it.  "nginx -t" removes nothing.
 */

static void
ngx_http_sekisho_audit_state_sweep(ngx_conf_t *cf, ngx_str_t *state)
{
    u_char      *name, *base, path[NGX_MAX_PATH];
    size_t       dlen, blen, len;
    ngx_dir_t    dir;
    ngx_int_t    n;
    ngx_pid_t    pid;
    ngx_str_t    d;

    if (ngx_test_config) {
        return;
    }

    base = state->data + state->len;

    while (base > state->data && base[-1] != '/') {
        base--;
    }

    dlen = base - state->data;
    blen = state->data + state->len - base;

    if (dlen == 0 || dlen + blen + NGX_INT_T_LEN + 8 > NGX_MAX_PATH) {
        return;
    }

    d.data = path;
    d.len = ngx_cpystrn(path, state->data, dlen) - path;

    if (ngx_open_dir(&d, &dir) == NGX_ERROR) {
        return;
    }

    while (ngx_read_dir(&dir) == NGX_OK) {
        name = ngx_de_name(&dir);
        len = ngx_de_namelen(&dir);

        /* <base>.<digits>.tmp */
        if (len < blen + 6
            || ngx_strncmp(name, base, blen) != 0
            || name[blen] != '.'
            || ngx_strncmp(name + len - 4, ".tmp", 4) != 0)
        {
            continue;
        }

        n = ngx_atoi(name + blen + 1, len - blen - 5);
        pid = (ngx_pid_t) n;

        if (n <= 0 || n != pid || kill(pid, 0) == 0
            || ngx_errno != NGX_ESRCH)
        {
            continue;
        }

        ngx_cpystrn(ngx_cpymem(path, state->data, dlen), name, len + 1);

        if (ngx_delete_file(path) != NGX_FILE_ERROR) {
            ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                               "removed \"%s\": a state written aside by "
                               "process %P, which ended before renaming it "
                               "(it held an older key)", path, pid);
        }
    }

    (void) ngx_close_dir(&dir);
}


/*
 * At configuration time (as root): NGX_OK with the state, NGX_DECLINED
 * if there is no state file yet, NGX_ERROR (logged, naming the file) if
 * it cannot be read or is not a state file.  The bytes read are wiped.
 */

static ngx_int_t
ngx_http_sekisho_audit_state_load(ngx_conf_t *cf, ngx_str_t *path,
    ngx_http_sekisho_audit_state_t *st)
{
    u_char           buf[NGX_HTTP_SEKISHO_STATE_LEN];
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_int_t        rc;
    ngx_file_info_t  fi;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "cannot read audit state file \"%V\"", path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && (fi.st_mode & (S_IRWXG|S_IRWXO)))
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "audit state file \"%V\" can be read by other "
                           "users than its owner", path);
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    err = ngx_errno;
    ngx_close_file(fd);

    rc = (n > 0 && (size_t) n < sizeof(buf))
         ? ngx_http_sekisho_audit_state_parse(buf, n, st) : NGX_DECLINED;

    ngx_http_sekisho_audit_wipe(buf, sizeof(buf));

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, n == -1 ? err : 0,
                           "audit state file \"%V\" is damaged or empty: "
                           "restore it, or remove it and give the initial "
                           "key in key= (the chain goes on from the log)",
                           path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Writes the state aside, in "tmp" (a file of the same directory), and
 * syncs it; state_commit() then renames it over the state file, so
 * that the file is always one whole state, old or new.  It may run in
 * a thread: it does not log, the error is in "err".
 */

static ngx_int_t
ngx_http_sekisho_audit_state_write(u_char *tmp,
    ngx_http_sekisho_audit_state_t *st, ngx_err_t *err)
{
    u_char    buf[NGX_HTTP_SEKISHO_STATE_LEN], *p;
    ssize_t   n;
    ngx_fd_t  fd;

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE, 0600);

    if (fd == NGX_INVALID_FILE) {
        *err = ngx_errno;
        return NGX_ERROR;
    }

    p = ngx_http_sekisho_audit_state_print(buf, st);

    n = ngx_write_fd(fd, buf, p - buf);
    *err = (n == -1) ? ngx_errno : 0;

    ngx_http_sekisho_audit_wipe(buf, sizeof(buf));

    if (n == p - buf && fsync(fd) == -1) {
        *err = ngx_errno;
        n = -1;
    }

    ngx_close_file(fd);

    if (n != p - buf) {
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_sekisho_audit_state_failed(ngx_str_t *path, u_char *tmp,
    ngx_err_t err, ngx_log_t *log)
{
    ngx_log_error(NGX_LOG_ERR, log, err,
                  "sekisho: audit state file \"%s\" cannot be written; "
                  "\"%V\" keeps an older key", tmp, path);
}


/* "keep" 0: a newer state was written meanwhile, this one goes */

static ngx_int_t
ngx_http_sekisho_audit_state_commit(ngx_str_t *path, u_char *tmp,
    ngx_uint_t keep, ngx_log_t *log)
{
    if (!keep) {
        (void) ngx_delete_file(tmp);
        return NGX_OK;
    }

    if (ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "sekisho: audit state file \"%V\" cannot be replaced; "
                      "it keeps an older key", path);
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * At the start, before any worker serves: the state written aside,
 * then, under the audit zone's lock, renamed over the file if it is
 * still the newest ("epoch" is the zone's); "st" is wiped in any case.
 */

ngx_int_t
ngx_http_sekisho_audit_state_save(ngx_str_t *path, u_char *tmp,
    ngx_http_sekisho_audit_state_t *st, ngx_shmtx_t *mutex,
    uint64_t *epoch, ngx_log_t *log)
{
    ngx_err_t  err;
    ngx_int_t  rc;

    rc = NGX_OK;

    if (path->len == 0 || ngx_test_config) {
        goto done;
    }

    ngx_sprintf(tmp, "%V.%P.tmp%Z", path, ngx_pid);

    rc = ngx_http_sekisho_audit_state_write(tmp, st, &err);

    if (rc != NGX_OK) {
        ngx_http_sekisho_audit_state_failed(path, tmp, err, log);
        goto done;
    }

    ngx_shmtx_lock(mutex);

    rc = ngx_http_sekisho_audit_state_commit(path, tmp, *epoch == st->epoch,
                                             log);

    ngx_shmtx_unlock(mutex);

done:

    ngx_http_sekisho_audit_wipe(st, sizeof(ngx_http_sekisho_audit_state_t));

    return rc;
}


/* at configuration time: the saves of a worker go to the default pool */

ngx_int_t
ngx_http_sekisho_audit_saver_conf(ngx_conf_t *cf,
    ngx_http_sekisho_audit_saver_t *sv, ngx_str_t *path, u_char *tmp)
{
    sv->path = path;
    sv->tmp = tmp;

#if (NGX_THREADS)
    sv->pool = ngx_thread_pool_add(cf, NULL);
    if (sv->pool == NULL) {
        return NGX_ERROR;
    }
#else
    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "nginx was built without threads: the audit state "
                       "file \"%V\" is synced on the event loop", path);
#endif

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_audit_saver_init(ngx_cycle_t *cycle,
    ngx_http_sekisho_audit_saver_t *sv, ngx_shmtx_t *mutex, uint64_t *epoch)
{
    sv->mutex = mutex;
    sv->epoch = epoch;
    sv->log = cycle->log;
    sv->busy = 0;
    sv->queued = 0;

#if (NGX_THREADS)
    sv->task = ngx_thread_task_alloc(cycle->pool,
                                     sizeof(ngx_http_sekisho_audit_saver_t *));
    if (sv->task == NULL) {
        return NGX_ERROR;
    }

    *(ngx_http_sekisho_audit_saver_t **) sv->task->ctx = sv;

    sv->task->handler = ngx_http_sekisho_audit_saver_write;
    sv->task->event.handler = ngx_http_sekisho_audit_saver_done;
    sv->task->event.data = sv;
    sv->task->event.log = cycle->log;
#endif

    return NGX_OK;
}


/* a new epoch's state, from the event loop; the caller's copy is wiped */

void
ngx_http_sekisho_audit_saver_post(ngx_http_sekisho_audit_saver_t *sv,
    ngx_http_sekisho_audit_state_t *st)
{
    /* no state= (a reload took it away, the zone kept its epochs) */
    if (sv->path == NULL) {
        /* nothing is kept */

    } else if (sv->busy) {
        ngx_memcpy(&sv->next, st, sizeof(ngx_http_sekisho_audit_state_t));
        sv->queued = 1;

    } else {
        ngx_memcpy(&sv->st, st, sizeof(ngx_http_sekisho_audit_state_t));
        ngx_http_sekisho_audit_saver_start(sv);
    }

    ngx_http_sekisho_audit_wipe(st, sizeof(ngx_http_sekisho_audit_state_t));
}


static void
ngx_http_sekisho_audit_saver_start(ngx_http_sekisho_audit_saver_t *sv)
{
    ngx_sprintf(sv->tmp, "%V.%P.tmp%Z", sv->path, ngx_pid);

    sv->busy = 1;
    sv->written = NGX_AGAIN;

#if (NGX_THREADS)
    if (ngx_thread_task_post(sv->pool, sv->task) == NGX_OK) {
        return;
    }

    /* the pool's queue is full: better written here than not at all */
#endif

    ngx_http_sekisho_audit_saver_here(sv);
}


/* written, synced and renamed in by the event loop itself */

static void
ngx_http_sekisho_audit_saver_here(ngx_http_sekisho_audit_saver_t *sv)
{
    sv->written = ngx_http_sekisho_audit_state_write(sv->tmp, &sv->st,
                                                     &sv->err);
    ngx_http_sekisho_audit_saver_commit(sv);
}


#if (NGX_THREADS)

/* in a thread: no log, no pool */

static void
ngx_http_sekisho_audit_saver_write(void *data, ngx_log_t *log)
{
    ngx_http_sekisho_audit_saver_t  *sv;

    sv = *(ngx_http_sekisho_audit_saver_t **) data;

    sv->written = ngx_http_sekisho_audit_state_write(sv->tmp, &sv->st,
                                                     &sv->err);
}


/* back on the event loop: renamed in, and the next one written */

static void
ngx_http_sekisho_audit_saver_done(ngx_event_t *ev)
{
    ngx_http_sekisho_audit_saver_t  *sv = ev->data;

    ngx_http_sekisho_audit_saver_commit(sv);

    if (ngx_http_sekisho_audit_saver_next(sv)) {
        ngx_http_sekisho_audit_saver_start(sv);
    }
}

#endif


/* the state waiting, if any, becomes the one to write */

static ngx_uint_t
ngx_http_sekisho_audit_saver_next(ngx_http_sekisho_audit_saver_t *sv)
{
    if (!sv->queued) {
        return 0;
    }

    sv->queued = 0;
    ngx_memcpy(&sv->st, &sv->next, sizeof(ngx_http_sekisho_audit_state_t));
    ngx_http_sekisho_audit_wipe(&sv->next,
                                sizeof(ngx_http_sekisho_audit_state_t));

    return 1;
}


static void
ngx_http_sekisho_audit_saver_commit(ngx_http_sekisho_audit_saver_t *sv)
{
    if (sv->written == NGX_OK) {
        ngx_shmtx_lock(sv->mutex);

        (void) ngx_http_sekisho_audit_state_commit(sv->path, sv->tmp,
                                                   *sv->epoch == sv->st.epoch,
                                                   sv->log);

        ngx_shmtx_unlock(sv->mutex);

    } else {
        ngx_http_sekisho_audit_state_failed(sv->path, sv->tmp, sv->err,
                                            sv->log);
    }

    ngx_http_sekisho_audit_wipe(&sv->st,
                                sizeof(ngx_http_sekisho_audit_state_t));
    sv->busy = 0;
}


/*
 * At a worker's exit, after nginx's thread pools have ended (they end
 * first, and finish their tasks): a state written is renamed in, one
 * not yet written is written here, so that no key is left behind in a
 * file aside.
 */

void
ngx_http_sekisho_audit_saver_exit(ngx_http_sekisho_audit_saver_t *sv)
{
    if (sv->busy && sv->written == NGX_AGAIN) {
        ngx_http_sekisho_audit_saver_here(sv);

    } else if (sv->busy) {
        ngx_http_sekisho_audit_saver_commit(sv);
    }

    /* "tmp" still names this worker's file: a state waits only behind one */
    if (ngx_http_sekisho_audit_saver_next(sv)) {
        ngx_http_sekisho_audit_saver_here(sv);
    }
}


/* zeroes that the compiler may not leave out as dead stores */

void
ngx_http_sekisho_audit_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}
