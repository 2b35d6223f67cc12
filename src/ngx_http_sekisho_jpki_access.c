
/*
 * Copyright (C) Sekisho authors
 *
 * The access phase of the locations a card protects:
 * "sekisho_jpki_require" wants a current session
 * (ngx_http_sekisho_session.c), "sekisho_jpki_signed_body" a request
 * body signed with a My Number card's signing key (a CMS detached
 * signature in X-JPKI-Signature, checked against the signing CA and
 * its CRLs); the signer's identity goes to the upstream.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_body.h"
#include "ngx_http_sekisho_jpki_access.h"
#include "ngx_http_sekisho_jpki_outcome.h"
#include "ngx_http_sekisho_jpki_cms.h"
#include "ngx_http_sekisho_jpki_identity.h"
#include "ngx_http_sekisho_jpki_trust.h"
#include "ngx_http_sekisho_page.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_request.h"
#include "ngx_http_sekisho_session.h"


/* the largest body a signature is checked over */
#define NGX_HTTP_SEKISHO_SIGNED_BODY_MAX  (1024 * 1024 * 1024)

/* ctx->jpki_state */
#define NGX_HTTP_SEKISHO_JPKI_START      0
#define NGX_HTTP_SEKISHO_JPKI_BODY       1
#define NGX_HTTP_SEKISHO_JPKI_DONE       2


static ngx_int_t ngx_http_sekisho_signed_body_check(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);
static ngx_int_t ngx_http_sekisho_signer_headers(ngx_http_request_t *r,
    X509 *signer);


/* the access phase of locations that need a session or a signed body */

ngx_int_t
ngx_http_sekisho_jpki_access(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_sekisho_ctx_t       *ctx;
    ngx_http_sekisho_loc_conf_t  *lcf;

    lcf = ngx_http_sekisho_loc_conf(r);

    ctx = ngx_http_sekisho_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * The context outlives internal redirects (try_files, error_page,
     * X-Accel-Redirect): a location reached that way is checked by its
     * own rules, not waved through by the first one's.
     */
    if (ctx->jpki_state == NGX_HTTP_SEKISHO_JPKI_DONE
        && ctx->jpki_lcf != lcf)
    {
        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_START;
    }

    switch (ctx->jpki_state) {

    case NGX_HTTP_SEKISHO_JPKI_START:

        /*
         * A refusal may free the request: what it leaves behind is set
         * first, and the context is not touched after it.
         */
        ctx->jpki_lcf = lcf;
        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_DONE;
        ctx->jpki_rc = NGX_DONE;

        if (lcf->jpki.require) {
            rc = ngx_http_sekisho_session_check(r);

            if (rc != NGX_DECLINED) {
                if (rc != NGX_DONE) {
                    ctx->jpki_rc = rc;
                }

                return rc;
            }
        }

        if (!lcf->jpki.signed_body) {
            ctx->jpki_rc = NGX_DECLINED;
            return NGX_DECLINED;
        }

        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_BODY;

        /* fall through */

    case NGX_HTTP_SEKISHO_JPKI_BODY:

        /* read once for every concern, and kept for the upstream */
        rc = ngx_http_sekisho_body_read(r, ctx);

        if (rc == NGX_DONE) {
            return NGX_DONE;
        }

        ctx->jpki_state = NGX_HTTP_SEKISHO_JPKI_DONE;
        ctx->jpki_rc = NGX_DONE;

        if (rc == NGX_OK) {
            rc = ngx_http_sekisho_signed_body_check(r, ctx);
        }

        if (rc != NGX_DONE) {
            ctx->jpki_rc = rc;
        }

        return rc;

    default: /* NGX_HTTP_SEKISHO_JPKI_DONE */
        return ctx->jpki_rc;
    }
}


static ngx_int_t
ngx_http_sekisho_signed_body_check(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    X509                            *signer;
    ngx_str_t                        body, der, name;
    ngx_uint_t                       status;
    ngx_list_part_t                 *part;
    ngx_table_elt_t                 *h, *sig;
    ngx_uint_t                       i;
    ngx_http_sekisho_jpki_cert_t     info;
    ngx_http_sekisho_jpki_check_t    chk;
    ngx_http_sekisho_jpki_result_e   res;
    ngx_http_sekisho_reason_e        reason;
    ngx_http_sekisho_main_conf_t    *mcf;

    ngx_str_set(&name, "X-JPKI-Signature");
    sig = NULL;
    ctx->jpki_use = NGX_HTTP_SEKISHO_JPKI_USE_BODY;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == name.len
                && ngx_strncasecmp(h[i].key.data, name.data, name.len) == 0)
            {
                sig = &h[i];
            }
        }
    }

    if (sig == NULL) {
        reason = NGX_HTTP_SEKISHO_REASON_JPKI_UNSIGNED;
        status = NGX_HTTP_BAD_REQUEST;
        goto refuse;
    }

    if (ngx_http_sekisho_decode_base64(r->pool, &sig->value, &der) != NGX_OK)
    {
        reason = NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS;
        status = NGX_HTTP_BAD_REQUEST;
        goto refuse;
    }

    if (ngx_http_sekisho_request_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* OpenSSL takes the length as an int */
    if (body.len > NGX_HTTP_SEKISHO_SIGNED_BODY_MAX) {
        reason = NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS;
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        goto refuse;
    }

    mcf = ngx_http_sekisho_main_conf(r);

    ngx_http_sekisho_jpki_prepare(&mcf->jpki, &chk,
                                  NGX_HTTP_SEKISHO_JPKI_SIGN);

    res = ngx_http_sekisho_jpki_check_cms(&chk, der.data, der.len,
                                          body.data ? body.data
                                                    : (u_char *) "",
                                          body.len, &signer, &info);

    ctx->jpki_revocation = info.revocation + 1;

    if (res == NGX_HTTP_SEKISHO_JPKI_CRL_STALE) {
        ngx_http_sekisho_jpki_cert_info(r, ctx, &info);
        ngx_http_sekisho_jpki_stale(r, ctx, &info);
    }

    if (res != NGX_HTTP_SEKISHO_JPKI_OK) {
        reason = ngx_http_sekisho_jpki_reason(res);
        status = (res == NGX_HTTP_SEKISHO_JPKI_BAD_CMS)
                 ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_FORBIDDEN;
        goto refuse;
    }

    ngx_http_sekisho_jpki_cert_info(r, ctx, &info);

    if (ngx_http_sekisho_signer_headers(r, signer) != NGX_OK) {
        X509_free(signer);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    X509_free(signer);

    if (ctx->decision != NGX_HTTP_SEKISHO_DENY) {
        ctx->decision = NGX_HTTP_SEKISHO_ALLOW;
        ctx->reason = NGX_HTTP_SEKISHO_REASON_JPKI_SIGNED_BODY;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: signed body verified, signer serial %V",
                  &ctx->jpki_serial);

    return NGX_DECLINED;

refuse:

    ctx->decision = NGX_HTTP_SEKISHO_DENY;
    ctx->reason = reason;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "sekisho: signed body refused, reason: %V",
                  ngx_http_sekisho_reason_name(reason));

    ngx_http_sekisho_jpki_alerts(r, ctx);

    if (ngx_http_sekisho_wants_json(r)) {
        return ngx_http_sekisho_refuse_json(r, status,
                                         ngx_http_sekisho_reason_name(reason),
                                         NULL);
    }

    return ngx_http_sekisho_refuse(r, status, NGX_HTTP_SEKISHO_PAGE_SIGNATURE,
                                   NULL);
}


/* who signed: from the signing certificate, percent-encoded UTF-8 */

static ngx_int_t
ngx_http_sekisho_signer_headers(ngx_http_request_t *r, X509 *signer)
{
    u_char                            *buf;
    ngx_str_t                          v, *field;
    ngx_uint_t                         i;
    ngx_http_sekisho_ctx_t            *ctx;
    ngx_http_sekisho_jpki_identity_t   id;

    static char  *names[] = {
        "X-Sekisho-JPKI-Signer-Name", "X-Sekisho-JPKI-Signer-Sex",
        "X-Sekisho-JPKI-Signer-Birth-Date", "X-Sekisho-JPKI-Signer-Address"
    };

    ctx = ngx_http_sekisho_ctx(r, 0);

    /* checked again after an internal redirect: sent once */
    if (ctx->signer_sent) {
        return NGX_OK;
    }

    ctx->signer_sent = 1;

    if (ngx_http_sekisho_push_header(r, "X-Sekisho-JPKI-Signer-Serial",
                                     &ctx->jpki_serial)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    buf = ngx_pnalloc(r->pool, 2048);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_jpki_identity(signer, &id, buf, 2048) != NGX_OK) {
        return NGX_OK;
    }

    field = &id.name;

    for (i = 0; i < 4; i++) {
        v.data = ngx_pnalloc(r->pool, 3 * field[i].len + 1);
        if (v.data == NULL) {
            return NGX_ERROR;
        }

        v.len = ngx_http_sekisho_pct_encode(v.data, field[i].data,
                                            field[i].len);

        if (v.len
            && ngx_http_sekisho_push_header(r, names[i], &v) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
