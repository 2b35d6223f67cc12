
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of finding the account id in a login request: forms,
 * JSON, duplicates, escapes, malformed input, normalisation.
 *
 * uses: ngx_http_sekisho_login_parse.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_login_parse.h"
#include "tap.h"


static char  result[1024];


typedef ngx_int_t (*parser_pt)(u_char *body, size_t len, ngx_str_t *name,
    ngx_str_t *out, u_char *buf);


/* the value as a C string, or "(absent)" / "(error)" */

static const char *
parse(parser_pt parser, const char *body, const char *name)
{
    u_char     *copy, buf[1024];
    ngx_int_t   rc;
    ngx_str_t   n, out;

    n.data = (u_char *) name;
    n.len = strlen(name);

    /* a private copy, so that ASan sees reads past the end */
    copy = malloc(strlen(body) + 1);
    memcpy(copy, body, strlen(body));

    rc = parser(copy, strlen(body), &n, &out, buf);

    if (rc == NGX_OK) {
        snprintf(result, sizeof(result), "%.*s", (int) out.len, out.data);

    } else {
        snprintf(result, sizeof(result), "%s",
                 rc == NGX_DECLINED ? "(absent)" : "(error)");
    }

    free(copy);
    return result;
}


#define form(body, name)  parse(ngx_http_sekisho_form_value, body, name)
#define json(body, name)  parse(ngx_http_sekisho_json_value, body, name)


static const char *
normalize(const char *s)
{
    u_char     buf[512];
    ngx_int_t  rc;
    ngx_str_t  a;

    memcpy(buf, s, strlen(s));
    a.data = buf;
    a.len = strlen(s);

    rc = ngx_http_sekisho_account_normalize(&a);

    if (rc == NGX_OK) {
        snprintf(result, sizeof(result), "%.*s", (int) a.len, a.data);

    } else {
        snprintf(result, sizeof(result), "%s",
                 rc == NGX_DECLINED ? "(empty)" : "(error)");
    }

    return result;
}


static void
test_form(void)
{
    is_str(form("user=alice&password=x", "user"), "alice", "first field");
    is_str(form("password=x&user=alice", "user"), "alice", "last field");
    is_str(form("a=1&user=bob&b=2", "user"), "bob", "middle field");
    is_str(form("user=a%40b.jp", "user"), "a@b.jp", "percent-decoded");
    is_str(form("user=j+doe", "user"), "j doe", "plus is a space");
    is_str(form("us%65r=carol", "user"), "carol", "encoded key decoded");
    is_str(form("user=", "user"), "", "empty value");
    is_str(form("user", "user"), "", "key without '='");
    is_str(form("username=x", "user"), "(absent)", "longer key is another");
    is_str(form("", "user"), "(absent)", "empty body");
    is_str(form("&&user=d&&", "user"), "d", "empty pairs skipped");
    is_str(form("user=a&user=b", "user"), "(error)",
           "field given twice is an error");
    is_str(form("user=a&us%65r=b", "user"), "(error)",
           "field given twice, once encoded, is an error");
    is_str(form("user=%zz", "user"), "(error)", "bad escape is an error");
    is_str(form("user=abc%4", "user"), "(error)", "truncated escape");
    is_str(form("x=%zz&user=a", "user"), "a",
           "another field's value is not the gateway's business");
    is_str(form("%zz=1&user=a", "user"), "(error)",
           "a bad escape in any key is an error");
    is_str(form("user=a=b", "user"), "a=b", "'=' inside the value");
    is_str(form("user=%E5%B1%B1%E7%94%B0", "user"), "山田",
           "UTF-8 value decoded");
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
test_normalize(void)
{
    is_str(normalize("Alice"), "alice", "ASCII lower-cased");
    is_str(normalize("  bob \t"), "bob", "white space trimmed");
    is_str(normalize("山田"), "山田", "non-ASCII kept");
    is_str(normalize("   "), "(empty)", "only spaces is empty");
    is_str(normalize(""), "(empty)", "empty");
    is_str(normalize("a\x01" "b"), "(error)", "control character refused");
    is_str(normalize("a\x7f"), "(error)", "DEL refused");
    is_str(normalize("A b"), "a b", "inner space kept");
}


int
main(void)
{
    char  big[300];

    test_form();
    test_json();
    test_normalize();

    memset(big, 'a', 257);
    big[257] = '\0';
    is_str(normalize(big), "(error)", "257 bytes refused");
    big[256] = '\0';
    ok(strlen(normalize(big)) == 256, "256 bytes accepted");

    return done_testing();
}
