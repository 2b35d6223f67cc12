
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_geo_rules.h"
#include "ngx_http_sekisho_jpki_outcome.h"
#include "ngx_http_sekisho_jpki_identity.h"
#include "ngx_http_sekisho_jpki_trust.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_text.h"


static void ngx_http_sekisho_jpki_cert_against(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info);


/*
 * Under "require", a card no current CRL covers is refused: the log
 * names its distribution point, so that the operator knows which
 * municipality's CRL is missing or late.
 */

void
ngx_http_sekisho_jpki_stale(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info)
{
    u_char  text[512];
    size_t  n;

    n = info->dp.len ? ngx_http_sekisho_jpki_dp_text(&info->dp, text,
                                                     sizeof(text))
                     : 0;

    if (n) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: no current CRL covers the distribution "
                      "point \"%*s\" of certificate serial %V",
                      n, text, &ctx->jpki_serial);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "sekisho: no current CRL covers certificate serial "
                      "%V, which names no distribution point of a form "
                      "read here; only its issuer's complete CRLs could",
                      &ctx->jpki_serial);
    }
}


/* the facts of a certificate seen, for variables, audit and log */

void
ngx_http_sekisho_jpki_cert_info(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info)
{
    u_char  serial[NGX_HTTP_SEKISHO_SERIAL_MAX];
    size_t  n;

    n = info->serial ? ngx_http_sekisho_jpki_serial(info->serial, serial,
                                                    sizeof(serial))
                     : 0;

    if (n) {
        ctx->jpki_serial.data = ngx_pnalloc(r->pool, 2 * n);
        if (ctx->jpki_serial.data) {
            ctx->jpki_serial.len = ngx_http_sekisho_hex(ctx->jpki_serial.data,
                                                        serial, n);
        }
    }

    ctx->jpki_revocation = info->revocation + 1;
    ctx->jpki_not_after = info->not_after;

    /* what it was checked against, so that an auditor can check again */
    ngx_http_sekisho_jpki_cert_against(r, ctx, info);
}


static void
ngx_http_sekisho_jpki_cert_against(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info)
{
    u_char                         id[NGX_HTTP_SEKISHO_CA_ID_MAX];
    size_t                         n;
    ngx_http_sekisho_main_conf_t  *mcf;

    if (info->issuer) {
        mcf = ngx_http_sekisho_main_conf(r);
        n = ngx_http_sekisho_jpki_key_id(info->issuer, id, sizeof(id));

        if (ngx_http_sekisho_jpki_issuer(&mcf->jpki, id, n,
                                         &ctx->jpki_issuer)
            != NGX_OK)
        {
            ngx_str_null(&ctx->jpki_issuer);
        }
    }

    /* the row is in the index mapped now: copied before it is swapped */
    if (info->crl == NULL) {
        ngx_str_null(&ctx->crl_number);
        ctx->crl_this_update = 0;
        return;
    }

    ctx->crl_number.data = ngx_pnalloc(r->pool,
                                       NGX_HTTP_SEKISHO_CRLIX_NUMBER * 3);
    if (ctx->crl_number.data) {
        ctx->crl_number.len = ngx_http_sekisho_decimal(ctx->crl_number.data,
                                               info->crl->number,
                                               NGX_HTTP_SEKISHO_CRLIX_NUMBER);
    }

    ctx->crl_this_update = (time_t) info->crl->this_update;
}


/*
 * For the SOC: every failure counts toward a burst from its network,
 * and a revoked certificate is worth an alert of its own.
 */

void
ngx_http_sekisho_jpki_alerts(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx)
{
    struct sockaddr                 *sa;
    struct sockaddr_in               sin;
    ngx_http_sekisho_alert_param_t   params[3];

    sa = ngx_http_sekisho_unmap_v4(r->connection->sockaddr, &sin);

    ngx_http_sekisho_alert_jpki_failure(sa, &r->connection->addr_text);

    if (ctx->reason != NGX_HTTP_SEKISHO_REASON_JPKI_REVOKED) {
        return;
    }

    params[0].name = "serial";
    params[0].value = ctx->jpki_serial;
    params[1].name = "address";
    params[1].value = r->connection->addr_text;
    params[2].name = "use";

    if (ctx->jpki_use == NGX_HTTP_SEKISHO_JPKI_USE_BODY) {
        ngx_str_set(&params[2].value, "signed_body");

    } else {
        ngx_str_set(&params[2].value, "login");
    }

    ngx_http_sekisho_alert(NGX_HTTP_SEKISHO_ALERT_JPKI_REVOKED, params, 3);
}


ngx_http_sekisho_reason_e
ngx_http_sekisho_jpki_reason(ngx_http_sekisho_jpki_result_e rc)
{
    static ngx_http_sekisho_reason_e  reasons[] = {
        NGX_HTTP_SEKISHO_REASON_NONE,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CERTIFICATE,
        NGX_HTTP_SEKISHO_REASON_JPKI_UNTRUSTED,
        NGX_HTTP_SEKISHO_REASON_JPKI_VALIDITY,
        NGX_HTTP_SEKISHO_REASON_JPKI_KEY_USAGE,
        NGX_HTTP_SEKISHO_REASON_JPKI_WRONG_CERT,
        NGX_HTTP_SEKISHO_REASON_JPKI_REVOKED,
        NGX_HTTP_SEKISHO_REASON_JPKI_CRL_STALE,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_ALGORITHM,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_SIGNATURE,
        NGX_HTTP_SEKISHO_REASON_JPKI_BAD_CMS
    };

    return reasons[rc];
}


/* standard base64, or base64url as some clients send */

ngx_int_t
ngx_http_sekisho_decode_base64(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst)
{
    if (src->len == 0) {
        return NGX_ERROR;
    }

    dst->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src->len));
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(dst, src) == NGX_OK) {
        return NGX_OK;
    }

    return ngx_decode_base64url(dst, src);
}
