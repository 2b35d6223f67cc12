
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <sys/mman.h>
#include <maxminddb.h>
#include "ngx_http_sekisho_geo.h"
#include "ngx_http_sekisho_geo_rules.h"
#include "ngx_http_sekisho_metrics.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_text.h"


/* distinct data records whose decoding is checked when a file loads */
#define NGX_HTTP_SEKISHO_GEO_SEEN            65536

/*
 * Countries of data records and of client addresses recently looked
 * up, per worker; the test build (scripts/build --asan) makes both
 * tables tiny so that the tests reuse their slots.  At least 1 bit.
 */
#ifndef NGX_HTTP_SEKISHO_GEO_RECORDS_BITS
#define NGX_HTTP_SEKISHO_GEO_RECORDS_BITS    10
#endif
#define NGX_HTTP_SEKISHO_GEO_RECORDS                                          \
    (1 << NGX_HTTP_SEKISHO_GEO_RECORDS_BITS)

#ifndef NGX_HTTP_SEKISHO_GEO_ADDRESSES_BITS
#define NGX_HTTP_SEKISHO_GEO_ADDRESSES_BITS  12
#endif
#define NGX_HTTP_SEKISHO_GEO_ADDRESSES                                        \
    (1 << NGX_HTTP_SEKISHO_GEO_ADDRESSES_BITS)

/* how often a worker looks at the age of its database with reload=off */
#define NGX_HTTP_SEKISHO_GEO_AGE_CHECK       60000

/* a build date as text: RFC 3339, or a word when it is none */
#define NGX_HTTP_SEKISHO_GEO_DATE_LEN        48

/* a stale database is alerted again after a day; also how far ahead of
   the clock a build date may be */
#define NGX_HTTP_SEKISHO_GEO_STALE_REPEAT    86400


typedef struct {
    ino_t                        ino;
    off_t                        size;
    time_t                       mtime;
    long                         mtime_ns;
} ngx_http_sekisho_geo_sig_t;


/*
 * The country of a data record, by the record's offset: a country
 * database has a few hundred records, each shared by many networks,
 * and reading the country out of a record (MMDB_aget_value walks its
 * map by key) costs half as much as finding the record.
 */
typedef struct {
    uint32_t                     offset;    /* + 1; 0: a free slot */
    uint16_t                     country;   /* 0: the record has none */
} ngx_http_sekisho_geo_record_t;


/*
 * The answer for a client address: an applicant's browser sends many
 * requests, and the search through the tree is the larger part of the
 * gate's own cost.  A file's answer for an address never changes, so a
 * slot is right until another address takes it.
 */
typedef struct {
    u_char                       addr[16];
    uint16_t                     len;       /* 4 or 16; 0: a free slot */
    uint16_t                     country;   /* 0: not placed */
} ngx_http_sekisho_geo_address_t;


/* one opened and verified database file */
typedef struct {
    MMDB_s                       mmdb;
    ngx_http_sekisho_geo_record_t
                                 by_record[NGX_HTTP_SEKISHO_GEO_RECORDS];
    ngx_http_sekisho_geo_address_t
                                 by_address[NGX_HTTP_SEKISHO_GEO_ADDRESSES];
    const char * const          *path;
    ngx_http_sekisho_geo_sig_t   sig;
    ngx_uint_t                   records;
    ngx_uint_t                   placed;
    time_t                       loaded;
} ngx_http_sekisho_geo_mmdb_t;


struct ngx_http_sekisho_geo_db_s {
    ngx_str_t                    file;      /* NUL-terminated */
    ngx_msec_t                   reload;
    const char                 **path;      /* NULL: auto */
    ngx_http_sekisho_geo_mmdb_t *current;
    ngx_http_sekisho_geo_sig_t   rejected;
    ngx_err_t                    stat_err;
    ngx_event_t                  timer;
    time_t                       max_age;   /* 0: any age */
    ngx_str_t                    max_age_text;
    ngx_uint_t                   refuse_stale;
    uint64_t                     stale_logged;  /* build_epoch + 1 */
};


static ngx_http_sekisho_geo_mmdb_t *ngx_http_sekisho_geo_load(
    ngx_http_sekisho_geo_db_t *db, u_char *err, size_t len);
static ngx_int_t ngx_http_sekisho_geo_open(ngx_http_sekisho_geo_db_t *db,
    ngx_http_sekisho_geo_mmdb_t *m, u_char *err, size_t len);
static ngx_int_t ngx_http_sekisho_geo_verify(ngx_http_sekisho_geo_db_t *db,
    ngx_http_sekisho_geo_mmdb_t *m, u_char *err, size_t len);
static ngx_int_t ngx_http_sekisho_geo_verify_record(
    ngx_http_sekisho_geo_db_t *db, MMDB_entry_s *entry, uint32_t *seen,
    ngx_uint_t *counts, u_char *err, size_t len);
static ngx_int_t ngx_http_sekisho_geo_search(ngx_http_sekisho_geo_db_t *db,
    struct sockaddr *sa, ngx_log_t *log, uint16_t *country);
static uint16_t ngx_http_sekisho_geo_country(MMDB_entry_s *entry,
    const char * const *path);
static void ngx_http_sekisho_geo_free(ngx_http_sekisho_geo_mmdb_t *m);
static void ngx_http_sekisho_geo_cleanup(void *data);
static void ngx_http_sekisho_geo_sig(ngx_file_info_t *fi,
    ngx_http_sekisho_geo_sig_t *sig);
static void ngx_http_sekisho_geo_check(ngx_event_t *ev);
static ngx_uint_t ngx_http_sekisho_geo_stale(ngx_http_sekisho_geo_db_t *db,
    ngx_http_sekisho_geo_mmdb_t *m, u_char *built);
static void ngx_http_sekisho_geo_age(ngx_http_sekisho_geo_db_t *db,
    ngx_log_t *log);


static const char  *ngx_http_sekisho_geo_iso_path[] =
    { "country", "iso_code", NULL };
static const char  *ngx_http_sekisho_geo_cc_path[] =
    { "country_code", NULL };


ngx_http_sekisho_geo_db_t *
ngx_http_sekisho_geo_db_create(ngx_conf_t *cf, ngx_str_t *file,
    ngx_msec_t reload, ngx_str_t *path)
{
    u_char                     *buf;
    u_char                      err[NGX_MAX_ERROR_STR];
    ngx_int_t                   n;
    ngx_pool_cleanup_t         *cln;
    ngx_http_sekisho_geo_db_t  *db;

    db = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_geo_db_t));
    if (db == NULL) {
        return NULL;
    }

    db->file = *file;

    if (ngx_conf_full_name(cf->cycle, &db->file, 1) != NGX_OK) {
        return NULL;
    }

    db->reload = reload;

    if (path->len) {
        buf = ngx_pnalloc(cf->pool, path->len + 1);
        db->path = ngx_palloc(cf->pool,
                       (NGX_HTTP_SEKISHO_GEO_PATH_MAX + 1) * sizeof(char *));
        if (buf == NULL || db->path == NULL) {
            return NULL;
        }

        ngx_memcpy(buf, path->data, path->len);
        buf[path->len] = '\0';

        n = ngx_http_sekisho_geo_split_path(buf, path->len, db->path,
                                            NGX_HTTP_SEKISHO_GEO_PATH_MAX);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid lookup path \"path=%V\" in "
                               "\"sekisho_geoip_db\" directive, it must be "
                               "dot-separated keys such as "
                               "\"country.iso_code\"", path);
            return NULL;
        }
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_sekisho_geo_cleanup;
    cln->data = db;

    db->current = ngx_http_sekisho_geo_load(db, err, sizeof(err));

    if (db->current == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho_geoip_db\" cannot use \"%V\": %s",
                           &db->file, err);
        return NULL;
    }

    ngx_conf_log_error(NGX_LOG_DEBUG, cf, 0,
                       "sekisho: geoip database \"%V\" loaded, %ui records",
                       &db->file, db->current->records);

    return db;
}


/*
 * "max_age": a database built longer ago is stale.  With "refuse" a
 * stale file fails the configuration (nginx -t, start, reload) and is
 * refused as a replacement; without it the workers raise an alert.
 */

ngx_int_t
ngx_http_sekisho_geo_db_max_age(ngx_conf_t *cf, ngx_http_sekisho_geo_db_t *db,
    time_t max_age, ngx_str_t *text, ngx_uint_t refuse)
{
    u_char  built[NGX_HTTP_SEKISHO_GEO_DATE_LEN];

    db->max_age = max_age;
    db->refuse_stale = refuse;

    db->max_age_text.data = ngx_pstrdup(cf->pool, text);
    if (db->max_age_text.data == NULL) {
        return NGX_ERROR;
    }

    db->max_age_text.len = text->len;

    if (!ngx_http_sekisho_geo_stale(db, db->current, built)) {
        return NGX_OK;
    }

    if (refuse) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho_geoip_db\" refuses \"%V\": it was "
                           "built %s, not within max_age=%V "
                           "(stale=refuse)", &db->file, built, text);
        return NGX_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "\"sekisho_geoip_db\" \"%V\" is stale: it was built "
                       "%s, not within max_age=%V", &db->file, built,
                       text);

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_geo_init_worker(ngx_cycle_t *cycle,
    ngx_http_sekisho_geo_db_t *db)
{
    ngx_http_sekisho_metrics_geoip(
                      (time_t) db->current->mmdb.metadata.build_epoch,
                      db->current->loaded);
    ngx_http_sekisho_metrics_geoip_max_age(db->max_age);

    if (db->reload == 0 && db->max_age == 0) {
        return NGX_OK;
    }

    db->timer.handler = ngx_http_sekisho_geo_check;
    db->timer.data = db;
    db->timer.log = cycle->log;
    db->timer.cancelable = 1;

    /* the first age check from the event loop, once alerts can be sent */
    ngx_add_timer(&db->timer, db->max_age ? 1 : db->reload);

    return NGX_OK;
}


/*
 * NGX_OK and the packed country code, NGX_DECLINED when the database
 * cannot place the address, NGX_ERROR on a lookup failure (logged).
 */

ngx_int_t
ngx_http_sekisho_geo_lookup(ngx_http_sekisho_geo_db_t *db,
    struct sockaddr *sa, ngx_log_t *log, uint16_t *country)
{
    u_char                          *key;
    size_t                           len;
    uint16_t                         code;
    ngx_http_sekisho_geo_address_t  *a;

    switch (sa->sa_family) {

    case AF_INET:
        key = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        len = 4;
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        key = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        len = 16;
        break;
#endif

    default:
        return NGX_DECLINED;
    }

    a = &db->current->by_address[ngx_murmur_hash2(key, len)
                                 & (NGX_HTTP_SEKISHO_GEO_ADDRESSES - 1)];

    if (a->len == len && ngx_memcmp(a->addr, key, len) == 0) {
        code = a->country;

    } else {
        if (ngx_http_sekisho_geo_search(db, sa, log, &code) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_memcpy(a->addr, key, len);
        a->len = len;
        a->country = code;
    }

    if (code == 0) {
        return NGX_DECLINED;
    }

    *country = code;

    return NGX_OK;
}


/* what the audit record names the database by: its build time */

time_t
ngx_http_sekisho_geo_build(ngx_http_sekisho_geo_db_t *db)
{
    return (time_t) db->current->mmdb.metadata.build_epoch;
}


/* the same through the file's search tree; country 0: not placed */

static ngx_int_t
ngx_http_sekisho_geo_search(ngx_http_sekisho_geo_db_t *db,
    struct sockaddr *sa, ngx_log_t *log, uint16_t *country)
{
    int                             mmdb_err;
    MMDB_lookup_result_s            res;
    ngx_http_sekisho_geo_mmdb_t    *m;
    ngx_http_sekisho_geo_record_t  *rec;

    m = db->current;
    *country = 0;

    res = MMDB_lookup_sockaddr(&m->mmdb, sa, &mmdb_err);

    if (mmdb_err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
        return NGX_OK;
    }

    if (mmdb_err != MMDB_SUCCESS) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "sekisho: geoip lookup in \"%V\" failed: %s",
                      &db->file, MMDB_strerror(mmdb_err));
        return NGX_ERROR;
    }

    if (!res.found_entry) {
        return NGX_OK;
    }

    /* an offset names one record for as long as "m" is in use */
    rec = &m->by_record[(uint32_t) (res.entry.offset * 2654435761u)
                        >> (32 - NGX_HTTP_SEKISHO_GEO_RECORDS_BITS)];

    if (rec->offset != res.entry.offset + 1) {
        rec->offset = res.entry.offset + 1;
        rec->country = ngx_http_sekisho_geo_country(&res.entry, m->path);
    }

    *country = rec->country;

    return NGX_OK;
}


static ngx_http_sekisho_geo_mmdb_t *
ngx_http_sekisho_geo_load(ngx_http_sekisho_geo_db_t *db, u_char *err,
    size_t len)
{
    ngx_http_sekisho_geo_mmdb_t  *m;

    m = ngx_calloc(sizeof(ngx_http_sekisho_geo_mmdb_t), ngx_cycle->log);
    if (m == NULL) {
        ngx_snprintf(err, len, "out of memory%Z");
        return NULL;
    }

    if (ngx_http_sekisho_geo_open(db, m, err, len) != NGX_OK) {
        ngx_free(m);
        return NULL;
    }

    if (ngx_http_sekisho_geo_verify(db, m, err, len) != NGX_OK) {
        ngx_http_sekisho_geo_free(m);
        return NULL;
    }

    m->loaded = ngx_time();

    return m;
}


/*
 * libmaxminddb maps the file it opens.  A file rewritten in place
 * under that mapping would feed lookups garbage, and one truncated
 * would kill the worker with SIGBUS; so the bytes are first copied
 * into an anonymous memory file that nobody else can change.
 */

static ngx_int_t
ngx_http_sekisho_geo_open(ngx_http_sekisho_geo_db_t *db,
    ngx_http_sekisho_geo_mmdb_t *m, u_char *err, size_t len)
{
    int               rc, mfd;
    off_t             total;
    u_char            buf[16384];
    u_char            name[sizeof("/proc/self/fd/") + NGX_INT_T_LEN];
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    fd = ngx_open_file(db->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_snprintf(err, len, "open() failed (%d: %s)%Z",
                     ngx_errno, strerror(ngx_errno));
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_snprintf(err, len, "fstat() failed (%d: %s)%Z",
                     ngx_errno, strerror(ngx_errno));
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    ngx_http_sekisho_geo_sig(&fi, &m->sig);

    if (!ngx_is_file(&fi) || ngx_file_size(&fi) == 0) {
        ngx_snprintf(err, len, "not a regular non-empty file%Z");
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    mfd = memfd_create("sekisho-geoip", MFD_CLOEXEC);

    if (mfd == -1) {
        /* no memory files on this kernel: map the file itself */
        ngx_close_file(fd);
        rc = MMDB_open((char *) db->file.data, MMDB_MODE_MMAP, &m->mmdb);
        goto opened;
    }

    total = 0;

    for ( ;; ) {
        n = read(fd, buf, sizeof(buf));

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        if (write(mfd, buf, n) != n) {
            n = -1;
            break;
        }

        total += n;
    }

    if (n == -1 || total != ngx_file_size(&fi)) {
        ngx_snprintf(err, len, "the file changed or could not be read "
                     "while it was being loaded (%d: %s)%Z",
                     ngx_errno, strerror(ngx_errno));
        ngx_close_file(fd);
        close(mfd);
        return NGX_ERROR;
    }

    ngx_close_file(fd);

    ngx_snprintf(name, sizeof(name), "/proc/self/fd/%d%Z", mfd);

    rc = MMDB_open((char *) name, MMDB_MODE_MMAP, &m->mmdb);

    close(mfd);

opened:

    if (rc != MMDB_SUCCESS) {
        ngx_snprintf(err, len, "not a valid MaxMind DB: %s%Z",
                     MMDB_strerror(rc));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A file is trusted only after every search-tree node has been read
 * and every distinct data record decoded, so that corruption anywhere
 * is found at load time and never at lookup time.  The lookup path is
 * resolved here too: the one given, or "country.iso_code" (MaxMind)
 * and else "country_code" (ip-location-db).
 */

static ngx_int_t
ngx_http_sekisho_geo_verify(ngx_http_sekisho_geo_db_t *db,
    ngx_http_sekisho_geo_mmdb_t *m, u_char *err, size_t len)
{
    int                  rc;
    uint32_t            *seen, i;
    ngx_int_t            ret;
    ngx_uint_t           counts[3];
    MMDB_search_node_s   node;

    if (m->mmdb.metadata.ip_version != 4 && m->mmdb.metadata.ip_version != 6)
    {
        ngx_snprintf(err, len, "unsupported ip_version %ud%Z",
                     (ngx_uint_t) m->mmdb.metadata.ip_version);
        return NGX_ERROR;
    }

    seen = ngx_calloc(NGX_HTTP_SEKISHO_GEO_SEEN * sizeof(uint32_t),
                      ngx_cycle->log);
    if (seen == NULL) {
        ngx_snprintf(err, len, "out of memory%Z");
        return NGX_ERROR;
    }

    /* [0] records decoded, [1] placed by the first path, [2] by the second */
    ngx_memzero(counts, sizeof(counts));
    ret = NGX_OK;

    for (i = 0; i < m->mmdb.metadata.node_count; i++) {

        rc = MMDB_read_node(&m->mmdb, i, &node);
        if (rc != MMDB_SUCCESS) {
            ngx_snprintf(err, len, "search tree node %uD: %s%Z",
                         i, MMDB_strerror(rc));
            ret = NGX_ERROR;
            break;
        }

        if (node.left_record_type == MMDB_RECORD_TYPE_INVALID
            || node.right_record_type == MMDB_RECORD_TYPE_INVALID)
        {
            ngx_snprintf(err, len, "search tree node %uD points outside "
                         "the file%Z", i);
            ret = NGX_ERROR;
            break;
        }

        if (node.left_record_type == MMDB_RECORD_TYPE_DATA
            && ngx_http_sekisho_geo_verify_record(db, &node.left_record_entry,
                                                  seen, counts, err, len)
               != NGX_OK)
        {
            ret = NGX_ERROR;
            break;
        }

        if (node.right_record_type == MMDB_RECORD_TYPE_DATA
            && ngx_http_sekisho_geo_verify_record(db, &node.right_record_entry,
                                                  seen, counts, err, len)
               != NGX_OK)
        {
            ret = NGX_ERROR;
            break;
        }
    }

    ngx_free(seen);

    if (ret != NGX_OK) {
        return NGX_ERROR;
    }

    m->records = counts[0];

    if (db->path) {
        m->path = db->path;
        m->placed = counts[1];

    } else if (counts[1]) {
        m->path = ngx_http_sekisho_geo_iso_path;
        m->placed = counts[1];

    } else {
        m->path = ngx_http_sekisho_geo_cc_path;
        m->placed = counts[2];
    }

    if (m->placed == 0) {
        if (db->path) {
            ngx_snprintf(err, len, "no record has a two-letter country code "
                         "at the configured path%Z");
        } else {
            ngx_snprintf(err, len, "no record has a two-letter country code "
                         "at \"country.iso_code\" or \"country_code\"%Z");
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_geo_verify_record(ngx_http_sekisho_geo_db_t *db,
    MMDB_entry_s *entry, uint32_t *seen, ngx_uint_t *counts, u_char *err,
    size_t len)
{
    int                      rc;
    uint32_t                 key, h;
    ngx_uint_t               probes;
    MMDB_entry_data_list_s  *list;

    /* open addressing on offset + 1, so that 0 marks a free slot */
    key = entry->offset + 1;
    h = (key * 2654435761u) & (NGX_HTTP_SEKISHO_GEO_SEEN - 1);

    for (probes = 0; probes < 64; probes++) {
        if (seen[h] == key) {
            return NGX_OK;
        }

        if (seen[h] == 0) {
            seen[h] = key;
            break;
        }

        h = (h + 1) & (NGX_HTTP_SEKISHO_GEO_SEEN - 1);
    }

    list = NULL;
    rc = MMDB_get_entry_data_list(entry, &list);
    MMDB_free_entry_data_list(list);

    if (rc != MMDB_SUCCESS) {
        ngx_snprintf(err, len, "data record at offset %uD: %s%Z",
                     entry->offset, MMDB_strerror(rc));
        return NGX_ERROR;
    }

    counts[0]++;

    if (db->path) {
        if (ngx_http_sekisho_geo_country(entry, db->path)) {
            counts[1]++;
        }

        return NGX_OK;
    }

    if (ngx_http_sekisho_geo_country(entry, ngx_http_sekisho_geo_iso_path)) {
        counts[1]++;
    }

    if (ngx_http_sekisho_geo_country(entry, ngx_http_sekisho_geo_cc_path)) {
        counts[2]++;
    }

    return NGX_OK;
}


static uint16_t
ngx_http_sekisho_geo_country(MMDB_entry_s *entry, const char * const *path)
{
    MMDB_entry_data_s  data;

    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS
        || !data.has_data
        || data.type != MMDB_DATA_TYPE_UTF8_STRING)
    {
        return 0;
    }

    return ngx_http_sekisho_country_pack((u_char *) data.utf8_string,
                                         data.data_size);
}


static void
ngx_http_sekisho_geo_free(ngx_http_sekisho_geo_mmdb_t *m)
{
    MMDB_close(&m->mmdb);
    ngx_free(m);
}


static void
ngx_http_sekisho_geo_cleanup(void *data)
{
    ngx_http_sekisho_geo_db_t  *db = data;

    if (db->current) {
        ngx_http_sekisho_geo_free(db->current);
        db->current = NULL;
    }
}


static void
ngx_http_sekisho_geo_sig(ngx_file_info_t *fi, ngx_http_sekisho_geo_sig_t *sig)
{
    sig->ino = fi->st_ino;
    sig->size = fi->st_size;
    sig->mtime = fi->st_mtim.tv_sec;
    sig->mtime_ns = fi->st_mtim.tv_nsec;
}


/*
 * Runs in every worker each "reload" interval.  A changed file that
 * fails to load is logged once and remembered, so the old database
 * stays in use without an error every interval until the file changes
 * again.
 */

static void
ngx_http_sekisho_geo_check(ngx_event_t *ev)
{
    u_char                          err[NGX_MAX_ERROR_STR];
    u_char                          built[NGX_HTTP_SEKISHO_GEO_DATE_LEN];
    ngx_err_t                       e;
    ngx_file_info_t                 fi;
    ngx_http_sekisho_alert_param_t  params[2];
    ngx_http_sekisho_geo_db_t    *db;
    ngx_http_sekisho_geo_sig_t    sig;
    ngx_http_sekisho_geo_mmdb_t  *m;

    db = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (db->reload == 0) {
        goto next;
    }

    if (ngx_file_info(db->file.data, &fi) == NGX_FILE_ERROR) {
        e = ngx_errno;

        if (e != db->stat_err) {
            ngx_log_error(NGX_LOG_ERR, ev->log, e,
                          "sekisho: geoip database \"%V\" cannot be checked "
                          "for changes, the database already loaded stays "
                          "in use", &db->file);
            db->stat_err = e;
        }

        goto next;
    }

    db->stat_err = 0;

    ngx_http_sekisho_geo_sig(&fi, &sig);

    if (ngx_memcmp(&sig, &db->current->sig, sizeof(sig)) == 0
        || ngx_memcmp(&sig, &db->rejected, sizeof(sig)) == 0)
    {
        goto next;
    }

    m = ngx_http_sekisho_geo_load(db, err, sizeof(err));

    if (m && db->refuse_stale && ngx_http_sekisho_geo_stale(db, m, built)) {
        ngx_snprintf(err, sizeof(err), "it was built %s, not within "
                     "max_age=%V (stale=refuse)%Z", built, &db->max_age_text);
        ngx_http_sekisho_geo_free(m);
        m = NULL;
        ngx_str_set(&params[1].value, "stale");

    } else {
        ngx_str_set(&params[1].value, "invalid");
    }

    if (m == NULL) {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "sekisho: geoip database \"%V\" was replaced by a file "
                      "that cannot be used: %s; the database already loaded "
                      "stays in use", &db->file, err);
        db->rejected = sig;

        ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_GEOIP_RELOAD_FAILED);

        params[0].name = "file";
        params[0].value = db->file;
        params[1].name = "reason";
        ngx_http_sekisho_alert_once(NGX_HTTP_SEKISHO_ALERT_GEOIP_RELOAD_FAILED,
                                    ((uint64_t) sig.ino << 32)
                                    ^ (uint64_t) sig.mtime
                                    ^ (uint64_t) sig.mtime_ns
                                    ^ (uint64_t) sig.size,
                                    params, 2);
        goto next;
    }

    /* lookups never keep pointers into a database across events */
    ngx_http_sekisho_geo_free(db->current);
    db->current = m;

    ngx_http_sekisho_metrics_count(NGX_HTTP_SEKISHO_M_GEOIP_RELOAD_OK);
    ngx_http_sekisho_metrics_geoip((time_t) m->mmdb.metadata.build_epoch,
                                   m->loaded);

    ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                  "sekisho: geoip database \"%V\" reloaded, %ui records, "
                  "built %uL", &db->file, m->records,
                  (uint64_t) m->mmdb.metadata.build_epoch);

next:

    ngx_http_sekisho_geo_age(db, ev->log);

    ngx_add_timer(ev, db->reload ? db->reload
                                 : NGX_HTTP_SEKISHO_GEO_AGE_CHECK);
}


/*
 * Whether a database is older than max_age, and its build date as
 * RFC 3339 text.  A build date more than a day ahead of the clock
 * cannot be trusted to be recent, so it counts as stale too.
 */

static ngx_uint_t
ngx_http_sekisho_geo_stale(ngx_http_sekisho_geo_db_t *db,
    ngx_http_sekisho_geo_mmdb_t *m, u_char *built)
{
    u_char    *p;
    time_t     now;
    uint64_t   epoch;

    epoch = m->mmdb.metadata.build_epoch;
    now = ngx_time();

    if (epoch > (uint64_t) NGX_MAX_INT32_VALUE * 64) {
        ngx_cpystrn(built, (u_char *) "at an impossible time",
                    NGX_HTTP_SEKISHO_GEO_DATE_LEN);
        return (db->max_age != 0);
    }

    p = ngx_http_sekisho_utc(built, (time_t) epoch);

    if (epoch > (uint64_t) now + NGX_HTTP_SEKISHO_GEO_STALE_REPEAT) {
        /* a date that cannot be right cannot show the file is recent */
        p = ngx_cpymem(p, " (in the future)", sizeof(" (in the future)") - 1);
        *p = '\0';
        return (db->max_age != 0);
    }

    *p = '\0';

    return (db->max_age && epoch + db->max_age < (uint64_t) now);
}


/*
 * The database in use grown older than max_age: logged once per file
 * by each worker; alerted once for the node, then again each day while
 * it stays in use.
 */

static void
ngx_http_sekisho_geo_age(ngx_http_sekisho_geo_db_t *db, ngx_log_t *log)
{
    u_char                          built[NGX_HTTP_SEKISHO_GEO_DATE_LEN];
    uint64_t                        epoch, day;
    ngx_http_sekisho_alert_param_t  params[3];

    if (!ngx_http_sekisho_geo_stale(db, db->current, built)) {
        db->stale_logged = 0;
        return;
    }

    epoch = db->current->mmdb.metadata.build_epoch;

    if (db->stale_logged != epoch + 1) {
        db->stale_logged = epoch + 1;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "sekisho: geoip database \"%V\" is stale: it was "
                      "built %s, not within max_age=%V", &db->file,
                      built, &db->max_age_text);
    }

    day = ((uint64_t) ngx_time() - epoch) / NGX_HTTP_SEKISHO_GEO_STALE_REPEAT;

    params[0].name = "file";
    params[0].value = db->file;
    params[1].name = "built";
    params[1].value.data = built;
    params[1].value.len = ngx_strlen(built);
    params[2].name = "max_age";
    params[2].value = db->max_age_text;

    ngx_http_sekisho_alert_once(NGX_HTTP_SEKISHO_ALERT_GEOIP_STALE,
                                (epoch << 20) ^ day, params, 3);
}
