
/*
 * Copyright (C) Sekisho authors
 *
 * The strict DER cursor that the certificate and the CRL readers share,
 * and the few values both read alike: times, INTEGERs, OBJECT
 * IDENTIFIERs, named bit lists, extensions.  Pure: bytes in, byte ranges
 * within them out, nothing read outside [pos, end).  Each says NGX_OK,
 * or NGX_DECLINED for an element that is not there or not DER; what
 * that means is for the caller to say.
 */


#ifndef _NGX_HTTP_SEKISHO_DER_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_DER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    u_char                     *pos;
    u_char                     *end;
} ngx_http_sekisho_der_cursor_t;


/* a cursor over the bytes of an ngx_str_t */
#define ngx_http_sekisho_der_cursor(d, s)                                     \
    ((d)->pos = (s)->data, (d)->end = (s)->data + (s)->len)

/* whether the next element has the tag given */
#define ngx_http_sekisho_der_at(d, tag)                                       \
    ((d)->pos < (d)->end && (d)->pos[0] == (tag))


/*
 * The next element, whatever its tag (one octet: not end-of-contents,
 * not the high-tag-number form), or only of the tag given: "value" its
 * contents, "tlv" (may be NULL) the whole of it.
 */
ngx_int_t ngx_http_sekisho_der_tlv(ngx_http_sekisho_der_cursor_t *d,
    ngx_str_t *value, ngx_str_t *tlv);
ngx_int_t ngx_http_sekisho_der_next(ngx_http_sekisho_der_cursor_t *d,
    u_char tag, ngx_str_t *value, ngx_str_t *tlv);

/* "s" is exactly one element, of the tag given: its contents */
ngx_int_t ngx_http_sekisho_der_single(ngx_str_t *s, u_char tag,
    ngx_str_t *value);

/*
 * A UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or a GeneralizedTime
 * (YYYYMMDDHHMMSSZ) as seconds since the epoch: the contents given
 * with their tag, or the next element of a cursor.
 */
ngx_int_t ngx_http_sekisho_der_time(u_char tag, u_char *p, size_t len,
    time_t *t);
ngx_int_t ngx_http_sekisho_der_next_time(ngx_http_sekisho_der_cursor_t *d,
    time_t *t);

/* contents: an INTEGER minimal and not negative, an OBJECT IDENTIFIER */
ngx_int_t ngx_http_sekisho_der_integer(ngx_str_t *v);
ngx_int_t ngx_http_sekisho_der_oid(ngx_str_t *oid);

/* a BIT STRING's contents as a named bit list, of 16 bits at most */
ngx_int_t ngx_http_sekisho_der_bits(ngx_str_t *v);

/*
 * The next Extension (RFC 5280 4.1): its OID, whether it is critical
 * (DER has only TRUE present), and its extnValue's contents.
 */
ngx_int_t ngx_http_sekisho_der_extension(ngx_http_sekisho_der_cursor_t *d,
    ngx_str_t *oid, ngx_uint_t *critical, ngx_str_t *value);


#endif /* _NGX_HTTP_SEKISHO_DER_H_INCLUDED_ */
