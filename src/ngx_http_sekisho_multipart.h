
/*
 * Copyright (C) Sekisho authors
 *
 * A strict multipart/form-data reader (RFC 7578, RFC 2046): pure
 * functions over one buffer, so that unit tests and the fuzzer can
 * feed them anything.  Whatever two mainstream parsers could read two
 * ways is an error, never a guess.
 */


#ifndef _NGX_HTTP_SEKISHO_MULTIPART_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_MULTIPART_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the most parts a body may have, as the frameworks' default limits */
#define NGX_HTTP_SEKISHO_MULTIPART_PARTS    1000

/* the longest header section of one part */
#define NGX_HTTP_SEKISHO_MULTIPART_HEADERS  8192


typedef struct {
    u_char                     *pos;
    u_char                     *end;
    ngx_str_t                   boundary;      /* without the "--" */
    ngx_uint_t                  parts;
    ngx_uint_t                  state;
} ngx_http_sekisho_multipart_t;


typedef struct {
    /* Content-Disposition's "name": a token, or a quoted string */
    ngx_str_t                   name;
    /* "name*" (RFC 8187, UTF-8 or ISO-8859-1, percent-decoded), if any */
    ngx_str_t                   name_ext;
    /* the part's Content-Type and Content-Transfer-Encoding, as sent */
    ngx_str_t                   content_type;
    ngx_str_t                   transfer_encoding;
    /* the part's content, undecoded, without the CRLF before the next
     * delimiter */
    ngx_str_t                   value;
    /* "filename" or "filename*" was given: a file, not a field */
    unsigned                    file:1;
} ngx_http_sekisho_part_t;


/*
 * "boundary" is the Content-Type's boundary parameter, already
 * unquoted; it must be 1 to 70 characters of RFC 2046's bchars, not
 * ending in a space.  NGX_ERROR otherwise.
 */
ngx_int_t ngx_http_sekisho_multipart_init(ngx_http_sekisho_multipart_t *mp,
    u_char *body, size_t len, ngx_str_t *boundary);

/*
 * The next part: NGX_OK with the part filled in, NGX_DONE after the
 * close delimiter, NGX_ERROR for a body that is malformed or that
 * other parsers could read differently.  "buf" (at least as long as
 * the body) receives decoded names; a part's strings stay valid until
 * the next call.
 */
ngx_int_t ngx_http_sekisho_multipart_next(ngx_http_sekisho_multipart_t *mp,
    ngx_http_sekisho_part_t *part, u_char *buf);


#endif /* _NGX_HTTP_SEKISHO_MULTIPART_H_INCLUDED_ */
