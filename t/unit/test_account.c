
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of reading a login's account id: media types, every
 * framework's reading of a field name, forms and query strings cut
 * three ways, JSON members and numbers, multipart parts, and ids
 * normalised as applications compare them.
 *
 * uses: ngx_http_sekisho_account.c ngx_http_sekisho_json.c
 * uses: ngx_http_sekisho_text.c
 * uses: ngx_http_sekisho_multipart.c
 * libs: -lutf8proc
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_account.h"
#include "tap.h"


static char  result[2048];


static ngx_str_t
str(const char *s)
{
    ngx_str_t  v;

    v.data = (u_char *) s;
    v.len = strlen(s);

    return v;
}


/* "form", "json", "multipart", "text", "other", or "(error)" */

static const char *
media(const char *value)
{
    u_char                    buf[256];
    ngx_str_t                 v;
    ngx_http_sekisho_media_t  m;

    static const char  *names[] = {
        "?", "form", "json", "multipart", "text", "other"
    };

    v = str(value);

    if (ngx_http_sekisho_media_type(&v, &m, buf) != NGX_OK) {
        return "(error)";
    }

    if (m.type == NGX_HTTP_SEKISHO_MEDIA_MULTIPART) {
        snprintf(result, sizeof(result), "multipart %.*s",
                 (int) m.boundary.len, m.boundary.data);
        return result;
    }

    return names[m.type];
}


static ngx_uint_t
field_is(const char *name, const char *field)
{
    ngx_str_t  f;

    f = str(field);

    return ngx_http_sekisho_account_field_is((u_char *) name, strlen(name),
                                             &f);
}


typedef ngx_int_t (*scan_pt)(ngx_http_sekisho_account_find_t *f,
    u_char *data, size_t len, u_char *buf);


/* the value found, "(absent)", or "(error: why)" */

static const char *
scan(scan_pt scanner, const char *data, size_t len, const char *field)
{
    u_char                           *copy, *buf;
    ngx_http_sekisho_account_find_t   f;

    ngx_memzero(&f, sizeof(f));
    f.field = str(field);

    /* private copies, so that ASan sees reads past the end */
    copy = malloc(len + 1);
    buf = malloc(len + 1);
    memcpy(copy, data, len);

    if (scanner(&f, copy, len, buf) != NGX_OK) {
        snprintf(result, sizeof(result), "(error: %s)", f.why);

    } else if (!f.found) {
        snprintf(result, sizeof(result), "(absent)");

    } else {
        snprintf(result, sizeof(result), "%.*s", (int) f.value.len,
                 f.value.data);
    }

    free(copy);
    free(buf);

    return result;
}


#define form(d, f)  scan(ngx_http_sekisho_account_form, d, strlen(d), f)
#define cookie(d, f)  scan(ngx_http_sekisho_account_cookie, d, strlen(d), f)
#define json(d, f)  scan(ngx_http_sekisho_account_json, d, strlen(d), f)


static ngx_int_t
multipart_scan(ngx_http_sekisho_account_find_t *f, u_char *data, size_t len,
    u_char *buf)
{
    ngx_str_t  boundary = ngx_string("XyZ");

    return ngx_http_sekisho_account_multipart(f, data, len, &boundary, buf);
}


#define mp(d, f)  scan(multipart_scan, d, strlen(d), f)

#define PART(headers, content)                                               \
    "--XyZ\r\n" headers "\r\n\r\n" content "\r\n"
#define CD(name)  "Content-Disposition: form-data; name=\"" name "\""
#define END       "--XyZ--\r\n"


static const char *
normalize(const char *s, ngx_uint_t ascii)
{
    u_char     out[NGX_HTTP_SEKISHO_ACCOUNT_MAX], *copy;
    size_t     len;
    ngx_int_t  rc;

    copy = malloc(strlen(s) + 1);
    memcpy(copy, s, strlen(s));

    rc = ngx_http_sekisho_account_normalize(copy, strlen(s), out, &len,
                                            ascii);
    free(copy);

    if (rc == NGX_OK) {
        snprintf(result, sizeof(result), "%.*s", (int) len, out);

    } else {
        snprintf(result, sizeof(result), "%s",
                 rc == NGX_DECLINED ? "(empty)" : "(error)");
    }

    return result;
}


#define nfc(s)    normalize(s, 0)


static void
test_media(void)
{
    is_str(media("application/x-www-form-urlencoded"), "form", "a form");
    is_str(media("Application/X-WWW-Form-Urlencoded"), "form",
           "a form in any case");
    is_str(media("application/x-www-form-urlencoded; charset=UTF-8"), "form",
           "a form with charset UTF-8");
    is_str(media("application/x-www-form-urlencoded;charset=\"utf-8\""),
           "form", "a quoted charset");
    is_str(media("application/x-www-form-urlencoded; charset=iso-8859-1"),
           "(error)", "another charset reads other characters: refused");
    is_str(media("application/json"), "json", "JSON");
    is_str(media("application/vnd.api+json"), "json", "a +json type");
    is_str(media("application/json; charset=utf-16"), "(error)",
           "JSON in UTF-16 refused");
    is_str(media("text/json"), "other", "text/json is not JSON here");
    is_str(media("text/plain"), "text", "text/plain");
    is_str(media("multipart/form-data; boundary=abc"), "multipart abc",
           "multipart with its boundary");
    is_str(media("multipart/form-data; boundary=\"a b:c\""),
           "multipart a b:c", "a quoted boundary");
    is_str(media("multipart/form-data"), "(error)",
           "multipart without a boundary");
    is_str(media("multipart/form-data; boundary=a; boundary=b"), "(error)",
           "the boundary twice");
    is_str(media("application/json; charset=utf-8; charset=utf-8"),
           "(error)", "a charset twice");
    is_str(media("multipart/form-data; boundary=\"a\\\"b\""), "(error)",
           "a backslash in a quoted parameter");
    is_str(media("application/json;"), "(error)", "an empty parameter");
    is_str(media("application/json; x"), "(error)", "a parameter without =");
    is_str(media("application/json; x ="), "(error)", "a space before =");
    is_str(media("applicationjson"), "(error)", "no slash");
    is_str(media("application/json/x"), "(error)", "two slashes");
    is_str(media("/json"), "(error)", "no type");
    is_str(media(""), "(error)", "empty");
    is_str(media("  application/json  "), "json", "surrounding spaces");
    is_str(media("application/json; foo=bar"), "json",
           "an unknown parameter is harmless");
}


static void
test_field_is(void)
{
    ngx_str_t  login_id = ngx_string("login_id");

    ok(field_is("login_id", "login_id"), "as sent");
    ok(field_is("LOGIN_ID", "login_id"), "any case (ASP.NET)");
    ok(!field_is("login_idx", "login_id"), "a longer name is another");
    ok(!field_is("login", "login_id"), "a shorter name is another");

    /* PHP */
    ok(field_is("login.id", "login_id"), "PHP: . is _");
    ok(field_is("login id", "login_id"), "PHP: space is _");
    ok(field_is("   login_id", "login_id"), "PHP: leading spaces dropped");
    ok(field_is("login[id", "login_id"), "PHP: an unclosed [ is _");
    ok(field_is("login_id[]", "login_id"), "PHP, qs, Rack: an array");
    ok(field_is("login_id[0]", "login_id"), "an indexed array");
    ok(field_is("login_id[x][y]", "login_id"), "a nested array");
    ok(ngx_http_sekisho_account_field_is((u_char *) "login_id\0junk", 13,
                                         &login_id),
       "PHP: a NUL ends the name");
    ok(!ngx_http_sekisho_account_field_is((u_char *) "login\0_id", 9,
                                          &login_id),
       "a NUL inside the name cuts it short");
    ok(field_is("[login_id", "login_id"), "Rack 2: a leading [");

    /* qs */
    ok(field_is("[login_id]", "login_id"), "qs: a leading [name]");
    ok(field_is("[login_id][x]", "login_id"), "qs: a leading [name][x]");
    ok(field_is("login_id]", "login_id"), "Rack 2: a trailing ] dropped");

    /* Rack 2 */
    ok(field_is("]]login_id", "login_id"), "Rack 2: leading brackets");
    ok(field_is("login_id[a", "login_id"), "Rack 2: up to a [");

    /* Spring, ASP.NET */
    ok(field_is("!login_id", "login_id"), "Spring: a default value");
    ok(field_is("form.login_id", "login_id"), "a property path");
    ok(field_is("a.b.login_id", "login_id"), "a longer property path");
    ok(!field_is(".login_id", "login_id"), "a dot after nothing is no path");
    ok(!field_is("login_id.x", "login_id"), "a property below it is not it");
    ok(!field_is("password", "login_id"), "another field");
    ok(!field_is("", "login_id"), "an empty name");
}


static void
test_form(void)
{
    is_str(form("login_id=alice&password=x", "login_id"), "alice",
           "first field");
    is_str(form("a=1&login_id=bob&b=2", "login_id"), "bob", "middle field");
    is_str(form("login_id=a%40b.jp", "login_id"), "a@b.jp", "percent-decoded");
    is_str(form("login_id=j+doe", "login_id"), "j doe", "plus is a space");
    is_str(form("login%5Fid=carol", "login_id"), "carol",
           "an encoded key decoded");
    is_str(form("login_id=", "login_id"), "", "empty value");
    is_str(form("login_id", "login_id"), "", "key without '='");
    is_str(form("", "login_id"), "(absent)", "empty data");
    is_str(form("&&login_id=d&&", "login_id"), "d", "empty pairs skipped");
    is_str(form("login_id=a=b", "login_id"), "a=b", "'=' inside the value");
    is_str(form("login_id=%E5%B1%B1%E7%94%B0", "login_id"), "山田",
           "UTF-8 value decoded");

    is_str(form("login_id=a&login_id=b", "login_id"),
           "(error: the account field more than once)", "twice");
    is_str(form("login_id=decoy&login.id=alice", "login_id"),
           "(error: the account field more than once)",
           "twice, once as PHP renames it");
    is_str(form("login_id=decoy&login_id[]=alice", "login_id"),
           "(error: the account field more than once)",
           "twice, once as an array");
    is_str(form("login_id=decoy&LOGIN_ID=alice", "login_id"),
           "(error: the account field more than once)",
           "twice, once in capitals");
    is_str(form("login_id=decoy&%20login_id=alice", "login_id"),
           "(error: the account field more than once)",
           "twice, once with a leading space");
    is_str(form("login_id=decoy&!login_id=alice", "login_id"),
           "(error: the account field more than once)",
           "twice, once as Spring's default");

    is_str(form("login_id=decoy;login_id=alice", "login_id"),
           "(error: the account field more than once)",
           "\";\" as Rack 2 cuts it");
    is_str(form("x=1;login_id=alice", "login_id"),
           "(error: fields cut differently by \"&\", \";\" or \"]=\")",
           "only \";\" finds it");
    is_str(form("login_id=decoy;x=1", "login_id"),
           "(error: fields cut differently by \"&\", \";\" or \"]=\")",
           "\";\" cuts the value shorter");
    is_str(form("login_id[a=b]=alice", "login_id"),
           "(error: fields cut differently by \"&\", \";\" or \"]=\")",
           "qs cuts at \"]=\"");

    is_str(form("login_id=%zz", "login_id"),
           "(error: malformed percent-encoding)", "a bad escape");
    is_str(form("login_id=abc%4", "login_id"),
           "(error: malformed percent-encoding)", "a truncated escape");
    is_str(form("%zz=1&login_id=a", "login_id"),
           "(error: malformed percent-encoding)",
           "a bad escape in another key");
}


static void
test_form_fields(void)
{
    char    *d, *p;
    size_t   i;

    d = malloc(1001 * 4 + 32);
    p = d;

    for (i = 0; i < 1000; i++) {
        p += sprintf(p, "a=1&");
    }

    strcpy(p, "login_id=x");
    is_str(form(d, "login_id"), "(error: too many fields)",
           "1,001 fields are too many");

    p = d;
    for (i = 0; i < 999; i++) {
        p += sprintf(p, "a=1&");
    }

    strcpy(p, "login_id=x");
    is_str(form(d, "login_id"), "x", "1,000 fields are not");

    free(d);
}


static void
test_cookie(void)
{
    is_str(cookie("sid=abc; login_id=alice; lang=ja", "login_id"), "alice",
           "a cookie of the field");
    is_str(cookie("sid=abc;login_id= alice ", "login_id"), "alice",
           "white space around the value");
    is_str(cookie("login.id=alice", "login_id"), "alice",
           "a name as PHP renames it");
    is_str(cookie("sid=abc", "login_id"), "(absent)", "no such cookie");
    is_str(cookie("login_id=alice; login_id=alice", "login_id"), "alice",
           "twice with one value");
    is_str(cookie("login_id=alice; LOGIN_ID=bob", "login_id"),
           "(error: cookies of the account field that disagree)",
           "two that disagree");
    is_str(cookie("login_id=al%69ce", "login_id"),
           "(error: a cookie of the account field that reads two ways)",
           "a percent sign (PHP decodes it)");
    is_str(cookie("login_id=a+b", "login_id"),
           "(error: a cookie of the account field that reads two ways)",
           "a plus sign");
    is_str(cookie("login_id=\"alice\"", "login_id"),
           "(error: a cookie of the account field that reads two ways)",
           "a quoted value");
    is_str(cookie("other=%zz; login_id=alice", "login_id"), "alice",
           "another cookie's encoding is not the gateway's business");
}


static void
test_json_account(void)
{
    is_str(json("{\"login_id\":\"alice\"}", "login_id"), "alice", "a string");
    is_str(json("{\"login_id\":100}", "login_id"), "100", "a plain integer");
    is_str(json("{\"login_id\":0}", "login_id"), "0", "zero");
    is_str(json("{\"login_id\":1e2}", "login_id"),
           "(error: a number not written as a plain integer)", "1e2");
    is_str(json("{\"login_id\":100.0}", "login_id"),
           "(error: a number not written as a plain integer)", "100.0");
    is_str(json("{\"login_id\":-1}", "login_id"),
           "(error: a number not written as a plain integer)", "a sign");
    is_str(json("{\"login_id\":1234567890123456}", "login_id"),
           "(error: a number not written as a plain integer)",
           "16 digits: past what a double holds exactly");
    is_str(json("{\"login_id\":123456789012345}", "login_id"),
           "123456789012345", "15 digits");
    is_str(json("{\"login_id\":[\"alice\"]}", "login_id"),
           "(error: the account field is not a string or a number)",
           "an array (String() of it is alice)");
    is_str(json("{\"login_id\":null}", "login_id"),
           "(error: the account field is not a string or a number)",
           "null (the query string would be read instead)");
    is_str(json("{\"login_id\":\"a\",\"Login_Id\":\"b\"}", "login_id"),
           "(error: the account field more than once)",
           "twice, in two cases");
    is_str(json("{\"login\\u005fid\":\"alice\"}", "login_id"), "alice",
           "an escaped key");
    is_str(json("{\"login_id\":\"decoy\",\"login\\u005fid\":\"alice\"}",
                "login_id"),
           "(error: the account field more than once)",
           "twice, once escaped");
    is_str(json("{\"x\":\"&login_id=decoy&\",\"login_id\":\"alice\"}",
                "login_id"), "alice", "a form hidden in a string is text");
    is_str(json("login_id=alice", "login_id"), "(error: malformed JSON)",
           "a form is not JSON");
    is_str(json("{}", "login_id"), "(absent)", "absent");
}


static void
test_multipart_account(void)
{
    is_str(mp(PART(CD("login_id"), "alice") PART(CD("password"), "x") END,
              "login_id"), "alice", "a part");
    is_str(mp(PART(CD("password"), "x") END, "login_id"), "(absent)",
           "no such part");
    is_str(mp(PART(CD("login_id"), "decoy") PART(CD("login_id"), "alice") END,
              "login_id"), "(error: the account field more than once)",
           "two parts");
    is_str(mp(PART(CD("login_id"), "decoy") PART(CD("login.id"), "alice") END,
              "login_id"), "(error: the account field more than once)",
           "two parts, one as PHP renames it");
    is_str(mp(PART(CD("login%5Fid"), "alice") END, "login_id"), "alice",
           "a percent-encoded name, as some parsers decode it");
    is_str(mp(PART("Content-Disposition: form-data; name=\"decoy\"; "
                   "name*=UTF-8''login_id", "alice") END, "login_id"),
           "alice", "name* (Werkzeug reads it)");
    is_str(mp(PART("Content-Disposition: form-data; name=\"login_id\"; "
                   "filename=\"a.txt\"", "alice") END, "login_id"),
           "(error: a file named as the account field)", "a file");
    is_str(mp(PART(CD("login_id") "\r\nContent-Transfer-Encoding: base64",
                   "YWxpY2U=") END, "login_id"),
           "(error: the account part has a transfer encoding or type)",
           "base64");
    is_str(mp(PART(CD("login_id") "\r\nContent-Transfer-Encoding: 8bit",
                   "alice") END, "login_id"), "alice", "8bit is plain");
    is_str(mp(PART(CD("login_id") "\r\nContent-Type: text/plain; "
                   "charset=utf-8", "alice") END, "login_id"), "alice",
           "text/plain in UTF-8 is plain");
    is_str(mp(PART(CD("login_id") "\r\nContent-Type: text/plain; "
                   "charset=iso-8859-1", "alice") END, "login_id"),
           "(error: the account part has a transfer encoding or type)",
           "another charset");
    is_str(mp(PART(CD("login_id") "\r\nContent-Type: application/json",
                   "\"alice\"") END, "login_id"),
           "(error: the account part has a transfer encoding or type)",
           "another type");
    is_str(mp("--XyZ\n" CD("login_id") "\n\nalice\n" END, "login_id"),
           "(error: malformed or ambiguous multipart body)", "bare LF");
    is_str(mp("junk\r\n" PART(CD("login_id"), "alice") END, "login_id"),
           "(error: malformed or ambiguous multipart body)", "a preamble");
    is_str(mp(PART(CD("login_id"), "alice") END PART(CD("login_id"), "x"),
              "login_id"),
           "(error: malformed or ambiguous multipart body)",
           "a part after the end");
}


static void
test_normalize(void)
{
    char  big[1100];

    is_str(nfc("Alice"), "alice", "ASCII lower-cased");
    is_str(nfc("  bob \t"), "bob", "ASCII white space trimmed");
    is_str(nfc("alice\xe3\x80\x80"), "alice", "U+3000 trimmed");
    is_str(nfc("\xc2\xa0" "alice"), "alice", "U+00A0 trimmed");
    is_str(nfc("alice\xe2\x80\x83"), "alice", "U+2003 trimmed");
    is_str(nfc("alice\xe2\x80\xa8"), "alice", "U+2028 trimmed");
    is_str(nfc("alice\xc2\x85"), "alice", "U+0085 trimmed (Python)");
    is_str(nfc("\xef\xbb\xbf" "alice"), "alice", "U+FEFF trimmed (JavaScript)");
    is_str(nfc("alice\x1f"), "alice", "U+001F trimmed (Python)");
    is_str(nfc("\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x89\xef\xbd\x83\xef\xbd\x85"),
           "alice", "full-width folded (NFKC)");
    is_str(nfc("\xe2\x84\xaa" "ate"), "kate", "KELVIN SIGN is k");
    is_str(nfc("ALICE"), "alice", "capitals");
    is_str(nfc("STRASSE"), "strasse", "capitals again");
    is_str(nfc("stra\xc3\x9f" "e"), "strasse", "sharp s folds to ss");
    is_str(nfc("al\xc4\xb1" "ce"), "alice",
           "dotless i meets i, as Java's equalsIgnoreCase has it");
    is_str(nfc("ali\xe2\x80\x8b" "ce"), "alice",
           "a zero-width space is ignorable");
    is_str(nfc("\xe5\xb1\xb1\xe7\x94\xb0"), "\xe5\xb1\xb1\xe7\x94\xb0",
           "Japanese kept");
    is_str(nfc("\xef\xbd\xb6"), "\xe3\x82\xab", "half-width katakana widened");
    is_str(nfc("e\xcc\x81"), "\xc3\xa9", "composed (NFC)");
    is_str(nfc("A b"), "a b", "an inner space kept");
    is_str(nfc(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~ "),
           "!\"#$%&'()*+,-./0123456789:;<=>?@abcdefghijklmnopqrstuvwxyz"
           "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
           "printable ASCII: capitals lowered, the rest kept");
    is_str(nfc("Alice\xe2\x84\xaa"), "alicek",
           "an ASCII id with one other letter takes the Unicode path");
    is_str(nfc("   "), "(empty)", "only spaces is empty");
    is_str(nfc("\xe3\x80\x80"), "(empty)", "only U+3000 is empty");
    is_str(nfc(""), "(empty)", "empty");
    is_str(nfc("a\x01" "b"), "(error)", "a control character refused");
    is_str(nfc("a\x7f"), "(error)", "DEL refused");
    is_str(nfc("a\xc2\x80" "b"), "(error)", "a C1 control refused");
    is_str(nfc("alic\xc3"), "(error)", "truncated UTF-8 refused");
    is_str(nfc("\xff"), "(error)", "not UTF-8 refused");
    is_str(nfc("\xc0\xaf"), "(error)", "an overlong form refused");
    is_str(nfc("\xed\xa0\x80"), "(error)", "an encoded surrogate refused");

    is_str(normalize("\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x89\xef\xbd\x83"
                     "\xef\xbd\x85", 1),
           "alice", "ids=ascii: full-width is ASCII once folded");
    is_str(normalize("al\xc3\xa9", 1), "(error)",
           "ids=ascii: other letters refused");
    is_str(normalize("Alice", 1), "alice", "ids=ascii: ASCII");

    memset(big, 'a', 257);
    big[257] = '\0';
    is_str(nfc(big), "(error)", "257 bytes refused");
    big[256] = '\0';
    ok(strlen(nfc(big)) == 256, "256 bytes accepted");

    memset(big, ' ', 1025);
    big[1025] = '\0';
    big[0] = 'a';
    is_str(nfc(big), "(error)", "more than 1,024 bytes sent refused");

    /* U+FDFA decomposes into 18 code points */
    for (big[0] = '\0'; strlen(big) + 3 < 3 * 60; strcat(big, "\xef\xb7\xba")) {
        /* void */
    }

    is_str(nfc(big), "(error)", "an id that grows past 256 bytes refused");
}


static void
test_escape(void)
{
    u_char     buf[64];
    ngx_str_t  id;

    id = str("alice@example.jp");
    ok(ngx_http_sekisho_account_escape(buf, &id) == id.len
       && memcmp(buf, "alice@example.jp", id.len) == 0,
       "an e-mail address as it is");

    id = str("a b/\xe5\xb1\xb1");
    is_int(ngx_http_sekisho_account_escape(buf, &id), 17,
           "the rest percent-encoded");
    ok(memcmp(buf, "a%20b%2F%E5%B1%B1", 17) == 0, "as %XX");
}


int
main(void)
{
    test_media();
    test_field_is();
    test_form();
    test_form_fields();
    test_cookie();
    test_json_account();
    test_multipart_account();
    test_normalize();
    test_escape();

    return done_testing();
}
