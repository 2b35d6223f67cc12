
/*
 * Copyright (C) Sekisho authors
 *
 * What a certificate check means for the request, alike for a card
 * login and a signed body: the certificate's facts in the request's
 * record, the reason of a refusal, the log line of a missing CRL, and
 * the SOC's alerts.
 */


#ifndef _NGX_HTTP_SEKISHO_JPKI_OUTCOME_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_JPKI_OUTCOME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_jpki_verify.h"


/* the serial (hex) and revocation state, for variables, audit and log */
void ngx_http_sekisho_jpki_cert_info(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info);

/* the log line of "jpki_crl_stale": the distribution point not covered */
void ngx_http_sekisho_jpki_stale(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx, ngx_http_sekisho_jpki_cert_t *info);

ngx_http_sekisho_reason_e ngx_http_sekisho_jpki_reason(
    ngx_http_sekisho_jpki_result_e rc);

/* a failure toward its network's burst; a revoked card its own alert */
void ngx_http_sekisho_jpki_alerts(ngx_http_request_t *r,
    ngx_http_sekisho_ctx_t *ctx);

/* standard base64, or base64url as some clients send */
ngx_int_t ngx_http_sekisho_decode_base64(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst);


#endif /* _NGX_HTTP_SEKISHO_JPKI_OUTCOME_H_INCLUDED_ */
