
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/sha.h>
#include "ngx_http_sekisho_crl_index.h"


#define NGX_HTTP_SEKISHO_CRLIX_VERSION  1


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
    size_t                            size, rows_off, keys_off, names_off;
    uint64_t                          sorted;
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

    rows_off = ngx_align(sizeof(ngx_http_sekisho_crlix_header_t), 8);
    keys_off = rows_off + nrows * sizeof(ngx_http_sekisho_crlix_row_t);
    names_off = keys_off + nkeys * NGX_HTTP_SEKISHO_CRLIX_KEY;
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
    h->keys = keys_off;
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


/* every offset and count within the buffer, every row's range too */

ngx_int_t
ngx_http_sekisho_crlix_open(ngx_http_sekisho_crlix_t *ix, u_char *base,
    size_t size)
{
    uint64_t                          i;
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
        || h->keys != h->rows
                      + h->nrows * sizeof(ngx_http_sekisho_crlix_row_t)
        || h->nkeys > (size - h->keys) / NGX_HTTP_SEKISHO_CRLIX_KEY
        || h->names != h->keys + h->nkeys * NGX_HTTP_SEKISHO_CRLIX_KEY
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
            || rows[i].kind > NGX_HTTP_SEKISHO_CRLIX_CAS)
        {
            return NGX_ERROR;
        }

        if (i && ngx_http_sekisho_crlix_row_cmp(&rows[i - 1], &rows[i]) > 0) {
            return NGX_ERROR;
        }
    }

    ix->base = base;
    ix->size = size;
    ix->header = h;
    ix->rows = rows;
    ix->keys = base + h->keys;
    ix->names = base + h->names;

    return NGX_OK;
}


ngx_uint_t
ngx_http_sekisho_crlix_check(ngx_http_sekisho_crlix_t *ix, u_char *issuer,
    u_char *scopes, ngx_uint_t nscopes, u_char *serial, ngx_uint_t ca,
    time_t now, ngx_http_sekisho_crlix_row_t **used)
{
    u_char                        *scope;
    ngx_uint_t                     i, n, k, covered, stale;
    ngx_http_sekisho_crlix_row_t  *rows, *current;

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
        current = NULL;

        /* the newest that speaks for such certificates and has begun */
        for (i = 0; i < n; i++) {
            if (!ngx_http_sekisho_crlix_speaks(&rows[i], ca)
                || rows[i].this_update > (int64_t) now)
            {
                continue;
            }

            if (rows[i].next_update > (int64_t) now) {
                current = &rows[i];

            } else {
                stale = 1;
            }

            break;
        }

        if (current == NULL) {
            continue;
        }

        if (ngx_http_sekisho_crlix_listed(ix, current, serial) == NGX_OK) {
            *used = current;
            return NGX_HTTP_SEKISHO_CRLIX_REVOKED;
        }

        if (!covered) {
            *used = current;
        }

        covered = 1;
    }

    if (covered) {
        return NGX_HTTP_SEKISHO_CRLIX_GOOD;
    }

    return stale ? NGX_HTTP_SEKISHO_CRLIX_STALE : NGX_HTTP_SEKISHO_CRLIX_NONE;
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


static ngx_int_t
ngx_http_sekisho_crlix_listed(ngx_http_sekisho_crlix_t *ix,
    ngx_http_sekisho_crlix_row_t *row, u_char *serial)
{
    int        rc;
    u_char    *keys;
    uint64_t   lo, hi, mid;

    keys = ix->keys + row->first * NGX_HTTP_SEKISHO_CRLIX_KEY;
    lo = 0;
    hi = row->count;

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


/* the rows of an issuer and scope, newest first (scope NULL: all its) */

ngx_http_sekisho_crlix_row_t *
ngx_http_sekisho_crlix_find(ngx_http_sekisho_crlix_t *ix, u_char *issuer,
    u_char *scope, ngx_uint_t *n)
{
    int                            rc;
    ngx_uint_t                     lo, hi, mid, end;
    ngx_http_sekisho_crlix_row_t  *rows;

    rows = ix->rows;
    lo = 0;
    hi = ix->header->nrows;

    /* the first row not before (issuer, scope) */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memcmp(rows[mid].issuer, issuer,
                        NGX_HTTP_SEKISHO_CRLIX_ISSUER);

        if (rc == 0 && scope) {
            rc = ngx_memcmp(rows[mid].scope, scope,
                            NGX_HTTP_SEKISHO_CRLIX_KEY);
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for (end = lo; end < ix->header->nrows; end++) {
        if (ngx_memcmp(rows[end].issuer, issuer,
                       NGX_HTTP_SEKISHO_CRLIX_ISSUER) != 0
            || (scope && ngx_memcmp(rows[end].scope, scope,
                                    NGX_HTTP_SEKISHO_CRLIX_KEY) != 0))
        {
            break;
        }
    }

    *n = end - lo;

    return &rows[lo];
}
