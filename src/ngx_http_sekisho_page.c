
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


static ngx_int_t ngx_http_sekisho_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, size_t type_len, ngx_buf_t *b);
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
                 "Please try again in a few minutes.") },

    /* NGX_HTTP_SEKISHO_PAGE_LOGIN_REQUIRED */
    { ngx_string("ログインが必要です / Login required"),
      ngx_string("このページを利用するには、マイナンバーカードで"
                 "ログインしてください。一定時間操作がなかった場合も、"
                 "もう一度ログインが必要です。"),
      ngx_string("Please log in with your My Number card to use this "
                 "page. After a period without activity you need to "
                 "log in again.") },

    /* NGX_HTTP_SEKISHO_PAGE_SIGNATURE */
    { ngx_string("署名を確認できません / Signature not verified"),
      ngx_string("申請データの電子署名を確認できませんでした。"
                 "署名用電子証明書で署名し直して、もう一度送信して"
                 "ください。"),
      ngx_string("The electronic signature of the application could not "
                 "be verified. Please sign it again with your signing "
                 "certificate and send it again.") }
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


/*
 * The same for API clients: {"error": <reason>, "request_id": <id>}
 * and the caller's own members ("extra": already JSON, starting with a
 * comma).
 */

ngx_int_t
ngx_http_sekisho_refuse_json(ngx_http_request_t *r, ngx_uint_t status,
    const ngx_str_t *reason, ngx_str_t *extra)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    ngx_http_finalize_request(r, ngx_http_sekisho_json_refusal(r, status,
                                                               reason, extra));

    return NGX_DONE;
}


/* the same, sent but not finalized: for content handlers */

ngx_int_t
ngx_http_sekisho_json_refusal(ngx_http_request_t *r, ngx_uint_t status,
    const ngx_str_t *reason, ngx_str_t *extra)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   json;
    ngx_http_variable_value_t  *id;

    id = ngx_http_get_indexed_variable(r, ngx_http_sekisho_request_id_index);

    if (id == NULL || id->not_found) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"error\":\"\",\"request_id\":\"\"}\n") - 1
          + reason->len + id->len + (extra ? extra->len : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json.data = p;
    p = ngx_sprintf(p, "{\"error\":\"%V\",\"request_id\":\"%*s\"",
                    reason, (size_t) id->len, id->data);

    if (extra) {
        p = ngx_cpymem(p, extra->data, extra->len);
    }

    *p++ = '}';
    *p++ = '\n';
    json.len = p - json.data;

    return ngx_http_sekisho_reply_json(r, status, &json);
}


/* does the client ask for JSON rather than a page */

ngx_int_t
ngx_http_sekisho_wants_json(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

#if (NGX_HTTP_HEADERS)
    h = r->headers_in.accept;

    if (h == NULL) {
        return 0;
    }

    return ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) "application/json",
                            sizeof("application/json") - 2)
           != NULL;
#else
    (void) h;
    return 0;
#endif
}


/* a JSON answer of Sekisho's own */

ngx_int_t
ngx_http_sekisho_reply_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    ngx_buf_t  *b;
    ngx_str_t   type = ngx_string("application/json");

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = json->data;
    b->last = json->data + json->len;
    b->memory = 1;

    return ngx_http_sekisho_send(r, status, &type, type.len, b);
}


/*
 * Sends what Sekisho answers itself.  It depends on who asked: no shared
 * cache may keep it.
 */

static ngx_int_t
ngx_http_sekisho_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, size_t type_len, ngx_buf_t *b)
{
    ngx_int_t         rc;
    ngx_chain_t       out;
    ngx_table_elt_t  *cc;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type_len;
    r->headers_out.content_type_lowcase = NULL;

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
    ngx_buf_t                  *b;
    ngx_str_t                   type = ngx_string("text/html; charset=utf-8");
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

    return ngx_http_sekisho_send(r, status, &type, sizeof("text/html") - 1, b);
}
