
/*
 * Copyright (C) Sekisho authors
 *
 * The revocation index: every CRL the gateway trusts, reduced to what a
 * revocation check needs, in one flat file that every worker maps
 * read-only (one copy in the page cache for all of them).  16 bytes an
 * entry, sorted per CRL, and about half a byte an entry of buckets that
 * find one among millions in one or two reads; a table of CRLs by
 * issuer and distribution point.  Built from CRLs read elsewhere
 * (ngx_http_sekisho_jpki_crl.c); here only its format, its building
 * from memory and its lookup, over buffers, so that unit tests can
 * call them.
 */


#ifndef _NGX_HTTP_SEKISHO_CRL_INDEX_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_CRL_INDEX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_SEKISHO_CRLIX_KEY      16   /* an entry: a serial's key */
#define NGX_HTTP_SEKISHO_CRLIX_ISSUER   20   /* SHA-1 of the root's key */
#define NGX_HTTP_SEKISHO_CRLIX_NUMBER   20   /* a CRL number, big-endian */

/* which certificates a CRL speaks for */
#define NGX_HTTP_SEKISHO_CRLIX_ALL      0
#define NGX_HTTP_SEKISHO_CRLIX_USERS    1    /* onlyContainsUserCerts */
#define NGX_HTTP_SEKISHO_CRLIX_CAS      2    /* onlyContainsCACerts: an ARL */

/* what the index says of a certificate */
#define NGX_HTTP_SEKISHO_CRLIX_GOOD     0
#define NGX_HTTP_SEKISHO_CRLIX_REVOKED  1
#define NGX_HTTP_SEKISHO_CRLIX_STALE    2    /* CRLs cover it, none current */
#define NGX_HTTP_SEKISHO_CRLIX_NONE     3    /* no CRL covers it */


/*
 * A CRL's row, once for each scope it has: the whole issuer (a scope of
 * zeros), or each name of its issuing distribution point.  The rows are
 * sorted by issuer and scope, newest first; "dir" is a hash table of
 * the first row (+1; 0 empty) of each issuer and scope, so that a check
 * finds its rows in one or two reads.
 */
typedef struct {
    u_char                      issuer[NGX_HTTP_SEKISHO_CRLIX_ISSUER];
    u_char                      scope[NGX_HTTP_SEKISHO_CRLIX_KEY];
    u_char                      number[NGX_HTTP_SEKISHO_CRLIX_NUMBER];
    uint32_t                    kind;
    uint32_t                    name_len;     /* the source file's name */
    uint64_t                    name;         /* offset in the names */
    int64_t                     this_update;
    int64_t                     next_update;  /* 0: none */
    uint64_t                    first;        /* its entries */
    uint64_t                    count;
    /* its entries' buckets (see ngx_http_sekisho_crl_index.c), if any */
    uint64_t                    base;
    uint64_t                    bucket;       /* the first, in "buckets" */
    uint32_t                    nbuckets;
    uint16_t                    shift;
    uint16_t                    prefix;
    /* the source file as it was read: a file unchanged is not read again */
    uint64_t                    dev;
    uint64_t                    ino;
    uint64_t                    size;
    int64_t                     mtime;
} ngx_http_sekisho_crlix_row_t;


typedef struct {
    u_char                      magic[8];
    uint32_t                    version;
    uint32_t                    nrows;
    uint64_t                    nkeys;
    int64_t                     built;
    u_char                      sources[32];  /* what it was built from */
    uint64_t                    rows;         /* offsets in the file */
    uint64_t                    dir;          /* of uint32_t, see below */
    uint64_t                    ndir;         /* a power of two */
    uint64_t                    keys;
    uint64_t                    buckets;      /* of uint32_t */
    uint64_t                    nbuckets;
    uint64_t                    names;
    uint64_t                    names_len;
    uint64_t                    size;
} ngx_http_sekisho_crlix_header_t;


/* an index mapped (or built) in memory */
typedef struct {
    u_char                         *base;
    size_t                          size;
    ngx_http_sekisho_crlix_header_t *header;
    ngx_http_sekisho_crlix_row_t   *rows;
    uint32_t                       *dir;
    u_char                         *keys;
    uint32_t                       *buckets;
    u_char                         *names;
} ngx_http_sekisho_crlix_t;


/* the keys of the index: a serial's, a distribution point name's */
void ngx_http_sekisho_crlix_serial_key(u_char *serial, size_t len,
    u_char *key);
void ngx_http_sekisho_crlix_scope_key(u_char *name, size_t len,
    u_char *key);

/*
 * From rows whose "first" and "count" point into "keys" (each CRL's
 * keys together), an index in one malloc()ed buffer: the rows sorted,
 * each CRL's keys sorted.  "names" holds the rows' names.
 */
ngx_int_t ngx_http_sekisho_crlix_build(ngx_http_sekisho_crlix_row_t *rows,
    ngx_uint_t nrows, u_char *keys, uint64_t nkeys, u_char *names,
    size_t names_len, u_char *sources, time_t built, u_char **out,
    size_t *len);

/* NGX_OK when "base" holds a whole, consistent index */
ngx_int_t ngx_http_sekisho_crlix_open(ngx_http_sekisho_crlix_t *ix,
    u_char *base, size_t size);

/*
 * A certificate of the root "issuer", under the distribution point
 * names whose keys are "scopes" (none: only the issuer's whole CRLs
 * apply), as an end user's certificate or a CA's: for every scope the
 * newest CRL of each kind (complete, users', CAs') that speaks for such
 * certificates decides; revoked if one lists it, good if at least one
 * current one covers it.  "used" gets the row that decided (the one
 * that revoked, or a current one).
 */
ngx_uint_t ngx_http_sekisho_crlix_check(ngx_http_sekisho_crlix_t *ix,
    u_char *issuer, u_char *scopes, ngx_uint_t nscopes, u_char *serial,
    ngx_uint_t ca, time_t now, ngx_http_sekisho_crlix_row_t **used);

/*
 * The earliest nextUpdate of the CRLs in force at "now": of each
 * issuer, scope and kind the newest begun, as a check takes them (one
 * already past counts: it is what a SOC must see); 0 when none.
 */
int64_t ngx_http_sekisho_crlix_next_update(ngx_http_sekisho_crlix_t *ix,
    time_t now);

/* the rows of one issuer: for reuse by a rebuild, and for the logs */
ngx_http_sekisho_crlix_row_t *ngx_http_sekisho_crlix_find(
    ngx_http_sekisho_crlix_t *ix, u_char *issuer, u_char *scope,
    ngx_uint_t *n);


#endif /* _NGX_HTTP_SEKISHO_CRL_INDEX_H_INCLUDED_ */
