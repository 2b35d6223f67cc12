
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the strict multipart/form-data reader: bodies as
 * browsers and curl send them, and every body that two parsers could
 * read two ways, refused.
 *
 * uses: ngx_http_sekisho_multipart.c ngx_http_sekisho_text.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_multipart.h"
#include "tap.h"


/* the pieces of a body with the boundary "XyZ" */
#define B        "--XyZ\r\n"
#define D        "\r\n--XyZ\r\n"
#define E        "\r\n--XyZ--\r\n"
#define CD       "Content-Disposition: form-data; "
#define F(n, v)  CD "name=\"" n "\"\r\n\r\n" v


static char  result[8192];
static char  big[160 * 1024];


static void append(char *s, size_t n, ngx_uint_t escape);
static const char *parse(const char *body, size_t len, const char *boundary,
    ngx_int_t *parts);
static ngx_int_t parts_of(size_t len, const char *boundary);
static size_t build_parts(ngx_uint_t n);
static void test_good(void);
static void test_names(void);
static void test_boundary(void);
static void test_delimiters(void);
static void test_headers(void);
static void test_disposition(void);
static void test_ext_values(void);
static void test_prefixes(void);
static void test_limits(void);
static void test_state(void);


#define mp(body)        parse(body, sizeof(body) - 1, "XyZ", NULL)
#define mpb(body, b)    parse(body, sizeof(body) - 1, b, NULL)


static void
append(char *s, size_t n, ngx_uint_t escape)
{
    size_t  used, i;

    used = strlen(result);

    for (i = 0; i < n && used + 5 < sizeof(result); i++) {
        if (escape && s[i] == '\r') {
            used += snprintf(result + used, 5, "\\r");

        } else if (escape && s[i] == '\n') {
            used += snprintf(result + used, 5, "\\n");

        } else if (escape && ((u_char) s[i] < 0x20 || s[i] == 0x7f)) {
            used += snprintf(result + used, 5, "\\x%02x", (u_char) s[i]);

        } else {
            result[used++] = s[i];
            result[used] = '\0';
        }
    }
}


/*
 * The parts as name[*name_ext][ file][ ct=...][ cte=...]=value, joined
 * by "&"; "(error)" for NGX_ERROR, "(boundary)" for a refused boundary.
 */

static const char *
parse(const char *body, size_t len, const char *boundary, ngx_int_t *parts)
{
    u_char                        *copy, *buf;
    ngx_int_t                      rc, n;
    ngx_str_t                      b;
    ngx_http_sekisho_part_t        part;
    ngx_http_sekisho_multipart_t   m;

    /* private copies of the exact size, so that ASan sees any overrun */
    copy = malloc(len ? len : 1);
    buf = malloc(len ? len : 1);
    memcpy(copy, body, len);

    b.data = (u_char *) boundary;
    b.len = strlen(boundary);

    result[0] = '\0';
    n = 0;

    if (ngx_http_sekisho_multipart_init(&m, copy, len, &b) != NGX_OK) {
        append("(boundary)", 10, 0);
        n = -1;
        goto done;
    }

    for ( ;; ) {
        rc = ngx_http_sekisho_multipart_next(&m, &part, buf);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc != NGX_OK) {
            result[0] = '\0';
            append("(error)", 7, 0);
            n = -1;
            break;
        }

        if (part.value.data < copy || part.value.data > copy + len
            || part.value.len > (size_t) (copy + len - part.value.data)
            || part.name.data < copy
            || part.name.len > (size_t) (copy + len - part.name.data)
            || (part.name_ext.len
                && (part.name_ext.data < buf
                    || part.name_ext.len
                       > (size_t) (buf + len - part.name_ext.data))))
        {
            result[0] = '\0';
            append("(out of bounds)", 15, 0);
            n = -1;
            break;
        }

        if (n++) {
            append("&", 1, 0);
        }

        if (parts) {
            continue;
        }

        append((char *) part.name.data, part.name.len, 1);

        if (part.name_ext.len) {
            append("*", 1, 0);
            append((char *) part.name_ext.data, part.name_ext.len, 1);
        }

        if (part.file) {
            append(" file", 5, 0);
        }

        if (part.content_type.len) {
            append(" ct=", 4, 0);
            append((char *) part.content_type.data, part.content_type.len, 1);
        }

        if (part.transfer_encoding.len) {
            append(" cte=", 5, 0);
            append((char *) part.transfer_encoding.data,
                   part.transfer_encoding.len, 1);
        }

        append("=", 1, 0);
        append((char *) part.value.data, part.value.len, 1);
    }

done:

    if (parts) {
        *parts = n;
    }

    free(copy);
    free(buf);

    return result;
}


/* the number of parts of the body in "big", or -1 */

static ngx_int_t
parts_of(size_t len, const char *boundary)
{
    ngx_int_t  n;

    (void) parse(big, len, boundary, &n);

    return n;
}


/* "n" parts named "a" into "big" */

static size_t
build_parts(ngx_uint_t n)
{
    size_t      len;
    ngx_uint_t  i;

    len = snprintf(big, sizeof(big), "--XyZ");

    for (i = 0; i < n; i++) {
        len += snprintf(big + len, sizeof(big) - len,
                        "\r\n" CD "name=\"a\"\r\n\r\n%u\r\n--XyZ",
                        (unsigned) i);
    }

    len += snprintf(big + len, sizeof(big) - len, "--\r\n");

    return len;
}


static void
test_good(void)
{
    is_str(mpb("------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
               "Content-Disposition: form-data; name=\"user\"\r\n"
               "\r\n"
               "alice\r\n"
               "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
               "Content-Disposition: form-data; name=\"password\"\r\n"
               "\r\n"
               "s3cret\r\n"
               "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n",
               "----WebKitFormBoundary7MA4YWxkTrZu0gW"),
           "user=alice&password=s3cret", "a browser's login form");

    is_str(mpb("--------------------------d74496d66958873e\r\n"
               "Content-Disposition: form-data; name=\"user\"\r\n"
               "\r\n"
               "bob\r\n"
               "--------------------------d74496d66958873e\r\n"
               "Content-Disposition: form-data; name=\"avatar\"; "
               "filename=\"me.png\"\r\n"
               "Content-Type: image/png\r\n"
               "\r\n"
               "\x89PNG\r\n\x1a\n\0\0\r\n"
               "--------------------------d74496d66958873e--\r\n",
               "------------------------d74496d66958873e"),
           "user=bob&avatar file ct=image/png=\x89PNG\\r\\n\\x1a\\n"
           "\\x00\\x00", "curl's form with a binary file part");

    is_str(mp(B F("user", "carol") D F("note", "") D F("x", "1") E),
           "user=carol&note=&x=1", "several parts, an empty value");

    is_str(mp(B F("t", "line 1\r\nline 2\r\n") D F("u", "\r\n") E),
           "t=line 1\\r\\nline 2\\r\\n&u=\\r\\n", "values containing CRLF");

    is_str(mp(B F("t", "--XyQ\r\n--Xy\r\n\r\n--\r\n-XyZ") E),
           "t=--XyQ\\r\\n--Xy\\r\\n\\r\\n--\\r\\n-XyZ",
           "near-delimiters inside a value");

    is_str(mp(B F("t", "a\rb\nc\r\r\n\n") E), "t=a\\rb\\nc\\r\\r\\n\\n",
           "bare CR and LF inside a value");

    is_str(mp(B F("user", "dave") "\r\n--XyZ--"), "user=dave",
           "no CRLF after the close delimiter");

    is_str(mp(B CD "name=\"f\"; filename=\"a.txt\"\r\n"
              "Content-Type:  text/plain; charset=UTF-8 \r\n"
              "Content-Transfer-Encoding:\tbinary\t\r\n"
              "\r\nhello" E),
           "f file ct=text/plain; charset=UTF-8 cte=binary=hello",
           "Content-Type and Content-Transfer-Encoding, trimmed");

    is_str(mp(B CD "name=\"f\"; filename=\"\"\r\n\r\n" E), "f file=",
           "an empty file");

    is_str(mp(B "X-Whatever: 1\r\n" CD "name=\"a\"\r\nX-Other:\r\n\r\nv" E),
           "a=v", "other headers ignored");

    is_str(mp(B CD "name=\"a\"; foo=bar; x=\"y z\"\r\n\r\nv" E), "a=v",
           "other parameters ignored");

    is_str(mpb("-- a()+_,-./:=?\r\n" F("a", "v")
               "\r\n-- a()+_,-./:=?--", " a()+_,-./:=?"),
           "a=v", "every bchar in the boundary");

    is_str(mpb("---\r\n" F("a", "-") "\r\n---\r\n" F("b", "--")
               "\r\n-----", "-"),
           "a=-&b=--", "a boundary of one dash");
}


static void
test_names(void)
{
    is_str(mp(B CD "name=user\r\n\r\nv" E), "user=v", "token name");
    is_str(mp(B CD "name=\"us er\"\r\n\r\nv" E), "us er=v", "quoted name");
    is_str(mp(B CD "name=\"\xe5\xb1\xb1\xe7\x94\xb0\"\r\n\r\nv" E),
           "\xe5\xb1\xb1\xe7\x94\xb0=v", "UTF-8 name kept as sent");
    is_str(mp(B CD "name=\"us%22er\"\r\n\r\nv" E), "us%22er=v",
           "percent sequences not decoded");
    is_str(mp(B CD "name=\"it's\"\r\n\r\nv" E), "it's=v",
           "apostrophe inside quotes");
    is_str(mp(B "content-disposition: form-data; name=a\r\n\r\nv" E),
           "a=v", "header name in lower case");
    is_str(mp(B "CONTENT-DISPOSITION: FORM-DATA; name=a\r\n\r\nv" E),
           "a=v", "header name and type in upper case");
    is_str(mp(B "Content-Disposition:form-data;name=a\r\n\r\nv" E),
           "a=v", "no white space at all");
    is_str(mp(B "Content-Disposition: \tform-data \t; \tname=\"a\" \t; "
              "filename=\"b\" \t\r\n\r\nv" E),
           "a file=v", "white space around ';' and at the ends");
    is_str(mp(B CD "filename=\"x\"; name=\"a\"\r\n\r\nv" E), "a file=v",
           "name after filename");

    is_str(mp(B CD "NAME=\"user\"\r\n\r\nv" E), "(error)",
           "NAME in upper case refused (Rack 3 reads no name)");
    is_str(mp(B CD "Name=user\r\n\r\nv" E), "(error)",
           "Name in mixed case refused");
    is_str(mp(B CD "name=a; FILENAME=\"x\"\r\n\r\nv" E), "(error)",
           "FILENAME refused (Rack 3 reads a field)");
}


static void
test_boundary(void)
{
    char  b[80];

    memset(b, 'b', 71);
    b[71] = '\0';
    is_str(parse("", 0, b, NULL), "(boundary)", "boundary of 71 refused");

    b[70] = '\0';
    snprintf(big, sizeof(big), "--%s\r\n" F("a", "v") "\r\n--%s--", b, b);
    is_str(parse(big, strlen(big), b, NULL), "a=v",
           "boundary of 70 accepted");

    is_str(mpb(B F("a", "v") E, ""), "(boundary)", "empty boundary");
    is_str(mpb(B F("a", "v") E, "Xy "), "(boundary)",
           "boundary ending in a space");
    is_str(mpb(B F("a", "v") E, "a\"b"), "(boundary)", "quote in boundary");
    is_str(mpb(B F("a", "v") E, "a;b"), "(boundary)",
           "semicolon in boundary");
    is_str(mpb(B F("a", "v") E, "a\tb"), "(boundary)", "tab in boundary");
    is_str(mpb(B F("a", "v") E, "a\xc3\xa9"), "(boundary)",
           "non-ASCII boundary");
    is_str(mpb(B F("a", "v") E, "a@b"), "(boundary)", "'@' in boundary");
}


static void
test_delimiters(void)
{
    is_str(mp(""), "(error)", "empty body");
    is_str(mp("preamble\r\n" B F("a", "v") E), "(error)", "preamble");
    is_str(mp("\r\n" B F("a", "v") E), "(error)", "CRLF preamble");
    is_str(mp("--XyZ--\r\n"), "(error)", "no parts at all");
    is_str(mp("--XyZ\n" F("a", "v") E), "(error)",
           "bare LF after the first delimiter");
    is_str(mp("--XyZ \r\n" F("a", "v") E), "(error)",
           "transport padding after the first delimiter");
    is_str(mp(B F("a", "v") "\r\n--XyZ \r\n" F("b", "w") E), "(error)",
           "transport padding (space)");
    is_str(mp(B F("a", "v") "\r\n--XyZ\t\r\n" F("b", "w") E), "(error)",
           "transport padding (tab)");
    is_str(mp(B F("a", "v") "\r\n--XyZ-- \r\n"), "(error)",
           "padding after the close delimiter");
    is_str(mp(B F("a", "v") "\r\n--XyZ--\r\nepilogue"), "(error)",
           "epilogue text");
    is_str(mp(B F("a", "v") "\r\n--XyZ--\r\n\r\n"), "(error)",
           "a second CRLF after the close delimiter");
    is_str(mp(B F("a", "v") "\r\n--XyZ--\r\n" F("b", "w") E), "(error)",
           "a part after the close delimiter");
    is_str(mp(B F("a", "v") "\n--XyZ\r\n" F("b", "w") E), "(error)",
           "bare LF delimiter");
    is_str(mp(B F("a", "v") "\r--XyZ\r\n" F("b", "w") E), "(error)",
           "bare CR delimiter");
    is_str(mp(B F("a", "v--XyZ\r\n" F("b", "w")) E), "(error)",
           "boundary in mid-line");
    is_str(mp(B F("a", "v") "\r\n--XyZX\r\n" F("b", "w") E), "(error)",
           "boundary as a prefix of a longer line");
    is_str(mp(B F("a", "v") "\r\n--XyZ-x" E), "(error)",
           "boundary followed by one dash");
    is_str(mp(B F("a", "v") "\r\n--XyZ\n" F("b", "w") E), "(error)",
           "delimiter ended by a bare LF");
    is_str(mp(B F("a", "v") "\r\n--XyZ\r" F("b", "w") E), "(error)",
           "delimiter ended by a bare CR");
    is_str(mp(B F("a", "v") "\r\n--XyZ"), "(error)",
           "body ends after the boundary");
    is_str(mp(B F("a", "v")), "(error)", "no close delimiter");
    is_str(mp(B CD "name=\"a\"\r\n\r\n--XyZ--"), "(error)",
           "the empty line's CRLF used as the delimiter's");
    is_str(mp(B CD "name=\"a\"" E), "(error)",
           "delimiter before the headers end");
    is_str(mp(B CD "name=\"a\"\r\n--XyZ: x\r\n\r\nv" E), "(error)",
           "boundary inside the header section");
}


static void
test_headers(void)
{
    is_str(mp(B "Content-Disposition: form-data; name=a\nX: y\r\n\r\nv" E),
           "(error)", "bare LF inside headers");
    is_str(mp(B "Content-Disposition: form-data; name=a\rX: y\r\n\r\nv" E),
           "(error)", "bare CR inside headers");
    is_str(mp(B CD "name=\"a\"\r\n\n\r\nv" E), "(error)",
           "bare LF as the empty line");
    is_str(mp(B CD "name=\"a\"\r\n\r\r\nv" E), "(error)",
           "bare CR before the empty line");
    is_str(mp(B "Content-Disposition: form-data;\r\n name=a\r\n\r\nv" E),
           "(error)", "folding with a space");
    is_str(mp(B CD "name=a\r\nX-A: 1\r\n\tmore\r\n\r\nv" E),
           "(error)", "folding with a tab");
    is_str(mp(B CD "name=a\r\nno colon\r\n\r\nv" E), "(error)",
           "line without ':'");
    is_str(mp(B CD "name=a\r\n: x\r\n\r\nv" E), "(error)",
           "empty header name");
    is_str(mp(B "Content-Disposition : form-data; name=a\r\n\r\nv" E),
           "(error)", "space before ':'");
    is_str(mp(B CD "name=a\r\nX(1): x\r\n\r\nv" E), "(error)",
           "header name not a token");
    is_str(mp(B CD "name=a\r\n" CD "name=b\r\n\r\nv" E), "(error)",
           "Content-Disposition twice");
    is_str(mp(B CD "name=a\r\ncontent-disposition: form-data; name=b\r\n"
              "\r\nv" E), "(error)",
           "Content-Disposition twice, in other cases");
    is_str(mp(B CD "name=a\r\nContent-Type: text/plain\r\n"
              "CONTENT-TYPE: text/plain\r\n\r\nv" E), "(error)",
           "Content-Type twice");
    is_str(mp(B CD "name=a\r\nContent-Transfer-Encoding: 8bit\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nv" E), "(error)",
           "Content-Transfer-Encoding twice");
    is_str(mp(B "Content-Type: text/plain\r\n\r\nv" E), "(error)",
           "missing Content-Disposition");
    is_str(mp(B "\r\nv" E), "(error)", "no headers at all");
    is_str(mp(B "X-Note: Content-Disposition: form-data; name=user\r\n"
              CD "name=\"decoy\"\r\n\r\nv" E), "(error)",
           "Content-Disposition: inside another header's value");
    is_str(mp(B CD "name=a\r\nX-Content-Type: text/plain\r\n\r\nv" E),
           "(error)", "a longer name ending in Content-Type");
    is_str(mp(B CD "name=a\r\nX: 1\x00\r\n\r\nv" E), "(error)",
           "NUL in a header");
    is_str(mp(B CD "name=a\r\nX: \x01\r\n\r\nv" E), "(error)",
           "control character in a header");
    is_str(mp(B CD "name=a\r\nX: \x7f\r\n\r\nv" E), "(error)",
           "DEL in a header");
    is_str(mp(B CD "name=a\r\nX: \xe3\x81\x82\r\n\r\nv" E), "a=v",
           "8-bit bytes in another header's value");
}


static void
test_disposition(void)
{
    is_str(mp(B "Content-Disposition: attachment; name=a\r\n\r\nv" E),
           "(error)", "type other than form-data");
    is_str(mp(B "Content-Disposition: form-datax; name=a\r\n\r\nv" E),
           "(error)", "type with form-data as a prefix");
    is_str(mp(B "Content-Disposition: ; name=a\r\n\r\nv" E), "(error)",
           "no type");
    is_str(mp(B "Content-Disposition: form-data\r\n\r\nv" E), "(error)",
           "no parameters");
    is_str(mp(B CD "filename=\"a\"\r\n\r\nv" E), "(error)", "missing name");
    is_str(mp(B CD "name*=UTF-8''a\r\n\r\nv" E), "(error)",
           "name* without name");
    is_str(mp(B CD "name=\"a\"; name=\"b\"\r\n\r\nv" E), "(error)",
           "name twice");
    is_str(mp(B CD "name=\"a\"; name=\"a\"\r\n\r\nv" E), "(error)",
           "name twice, with the same value");
    is_str(mp(B CD "name=a; filename=b; filename=c\r\n\r\nv" E), "(error)",
           "filename twice");
    is_str(mp(B CD "name=a; name*=UTF-8''b; name*=UTF-8''c\r\n\r\nv" E),
           "(error)", "name* twice");
    is_str(mp(B CD "name=\"\"\r\n\r\nv" E), "(error)", "empty name");
    is_str(mp(B CD "name=\r\n\r\nv" E), "(error)", "name= and nothing");
    is_str(mp(B CD "name=;\r\n\r\nv" E), "(error)", "name=;");
    is_str(mp(B CD "name=\"a\\\"b\"\r\n\r\nv" E), "(error)",
           "backslash-quote in a quoted name");
    is_str(mp(B CD "name=\"a\\\\b\"\r\n\r\nv" E), "(error)",
           "double backslash in a quoted name");
    is_str(mp(B CD "name=\"a\"; filename=\"a\\\\b.txt\"\r\n\r\nv" E), "(error)",
           "backslash in a quoted filename");
    is_str(mp(B CD "name=\"abc\r\n\r\nv" E), "(error)", "unterminated quote");
    is_str(mp(B CD "name=\"a\x00" "b\"\r\n\r\nv" E), "(error)",
           "NUL in a quoted name");
    is_str(mp(B CD "name=\"a\"b\r\n\r\nv" E), "(error)",
           "text after a quoted string");
    is_str(mp(B CD "name=a b\r\n\r\nv" E), "(error)",
           "space inside a token");
    is_str(mp(B CD "name=a@b\r\n\r\nv" E), "(error)",
           "non-token character in a token");
    is_str(mp(B CD "name = \"a\"\r\n\r\nv" E), "(error)",
           "white space around '=' (Werkzeug skips the parameter)");
    is_str(mp(B CD "name= \"a\"\r\n\r\nv" E), "(error)",
           "white space after '='");
    is_str(mp(B CD "name=a ; filename=\"b\"\r\n\r\nv" E), "(error)",
           "white space between a token and ';' (Rack keeps it)");
    is_str(mp(B CD "name=a;\r\n\r\nv" E), "(error)", "trailing ';'");
    is_str(mp(B CD "name=a;; x=y\r\n\r\nv" E), "(error)", "empty parameter");
    is_str(mp(B CD "name=a; x\r\n\r\nv" E), "(error)", "parameter without '='");
    is_str(mp(B CD "name=a x=y\r\n\r\nv" E), "(error)", "';' missing");
    is_str(mp(B CD "name='user'\r\n\r\nv" E), "(error)",
           "single-quoted name (PHP unquotes it)");
    is_str(mp(B CD "x=a'; name=\"decoy\"; y=\"'; name=user; z=\"\r\n\r\nv" E),
           "(error)", "apostrophes that PHP reads as quotes");
    is_str(mp(B CD "name=\"decoy\"; filename=\"x; name=user;\"\r\n\r\nv" E),
           "(error)", "';' inside a quoted string (Rack 2's regex)");
    is_str(mp(B CD "name=\"user=x\"\r\n\r\nv" E), "(error)",
           "'=' inside a quoted string");
    is_str(mp(B CD "filename=\"a:b\"; name=\"c\"\r\n\r\nv" E), "(error)",
           "':' inside a quoted string");
    is_str(mp(B CD "name=\"us\"; name*0=\"er\"\r\n\r\nv" E), "(error)",
           "RFC 2231 continuation (Werkzeug joins it)");
    is_str(mp(B CD "name=a; filename*0*=UTF-8''b\r\n\r\nv" E), "(error)",
           "filename continuation");
    is_str(mp(B CD "name=a; filename*=UTF-8''b.txt\r\n\r\nv" E), "(error)",
           "filename* without filename (Rack 3 reads a field)");
    is_str(mp(B CD "name=a; filename=\"b\"; filename*=UTF-8''b.txt\r\n"
              "\r\nv" E), "a file=v", "filename* with filename");
    is_str(mp(B CD "name=a; a=1; b=2; c=3; d=4; e=5; f=6; g=7\r\n\r\nv" E),
           "a=v", "8 parameters");
    is_str(mp(B CD "name=a; a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8\r\n"
              "\r\nv" E), "(error)", "9 parameters (Rack 3 reads 16)");
}


static void
test_ext_values(void)
{
    is_str(mp(B CD "name=\"x\"; name*=UTF-8''%E5%B1%B1%e7%94%b0\r\n\r\nv" E),
           "x*\xe5\xb1\xb1\xe7\x94\xb0=v", "name* in UTF-8");
    is_str(mp(B CD "name=\"x\"; name*=utf-8'ja'user\r\n\r\nv" E),
           "x*user=v", "name* with a language, charset in lower case");
    is_str(mp(B CD "name=\"x\"; name*=ISO-8859-1''caf%E9\r\n\r\nv" E),
           "x*caf\xc3\xa9=v", "name* in ISO-8859-1 made UTF-8");
    is_str(mp(B CD "name=\"x\"; name*=iso-8859-1''%FF!#$&+-.^_`|~\r\n"
              "\r\nv" E),
           "x*\xc3\xbf!#$&+-.^_`|~=v", "every attr-char");
    is_str(mp(B CD "name*=UTF-8''a%2Fb; name=x\r\n\r\nv" E), "x*a/b=v",
           "name* before name");
    is_str(mp(B CD "name=x; filename=\"f\"; filename*=UTF-8''%C3%A9; "
              "name*=UTF-8''%C3%A9t%C3%A9\r\n\r\nv" E),
           "x*\xc3\xa9t\xc3\xa9 file=v", "filename* and name* together");

    is_str(mp(B CD "name=x; name*=US-ASCII''a\r\n\r\nv" E), "(error)",
           "charset US-ASCII refused");
    is_str(mp(B CD "name=x; name*=Shift_JIS''%8E%52\r\n\r\nv" E), "(error)",
           "charset Shift_JIS refused");
    is_str(mp(B CD "name=x; name*=''a\r\n\r\nv" E), "(error)",
           "no charset");
    is_str(mp(B CD "name=x; name*=UTF-8'a\r\n\r\nv" E), "(error)",
           "one apostrophe only");
    is_str(mp(B CD "name=x; name*=a\r\n\r\nv" E), "(error)",
           "no apostrophes");
    is_str(mp(B CD "name=x; name*=UTF-8''a'b\r\n\r\nv" E), "(error)",
           "a third apostrophe");
    is_str(mp(B CD "name=x; name*=UTF-8'j_p'a\r\n\r\nv" E), "(error)",
           "bad language tag");
    is_str(mp(B CD "name=x; name*=UTF-8''%zz\r\n\r\nv" E), "(error)",
           "bad percent escape");
    is_str(mp(B CD "name=x; name*=UTF-8''a%4\r\n\r\nv" E), "(error)",
           "truncated percent escape");
    is_str(mp(B CD "name=x; name*=UTF-8''a*b\r\n\r\nv" E), "(error)",
           "'*' is not an attr-char");
    is_str(mp(B CD "name=x; name*=UTF-8''%C3%28\r\n\r\nv" E), "(error)",
           "invalid UTF-8");
    is_str(mp(B CD "name=x; name*=UTF-8''%C0%AF\r\n\r\nv" E), "(error)",
           "overlong UTF-8");
    is_str(mp(B CD "name=x; name*=UTF-8''%ED%A0%80\r\n\r\nv" E), "(error)",
           "UTF-8 surrogate");
    is_str(mp(B CD "name=x; name*=UTF-8''%F4%90%80%80\r\n\r\nv" E), "(error)",
           "UTF-8 above U+10FFFF");
    is_str(mp(B CD "name=x; name*=UTF-8''%E5%B1\r\n\r\nv" E), "(error)",
           "truncated UTF-8");
    is_str(mp(B CD "name=x; name*=UTF-8''a%00b\r\n\r\nv" E), "(error)",
           "encoded NUL");
    is_str(mp(B CD "name=x; name*=UTF-8''a%0D%0Ab\r\n\r\nv" E), "(error)",
           "encoded CRLF");
    is_str(mp(B CD "name=x; name*=UTF-8''\r\n\r\nv" E), "(error)",
           "empty name*");
    is_str(mp(B CD "name=x; name*=\"UTF-8''a\"\r\n\r\nv" E), "(error)",
           "quoted name*");
    is_str(mp(B CD "name=x; filename=\"f\"; filename*=UTF-8''%zz\r\n"
              "\r\nv" E), "(error)", "bad filename*");
    is_str(mp(B CD "name=x; Name*=UTF-8''a\r\n\r\nv" E), "(error)",
           "Name* in mixed case");
}


/* every proper prefix of a good body is an error, and none crashes */

static void
test_prefixes(void)
{
    size_t      len, i, bad;
    ngx_int_t   n;

    static char  body[] =
        B CD "name=\"user\"; name*=UTF-8''%E5%B1%B1\r\n"
        "Content-Type: text/plain\r\n\r\nalice"
        D CD "name=\"f\"; filename=\"a.bin\"\r\n\r\n\r\n\x00"
        D F("e", "")
        "\r\n--XyZ--";

    len = sizeof(body) - 1;

    is_str(parse(body, len, "XyZ", NULL),
           "user*\xe5\xb1\xb1 ct=text/plain=alice&f file=\\r\\n\\x00&e=",
           "the whole body");

    bad = 0;

    for (i = 0; i < len; i++) {
        memcpy(big, body, i);

        if (parts_of(i, "XyZ") != -1) {
            printf("# prefix of %u bytes accepted\n", (unsigned) i);
            bad++;
        }
    }

    is_int(bad, 0, "every proper prefix refused");

    /* with the optional CRLF, only the prefix without it is good too */
    memcpy(big, body, len);
    memcpy(big + len, "\r\n", 2);

    bad = 0;

    for (i = 0; i <= len + 2; i++) {
        n = parts_of(i, "XyZ");

        if ((i == len || i == len + 2) ? n != 3 : n != -1) {
            printf("# prefix of %u bytes: %d parts\n", (unsigned) i, (int) n);
            bad++;
        }
    }

    is_int(bad, 0, "every prefix but the two complete bodies refused");
}


static void
test_limits(void)
{
    size_t  len, hl;

    len = build_parts(NGX_HTTP_SEKISHO_MULTIPART_PARTS);
    is_int(parts_of(len, "XyZ"), NGX_HTTP_SEKISHO_MULTIPART_PARTS,
           "1000 parts accepted");

    len = build_parts(NGX_HTTP_SEKISHO_MULTIPART_PARTS + 1);
    is_int(parts_of(len, "XyZ"), -1, "1001 parts refused");

    /* a header section (with its empty line) of exactly the limit */
    hl = NGX_HTTP_SEKISHO_MULTIPART_HEADERS - (sizeof(CD "name=a\r\n") - 1)
         - (sizeof("X-Pad: \r\n\r\n") - 1);

    len = snprintf(big, sizeof(big), B CD "name=a\r\nX-Pad: ");
    memset(big + len, 'p', hl);
    len += hl;
    len += snprintf(big + len, sizeof(big) - len, "\r\n\r\nv" E);
    is_int(parts_of(len, "XyZ"), 1, "header section of 8192 bytes accepted");

    len = snprintf(big, sizeof(big), B CD "name=a\r\nX-Pad: ");
    memset(big + len, 'p', hl + 1);
    len += hl + 1;
    len += snprintf(big + len, sizeof(big) - len, "\r\n\r\nv" E);
    is_int(parts_of(len, "XyZ"), -1, "header section of 8193 bytes refused");

    /* Content-Disposition's own limit, its value counted from the ':' */
    len = snprintf(big, sizeof(big), B CD "name=a; x=\"");
    memset(big + len, 'x', 1001);
    len += 1001;
    len += snprintf(big + len, sizeof(big) - len, "\"\r\n\r\nv" E);
    is_int(parts_of(len, "XyZ"), -1, "Content-Disposition of 1025 bytes");

    len = snprintf(big, sizeof(big), B CD "name=a; x=\"");
    memset(big + len, 'x', 1000);
    len += 1000;
    len += snprintf(big + len, sizeof(big) - len, "\"\r\n\r\nv" E);
    is_int(parts_of(len, "XyZ"), 1, "Content-Disposition of 1024 bytes");
}


static void
test_state(void)
{
    u_char                         buf[256];
    ngx_int_t                      rc1, rc2, rc3;
    ngx_str_t                      b = ngx_string("XyZ");
    ngx_http_sekisho_part_t        part;
    ngx_http_sekisho_multipart_t   m;

    static u_char  good[] = B F("a", "v") E;
    static u_char  bad[] = B F("a", "v") D "junk\r\n\r\n" E;

    (void) ngx_http_sekisho_multipart_init(&m, good, sizeof(good) - 1, &b);
    rc1 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    rc2 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    rc3 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    ok(rc1 == NGX_OK && rc2 == NGX_DONE && rc3 == NGX_DONE,
       "NGX_DONE again after NGX_DONE");

    (void) ngx_http_sekisho_multipart_init(&m, bad, sizeof(bad) - 1, &b);
    rc1 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    rc2 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    rc3 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    ok(rc1 == NGX_OK && rc2 == NGX_ERROR && rc3 == NGX_ERROR,
       "NGX_ERROR again after NGX_ERROR");

    b.len = 0;
    rc1 = ngx_http_sekisho_multipart_init(&m, good, sizeof(good) - 1, &b);
    rc2 = ngx_http_sekisho_multipart_next(&m, &part, buf);
    ok(rc1 == NGX_ERROR && rc2 == NGX_ERROR,
       "NGX_ERROR from next after a refused boundary");
}


int
main(void)
{
    test_good();
    test_names();
    test_boundary();
    test_delimiters();
    test_headers();
    test_disposition();
    test_ext_values();
    test_prefixes();
    test_limits();
    test_state();

    return done_testing();
}
