
/*
 * Copyright (C) Sekisho authors
 *
 * The set of CRLs the gateway trusts, read into a revocation index:
 * the files named and the files of the folders, each read with the
 * allocation-free DER reader, its signature checked against the
 * configured roots with OpenSSL, its serials reduced to 16-byte keys.
 * A file unchanged since the index in use is not read again; a damaged
 * file keeps the CRL it had.  It logs nothing and touches no nginx
 * pool: it runs in the master at startup and in a thread of worker 0
 * later, and says what it found in messages.
 */


#ifndef _NGX_HTTP_SEKISHO_CRL_SET_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_CRL_SET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_crl_index.h"


#define NGX_HTTP_SEKISHO_CRL_MSG_LEN  512


/* a root whose key may sign CRLs */
typedef struct {
    X509                       *cert;
    u_char                      id[NGX_HTTP_SEKISHO_CRLIX_ISSUER];
} ngx_http_sekisho_crl_root_t;


/* a file as found, and as it was when read */
typedef struct {
    char                       *path;
    uint64_t                    dev;
    uint64_t                    ino;
    uint64_t                    size;
    int64_t                     mtime;
    ngx_uint_t                  dir;         /* of a folder */
} ngx_http_sekisho_crl_source_t;


typedef struct {
    ngx_uint_t                  level;       /* NGX_LOG_ERR, WARN, NOTICE */
    ngx_uint_t                  fatal;       /* refuses a configuration */
    char                        text[NGX_HTTP_SEKISHO_CRL_MSG_LEN];
} ngx_http_sekisho_crl_msg_t;


typedef struct {
    /* what it is built from */
    ngx_http_sekisho_crl_root_t   *roots;
    ngx_uint_t                     nroots;
    char                         **files;
    ngx_uint_t                     nfiles;
    char                         **dirs;
    ngx_uint_t                     ndirs;
    ngx_http_sekisho_crlix_t      *old;      /* the index in use, or NULL */
    ngx_http_sekisho_crlix_t       old_copy;
    time_t                         now;
    ngx_uint_t                     force;    /* read even if unchanged */

    /* what it made: an index (malloc()ed; NULL when nothing changed) */
    u_char                        *index;
    size_t                         index_len;
    ngx_uint_t                     ncrls;
    uint64_t                       nkeys;
    ngx_uint_t                     read;     /* files read */
    ngx_uint_t                     reused;   /* taken from "old" */
    ngx_uint_t                     kept;     /* damaged: "old"'s kept */
    ngx_http_sekisho_crl_msg_t    *msgs;
    ngx_uint_t                     nmsgs;

    /* the work */
    ngx_http_sekisho_crl_source_t *sources;
    ngx_uint_t                     nsources;
    ngx_uint_t                     sources_cap;
    ngx_http_sekisho_crlix_row_t  *rows;
    ngx_uint_t                     nrows;
    ngx_uint_t                     rows_cap;
    u_char                        *keys;
    uint64_t                       keys_cap;
    u_char                        *names;
    size_t                         names_len;
    size_t                         names_cap;
    ngx_uint_t                     msgs_cap;
    u_char                         digest[32];
} ngx_http_sekisho_crl_set_t;


/* a root's identity in the index: SHA-1 of its public key */
ngx_int_t ngx_http_sekisho_crl_root_id(X509 *x, u_char *id);

/*
 * Lists the files, and reads into an index what changed since "old":
 * NGX_OK with set->index, NGX_DECLINED when nothing changed, NGX_ERROR
 * when memory ran out.  Problems with files are messages.
 */
ngx_int_t ngx_http_sekisho_crl_set_build(ngx_http_sekisho_crl_set_t *set);

/* for tests: one CRL from memory, then the index of what was added */
ngx_int_t ngx_http_sekisho_crl_set_add_der(ngx_http_sekisho_crl_set_t *set,
    u_char *der, size_t len, ngx_http_sekisho_crl_source_t *src,
    const char **why);
ngx_int_t ngx_http_sekisho_crl_set_finish(ngx_http_sekisho_crl_set_t *set);

void ngx_http_sekisho_crl_set_free(ngx_http_sekisho_crl_set_t *set);


#endif /* _NGX_HTTP_SEKISHO_CRL_SET_H_INCLUDED_ */
