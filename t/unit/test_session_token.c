
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the session cookie's value: round trip, key rotation,
 * every field tampered with, malformed values, base64url edge cases,
 * finding the value in a Cookie header, comparing cached values.
 *
 * uses: ngx_http_sekisho_session_token.c ngx_http_sekisho_text.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_session_token.h"
#include "tap.h"


static ngx_str_t  key_now = ngx_string("0123456789abcdef0123456789abcdef");
static ngx_str_t  key_old = ngx_string("fedcba9876543210fedcba9876543210");


static void
sample(ngx_http_sekisho_session_t *s)
{
    ngx_uint_t  i;

    memset(s, 0, sizeof(*s));

    for (i = 0; i < NGX_HTTP_SEKISHO_SID_LEN; i++) {
        s->sid[i] = (u_char) (i * 37 + 1);
    }

    s->issued = 1795000000;
    s->last = 1795000600;
    s->expires = 1795028800;
    s->not_after = 1900000000;
    memcpy(s->serial, "\x01\x9a\xff", 3);
    s->serial_len = 3;
    memcpy(s->ca_id, "\xde\xad\xbe\xef\x00\x11\x22\x33\x44\x55"
                     "\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 20);
    s->ca_id_len = 20;
    s->revocation = NGX_HTTP_SEKISHO_REVOCATION_GOOD;
}


static ngx_int_t
decode(u_char *v, size_t len, ngx_http_sekisho_session_t *s, ngx_uint_t *k)
{
    u_char     *copy;
    ngx_int_t   rc;
    ngx_str_t   keys[2];

    keys[0] = key_now;
    keys[1] = key_old;

    /* a private copy, so that ASan sees reads past the end */
    copy = malloc(len ? len : 1);
    memcpy(copy, v, len);
    rc = ngx_http_sekisho_session_decode(copy, len, keys, 2, s, k);
    free(copy);

    return rc;
}


static void
test_round_trip(void)
{
    u_char                      buf[NGX_HTTP_SEKISHO_TOKEN_MAX];
    size_t                      n;
    ngx_uint_t                  k;
    ngx_http_sekisho_session_t  s, d;

    sample(&s);
    n = ngx_http_sekisho_session_encode(buf, &s, &key_now);

    ok(n > 0 && n <= NGX_HTTP_SEKISHO_TOKEN_MAX, "a token is written");
    ok(memcmp(buf, "s1.", 3) == 0, "it starts with the version");
    ok(memchr(buf, ';', n) == NULL && memchr(buf, ' ', n) == NULL
       && memchr(buf, '=', n) == NULL && memchr(buf, ',', n) == NULL,
       "it is a valid cookie value");

    k = 9;
    is_int(decode(buf, n, &d, &k), NGX_OK, "the token decodes");
    is_int(k, 0, "signed by the current key");
    ok(memcmp(d.sid, s.sid, NGX_HTTP_SEKISHO_SID_LEN) == 0, "sid kept");
    is_int(d.issued, s.issued, "issued kept");
    is_int(d.last, s.last, "last activity kept");
    is_int(d.expires, s.expires, "expiry kept");
    is_int(d.not_after, s.not_after, "certificate not-after kept");
    ok(d.serial_len == 3 && memcmp(d.serial, s.serial, 3) == 0,
       "serial kept");
    ok(d.ca_id_len == 20 && memcmp(d.ca_id, s.ca_id, 20) == 0,
       "CA key id kept");
    is_int(d.revocation, NGX_HTTP_SEKISHO_REVOCATION_GOOD, "revocation kept");

    /* the previous key still opens tokens it signed */
    n = ngx_http_sekisho_session_encode(buf, &s, &key_old);
    is_int(decode(buf, n, &d, &k), NGX_OK, "a token of the previous key");
    is_int(k, 1, "is known as signed by the previous key");

    /* the longest serial and no CA id */
    memset(s.serial, 0xff, NGX_HTTP_SEKISHO_SERIAL_MAX);
    s.serial_len = NGX_HTTP_SEKISHO_SERIAL_MAX;
    s.ca_id_len = 0;
    s.expires = 999999999999;
    n = ngx_http_sekisho_session_encode(buf, &s, &key_now);
    is_int(decode(buf, n, &d, &k), NGX_OK, "longest serial, no CA id");
    is_int(d.serial_len, NGX_HTTP_SEKISHO_SERIAL_MAX, "20-byte serial kept");
    is_int(d.ca_id_len, 0, "empty CA id kept");
    is_int(d.expires, 999999999999, "12-digit time kept");

    s.serial_len = 0;
    is_int(ngx_http_sekisho_session_encode(buf, &s, &key_now), 0,
           "no serial, no token");
}


static void
test_tampering(void)
{
    u_char                      buf[NGX_HTTP_SEKISHO_TOKEN_MAX];
    u_char                      t[NGX_HTTP_SEKISHO_TOKEN_MAX];
    size_t                      n, i;
    ngx_int_t                   rc;
    ngx_uint_t                  k, bad;
    ngx_str_t                   other;
    ngx_http_sekisho_session_t  s, d;

    sample(&s);
    n = ngx_http_sekisho_session_encode(buf, &s, &key_now);

    /* every single character changed: never accepted */
    bad = 0;

    for (i = 0; i < n; i++) {
        memcpy(t, buf, n);
        t[i] = (t[i] == 'A') ? 'B' : 'A';
        rc = decode(t, n, &d, &k);
        if (rc == NGX_OK) {
            bad++;
        }
    }

    is_int(bad, 0, "no changed character is accepted");

    /* the last activity moved forward by the client */
    memcpy(t, buf, n);
    for (i = 0; i < n; i++) {
        if (memcmp(t + i, "1795000600", 10) == 0) {
            memcpy(t + i, "1795009600", 10);
            break;
        }
    }
    is_int(decode(t, n, &d, &k), NGX_ERROR, "an extended idle time is "
           "refused as forged");

    other.data = (u_char *) "another key, never configured, 32b";
    other.len = 34;
    n = ngx_http_sekisho_session_encode(t, &s, &other);
    is_int(decode(t, n, &d, &k), NGX_ERROR, "an unknown key is forged");

    n = ngx_http_sekisho_session_encode(buf, &s, &key_now);
    is_int(decode(buf, n - 1, &d, &k), NGX_DECLINED, "a truncated MAC");
    is_int(decode(buf, 2, &d, &k), NGX_DECLINED, "a stub");
    is_int(decode((u_char *) "", 0, &d, &k), NGX_DECLINED, "empty");
    is_int(decode((u_char *) "s2.a.b", 6, &d, &k), NGX_DECLINED,
           "another version");
    is_int(decode((u_char *) "s1.........", 11, &d, &k), NGX_DECLINED,
           "only dots");
    is_int(decode((u_char *) "s1..........", 12, &d, &k), NGX_DECLINED,
           "too many fields");

    memcpy(t, buf, n);
    t[n] = '.';
    is_int(decode(t, n + 1, &d, &k), NGX_DECLINED, "a trailing dot");
}


static void
test_base64url(void)
{
    u_char  out[64], enc[64];
    size_t  n, m;

    n = ngx_http_sekisho_base64url_encode(enc, (u_char *) "\xfb\xff", 2);
    ok(n == 3 && memcmp(enc, "-_8", 3) == 0, "the url-safe alphabet");

    n = ngx_http_sekisho_base64url_encode(enc, (u_char *) "abc", 3);
    ok(n == 4 && memcmp(enc, "YWJj", 4) == 0, "three bytes, four chars");

    ok(ngx_http_sekisho_base64url_decode(out, sizeof(out),
                                         (u_char *) "YWJjZA", 6, &m)
       == NGX_OK && m == 4 && memcmp(out, "abcd", 4) == 0,
       "decodes without padding");
    is_int(ngx_http_sekisho_base64url_decode(out, sizeof(out),
                                             (u_char *) "YWJjZA==", 8, &m),
           NGX_ERROR, "padding is refused");
    is_int(ngx_http_sekisho_base64url_decode(out, sizeof(out),
                                             (u_char *) "YWJjZB", 6, &m),
           NGX_ERROR, "unused bits set are refused");
    is_int(ngx_http_sekisho_base64url_decode(out, sizeof(out),
                                             (u_char *) "YW+j", 4, &m),
           NGX_ERROR, "'+' is not base64url");
    is_int(ngx_http_sekisho_base64url_decode(out, sizeof(out),
                                             (u_char *) "Y", 1, &m),
           NGX_ERROR, "one char is never whole");
    is_int(ngx_http_sekisho_base64url_decode(out, 2,
                                             (u_char *) "YWJj", 4, &m),
           NGX_ERROR, "too long for the buffer");
    ok(ngx_http_sekisho_base64url_decode(out, sizeof(out),
                                         (u_char *) "", 0, &m)
       == NGX_OK && m == 0, "empty is empty");
}


/* the value found, as a C string for is_str(); "(none)" when not found */

static const char *
cookie(const char *header)
{
    u_char           *copy;
    size_t            len;
    ngx_str_t         value;
    static ngx_str_t  name = ngx_string("sid");
    static char       out[64];

    /* a private copy, so that ASan sees reads past the end */
    len = strlen(header);
    copy = malloc(len ? len : 1);
    memcpy(copy, header, len);

    if (ngx_http_sekisho_cookie_value(copy, len, &name, &value) != NGX_OK) {
        free(copy);
        return "(none)";
    }

    snprintf(out, sizeof(out), "%.*s", (int) value.len, value.data);
    free(copy);

    return out;
}


/* the rules of nginx's $cookie_sid, which the session check shares */

static void
test_cookie_value(void)
{
    is_str(cookie("sid=abc"), "abc", "the only cookie");
    is_str(cookie("a=1; sid=abc; b=2"), "abc", "among others");
    is_str(cookie("a=1;sid=abc"), "abc", "no space after ';'");
    is_str(cookie("a=1,sid=abc"), "abc", "',' also separates pairs");
    is_str(cookie("sid=abc,d"), "abc,d", "but does not end a value");
    is_str(cookie("SID=abc"), "abc", "the name without regard to case");
    is_str(cookie("sid = abc ;x"), "abc ", "spaces around '=' skipped");
    is_str(cookie("sid=one; sid=two"), "one", "the first of two");
    is_str(cookie("xsid=1; sid=2"), "2", "a longer name is another cookie");
    is_str(cookie("sidx=1; sid=2"), "2", "so is a name it begins");
    is_str(cookie("sid=; a=1"), "", "an empty value");
    is_str(cookie("sid"), "(none)", "a name without '='");
    is_str(cookie("sid;sid=2"), "(none)",
           "after a name without '=', the next pair is skipped (nginx)");
    is_str(cookie("a=1;   sid=2"), "2", "spaces before a pair skipped");
    is_str(cookie("a=x sid=1"), "(none)", "nor a pair without ';'");
    is_str(cookie("si"), "(none)", "shorter than the name");
    is_str(cookie(""), "(none)", "an empty header");
    is_str(cookie("a=1; si"), "(none)", "the name cut at the end");
}


static void
test_token_equal(void)
{
    u_char  a[40], b[40];
    size_t  len, i;
    int     all;

    for (i = 0; i < sizeof(a); i++) {
        a[i] = (u_char) (i * 7 + 3);
    }

    memcpy(b, a, sizeof(a));

    all = 1;

    /* every length, a difference at every place: words and the tail */
    for (len = 0; len <= sizeof(a); len++) {
        if (!ngx_http_sekisho_token_equal(a, b, len)) {
            all = 0;
        }

        for (i = 0; i < len; i++) {
            b[i] ^= 0x01;

            if (ngx_http_sekisho_token_equal(a, b, len)) {
                all = 0;
            }

            b[i] ^= 0x80;

            if (ngx_http_sekisho_token_equal(a, b, len)) {
                all = 0;
            }

            b[i] ^= 0x81;
        }
    }

    ok(all, "equal values are equal, and one changed bit is seen anywhere");
    ok(ngx_http_sekisho_token_equal(a + 1, b + 1, 17),
       "unaligned values are compared");
}


int
main(void)
{
    test_round_trip();
    test_tampering();
    test_base64url();
    test_cookie_value();
    test_token_equal();

    return done_testing();
}
