
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_login_source.h"
#include "ngx_http_sekisho_account.h"
#include "ngx_http_sekisho_request.h"
#include "ngx_http_sekisho_body.h"


#define NGX_HTTP_SEKISHO_FIELD_MAX   64


static ngx_int_t ngx_http_sekisho_login_body(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd,
    ngx_str_t *raw);
static ngx_int_t ngx_http_sekisho_login_cookies(ngx_http_request_t *r,
    ngx_str_t **names, ngx_http_sekisho_login_read_t *rd);
static ngx_int_t ngx_http_sekisho_login_same(ngx_http_sekisho_login_read_t *rd,
    ngx_http_sekisho_account_source_t *src);
static ngx_int_t ngx_http_sekisho_login_media(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd,
    ngx_http_sekisho_media_t *m, ngx_str_t *field);
static ngx_int_t ngx_http_sekisho_login_encoded(ngx_http_request_t *r,
    ngx_http_sekisho_login_read_t *rd);
static ngx_int_t ngx_http_sekisho_login_regex(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd,
    ngx_str_t *raw);
static ngx_int_t ngx_http_sekisho_login_refuse(
    ngx_http_sekisho_login_read_t *rd, ngx_int_t status,
    ngx_http_sekisho_reason_e reason, const char *why);
static ngx_uint_t ngx_http_sekisho_safe_method(ngx_http_request_t *r);
static char *ngx_http_sekisho_login_field(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, size_t skip, ngx_str_t *field, ngx_uint_t header);


static ngx_str_t  ngx_http_sekisho_content_type = ngx_string("Content-Type");
static ngx_str_t  ngx_http_sekisho_content_encoding =
    ngx_string("Content-Encoding");
static ngx_str_t  ngx_http_sekisho_cookie = ngx_string("Cookie");


ngx_uint_t
ngx_http_sekisho_login_source_body(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src)
{
    if (src->type != NGX_HTTP_SEKISHO_SRC_BODY
        && src->type != NGX_HTTP_SEKISHO_SRC_REGEX)
    {
        return 0;
    }

    /* a GET with a body is read too: some applications read it */
    return r->headers_in.content_length_n > 0 || r->headers_in.chunked;
}


ngx_int_t
ngx_http_sekisho_login_source_find(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd)
{
    u_char                           *buf;
    size_t                            len;
    ngx_int_t                         rc;
    ngx_str_t                         raw;
    ngx_uint_t                        n;
    ngx_table_elt_t                  *h;
    ngx_http_sekisho_account_find_t   f;

    ngx_memzero(rd, sizeof(ngx_http_sekisho_login_read_t));

    switch (src->type) {

    case NGX_HTTP_SEKISHO_SRC_HEADER:
        n = ngx_http_sekisho_count_headers(&r->headers_in.headers, &src->name,
                                           1, &h);
        if (n > 1) {
            return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                                 "the account header more than once");
        }

        if (n == 0) {
            goto none;
        }

        raw = h->value;
        break;

    case NGX_HTTP_SEKISHO_SRC_ARG:
        buf = ngx_pnalloc(r->pool, r->args.len + 1);
        if (buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memzero(&f, sizeof(ngx_http_sekisho_account_find_t));
        f.field = src->name;

        if (ngx_http_sekisho_account_form(&f, r->args.data, r->args.len, buf)
            != NGX_OK)
        {
            return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                                 f.why);
        }

        if (!f.found) {
            goto none;
        }

        raw = f.value;
        break;

    case NGX_HTTP_SEKISHO_SRC_VALUE:
        if (ngx_http_complex_value(r, src->value, &raw) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (raw.len == 0) {
            goto none;
        }

        break;

    case NGX_HTTP_SEKISHO_SRC_REGEX:
        rc = ngx_http_sekisho_login_regex(r, src, rd, &raw);

        if (rc == NGX_DECLINED) {
            goto none;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        break;

    default: /* NGX_HTTP_SEKISHO_SRC_BODY */
        rc = ngx_http_sekisho_login_body(r, src, rd, &raw);

        if (rc == NGX_DECLINED) {
            goto none;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        break;
    }

    rd->account.data = ngx_pnalloc(r->pool, NGX_HTTP_SEKISHO_ACCOUNT_MAX);
    if (rd->account.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_sekisho_account_normalize(raw.data, raw.len,
                                            rd->account.data, &len,
                                            src->ascii);

    if (rc == NGX_DECLINED) {
        goto none;
    }

    if (rc != NGX_OK) {
        return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_ACCOUNT,
                             src->ascii ? "an account id that is not ASCII, "
                                          "too long, or not UTF-8 text"
                                        : "an account id too long, or not "
                                          "UTF-8 text");
    }

    rd->account.len = len;

    if (rd->cookie.data) {
        return ngx_http_sekisho_login_same(rd, src);
    }

    return NGX_OK;

none:

    /* the login page itself is fetched, not posted */
    if (src->type == NGX_HTTP_SEKISHO_SRC_BODY
        && ngx_http_sekisho_safe_method(r))
    {
        return NGX_DECLINED;
    }

    return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                                         NGX_HTTP_SEKISHO_REASON_LOGIN_NO_ACCOUNT,
                                         "no account id");
}


/*
 * A body source: the body, parsed by its media type only, and the query
 * string, which PHP's $_REQUEST and Flask's request.values read too,
 * for every field name the location takes.  Once in all.
 */

static ngx_int_t
ngx_http_sekisho_login_body(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd,
    ngx_str_t *raw)
{
    u_char                           *buf;
    ngx_int_t                         rc;
    ngx_str_t                         body, field, *names[3];
    ngx_uint_t                        i, j, found;
    ngx_http_sekisho_media_t          m;
    ngx_http_sekisho_account_find_t   f;

    names[0] = &src->form;
    names[1] = &src->json;
    names[2] = &src->multipart;

    found = 0;

    for (i = 0; i < 3; i++) {
        if (names[i]->len == 0) {
            continue;
        }

        for (j = 0; j < i; j++) {
            if (names[j]->len == names[i]->len
                && ngx_strncasecmp(names[j]->data, names[i]->data,
                                   names[i]->len) == 0)
            {
                break;
            }
        }

        if (j < i) {
            continue;
        }

        buf = ngx_pnalloc(r->pool, r->args.len + 1);
        if (buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memzero(&f, sizeof(ngx_http_sekisho_account_find_t));
        f.field = *names[i];

        if (ngx_http_sekisho_account_form(&f, r->args.data, r->args.len, buf)
            != NGX_OK)
        {
            return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                                 f.why);
        }

        if (f.found) {
            found++;
            *raw = f.value;
        }
    }

    rd->from_query = (found && ngx_http_sekisho_safe_method(r));

    rc = ngx_http_sekisho_request_body(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    if (body.len) {
        rc = ngx_http_sekisho_login_media(r, src, rd, &m, &field);
        if (rc != NGX_OK) {
            return rc;
        }

        buf = ngx_pnalloc(r->pool, body.len);
        if (buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memzero(&f, sizeof(ngx_http_sekisho_account_find_t));
        f.field = field;

        switch (m.type) {

        case NGX_HTTP_SEKISHO_MEDIA_FORM:
            rc = ngx_http_sekisho_account_form(&f, body.data, body.len, buf);
            break;

        case NGX_HTTP_SEKISHO_MEDIA_JSON:
            rc = ngx_http_sekisho_account_json(&f, body.data, body.len, buf);
            break;

        default: /* NGX_HTTP_SEKISHO_MEDIA_MULTIPART */
            rc = ngx_http_sekisho_account_multipart(&f, body.data, body.len,
                                                    &m.boundary, buf);
            break;
        }

        if (rc != NGX_OK) {
            return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                                 f.why);
        }

        if (f.found) {
            found++;
            *raw = f.value;
            rd->from_query = 0;
        }
    }

    if (found > 1) {
        return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                             "the account field in the query string and "
                             "in the body, or under two names");
    }

    rc = ngx_http_sekisho_login_cookies(r, names, rd);
    if (rc != NGX_OK) {
        return rc;
    }

    if (found == 0 && rd->cookie.data) {
        /* the id only in a cookie: it is the one an application reads */
        *raw = rd->cookie;
        ngx_str_null(&rd->cookie);
        rd->from_query = ngx_http_sekisho_safe_method(r);
        return NGX_OK;
    }

    return found ? NGX_OK : NGX_DECLINED;
}


/* a cookie named as any of the location's fields, in any Cookie header */

static ngx_int_t
ngx_http_sekisho_login_cookies(ngx_http_request_t *r, ngx_str_t **names,
    ngx_http_sekisho_login_read_t *rd)
{
    u_char                           *buf;
    ngx_uint_t                        i, n;
    ngx_list_part_t                  *part;
    ngx_table_elt_t                  *h;
    ngx_http_sekisho_account_find_t   f;

    ngx_memzero(&f, sizeof(ngx_http_sekisho_account_find_t));

    for (n = 0; n < 3; n++) {
        if (names[n]->len == 0) {
            continue;
        }

        f.field = *names[n];

        for (part = &r->headers_in.headers.part; part; part = part->next) {
            h = part->elts;

            for (i = 0; i < part->nelts; i++) {
                if (h[i].hash == 0
                    || h[i].key.len != ngx_http_sekisho_cookie.len
                    || ngx_strncasecmp(h[i].key.data,
                                       ngx_http_sekisho_cookie.data,
                                       h[i].key.len) != 0)
                {
                    continue;
                }

                buf = ngx_pnalloc(r->pool, h[i].value.len + 1);
                if (buf == NULL) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                if (ngx_http_sekisho_account_cookie(&f, h[i].value.data,
                                                    h[i].value.len, buf)
                    != NGX_OK)
                {
                    return ngx_http_sekisho_login_refuse(rd,
                                     NGX_HTTP_BAD_REQUEST,
                                     NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                                     f.why);
                }
            }
        }
    }

    if (f.found) {
        rd->cookie = f.value;
    }

    return NGX_OK;
}


/* the cookie names the account counted, or the request is refused */

static ngx_int_t
ngx_http_sekisho_login_same(ngx_http_sekisho_login_read_t *rd,
    ngx_http_sekisho_account_source_t *src)
{
    u_char     id[NGX_HTTP_SEKISHO_ACCOUNT_MAX];
    size_t     len;
    ngx_int_t  rc;

    rc = ngx_http_sekisho_account_normalize(rd->cookie.data, rd->cookie.len,
                                            id, &len, src->ascii);

    if (rc != NGX_OK || len != rd->account.len
        || ngx_memcmp(id, rd->account.data, len) != 0)
    {
        return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                             "a cookie of the account field names another "
                             "account");
    }

    return NGX_OK;
}


/*
 * One Content-Type, no Content-Encoding, and a media type the location
 * takes: a body is never parsed as anything but what it says it is.
 */

static ngx_int_t
ngx_http_sekisho_login_media(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd,
    ngx_http_sekisho_media_t *m, ngx_str_t *field)
{
    u_char           *buf;
    ngx_int_t         rc;
    ngx_uint_t        n;
    ngx_table_elt_t  *h;

    rc = ngx_http_sekisho_login_encoded(r, rd);
    if (rc != NGX_OK) {
        return rc;
    }

    n = ngx_http_sekisho_count_headers(&r->headers_in.headers,
                                       &ngx_http_sekisho_content_type, 1, &h);

    if (n == 0) {
        return ngx_http_sekisho_login_refuse(rd,
                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE,
                             "a body without a Content-Type");
    }

    buf = ngx_pnalloc(r->pool, h->value.len + 1);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_sekisho_media_type(&h->value, m, buf) != NGX_OK) {
        return ngx_http_sekisho_login_refuse(rd,
                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE,
                             "a malformed Content-Type, or a charset other "
                             "than UTF-8");
    }

    switch (m->type) {

    case NGX_HTTP_SEKISHO_MEDIA_FORM:
        *field = src->form;
        break;

    case NGX_HTTP_SEKISHO_MEDIA_JSON:
        *field = src->json;
        break;

    case NGX_HTTP_SEKISHO_MEDIA_MULTIPART:
        *field = src->multipart;
        break;

    default:
        ngx_str_null(field);
        break;
    }

    if (field->len == 0) {
        return ngx_http_sekisho_login_refuse(rd,
                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE,
                             "a media type the location does not take");
    }

    return NGX_OK;
}


/*
 * Two Content-Type headers (each application takes another one), or a
 * body the application inflates while the gateway reads its bytes.
 */

static ngx_int_t
ngx_http_sekisho_login_encoded(ngx_http_request_t *r,
    ngx_http_sekisho_login_read_t *rd)
{
    ngx_table_elt_t  *h;

    if (ngx_http_sekisho_count_headers(&r->headers_in.headers,
                                       &ngx_http_sekisho_content_type, 1, &h)
        > 1)
    {
        return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE,
                             "more than one Content-Type header");
    }

    if (ngx_http_sekisho_count_headers(&r->headers_in.headers,
                                       &ngx_http_sekisho_content_encoding, 1,
                                       &h))
    {
        return ngx_http_sekisho_login_refuse(rd,
                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE,
                             "a login body with a Content-Encoding");
    }

    return NGX_OK;
}


/* the operator's own pattern over the body, for other formats */

static ngx_int_t
ngx_http_sekisho_login_regex(ngx_http_request_t *r,
    ngx_http_sekisho_account_source_t *src, ngx_http_sekisho_login_read_t *rd,
    ngx_str_t *raw)
{
    int        captures[6];
    ngx_int_t  rc;
    ngx_str_t  body;

    rc = ngx_http_sekisho_request_body(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    if (body.len == 0) {
        return NGX_DECLINED;
    }

    rc = ngx_http_sekisho_login_encoded(r, rd);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_regex_exec(src->regex, &body, captures, 6);

    if (rc == NGX_REGEX_NO_MATCHED) {
        return NGX_DECLINED;
    }

    if (rc < 0) {
        return ngx_http_sekisho_login_refuse(rd, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY,
                                 "the account pattern could not be matched");
    }

    if (rc < 2 || captures[2] < 0) {
        return NGX_DECLINED;
    }

    raw->data = body.data + captures[2];
    raw->len = captures[3] - captures[2];

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_login_refuse(ngx_http_sekisho_login_read_t *rd,
    ngx_int_t status, ngx_http_sekisho_reason_e reason, const char *why)
{
    rd->reason = reason;
    rd->why = why;

    return status;
}


static ngx_uint_t
ngx_http_sekisho_safe_method(ngx_http_request_t *r)
{
    return (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)) != 0;
}


/*
 * sekisho_login_account form:<f> [json:<f>] [multipart:<f>] [ids=ascii];
 * sekisho_login_account header:<h> | arg:<a> | regex:<pattern>
 *                       | <complex value> [ids=ascii];
 */

char *
ngx_http_sekisho_login_account(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_account_source_t **srcp = (void *) ((char *) conf
                                                         + cmd->offset);

    u_char                              errstr[NGX_MAX_CONF_ERRSTR];
    char                               *rv;
    ngx_str_t                          *value, *s, *field;
    ngx_uint_t                          i, others;
    ngx_regex_compile_t                 rc;
    ngx_http_sekisho_account_source_t  *src;
    ngx_http_compile_complex_value_t    ccv;

    if (*srcp != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    src = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_account_source_t));
    if (src == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    others = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        s = &value[i];

        if (ngx_strcmp(s->data, "ids=ascii") == 0) {
            src->ascii = 1;
            continue;
        }

        if (ngx_strcmp(s->data, "ids=unicode") == 0) {
            src->ascii = 0;
            continue;
        }

        if (ngx_strncmp(s->data, "ids=", 4) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"%V\" "
                               "directive, it must be \"ids=unicode\" or "
                               "\"ids=ascii\"", s, &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (ngx_strncmp(s->data, "form:", 5) == 0) {
            field = &src->form;
            rv = ngx_http_sekisho_login_field(cf, cmd, s, 5, field, 0);

        } else if (ngx_strncmp(s->data, "json:", 5) == 0) {
            field = &src->json;
            rv = ngx_http_sekisho_login_field(cf, cmd, s, 5, field, 0);

        } else if (ngx_strncmp(s->data, "multipart:", 10) == 0) {
            field = &src->multipart;
            rv = ngx_http_sekisho_login_field(cf, cmd, s, 10, field, 0);

        } else {
            if (others++ || i > 1) {
                goto alone;
            }

            if (ngx_strncmp(s->data, "header:", 7) == 0) {
                src->type = NGX_HTTP_SEKISHO_SRC_HEADER;
                rv = ngx_http_sekisho_login_field(cf, cmd, s, 7, &src->name,
                                                  1);

            } else if (ngx_strncmp(s->data, "arg:", 4) == 0) {
                src->type = NGX_HTTP_SEKISHO_SRC_ARG;
                rv = ngx_http_sekisho_login_field(cf, cmd, s, 4, &src->name,
                                                  0);

            } else if (ngx_strncmp(s->data, "regex:", 6) == 0
                       && s->len > 6)
            {
                src->type = NGX_HTTP_SEKISHO_SRC_REGEX;

                ngx_memzero(&rc, sizeof(ngx_regex_compile_t));
                rc.pattern.data = s->data + 6;
                rc.pattern.len = s->len - 6;
                rc.pool = cf->pool;
                rc.err.len = NGX_MAX_CONF_ERRSTR;
                rc.err.data = errstr;

                if (ngx_regex_compile(&rc) != NGX_OK) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid regex in \"%V\" directive: "
                                       "%V", &cmd->name, &rc.err);
                    return NGX_CONF_ERROR;
                }

                if (rc.captures < 1) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "the regex in \"%V\" directive must "
                                       "have a capture group for the "
                                       "account id", &cmd->name);
                    return NGX_CONF_ERROR;
                }

                src->regex = rc.regex;
                rv = NGX_CONF_OK;

            } else if (ngx_strlchr(s->data, s->data + s->len, '$')) {
                src->type = NGX_HTTP_SEKISHO_SRC_VALUE;

                src->value = ngx_palloc(cf->pool,
                                        sizeof(ngx_http_complex_value_t));
                if (src->value == NULL) {
                    return NGX_CONF_ERROR;
                }

                ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
                ccv.cf = cf;
                ccv.value = s;
                ccv.complex_value = src->value;

                if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                    return NGX_CONF_ERROR;
                }

                rv = NGX_CONF_OK;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid account source \"%V\" in \"%V\" "
                                   "directive, it must be form:, json:, "
                                   "multipart:, header:, arg:, regex: or a "
                                   "variable", s, &cmd->name);
                return NGX_CONF_ERROR;
            }

            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        if (rv != NGX_CONF_OK) {
            return rv;
        }

        if (others) {
            goto alone;
        }
    }

    if (!others && src->form.len + src->json.len + src->multipart.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive names no account source",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    *srcp = src;

    return NGX_CONF_OK;

alone:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" in \"%V\" directive cannot be combined with "
                       "another source: only form:, json: and multipart: "
                       "go together", &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


/*
 * A field name as applications can name one: letters, digits, "_" and
 * "-" (PHP cannot read "." or " " in a name); a header name is a token.
 */

static char *
ngx_http_sekisho_login_field(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, size_t skip, ngx_str_t *field, ngx_uint_t header)
{
    u_char      c;
    ngx_uint_t  i;

    if (field->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%*s\" given twice in \"%V\" directive",
                           skip, value->data, &cmd->name);
        return NGX_CONF_ERROR;
    }

    field->data = value->data + skip;
    field->len = value->len - skip;

    if (field->len == 0 || field->len > NGX_HTTP_SEKISHO_FIELD_MAX) {
        goto invalid;
    }

    for (i = 0; i < field->len; i++) {
        c = field->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-')
        {
            continue;
        }

        if (header && ngx_strlchr((u_char *) "!#$%&'*+.^`|~",
                                  (u_char *) "!#$%&'*+.^`|~" + 13, c))
        {
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid account field \"%V\" in \"%V\" directive, "
                       "a name is 1 to %d letters, digits, \"_\" or \"-\"",
                       value, &cmd->name, NGX_HTTP_SEKISHO_FIELD_MAX);

    return NGX_CONF_ERROR;
}
