
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the JSON reader: members found, escapes decoded, the
 * whole document checked (UTF-8 included), duplicates counted.
 *
 * uses: ngx_http_sekisho_json.c ngx_http_sekisho_text.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_json.h"
#include "tap.h"


static char  result[1024];


/* the value as a C string, or "(absent)" / "(error)" */

static const char *
json(const char *body, const char *name)
{
    u_char     *copy, buf[1024];
    ngx_int_t   rc;
    ngx_str_t   n, out;

    n.data = (u_char *) name;
    n.len = strlen(name);

    /* a private copy, so that ASan sees reads past the end */
    copy = malloc(strlen(body) + 1);
    memcpy(copy, body, strlen(body));

    rc = ngx_http_sekisho_json_value(copy, strlen(body), &n, &out, buf);

    if (rc == NGX_OK) {
        snprintf(result, sizeof(result), "%.*s", (int) out.len, out.data);

    } else {
        snprintf(result, sizeof(result), "%s",
                 rc == NGX_DECLINED ? "(absent)" : "(error)");
    }

    free(copy);
    return result;
}


/* "count type value" of the members called so, without regard to case */

static const char *
member(const char *body, const char *name)
{
    u_char                          *copy, buf[1024];
    ngx_str_t                        n;
    ngx_http_sekisho_json_member_t   m;

    n.data = (u_char *) name;
    n.len = strlen(name);

    copy = malloc(strlen(body) + 1);
    memcpy(copy, body, strlen(body));

    if (ngx_http_sekisho_json_member(copy, strlen(body), &n, 1, &m, buf)
        != NGX_OK)
    {
        snprintf(result, sizeof(result), "(error)");

    } else {
        snprintf(result, sizeof(result), "%u %u %.*s", (unsigned) m.count,
                 (unsigned) m.type, (int) m.value.len,
                 m.value.data ? (char *) m.value.data : "");
    }

    free(copy);
    return result;
}


static void
test_json(void)
{
    is_str(json("{\"user\":\"alice\"}", "user"), "alice", "string member");
    is_str(json(" { \"a\" : 1 , \"user\" : \"bob\" } ", "user"), "bob",
           "white space everywhere");
    is_str(json("{\"user\": 12345}", "user"), "12345", "number member");
    is_str(json("{\"user\": -1.5e3}", "user"), "-1.5e3", "number forms");
    is_str(json("{\"user\": null}", "user"), "(absent)", "null is absent");
    is_str(json("{\"user\": {\"id\": \"x\"}}", "user"), "(absent)",
           "object is absent");
    is_str(json("{\"other\": \"x\"}", "user"), "(absent)", "missing member");
    is_str(json("{}", "user"), "(absent)", "empty object");
    is_str(json("{\"a\":{\"user\":\"deep\"},\"user\":\"top\"}", "user"),
           "top", "nested member with the same name ignored");
    is_str(json("{\"u\\u0073er\": \"esc\"}", "user"), "esc",
           "escaped key decoded");
    is_str(json("{\"user\": \"a\\\"b\\\\c\\/d\"}", "user"), "a\"b\\c/d",
           "simple escapes");
    is_str(json("{\"user\": \"\\u5c71\\u7530\"}", "user"), "山田",
           "\\u escapes to UTF-8");
    is_str(json("{\"user\": \"\\ud83d\\ude00\"}", "user"), "\xf0\x9f\x98\x80",
           "surrogate pair");
    is_str(json("{\"user\": \"\\ude00\"}", "user"), "(error)",
           "lone low surrogate");
    is_str(json("{\"user\": \"\\ud83d\"}", "user"), "(error)",
           "lone high surrogate");
    is_str(json("{\"user\": \"a\", \"user\": \"b\"}", "user"), "(error)",
           "member given twice is an error");
    is_str(json("{\"user\": null, \"user\": \"b\"}", "user"), "(error)",
           "member given twice, once null, is an error");
    is_str(json("{\"user\": \"a\",}", "user"), "(error)", "trailing comma");
    is_str(json("{\"user\": \"a\"", "user"), "(error)", "unterminated object");
    is_str(json("{\"user\": \"a}", "user"), "(error)", "unterminated string");
    is_str(json("{\"user\": \"a\"} x", "user"), "(error)", "trailing garbage");
    is_str(json("[\"user\"]", "user"), "(error)", "not an object");
    is_str(json("", "user"), "(error)", "empty body");
    is_str(json("{\"user\": 01}", "user"), "(error)", "leading zero");
    is_str(json("{\"user\": tru}", "user"), "(error)", "bad literal");
    is_str(json("{\"user\": \"a\tb\"}", "user"), "(error)",
           "raw control character");
    is_str(json("{\"user\": \"\xe5\xb1\xb1\"}", "user"), "\xe5\xb1\xb1",
           "raw UTF-8 kept");
    is_str(json("{\"user\": \"a\xff\"}", "user"), "(error)",
           "invalid UTF-8 in the value refused");
    is_str(json("{\"x\": \"\xc0\xaf\", \"user\": \"a\"}", "user"),
           "(error)", "an overlong UTF-8 form anywhere refused");
    is_str(json("{\"x\": \"\xed\xa0\x80\", \"user\": \"a\"}", "user"),
           "(error)", "an encoded surrogate anywhere refused");
    is_str(json("{\"x\": \"\xf4\x90\x80\x80\"}", "user"), "(error)",
           "above U+10FFFF refused");
    is_str(json("{\"x\": \"\xe5\xb1\"}", "user"), "(error)",
           "a truncated UTF-8 sequence refused");
    is_str(json("\xef\xbb\xbf{\"user\": \"a\"}", "user"), "(error)",
           "a byte-order mark is not JSON");
    is_str(json("{\"user\": NaN}", "user"), "(error)",
           "NaN is not JSON (Python reads it)");
    is_str(json("{\"user\": \"\\x\"}", "user"), "(error)", "unknown escape");
    is_str(json("{\"a\": [1, 2, {\"b\": [true, false, null]}], "
                "\"user\": \"z\"}", "user"), "z", "values skipped");
    is_str(json("{\"a\": [1 2]}", "user"), "(error)", "missing comma");
    is_str(json("{\"a\" 1}", "user"), "(error)", "missing colon");
    is_str(json("{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]"
                "]]]]]]]]]]]]]]]]]]]]]]]}", "user"), "(error)",
           "nesting deeper than 32 refused");
}


static void
test_member(void)
{
    is_str(member("{\"User\": \"a\"}", "user"), "1 1 a",
           "caseless: another case is the member");
    is_str(member("{\"user\": \"a\", \"USER\": \"b\"}", "user"),
           "2 1 a", "caseless: two spellings counted, the first kept");
    is_str(member("{\"user\": 1e2}", "user"), "1 2 1e2",
           "a number as written");
    is_str(member("{\"user\": [\"a\"]}", "user"), "1 3 ",
           "an array is of another type");
    is_str(member("{\"user\": null}", "user"), "1 3 ", "null too");
    is_str(member("{\"login\\u005fid\": \"a\"}", "login_id"), "1 1 a",
           "an escaped key is its decoded name");
    is_str(member("{}", "user"), "0 0 ", "no member");
    is_str(member("{\"user\": \"a\"", "user"), "(error)",
           "a malformed document");
}


int
main(void)
{
    test_json();
    test_member();

    return done_testing();
}
