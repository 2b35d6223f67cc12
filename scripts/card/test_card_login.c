
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the login text (card_login.c) and encodings
 * (card_codec.c).
 */


#include <string.h>
#include "tap.h"
#include "card_codec.h"
#include "card_login.h"


int
main(void)
{
    int            rc;
    char           out[4096], err[256];
    u_char         bin[64];
    size_t         n;
    card_url_t     u;
    const char    *json;

    /* base64 and base64url */
    card_base64_encode((u_char *) "\xfb\xff\xbf", 3, out, 0);
    is_str(out, "+/+/", "base64 standard alphabet");
    card_base64_encode((u_char *) "\xfb\xff\xbf", 3, out, 1);
    is_str(out, "-_-_", "base64url alphabet");
    card_base64_encode((u_char *) "ab", 2, out, 0);
    is_str(out, "YWI=", "base64 pads");
    card_base64_encode((u_char *) "ab", 2, out, 1);
    is_str(out, "YWI", "base64url does not pad");
    card_base64_encode((u_char *) "a", 1, out, 1);
    is_str(out, "YQ", "base64url of one byte");

    rc = card_base64_decode("-_-_", 4, bin, sizeof(bin), &n, 1);
    ok(rc == 0 && n == 3 && memcmp(bin, "\xfb\xff\xbf", 3) == 0,
       "base64url decodes");
    rc = card_base64_decode("YWI", 3, bin, sizeof(bin), &n, 1);
    ok(rc == 0 && n == 2 && memcmp(bin, "ab", 2) == 0,
       "base64url decodes without padding");
    ok(card_base64_decode("+/+/", 4, bin, sizeof(bin), &n, 1) != 0,
       "base64url refuses + and /");
    ok(card_base64_decode("YWJ", 3, bin, sizeof(bin), &n, 1) != 0,
       "non-canonical trailing bits refused");
    ok(card_base64_decode("Y", 1, bin, sizeof(bin), &n, 1) != 0,
       "a single character is no base64");
    ok(card_is_base64url("abc-_09XZ", 9), "challenge alphabet accepted");
    ok(!card_is_base64url("abc=", 4), "padding is not in a challenge");
    ok(!card_is_base64url("a\"b", 3), "a quote is not in a challenge");
    ok(!card_is_base64url("", 0), "an empty challenge is refused");

    rc = card_hex_decode("00ff7A", bin, sizeof(bin), &n);
    ok(rc == 0 && n == 3 && bin[1] == 0xff && bin[2] == 0x7a, "hex decodes");
    ok(card_hex_decode("0g", bin, sizeof(bin), &n) != 0, "bad hex refused");
    ok(card_hex_decode("abc", bin, sizeof(bin), &n) != 0, "odd hex refused");

    /* URLs and the Host header */
    rc = card_url_parse("http://127.0.0.1:8080/jpki/login", &u, err,
                        sizeof(err));
    ok(rc == 0 && !u.tls && u.port == 8080, "http URL with a port");
    is_str(u.hostport, "127.0.0.1:8080", "Host keeps a non-default port");
    is_str(u.path, "/jpki/login", "path");

    rc = card_url_parse("https://gate.example.jp/jpki/login?x=1#f", &u, err,
                        sizeof(err));
    ok(rc == 0 && u.tls && u.port == 443, "https URL, default port");
    is_str(u.hostport, "gate.example.jp", "Host without the default port");
    is_str(u.path, "/jpki/login?x=1", "query kept, fragment dropped");

    rc = card_url_parse("http://gate.example.jp:80", &u, err, sizeof(err));
    ok(rc == 0, "URL without a path");
    is_str(u.hostport, "gate.example.jp", "explicit default port omitted");
    is_str(u.path, "/", "empty path is /");

    rc = card_url_parse("https://[::1]:8443/l", &u, err, sizeof(err));
    ok(rc == 0 && u.ipv6 && u.port == 8443, "IPv6 literal");
    is_str(u.host, "::1", "IPv6 host without brackets");
    is_str(u.hostport, "[::1]:8443", "IPv6 Host header with brackets");

    ok(card_url_parse("ftp://x/", &u, err, sizeof(err)) != 0,
       "other schemes refused");
    ok(card_url_parse("http://user@x/", &u, err, sizeof(err)) != 0,
       "user part refused");
    ok(card_url_parse("http://x:0/", &u, err, sizeof(err)) != 0,
       "port 0 refused");
    ok(card_url_parse("http://x:65536/", &u, err, sizeof(err)) != 0,
       "port 65536 refused");
    ok(card_url_parse("http://x/a\r\nX: y", &u, err, sizeof(err)) != 0,
       "CR LF in a URL refused");
    ok(card_url_parse("http:///path", &u, err, sizeof(err)) != 0,
       "empty host refused");

    rc = card_challenge_url("http://127.0.0.1:8080/jpki/login", out,
                            sizeof(out));
    ok(rc == 0, "challenge URL derived");
    is_str(out, "http://127.0.0.1:8080/jpki/challenge",
           "last path segment replaced by challenge");
    card_challenge_url("https://g.example/a/b/login?next=/x", out,
                       sizeof(out));
    is_str(out, "https://g.example/a/b/challenge", "query dropped");
    card_challenge_url("http://g.example/", out, sizeof(out));
    is_str(out, "http://g.example/challenge", "at the root");

    /* the signed message */
    n = card_login_message("127.0.0.1:8080", "q83vEjRWeJA", out,
                           sizeof(out));
    is_str(out, "sekisho-jpki-login:v1\n127.0.0.1:8080\nq83vEjRWeJA",
           "login message: prefix, Host, challenge, no final newline");
    is_int(n, strlen(out), "login message length");
    is_int(card_login_message("h", "c", out, 10), 0,
           "login message too long for the buffer");

    /* JSON */
    json = "{\"challenge\":\"abc\",\"expires_in\":120}";
    rc = card_json_string(json, strlen(json), "challenge", out, sizeof(out));
    ok(rc == 0, "challenge found");
    is_str(out, "abc", "challenge value");
    json = " { \"expires_in\" : 120 , \"x\" : {\"challenge\":\"no\"}, "
           "\"challenge\" : \"a\\/b\" } ";
    rc = card_json_string(json, strlen(json), "challenge", out, sizeof(out));
    ok(rc == 0, "challenge found after a nested object");
    is_str(out, "a/b", "nested member not taken; escapes undone");
    rc = card_json_string("{\"expires_in\":120}", 18, "challenge", out,
                          sizeof(out));
    is_int(rc, 1, "no challenge member");
    rc = card_json_string("{\"challenge\":120}", 17, "challenge", out,
                          sizeof(out));
    is_int(rc, -1, "a number is not a challenge");
    rc = card_json_string("{\"challenge\":\"abc\"", 18, "challenge", out,
                          sizeof(out));
    is_int(rc, -1, "unterminated object refused");
    rc = card_json_string("[\"challenge\"]", 13, "challenge", out,
                          sizeof(out));
    is_int(rc, -1, "an array is not an object");
    rc = card_json_string("{\"challenge\":\"abcdef\"}", 22, "challenge",
                          out, 4);
    is_int(rc, -1, "too long a value refused");

    return done_testing();
}
