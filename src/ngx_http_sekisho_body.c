
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_body.h"


static void ngx_http_sekisho_body_in(ngx_http_request_t *r);


/*
 * As the mirror module reads a body in its own phase: nginx holds the
 * request (the finalize with NGX_DONE gives back the reference the
 * reader took) and calls the handler below once the body is in, which
 * runs the phases again.  A body already in the buffer calls it at
 * once, before this returns.
 */

ngx_int_t
ngx_http_sekisho_body_read(ngx_http_request_t *r, ngx_http_sekisho_ctx_t *ctx)
{
    ngx_int_t  rc;

    switch (ctx->body) {

    case NGX_HTTP_SEKISHO_BODY_READ:
        return NGX_OK;

    case NGX_HTTP_SEKISHO_BODY_READING:
        return NGX_DONE;
    }

    ctx->body = NGX_HTTP_SEKISHO_BODY_READING;

    rc = ngx_http_read_client_request_body(r, ngx_http_sekisho_body_in);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->body = NGX_HTTP_SEKISHO_BODY_NONE;
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_sekisho_body_in(ngx_http_request_t *r)
{
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = ngx_http_sekisho_ctx(r, 0);

    if (ctx == NULL || ctx->body != NGX_HTTP_SEKISHO_BODY_READING) {
        return;
    }

    ctx->body = NGX_HTTP_SEKISHO_BODY_READ;

    /* the upstream reads it again */
    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/* the whole request body in one piece, from memory or its file */

ngx_int_t
ngx_http_sekisho_request_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += n;
            continue;
        }

        /* a chunked body ends with an empty buffer */
        if (b->last != b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}
