
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_page.h"


typedef struct {
    ngx_str_t                   title;
    ngx_str_t                   ja;
    ngx_str_t                   en;
} ngx_http_sekisho_page_t;


static ngx_int_t ngx_http_sekisho_has_error_page(ngx_http_request_t *r,
    ngx_uint_t status);
static ngx_int_t ngx_http_sekisho_send_page(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_sekisho_page_t *page, ngx_str_t *detail);


static ngx_http_sekisho_page_t  ngx_http_sekisho_pages[] = {

    /* NGX_HTTP_SEKISHO_PAGE_GEO */
    { ngx_string("アクセスできません / Access not available"),
      ngx_string("日本国外からのアクセスはご利用いただけません。"
                 "このサービスは日本国内からのみご利用いただけます。"),
      ngx_string("Access from outside Japan is not available. "
                 "This service can only be used from within Japan.") },

    /* NGX_HTTP_SEKISHO_PAGE_BAD_LOGIN */
    { ngx_string("リクエストを処理できません / Bad request"),
      ngx_string("ログインのリクエストを処理できませんでした。"
                 "入力内容をご確認のうえ、もう一度お試しください。"),
      ngx_string("The login request could not be processed. "
                 "Please check what you entered and try again.") },

    /* NGX_HTTP_SEKISHO_PAGE_LOCKED */
    { ngx_string("ログインできません / Login locked"),
      ngx_string("パスワードの誤りが続いたため、ログインは一時的に"
                 "ロックされています。下に示す時間の後に再度お試し"
                 "いただくか、窓口にお問い合わせください。"),
      ngx_string("Login is locked for a while after repeated wrong "
                 "passwords. Please try again after the time shown "
                 "below, or contact the office.") },

    /* NGX_HTTP_SEKISHO_PAGE_UNAVAILABLE */
    { ngx_string("一時的にご利用いただけません / Temporarily unavailable"),
      ngx_string("ただいまログインを受け付けることができません。"
                 "しばらくしてから再度お試しください。"),
      ngx_string("Login cannot be accepted right now. "
                 "Please try again in a few minutes.") }
};


static ngx_str_t  ngx_http_sekisho_page_head = ngx_string(
    "<!DOCTYPE html>" CRLF
    "<html lang=\"ja\">" CRLF
    "<head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width\">"
    "<title>");

static ngx_str_t  ngx_http_sekisho_page_ja = ngx_string(
    "</title></head>" CRLF
    "<body>" CRLF
    "<h1>");

static ngx_str_t  ngx_http_sekisho_page_en = ngx_string(
    "</h1>" CRLF
    "<p lang=\"en\">");

static ngx_str_t  ngx_http_sekisho_page_detail = ngx_string(
    "</p>" CRLF
    "<p>");

static ngx_str_t  ngx_http_sekisho_page_ref = ngx_string(
    "</p>" CRLF
    "<p><small>お問い合わせ番号 / Reference: ");

static ngx_str_t  ngx_http_sekisho_page_tail = ngx_string(
    "</small></p>" CRLF
    "</body>" CRLF
    "</html>" CRLF);

static ngx_str_t  ngx_http_sekisho_request_id = ngx_string("request_id");
ngx_int_t         ngx_http_sekisho_request_id_index = NGX_ERROR;


ngx_int_t
ngx_http_sekisho_page_init(ngx_conf_t *cf)
{
    ngx_http_sekisho_request_id_index =
        ngx_http_get_variable_index(cf, &ngx_http_sekisho_request_id);

    if (ngx_http_sekisho_request_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Ends the request with a refusal and returns NGX_DONE for the phase
 * handler.  The operator's "error_page" for the status wins over the
 * built-in page.
 */

ngx_int_t
ngx_http_sekisho_refuse(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_sekisho_page_e page, ngx_str_t *detail)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    if (ngx_http_sekisho_has_error_page(r, status)) {
        ngx_http_finalize_request(r, status);
        return NGX_DONE;
    }

    rc = ngx_http_sekisho_send_page(r, status, &ngx_http_sekisho_pages[page],
                                    detail);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_sekisho_has_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->error_pages == NULL || r->uri_changes == 0 || r->error_page) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}


/* "detail" is a line of the caller's own, already safe as HTML */

static ngx_int_t
ngx_http_sekisho_send_page(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_sekisho_page_t *page, ngx_str_t *detail)
{
    size_t                      len;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_chain_t                 out;
    ngx_table_elt_t            *cc;
    ngx_http_variable_value_t  *id;

    id = ngx_http_get_indexed_variable(r, ngx_http_sekisho_request_id_index);

    if (id == NULL || id->not_found) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_http_sekisho_page_head.len + page->title.len
          + ngx_http_sekisho_page_ja.len + page->ja.len
          + ngx_http_sekisho_page_en.len + page->en.len
          + (detail ? ngx_http_sekisho_page_detail.len + detail->len : 0)
          + ngx_http_sekisho_page_ref.len + id->len
          + ngx_http_sekisho_page_tail.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, ngx_http_sekisho_page_head.data,
                         ngx_http_sekisho_page_head.len);
    b->last = ngx_cpymem(b->last, page->title.data, page->title.len);
    b->last = ngx_cpymem(b->last, ngx_http_sekisho_page_ja.data,
                         ngx_http_sekisho_page_ja.len);
    b->last = ngx_cpymem(b->last, page->ja.data, page->ja.len);
    b->last = ngx_cpymem(b->last, ngx_http_sekisho_page_en.data,
                         ngx_http_sekisho_page_en.len);
    b->last = ngx_cpymem(b->last, page->en.data, page->en.len);

    if (detail) {
        b->last = ngx_cpymem(b->last, ngx_http_sekisho_page_detail.data,
                             ngx_http_sekisho_page_detail.len);
        b->last = ngx_cpymem(b->last, detail->data, detail->len);
    }

    b->last = ngx_cpymem(b->last, ngx_http_sekisho_page_ref.data,
                         ngx_http_sekisho_page_ref.len);
    b->last = ngx_cpymem(b->last, id->data, id->len);
    b->last = ngx_cpymem(b->last, ngx_http_sekisho_page_tail.data,
                         ngx_http_sekisho_page_tail.len);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/html") - 1;
    r->headers_out.content_type_lowcase = NULL;

    /* a refusal depends on who asked: no shared cache may keep it */
    cc = ngx_list_push(&r->headers_out.headers);
    if (cc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cc->hash = 1;
    ngx_str_set(&cc->key, "Cache-Control");
    ngx_str_set(&cc->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
