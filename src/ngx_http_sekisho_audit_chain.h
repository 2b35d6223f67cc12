
/*
 * Copyright (C) Sekisho authors
 *
 * The audit trail's line format and hash chain, as pure functions over
 * buffers, shared by the module and its unit tests.
 *
 * A record is one line of JSON:
 *
 *     {"@timestamp":...,...,"seq":N,"prev":"<hex>","mac":"<hex>"}\n
 *
 * "mac" is HMAC-SHA256(key, everything before ',"mac"'), i.e. over the
 * record and the previous record's MAC ("prev"); without a key it is a
 * plain SHA-256 of the same bytes.  Deleting, editing, inserting or
 * reordering a line breaks the chain at that line.
 *
 * With a state file the key evolves (forward security): the records
 * carry the epoch of their key before "seq",
 *
 *     ...,"epoch":E[,"close":"<hex>"],"seq":N,"prev":"<hex>","mac":"<hex>"}
 *
 * and the key of epoch E+1 is HMAC-SHA256(key of E, "sekisho-audit-epoch"
 * || E+1 as 8 bytes big-endian); epoch 0's is the key file itself.  Each
 * epoch that ends is closed with its own key before it is wiped:
 * close = HMAC-SHA256(key of E, "sekisho-audit-close" || E as 8 bytes
 * big-endian || link), hex, where link is the MAC of the last record (or
 * the close of the epoch before, when none was written in between); the
 * first record of a later epoch carries the last close.  Whoever steals
 * the key of epoch E cannot close an earlier epoch, so cannot relabel
 * earlier records as records of E.
 */


#ifndef _NGX_HTTP_SEKISHO_AUDIT_CHAIN_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_AUDIT_CHAIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_SEKISHO_MAC_HEX    64

#define NGX_HTTP_SEKISHO_KEY_LEN    32

/*
 * [',"epoch":' uint64 [',"close":"' hex '"']]
 * ',"seq":' uint64 ',"prev":"' hex '"'
 */
#define NGX_HTTP_SEKISHO_CHAIN_LEN                                            \
    (sizeof(",\"epoch\":") - 1 + NGX_INT64_LEN                               \
     + sizeof(",\"close\":\"") - 1 + NGX_HTTP_SEKISHO_MAC_HEX + 1           \
     + sizeof(",\"seq\":") - 1 + NGX_INT64_LEN                               \
     + sizeof(",\"prev\":\"") - 1 + NGX_HTTP_SEKISHO_MAC_HEX + 1)

/* the longest state file */
#define NGX_HTTP_SEKISHO_STATE_LEN  512


/* the state file: the key in use, and what is needed to go on from it */
typedef struct {
    uint64_t                     epoch;
    u_char                       key[NGX_HTTP_SEKISHO_KEY_LEN];
    uint64_t                     seq;          /* the head when written */
    u_char                       mac[NGX_HTTP_SEKISHO_MAC_HEX];
    ngx_uint_t                   close_pending;
    u_char                       close[NGX_HTTP_SEKISHO_MAC_HEX];
} ngx_http_sekisho_audit_state_t;

/* ',"mac":"' hex '"}' LF */
#define NGX_HTTP_SEKISHO_SEAL_LEN                                             \
    (sizeof(",\"mac\":\"") - 1 + NGX_HTTP_SEKISHO_MAC_HEX + 3)


size_t ngx_http_sekisho_json_escape_len(u_char *src, size_t size);
u_char *ngx_http_sekisho_json_escape(u_char *dst, u_char *src, size_t size);

u_char *ngx_http_sekisho_audit_chain(u_char *p, uint64_t epoch, u_char *close,
    uint64_t seq, u_char *prev);
u_char *ngx_http_sekisho_audit_seal(u_char *start, u_char *p, ngx_str_t *key,
    u_char *mac);
ngx_int_t ngx_http_sekisho_audit_tail(u_char *line, size_t len, uint64_t *seq,
    u_char *mac, uint64_t *epoch);
ngx_int_t ngx_http_sekisho_audit_evolve(u_char *key, size_t len,
    uint64_t epoch, u_char *next);
ngx_int_t ngx_http_sekisho_audit_close(u_char *key, size_t len,
    uint64_t epoch, u_char *link, u_char *close);
u_char *ngx_http_sekisho_audit_state_print(u_char *p,
    ngx_http_sekisho_audit_state_t *st);
ngx_int_t ngx_http_sekisho_audit_state_parse(u_char *p, size_t len,
    ngx_http_sekisho_audit_state_t *st);


#endif /* _NGX_HTTP_SEKISHO_AUDIT_CHAIN_H_INCLUDED_ */
