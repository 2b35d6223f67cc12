
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
 */


#ifndef _NGX_HTTP_SEKISHO_AUDIT_CHAIN_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_AUDIT_CHAIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_SEKISHO_MAC_HEX    64

/* ',"seq":' uint64 ',"prev":"' hex '"' */
#define NGX_HTTP_SEKISHO_CHAIN_LEN                                            \
    (sizeof(",\"seq\":") - 1 + NGX_INT64_LEN + sizeof(",\"prev\":\"") - 1    \
     + NGX_HTTP_SEKISHO_MAC_HEX + 1)

/* ',"mac":"' hex '"}' LF */
#define NGX_HTTP_SEKISHO_SEAL_LEN                                             \
    (sizeof(",\"mac\":\"") - 1 + NGX_HTTP_SEKISHO_MAC_HEX + 3)


size_t ngx_http_sekisho_json_escape_len(u_char *src, size_t size);
u_char *ngx_http_sekisho_json_escape(u_char *dst, u_char *src, size_t size);

u_char *ngx_http_sekisho_audit_chain(u_char *p, uint64_t seq, u_char *prev);
u_char *ngx_http_sekisho_audit_seal(u_char *start, u_char *p, ngx_str_t *key,
    u_char *mac);
ngx_int_t ngx_http_sekisho_audit_tail(u_char *line, size_t len, uint64_t *seq,
    u_char *mac);


#endif /* _NGX_HTTP_SEKISHO_AUDIT_CHAIN_H_INCLUDED_ */
