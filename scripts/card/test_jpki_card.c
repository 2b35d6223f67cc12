
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the virtual card (jpki_card.c): access rules, PIN
 * counters, security state, reads, signatures and T=0 behaviour, by
 * APDUs as a reader would send them.
 */


#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include "tap.h"
#include "test_keys.h"
#include "jpki_card.h"


static u_char   resp[JPKI_CARD_RESP_MAX];
static size_t   rlen;


/* sends hex (spaces allowed); returns the status word */

static unsigned
tx(jpki_card_t *c, const char *hex)
{
    u_char    apdu[300];
    size_t    n;
    unsigned  v;

    for (n = 0; *hex; ) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        if (hex[1] == '\0' || sscanf(hex, "%2x", &v) != 1) {
            return 0;
        }
        apdu[n++] = (u_char) v;
        hex += 2;
    }

    rlen = jpki_card_apdu(c, apdu, n, resp);

    return (unsigned) resp[rlen - 2] << 8 | resp[rlen - 1];
}


static unsigned
tx_bytes(jpki_card_t *c, const u_char *apdu, size_t n)
{
    rlen = jpki_card_apdu(c, apdu, n, resp);

    return (unsigned) resp[rlen - 2] << 8 | resp[rlen - 1];
}


static int
check_sig(X509 *x, const u_char *hash, const u_char *sig, size_t len)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
    rc = ctx && EVP_PKEY_verify_init(ctx) > 0
         && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0
         && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0
         && EVP_PKEY_verify(ctx, sig, len, hash, 32) == 1;
    EVP_PKEY_CTX_free(ctx);

    return rc;
}


int
main(void)
{
    int                rc;
    char               dir[] = "/tmp/sekisho-card-XXXXXX", f[6][4096];
    char               cmd[128];
    u_char             apdu[JPKI_APDU_MAX], hash[32], di[51], *der;
    u_char             got[4096];
    size_t             n, total, off;
    unsigned           sw;
    X509              *auth, *sign, *aca, *sca;
    jpki_card_t       *c;
    jpki_card_conf_t   cc;
    char               err[256];

    if (mkdtemp(dir) == NULL) {
        return 1;
    }

    auth = test_identity(dir, "auth", NULL);
    sign = test_identity(dir, "sign", NULL);
    aca = test_identity(dir, "aca", NULL);
    sca = test_identity(dir, "sca", NULL);
    ok(auth && sign && aca && sca, "test keys made");

    snprintf(f[0], sizeof(f[0]), "%s/auth.key", dir);
    snprintf(f[1], sizeof(f[1]), "%s/auth.pem", dir);
    snprintf(f[2], sizeof(f[2]), "%s/aca.pem", dir);
    snprintf(f[3], sizeof(f[3]), "%s/sign.key", dir);
    snprintf(f[4], sizeof(f[4]), "%s/sign.pem", dir);
    snprintf(f[5], sizeof(f[5]), "%s/sca.pem", dir);

    memset(&cc, 0, sizeof(cc));
    cc.auth_key = f[0];
    cc.auth_cert = f[1];
    cc.auth_ca = f[2];
    cc.sign_key = f[3];
    cc.sign_cert = f[4];
    cc.sign_ca = f[5];
    cc.auth_pin = "1234";
    cc.sign_pin = "ABC123";

    /* a key that is not the certificate's is refused */
    cc.auth_key = f[3];
    c = jpki_card_new(&cc, err, sizeof(err));
    ok(c == NULL && strstr(err, "does not match"), "key and cert must match");
    cc.auth_key = f[0];

    cc.sign_pin = "abc123";
    c = jpki_card_new(&cc, err, sizeof(err));
    ok(c == NULL, "a lower-case stored sign PIN is refused");
    cc.sign_pin = "ABC123";

    c = jpki_card_new(&cc, err, sizeof(err));
    ok(c != NULL, "card made");
    if (c == NULL) {
        return done_testing();
    }

    /* before the AP: nothing; probes of other applets: clean answers */
    is_int(tx(c, "00A4020C02000A"), 0x6A82, "no EF before the AP");
    is_int(tx(c, "00CADF3005"), 0x6D00, "GET DATA probe: 6D00");
    is_int(tx(c, "00CB3FFF0A4D0870065F520000000000"), 0x6D00,
           "GET DATA odd: 6D00");
    is_int(tx(c, "B0A4040C02"), 0x6E00, "unknown class: 6E00");
    is_int(tx(c, "00A4040C07A0000000030000"), 0x6A82,
           "another applet's AID: 6A82");
    is_int(tx(c, "00A4"), 0x6700, "3 bytes: wrong length");
    is_int(tx(c, "00A4020C0000020A"), 0x6700, "extended length refused");
    is_int(tx(c, "00A4040C0AD392F000260100000001"), 0x9000, "SELECT AP");
    is_int(rlen, 2, "no FCI");
    is_int(tx(c, "00A404000AD392F000260100000001"), 0x9000,
           "SELECT AP with P2=00 tolerated");
    is_int(rlen, 2, "still no FCI");
    is_int(tx(c, "00A4020C02ABCD"), 0x6A82, "unknown EF: 6A82");

    /* the token EF */
    tx(c, "00A4020C020006");
    is_int(tx(c, "00B0000020"), 0x9000, "token EF read");
    ok(rlen == 34 && memcmp(resp, "JPKIAPICCTOKEN2 ", 16) == 0
       && resp[31] == ' ', "JPKIAPICCTOKEN2 padded with spaces to 32");

    /* the auth certificate, as OpenSC reads it */
    is_int(tx(c, "00A4020C02000A"), 0x9000, "SELECT auth cert");
    is_int(tx(c, "00B0000004"), 0x9000, "read its 4-byte header");
    ok(rlen == 6 && jpki_der_total_len(resp, 4, &total) == 0,
       "a DER length");

    off = 0;
    while (off < total) {
        n = total - off < 256 ? total - off : 256;
        rc = jpki_apdu_read_binary(apdu, (unsigned) off, (unsigned) n);
        sw = tx_bytes(c, apdu, (size_t) rc);
        if (sw != 0x9000 || rlen != n + 2) {
            break;
        }
        memcpy(got + off, resp, n);
        off += n;
    }

    der = NULL;
    n = (size_t) i2d_X509(auth, &der);
    ok(off == total && total == n && memcmp(got, der, n) == 0,
       "256-byte chunks give the certificate's DER");
    OPENSSL_free(der);

    is_int(tx(c, "00B0080000"), 0x6B00, "offset past the EF: 6B00");
    is_int(tx(c, "00B007F020"), 0x6282,
           "Le past the end: the rest and 6282");
    is_int(rlen, 16 + 2, "16 bytes were left");
    is_int(tx(c, "00B0000000FF"), 0x6700, "READ BINARY with data refused");

    /* CA certificates are free */
    tx(c, "00A4020C02000B");
    is_int(tx(c, "00B0000004"), 0x9000, "auth CA cert readable");
    tx(c, "00A4020C020002");
    is_int(tx(c, "00B0000004"), 0x9000, "sign CA cert readable");

    /* keys and PINs are never read */
    tx(c, "00A4020C020017");
    is_int(tx(c, "00B0000004"), 0x6986, "auth key not readable");
    tx(c, "00A4020C02001B");
    is_int(tx(c, "00B0000004"), 0x6986, "sign PIN EF not readable");

    /* the signing certificate needs the sign PIN */
    tx(c, "00A4020C020001");
    is_int(tx(c, "00B0000004"), 0x6982, "sign cert: 6982 before the PIN");

    tx(c, "00A4020C02001B");
    is_int(tx(c, "00200080"), 0x63C5, "sign PIN: 5 tries, none spent");
    is_int(tx(c, "0020008006414243313234"), 0x63C4, "wrong sign PIN: 63C4");
    is_int(tx(c, "00200080"), 0x63C4, "asking spends none: still 4");
    ok(jpki_card_take_changed(c), "the counter change is reported");
    is_int(tx(c, "0020008006616263313233"), 0x63C3,
           "lower case is another PIN");
    is_int(tx(c, "0020008006414243313233"), 0x9000, "right sign PIN");
    is_int(tx(c, "00200080"), 0x63C5, "the counter is back to 5");

    tx(c, "00A4020C020001");
    is_int(tx(c, "00B0000004"), 0x9000, "sign cert readable after the PIN");

    /* signatures */
    SHA256((u_char *) "hello", 5, hash);
    jpki_digest_info_sha256(hash, di);

    tx(c, "00A4020C020017");
    n = jpki_apdu_sign(apdu, di, sizeof(di));
    is_int(tx_bytes(c, apdu, n), 0x6982, "auth key: 6982 without its PIN");

    tx(c, "00A4020C020018");
    is_int(tx(c, "002000800431323334"), 0x9000, "right auth PIN");
    tx(c, "00A4020C020017");
    is_int(tx_bytes(c, apdu, n), 0x9000, "auth key signs");
    ok(rlen == 258 && check_sig(auth, hash, resp, 256),
       "256 bytes, PKCS#1 v1.5 over the DigestInfo, auth key");

    tx(c, "00A4020C02001A");
    is_int(tx_bytes(c, apdu, n), 0x9000, "sign key signs (PIN verified)");
    ok(rlen == 258 && check_sig(sign, hash, resp, 256), "with the sign key");

    apdu[1] = 0x2A;
    apdu[0] = 0x00;
    is_int(tx_bytes(c, apdu, n), 0x6E00, "signing wants CLA 80");
    apdu[0] = 0x80;

    tx(c, "00A4020C02000A");
    is_int(tx_bytes(c, apdu, n), 0x6986, "no signature with a cert EF");

    /* the security state ends with SELECT AP and with a reset */
    tx(c, "00A4040C0AD392F000260100000001");
    tx(c, "00A4020C020017");
    is_int(tx_bytes(c, apdu, n), 0x6982, "SELECT AP ends the verified PIN");

    tx(c, "00A4020C020018");
    tx(c, "002000800431323334");
    jpki_card_reset(c);
    is_int(tx(c, "00A4020C020017"), 0x6A82, "a reset leaves the AP");
    tx(c, "00A4040C0AD392F000260100000001");
    tx(c, "00A4020C020017");
    is_int(tx_bytes(c, apdu, n), 0x6982, "a reset ends the verified PIN");

    /* CHANGE REFERENCE DATA */
    tx(c, "00A4020C020018");
    is_int(tx(c, "002401800435363738"), 0x6982, "CHANGE PIN needs VERIFY");
    tx(c, "002000800431323334");
    is_int(tx(c, "00240180023132"), 0x6A80, "a 2-digit new PIN refused");
    is_int(tx(c, "002401800435363738"), 0x9000, "auth PIN changed");
    is_int(tx(c, "002000800431323334"), 0x63C2, "the old PIN is wrong now");
    is_int(tx(c, "002000800435363738"), 0x9000, "the new one is right");

    /* blocking the auth PIN */
    is_int(tx(c, "002000800430303030"), 0x63C2, "wrong auth PIN: 2 left");
    is_int(tx(c, "002000800430303030"), 0x63C1, "wrong auth PIN: 1 left");
    is_int(tx(c, "002000800430303030"), 0x63C0, "wrong auth PIN: 0 left");
    is_int(tx(c, "002000800435363738"), 0x6984, "blocked: 6984, right or not");
    is_int(tx(c, "00200080"), 0x63C0, "tries left of a blocked PIN: 63C0");
    is_int(jpki_card_tries(c, JPKI_PIN_AUTH), 0, "counter at 0");
    tx(c, "00A4020C020017");
    is_int(tx_bytes(c, apdu, n), 0x6982, "a blocked PIN signs nothing");

    jpki_card_set_tries(c, JPKI_PIN_AUTH, 9);
    is_int(jpki_card_tries(c, JPKI_PIN_AUTH), 3,
           "a saved counter is capped at the maximum");

    jpki_card_free(c);

    /* over T=0: 61xx and GET RESPONSE, 6Cxx for a wrong Le */
    cc.t0 = 1;
    c = jpki_card_new(&cc, err, sizeof(err));
    ok(c != NULL, "T=0 card made");

    tx(c, "00A4040C0AD392F000260100000001");
    tx(c, "00A4020C020018");
    tx(c, "002000800431323334");
    tx(c, "00A4020C020017");
    is_int(tx_bytes(c, apdu, n), 0x6100, "T=0 signature: 6100");
    is_int(tx(c, "00C0000080"), 0x6180, "GET RESPONSE 128: 6180 more");
    memcpy(got, resp, 128);
    is_int(tx(c, "00C0000090"), 0x6C80, "GET RESPONSE too long: 6C80");
    is_int(tx(c, "00C0000080"), 0x9000, "the rest");
    memcpy(got + 128, resp, 128);
    ok(check_sig(auth, hash, got, 256), "pieces make the signature");
    is_int(tx(c, "00C0000000"), 0x6985, "nothing more to get");

    tx(c, "00A4020C020006");
    is_int(tx(c, "00B0000000"), 0x6C20, "T=0 read with a wrong Le: 6C20");
    is_int(tx(c, "00B0000020"), 0x9000, "again with Le 32");

    jpki_card_free(c);

    /* a card without the JPKI application */
    cc.t0 = 0;
    cc.no_jpki = 1;
    c = jpki_card_new(&cc, err, sizeof(err));
    is_int(c ? tx(c, "00A4040C0AD392F000260100000001") : 0, 0x6A82,
           "--no-jpki: 6A82 to the JPKI AID");
    jpki_card_free(c);

    cc.no_jpki = 0;
    cc.token = "JPKIAPICCTOKEN";
    c = jpki_card_new(&cc, err, sizeof(err));
    if (c) {
        tx(c, "00A4040C0AD392F000260100000001");
        tx(c, "00A4020C020006");
        tx(c, "00B0000020");
    }
    ok(c && jpki_token_kind(resp, 32) == JPKI_TOKEN_JUKI,
       "another token name");
    jpki_card_free(c);

    X509_free(auth);
    X509_free(sign);
    X509_free(aca);
    X509_free(sca);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    rc = system(cmd);
    (void) rc;

    return done_testing();
}
