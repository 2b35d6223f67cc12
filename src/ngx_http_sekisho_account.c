
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <utf8proc.h>
#include "ngx_http_sekisho_account.h"
#include "ngx_http_sekisho_json.h"
#include "ngx_http_sekisho_text.h"
#include "ngx_http_sekisho_multipart.h"


/* how a form is cut into fields, as the frameworks cut it */
#define NGX_HTTP_SEKISHO_SPLIT_AMP     0   /* "&", the first "=" */
#define NGX_HTTP_SEKISHO_SPLIT_QS      1   /* "&", a "]=" before "=" (qs) */
#define NGX_HTTP_SEKISHO_SPLIT_SEMI    2   /* "&" and ";" (Rack 2) */

/* NFKC_Casefold, as utf8proc_NFKC_Casefold() */
#define NGX_HTTP_SEKISHO_NFKC_CF                                              \
    (UTF8PROC_STABLE|UTF8PROC_COMPOSE|UTF8PROC_COMPAT|UTF8PROC_CASEFOLD       \
     |UTF8PROC_IGNORE)

/* code points of a normalised id: an id that needs more is too long */
#define NGX_HTTP_SEKISHO_ACCOUNT_CPS   2048


typedef struct {
    ngx_uint_t                  count;
    u_char                     *value;        /* raw, in the data */
    size_t                      len;
    ngx_uint_t                  fields;
} ngx_http_sekisho_form_scan_t;


static ngx_int_t ngx_http_sekisho_media_param(u_char **pp, u_char *end,
    ngx_str_t *name, ngx_str_t *value, u_char **buf);
static ngx_uint_t ngx_http_sekisho_is(u_char *p, size_t len, const char *s);
static ngx_uint_t ngx_http_sekisho_utf8_charset(ngx_str_t *value);
static ngx_uint_t ngx_http_sekisho_field_php(u_char *p, size_t len,
    ngx_str_t *field);
static ngx_uint_t ngx_http_sekisho_field_qs(u_char *p, size_t len,
    ngx_str_t *field);
static ngx_uint_t ngx_http_sekisho_field_rack(u_char *p, size_t len,
    ngx_str_t *field);
static ngx_uint_t ngx_http_sekisho_field_eq(u_char *p, size_t len,
    ngx_str_t *field);
static ngx_uint_t ngx_http_sekisho_has_bracket_eq(u_char *p, size_t len);
static ngx_int_t ngx_http_sekisho_form_scan(ngx_str_t *field, u_char *data,
    size_t len, u_char *buf, ngx_uint_t split,
    ngx_http_sekisho_form_scan_t *s);
static ngx_int_t ngx_http_sekisho_unescape_form(u_char *src, size_t len,
    u_char *dst, size_t *dlen);
static ngx_int_t ngx_http_sekisho_account_add(
    ngx_http_sekisho_account_find_t *f, u_char *value, size_t len);
static ngx_uint_t ngx_http_sekisho_part_plain(ngx_http_sekisho_part_t *part);
static ngx_uint_t ngx_http_sekisho_printable_ascii(u_char *p, size_t len);
static ngx_int_t ngx_http_sekisho_nfkc_cf(u_char *in, size_t len,
    utf8proc_int32_t *cps, utf8proc_custom_func fold, size_t *outlen);
static utf8proc_int32_t ngx_http_sekisho_fold_case(utf8proc_int32_t cp,
    void *data);
static ngx_uint_t ngx_http_sekisho_is_space(utf8proc_int32_t cp);
static void ngx_http_sekisho_trim(u_char **start, u_char **end);


/*
 * Content-Type (RFC 9110 8.3): type "/" subtype *( OWS ";" OWS name "="
 * ( token / quoted-string ) ).  Anything a lenient parser could read
 * otherwise (an empty parameter, a backslash in a quoted string, a
 * parameter twice) is an error.
 */

ngx_int_t
ngx_http_sekisho_media_type(ngx_str_t *value, ngx_http_sekisho_media_t *m,
    u_char *buf)
{
    u_char     *p, *end, *start, *slash;
    ngx_str_t   type, name, v, charset;

    p = value->data;
    end = p + value->len;

    ngx_memzero(m, sizeof(ngx_http_sekisho_media_t));
    ngx_str_null(&charset);

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    start = p;
    slash = NULL;

    while (p < end && (ngx_http_sekisho_token_char(*p) || *p == '/')) {
        if (*p == '/') {
            if (slash) {
                return NGX_ERROR;
            }

            slash = p;
        }

        p++;
    }

    if (slash == NULL || slash == start || slash == p - 1) {
        return NGX_ERROR;
    }

    type.data = start;
    type.len = p - start;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end || *p++ != ';') {
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_media_param(&p, end, &name, &v, &buf)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_is(name.data, name.len, "charset")) {
            if (charset.data) {
                return NGX_ERROR;
            }

            charset = v;
            continue;
        }

        if (ngx_http_sekisho_is(name.data, name.len, "boundary")) {
            if (m->boundary.data) {
                return NGX_ERROR;
            }

            m->boundary = v;
        }

        /* other parameters change nothing anyone reads */
    }

    if (ngx_http_sekisho_is(type.data, type.len,
                            "application/x-www-form-urlencoded"))
    {
        m->type = NGX_HTTP_SEKISHO_MEDIA_FORM;

    } else if (ngx_http_sekisho_is(type.data, type.len,
                                   "multipart/form-data"))
    {
        m->type = NGX_HTTP_SEKISHO_MEDIA_MULTIPART;

        if (m->boundary.len == 0) {
            return NGX_ERROR;
        }

    } else if (ngx_http_sekisho_is(type.data, type.len, "application/json")
               || (type.len > 5
                   && ngx_http_sekisho_caseless_eq(type.data + type.len - 5,
                                                   (u_char *) "+json", 5)))
    {
        /* application/json, and any +json type (Werkzeug's is_json) */
        m->type = NGX_HTTP_SEKISHO_MEDIA_JSON;

    } else if (ngx_http_sekisho_is(type.data, type.len, "text/plain")) {
        m->type = NGX_HTTP_SEKISHO_MEDIA_TEXT;

    } else {
        m->type = NGX_HTTP_SEKISHO_MEDIA_OTHER;
    }

    /* a body decoded as another charset reads as other characters */
    if (charset.data && m->type != NGX_HTTP_SEKISHO_MEDIA_MULTIPART
        && !ngx_http_sekisho_utf8_charset(&charset))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_media_param(u_char **pp, u_char *end, ngx_str_t *name,
    ngx_str_t *value, u_char **buf)
{
    u_char  *p, *b;

    p = *pp;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    name->data = p;

    while (p < end && ngx_http_sekisho_token_char(*p)) {
        p++;
    }

    name->len = p - name->data;

    if (name->len == 0 || p == end || *p++ != '=' || p == end) {
        return NGX_ERROR;
    }

    if (*p != '"') {
        value->data = p;

        while (p < end && ngx_http_sekisho_token_char(*p)) {
            p++;
        }

        value->len = p - value->data;

        if (value->len == 0) {
            return NGX_ERROR;
        }

        *pp = p;
        return NGX_OK;
    }

    p++;
    b = *buf;
    value->data = b;

    for ( ;; ) {
        if (p == end) {
            return NGX_ERROR;
        }

        if (*p == '"') {
            p++;
            break;
        }

        /* "\" escapes are read differently by different parsers */
        if (*p == '\\' || *p < 0x20 || *p == 0x7f) {
            return NGX_ERROR;
        }

        *b++ = *p++;
    }

    value->len = b - value->data;
    *buf = b;

    if (value->len == 0) {
        return NGX_ERROR;
    }

    *pp = p;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_sekisho_is(u_char *p, size_t len, const char *s)
{
    return len == ngx_strlen(s)
           && ngx_http_sekisho_caseless_eq(p, (u_char *) s, len);
}


static ngx_uint_t
ngx_http_sekisho_utf8_charset(ngx_str_t *value)
{
    return ngx_http_sekisho_is(value->data, value->len, "utf-8")
           || ngx_http_sekisho_is(value->data, value->len, "utf8");
}


/*
 * The readings of a field name, each compared without regard to ASCII
 * case (ASP.NET binds names so, and a spelling counted once too often
 * only refuses a request, never lets one by):
 *
 *   - as sent (Werkzeug, Servlet, Node's querystring);
 *   - PHP's: leading spaces dropped, cut at NUL, "." and " " made "_",
 *     "name[...]" an array of "name", an unclosed "[" made "_";
 *   - qs's (Express): the part before the first "[...]", or inside a
 *     leading one;
 *   - Rack 2's: leading brackets dropped, up to the next bracket;
 *   - Spring's default-value prefix "!";
 *   - ASP.NET's and Spring's property paths: the part after a last ".".
 */

ngx_uint_t
ngx_http_sekisho_account_field_is(u_char *name, size_t len,
    ngx_str_t *field)
{
    u_char  *dot;

    if (ngx_http_sekisho_field_eq(name, len, field)
        || ngx_http_sekisho_field_php(name, len, field)
        || ngx_http_sekisho_field_qs(name, len, field)
        || ngx_http_sekisho_field_rack(name, len, field))
    {
        return 1;
    }

    if (len > 1 && name[0] == '!'
        && ngx_http_sekisho_field_eq(name + 1, len - 1, field))
    {
        return 1;
    }

    for (dot = name + len; dot > name; dot--) {
        if (dot[-1] == '.') {
            return dot - 1 > name
                   && ngx_http_sekisho_field_eq(dot, name + len - dot, field);
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_sekisho_field_eq(u_char *p, size_t len, ngx_str_t *field)
{
    return len == field->len
           && ngx_http_sekisho_caseless_eq(p, field->data, len);
}


static ngx_uint_t
ngx_http_sekisho_field_php(u_char *p, size_t len, ngx_str_t *field)
{
    u_char      c, *end, *open;
    ngx_uint_t  i;

    end = ngx_strlchr(p, p + len, '\0');
    if (end == NULL) {
        end = p + len;
    }

    while (p < end && *p == ' ') {
        p++;
    }

    open = ngx_strlchr(p, end, '[');

    if (open == p) {
        return 0;                       /* PHP drops the field */
    }

    if (open && ngx_strlchr(open + 1, end, ']')) {
        end = open;                     /* an array: its name */
        open = NULL;
    }

    if ((size_t) (end - p) != field->len) {
        return 0;
    }

    for (i = 0; i < field->len; i++, p++) {
        c = *p;

        if (c == '.' || c == ' ' || (open && p >= open && c == '[')) {
            c = '_';
        }

        if (ngx_tolower(c) != ngx_tolower(field->data[i])) {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_sekisho_field_qs(u_char *p, size_t len, ngx_str_t *field)
{
    u_char  *end, *open, *q;

    end = p + len;

    /* the first "[" followed by a "]" with no bracket between them */
    for (open = p; open < end; open++) {
        if (*open != '[') {
            continue;
        }

        for (q = open + 1; q < end && *q != '[' && *q != ']'; q++) {
            /* void */
        }

        if (q < end && *q == ']') {
            if (open > p) {
                return ngx_http_sekisho_field_eq(p, open - p, field);
            }

            /* "[name]...": qs takes the inside as the key */
            return ngx_http_sekisho_field_eq(open + 1, q - open - 1, field);
        }

        open = q - 1;
    }

    return ngx_http_sekisho_field_eq(p, len, field);
}


static ngx_uint_t
ngx_http_sekisho_field_rack(u_char *p, size_t len, ngx_str_t *field)
{
    u_char  *end, *start;

    end = p + len;

    /* the separator's spaces, then brackets, are dropped */
    while (p < end && *p == ' ') {
        p++;
    }

    while (p < end && (*p == '[' || *p == ']')) {
        p++;
    }

    for (start = p; p < end && *p != '[' && *p != ']'; p++) {
        /* void */
    }

    return p > start && ngx_http_sekisho_field_eq(start, p - start, field);
}


/*
 * application/x-www-form-urlencoded, and query strings.  The data is cut
 * into fields three ways, as the frameworks cut it; every way must find
 * the field as often, and in the same bytes, or the request is
 * ambiguous.
 */

ngx_int_t
ngx_http_sekisho_account_form(ngx_http_sekisho_account_find_t *f,
    u_char *data, size_t len, u_char *buf)
{
    size_t                        vlen;
    ngx_uint_t                    i;
    ngx_http_sekisho_form_scan_t  s[3];

    for (i = 0; i < 3; i++) {

        /* a cut that finds nothing to cut at is the first one again */
        if (i == NGX_HTTP_SEKISHO_SPLIT_QS
            && !ngx_http_sekisho_has_bracket_eq(data, len))
        {
            s[i] = s[0];
            continue;
        }

        if (i == NGX_HTTP_SEKISHO_SPLIT_SEMI
            && ngx_strlchr(data, data + len, ';') == NULL)
        {
            s[i] = s[0];
            continue;
        }

        if (ngx_http_sekisho_form_scan(&f->field, data, len, buf, i, &s[i])
            != NGX_OK)
        {
            f->why = "malformed percent-encoding";
            return NGX_ERROR;
        }

        if (s[i].fields > NGX_HTTP_SEKISHO_ACCOUNT_FIELDS) {
            f->why = "too many fields";
            return NGX_ERROR;
        }

        if (s[i].count > 1) {
            f->why = "the account field more than once";
            return NGX_ERROR;
        }
    }

    for (i = 1; i < 3; i++) {
        if (s[i].count != s[0].count
            || (s[0].count
                && (s[i].value != s[0].value || s[i].len != s[0].len)))
        {
            f->why = "fields cut differently by \"&\", \";\" or \"]=\"";
            return NGX_ERROR;
        }
    }

    if (s[0].count == 0) {
        return NGX_OK;
    }

    if (ngx_http_sekisho_unescape_form(s[0].value, s[0].len, buf, &vlen)
        != NGX_OK)
    {
        f->why = "malformed percent-encoding";
        return NGX_ERROR;
    }

    return ngx_http_sekisho_account_add(f, buf, vlen);
}


static ngx_uint_t
ngx_http_sekisho_has_bracket_eq(u_char *p, size_t len)
{
    u_char  *end;

    for (end = p + len; p + 1 < end; p++) {
        if (p[0] == ']' && p[1] == '=') {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_sekisho_form_scan(ngx_str_t *field, u_char *data, size_t len,
    u_char *buf, ngx_uint_t split, ngx_http_sekisho_form_scan_t *s)
{
    u_char  *p, *end, *last, *eq, *be;
    size_t   klen;

    ngx_memzero(s, sizeof(ngx_http_sekisho_form_scan_t));

    p = data;
    end = data + len;

    while (p < end) {

        for (last = p; last < end; last++) {
            if (*last == '&'
                || (*last == ';' && split == NGX_HTTP_SEKISHO_SPLIT_SEMI))
            {
                break;
            }
        }

        if (last == p) {
            p = last + 1;
            continue;
        }

        s->fields++;

        eq = ngx_strlchr(p, last, '=');

        if (split == NGX_HTTP_SEKISHO_SPLIT_QS) {
            /* qs: "a[b=c]=d" is the key "a[b=c]" */
            for (be = p; be + 1 < last; be++) {
                if (be[0] == ']' && be[1] == '=') {
                    eq = be + 1;
                    break;
                }
            }
        }

        if (ngx_http_sekisho_unescape_form(p, (eq ? eq : last) - p, buf,
                                           &klen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_account_field_is(buf, klen, field)) {
            s->count++;
            s->value = eq ? eq + 1 : last;
            s->len = eq ? (size_t) (last - eq - 1) : 0;
        }

        p = last + 1;
    }

    return NGX_OK;
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

        hi = ngx_http_sekisho_hex_value(src[1]);
        lo = ngx_http_sekisho_hex_value(src[2]);

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
ngx_http_sekisho_account_add(ngx_http_sekisho_account_find_t *f,
    u_char *value, size_t len)
{
    if (f->found++) {
        f->why = "the account field more than once";
        return NGX_ERROR;
    }

    f->value.data = value;
    f->value.len = len;

    return NGX_OK;
}


/*
 * A Cookie header's value (RFC 6265: pairs cut at ";").  PHP's
 * $_REQUEST (when request_order holds "C", or php.ini sets none) and
 * ASP.NET's Request[] read cookies with the form, a cookie overriding
 * the body; so a cookie named as the account field is one more place
 * for the id.  Its value must read the same decoded or not, and every
 * such cookie must say the same: "f" keeps the value once, not a count.
 */

ngx_int_t
ngx_http_sekisho_account_cookie(ngx_http_sekisho_account_find_t *f,
    u_char *data, size_t len, u_char *buf)
{
    u_char  *p, *end, *last, *eq, *v, *vend;
    size_t   klen;

    p = data;
    end = data + len;

    while (p < end) {
        last = ngx_strlchr(p, end, ';');
        if (last == NULL) {
            last = end;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        eq = ngx_strlchr(p, last, '=');

        if (eq == NULL
            || ngx_http_sekisho_unescape_form(p, eq - p, buf, &klen) != NGX_OK
            || !ngx_http_sekisho_account_field_is(buf, klen, &f->field))
        {
            p = last + 1;
            continue;
        }

        v = eq + 1;
        vend = last;

        while (v < vend && (*v == ' ' || *v == '\t')) {
            v++;
        }

        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
            vend--;
        }

        /* PHP decodes "%" and "+" in a cookie, others do not */
        if (ngx_strlchr(v, vend, '%') || ngx_strlchr(v, vend, '+')
            || ngx_strlchr(v, vend, '"') || ngx_strlchr(v, vend, '\\'))
        {
            f->why = "a cookie of the account field that reads two ways";
            return NGX_ERROR;
        }

        if (f->found
            && ((size_t) (vend - v) != f->value.len
                || ngx_memcmp(v, f->value.data, f->value.len) != 0))
        {
            f->why = "cookies of the account field that disagree";
            return NGX_ERROR;
        }

        f->found = 1;
        f->value.data = v;
        f->value.len = vend - v;

        p = last + 1;
    }

    return NGX_OK;
}


/*
 * A JSON object: keys are compared after unescaping ("login\u005fid"
 * is login_id) and without regard to case (ASP.NET's binder).  A
 * number is taken only as a plain integer that every language prints
 * back the same way: 1e2, 100.0 and 100 are one number to JavaScript.
 */

ngx_int_t
ngx_http_sekisho_account_json(ngx_http_sekisho_account_find_t *f,
    u_char *body, size_t len, u_char *buf)
{
    size_t                          i;
    ngx_http_sekisho_json_member_t  m;

    if (ngx_http_sekisho_json_member(body, len, &f->field, 1, &m, buf)
        != NGX_OK)
    {
        f->why = "malformed JSON";
        return NGX_ERROR;
    }

    if (m.count == 0) {
        return NGX_OK;
    }

    if (m.count > 1) {
        f->why = "the account field more than once";
        return NGX_ERROR;
    }

    switch (m.type) {

    case NGX_HTTP_SEKISHO_JSON_STRING:
        break;

    case NGX_HTTP_SEKISHO_JSON_NUMBER:
        if (m.value.len > 15 || (m.value.data[0] == '0' && m.value.len > 1)) {
            f->why = "a number not written as a plain integer";
            return NGX_ERROR;
        }

        for (i = 0; i < m.value.len; i++) {
            if (m.value.data[i] < '0' || m.value.data[i] > '9') {
                f->why = "a number not written as a plain integer";
                return NGX_ERROR;
            }
        }

        break;

    default:
        f->why = "the account field is not a string or a number";
        return NGX_ERROR;
    }

    return ngx_http_sekisho_account_add(f, m.value.data, m.value.len);
}


/*
 * multipart/form-data: a part's name is read as sent, percent-decoded
 * (as some parsers decode the browsers' "%22") and from "name*"; any
 * reading that is the account field makes it the account field.
 */

ngx_int_t
ngx_http_sekisho_account_multipart(ngx_http_sekisho_account_find_t *f,
    u_char *body, size_t len, ngx_str_t *boundary, u_char *buf)
{
    u_char                         name[NGX_HTTP_SEKISHO_ACCOUNT_IN_MAX];
    size_t                         n;
    ngx_int_t                      rc;
    ngx_uint_t                     named;
    ngx_http_sekisho_part_t        part;
    ngx_http_sekisho_multipart_t   mp;

    if (ngx_http_sekisho_multipart_init(&mp, body, len, boundary)
        != NGX_OK)
    {
        f->why = "a bad multipart boundary";
        return NGX_ERROR;
    }

    for ( ;; ) {
        rc = ngx_http_sekisho_multipart_next(&mp, &part, buf);

        if (rc == NGX_DONE) {
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            f->why = "malformed or ambiguous multipart body";
            return NGX_ERROR;
        }

        named = ngx_http_sekisho_account_field_is(part.name.data,
                                                  part.name.len, &f->field)
                || ngx_http_sekisho_account_field_is(part.name_ext.data,
                                                     part.name_ext.len,
                                                     &f->field);

        if (!named && ngx_strlchr(part.name.data,
                                  part.name.data + part.name.len, '%'))
        {
            if (part.name.len > sizeof(name)) {
                f->why = "an overlong percent-encoded part name";
                return NGX_ERROR;
            }

            if (ngx_http_sekisho_unescape_form(part.name.data, part.name.len,
                                               name, &n)
                == NGX_OK)
            {
                named = ngx_http_sekisho_account_field_is(name, n,
                                                          &f->field);
            }
        }

        if (!named) {
            continue;
        }

        if (part.file) {
            f->why = "a file named as the account field";
            return NGX_ERROR;
        }

        if (!ngx_http_sekisho_part_plain(&part)) {
            f->why = "the account part has a transfer encoding or type";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_account_add(f, part.value.data, part.value.len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }
}


/* only a part that every parser reads as its plain bytes */

static ngx_uint_t
ngx_http_sekisho_part_plain(ngx_http_sekisho_part_t *part)
{
    u_char                    buf[128];
    ngx_http_sekisho_media_t  m;

    if (part->transfer_encoding.len
        && !ngx_http_sekisho_is(part->transfer_encoding.data,
                                part->transfer_encoding.len, "7bit")
        && !ngx_http_sekisho_is(part->transfer_encoding.data,
                                part->transfer_encoding.len, "8bit")
        && !ngx_http_sekisho_is(part->transfer_encoding.data,
                                part->transfer_encoding.len, "binary"))
    {
        return 0;
    }

    if (part->content_type.len == 0) {
        return 1;
    }

    /* text/plain, with a charset of UTF-8 if any */
    return part->content_type.len <= sizeof(buf)
           && ngx_http_sekisho_media_type(&part->content_type, &m, buf)
              == NGX_OK
           && m.type == NGX_HTTP_SEKISHO_MEDIA_TEXT;
}


/*
 * Trim Unicode white space (Python's str.strip() and JavaScript's
 * trim() both), NFKC and case folding (NFKC_Casefold), then each code
 * point through upper and lower case as Java's equalsIgnoreCase does
 * ("ı" meets "i"), NFKC_Casefold again, and trim again.
 */

ngx_int_t
ngx_http_sekisho_account_normalize(u_char *in, size_t len, u_char *out,
    size_t *outlen, ngx_uint_t ascii)
{
    u_char            *start, *end, *p, tmp[NGX_HTTP_SEKISHO_ACCOUNT_IN_MAX];
    size_t             n;
    utf8proc_ssize_t   r;
    utf8proc_int32_t   cp, cps[NGX_HTTP_SEKISHO_ACCOUNT_CPS];

    if (len > NGX_HTTP_SEKISHO_ACCOUNT_IN_MAX) {
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_utf8_string(in, in + len) != NGX_OK) {
        return NGX_ERROR;
    }

    start = in;
    end = in + len;
    ngx_http_sekisho_trim(&start, &end);

    if (ngx_http_sekisho_printable_ascii(start, end - start)) {
        /*
         * NFKC leaves printable ASCII as it is, and case folding and
         * Java's fold both only lower its capitals: the same answer
         * without the tables, which most ids need
         */
        n = end - start;

        if (n == 0) {
            return NGX_DECLINED;
        }

        if (n > NGX_HTTP_SEKISHO_ACCOUNT_MAX) {
            return NGX_ERROR;
        }

        for (p = start; p < end; p++) {
            *out++ = ngx_tolower(*p);
        }

        *outlen = n;

        return NGX_OK;
    }

    if (ngx_http_sekisho_nfkc_cf(start, end - start, cps, NULL, &n)
        != NGX_OK
        || n > sizeof(tmp))
    {
        return NGX_ERROR;
    }

    ngx_memcpy(tmp, cps, n);

    if (ngx_http_sekisho_nfkc_cf(tmp, n, cps, ngx_http_sekisho_fold_case, &n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    start = (u_char *) cps;
    end = start + n;
    ngx_http_sekisho_trim(&start, &end);

    n = end - start;

    if (n == 0) {
        return NGX_DECLINED;
    }

    if (n > NGX_HTTP_SEKISHO_ACCOUNT_MAX) {
        return NGX_ERROR;
    }

    for (p = start; p < end; p += r) {
        if (ascii && *p >= 0x80) {
            return NGX_ERROR;
        }

        r = utf8proc_iterate(p, end - p, &cp);

        if (r <= 0 || utf8proc_category(cp) == UTF8PROC_CATEGORY_CC) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(out, start, n);
    *outlen = n;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_sekisho_printable_ascii(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/* NFKC_Casefold of valid UTF-8 into "cps", re-encoded as UTF-8 there */

static ngx_int_t
ngx_http_sekisho_nfkc_cf(u_char *in, size_t len, utf8proc_int32_t *cps,
    utf8proc_custom_func fold, size_t *outlen)
{
    utf8proc_ssize_t  n;

    n = utf8proc_decompose_custom(in, len, cps,
                                  NGX_HTTP_SEKISHO_ACCOUNT_CPS - 1,
                                  NGX_HTTP_SEKISHO_NFKC_CF, fold, NULL);

    /* more code points than the buffer holds: far too long an id */
    if (n < 0 || n > NGX_HTTP_SEKISHO_ACCOUNT_CPS - 1) {
        return NGX_ERROR;
    }

    n = utf8proc_reencode(cps, n, NGX_HTTP_SEKISHO_NFKC_CF);
    if (n < 0) {
        return NGX_ERROR;
    }

    *outlen = n;

    return NGX_OK;
}


static utf8proc_int32_t
ngx_http_sekisho_fold_case(utf8proc_int32_t cp, void *data)
{
    return utf8proc_tolower(utf8proc_toupper(cp));
}


/*
 * Python's isspace(): category Zs, or bidirectional class WS, B or S;
 * JavaScript's trim() adds U+FEFF; U+180E was white space to both once.
 */

static ngx_uint_t
ngx_http_sekisho_is_space(utf8proc_int32_t cp)
{
    const utf8proc_property_t  *prop;

    if (cp == 0xfeff || cp == 0x180e) {
        return 1;
    }

    prop = utf8proc_get_property(cp);

    return prop->category == UTF8PROC_CATEGORY_ZS
           || prop->category == UTF8PROC_CATEGORY_ZL
           || prop->category == UTF8PROC_CATEGORY_ZP
           || prop->bidi_class == UTF8PROC_BIDI_CLASS_WS
           || prop->bidi_class == UTF8PROC_BIDI_CLASS_B
           || prop->bidi_class == UTF8PROC_BIDI_CLASS_S;
}


/* over valid UTF-8 */

static void
ngx_http_sekisho_trim(u_char **start, u_char **end)
{
    u_char            *p, *q;
    utf8proc_ssize_t   n;
    utf8proc_int32_t   cp;

    p = *start;

    while (p < *end) {
        n = utf8proc_iterate(p, *end - p, &cp);
        if (n <= 0 || !ngx_http_sekisho_is_space(cp)) {
            break;
        }

        p += n;
    }

    *start = p;

    while (*end > p) {
        /* the start of the last character */
        for (q = *end - 1; q > p && (*q & 0xc0) == 0x80; q--) {
            /* void */
        }

        n = utf8proc_iterate(q, *end - q, &cp);
        if (n <= 0 || !ngx_http_sekisho_is_space(cp)) {
            break;
        }

        *end = q;
    }
}


size_t
ngx_http_sekisho_account_escape(u_char *dst, ngx_str_t *id)
{
    u_char      c, *d;
    ngx_uint_t  i;

    static const u_char  hex[] = "0123456789ABCDEF";

    d = dst;

    for (i = 0; i < id->len; i++) {
        c = id->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~' || c == '@')
        {
            *d++ = c;
            continue;
        }

        *d++ = '%';
        *d++ = hex[c >> 4];
        *d++ = hex[c & 0x0f];
    }

    return d - dst;
}
