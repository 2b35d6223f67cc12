
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"


static void ngx_http_sekisho_ctx_cleanup(void *data);


/*
 * nginx clears module contexts on an internal redirect; the context is
 * also kept in a pool cleanup so that an error_page after a refusal and
 * the log phase still see the decision (the realip module does the
 * same).  A concern that holds something for the request (an attempt
 * in Redis, a command) adds a cleanup of its own.
 */

ngx_http_sekisho_ctx_t *
ngx_http_sekisho_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_sekisho_ctx_t  *ctx;

    ctx = r->ctx[ngx_http_sekisho_conf_index];

    if (ctx) {
        return ctx;
    }

    if (r->internal || r->filter_finalize) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_sekisho_ctx_cleanup) {
                ctx = cln->data;
                r->ctx[ngx_http_sekisho_conf_index] = ctx;
                return ctx;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_sekisho_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_sekisho_ctx_t));
    ctx->request = r;

    cln->handler = ngx_http_sekisho_ctx_cleanup;

    r->ctx[ngx_http_sekisho_conf_index] = ctx;

    return ctx;
}


/* only a mark to find the context by */

static void
ngx_http_sekisho_ctx_cleanup(void *data)
{
}
