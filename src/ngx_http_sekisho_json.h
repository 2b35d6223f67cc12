
/*
 * Copyright (C) Sekisho authors
 *
 * A strict reader of the top-level members of a JSON object (RFC 8259):
 * pure functions over buffers, so that unit tests can feed them
 * anything.  The whole document is checked, UTF-8 included, because
 * an application that finds it malformed reads something else.
 */


#ifndef _NGX_HTTP_SEKISHO_JSON_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_SEKISHO_JSON_STRING   1
#define NGX_HTTP_SEKISHO_JSON_NUMBER   2
#define NGX_HTTP_SEKISHO_JSON_OTHER    3     /* null, true, false, {}, [] */


typedef struct {
    ngx_uint_t                  count;    /* members of the name */
    ngx_uint_t                  type;     /* of the first one */
    ngx_str_t                   value;    /* a string decoded, a number
                                             as written */
} ngx_http_sekisho_json_member_t;


/*
 * The members called "name" (keys compared after unescaping, without
 * regard to ASCII case if "caseless"): NGX_OK for a well-formed object,
 * NGX_ERROR otherwise.  "buf" must hold "len" bytes.
 */
ngx_int_t ngx_http_sekisho_json_member(u_char *body, size_t len,
    ngx_str_t *name, ngx_uint_t caseless, ngx_http_sekisho_json_member_t *m,
    u_char *buf);

/*
 * One member as a string or a number: NGX_OK with the value in "out"
 * (which points into "buf" or "body"), NGX_DECLINED when it is absent
 * or of another type, NGX_ERROR for a malformed body or a member given
 * twice.
 */
ngx_int_t ngx_http_sekisho_json_value(u_char *body, size_t len,
    ngx_str_t *name, ngx_str_t *out, u_char *buf);


#endif /* _NGX_HTTP_SEKISHO_JSON_H_INCLUDED_ */
