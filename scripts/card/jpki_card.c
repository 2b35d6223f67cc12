
/*
 * Copyright (C) Sekisho authors
 *
 * The JPKI application as JPKI.md describes it.  Access rules: the
 * auth certificate, both CA certificates and the token EF are free to
 * read; the signing certificate needs the signing PIN; keys and PIN
 * EFs are never read.  A key signs after its own PIN; the security
 * state ends with a reset, a power cycle or a new SELECT of the AP.
 * A malformed or unknown command gets a plain status word, because
 * OpenSC probes other applications before it picks its jpki driver.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "jpki_card.h"


#define JPKI_EF_NONE  0


typedef enum {
    JPKI_FILE_NONE = 0,
    JPKI_FILE_DATA,
    JPKI_FILE_KEY,
    JPKI_FILE_PIN
} jpki_file_e;


typedef struct {
    u_char         *data;
    size_t          len;
} jpki_card_ef_t;


struct jpki_card_s {
    EVP_PKEY       *key[2];            /* by jpki_pin_kind_t */
    jpki_card_ef_t  cert[2];
    jpki_card_ef_t  ca[2];
    u_char          token[JPKI_TOKEN_LEN];
    char            pin[2][17];
    unsigned        tries[2];
    unsigned        verified[2];
    unsigned        ef;                /* current EF, or JPKI_EF_NONE */
    unsigned        ap;                /* the JPKI AP is selected */
    unsigned        no_jpki:1;
    unsigned        t0:1;
    unsigned        changed:1;
    u_char          pending[JPKI_SIG_LEN];
    size_t          npending;
};


typedef struct {
    u_char          cla;
    u_char          ins;
    u_char          p1;
    u_char          p2;
    const u_char   *data;
    size_t          lc;
    size_t          le;                /* 0: absent; 256 for 00 */
} jpki_cmd_t;


static int jpki_card_load_cert(const char *file, EVP_PKEY *key,
    jpki_card_ef_t *ef, size_t pad, char *err, size_t len);
static jpki_file_e jpki_card_file(jpki_card_t *c, unsigned fid,
    jpki_card_ef_t **ef, jpki_pin_kind_t *kind);
static size_t jpki_card_sw(u_char *out, size_t n, unsigned sw);
static size_t jpki_card_data(jpki_card_t *c, u_char *out, const u_char *p,
    size_t n, size_t le, unsigned sw);
static size_t jpki_card_select(jpki_card_t *c, jpki_cmd_t *cmd,
    u_char *out);
static size_t jpki_card_read(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out);
static size_t jpki_card_verify(jpki_card_t *c, jpki_cmd_t *cmd,
    u_char *out);
static size_t jpki_card_change(jpki_card_t *c, jpki_cmd_t *cmd,
    u_char *out);
static size_t jpki_card_sign(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out);
static size_t jpki_card_get_response(jpki_card_t *c, jpki_cmd_t *cmd,
    u_char *out);


/* key and certificate must agree; CA certificates are given no key */

static int
jpki_card_load_cert(const char *file, EVP_PKEY *key, jpki_card_ef_t *ef,
    size_t pad, char *err, size_t len)
{
    int     n;
    FILE   *f;
    X509   *x;
    u_char *p;

    f = fopen(file, "r");
    if (f == NULL) {
        snprintf(err, len, "cannot open %s", file);
        return -1;
    }

    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);

    if (x == NULL) {
        snprintf(err, len, "%s: not a PEM certificate", file);
        return -1;
    }

    if (key && X509_check_private_key(x, key) != 1) {
        X509_free(x);
        snprintf(err, len, "%s: does not match its private key", file);
        return -1;
    }

    n = i2d_X509(x, NULL);

    if (n <= 0) {
        X509_free(x);
        snprintf(err, len, "%s: cannot encode", file);
        return -1;
    }

    ef->len = (size_t) n > pad ? (size_t) n : pad;
    ef->data = calloc(1, ef->len);
    if (ef->data == NULL) {
        X509_free(x);
        snprintf(err, len, "out of memory");
        return -1;
    }

    p = ef->data;
    n = i2d_X509(x, &p);
    X509_free(x);
    return 0;
}


jpki_card_t *
jpki_card_new(const jpki_card_conf_t *conf, char *err, size_t len)
{
    int           i;
    FILE         *f;
    size_t        n;
    const char   *keys[2], *certs[2], *cas[2], *pins[2], *token;
    jpki_card_t  *c;

    c = calloc(1, sizeof(jpki_card_t));
    if (c == NULL) {
        snprintf(err, len, "out of memory");
        return NULL;
    }

    keys[0] = conf->auth_key;
    keys[1] = conf->sign_key;
    certs[0] = conf->auth_cert;
    certs[1] = conf->sign_cert;
    cas[0] = conf->auth_ca;
    cas[1] = conf->sign_ca;
    pins[0] = conf->auth_pin;
    pins[1] = conf->sign_pin;

    for (i = 0; i < 2; i++) {
        f = fopen(keys[i], "r");
        if (f == NULL) {
            snprintf(err, len, "cannot open %s", keys[i]);
            goto failed;
        }

        c->key[i] = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);

        if (c->key[i] == NULL
            || EVP_PKEY_get_base_id(c->key[i]) != EVP_PKEY_RSA
            || EVP_PKEY_get_size(c->key[i]) != JPKI_SIG_LEN)
        {
            snprintf(err, len, "%s: not an RSA-2048 private key", keys[i]);
            goto failed;
        }

        if (jpki_card_load_cert(certs[i], c->key[i], &c->cert[i],
                                JPKI_CARD_CERT_EF, err, len) != 0
            || jpki_card_load_cert(cas[i], NULL, &c->ca[i],
                                   JPKI_CARD_CERT_EF, err, len) != 0)
        {
            goto failed;
        }

        if (pins[i] == NULL
            || jpki_pin_normalize((jpki_pin_kind_t) i, pins[i], c->pin[i],
                                  sizeof(c->pin[i])) != 0
            || strcmp(c->pin[i], pins[i]) != 0)
        {
            snprintf(err, len, "the %s PIN is not %s", i ? "sign" : "auth",
                     i ? "6-16 of A-Z and 0-9" : "4 digits");
            goto failed;
        }

        c->tries[i] = jpki_pin_max_tries((jpki_pin_kind_t) i);
    }

    token = conf->token ? conf->token : "JPKIAPICCTOKEN2";
    n = strlen(token);
    if (n > JPKI_TOKEN_LEN) {
        snprintf(err, len, "the token name is longer than 32 bytes");
        goto failed;
    }

    memset(c->token, ' ', JPKI_TOKEN_LEN);
    memcpy(c->token, token, n);

    c->no_jpki = conf->no_jpki ? 1 : 0;
    c->t0 = conf->t0 ? 1 : 0;

    return c;

failed:

    jpki_card_free(c);
    return NULL;
}


void
jpki_card_free(jpki_card_t *c)
{
    int  i;

    if (c == NULL) {
        return;
    }

    for (i = 0; i < 2; i++) {
        EVP_PKEY_free(c->key[i]);
        free(c->cert[i].data);
        free(c->ca[i].data);
    }

    OPENSSL_cleanse(c, sizeof(jpki_card_t));
    free(c);
}


/* power off, power on or reset: the security state is gone */

void
jpki_card_reset(jpki_card_t *c)
{
    c->ap = 0;
    c->ef = JPKI_EF_NONE;
    c->verified[0] = 0;
    c->verified[1] = 0;
    c->npending = 0;
}


unsigned
jpki_card_tries(jpki_card_t *c, jpki_pin_kind_t kind)
{
    return c->tries[kind];
}


void
jpki_card_set_tries(jpki_card_t *c, jpki_pin_kind_t kind, unsigned tries)
{
    unsigned  max;

    max = jpki_pin_max_tries(kind);
    c->tries[kind] = tries > max ? max : tries;
}


/* whether a retry counter changed since the last call */

int
jpki_card_take_changed(jpki_card_t *c)
{
    int  changed;

    changed = c->changed;
    c->changed = 0;

    return changed;
}


static jpki_file_e
jpki_card_file(jpki_card_t *c, unsigned fid, jpki_card_ef_t **ef,
    jpki_pin_kind_t *kind)
{
    static jpki_card_ef_t  token;

    switch (fid) {
    case JPKI_EF_AUTH_CERT: *ef = &c->cert[0]; return JPKI_FILE_DATA;
    case JPKI_EF_SIGN_CERT: *ef = &c->cert[1]; return JPKI_FILE_DATA;
    case JPKI_EF_AUTH_CA:   *ef = &c->ca[0]; return JPKI_FILE_DATA;
    case JPKI_EF_SIGN_CA:   *ef = &c->ca[1]; return JPKI_FILE_DATA;

    case JPKI_EF_TOKEN:
        token.data = c->token;
        token.len = JPKI_TOKEN_LEN;
        *ef = &token;
        return JPKI_FILE_DATA;

    case JPKI_EF_AUTH_KEY:  *kind = JPKI_PIN_AUTH; return JPKI_FILE_KEY;
    case JPKI_EF_SIGN_KEY:  *kind = JPKI_PIN_SIGN; return JPKI_FILE_KEY;
    case JPKI_EF_AUTH_PIN:  *kind = JPKI_PIN_AUTH; return JPKI_FILE_PIN;
    case JPKI_EF_SIGN_PIN:  *kind = JPKI_PIN_SIGN; return JPKI_FILE_PIN;
    }

    return JPKI_FILE_NONE;
}


static size_t
jpki_card_sw(u_char *out, size_t n, unsigned sw)
{
    out[n] = (u_char) (sw >> 8);
    out[n + 1] = (u_char) sw;

    return n + 2;
}


/*
 * Data for a command with Le: more than asked is cut to Le; over T=0
 * a case 4 answer waits for GET RESPONSE (61xx) and a case 2 answer
 * of another length than Le gets 6Cxx.
 */

static size_t
jpki_card_data(jpki_card_t *c, u_char *out, const u_char *p, size_t n,
    size_t le, unsigned sw)
{
    if (c->t0 && n != le) {
        return jpki_card_sw(out, 0, 0x6C00 | (n & 0xFF));
    }

    if (n > le) {
        n = le;
    }

    memcpy(out, p, n);

    return jpki_card_sw(out, n, sw);
}


size_t
jpki_card_apdu(jpki_card_t *c, const u_char *apdu, size_t n, u_char *out)
{
    jpki_cmd_t  cmd;
    size_t      pending;

    if (n < 4) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_LENGTH);
    }

    memset(&cmd, 0, sizeof(jpki_cmd_t));
    cmd.cla = apdu[0];
    cmd.ins = apdu[1];
    cmd.p1 = apdu[2];
    cmd.p2 = apdu[3];

    /* short APDUs only: Lc 00 would start an extended length */
    if (n == 5) {
        cmd.le = apdu[4] ? apdu[4] : 256;

    } else if (n > 5) {
        cmd.lc = apdu[4];
        cmd.data = apdu + 5;

        if (cmd.lc == 0) {
            return jpki_card_sw(out, 0, JPKI_SW_WRONG_LENGTH);
        }

        if (n == 6 + cmd.lc) {
            cmd.le = apdu[5 + cmd.lc] ? apdu[5 + cmd.lc] : 256;

        } else if (n != 5 + cmd.lc) {
            return jpki_card_sw(out, 0, JPKI_SW_WRONG_LENGTH);
        }
    }

    pending = c->npending;
    c->npending = 0;

    if (cmd.ins == 0xC0 && cmd.cla == 0x00) {
        c->npending = pending;
        return jpki_card_get_response(c, &cmd, out);
    }

    if (cmd.cla == 0x80) {
        if (cmd.ins == 0x2A) {
            return jpki_card_sign(c, &cmd, out);
        }

        return jpki_card_sw(out, 0, JPKI_SW_INS);
    }

    if (cmd.cla != 0x00) {
        return jpki_card_sw(out, 0, JPKI_SW_CLA);
    }

    switch (cmd.ins) {
    case 0xA4:
        return jpki_card_select(c, &cmd, out);
    case 0xB0:
        return jpki_card_read(c, &cmd, out);
    case 0x20:
        return jpki_card_verify(c, &cmd, out);
    case 0x24:
        return jpki_card_change(c, &cmd, out);
    case 0x2A:
        /* the card signs with CLA 80 only */
        return jpki_card_sw(out, 0, JPKI_SW_CLA);
    }

    return jpki_card_sw(out, 0, JPKI_SW_INS);
}


static size_t
jpki_card_select(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out)
{
    unsigned          fid;
    jpki_card_ef_t   *ef;
    jpki_pin_kind_t   kind;

    /* P2: 0C no answer data; 00 and 04 are tolerated, answered alike */
    if (cmd->p2 != 0x0C && cmd->p2 != 0x00 && cmd->p2 != 0x04) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_P1P2);
    }

    if (cmd->p1 == 0x04) {
        if (cmd->lc != JPKI_AID_LEN || c->no_jpki
            || memcmp(cmd->data, jpki_aid, JPKI_AID_LEN) != 0)
        {
            return jpki_card_sw(out, 0, JPKI_SW_NOT_FOUND);
        }

        jpki_card_reset(c);
        c->ap = 1;

        return jpki_card_sw(out, 0, JPKI_SW_OK);
    }

    if (cmd->p1 != 0x00 && cmd->p1 != 0x02) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_P1P2);
    }

    if (cmd->p1 == 0x00
        && (cmd->lc == 0 || (cmd->lc == 2 && cmd->data[0] == 0x3F
                             && cmd->data[1] == 0x00)))
    {
        /* the MF: out of the JPKI AP */
        jpki_card_reset(c);
        return jpki_card_sw(out, 0, JPKI_SW_OK);
    }

    if (cmd->lc != 2) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_LENGTH);
    }

    fid = (unsigned) cmd->data[0] << 8 | cmd->data[1];

    if (!c->ap || jpki_card_file(c, fid, &ef, &kind) == JPKI_FILE_NONE) {
        return jpki_card_sw(out, 0, JPKI_SW_NOT_FOUND);
    }

    c->ef = fid;

    return jpki_card_sw(out, 0, JPKI_SW_OK);
}


static size_t
jpki_card_read(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out)
{
    size_t            offset;
    jpki_file_e       type;
    jpki_card_ef_t   *ef;
    jpki_pin_kind_t   kind;

    if (cmd->p1 & 0x80) {
        /* short EF identifiers are not supported */
        return jpki_card_sw(out, 0, 0x6A81);
    }

    if (cmd->lc || cmd->le == 0) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_LENGTH);
    }

    if (c->ef == JPKI_EF_NONE) {
        return jpki_card_sw(out, 0, JPKI_SW_NOT_ALLOWED);
    }

    type = jpki_card_file(c, c->ef, &ef, &kind);

    if (type != JPKI_FILE_DATA) {
        return jpki_card_sw(out, 0, JPKI_SW_NOT_ALLOWED);
    }

    if (c->ef == JPKI_EF_SIGN_CERT && !c->verified[JPKI_PIN_SIGN]) {
        return jpki_card_sw(out, 0, JPKI_SW_SECURITY);
    }

    offset = (size_t) cmd->p1 << 8 | cmd->p2;

    if (offset >= ef->len) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_OFFSET);
    }

    if (ef->len - offset < cmd->le) {
        return jpki_card_data(c, out, ef->data + offset, ef->len - offset,
                              cmd->le, JPKI_SW_EOF);
    }

    return jpki_card_data(c, out, ef->data + offset, cmd->le, cmd->le,
                          JPKI_SW_OK);
}


/*
 * VERIFY against the selected PIN EF.  Without data it tells the tries
 * left (63Cx, also 63C0 when blocked) and spends none.
 */

static size_t
jpki_card_verify(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out)
{
    size_t            i, len;
    unsigned          diff;
    jpki_card_ef_t   *ef;
    jpki_pin_kind_t   kind;

    if (cmd->p1 != 0x00 || cmd->p2 != 0x80) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_P1P2);
    }

    if (c->ef == JPKI_EF_NONE
        || jpki_card_file(c, c->ef, &ef, &kind) != JPKI_FILE_PIN)
    {
        return jpki_card_sw(out, 0, JPKI_SW_NOT_ALLOWED);
    }

    if (cmd->lc == 0) {
        return jpki_card_sw(out, 0, 0x63C0 | c->tries[kind]);
    }

    if (c->tries[kind] == 0) {
        return jpki_card_sw(out, 0, JPKI_SW_BLOCKED);
    }

    /* the whole PIN is compared, whatever differs */
    len = strlen(c->pin[kind]);
    diff = cmd->lc != len;

    for (i = 0; i < cmd->lc; i++) {
        diff |= (unsigned) (cmd->data[i] ^ (u_char) c->pin[kind][i % len]);
    }

    if (diff) {
        c->tries[kind]--;
        c->verified[kind] = 0;
        c->changed = 1;
        return jpki_card_sw(out, 0, 0x63C0 | c->tries[kind]);
    }

    if (c->tries[kind] != jpki_pin_max_tries(kind)) {
        c->tries[kind] = jpki_pin_max_tries(kind);
        c->changed = 1;
    }

    c->verified[kind] = 1;

    return jpki_card_sw(out, 0, JPKI_SW_OK);
}


/* CHANGE REFERENCE DATA, P1=01: the new PIN only, after VERIFY */

static size_t
jpki_card_change(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out)
{
    char              pin[17], in[17];
    jpki_card_ef_t   *ef;
    jpki_pin_kind_t   kind;

    if (cmd->p1 != 0x01 || cmd->p2 != 0x80) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_P1P2);
    }

    if (c->ef == JPKI_EF_NONE
        || jpki_card_file(c, c->ef, &ef, &kind) != JPKI_FILE_PIN)
    {
        return jpki_card_sw(out, 0, JPKI_SW_NOT_ALLOWED);
    }

    if (!c->verified[kind]) {
        return jpki_card_sw(out, 0, JPKI_SW_SECURITY);
    }

    if (cmd->lc >= sizeof(in)) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_DATA);
    }

    memcpy(in, cmd->data, cmd->lc);
    in[cmd->lc] = '\0';

    if (strlen(in) != cmd->lc
        || jpki_pin_normalize(kind, in, pin, sizeof(pin)) != 0
        || strcmp(pin, in) != 0)
    {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_DATA);
    }

    memcpy(c->pin[kind], pin, sizeof(pin));
    OPENSSL_cleanse(pin, sizeof(pin));
    OPENSSL_cleanse(in, sizeof(in));

    return jpki_card_sw(out, 0, JPKI_SW_OK);
}


/*
 * COMPUTE DIGITAL SIGNATURE: PKCS#1 v1.5 type 01 padding over what is
 * given (a DigestInfo, not checked: the card hashes nothing) and the
 * RSA private operation.
 */

static size_t
jpki_card_sign(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out)
{
    size_t            siglen;
    EVP_PKEY_CTX     *ctx;
    jpki_card_ef_t   *ef;
    jpki_pin_kind_t   kind;

    if (cmd->p1 != 0x00 || cmd->p2 != 0x80) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_P1P2);
    }

    if (c->ef == JPKI_EF_NONE
        || jpki_card_file(c, c->ef, &ef, &kind) != JPKI_FILE_KEY)
    {
        return jpki_card_sw(out, 0, JPKI_SW_NOT_ALLOWED);
    }

    if (!c->verified[kind]) {
        return jpki_card_sw(out, 0, JPKI_SW_SECURITY);
    }

    if (cmd->lc == 0 || cmd->lc > JPKI_SIG_LEN - 11) {
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_LENGTH);
    }

    if (cmd->le != 0 && cmd->le != JPKI_SIG_LEN) {
        return jpki_card_sw(out, 0, 0x6C00);
    }

    siglen = JPKI_SIG_LEN;
    ctx = EVP_PKEY_CTX_new(c->key[kind], NULL);

    if (ctx == NULL
        || EVP_PKEY_sign_init(ctx) <= 0
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0
        || EVP_PKEY_sign(ctx, c->pending, &siglen, cmd->data, cmd->lc) <= 0
        || siglen != JPKI_SIG_LEN)
    {
        EVP_PKEY_CTX_free(ctx);
        return jpki_card_sw(out, 0, 0x6F00);
    }

    EVP_PKEY_CTX_free(ctx);

    if (c->t0) {
        c->npending = siglen;
        return jpki_card_sw(out, 0, 0x6100);
    }

    memcpy(out, c->pending, siglen);

    return jpki_card_sw(out, siglen, JPKI_SW_OK);
}


static size_t
jpki_card_get_response(jpki_card_t *c, jpki_cmd_t *cmd, u_char *out)
{
    size_t  n, le;

    if (c->npending == 0) {
        return jpki_card_sw(out, 0, JPKI_SW_NO_CONDITIONS);
    }

    if (cmd->p1 || cmd->p2) {
        c->npending = 0;
        return jpki_card_sw(out, 0, JPKI_SW_WRONG_P1P2);
    }

    le = cmd->le ? cmd->le : 256;
    n = c->npending;

    if (le > n) {
        return jpki_card_sw(out, 0, 0x6C00 | (n & 0xFF));
    }

    memcpy(out, c->pending, le);

    /* the rest stays for the next GET RESPONSE */
    memmove(c->pending, c->pending + le, n - le);
    c->npending = n - le;

    return jpki_card_sw(out, le, c->npending ? 0x6100 | (c->npending & 0xFF)
                                             : JPKI_SW_OK);
}
