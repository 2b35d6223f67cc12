
/*
 * Copyright (C) Sekisho authors
 *
 * Where a login's account id is and how it reads: pure functions over
 * buffers.  A field counts as the account field when any mainstream
 * framework (PHP, Werkzeug, qs/body-parser, Rack, Servlet and Spring,
 * ASP.NET) would read it as that field; it must be found exactly once
 * over every reading, or the request is refused.  Ids are compared as
 * applications compare them: Unicode white space trimmed, NFKC and
 * case folding (libutf8proc).
 */


#ifndef _NGX_HTTP_SEKISHO_ACCOUNT_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_ACCOUNT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the longest account id accepted, in bytes after normalisation */
#define NGX_HTTP_SEKISHO_ACCOUNT_MAX      256

/* the longest id read, in bytes before normalisation */
#define NGX_HTTP_SEKISHO_ACCOUNT_IN_MAX   1024

/* the most fields a login body or query string may have */
#define NGX_HTTP_SEKISHO_ACCOUNT_FIELDS   1000


/* media types of a login body */
#define NGX_HTTP_SEKISHO_MEDIA_FORM       1
#define NGX_HTTP_SEKISHO_MEDIA_JSON       2
#define NGX_HTTP_SEKISHO_MEDIA_MULTIPART  3
#define NGX_HTTP_SEKISHO_MEDIA_TEXT       4     /* text/plain */
#define NGX_HTTP_SEKISHO_MEDIA_OTHER      5


typedef struct {
    ngx_uint_t                  type;
    ngx_str_t                   boundary;      /* unquoted */
} ngx_http_sekisho_media_t;


/*
 * The search for one field over the parts of a request (query string,
 * body): each scan adds what it found; a second copy, in any spelling,
 * is an error.  "why" says what was wrong, for the error log.
 */
typedef struct {
    ngx_str_t                   field;
    ngx_str_t                   value;         /* decoded, as sent */
    ngx_uint_t                  found;
    const char                 *why;
} ngx_http_sekisho_account_find_t;


/*
 * A Content-Type value: NGX_OK with the type (and a multipart body's
 * boundary, unquoted into "buf", as long as the value), NGX_ERROR when
 * it is malformed, a parameter is given twice, a charset is not UTF-8,
 * or a multipart type has no boundary.
 */
ngx_int_t ngx_http_sekisho_media_type(ngx_str_t *value,
    ngx_http_sekisho_media_t *m, u_char *buf);

/* a field name as sent (decoded) that some framework reads as "field" */
ngx_uint_t ngx_http_sekisho_account_field_is(u_char *name, size_t len,
    ngx_str_t *field);

/*
 * The scans: NGX_OK when the data is well-formed and holds the field at
 * most once in total so far, NGX_ERROR otherwise.  "buf" must hold
 * "len" bytes; f->value may point into it, so that each scan of one
 * search needs a "buf" of its own.
 */
ngx_int_t ngx_http_sekisho_account_form(ngx_http_sekisho_account_find_t *f,
    u_char *data, size_t len, u_char *buf);
ngx_int_t ngx_http_sekisho_account_json(ngx_http_sekisho_account_find_t *f,
    u_char *body, size_t len, u_char *buf);
ngx_int_t ngx_http_sekisho_account_cookie(
    ngx_http_sekisho_account_find_t *f, u_char *data, size_t len,
    u_char *buf);
ngx_int_t ngx_http_sekisho_account_multipart(
    ngx_http_sekisho_account_find_t *f, u_char *body, size_t len,
    ngx_str_t *boundary, u_char *buf);

/*
 * The id as applications compare it, into "out" (at least
 * NGX_HTTP_SEKISHO_ACCOUNT_MAX bytes): NGX_OK, NGX_DECLINED when
 * nothing is left, NGX_ERROR for invalid UTF-8, control characters, an
 * overlong id, or (with "ascii") anything outside ASCII.
 */
ngx_int_t ngx_http_sekisho_account_normalize(u_char *in, size_t len,
    u_char *out, size_t *outlen, ngx_uint_t ascii);

/* a header value: percent-encoded UTF-8, unreserved characters kept */
size_t ngx_http_sekisho_account_escape(u_char *dst, ngx_str_t *id);


#endif /* _NGX_HTTP_SEKISHO_ACCOUNT_H_INCLUDED_ */
