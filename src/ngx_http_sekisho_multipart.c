
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_multipart.h"
#include "ngx_http_sekisho_text.h"


/* RFC 2046's longest boundary */
#define NGX_HTTP_SEKISHO_MULTIPART_BOUNDARY      70

/*
 * Rack 3 ignores a Content-Disposition longer than 1536 bytes and the
 * parameters after the 16th; well below both, it reads what we read.
 */
#define NGX_HTTP_SEKISHO_MULTIPART_DISPOSITION   1024
#define NGX_HTTP_SEKISHO_MULTIPART_PARAMS        8

#define NGX_HTTP_SEKISHO_MULTIPART_START         0
#define NGX_HTTP_SEKISHO_MULTIPART_PART          1
#define NGX_HTTP_SEKISHO_MULTIPART_DONE          2
#define NGX_HTTP_SEKISHO_MULTIPART_ERROR         3

/* headers and parameters seen in one part */
#define NGX_HTTP_SEKISHO_MULTIPART_DISP          0x01
#define NGX_HTTP_SEKISHO_MULTIPART_TYPE          0x02
#define NGX_HTTP_SEKISHO_MULTIPART_CTE           0x04

#define NGX_HTTP_SEKISHO_MULTIPART_NAME          0x01
#define NGX_HTTP_SEKISHO_MULTIPART_NAME_EXT      0x02
#define NGX_HTTP_SEKISHO_MULTIPART_FILENAME      0x04
#define NGX_HTTP_SEKISHO_MULTIPART_FILENAME_EXT  0x08


static ngx_int_t ngx_http_sekisho_multipart_part(
    ngx_http_sekisho_multipart_t *mp, ngx_http_sekisho_part_t *part,
    u_char *buf);
static u_char *ngx_http_sekisho_multipart_find(u_char *p, u_char *end,
    u_char *pat, size_t n);
static ngx_int_t ngx_http_sekisho_multipart_headers(u_char *p, u_char *last,
    ngx_http_sekisho_part_t *part, u_char *buf, u_char **value);
static ngx_uint_t ngx_http_sekisho_multipart_misplaced(u_char *line,
    u_char *colon);
static ngx_int_t ngx_http_sekisho_multipart_disposition(u_char *p,
    u_char *end, ngx_http_sekisho_part_t *part, u_char *buf);
static ngx_int_t ngx_http_sekisho_multipart_param(u_char *name, size_t n,
    ngx_uint_t *bit);
static ngx_int_t ngx_http_sekisho_multipart_ext_value(u_char *p,
    u_char *end, u_char *dst, size_t *len);
static ngx_uint_t ngx_http_sekisho_multipart_bchar(u_char c);
static ngx_uint_t ngx_http_sekisho_multipart_attr_char(u_char c);
static ngx_uint_t ngx_http_sekisho_multipart_alnum(u_char c);
static ngx_uint_t ngx_http_sekisho_multipart_is(u_char *p, size_t len,
    char *lower);


ngx_int_t
ngx_http_sekisho_multipart_init(ngx_http_sekisho_multipart_t *mp,
    u_char *body, size_t len, ngx_str_t *boundary)
{
    size_t  i;

    ngx_memzero(mp, sizeof(ngx_http_sekisho_multipart_t));

    mp->state = NGX_HTTP_SEKISHO_MULTIPART_ERROR;

    if (boundary->len == 0
        || boundary->len > NGX_HTTP_SEKISHO_MULTIPART_BOUNDARY
        || boundary->data[boundary->len - 1] == ' ')
    {
        return NGX_ERROR;
    }

    for (i = 0; i < boundary->len; i++) {
        if (!ngx_http_sekisho_multipart_bchar(boundary->data[i])) {
            return NGX_ERROR;
        }
    }

    if (body == NULL && len) {
        return NGX_ERROR;
    }

    mp->pos = body;
    mp->end = body ? body + len : body;
    mp->boundary = *boundary;
    mp->state = NGX_HTTP_SEKISHO_MULTIPART_START;

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_multipart_next(ngx_http_sekisho_multipart_t *mp,
    ngx_http_sekisho_part_t *part, u_char *buf)
{
    ngx_memzero(part, sizeof(ngx_http_sekisho_part_t));

    switch (mp->state) {

    case NGX_HTTP_SEKISHO_MULTIPART_DONE:
        return NGX_DONE;

    case NGX_HTTP_SEKISHO_MULTIPART_START:
    case NGX_HTTP_SEKISHO_MULTIPART_PART:
        break;

    default:
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_multipart_part(mp, part, buf) != NGX_OK) {
        ngx_memzero(part, sizeof(ngx_http_sekisho_part_t));
        mp->state = NGX_HTTP_SEKISHO_MULTIPART_ERROR;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The first occurrence of "--boundary" after the part's start must be
 * its delimiter: CRLF before it, CRLF or "--" after it.  Lax parsers
 * split on a bare LF, on the boundary in mid-line or as a prefix of a
 * longer line, so any other occurrence is an error, and no occurrence
 * can be skipped.
 */

static ngx_int_t
ngx_http_sekisho_multipart_part(ngx_http_sekisho_multipart_t *mp,
    ngx_http_sekisho_part_t *part, u_char *buf)
{
    u_char      *p, *q, *value, pat[2 + NGX_HTTP_SEKISHO_MULTIPART_BOUNDARY];
    size_t       n;
    ngx_uint_t   last;

    n = 2 + mp->boundary.len;

    pat[0] = '-';
    pat[1] = '-';
    ngx_memcpy(pat + 2, mp->boundary.data, mp->boundary.len);

    if (mp->state == NGX_HTTP_SEKISHO_MULTIPART_START) {

        /* no preamble: some parsers take the parts they find in one */
        if ((size_t) (mp->end - mp->pos) < n + 2
            || ngx_memcmp(mp->pos, pat, n) != 0
            || mp->pos[n] != CR || mp->pos[n + 1] != LF)
        {
            return NGX_ERROR;
        }

        mp->pos += n + 2;
        mp->state = NGX_HTTP_SEKISHO_MULTIPART_PART;
    }

    if (mp->parts == NGX_HTTP_SEKISHO_MULTIPART_PARTS) {
        return NGX_ERROR;
    }

    q = ngx_http_sekisho_multipart_find(mp->pos, mp->end, pat, n);

    if (q == NULL || q - mp->pos < 2 || q[-2] != CR || q[-1] != LF) {
        return NGX_ERROR;
    }

    p = q + n;

    if (mp->end - p < 2) {
        return NGX_ERROR;
    }

    if (p[0] == CR && p[1] == LF) {
        last = 0;

    } else if (p[0] == '-' && p[1] == '-') {
        last = 1;

        /* no epilogue: some parsers go on reading parts after it */
        if (p + 2 != mp->end
            && (mp->end - p != 4 || p[2] != CR || p[3] != LF))
        {
            return NGX_ERROR;
        }

    } else {
        /* transport padding, or the boundary as a prefix */
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_multipart_headers(mp->pos, q - 2, part, buf, &value)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part->value.data = value;
    part->value.len = q - 2 - value;

    mp->parts++;

    if (last) {
        mp->pos = mp->end;
        mp->state = NGX_HTTP_SEKISHO_MULTIPART_DONE;

    } else {
        mp->pos = p + 2;
    }

    return NGX_OK;
}


/* Knuth-Morris-Pratt: linear even for a boundary of dashes */

static u_char *
ngx_http_sekisho_multipart_find(u_char *p, u_char *end, u_char *pat,
    size_t n)
{
    size_t  i, j, fail[2 + NGX_HTTP_SEKISHO_MULTIPART_BOUNDARY];

    fail[0] = 0;
    j = 0;

    for (i = 1; i < n; i++) {

        while (j > 0 && pat[i] != pat[j]) {
            j = fail[j - 1];
        }

        if (pat[i] == pat[j]) {
            j++;
        }

        fail[i] = j;
    }

    j = 0;

    for ( /* void */ ; p < end; p++) {

        while (j > 0 && *p != pat[j]) {
            j = fail[j - 1];
        }

        if (*p == pat[j]) {
            j++;
        }

        if (j == n) {
            return p + 1 - n;
        }
    }

    return NULL;
}


/*
 * The header section, [p, last): lines ending in CRLF up to an empty
 * one, which must come before the CRLF of the delimiter.  Bare CR and
 * LF, folding and control characters are errors: parsers treat them
 * in different ways.
 */

static ngx_int_t
ngx_http_sekisho_multipart_headers(u_char *p, u_char *last,
    ngx_http_sekisho_part_t *part, u_char *buf, u_char **value)
{
    u_char      *start, *eol, *colon, *h, *v, *ve;
    ngx_uint_t   seen;

    start = p;
    seen = 0;

    for ( ;; ) {
        colon = NULL;

        for (eol = p; eol < last && *eol != CR; eol++) {

            if ((*eol < 0x20 && *eol != '\t') || *eol == 0x7f) {
                return NGX_ERROR;
            }

            if (*eol == ':') {

                if (ngx_http_sekisho_multipart_misplaced(p, eol)) {
                    return NGX_ERROR;
                }

                if (colon == NULL) {
                    colon = eol;
                }
            }
        }

        if (last - eol < 2 || eol[1] != LF) {
            return NGX_ERROR;
        }

        if ((size_t) (eol + 2 - start) > NGX_HTTP_SEKISHO_MULTIPART_HEADERS) {
            return NGX_ERROR;
        }

        if (eol == p) {
            break;
        }

        /* obsolete line folding */
        if (*p == ' ' || *p == '\t' || colon == NULL || colon == p) {
            return NGX_ERROR;
        }

        for (h = p; h < colon; h++) {
            if (!ngx_http_sekisho_token_char(*h)) {
                return NGX_ERROR;
            }
        }

        v = colon + 1;
        ve = eol;

        while (v < ve && (*v == ' ' || *v == '\t')) {
            v++;
        }

        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }

        if (ngx_http_sekisho_multipart_is(p, colon - p,
                                          "content-disposition"))
        {
            if ((seen & NGX_HTTP_SEKISHO_MULTIPART_DISP)
                || eol - colon - 1 > NGX_HTTP_SEKISHO_MULTIPART_DISPOSITION
                || ngx_http_sekisho_multipart_disposition(v, ve, part, buf)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            seen |= NGX_HTTP_SEKISHO_MULTIPART_DISP;

        } else if (ngx_http_sekisho_multipart_is(p, colon - p,
                                                 "content-type"))
        {
            if (seen & NGX_HTTP_SEKISHO_MULTIPART_TYPE) {
                return NGX_ERROR;
            }

            seen |= NGX_HTTP_SEKISHO_MULTIPART_TYPE;
            part->content_type.data = v;
            part->content_type.len = ve - v;

        } else if (ngx_http_sekisho_multipart_is(p, colon - p,
                                                 "content-transfer-encoding"))
        {
            if (seen & NGX_HTTP_SEKISHO_MULTIPART_CTE) {
                return NGX_ERROR;
            }

            seen |= NGX_HTTP_SEKISHO_MULTIPART_CTE;
            part->transfer_encoding.data = v;
            part->transfer_encoding.len = ve - v;
        }

        /* other headers change nothing anyone reads */

        p = eol + 2;
    }

    if (!(seen & NGX_HTTP_SEKISHO_MULTIPART_DISP)) {
        return NGX_ERROR;
    }

    *value = eol + 2;

    return NGX_OK;
}


/*
 * Rack 2 finds "Content-Disposition:" (and the others) anywhere in the
 * header section, even inside another header's value or at the end of
 * a longer name, and takes the first; PHP splits a line longer than
 * its buffer into two.  Such a name is only allowed at a line's start.
 */

static ngx_uint_t
ngx_http_sekisho_multipart_misplaced(u_char *line, u_char *colon)
{
    size_t       n;
    ngx_uint_t   i;

    static char  *names[] = {
        "content-disposition",
        "content-type",
        "content-transfer-encoding",
        "content-id"
    };

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        n = ngx_strlen(names[i]);

        if ((size_t) (colon - line) > n
            && ngx_http_sekisho_multipart_is(colon - n, n, names[i]))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * "form-data" *( OWS ";" OWS name "=" ( token / quoted-string ) ).
 * Stricter than RFC 7578 where parsers disagree:
 *
 *   - no white space around "=" (Werkzeug then skips the parameter
 *     and finds "; name=" inside a later quoted string);
 *   - no white space between a token value and ";" (Rack keeps it);
 *   - no "'" outside an extended value (PHP quotes with it);
 *   - no "\", ";", "=" or ":" inside a quoted string (escapes differ;
 *     Rack 2 finds "; name=" by a regular expression that stops at
 *     ":", and Rack 1 cut a name at ";");
 *   - "name", "name*", "filename", "filename*" in lower case only (Rack
 *     3 compares them so), each at most once, no RFC 2231 continuations
 *     ("name*0", which Werkzeug joins), and "filename*" only with
 *     "filename" (Rack 3 ignores "filename*" and reads a field);
 *   - an empty name is an error (Rack names such a part after its
 *     Content-Type).
 */

static ngx_int_t
ngx_http_sekisho_multipart_disposition(u_char *p, u_char *end,
    ngx_http_sekisho_part_t *part, u_char *buf)
{
    u_char      *name, *v, *ve, *ws;
    size_t       len;
    ngx_uint_t   seen, params, bit, quoted;

    for (v = p; p < end && ngx_http_sekisho_token_char(*p); p++) {
        /* void */
    }

    if (!ngx_http_sekisho_multipart_is(v, p - v, "form-data")) {
        return NGX_ERROR;
    }

    seen = 0;
    params = 0;
    quoted = 1;

    for ( ;; ) {
        ws = p;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end) {
            break;
        }

        if (*p != ';' || (p != ws && !quoted)) {
            return NGX_ERROR;
        }

        p++;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        for (name = p;
             p < end && ngx_http_sekisho_token_char(*p) && *p != '\'';
             p++)
        {
            /* void */
        }

        if (p == name || p == end || *p != '=') {
            return NGX_ERROR;
        }

        if (++params > NGX_HTTP_SEKISHO_MULTIPART_PARAMS) {
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_multipart_param(name, p - name, &bit)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (bit & seen) {
            return NGX_ERROR;
        }

        seen |= bit;
        p++;

        if (p < end && *p == '"') {
            quoted = 1;

            for (v = ++p; p < end && *p != '"'; p++) {
                if (*p == '\\' || *p == ';' || *p == '=' || *p == ':'
                    || *p < 0x20 || *p == 0x7f)
                {
                    return NGX_ERROR;
                }
            }

            if (p == end) {
                return NGX_ERROR;
            }

            ve = p++;

        } else {
            quoted = 0;

            for (v = p; p < end && ngx_http_sekisho_token_char(*p); p++)
            {
                /* void */
            }

            ve = p;

            if (v == ve) {
                return NGX_ERROR;
            }

            if (!(bit & (NGX_HTTP_SEKISHO_MULTIPART_NAME_EXT
                         |NGX_HTTP_SEKISHO_MULTIPART_FILENAME_EXT))
                && ngx_strlchr(v, ve, '\''))
            {
                return NGX_ERROR;
            }
        }

        switch (bit) {

        case NGX_HTTP_SEKISHO_MULTIPART_NAME:
            if (v == ve) {
                return NGX_ERROR;
            }

            part->name.data = v;
            part->name.len = ve - v;
            break;

        case NGX_HTTP_SEKISHO_MULTIPART_NAME_EXT:
        case NGX_HTTP_SEKISHO_MULTIPART_FILENAME_EXT:

            /* an extended value is never quoted (RFC 8187) */
            if (quoted
                || ngx_http_sekisho_multipart_ext_value(v, ve, buf, &len)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (bit == NGX_HTTP_SEKISHO_MULTIPART_NAME_EXT) {
                if (len == 0) {
                    return NGX_ERROR;
                }

                part->name_ext.data = buf;
                part->name_ext.len = len;

            } else {
                part->file = 1;
            }

            /* decoded values are never longer than their encoding */
            buf += len;
            break;

        case NGX_HTTP_SEKISHO_MULTIPART_FILENAME:
            part->file = 1;
            break;

        default: /* 0, another parameter */
            break;
        }
    }

    if (!(seen & NGX_HTTP_SEKISHO_MULTIPART_NAME)
        || ((seen & NGX_HTTP_SEKISHO_MULTIPART_FILENAME_EXT)
            && !(seen & NGX_HTTP_SEKISHO_MULTIPART_FILENAME)))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_multipart_param(u_char *name, size_t n, ngx_uint_t *bit)
{
    ngx_uint_t  i;

    static struct {
        char        *name;
        ngx_uint_t   bit;
    } known[] = {
        { "name", NGX_HTTP_SEKISHO_MULTIPART_NAME },
        { "name*", NGX_HTTP_SEKISHO_MULTIPART_NAME_EXT },
        { "filename", NGX_HTTP_SEKISHO_MULTIPART_FILENAME },
        { "filename*", NGX_HTTP_SEKISHO_MULTIPART_FILENAME_EXT }
    };

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {

        if (ngx_http_sekisho_multipart_is(name, n, known[i].name)) {

            if (ngx_memcmp(name, known[i].name, n) != 0) {
                return NGX_ERROR;
            }

            *bit = known[i].bit;
            return NGX_OK;
        }
    }

    if ((n > 5 && ngx_http_sekisho_multipart_is(name, 5, "name*"))
        || (n > 9 && ngx_http_sekisho_multipart_is(name, 9, "filename*")))
    {
        return NGX_ERROR;
    }

    *bit = 0;

    return NGX_OK;
}


/*
 * RFC 8187: charset "'" [ language ] "'" value-chars, in UTF-8 or
 * ISO-8859-1 (made UTF-8), percent-decoded into "dst".  Invalid UTF-8
 * and control characters are errors: parsers replace or keep them.
 */

static ngx_int_t
ngx_http_sekisho_multipart_ext_value(u_char *p, u_char *end, u_char *dst,
    size_t *len)
{
    u_char      *cs, *d, c;
    ngx_int_t    hi, lo;
    ngx_uint_t   latin1;

    cs = p;
    p = ngx_strlchr(p, end, '\'');

    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_multipart_is(cs, p - cs, "utf-8")) {
        latin1 = 0;

    } else if (ngx_http_sekisho_multipart_is(cs, p - cs, "iso-8859-1")) {
        latin1 = 1;

    } else {
        return NGX_ERROR;
    }

    /* the language, ignored by everyone */
    for (p++; p < end && *p != '\''; p++) {
        if (!ngx_http_sekisho_multipart_alnum(*p) && *p != '-') {
            return NGX_ERROR;
        }
    }

    if (p == end) {
        return NGX_ERROR;
    }

    d = dst;

    for (p++; p < end; /* void */) {

        if (*p == '%') {

            if (end - p < 3) {
                return NGX_ERROR;
            }

            hi = ngx_http_sekisho_hex_value(p[1]);
            lo = ngx_http_sekisho_hex_value(p[2]);

            if (hi == NGX_ERROR || lo == NGX_ERROR) {
                return NGX_ERROR;
            }

            c = (u_char) ((hi << 4) | lo);
            p += 3;

        } else if (ngx_http_sekisho_multipart_attr_char(*p)) {
            c = *p++;

        } else {
            return NGX_ERROR;
        }

        if (c < 0x20 || c == 0x7f) {
            return NGX_ERROR;
        }

        if (latin1 && c >= 0x80) {
            *d++ = (u_char) (0xc0 | (c >> 6));
            *d++ = (u_char) (0x80 | (c & 0x3f));

        } else {
            *d++ = c;
        }
    }

    if (!latin1 && ngx_http_sekisho_utf8_string(dst, d) != NGX_OK) {
        return NGX_ERROR;
    }

    *len = d - dst;

    return NGX_OK;
}


/* RFC 2046's bchars */

static ngx_uint_t
ngx_http_sekisho_multipart_bchar(u_char c)
{
    return ngx_http_sekisho_multipart_alnum(c)
           || (c != '\0' && ngx_strchr("'()+_,-./:=? ", c) != NULL);
}


/* RFC 8187's attr-char */

static ngx_uint_t
ngx_http_sekisho_multipart_attr_char(u_char c)
{
    return ngx_http_sekisho_multipart_alnum(c)
           || (c != '\0' && ngx_strchr("!#$&+-.^_`|~", c) != NULL);
}


static ngx_uint_t
ngx_http_sekisho_multipart_alnum(u_char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z');
}


/* a case-insensitive comparison with a lower-case string */

static ngx_uint_t
ngx_http_sekisho_multipart_is(u_char *p, size_t len, char *lower)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (lower[i] == '\0' || ngx_tolower(p[i]) != (u_char) lower[i]) {
            return 0;
        }
    }

    return lower[len] == '\0';
}
