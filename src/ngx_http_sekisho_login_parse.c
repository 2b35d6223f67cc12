
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_login_parse.h"


#define NGX_HTTP_SEKISHO_JSON_DEPTH  32


typedef struct {
    u_char                     *p;
    u_char                     *end;
} ngx_http_sekisho_json_t;


static ngx_int_t ngx_http_sekisho_unescape_form(u_char *src, size_t len,
    u_char *dst, size_t *dlen);
static ngx_int_t ngx_http_sekisho_hex(u_char c);
static void ngx_http_sekisho_json_ws(ngx_http_sekisho_json_t *j);
static ngx_int_t ngx_http_sekisho_json_string(ngx_http_sekisho_json_t *j,
    u_char *out, size_t *outlen);
static ngx_int_t ngx_http_sekisho_json_number(ngx_http_sekisho_json_t *j);
static ngx_int_t ngx_http_sekisho_json_skip(ngx_http_sekisho_json_t *j,
    ngx_uint_t depth);
static u_char *ngx_http_sekisho_utf8_put(u_char *p, uint32_t cp);


/*
 * application/x-www-form-urlencoded.  A field given twice is an error:
 * the upstream might read the other one, and count a password check
 * against an account the gateway did not.
 */

ngx_int_t
ngx_http_sekisho_form_value(u_char *body, size_t len, ngx_str_t *name,
    ngx_str_t *out, u_char *buf)
{
    u_char     *p, *end, *amp, *eq, *last;
    size_t      klen, vlen;
    ngx_int_t   found;

    found = NGX_DECLINED;
    p = body;
    end = body + len;

    while (p < end) {
        amp = ngx_strlchr(p, end, '&');
        last = amp ? amp : end;

        eq = ngx_strlchr(p, last, '=');

        if (ngx_http_sekisho_unescape_form(p, (eq ? eq : last) - p, buf,
                                           &klen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (klen == name->len && ngx_memcmp(buf, name->data, klen) == 0) {

            if (found == NGX_OK) {
                return NGX_ERROR;
            }

            found = NGX_OK;

            if (eq) {
                /* the key is no longer needed: the value takes its place */
                if (ngx_http_sekisho_unescape_form(eq + 1, last - eq - 1, buf,
                                                   &vlen)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

            } else {
                vlen = 0;
            }

            out->data = buf;
            out->len = vlen;

            /* later keys are decoded after the value */
            buf += vlen;
        }

        p = last + 1;
    }

    return found;
}


static ngx_int_t
ngx_http_sekisho_unescape_form(u_char *src, size_t len, u_char *dst,
    size_t *dlen)
{
    u_char     *end, *d;
    ngx_int_t   hi, lo;

    d = dst;
    end = src + len;

    while (src < end) {

        if (*src == '+') {
            *d++ = ' ';
            src++;
            continue;
        }

        if (*src != '%') {
            *d++ = *src++;
            continue;
        }

        if (end - src < 3) {
            return NGX_ERROR;
        }

        hi = ngx_http_sekisho_hex(src[1]);
        lo = ngx_http_sekisho_hex(src[2]);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *d++ = (u_char) ((hi << 4) | lo);
        src += 3;
    }

    *dlen = d - dst;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}


/*
 * A top-level member of a JSON object (RFC 8259), as a string or a
 * number.  The whole document is checked, and a member given twice is
 * an error, for the same reason as in forms.
 */

ngx_int_t
ngx_http_sekisho_json_value(u_char *body, size_t len, ngx_str_t *name,
    ngx_str_t *out, u_char *buf)
{
    u_char                   *start;
    size_t                    n;
    ngx_int_t                 found;
    ngx_http_sekisho_json_t   j;

    j.p = body;
    j.end = body + len;
    found = NGX_DECLINED;

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

        if (n == name->len && ngx_memcmp(buf, name->data, n) == 0) {

            if (found != NGX_DECLINED) {
                return NGX_ERROR;
            }

            start = j.p;

            if (*j.p == '"') {
                if (ngx_http_sekisho_json_string(&j, buf, &n) != NGX_OK) {
                    return NGX_ERROR;
                }

                out->data = buf;
                out->len = n;
                found = NGX_OK;

                /* later keys are decoded after the value */
                buf += n;

            } else if (*j.p == '-' || (*j.p >= '0' && *j.p <= '9')) {
                if (ngx_http_sekisho_json_number(&j) != NGX_OK) {
                    return NGX_ERROR;
                }

                out->data = start;
                out->len = j.p - start;
                found = NGX_OK;

            } else {
                /* null, true, an object...: no account id, but seen */
                if (ngx_http_sekisho_json_skip(&j, 1) != NGX_OK) {
                    return NGX_ERROR;
                }

                found = NGX_AGAIN;
            }

        } else if (ngx_http_sekisho_json_skip(&j, 1) != NGX_OK) {
            return NGX_ERROR;
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

    if (j.p != j.end) {
        return NGX_ERROR;
    }

    return (found == NGX_AGAIN) ? NGX_DECLINED : found;
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

        c = *j->p++;

        if (c == '"') {
            break;
        }

        if (c < 0x20) {
            return NGX_ERROR;
        }

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
                    || (h = ngx_http_sekisho_hex(*j->p)) == NGX_ERROR)
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
                    if ((h = ngx_http_sekisho_hex(*j->p)) == NGX_ERROR) {
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
    u_char  *start;

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
        start = j->p;

        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            j->p++;
        }

        if (j->p == start) {
            return NGX_ERROR;
        }
    }

    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;

        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) {
            j->p++;
        }

        start = j->p;

        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            j->p++;
        }

        if (j->p == start) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
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
        if (j->end - j->p >= 4 && ngx_strncmp(j->p, "true", 4) == 0) {
            j->p += 4;
            return NGX_OK;
        }

        return NGX_ERROR;

    case 'f':
        if (j->end - j->p >= 5 && ngx_strncmp(j->p, "false", 5) == 0) {
            j->p += 5;
            return NGX_OK;
        }

        return NGX_ERROR;

    case 'n':
        if (j->end - j->p >= 4 && ngx_strncmp(j->p, "null", 4) == 0) {
            j->p += 4;
            return NGX_OK;
        }

        return NGX_ERROR;

    default:
        return ngx_http_sekisho_json_number(j);
    }
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


/*
 * Account ids are compared as the upstream most likely does: without
 * surrounding white space and without regard to ASCII case, so that
 * "Alice" and "alice " share one limit.  NGX_DECLINED for an empty id,
 * NGX_ERROR for control characters or an overlong id.
 */

ngx_int_t
ngx_http_sekisho_account_normalize(ngx_str_t *account)
{
    u_char  *p, *end;

    p = account->data;
    end = p + account->len;

    while (p < end && (*p == ' ' || *p == '\t' || *p == CR || *p == LF)) {
        p++;
    }

    while (end > p
           && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == CR
               || end[-1] == LF))
    {
        end--;
    }

    account->data = p;
    account->len = end - p;

    if (account->len == 0) {
        return NGX_DECLINED;
    }

    if (account->len > NGX_HTTP_SEKISHO_ACCOUNT_MAX) {
        return NGX_ERROR;
    }

    for ( /* void */ ; p < end; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return NGX_ERROR;
        }

        if (*p >= 'A' && *p <= 'Z') {
            *p |= 0x20;
        }
    }

    return NGX_OK;
}
