
/*
 * Copyright (C) Sekisho authors
 *
 * The one reader of request bodies in the access phase, for every
 * concern that decides by the body (the lockout's account id, a signed
 * submission): read once, the phases run again when it is in, and the
 * body stays for the upstream.
 */


#ifndef _NGX_HTTP_SEKISHO_BODY_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"


/* ctx->body */
#define NGX_HTTP_SEKISHO_BODY_NONE     0
#define NGX_HTTP_SEKISHO_BODY_READING  1
#define NGX_HTTP_SEKISHO_BODY_READ     2


/*
 * From an access-phase handler: NGX_OK when the body is in; NGX_DONE
 * while it is read (return NGX_DONE: the phases run again, and come
 * back to the handler, once it is in); an HTTP status when it cannot
 * be read.
 */
ngx_int_t ngx_http_sekisho_body_read(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);

/* the whole body in one piece, from memory or its file */
ngx_int_t ngx_http_sekisho_request_body(ngx_http_request_t *r,
    ngx_str_t *body);


#endif /* _NGX_HTTP_SEKISHO_BODY_H_INCLUDED_ */
