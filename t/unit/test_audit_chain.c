
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the audit line format: JSON escaping, the chain fields,
 * the seal, and reading the chain back from a last line.
 *
 * uses: ngx_http_sekisho_audit_chain.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_audit_chain.h"
#include "tap.h"


static const char *
escape(const char *s)
{
    static char  out[256];
    u_char      *p;
    size_t       n;

    n = ngx_http_sekisho_json_escape_len((u_char *) s, strlen(s));
    p = ngx_http_sekisho_json_escape((u_char *) out, (u_char *) s, strlen(s));
    *p = '\0';

    if ((size_t) (p - (u_char *) out) != n) {
        return "(length mismatch)";
    }

    return out;
}


int
main(void)
{
    u_char     buf[1024], mac[NGX_HTTP_SEKISHO_MAC_HEX],
               prev[NGX_HTTP_SEKISHO_MAC_HEX], got[NGX_HTTP_SEKISHO_MAC_HEX];
    u_char    *p, *last;
    uint64_t   seq;
    ngx_str_t  key = ngx_string("0123456789abcdef");

    is_str(escape("plain"), "plain", "plain text unchanged");
    is_str(escape("a\"b\\c"), "a\\\"b\\\\c", "quote and backslash escaped");
    is_str(escape("a\nb\x01"), "a\\u000ab\\u0001", "control characters as \\u");
    is_str(escape("\x7f"), "\\u007f", "DEL escaped");
    is_str(escape("山田"), "山田", "UTF-8 unchanged");
    is_str(escape("</script>"), "</script>", "no HTML escaping (JSON only)");

    memset(prev, '0', sizeof(prev));

    p = ngx_cpymem(buf, "{\"a\":1", 6);
    p = ngx_http_sekisho_audit_chain(p, 42, prev);
    *p = '\0';
    is_str((char *) buf,
           "{\"a\":1,\"seq\":42,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"",
           "chain fields appended");

    last = ngx_http_sekisho_audit_seal(buf, p, &key, mac);
    ok(last != NULL, "sealed");
    ok(last[-1] == '\n' && last[-2] == '}', "closed with } and a newline");

    /* HMAC-SHA256("0123456789abcdef", body), computed independently */
    {
        u_char   line[1024];
        size_t   len = last - buf;

        memcpy(line, buf, len);
        line[len] = '\0';
        ok(strstr((char *) line, ",\"mac\":\"") != NULL, "mac field present");
        ok(memcmp(line + len - 3 - 64, mac, 64) == 0, "the mac is in the line");

        is_int(ngx_http_sekisho_audit_tail(line, len, &seq, got), NGX_OK,
               "the tail of a sealed line is read back");
        is_int(seq, 42, "seq read back");
        ok(memcmp(got, mac, 64) == 0, "mac read back");

        is_int(ngx_http_sekisho_audit_tail(line, len - 2, &seq, got),
               NGX_DECLINED, "a cut line is not a record");

        line[len - 10] = 'x';
        is_int(ngx_http_sekisho_audit_tail(line, len, &seq, got),
               NGX_DECLINED, "a mac with a non-hex digit is not a record");
    }

    is_int(ngx_http_sekisho_audit_tail((u_char *) "garbage\n", 8, &seq, got),
           NGX_DECLINED, "garbage is not a record");

    /* the same body under another key, and without a key, differ */
    {
        u_char     mac2[NGX_HTTP_SEKISHO_MAC_HEX], mac3[NGX_HTTP_SEKISHO_MAC_HEX];
        ngx_str_t  key2 = ngx_string("fedcba9876543210");

        p = ngx_cpymem(buf, "{\"a\":1", 6);
        p = ngx_http_sekisho_audit_chain(p, 42, prev);
        (void) ngx_http_sekisho_audit_seal(buf, p, &key2, mac2);

        p = ngx_cpymem(buf, "{\"a\":1", 6);
        p = ngx_http_sekisho_audit_chain(p, 42, prev);
        (void) ngx_http_sekisho_audit_seal(buf, p, NULL, mac3);

        ok(memcmp(mac, mac2, 64) != 0, "another key gives another mac");
        ok(memcmp(mac, mac3, 64) != 0, "no key (SHA-256) gives another mac");
    }

    /* a known answer: SHA-256 of '{"a":1,"seq":1,"prev":"0...0"' */
    p = ngx_cpymem(buf, "{\"a\":1", 6);
    p = ngx_http_sekisho_audit_chain(p, 1, prev);
    (void) ngx_http_sekisho_audit_seal(buf, p, NULL, mac);
    {
        FILE  *f;
        char   cmd[600], hex[80];

        snprintf(cmd, sizeof(cmd), "printf '%%s' '%.*s' | sha256sum",
                 (int) (p - buf), buf);
        f = popen(cmd, "r");
        ok(f && fgets(hex, sizeof(hex), f) && memcmp(hex, mac, 64) == 0,
           "the unkeyed mac equals sha256sum of the body");
        if (f) {
            pclose(f);
        }
    }

    return done_testing();
}
