
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_json.h"
#include "ngx_http_sekisho_text.h"


#define NGX_HTTP_SEKISHO_JSON_DEPTH  32


typedef struct {
    u_char                     *p;
    u_char                     *end;
} ngx_http_sekisho_json_t;


static void ngx_http_sekisho_json_ws(ngx_http_sekisho_json_t *j);
static ngx_int_t ngx_http_sekisho_json_string(ngx_http_sekisho_json_t *j,
    u_char *out, size_t *outlen);
static ngx_int_t ngx_http_sekisho_json_number(ngx_http_sekisho_json_t *j);
static ngx_int_t ngx_http_sekisho_json_digits(ngx_http_sekisho_json_t *j);
static ngx_int_t ngx_http_sekisho_json_skip(ngx_http_sekisho_json_t *j,
    ngx_uint_t depth);
static ngx_uint_t ngx_http_sekisho_json_named(u_char *key, size_t len,
    ngx_str_t *name, ngx_uint_t caseless);
static ngx_int_t ngx_http_sekisho_json_literal(ngx_http_sekisho_json_t *j,
    const char *literal, size_t len);
static u_char *ngx_http_sekisho_utf8_put(u_char *p, uint32_t cp);


/*
 * Walks the whole object.  The first member of the name is decoded
 * into "buf"; the keys of the others are decoded after it.
 */

ngx_int_t
ngx_http_sekisho_json_member(u_char *body, size_t len, ngx_str_t *name,
    ngx_uint_t caseless, ngx_http_sekisho_json_member_t *m, u_char *buf)
{
    u_char                   *start;
    size_t                    n;
    ngx_http_sekisho_json_t   j;

    ngx_memzero(m, sizeof(ngx_http_sekisho_json_member_t));

    j.p = body;
    j.end = body + len;

    ngx_http_sekisho_json_ws(&j);

    if (j.p == j.end || *j.p != '{') {
        return NGX_ERROR;
    }

    j.p++;
    ngx_http_sekisho_json_ws(&j);

    if (j.p < j.end && *j.p == '}') {
        j.p++;
        goto done;
    }

    for ( ;; ) {

        if (ngx_http_sekisho_json_string(&j, buf, &n) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_sekisho_json_ws(&j);

        if (j.p == j.end || *j.p != ':') {
            return NGX_ERROR;
        }

        j.p++;
        ngx_http_sekisho_json_ws(&j);

        if (j.p == j.end) {
            return NGX_ERROR;
        }

        if (!ngx_http_sekisho_json_named(buf, n, name, caseless)) {
            if (ngx_http_sekisho_json_skip(&j, 1) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (m->count++) {
            /* a later copy: checked, not kept */
            if (ngx_http_sekisho_json_skip(&j, 1) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (*j.p == '"') {
            if (ngx_http_sekisho_json_string(&j, buf, &n) != NGX_OK) {
                return NGX_ERROR;
            }

            m->type = NGX_HTTP_SEKISHO_JSON_STRING;
            m->value.data = buf;
            m->value.len = n;

            /* later keys are decoded after the value */
            buf += n;

        } else if (*j.p == '-' || (*j.p >= '0' && *j.p <= '9')) {
            start = j.p;

            if (ngx_http_sekisho_json_number(&j) != NGX_OK) {
                return NGX_ERROR;
            }

            m->type = NGX_HTTP_SEKISHO_JSON_NUMBER;
            m->value.data = start;
            m->value.len = j.p - start;

        } else {
            if (ngx_http_sekisho_json_skip(&j, 1) != NGX_OK) {
                return NGX_ERROR;
            }

            m->type = NGX_HTTP_SEKISHO_JSON_OTHER;
        }

        ngx_http_sekisho_json_ws(&j);

        if (j.p == j.end) {
            return NGX_ERROR;
        }

        if (*j.p == ',') {
            j.p++;
            ngx_http_sekisho_json_ws(&j);
            continue;
        }

        if (*j.p == '}') {
            j.p++;
            break;
        }

        return NGX_ERROR;
    }

done:

    ngx_http_sekisho_json_ws(&j);

    return (j.p == j.end) ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_sekisho_json_value(u_char *body, size_t len, ngx_str_t *name,
    ngx_str_t *out, u_char *buf)
{
    ngx_http_sekisho_json_member_t  m;

    if (ngx_http_sekisho_json_member(body, len, name, 0, &m, buf) != NGX_OK
        || m.count > 1)
    {
        return NGX_ERROR;
    }

    if (m.count == 0 || m.type == NGX_HTTP_SEKISHO_JSON_OTHER) {
        return NGX_DECLINED;
    }

    *out = m.value;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_sekisho_json_named(u_char *key, size_t len, ngx_str_t *name,
    ngx_uint_t caseless)
{
    if (len != name->len) {
        return 0;
    }

    if (caseless) {
        return ngx_http_sekisho_caseless_eq(key, name->data, len);
    }

    return ngx_memcmp(key, name->data, len) == 0;
}


static void
ngx_http_sekisho_json_ws(ngx_http_sekisho_json_t *j)
{
    while (j->p < j->end
           && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n'
               || *j->p == '\r'))
    {
        j->p++;
    }
}


/* decodes into "out" when it is not NULL */

static ngx_int_t
ngx_http_sekisho_json_string(ngx_http_sekisho_json_t *j, u_char *out,
    size_t *outlen)
{
    u_char      c, *o;
    size_t      n;
    uint32_t    cp, lo;
    ngx_int_t   i, h;

    if (j->p == j->end || *j->p != '"') {
        return NGX_ERROR;
    }

    j->p++;
    o = out;

    for ( ;; ) {

        if (j->p == j->end) {
            return NGX_ERROR;
        }

        c = *j->p;

        if (c == '"') {
            j->p++;
            break;
        }

        if (c < 0x20) {
            return NGX_ERROR;
        }

        if (c >= 0x80) {
            /* parsers that decode strictly refuse what others replace */
            n = ngx_http_sekisho_utf8_valid(j->p, j->end);
            if (n == 0) {
                return NGX_ERROR;
            }

            if (o) {
                o = ngx_cpymem(o, j->p, n);
            }

            j->p += n;
            continue;
        }

        j->p++;

        if (c != '\\') {
            if (o) {
                *o++ = c;
            }

            continue;
        }

        if (j->p == j->end) {
            return NGX_ERROR;
        }

        c = *j->p++;

        switch (c) {
        case '"':  case '\\':  case '/':
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;

        case 'u':
            cp = 0;

            for (i = 0; i < 4; i++) {
                if (j->p == j->end
                    || (h = ngx_http_sekisho_hex_value(*j->p)) == NGX_ERROR)
                {
                    return NGX_ERROR;
                }

                cp = (cp << 4) | h;
                j->p++;
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return NGX_ERROR;
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                /* a surrogate pair: the low half must follow */
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') {
                    return NGX_ERROR;
                }

                j->p += 2;
                lo = 0;

                for (i = 0; i < 4; i++) {
                    if ((h = ngx_http_sekisho_hex_value(*j->p)) == NGX_ERROR) {
                        return NGX_ERROR;
                    }

                    lo = (lo << 4) | h;
                    j->p++;
                }

                if (lo < 0xdc00 || lo > 0xdfff) {
                    return NGX_ERROR;
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }

            if (o) {
                o = ngx_http_sekisho_utf8_put(o, cp);
            }

            continue;

        default:
            return NGX_ERROR;
        }

        if (o) {
            *o++ = c;
        }
    }

    if (outlen) {
        *outlen = o ? (size_t) (o - out) : 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_json_number(ngx_http_sekisho_json_t *j)
{
    if (j->p < j->end && *j->p == '-') {
        j->p++;
    }

    if (j->p == j->end) {
        return NGX_ERROR;
    }

    if (*j->p == '0') {
        j->p++;

    } else if (*j->p >= '1' && *j->p <= '9') {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            j->p++;
        }

    } else {
        return NGX_ERROR;
    }

    if (j->p < j->end && *j->p == '.') {
        j->p++;

        if (ngx_http_sekisho_json_digits(j) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;

        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) {
            j->p++;
        }

        if (ngx_http_sekisho_json_digits(j) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* one digit or more */

static ngx_int_t
ngx_http_sekisho_json_digits(ngx_http_sekisho_json_t *j)
{
    u_char  *start;

    start = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        j->p++;
    }

    return (j->p > start) ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_sekisho_json_skip(ngx_http_sekisho_json_t *j, ngx_uint_t depth)
{
    u_char  close;

    if (depth > NGX_HTTP_SEKISHO_JSON_DEPTH || j->p == j->end) {
        return NGX_ERROR;
    }

    switch (*j->p) {

    case '"':
        return ngx_http_sekisho_json_string(j, NULL, NULL);

    case '{':
    case '[':
        close = (*j->p == '{') ? '}' : ']';
        j->p++;
        ngx_http_sekisho_json_ws(j);

        if (j->p < j->end && *j->p == close) {
            j->p++;
            return NGX_OK;
        }

        for ( ;; ) {
            if (close == '}') {
                if (ngx_http_sekisho_json_string(j, NULL, NULL) != NGX_OK) {
                    return NGX_ERROR;
                }

                ngx_http_sekisho_json_ws(j);

                if (j->p == j->end || *j->p != ':') {
                    return NGX_ERROR;
                }

                j->p++;
                ngx_http_sekisho_json_ws(j);
            }

            if (ngx_http_sekisho_json_skip(j, depth + 1) != NGX_OK) {
                return NGX_ERROR;
            }

            ngx_http_sekisho_json_ws(j);

            if (j->p == j->end) {
                return NGX_ERROR;
            }

            if (*j->p == ',') {
                j->p++;
                ngx_http_sekisho_json_ws(j);
                continue;
            }

            if (*j->p == close) {
                j->p++;
                return NGX_OK;
            }

            return NGX_ERROR;
        }

    case 't':
        return ngx_http_sekisho_json_literal(j, "true", 4);

    case 'f':
        return ngx_http_sekisho_json_literal(j, "false", 5);

    case 'n':
        return ngx_http_sekisho_json_literal(j, "null", 4);

    default:
        return ngx_http_sekisho_json_number(j);
    }
}


static ngx_int_t
ngx_http_sekisho_json_literal(ngx_http_sekisho_json_t *j, const char *literal,
    size_t len)
{
    if ((size_t) (j->end - j->p) < len
        || ngx_strncmp(j->p, literal, len) != 0)
    {
        return NGX_ERROR;
    }

    j->p += len;

    return NGX_OK;
}


static u_char *
ngx_http_sekisho_utf8_put(u_char *p, uint32_t cp)
{
    if (cp < 0x80) {
        *p++ = (u_char) cp;

    } else if (cp < 0x800) {
        *p++ = (u_char) (0xc0 | (cp >> 6));
        *p++ = (u_char) (0x80 | (cp & 0x3f));

    } else if (cp < 0x10000) {
        *p++ = (u_char) (0xe0 | (cp >> 12));
        *p++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        *p++ = (u_char) (0x80 | (cp & 0x3f));

    } else {
        *p++ = (u_char) (0xf0 | (cp >> 18));
        *p++ = (u_char) (0x80 | ((cp >> 12) & 0x3f));
        *p++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        *p++ = (u_char) (0x80 | (cp & 0x3f));
    }

    return p;
}
