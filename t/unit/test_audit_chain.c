
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the audit line format: JSON escaping, the chain fields,
 * the seal, reading the chain back from a last line, the evolution of
 * the key, the close of an epoch and the state file.
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


static void
hexdump(u_char *dst, u_char *src, size_t n)
{
    static const char  d[] = "0123456789abcdef";

    while (n--) {
        *dst++ = d[*src >> 4];
        *dst++ = d[*src++ & 0xf];
    }

    *dst = '\0';
}


int
main(void)
{
    u_char     buf[1024], mac[NGX_HTTP_SEKISHO_MAC_HEX],
               prev[NGX_HTTP_SEKISHO_MAC_HEX], got[NGX_HTTP_SEKISHO_MAC_HEX];
    u_char    *p, *last;
    uint64_t   seq, epoch;
    ngx_str_t  key = ngx_string("0123456789abcdef");

    is_str(escape("plain"), "plain", "plain text unchanged");
    is_str(escape("a\"b\\c"), "a\\\"b\\\\c", "quote and backslash escaped");
    is_str(escape("a\nb\x01"), "a\\u000ab\\u0001", "control characters as \\u");
    is_str(escape("\x7f"), "\\u007f", "DEL escaped");
    is_str(escape("山田"), "山田", "UTF-8 unchanged");
    is_str(escape("</script>"), "</script>", "no HTML escaping (JSON only)");

    memset(prev, '0', sizeof(prev));

    p = ngx_cpymem(buf, "{\"a\":1", 6);
    p = ngx_http_sekisho_audit_chain(p, 0, NULL, 42, prev);
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

        is_int(ngx_http_sekisho_audit_tail(line, len, &seq, got, &epoch), NGX_OK,
               "the tail of a sealed line is read back");
        is_int(seq, 42, "seq read back");
        ok(memcmp(got, mac, 64) == 0, "mac read back");

        is_int(ngx_http_sekisho_audit_tail(line, len - 2, &seq, got, &epoch),
               NGX_DECLINED, "a cut line is not a record");

        line[len - 10] = 'x';
        is_int(ngx_http_sekisho_audit_tail(line, len, &seq, got, &epoch),
               NGX_DECLINED, "a mac with a non-hex digit is not a record");
    }

    is_int(ngx_http_sekisho_audit_tail((u_char *) "garbage\n", 8, &seq, got, &epoch),
           NGX_DECLINED, "garbage is not a record");

    /* the same body under another key, and without a key, differ */
    {
        u_char     mac2[NGX_HTTP_SEKISHO_MAC_HEX], mac3[NGX_HTTP_SEKISHO_MAC_HEX];
        ngx_str_t  key2 = ngx_string("fedcba9876543210");

        p = ngx_cpymem(buf, "{\"a\":1", 6);
        p = ngx_http_sekisho_audit_chain(p, 0, NULL, 42, prev);
        (void) ngx_http_sekisho_audit_seal(buf, p, &key2, mac2);

        p = ngx_cpymem(buf, "{\"a\":1", 6);
        p = ngx_http_sekisho_audit_chain(p, 0, NULL, 42, prev);
        (void) ngx_http_sekisho_audit_seal(buf, p, NULL, mac3);

        ok(memcmp(mac, mac2, 64) != 0, "another key gives another mac");
        ok(memcmp(mac, mac3, 64) != 0, "no key (SHA-256) gives another mac");
    }

    /* a known answer: SHA-256 of '{"a":1,"seq":1,"prev":"0...0"' */
    p = ngx_cpymem(buf, "{\"a\":1", 6);
    p = ngx_http_sekisho_audit_chain(p, 0, NULL, 1, prev);
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

    /* epochs: the chain fields, and read back */
    {
        u_char   line[1024], close[NGX_HTTP_SEKISHO_MAC_HEX];
        size_t   len;

        memset(close, 'c', sizeof(close));

        p = ngx_cpymem(buf, "{\"a\":1", 6);
        p = ngx_http_sekisho_audit_chain(p, 7, close, 43, prev);
        *p = '\0';
        is_str((char *) buf,
               "{\"a\":1,\"epoch\":7,\"close\":\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\",\"seq\":43,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"",
               "epoch and close before seq");

        last = ngx_http_sekisho_audit_seal(buf, p, &key, mac);
        len = last - buf;
        memcpy(line, buf, len);

        is_int(ngx_http_sekisho_audit_tail(line, len, &seq, got, &epoch),
               NGX_OK, "a record with epoch and close is read back");
        is_int(seq, 43, "its seq");
        is_int(epoch, 7, "its epoch");

        p = ngx_cpymem(buf, "{\"a\":1", 6);
        p = ngx_http_sekisho_audit_chain(p, 12, NULL, 44, prev);
        last = ngx_http_sekisho_audit_seal(buf, p, &key, mac);
        is_int(ngx_http_sekisho_audit_tail(buf, last - buf, &seq, got,
                                           &epoch),
               NGX_OK, "a record with an epoch and no close is read back");
        is_int(epoch * 1000 + seq, 12044, "its epoch and seq");

        p = ngx_cpymem(buf, "{\"epoch\":5", 10);
        p = ngx_http_sekisho_audit_chain(p, 0, close, 45, prev);
        last = ngx_http_sekisho_audit_seal(buf, p, &key, mac);
        is_int(ngx_http_sekisho_audit_tail(buf, last - buf, &seq, got,
                                           &epoch),
               NGX_OK, "epoch 0: no epoch field, no close");
        is_int(epoch, 0, "and epoch 0 read back, not a field of the record");
    }

    /* the key evolves one way: known answers computed with Perl */
    {
        u_char  k1[NGX_HTTP_SEKISHO_KEY_LEN], k2[NGX_HTTP_SEKISHO_KEY_LEN];
        u_char  hex[2 * NGX_HTTP_SEKISHO_KEY_LEN + 1], cl[64], zeros[64];

        is_int(ngx_http_sekisho_audit_evolve(key.data, key.len, 1, k1),
               NGX_OK, "evolved");
        hexdump(hex, k1, sizeof(k1));
        is_str((char *) hex,
               "180a6f0daff43325a02014a5528254552f1d2ab2ce5f6c535ed61808f05e6fcc",
               "key of epoch 1 = HMAC(key, sekisho-audit-epoch || 1)");

        (void) ngx_http_sekisho_audit_evolve(k1, sizeof(k1), 2, k2);
        hexdump(hex, k2, sizeof(k2));
        is_str((char *) hex,
               "aa0eec4b70e0dc76b3c036b84822319f3e81367d96677c8f25d83ffdcf9bbc46",
               "key of epoch 2 from the key of epoch 1");

        memset(zeros, '0', sizeof(zeros));
        is_int(ngx_http_sekisho_audit_close(key.data, key.len, 0, zeros, cl),
               NGX_OK, "closed");
        ok(memcmp(cl, "bc2ff3cee2b5ead26fe09770467ab0a96c062198820e9891687db13b4155c1d1", 64) == 0,
           "close = HMAC(key, sekisho-audit-close || 0 || link), hex");
    }

    /* the state file */
    {
        u_char                          text[NGX_HTTP_SEKISHO_STATE_LEN];
        u_char                         *e;
        ngx_http_sekisho_audit_state_t  st, back;

        memset(&st, 0, sizeof(st));
        st.epoch = 1234;
        memset(st.key, 0xab, sizeof(st.key));
        st.seq = 99;
        memset(st.mac, 'e', sizeof(st.mac));

        e = ngx_http_sekisho_audit_state_print(text, &st);
        ok((size_t) (e - text) < sizeof(text), "a state fits its buffer");
        *e = '\0';
        ok(strncmp((char *) text, "sekisho-audit-state 1\nepoch 1234\nkey abab", 41) == 0,
           "the state file starts with its version, epoch and key");

        is_int(ngx_http_sekisho_audit_state_parse(text, e - text, &back),
               NGX_OK, "a printed state is parsed");
        ok(back.epoch == 1234 && back.seq == 99 && !back.close_pending
           && memcmp(back.key, st.key, sizeof(st.key)) == 0
           && memcmp(back.mac, st.mac, sizeof(st.mac)) == 0,
           "to the same state");

        st.close_pending = 1;
        memset(st.close, '1', sizeof(st.close));
        e = ngx_http_sekisho_audit_state_print(text, &st);
        is_int(ngx_http_sekisho_audit_state_parse(text, e - text, &back),
               NGX_OK, "a state with a pending close is parsed");
        ok(back.close_pending && memcmp(back.close, st.close, 64) == 0,
           "with its close");

        is_int(ngx_http_sekisho_audit_state_parse(text, e - text - 1, &back),
               NGX_DECLINED, "a cut state file is refused");
        text[30] = 'X';
        is_int(ngx_http_sekisho_audit_state_parse(text, e - text, &back),
               NGX_DECLINED, "a damaged state file is refused");
        is_int(ngx_http_sekisho_audit_state_parse((u_char *) "", 0, &back),
               NGX_DECLINED, "an empty state file is refused");
    }

    return done_testing();
}
