
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <dirent.h>
#include <sys/mman.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include "ngx_http_sekisho_crl_set.h"
#include "ngx_http_sekisho_crl_der.h"
#include "ngx_http_sekisho_crl_pem.h"
#include "ngx_http_sekisho_der_names.h"


/* distribution point names one CRL may have */
#define NGX_HTTP_SEKISHO_CRL_NAMES    16


static ngx_int_t ngx_http_sekisho_crl_list(ngx_http_sekisho_crl_set_t *set);
static ngx_int_t ngx_http_sekisho_crl_add_source(
    ngx_http_sekisho_crl_set_t *set, char *dir, char *name);
static ngx_uint_t ngx_http_sekisho_crl_wanted(const char *name);
static int ngx_libc_cdecl ngx_http_sekisho_crl_source_cmp(const void *one,
    const void *two);
static void ngx_http_sekisho_crl_digest(ngx_http_sekisho_crl_set_t *set);
static ngx_int_t ngx_http_sekisho_crl_reuse(ngx_http_sekisho_crl_set_t *set,
    ngx_http_sekisho_crl_source_t *src, ngx_uint_t same);
static ngx_int_t ngx_http_sekisho_crl_read_file(
    ngx_http_sekisho_crl_set_t *set, ngx_http_sekisho_crl_source_t *src,
    const char **why);
static ngx_int_t ngx_http_sekisho_crl_add(ngx_http_sekisho_crl_set_t *set,
    u_char *der, size_t len, ngx_http_sekisho_crl_source_t *src,
    const char **why);
static ngx_http_sekisho_crl_root_t *ngx_http_sekisho_crl_signer(
    ngx_http_sekisho_crl_set_t *set, ngx_http_sekisho_crl_der_t *c,
    const char **why);
static ngx_int_t ngx_http_sekisho_crl_name(ngx_http_sekisho_crl_set_t *set,
    const char *path, uint64_t *off, uint32_t *len);
static ngx_http_sekisho_crlix_row_t *ngx_http_sekisho_crl_row(
    ngx_http_sekisho_crl_set_t *set);
static ngx_int_t ngx_http_sekisho_crl_keys(ngx_http_sekisho_crl_set_t *set,
    uint64_t more);
static const char *ngx_http_sekisho_crl_directive(
    ngx_http_sekisho_crl_source_t *src);
static void ngx_http_sekisho_crl_msg(ngx_http_sekisho_crl_set_t *set,
    ngx_uint_t level, ngx_uint_t fatal, const char *fmt, ...);


ngx_int_t
ngx_http_sekisho_crl_root_id(X509 *x, u_char *id)
{
    unsigned int  len;

    len = 0;

    if (X509_pubkey_digest(x, EVP_sha1(), id, &len) != 1
        || len != NGX_HTTP_SEKISHO_CRLIX_ISSUER)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_crl_set_build(ngx_http_sekisho_crl_set_t *set)
{
    const char                     *why;
    ngx_uint_t                      i;
    ngx_http_sekisho_crl_source_t  *src;

    if (ngx_http_sekisho_crl_list(set) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_digest(set);

    if (!set->force && set->old
        && ngx_memcmp(set->old->header->sources, set->digest, 32) == 0)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < set->nsources; i++) {
        src = &set->sources[i];

        /* a file as it was when the index in use read it */
        if (!set->force) {
            switch (ngx_http_sekisho_crl_reuse(set, src, 1)) {
            case NGX_OK:
                set->reused++;
                continue;
            case NGX_ERROR:
                return NGX_ERROR;
            default:
                break;
            }
        }

        switch (ngx_http_sekisho_crl_read_file(set, src, &why)) {

        case NGX_OK:
            set->read++;
            continue;

        case NGX_ERROR:
            return NGX_ERROR;

        default:
            break;
        }

        /* damaged, or not ours: the CRL it had stays */
        switch (ngx_http_sekisho_crl_reuse(set, src, 0)) {

        case NGX_OK:
            set->kept++;
            ngx_http_sekisho_crl_msg(set, NGX_LOG_ERR, 1,
                                     "\"%s\": \"%s\" %s; the CRL read "
                                     "from it before stays in use",
                                     ngx_http_sekisho_crl_directive(src),
                                     src->path, why);
            continue;

        case NGX_ERROR:
            return NGX_ERROR;

        default:
            ngx_http_sekisho_crl_msg(set, NGX_LOG_ERR, 1, "\"%s\": \"%s\" %s",
                                     ngx_http_sekisho_crl_directive(src),
                                     src->path, why);
            continue;
        }
    }

    return ngx_http_sekisho_crl_set_finish(set);
}


/* the files named, and the CRL files of the folders, by path */

static ngx_int_t
ngx_http_sekisho_crl_list(ngx_http_sekisho_crl_set_t *set)
{
    DIR            *d;
    ngx_uint_t      i;
    struct dirent  *de;

    for (i = 0; i < set->nfiles; i++) {
        if (ngx_http_sekisho_crl_add_source(set, NULL, set->files[i])
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < set->ndirs; i++) {
        d = opendir(set->dirs[i]);
        if (d == NULL) {
            ngx_http_sekisho_crl_msg(set, NGX_LOG_ERR, 1,
                                     "\"sekisho_jpki_crl_dir\": cannot read "
                                     "the folder \"%s\": %s", set->dirs[i],
                                     strerror(errno));
            continue;
        }

        while ((de = readdir(d)) != NULL) {
            if (!ngx_http_sekisho_crl_wanted(de->d_name)) {
                continue;
            }

            if (ngx_http_sekisho_crl_add_source(set, set->dirs[i],
                                                de->d_name)
                == NGX_ERROR)
            {
                closedir(d);
                return NGX_ERROR;
            }
        }

        closedir(d);
    }

    ngx_qsort(set->sources, set->nsources,
              sizeof(ngx_http_sekisho_crl_source_t),
              ngx_http_sekisho_crl_source_cmp);

    return NGX_OK;
}


/* *.crl, *.der, *.pem, in any case; not a sync job's hidden temporary */

static ngx_uint_t
ngx_http_sekisho_crl_wanted(const char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    if (name[0] == '.' || len < 5 || name[len - 4] != '.') {
        return 0;
    }

    return strcasecmp(name + len - 3, "crl") == 0
           || strcasecmp(name + len - 3, "der") == 0
           || strcasecmp(name + len - 3, "pem") == 0;
}


static ngx_int_t
ngx_http_sekisho_crl_add_source(ngx_http_sekisho_crl_set_t *set, char *dir,
    char *name)
{
    char                           *path;
    size_t                          len;
    struct stat                     st;
    ngx_http_sekisho_crl_source_t  *src, *more;

    len = (dir ? ngx_strlen(dir) + 1 : 0) + ngx_strlen(name) + 1;

    path = malloc(len);
    if (path == NULL) {
        return NGX_ERROR;
    }

    if (dir) {
        snprintf(path, len, "%s/%s", dir, name);

    } else {
        ngx_memcpy(path, name, len);
    }

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (dir == NULL) {
            ngx_http_sekisho_crl_msg(set, NGX_LOG_ERR, 1,
                                     "\"sekisho_jpki_crl\": cannot read "
                                     "\"%s\": %s", path,
                                     strerror(errno ? errno : EINVAL));
        }

        /* a file of a folder that went away meanwhile is not there */
        free(path);
        return NGX_DECLINED;
    }

    if (set->nsources == set->sources_cap) {
        set->sources_cap = set->sources_cap ? 2 * set->sources_cap : 64;
        more = realloc(set->sources, set->sources_cap
                                     * sizeof(ngx_http_sekisho_crl_source_t));
        if (more == NULL) {
            free(path);
            return NGX_ERROR;
        }

        set->sources = more;
    }

    src = &set->sources[set->nsources++];

    src->path = path;
    src->dir = (dir != NULL);
    src->dev = (uint64_t) st.st_dev;
    src->ino = (uint64_t) st.st_ino;
    src->size = (uint64_t) st.st_size;
    src->mtime = (int64_t) st.st_mtime;

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_sekisho_crl_source_cmp(const void *one, const void *two)
{
    ngx_http_sekisho_crl_source_t  *a, *b;

    a = (ngx_http_sekisho_crl_source_t *) one;
    b = (ngx_http_sekisho_crl_source_t *) two;

    return strcmp(a->path, b->path);
}


/* what the index is built from: the files as found, and the roots */

static void
ngx_http_sekisho_crl_digest(ngx_http_sekisho_crl_set_t *set)
{
    int64_t                         v[4];
    SHA256_CTX                      sha;
    ngx_uint_t                      i;
    ngx_http_sekisho_crl_source_t  *src;

    SHA256_Init(&sha);
    SHA256_Update(&sha, "sekisho-crl-index-1", 19);

    for (i = 0; i < set->nroots; i++) {
        SHA256_Update(&sha, set->roots[i].id, NGX_HTTP_SEKISHO_CRLIX_ISSUER);
    }

    for (i = 0; i < set->nsources; i++) {
        src = &set->sources[i];

        v[0] = (int64_t) src->dev;
        v[1] = (int64_t) src->ino;
        v[2] = (int64_t) src->size;
        v[3] = src->mtime;

        SHA256_Update(&sha, src->path, ngx_strlen(src->path) + 1);
        SHA256_Update(&sha, v, sizeof(v));
    }

    SHA256_Final(set->digest, &sha);
}


/*
 * The rows the index in use has of the file: only if it is the very
 * same file ("same"), or whatever it had ("same" 0: a damaged file
 * keeps them).  NGX_DECLINED when there are none.
 */

static ngx_int_t
ngx_http_sekisho_crl_reuse(ngx_http_sekisho_crl_set_t *set,
    ngx_http_sekisho_crl_source_t *src, ngx_uint_t same)
{
    size_t                         len;
    uint64_t                       first, last, i, n;
    ngx_uint_t                     found;
    ngx_http_sekisho_crlix_t      *ix;
    ngx_http_sekisho_crlix_row_t  *row, *r;

    ix = set->old;

    if (ix == NULL) {
        return NGX_DECLINED;
    }

    len = ngx_strlen(src->path);
    found = 0;
    first = 0;
    last = 0;

    for (i = 0; i < ix->header->nrows; i++) {
        row = &ix->rows[i];

        if (row->name_len != len
            || ngx_memcmp(ix->names + row->name, src->path, len) != 0
            || (same && (row->dev != src->dev || row->ino != src->ino
                         || row->size != src->size
                         || row->mtime != src->mtime)))
        {
            continue;
        }

        /* the CRL's keys, copied once for all its rows */
        if (!found) {
            n = row->count;

            if (ngx_http_sekisho_crl_keys(set, n) != NGX_OK) {
                return NGX_ERROR;
            }

            first = row->first;
            last = set->nkeys;

            if (n) {
                /* an empty CRL may have no key array at all */
                ngx_memcpy(set->keys
                           + set->nkeys * NGX_HTTP_SEKISHO_CRLIX_KEY,
                           ix->keys + first * NGX_HTTP_SEKISHO_CRLIX_KEY,
                           n * NGX_HTTP_SEKISHO_CRLIX_KEY);
            }
            set->nkeys += n;
            set->ncrls++;
            found = 1;
        }

        if (row->first != first) {
            /* the same path once held another CRL: the first one stays */
            continue;
        }

        r = ngx_http_sekisho_crl_row(set);
        if (r == NULL) {
            return NGX_ERROR;
        }

        *r = *row;
        r->first = last;

        if (ngx_http_sekisho_crl_name(set, src->path, &r->name, &r->name_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return found ? NGX_OK : NGX_DECLINED;
}


/*
 * NGX_OK, NGX_DECLINED with "why" for a file that cannot be used,
 * NGX_ERROR when memory ran out.
 */

static ngx_int_t
ngx_http_sekisho_crl_read_file(ngx_http_sekisho_crl_set_t *set,
    ngx_http_sekisho_crl_source_t *src, const char **why)
{
    int           fd;
    u_char       *map, *der;
    size_t        len, dlen;
    ngx_int_t     rc;
    struct stat   st;

    fd = open(src->path, O_RDONLY);
    if (fd == -1) {
        *why = "cannot be opened";
        return NGX_DECLINED;
    }

    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        *why = "is empty";
        return NGX_DECLINED;
    }

    /* the identity of what is read, not of what was listed */
    src->dev = (uint64_t) st.st_dev;
    src->ino = (uint64_t) st.st_ino;
    src->size = (uint64_t) st.st_size;
    src->mtime = (int64_t) st.st_mtime;

    len = (size_t) st.st_size;

    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);

    if (map == MAP_FAILED) {
        *why = "cannot be mapped";
        return NGX_DECLINED;
    }

    /* DER begins with a SEQUENCE; anything else may be PEM */
    if (map[0] == 0x30) {
        rc = ngx_http_sekisho_crl_add(set, map, len, src, why);

    } else {
        der = malloc(len);

        if (der == NULL) {
            rc = NGX_ERROR;

        } else if (ngx_http_sekisho_crl_pem(map, len, der, &dlen) != NGX_OK) {
            *why = "is not a CRL (DER or PEM)";
            rc = NGX_DECLINED;

        } else {
            rc = ngx_http_sekisho_crl_add(set, der, dlen, src, why);
        }

        free(der);
    }

    munmap(map, len);

    return rc;
}


ngx_int_t
ngx_http_sekisho_crl_set_add_der(ngx_http_sekisho_crl_set_t *set,
    u_char *der, size_t len, ngx_http_sekisho_crl_source_t *src,
    const char **why)
{
    *why = NULL;

    return ngx_http_sekisho_crl_add(set, der, len, src, why);
}


/* a CRL read, checked and added: a row for each scope, its keys */

static ngx_int_t
ngx_http_sekisho_crl_add(ngx_http_sekisho_crl_set_t *set, u_char *der,
    size_t len, ngx_http_sekisho_crl_source_t *src, const char **why)
{
    size_t                           n;
    uint64_t                         first, count;
    ngx_int_t                        rc;
    ngx_str_t                        serial, names[NGX_HTTP_SEKISHO_CRL_NAMES];
    ngx_uint_t                       i, nnames, nrows, kind;
    ngx_http_sekisho_crlix_row_t    *row;
    ngx_http_sekisho_crl_root_t     *root;
    ngx_http_sekisho_crl_der_t       c;
    ngx_http_sekisho_crl_entries_t   it;

    *why = NULL;

    rc = ngx_http_sekisho_crl_der_read(der, len, &c, why);

    if (rc == NGX_ERROR) {
        if (*why == NULL) {
            *why = "is not a CRL (DER or PEM) or is damaged";
        }

        return NGX_DECLINED;
    }

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    nnames = 0;

    if (c.idp_names.len
        && ngx_http_sekisho_general_names(c.idp_names.data, c.idp_names.len,
                                          names, NGX_HTTP_SEKISHO_CRL_NAMES,
                                          &nnames)
           != NGX_OK)
    {
        *why = "has an issuing distribution point that cannot be read";
        return NGX_DECLINED;
    }

    root = ngx_http_sekisho_crl_signer(set, &c, why);
    if (root == NULL) {
        return NGX_DECLINED;
    }

    kind = c.only_user ? NGX_HTTP_SEKISHO_CRLIX_USERS
                       : c.only_ca ? NGX_HTTP_SEKISHO_CRLIX_CAS
                                   : NGX_HTTP_SEKISHO_CRLIX_ALL;

    /* the entries, each a key, behind the keys already there */
    first = set->nkeys;

    ngx_http_sekisho_crl_entries_init(&c, &it);

    for ( ;; ) {
        rc = ngx_http_sekisho_crl_entries_next(&it, &serial, why);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc != NGX_OK) {
            set->nkeys = first;
            return NGX_DECLINED;
        }

        if (ngx_http_sekisho_crl_keys(set, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_sekisho_crlix_serial_key(serial.data, serial.len,
                                          set->keys + set->nkeys
                                                * NGX_HTTP_SEKISHO_CRLIX_KEY);
        set->nkeys++;
    }

    count = set->nkeys - first;
    nrows = nnames ? nnames : 1;

    for (i = 0; i < nrows; i++) {
        row = ngx_http_sekisho_crl_row(set);
        if (row == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(row, sizeof(ngx_http_sekisho_crlix_row_t));

        ngx_memcpy(row->issuer, root->id, NGX_HTTP_SEKISHO_CRLIX_ISSUER);

        if (nnames) {
            ngx_http_sekisho_crlix_scope_key(names[i].data, names[i].len,
                                             row->scope);
        }

        /* the CRL number, right-aligned */
        n = c.number.len;

        if (n && n <= NGX_HTTP_SEKISHO_CRLIX_NUMBER) {
            ngx_memcpy(row->number + NGX_HTTP_SEKISHO_CRLIX_NUMBER - n,
                       c.number.data, n);
        }

        row->kind = (uint32_t) kind;
        row->this_update = (int64_t) c.this_update;
        row->next_update = (int64_t) c.next_update;
        row->first = first;
        row->count = count;
        row->dev = src->dev;
        row->ino = src->ino;
        row->size = src->size;
        row->mtime = src->mtime;

        if (ngx_http_sekisho_crl_name(set, src->path, &row->name,
                                      &row->name_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    set->ncrls++;

    if (c.next_update == 0 || c.next_update <= set->now) {
        ngx_http_sekisho_crl_msg(set, NGX_LOG_WARN, 0,
                                 "\"%s\": \"%s\" is past its next update; "
                                 "it decides nothing until a current CRL "
                                 "replaces it",
                                 ngx_http_sekisho_crl_directive(src),
                                 src->path);
    }

    return NGX_OK;
}


/*
 * The configured root that signed it: the same name, and a key that
 * verifies the signature (a generation of a root shares the name of
 * the others).  SHA-1 and MD5 signatures are refused.
 */

static ngx_http_sekisho_crl_root_t *
ngx_http_sekisho_crl_signer(ngx_http_sekisho_crl_set_t *set,
    ngx_http_sekisho_crl_der_t *c, const char **why)
{
    int                           md_nid, pk_nid;
    X509_NAME                    *issuer;
    ngx_uint_t                    i;
    X509_ALGOR                   *alg;
    EVP_MD_CTX                   *ctx;
    const EVP_MD                 *md;
    const u_char                 *p;
    ngx_http_sekisho_crl_root_t  *root;

    p = c->sig_alg.data;
    alg = d2i_X509_ALGOR(NULL, &p, (long) c->sig_alg.len);

    if (alg == NULL
        || !OBJ_find_sigid_algs(OBJ_obj2nid(alg->algorithm), &md_nid,
                                &pk_nid))
    {
        X509_ALGOR_free(alg);
        ERR_clear_error();
        *why = "is signed with an algorithm this gateway does not know";
        return NULL;
    }

    X509_ALGOR_free(alg);

    if (md_nid == NID_sha1 || md_nid == NID_md5 || md_nid == NID_undef) {
        *why = "is signed with SHA-1, MD5 or RSA-PSS, which are refused";
        return NULL;
    }

    md = EVP_get_digestbynid(md_nid);

    p = c->issuer.data;
    issuer = d2i_X509_NAME(NULL, &p, (long) c->issuer.len);

    ctx = EVP_MD_CTX_new();

    if (md == NULL || issuer == NULL || ctx == NULL) {
        X509_NAME_free(issuer);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        *why = "cannot be checked";
        return NULL;
    }

    root = NULL;

    for (i = 0; i < set->nroots; i++) {
        if (X509_NAME_cmp(X509_get_subject_name(set->roots[i].cert), issuer)
            != 0)
        {
            continue;
        }

        if (EVP_DigestVerifyInit(ctx, NULL, md, NULL,
                                 X509_get0_pubkey(set->roots[i].cert))
            == 1
            && EVP_DigestVerify(ctx, c->signature.data, c->signature.len,
                                c->tbs.data, c->tbs.len)
               == 1)
        {
            root = &set->roots[i];
            break;
        }

        EVP_MD_CTX_reset(ctx);
    }

    X509_NAME_free(issuer);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    if (root == NULL) {
        *why = "is not signed by any configured CA";
    }

    return root;
}


/* a path in the names, once for all the rows of one file */

static ngx_int_t
ngx_http_sekisho_crl_name(ngx_http_sekisho_crl_set_t *set, const char *path,
    uint64_t *off, uint32_t *len)
{
    u_char  *more;
    size_t   n;

    n = ngx_strlen(path);

    if (set->names_len >= n
        && ngx_memcmp(set->names + set->names_len - n, path, n) == 0)
    {
        *off = set->names_len - n;
        *len = (uint32_t) n;
        return NGX_OK;
    }

    if (set->names_len + n > set->names_cap) {
        set->names_cap = ngx_max(2 * set->names_cap, set->names_len + n + 4096);
        more = realloc(set->names, set->names_cap);
        if (more == NULL) {
            return NGX_ERROR;
        }

        set->names = more;
    }

    *off = set->names_len;
    *len = (uint32_t) n;

    ngx_memcpy(set->names + set->names_len, path, n);
    set->names_len += n;

    return NGX_OK;
}


static ngx_http_sekisho_crlix_row_t *
ngx_http_sekisho_crl_row(ngx_http_sekisho_crl_set_t *set)
{
    ngx_http_sekisho_crlix_row_t  *more;

    if (set->nrows == set->rows_cap) {
        set->rows_cap = set->rows_cap ? 2 * set->rows_cap : 64;
        more = realloc(set->rows, set->rows_cap
                                  * sizeof(ngx_http_sekisho_crlix_row_t));
        if (more == NULL) {
            return NULL;
        }

        set->rows = more;
    }

    return &set->rows[set->nrows++];
}


static ngx_int_t
ngx_http_sekisho_crl_keys(ngx_http_sekisho_crl_set_t *set, uint64_t more)
{
    u_char    *keys;
    uint64_t   cap;

    if (set->nkeys + more <= set->keys_cap) {
        return NGX_OK;
    }

    cap = ngx_max(2 * set->keys_cap, set->nkeys + more + 4096);

    keys = realloc(set->keys, cap * NGX_HTTP_SEKISHO_CRLIX_KEY);
    if (keys == NULL) {
        return NGX_ERROR;
    }

    set->keys = keys;
    set->keys_cap = cap;

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_crl_set_finish(ngx_http_sekisho_crl_set_t *set)
{
    return ngx_http_sekisho_crlix_build(set->rows, set->nrows, set->keys,
                                        set->nkeys, set->names,
                                        set->names_len, set->digest,
                                        set->now, &set->index,
                                        &set->index_len);
}


/* what the operator wrote to name the file */

static const char *
ngx_http_sekisho_crl_directive(ngx_http_sekisho_crl_source_t *src)
{
    return src->dir ? "sekisho_jpki_crl_dir" : "sekisho_jpki_crl";
}


static void
ngx_http_sekisho_crl_msg(ngx_http_sekisho_crl_set_t *set, ngx_uint_t level,
    ngx_uint_t fatal, const char *fmt, ...)
{
    va_list                      args;
    ngx_http_sekisho_crl_msg_t  *m, *more;

    if (set->nmsgs == set->msgs_cap) {
        set->msgs_cap = set->msgs_cap ? 2 * set->msgs_cap : 8;
        more = realloc(set->msgs, set->msgs_cap
                                  * sizeof(ngx_http_sekisho_crl_msg_t));
        if (more == NULL) {
            return;
        }

        set->msgs = more;
    }

    m = &set->msgs[set->nmsgs++];
    m->level = level;
    m->fatal = fatal;

    va_start(args, fmt);
    vsnprintf(m->text, NGX_HTTP_SEKISHO_CRL_MSG_LEN, fmt, args);
    va_end(args);
}


void
ngx_http_sekisho_crl_set_free(ngx_http_sekisho_crl_set_t *set)
{
    ngx_uint_t  i;

    for (i = 0; i < set->nsources; i++) {
        free(set->sources[i].path);
    }

    free(set->sources);
    free(set->rows);
    free(set->keys);
    free(set->names);
    free(set->msgs);
    free(set->index);

    set->sources = NULL;
    set->rows = NULL;
    set->keys = NULL;
    set->names = NULL;
    set->msgs = NULL;
    set->index = NULL;
}
