
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the JPKI APDU functions (jpki_apdu.c).
 */


#include <string.h>
#include "tap.h"
#include "jpki_apdu.h"


static int
same(const u_char *a, size_t an, const char *hex)
{
    size_t    i, n;
    unsigned  v;

    n = strlen(hex) / 2;
    if (an != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || a[i] != v) {
            return 0;
        }
    }

    return 1;
}


int
main(void)
{
    char      pin[32], trace[64];
    u_char    buf[JPKI_APDU_MAX], hash[32], di[JPKI_DIGEST_INFO_LEN];
    size_t    n, total;
    unsigned  arg;

    n = jpki_apdu_select_ap(buf);
    ok(same(buf, n, "00A4040C0AD392F000260100000001"),
       "SELECT AP by AID, P2=0C");

    n = jpki_apdu_select_ef(buf, JPKI_EF_AUTH_CERT);
    ok(same(buf, n, "00A4020C02000A"), "SELECT EF 000A");

    n = jpki_apdu_read_binary(buf, 0x0104, 256);
    ok(same(buf, n, "00B0010400"), "READ BINARY at 0x104, Le 256 as 00");

    n = jpki_apdu_read_binary(buf, 0, 4);
    ok(same(buf, n, "00B0000004"), "READ BINARY of the 4-byte header");

    n = jpki_apdu_verify(buf, NULL, 0);
    ok(same(buf, n, "00200080"), "VERIFY without data asks tries left");

    n = jpki_apdu_verify(buf, "1234", 4);
    ok(same(buf, n, "002000800431323334"), "VERIFY with an ASCII PIN");

    memset(hash, 0xAB, sizeof(hash));
    jpki_digest_info_sha256(hash, di);
    ok(same(di, sizeof(di), "3031300D060960864801650304020105000420"
            "ABABABABABABABABABABABABABABABAB"
            "ABABABABABABABABABABABABABABABAB"),
       "SHA-256 DigestInfo");

    n = jpki_apdu_sign(buf, di, sizeof(di));
    ok(n == 5 + 51 + 1 && same(buf, 5, "802A008033") && buf[n - 1] == 0,
       "COMPUTE DIGITAL SIGNATURE: CLA 80, Lc 33, Le 00");

    n = jpki_apdu_get_response(buf, 256);
    ok(same(buf, n, "00C0000000"), "GET RESPONSE for 256 bytes");

    /* status words */
    is_int(jpki_sw_class(0x9000, &arg), JPKI_SWC_OK, "9000 is success");
    is_int(jpki_sw_class(0x63C2, &arg), JPKI_SWC_WRONG_PIN, "63C2 wrong PIN");
    is_int(arg, 2, "63C2: 2 tries left");
    is_int(jpki_sw_class(0x63C0, &arg), JPKI_SWC_BLOCKED, "63C0 is blocked");
    is_int(jpki_sw_class(0x6984, &arg), JPKI_SWC_BLOCKED, "6984 is blocked");
    is_int(jpki_sw_class(0x6983, &arg), JPKI_SWC_BLOCKED, "6983 is blocked");
    is_int(jpki_sw_class(0x6982, &arg), JPKI_SWC_SECURITY,
           "6982 security status not satisfied");
    is_int(jpki_sw_class(0x6100, &arg), JPKI_SWC_MORE, "6100 more data");
    is_int(arg, 256, "6100 means 256 bytes");
    is_int(jpki_sw_class(0x6110, &arg), JPKI_SWC_MORE, "6110 more data");
    is_int(arg, 16, "6110 means 16 bytes");
    is_int(jpki_sw_class(0x6C20, &arg), JPKI_SWC_WRONG_LE, "6C20 wrong Le");
    is_int(arg, 32, "6C20: send again with Le 32");
    is_int(jpki_sw_class(0x6A82, &arg), JPKI_SWC_NOT_FOUND, "6A82 not found");
    is_int(jpki_sw_class(0x6282, &arg), JPKI_SWC_EOF, "6282 end of file");
    is_int(jpki_sw_class(0x6D00, &arg), JPKI_SWC_ERROR, "6D00 an error");
    is_str(jpki_sw_text(0x63C1), "wrong PIN", "63C1 says wrong PIN");
    is_str(jpki_sw_text(0x6984), "PIN blocked", "6984 says blocked");

    /* DER lengths as OpenSC reads them */
    ok(jpki_der_total_len((u_char *) "\x30\x82\x05\x1f", 4, &total) == 0
       && total == 0x51f + 4, "30 82 05 1F: 1311 + 4 bytes");
    ok(jpki_der_total_len((u_char *) "\x30\x81\x90\x00", 4, &total) == 0
       && total == 0x90 + 3, "30 81 90: 144 + 3 bytes");
    ok(jpki_der_total_len((u_char *) "\x30\x10\x00\x00", 4, &total) == 0
       && total == 18, "30 10: 16 + 2 bytes");
    ok(jpki_der_total_len((u_char *) "\x31\x82\x05\x1f", 4, &total) != 0,
       "not a SEQUENCE");
    ok(jpki_der_total_len((u_char *) "\x30\x80\x00\x00", 4, &total) != 0,
       "indefinite length refused");
    ok(jpki_der_total_len((u_char *) "\x30\x82\x00\x10", 4, &total) != 0,
       "non-minimal length refused");
    ok(jpki_der_total_len((u_char *) "\xff\xff\xff\xff", 4, &total) != 0,
       "an erased EF is no certificate");

    /* PIN rules */
    ok(jpki_pin_normalize(JPKI_PIN_AUTH, "1234", pin, sizeof(pin)) == 0
       && strcmp(pin, "1234") == 0, "auth PIN of 4 digits");
    ok(jpki_pin_normalize(JPKI_PIN_AUTH, "123", pin, sizeof(pin)) != 0,
       "auth PIN of 3 digits refused");
    ok(jpki_pin_normalize(JPKI_PIN_AUTH, "12345", pin, sizeof(pin)) != 0,
       "auth PIN of 5 digits refused");
    ok(jpki_pin_normalize(JPKI_PIN_AUTH, "12a4", pin, sizeof(pin)) != 0,
       "auth PIN with a letter refused");
    ok(jpki_pin_normalize(JPKI_PIN_SIGN, "abc123", pin, sizeof(pin)) == 0
       && strcmp(pin, "ABC123") == 0, "sign PIN upper-cased");
    ok(jpki_pin_normalize(JPKI_PIN_SIGN, "ABC12", pin, sizeof(pin)) != 0,
       "sign PIN of 5 characters refused");
    ok(jpki_pin_normalize(JPKI_PIN_SIGN, "ABCDEFGHIJ1234567", pin,
                          sizeof(pin)) != 0,
       "sign PIN of 17 characters refused");
    ok(jpki_pin_normalize(JPKI_PIN_SIGN, "ABCDEFGHIJ123456", pin,
                          sizeof(pin)) == 0, "sign PIN of 16 characters");
    ok(jpki_pin_normalize(JPKI_PIN_SIGN, "ABC-123", pin, sizeof(pin)) != 0,
       "sign PIN with a symbol refused");
    ok(jpki_pin_normalize(JPKI_PIN_SIGN, "ＡＢＣ123", pin, sizeof(pin)) != 0,
       "sign PIN with full-width letters refused");
    is_int(jpki_pin_max_tries(JPKI_PIN_AUTH), 3, "auth PIN: 3 tries");
    is_int(jpki_pin_max_tries(JPKI_PIN_SIGN), 5, "sign PIN: 5 tries");

    /* EF 0006 */
    is_int(jpki_token_kind((u_char *) "JPKIAPICCTOKEN2                 ", 32),
           JPKI_TOKEN_MYNUMBER, "JPKIAPICCTOKEN2 is a My Number card");
    is_int(jpki_token_kind((u_char *) "JPKIAPICCTOKEN                  ", 32),
           JPKI_TOKEN_JUKI, "JPKIAPICCTOKEN is a Juki card");
    is_int(jpki_token_kind((u_char *) "JPKIAPGPSETOKEN\0\0\0\0\0\0\0\0\0\0"
                           "\0\0\0\0\0\0\0", 32),
           JPKI_TOKEN_ANDROID, "NUL padding is trimmed too");
    is_int(jpki_token_kind((u_char *) "JPKIAPICCTOKEN2X                ", 32),
           JPKI_TOKEN_UNKNOWN, "a longer name is unknown");

    /* the trace never shows a PIN */
    n = jpki_apdu_verify(buf, "9876", 4);
    jpki_apdu_trace(trace, sizeof(trace), buf, n);
    is_str(trace, "00 20 00 80 04 ****", "VERIFY traced without its PIN");
    ok(strstr(trace, "39") == NULL, "no PIN digit in the trace");

    n = jpki_apdu_select_ef(buf, 0x0018);
    jpki_apdu_trace(trace, sizeof(trace), buf, n);
    is_str(trace, "00 A4 02 0C 02 00 18", "SELECT traced in full");

    return done_testing();
}
