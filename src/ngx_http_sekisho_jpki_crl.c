
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/mman.h>
#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif
#include "ngx_http_sekisho_jpki_crl.h"
#include "ngx_http_sekisho_metrics.h"


#define NGX_HTTP_SEKISHO_CRL_CHECK     1000     /* ms, by default */
#define NGX_HTTP_SEKISHO_CRL_SAID      64


struct ngx_http_sekisho_jpki_crl_s {
    ngx_array_t                    *files;        /* of char *, absolute */
    ngx_array_t                    *dirs;         /* of char *, absolute */
    ngx_path_t                     *path;         /* the index's folder */
    char                           *index;        /* <folder>/crl.index */
    ngx_msec_t                      check;
    ngx_http_sekisho_crl_root_t    *roots;
    ngx_uint_t                      nroots;

    /* the index this process maps */
    ngx_http_sekisho_crlix_t        ix;
    u_char                         *map;
    size_t                          map_len;
    uint64_t                        ino;
    int64_t                         mtime;
    u_char                         *retired;      /* read by a build */
    size_t                          retired_len;

    /* workers: looking for a new index; worker 0 also builds one */
    ngx_event_t                     timer;
    ngx_log_t                      *log;
#if (NGX_THREADS)
    ngx_thread_pool_t              *pool;
    ngx_thread_task_t              *task;
#endif
    ngx_http_sekisho_crl_set_t     *set;
    ngx_msec_t                      started;
    ngx_int_t                       written;      /* by the build */
    int                             write_errno;
    uint32_t                        said[NGX_HTTP_SEKISHO_CRL_SAID];
    ngx_uint_t                      nsaid;
    unsigned                        building:1;
};


typedef struct {
    ngx_http_sekisho_jpki_crl_t    *crl;
} ngx_http_sekisho_crl_task_t;


static ngx_http_sekisho_jpki_crl_t *ngx_http_sekisho_jpki_crl_get(
    ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_sekisho_jpki_crl_add(ngx_conf_t *cf,
    ngx_array_t **a, ngx_str_t *name);
static ngx_int_t ngx_http_sekisho_jpki_crl_folder(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_crl_t *crl);
static ngx_int_t ngx_http_sekisho_jpki_crl_map(
    ngx_http_sekisho_jpki_crl_t *crl, ngx_log_t *log);
static void ngx_http_sekisho_jpki_crl_unmap(void *data);
static ngx_http_sekisho_crl_set_t *ngx_http_sekisho_jpki_crl_set(
    ngx_http_sekisho_jpki_crl_t *crl, ngx_uint_t force);
static ngx_int_t ngx_http_sekisho_jpki_crl_write(char *path, u_char *buf,
    size_t len, int *err);
static void ngx_http_sekisho_jpki_crl_gauge(
    ngx_http_sekisho_jpki_crl_t *crl);
static void ngx_http_sekisho_jpki_crl_tick(ngx_event_t *ev);
static void ngx_http_sekisho_jpki_crl_start(ngx_http_sekisho_jpki_crl_t *crl);
static void ngx_http_sekisho_jpki_crl_build(void *data, ngx_log_t *log);
static void ngx_http_sekisho_jpki_crl_built(ngx_event_t *ev);
static void ngx_http_sekisho_jpki_crl_say(ngx_http_sekisho_jpki_crl_t *crl,
    ngx_http_sekisho_crl_set_t *set);


static ngx_str_t  ngx_http_sekisho_jpki_crl_file = ngx_string("crl.index");


/* sekisho_jpki_crl <file> ...: CRL files named one by one */

char *
ngx_http_sekisho_jpki_crl_files(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                    *value;
    ngx_uint_t                    i;
    ngx_http_sekisho_jpki_crl_t  *crl;

    crl = ngx_http_sekisho_jpki_crl_get(cf, cmd, conf);
    if (crl == NULL) {
        return NGX_CONF_ERROR;
    }

    if (crl->files) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_sekisho_jpki_crl_add(cf, &crl->files, &value[i])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * sekisho_jpki_crl_dir <folder> [index=<folder>] [check=<time>]: every
 * .crl, .der and .pem file of the folder, as an operator's sync job
 * writes them (write, then rename).
 */

char *
ngx_http_sekisho_jpki_crl_dir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                    *value, s;
    ngx_uint_t                    i;
    ngx_msec_t                    t;
    ngx_http_sekisho_jpki_crl_t  *crl;

    crl = ngx_http_sekisho_jpki_crl_get(cf, cmd, conf);
    if (crl == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_sekisho_jpki_crl_add(cf, &crl->dirs, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "index=", 6) == 0
            && value[i].len > 6)
        {
            if (crl->path) {
                return "has \"index=\" twice";
            }

            crl->path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
            if (crl->path == NULL) {
                return NGX_CONF_ERROR;
            }

            crl->path->name.data = value[i].data + 6;
            crl->path->name.len = value[i].len - 6;

            if (ngx_conf_full_name(cf->cycle, &crl->path->name, 0)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            /* nginx creates the folder by its name as a C string */
            s.data = ngx_pnalloc(cf->pool, crl->path->name.len + 1);
            if (s.data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(s.data, crl->path->name.data, crl->path->name.len);
            s.data[crl->path->name.len] = '\0';
            crl->path->name.data = s.data;

            continue;
        }

        if (ngx_strncmp(value[i].data, "check=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            t = ngx_parse_time(&s, 0);
            if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
                goto invalid;
            }

            crl->check = t;
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


static ngx_http_sekisho_jpki_crl_t *
ngx_http_sekisho_jpki_crl_get(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sekisho_jpki_crl_t  **crlp;

    crlp = (void *) ((char *) conf + cmd->offset);

    if (*crlp == NULL) {
        *crlp = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_jpki_crl_t));
        if (*crlp == NULL) {
            return NULL;
        }

        (*crlp)->check = NGX_CONF_UNSET_MSEC;
    }

    return *crlp;
}


static ngx_int_t
ngx_http_sekisho_jpki_crl_add(ngx_conf_t *cf, ngx_array_t **a,
    ngx_str_t *name)
{
    char       **p;
    ngx_str_t    full;

    if (*a == NULL) {
        *a = ngx_array_create(cf->pool, 4, sizeof(char *));
        if (*a == NULL) {
            return NGX_ERROR;
        }
    }

    full = *name;

    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_array_push(*a);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *p = ngx_pnalloc(cf->pool, full.len + 1);
    if (*p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(*p, full.data, full.len);
    (*p)[full.len] = '\0';

    return NGX_OK;
}


/*
 * At the end of the http block, in the master (or in nginx -t): the
 * index in the folder is taken if it was built from these very files
 * and CAs; otherwise every file is read, and a file that is damaged or
 * that no configured CA signed fails the configuration, named.  Under
 * nginx -t every file is read, and nothing is written.
 */

char *
ngx_http_sekisho_jpki_crl_init(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_crl_t *crl, X509 **roots, ngx_uint_t nroots)
{
    int                          err;
    ngx_int_t                    rc;
    ngx_uint_t                   i, fatal;
    ngx_pool_cleanup_t          *cln;
    ngx_http_sekisho_crlix_t     ix;
    ngx_http_sekisho_crl_set_t  *set;

    if (crl == NULL) {
        return NGX_CONF_OK;
    }

    ngx_conf_init_msec_value(crl->check, NGX_HTTP_SEKISHO_CRL_CHECK);

    crl->roots = ngx_pcalloc(cf->pool,
                             nroots * sizeof(ngx_http_sekisho_crl_root_t)
                             + 1);
    if (crl->roots == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < nroots; i++) {
        crl->roots[i].cert = roots[i];

        if (ngx_http_sekisho_crl_root_id(roots[i], crl->roots[i].id)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    crl->nroots = nroots;

    if (ngx_http_sekisho_jpki_crl_folder(cf, crl) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_sekisho_jpki_crl_unmap;
    cln->data = crl;

    /* the index of an earlier start, if any: what need not be read */
    (void) ngx_http_sekisho_jpki_crl_map(crl, NULL);

    set = ngx_http_sekisho_jpki_crl_set(crl, ngx_test_config);
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_sekisho_crl_set_build(set);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "CRLs: out of memory building the index");
        goto failed;
    }

    fatal = 0;

    for (i = 0; i < set->nmsgs; i++) {
        ngx_conf_log_error(set->msgs[i].fatal ? NGX_LOG_EMERG
                                              : set->msgs[i].level,
                           cf, 0, "%s", set->msgs[i].text);
        fatal |= set->msgs[i].fatal;
    }

    if (fatal) {
        goto failed;
    }

    if (rc == NGX_OK) {
        if (ngx_http_sekisho_crlix_open(&ix, set->index, set->index_len)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "CRLs: the index built is inconsistent");
            goto failed;
        }

        if (!ngx_test_config) {
            if (ngx_http_sekisho_jpki_crl_write(crl->index, set->index,
                                                set->index_len, &err)
                != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                                   "CRLs: cannot write the index \"%s\"",
                                   crl->index);
                goto failed;
            }

            if (ngx_http_sekisho_jpki_crl_map(crl, cf->log) != NGX_OK) {
                goto failed;
            }
        }

        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "CRLs: index \"%s\": %ui CRLs, %uL entries "
                           "(%ui files read, %ui unchanged)", crl->index,
                           set->ncrls, set->nkeys, set->read, set->reused);

    } else if (crl->ix.header) {
        ngx_conf_log_error(NGX_LOG_INFO, cf, 0,
                           "CRLs: index \"%s\" is current: %ui CRL rows, "
                           "%uL entries", crl->index,
                           (ngx_uint_t) crl->ix.header->nrows,
                           crl->ix.header->nkeys);
    }

    if (set->nsources == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "CRLs: no CRL file found: no card's revocation "
                           "can be checked");
    }

    ngx_http_sekisho_crl_set_free(set);
    free(set);

#if (NGX_THREADS)
    /* worker 0 reads changed files in nginx's default thread pool */
    crl->pool = ngx_thread_pool_add(cf, NULL);
    if (crl->pool == NULL) {
        return NGX_CONF_ERROR;
    }
#else
    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "CRLs: nginx was built without threads: a changed "
                       "CRL is read on worker 0's event loop");
#endif

    return NGX_CONF_OK;

failed:

    ngx_http_sekisho_crl_set_free(set);
    free(set);

    return NGX_CONF_ERROR;
}


/*
 * "index=", or beside the client body temporary files (Debian:
 * /var/lib/nginx/sekisho_crl): a folder nginx creates and gives to the
 * workers' user, so that worker 0 may write new indexes into it.
 */

static ngx_int_t
ngx_http_sekisho_jpki_crl_folder(ngx_conf_t *cf,
    ngx_http_sekisho_jpki_crl_t *crl)
{
    u_char                    *p, *slash;
    ngx_str_t                  base;
    ngx_http_core_loc_conf_t  *clcf;

    if (crl->path == NULL) {
        crl->path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
        if (crl->path == NULL) {
            return NGX_ERROR;
        }

        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->client_body_temp_path
            && clcf->client_body_temp_path != NGX_CONF_UNSET_PTR)
        {
            base = clcf->client_body_temp_path->name;

        } else {
            ngx_str_set(&base, NGX_HTTP_CLIENT_TEMP_PATH);

            if (ngx_conf_full_name(cf->cycle, &base, 0) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        slash = NULL;

        for (p = base.data; p < base.data + base.len - 1; p++) {
            if (*p == '/') {
                slash = p;
            }
        }

        base.len = slash ? (size_t) (slash - base.data) : 0;

        /* nginx creates the folder by its name as a C string */
        crl->path->name.len = base.len + sizeof("/sekisho_crl") - 1;
        crl->path->name.data = ngx_pnalloc(cf->pool, crl->path->name.len + 1);
        if (crl->path->name.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(crl->path->name.data, base.data, base.len),
                   "/sekisho_crl", sizeof("/sekisho_crl"));
    }

    crl->path->conf_file = cf->conf_file->file.name.data;
    crl->path->line = cf->conf_file->line;

    if (ngx_add_path(cf, &crl->path) != NGX_OK) {
        return NGX_ERROR;
    }

    crl->index = ngx_pnalloc(cf->pool, crl->path->name.len
                                       + ngx_http_sekisho_jpki_crl_file.len
                                       + 2);
    if (crl->index == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) crl->index, "%V/%V%Z", &crl->path->name,
                &ngx_http_sekisho_jpki_crl_file);

    /* nginx creates it after the configuration is read: too late here */
    if (ngx_create_full_path((u_char *) crl->index, 0755) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "CRLs: cannot create the index folder \"%V\"",
                           &crl->path->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Maps the index file if it is another one than the one mapped:
 * NGX_OK (also when nothing changed), NGX_DECLINED when there is no
 * usable index (said in "log" if given), NGX_ERROR.
 */

static ngx_int_t
ngx_http_sekisho_jpki_crl_map(ngx_http_sekisho_jpki_crl_t *crl,
    ngx_log_t *log)
{
    int                        fd;
    u_char                    *map;
    struct stat                st;
    ngx_http_sekisho_crlix_t   ix;

    fd = open(crl->index, O_RDONLY);

    if (fd == -1) {
        if (log && ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "sekisho: CRLs: cannot open the index \"%s\"",
                          crl->index);
        }

        return NGX_DECLINED;
    }

    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        return NGX_DECLINED;
    }

    if (crl->map && (uint64_t) st.st_ino == crl->ino
        && (int64_t) st.st_mtime == crl->mtime
        && (size_t) st.st_size == crl->map_len)
    {
        close(fd);
        return NGX_OK;
    }

    map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);

    if (map == MAP_FAILED) {
        if (log) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "sekisho: CRLs: cannot map the index \"%s\"",
                          crl->index);
        }

        return NGX_DECLINED;
    }

    if (ngx_http_sekisho_crlix_open(&ix, map, (size_t) st.st_size)
        != NGX_OK)
    {
        munmap(map, (size_t) st.st_size);

        if (log) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "sekisho: CRLs: the index \"%s\" is damaged; the "
                          "one in use stays", crl->index);
        }

        return NGX_DECLINED;
    }

    /* a build under way reads the old one: it goes when the build ends */
    if (crl->map) {
        if (crl->building && crl->retired == NULL) {
            crl->retired = crl->map;
            crl->retired_len = crl->map_len;

        } else {
            munmap(crl->map, crl->map_len);
        }
    }

    crl->map = map;
    crl->map_len = (size_t) st.st_size;
    crl->ino = (uint64_t) st.st_ino;
    crl->mtime = (int64_t) st.st_mtime;
    crl->ix = ix;

    return NGX_OK;
}


static void
ngx_http_sekisho_jpki_crl_unmap(void *data)
{
    ngx_http_sekisho_jpki_crl_t *crl = data;

    if (crl->map) {
        munmap(crl->map, crl->map_len);
        crl->map = NULL;
        ngx_memzero(&crl->ix, sizeof(ngx_http_sekisho_crlix_t));
    }

    if (crl->retired) {
        munmap(crl->retired, crl->retired_len);
        crl->retired = NULL;
    }
}


ngx_http_sekisho_crlix_t *
ngx_http_sekisho_jpki_crl_index(ngx_http_sekisho_jpki_crl_t *crl)
{
    return (crl && crl->ix.header) ? &crl->ix : NULL;
}


static ngx_http_sekisho_crl_set_t *
ngx_http_sekisho_jpki_crl_set(ngx_http_sekisho_jpki_crl_t *crl,
    ngx_uint_t force)
{
    ngx_http_sekisho_crl_set_t  *set;

    set = calloc(1, sizeof(ngx_http_sekisho_crl_set_t));
    if (set == NULL) {
        return NULL;
    }

    set->roots = crl->roots;
    set->nroots = crl->nroots;

    if (crl->files) {
        set->files = crl->files->elts;
        set->nfiles = crl->files->nelts;
    }

    if (crl->dirs) {
        set->dirs = crl->dirs->elts;
        set->ndirs = crl->dirs->nelts;
    }

    /* a copy: the worker may map a newer index while this one is read */
    set->old_copy = crl->ix;
    set->old = crl->ix.header ? &set->old_copy : NULL;
    set->now = ngx_time();
    set->force = force;

    return set;
}


/* written beside, then renamed into place: a reader sees all or none */

static ngx_int_t
ngx_http_sekisho_jpki_crl_write(char *path, u_char *buf, size_t len,
    int *err)
{
    int      fd;
    char     tmp[NGX_MAX_PATH];
    ssize_t  n;

    if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int) getpid())
        >= (int) sizeof(tmp))
    {
        *err = ENAMETOOLONG;
        return NGX_ERROR;
    }

    fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC, 0644);
    if (fd == -1) {
        *err = errno;
        return NGX_ERROR;
    }

    while (len) {
        n = write(fd, buf, len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            goto failed;
        }

        buf += n;
        len -= n;
    }

    if (fsync(fd) != 0) {
        goto failed;
    }

    if (close(fd) != 0) {
        fd = -1;
        goto failed;
    }

    fd = -1;

    if (rename(tmp, path) != 0) {
        goto failed;
    }

    *err = 0;

    return NGX_OK;

failed:

    *err = errno;

    if (fd != -1) {
        close(fd);
    }

    unlink(tmp);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_sekisho_jpki_crl_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_jpki_crl_t *crl)
{
#if (NGX_THREADS)
    ngx_http_sekisho_crl_task_t  *t;
#endif

    if (crl == NULL) {
        return NGX_OK;
    }

    crl->log = cycle->log;
    crl->building = 0;
    crl->nsaid = 0;

#if (NGX_THREADS)
    crl->task = ngx_thread_task_alloc(cycle->pool,
                                      sizeof(ngx_http_sekisho_crl_task_t));
    if (crl->task == NULL) {
        return NGX_ERROR;
    }

    t = crl->task->ctx;
    t->crl = crl;

    crl->task->handler = ngx_http_sekisho_jpki_crl_build;
    crl->task->event.handler = ngx_http_sekisho_jpki_crl_built;
    crl->task->event.data = crl;
    crl->task->event.log = cycle->log;
#endif

    crl->timer.handler = ngx_http_sekisho_jpki_crl_tick;
    crl->timer.data = crl;
    crl->timer.log = cycle->log;
    crl->timer.cancelable = 1;

    ngx_http_sekisho_jpki_crl_gauge(crl);

    ngx_add_timer(&crl->timer, crl->check);

    return NGX_OK;
}


void
ngx_http_sekisho_jpki_crl_exit_worker(ngx_http_sekisho_jpki_crl_t *crl)
{
    if (crl && crl->timer.timer_set) {
        ngx_del_timer(&crl->timer);
    }
}


/*
 * Each worker maps a new index when one appears; worker 0 also looks
 * for changed files and builds one, off its event loop.
 */

static void
ngx_http_sekisho_jpki_crl_tick(ngx_event_t *ev)
{
    ngx_http_sekisho_jpki_crl_t *crl = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    (void) ngx_http_sekisho_jpki_crl_map(crl, ev->log);

    if (ngx_worker == 0 && !crl->building) {
        ngx_http_sekisho_jpki_crl_start(crl);
    }

    ngx_http_sekisho_jpki_crl_gauge(crl);

    ngx_add_timer(ev, crl->check);
}


/*
 * Worker 0 says how fresh the CRLs in use are, at every look: a CRL of
 * a later thisUpdate already in the index takes over by itself.
 */

static void
ngx_http_sekisho_jpki_crl_gauge(ngx_http_sekisho_jpki_crl_t *crl)
{
    if (ngx_worker != 0 || crl->ix.header == NULL) {
        return;
    }

    ngx_http_sekisho_metrics_crl(crl->ix.header->built,
                                 ngx_http_sekisho_crlix_next_update(&crl->ix,
                                                                ngx_time()));
}


static void
ngx_http_sekisho_jpki_crl_start(ngx_http_sekisho_jpki_crl_t *crl)
{
    crl->set = ngx_http_sekisho_jpki_crl_set(crl, 0);
    if (crl->set == NULL) {
        return;
    }

    crl->building = 1;
    crl->started = ngx_current_msec;

#if (NGX_THREADS)
    if (ngx_thread_task_post(crl->pool, crl->task) != NGX_OK) {
        ngx_http_sekisho_crl_set_free(crl->set);
        free(crl->set);
        crl->set = NULL;
        crl->building = 0;
    }
#else
    ngx_http_sekisho_jpki_crl_build(crl, crl->log);
    crl->timer.data = crl;
    ngx_http_sekisho_jpki_crl_built(&crl->timer);
#endif
}


/* in a thread: no nginx pool, no log; the result goes in the set */

static void
ngx_http_sekisho_jpki_crl_build(void *data, ngx_log_t *log)
{
#if (NGX_THREADS)
    ngx_http_sekisho_crl_task_t *t = data;
    ngx_http_sekisho_jpki_crl_t *crl = t->crl;
#else
    ngx_http_sekisho_jpki_crl_t *crl = data;
#endif

    ngx_http_sekisho_crl_set_t  *set;

    set = crl->set;

    crl->written = ngx_http_sekisho_crl_set_build(set);
    crl->write_errno = 0;

    if (crl->written == NGX_OK
        && ngx_http_sekisho_jpki_crl_write(crl->index, set->index,
                                           set->index_len, &crl->write_errno)
           != NGX_OK)
    {
        crl->written = NGX_ERROR;
    }
}


/* back on worker 0's event loop: say what happened, map the new index */

static void
ngx_http_sekisho_jpki_crl_built(ngx_event_t *ev)
{
    ngx_http_sekisho_jpki_crl_t *crl = ev->data;

    ngx_http_sekisho_crl_set_t  *set;

    set = crl->set;

    ngx_http_sekisho_jpki_crl_say(crl, set);

    if (crl->written == NGX_OK) {
        ngx_log_error(NGX_LOG_NOTICE, crl->log, 0,
                      "sekisho: CRLs: index rebuilt in %M ms: %ui CRLs, "
                      "%uL entries (%ui files read, %ui unchanged, %ui "
                      "damaged kept)", ngx_current_msec - crl->started,
                      set->ncrls, set->nkeys, set->read, set->reused,
                      set->kept);

    } else if (crl->written == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, crl->log, crl->write_errno,
                      "sekisho: CRLs: a new index could not be made or "
                      "written to \"%s\"; the one in use stays",
                      crl->index);
    }

    ngx_http_sekisho_crl_set_free(set);
    free(set);

    crl->set = NULL;
    crl->building = 0;

    if (crl->retired) {
        munmap(crl->retired, crl->retired_len);
        crl->retired = NULL;
    }

    (void) ngx_http_sekisho_jpki_crl_map(crl, crl->log);

    ngx_http_sekisho_jpki_crl_gauge(crl);
}


/* problems with files are said once, not at every look */

static void
ngx_http_sekisho_jpki_crl_say(ngx_http_sekisho_jpki_crl_t *crl,
    ngx_http_sekisho_crl_set_t *set)
{
    uint32_t    said[NGX_HTTP_SEKISHO_CRL_SAID], h;
    ngx_uint_t  i, k, n;

    n = 0;

    for (i = 0; i < set->nmsgs; i++) {
        h = ngx_crc32_short((u_char *) set->msgs[i].text,
                            ngx_strlen(set->msgs[i].text));

        for (k = 0; k < crl->nsaid; k++) {
            if (crl->said[k] == h) {
                break;
            }
        }

        if (k == crl->nsaid) {
            ngx_log_error(set->msgs[i].level, crl->log, 0,
                          "sekisho: CRLs: %s", set->msgs[i].text);
        }

        if (n < NGX_HTTP_SEKISHO_CRL_SAID) {
            said[n++] = h;
        }
    }

    /* a build that changed nothing keeps what was said */
    if (set->index || set->nmsgs) {
        ngx_memcpy(crl->said, said, n * sizeof(uint32_t));
        crl->nsaid = n;
    }
}
