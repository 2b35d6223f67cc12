
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/sha.h>
#include "ngx_http_sekisho_crl_index.h"


#define NGX_HTTP_SEKISHO_CRLIX_VERSION  2


static int ngx_libc_cdecl ngx_http_sekisho_crlix_row_cmp(const void *one,
    const void *two);
static int ngx_libc_cdecl ngx_http_sekisho_crlix_first_cmp(const void *one,
    const void *two);
static int ngx_libc_cdecl ngx_http_sekisho_crlix_key_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_sekisho_crlix_listed(ngx_http_sekisho_crlix_t *ix,
    ngx_http_sekisho_crlix_row_t *row, u_char *serial);
static ngx_uint_t ngx_http_sekisho_crlix_speaks(
    ngx_http_sekisho_crlix_row_t *row, ngx_uint_t ca);
static ngx_http_sekisho_crlix_row_t *ngx_http_sekisho_crlix_find_scope(
    ngx_http_sekisho_crlix_t *ix, u_char *issuer, u_char *scope,
    ngx_uint_t *n);
static uint32_t ngx_http_sekisho_crlix_hash(u_char *issuer, u_char *scope);
static ngx_uint_t ngx_http_sekisho_crlix_same(
    ngx_http_sekisho_crlix_row_t *row, u_char *issuer, u_char *scope);
static void ngx_http_sekisho_crlix_fill_dir(ngx_http_sekisho_crlix_row_t *rows,
    ngx_uint_t nrows, uint32_t *dir, uint64_t ndir);
static uint32_t ngx_http_sekisho_crlix_nbuckets(uint64_t count);
static void ngx_http_sekisho_crlix_fill_buckets(
    ngx_http_sekisho_crlix_row_t *row, u_char *keys, uint32_t *buckets);
static uint64_t ngx_http_sekisho_crlix_value(u_char *key, ngx_uint_t from);


static const u_char  ngx_http_sekisho_crlix_magic[8] = "SKCRLIX1";
static const u_char  ngx_http_sekisho_crlix_whole[NGX_HTTP_SEKISHO_CRLIX_KEY];


/*
 * A serial's key: its bytes without leading zero bytes (so that the
 * INTEGER's sign byte does not matter), behind their count; a serial of
 * more than 15 bytes (RFC 5280 allows 20) by the first 15 bytes of its
 * SHA-256 behind 0xff.
 */

void
ngx_http_sekisho_crlix_serial_key(u_char *serial, size_t len, u_char *key)
{
    u_char  md[SHA256_DIGEST_LENGTH];

    while (len > 1 && serial[0] == 0) {
        serial++;
        len--;
    }

    ngx_memzero(key, NGX_HTTP_SEKISHO_CRLIX_KEY);

    if (len < NGX_HTTP_SEKISHO_CRLIX_KEY) {
        key[0] = (u_char) len;
        ngx_memcpy(key + 1, serial, len);
        return;
    }

    SHA256(serial, len, md);

    key[0] = 0xff;
    ngx_memcpy(key + 1, md, NGX_HTTP_SEKISHO_CRLIX_KEY - 1);
}


/*
 * A distribution point's key: a GeneralName as encoded, hashed.  The
 * same DER in the certificate and in the CRL is the same point; a name
 * encoded differently finds no CRL, which fails closed.
 */

void
ngx_http_sekisho_crlix_scope_key(u_char *name, size_t len, u_char *key)
{
    u_char  md[SHA256_DIGEST_LENGTH];

    SHA256(name, len, md);
    ngx_memcpy(key, md, NGX_HTTP_SEKISHO_CRLIX_KEY);

    /* the zero key is the whole issuer's */
    key[0] |= 0x01;
}


ngx_int_t
ngx_http_sekisho_crlix_build(ngx_http_sekisho_crlix_row_t *rows,
    ngx_uint_t nrows, u_char *keys, uint64_t nkeys, u_char *names,
    size_t names_len, u_char *sources, time_t built, u_char **out,
    size_t *len)
{
    u_char                           *p;
    size_t                            size, rows_off, dir_off, keys_off,
                                      buckets_off, names_off;
    uint32_t                         *buckets;
    uint64_t                          sorted, ndir, nbuckets, n;
    ngx_uint_t                        i;
    ngx_http_sekisho_crlix_header_t  *h;

    for (i = 0; i < nrows; i++) {
        if (rows[i].first > nkeys || rows[i].count > nkeys - rows[i].first
            || rows[i].name > names_len
            || rows[i].name_len > names_len - rows[i].name)
        {
            return NGX_ERROR;
        }
    }

    /* at most half full: a miss ends at an empty slot soon */
    for (ndir = 4; ndir < 2 * (uint64_t) nrows; ndir *= 2) { /* void */ }

    nbuckets = 0;

    for (i = 0; i < nrows; i++) {
        n = ngx_http_sekisho_crlix_nbuckets(rows[i].count);
        nbuckets += n ? n + 1 : 0;
    }

    rows_off = ngx_align(sizeof(ngx_http_sekisho_crlix_header_t), 8);
    dir_off = rows_off + nrows * sizeof(ngx_http_sekisho_crlix_row_t);
    keys_off = dir_off + ndir * sizeof(uint32_t);
    buckets_off = keys_off + nkeys * NGX_HTTP_SEKISHO_CRLIX_KEY;
    names_off = buckets_off + nbuckets * sizeof(uint32_t);
    size = names_off + names_len;

    p = malloc(size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(p, rows_off);

    h = (ngx_http_sekisho_crlix_header_t *) p;
    ngx_memcpy(h->magic, ngx_http_sekisho_crlix_magic, 8);
    h->version = NGX_HTTP_SEKISHO_CRLIX_VERSION;
    h->nrows = (uint32_t) nrows;
    h->nkeys = nkeys;
    h->built = (int64_t) built;
    ngx_memcpy(h->sources, sources, 32);
    h->rows = rows_off;
    h->dir = dir_off;
    h->ndir = ndir;
    h->keys = keys_off;
    h->buckets = buckets_off;
    h->nbuckets = nbuckets;
    h->names = names_off;
    h->names_len = names_len;
    h->size = size;

    if (nrows) {
        ngx_memcpy(p + rows_off, rows,
                   nrows * sizeof(ngx_http_sekisho_crlix_row_t));
    }

    if (nkeys) {
        ngx_memcpy(p + keys_off, keys, nkeys * NGX_HTTP_SEKISHO_CRLIX_KEY);
    }

    if (names_len) {
        ngx_memcpy(p + names_off, names, names_len);
    }

    rows = (ngx_http_sekisho_crlix_row_t *) (p + rows_off);
    keys = p + keys_off;

    /*
     * Each CRL's keys sorted once, though its rows (one a scope) share
     * them: in the order of where the keys start, a range seen is not
     * sorted again; then the rows in their own order.
     */
    ngx_qsort(rows, nrows, sizeof(ngx_http_sekisho_crlix_row_t),
              ngx_http_sekisho_crlix_first_cmp);

    sorted = (uint64_t) -1;

    for (i = 0; i < nrows; i++) {
        if (rows[i].count > 1 && rows[i].first != sorted) {
            ngx_qsort(keys + rows[i].first * NGX_HTTP_SEKISHO_CRLIX_KEY,
                      (size_t) rows[i].count, NGX_HTTP_SEKISHO_CRLIX_KEY,
                      ngx_http_sekisho_crlix_key_cmp);
        }

        sorted = rows[i].first;
    }

    ngx_qsort(rows, nrows, sizeof(ngx_http_sekisho_crlix_row_t),
              ngx_http_sekisho_crlix_row_cmp);

    ngx_http_sekisho_crlix_fill_dir(rows, nrows, (uint32_t *) (p + dir_off),
                                    ndir);

    buckets = (uint32_t *) (p + buckets_off);
    n = 0;

    for (i = 0; i < nrows; i++) {
        rows[i].nbuckets = ngx_http_sekisho_crlix_nbuckets(rows[i].count);
        rows[i].bucket = n;
        rows[i].base = 0;
        rows[i].shift = 0;
        rows[i].prefix = 0;

        if (rows[i].nbuckets) {
            ngx_http_sekisho_crlix_fill_buckets(&rows[i], keys, buckets + n);
            n += rows[i].nbuckets + 1;
        }
    }

    *out = p;
    *len = size;

    return NGX_OK;
}


/* by issuer, scope, then the newest first; ties by where the keys are */

static int ngx_libc_cdecl
ngx_http_sekisho_crlix_row_cmp(const void *one, const void *two)
{
    int                            rc;
    ngx_http_sekisho_crlix_row_t  *a, *b;

    a = (ngx_http_sekisho_crlix_row_t *) one;
    b = (ngx_http_sekisho_crlix_row_t *) two;

    rc = ngx_memcmp(a->issuer, b->issuer, NGX_HTTP_SEKISHO_CRLIX_ISSUER);
    if (rc) {
        return rc;
    }

    rc = ngx_memcmp(a->scope, b->scope, NGX_HTTP_SEKISHO_CRLIX_KEY);
    if (rc) {
        return rc;
    }

    if (a->this_update != b->this_update) {
        return (a->this_update > b->this_update) ? -1 : 1;
    }

    if (a->first != b->first) {
        return (a->first < b->first) ? -1 : 1;
    }

    return 0;
}


static int ngx_libc_cdecl
ngx_http_sekisho_crlix_first_cmp(const void *one, const void *two)
{
    ngx_http_sekisho_crlix_row_t  *a, *b;

    a = (ngx_http_sekisho_crlix_row_t *) one;
    b = (ngx_http_sekisho_crlix_row_t *) two;

    if (a->first != b->first) {
        return (a->first < b->first) ? -1 : 1;
    }

    return 0;
}


static int ngx_libc_cdecl
ngx_http_sekisho_crlix_key_cmp(const void *one, const void *two)
{
    return ngx_memcmp(one, two, NGX_HTTP_SEKISHO_CRLIX_KEY);
}


/* the first row of each issuer and scope, by open addressing */

static void
ngx_http_sekisho_crlix_fill_dir(ngx_http_sekisho_crlix_row_t *rows,
    ngx_uint_t nrows, uint32_t *dir, uint64_t ndir)
{
    uint64_t    slot;
    ngx_uint_t  i;

    ngx_memzero(dir, ndir * sizeof(uint32_t));

    for (i = 0; i < nrows; i++) {
        if (i && ngx_http_sekisho_crlix_same(&rows[i - 1], rows[i].issuer,
                                             rows[i].scope))
        {
            continue;
        }

        slot = ngx_http_sekisho_crlix_hash(rows[i].issuer, rows[i].scope)
               & (ndir - 1);

        while (dir[slot]) {
            slot = (slot + 1) & (ndir - 1);
        }

        dir[slot] = (uint32_t) (i + 1);
    }
}


/*
 * A CRL's buckets: its keys share their first "prefix" bytes; the next
 * eight, as a number less "base" and shifted right by "shift", name a
 * bucket, and bucket b's keys start at buckets[b] (buckets[nbuckets] is
 * the count).  About eight keys a bucket when serials are spread evenly
 * (in order, or at random); more where they bunch.  None for fewer than
 * 64 keys: a bisection reads no more.
 */

static uint32_t
ngx_http_sekisho_crlix_nbuckets(uint64_t count)
{
    uint32_t  n;

    if (count < 64 || count > 0xffffffff) {
        return 0;
    }

    for (n = 8; n < count / 8; n *= 2) { /* void */ }

    return n;
}


static void
ngx_http_sekisho_crlix_fill_buckets(ngx_http_sekisho_crlix_row_t *row,
    u_char *keys, uint32_t *buckets)
{
    u_char      *k, *first, *last;
    uint64_t     i, b, v, range;
    ngx_uint_t   c, shift;

    k = keys + row->first * NGX_HTTP_SEKISHO_CRLIX_KEY;
    first = k;
    last = k + (row->count - 1) * NGX_HTTP_SEKISHO_CRLIX_KEY;

    for (c = 0; c < NGX_HTTP_SEKISHO_CRLIX_KEY - 1 && first[c] == last[c];
         c++)
    {
        /* void */
    }

    row->prefix = (uint16_t) c;
    row->base = ngx_http_sekisho_crlix_value(first, c);
    range = ngx_http_sekisho_crlix_value(last, c) - row->base;

    for (shift = 0; shift < 63 && (range >> shift) >= row->nbuckets;
         shift++)
    {
        /* void */
    }

    row->shift = (uint16_t) shift;

    b = 0;

    for (i = 0; i < row->count; i++) {
        v = (ngx_http_sekisho_crlix_value(k + i * NGX_HTTP_SEKISHO_CRLIX_KEY,
                                          c)
             - row->base) >> shift;

        while (b <= v) {
            buckets[b++] = (uint32_t) i;
        }
    }

    while (b <= row->nbuckets) {
        buckets[b++] = (uint32_t) row->count;
    }
}


/* the issuer and the scope are digests already: some of their bytes */

static uint32_t
ngx_http_sekisho_crlix_hash(u_char *issuer, u_char *scope)
{
    return ((uint32_t) (issuer[0] ^ scope[4]) << 24)
           | ((uint32_t) (issuer[1] ^ scope[5]) << 16)
           | ((uint32_t) (issuer[2] ^ scope[6]) << 8)
           | (uint32_t) (issuer[3] ^ scope[7]);
}


static ngx_uint_t
ngx_http_sekisho_crlix_same(ngx_http_sekisho_crlix_row_t *row,
    u_char *issuer, u_char *scope)
{
    return ngx_memcmp(row->issuer, issuer, NGX_HTTP_SEKISHO_CRLIX_ISSUER)
               == 0
           && ngx_memcmp(row->scope, scope, NGX_HTTP_SEKISHO_CRLIX_KEY) == 0;
}


/* every offset and count within the buffer, every row's range too */

ngx_int_t
ngx_http_sekisho_crlix_open(ngx_http_sekisho_crlix_t *ix, u_char *base,
    size_t size)
{
    uint32_t                         *dir, *buckets, *b;
    uint64_t                          i, j, groups;
    ngx_http_sekisho_crlix_row_t     *rows;
    ngx_http_sekisho_crlix_header_t  *h;

    ngx_memzero(ix, sizeof(ngx_http_sekisho_crlix_t));

    if (size < sizeof(ngx_http_sekisho_crlix_header_t)) {
        return NGX_ERROR;
    }

    h = (ngx_http_sekisho_crlix_header_t *) base;

    if (ngx_memcmp(h->magic, ngx_http_sekisho_crlix_magic, 8) != 0
        || h->version != NGX_HTTP_SEKISHO_CRLIX_VERSION
        || h->size != size
        || h->rows < sizeof(ngx_http_sekisho_crlix_header_t)
        || h->rows % 8
        || h->rows > size
        || h->nrows > (size - h->rows) / sizeof(ngx_http_sekisho_crlix_row_t)
        || h->dir != h->rows
                     + h->nrows * sizeof(ngx_http_sekisho_crlix_row_t)
        || h->ndir < 4
        || (h->ndir & (h->ndir - 1))
        || h->ndir < 2 * (uint64_t) h->nrows
        || h->ndir > (size - h->dir) / sizeof(uint32_t)
        || h->keys != h->dir + h->ndir * sizeof(uint32_t)
        || h->nkeys > (size - h->keys) / NGX_HTTP_SEKISHO_CRLIX_KEY
        || h->buckets != h->keys + h->nkeys * NGX_HTTP_SEKISHO_CRLIX_KEY
        || h->nbuckets > (size - h->buckets) / sizeof(uint32_t)
        || h->names != h->buckets + h->nbuckets * sizeof(uint32_t)
        || h->names_len != size - h->names)
    {
        return NGX_ERROR;
    }

    rows = (ngx_http_sekisho_crlix_row_t *) (base + h->rows);

    for (i = 0; i < h->nrows; i++) {
        if (rows[i].first > h->nkeys
            || rows[i].count > h->nkeys - rows[i].first
            || rows[i].name > h->names_len
            || rows[i].name_len > h->names_len - rows[i].name
            || rows[i].kind > NGX_HTTP_SEKISHO_CRLIX_CAS
            || (rows[i].nbuckets
                && (rows[i].bucket > h->nbuckets
                    || rows[i].nbuckets >= h->nbuckets - rows[i].bucket
                    || rows[i].shift > 63
                    || rows[i].prefix >= NGX_HTTP_SEKISHO_CRLIX_KEY)))
        {
            return NGX_ERROR;
        }

        if (i && ngx_http_sekisho_crlix_row_cmp(&rows[i - 1], &rows[i]) > 0) {
            return NGX_ERROR;
        }
    }

    /* each CRL's buckets in order, from its first key to its count */
    buckets = (uint32_t *) (base + h->buckets);

    for (i = 0; i < h->nrows; i++) {
        if (rows[i].nbuckets == 0) {
            continue;
        }

        b = buckets + rows[i].bucket;

        if (b[0] != 0 || b[rows[i].nbuckets] != rows[i].count) {
            return NGX_ERROR;
        }

        for (j = 1; j <= rows[i].nbuckets; j++) {
            if (b[j] < b[j - 1]) {
                return NGX_ERROR;
            }
        }
    }

    /* every slot names the first row of its issuer and scope, or none */
    dir = (uint32_t *) (base + h->dir);
    groups = 0;

    for (i = 0; i < h->ndir; i++) {
        if (dir[i] == 0) {
            continue;
        }

        if (dir[i] > h->nrows
            || (dir[i] > 1
                && ngx_http_sekisho_crlix_same(&rows[dir[i] - 2],
                                               rows[dir[i] - 1].issuer,
                                               rows[dir[i] - 1].scope)))
        {
            return NGX_ERROR;
        }

        groups++;
    }

    for (i = 0; i < h->nrows; i++) {
        if (i == 0
            || !ngx_http_sekisho_crlix_same(&rows[i - 1], rows[i].issuer,
                                            rows[i].scope))
        {
            groups--;
        }
    }

    if (groups != 0) {
        return NGX_ERROR;
    }

    ix->base = base;
    ix->size = size;
    ix->header = h;
    ix->rows = rows;
    ix->dir = dir;
    ix->keys = base + h->keys;
    ix->buckets = buckets;
    ix->names = base + h->names;

    return NGX_OK;
}


ngx_uint_t
ngx_http_sekisho_crlix_check(ngx_http_sekisho_crlix_t *ix, u_char *issuer,
    u_char *scopes, ngx_uint_t nscopes, u_char *serial, ngx_uint_t ca,
    time_t now, ngx_http_sekisho_crlix_row_t **used)
{
    u_char                        *scope;
    ngx_uint_t                     i, n, k, covered, stale, seen;
    ngx_http_sekisho_crlix_row_t  *rows;

    *used = NULL;
    covered = 0;
    stale = 0;

    if (ix == NULL || ix->header == NULL) {
        return NGX_HTTP_SEKISHO_CRLIX_NONE;
    }

    /* the issuer's whole CRLs first, then each distribution point's */
    for (k = 0; k <= nscopes; k++) {
        scope = (k == 0) ? (u_char *) ngx_http_sekisho_crlix_whole
                         : scopes + (k - 1) * NGX_HTTP_SEKISHO_CRLIX_KEY;

        rows = ngx_http_sekisho_crlix_find(ix, issuer, scope, &n);
        seen = 0;

        /*
         * Of each kind (complete, users', CAs') the newest that speaks
         * for such certificates and has begun: its successive issues
         * replace each other, the kinds do not.
         */
        for (i = 0; i < n; i++) {
            if (!ngx_http_sekisho_crlix_speaks(&rows[i], ca)
                || rows[i].this_update > (int64_t) now
                || (seen & (1u << rows[i].kind)))
            {
                continue;
            }

            seen |= 1u << rows[i].kind;

            if (rows[i].next_update <= (int64_t) now) {
                stale = 1;
                continue;
            }

            if (ngx_http_sekisho_crlix_listed(ix, &rows[i], serial)
                == NGX_OK)
            {
                *used = &rows[i];
                return NGX_HTTP_SEKISHO_CRLIX_REVOKED;
            }

            if (!covered) {
                *used = &rows[i];
            }

            covered = 1;
        }
    }

    if (covered) {
        return NGX_HTTP_SEKISHO_CRLIX_GOOD;
    }

    return stale ? NGX_HTTP_SEKISHO_CRLIX_STALE : NGX_HTTP_SEKISHO_CRLIX_NONE;
}


int64_t
ngx_http_sekisho_crlix_next_update(ngx_http_sekisho_crlix_t *ix, time_t now)
{
    int64_t                        next;
    ngx_uint_t                     i, k, n, newer;
    ngx_http_sekisho_crlix_row_t  *rows;

    if (ix == NULL || ix->header == NULL) {
        return 0;
    }

    rows = ix->rows;
    n = ix->header->nrows;
    next = 0;

    for (i = 0; i < n; i++) {
        if (rows[i].this_update > (int64_t) now || rows[i].next_update == 0) {
            continue;
        }

        /* the rows of an issuer and scope are together, newest first */
        newer = 0;

        for (k = i; k > 0; k--) {
            if (!ngx_http_sekisho_crlix_same(&rows[k - 1], rows[i].issuer,
                                             rows[i].scope))
            {
                break;
            }

            if (rows[k - 1].kind == rows[i].kind
                && rows[k - 1].this_update <= (int64_t) now)
            {
                newer = 1;
                break;
            }
        }

        if (!newer && (next == 0 || rows[i].next_update < next)) {
            next = rows[i].next_update;
        }
    }

    return next;
}


static ngx_uint_t
ngx_http_sekisho_crlix_speaks(ngx_http_sekisho_crlix_row_t *row,
    ngx_uint_t ca)
{
    switch (row->kind) {

    case NGX_HTTP_SEKISHO_CRLIX_USERS:
        return !ca;

    case NGX_HTTP_SEKISHO_CRLIX_CAS:
        return ca;

    default:
        return 1;
    }
}


/*
 * A serial among a CRL's sorted keys: its bucket, then a bisection of
 * the bucket.  Whatever the buckets say, only keys of the CRL are
 * compared, so a wrong bucket can miss a key but never read outside.
 */

static ngx_int_t
ngx_http_sekisho_crlix_listed(ngx_http_sekisho_crlix_t *ix,
    ngx_http_sekisho_crlix_row_t *row, u_char *serial)
{
    int        rc;
    u_char    *keys;
    uint32_t  *b;
    uint64_t   lo, hi, mid, v;

    keys = ix->keys + row->first * NGX_HTTP_SEKISHO_CRLIX_KEY;
    lo = 0;
    hi = row->count;

    if (row->nbuckets) {
        /* a key of the CRL shares its prefix: another is in no bucket */
        v = ngx_http_sekisho_crlix_value(serial, row->prefix);

        if (v < row->base) {
            return NGX_DECLINED;
        }

        v = (v - row->base) >> row->shift;

        if (v >= row->nbuckets) {
            return NGX_DECLINED;
        }

        b = ix->buckets + row->bucket + v;
        lo = ngx_min(b[0], row->count);
        hi = ngx_min(b[1], row->count);

        if (lo > hi) {
            lo = 0;
            hi = row->count;
        }
    }

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = ngx_memcmp(keys + mid * NGX_HTTP_SEKISHO_CRLIX_KEY, serial,
                        NGX_HTTP_SEKISHO_CRLIX_KEY);

        if (rc == 0) {
            return NGX_OK;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NGX_DECLINED;
}


static uint64_t
ngx_http_sekisho_crlix_value(u_char *key, ngx_uint_t from)
{
    uint64_t    v;
    ngx_uint_t  i;

    v = 0;

    for (i = from; i < from + 8; i++) {
        v = (v << 8) | ((i < NGX_HTTP_SEKISHO_CRLIX_KEY) ? key[i] : 0);
    }

    return v;
}


/* the rows of an issuer and scope, newest first (scope NULL: all its) */

ngx_http_sekisho_crlix_row_t *
ngx_http_sekisho_crlix_find(ngx_http_sekisho_crlix_t *ix, u_char *issuer,
    u_char *scope, ngx_uint_t *n)
{
    int                            rc;
    ngx_uint_t                     lo, hi, mid, end;
    ngx_http_sekisho_crlix_row_t  *rows;

    rows = ix->rows;

    if (scope) {
        return ngx_http_sekisho_crlix_find_scope(ix, issuer, scope, n);
    }

    lo = 0;
    hi = ix->header->nrows;

    /* the first row not before the issuer */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memcmp(rows[mid].issuer, issuer,
                        NGX_HTTP_SEKISHO_CRLIX_ISSUER);

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for (end = lo; end < ix->header->nrows; end++) {
        if (ngx_memcmp(rows[end].issuer, issuer,
                       NGX_HTTP_SEKISHO_CRLIX_ISSUER) != 0)
        {
            break;
        }
    }

    *n = end - lo;

    return &rows[lo];
}


/* an issuer and scope's rows through the hash table */

static ngx_http_sekisho_crlix_row_t *
ngx_http_sekisho_crlix_find_scope(ngx_http_sekisho_crlix_t *ix,
    u_char *issuer, u_char *scope, ngx_uint_t *n)
{
    uint32_t                       first;
    uint64_t                       slot, probes, mask;
    ngx_uint_t                     end;
    ngx_http_sekisho_crlix_row_t  *rows;

    rows = ix->rows;
    mask = ix->header->ndir - 1;
    slot = ngx_http_sekisho_crlix_hash(issuer, scope) & mask;
    *n = 0;

    for (probes = 0; probes <= mask; probes++) {
        first = ix->dir[slot];

        if (first == 0) {
            break;
        }

        if (ngx_http_sekisho_crlix_same(&rows[first - 1], issuer, scope)) {
            for (end = first; end < ix->header->nrows; end++) {
                if (!ngx_http_sekisho_crlix_same(&rows[end], issuer, scope)) {
                    break;
                }
            }

            *n = end - (first - 1);

            return &rows[first - 1];
        }

        slot = (slot + 1) & mask;
    }

    return rows;
}
