
/*
 * Copyright (C) Sekisho authors
 *
 * The JPKI application as bytes.  Short APDUs only: the card knows no
 * extended lengths, and every command here fits in 255 data bytes.
 */


#include <stdio.h>
#include <string.h>
#include "jpki_apdu.h"


typedef struct {
    const char     *text;
    jpki_token_t    kind;
} jpki_token_name_t;


static size_t jpki_apdu_header(u_char *buf, u_char cla, u_char ins,
    u_char p1, u_char p2);


const u_char  jpki_aid[JPKI_AID_LEN] = {
    0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01
};

const u_char  jpki_sha256_prefix[19] = {
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

static const jpki_token_name_t  jpki_tokens[] = {
    { "JPKIAPICCTOKEN2", JPKI_TOKEN_MYNUMBER },
    { "JPKIAPICCTOKEN",  JPKI_TOKEN_JUKI },
    { "JPKIAPGPSETOKEN", JPKI_TOKEN_ANDROID },
    { "JPKIAPIOSTOKEN",  JPKI_TOKEN_IPHONE },
    { NULL, JPKI_TOKEN_UNKNOWN }
};


static size_t
jpki_apdu_header(u_char *buf, u_char cla, u_char ins, u_char p1, u_char p2)
{
    buf[0] = cla;
    buf[1] = ins;
    buf[2] = p1;
    buf[3] = p2;

    return 4;
}


/* SELECT by DF name, P2=0C: the card answers 9000 and no FCI */

size_t
jpki_apdu_select_ap(u_char *buf)
{
    size_t  n;

    n = jpki_apdu_header(buf, 0x00, 0xA4, 0x04, 0x0C);
    buf[n++] = JPKI_AID_LEN;
    memcpy(buf + n, jpki_aid, JPKI_AID_LEN);

    return n + JPKI_AID_LEN;
}


size_t
jpki_apdu_select_ef(u_char *buf, unsigned fid)
{
    size_t  n;

    n = jpki_apdu_header(buf, 0x00, 0xA4, 0x02, 0x0C);
    buf[n++] = 2;
    buf[n++] = (u_char) (fid >> 8);
    buf[n++] = (u_char) fid;

    return n;
}


/* le is 1..256; 256 goes out as 00 */

size_t
jpki_apdu_read_binary(u_char *buf, unsigned offset, unsigned le)
{
    size_t  n;

    n = jpki_apdu_header(buf, 0x00, 0xB0, (u_char) ((offset >> 8) & 0x7F),
                         (u_char) offset);
    buf[n++] = (u_char) (le & 0xFF);

    return n;
}


/* with len 0, the card only tells how many tries are left (63Cx) */

size_t
jpki_apdu_verify(u_char *buf, const char *pin, size_t len)
{
    size_t  n;

    n = jpki_apdu_header(buf, 0x00, 0x20, 0x00, 0x80);

    if (len == 0) {
        return n;
    }

    buf[n++] = (u_char) len;
    memcpy(buf + n, pin, len);

    return n + len;
}


/* COMPUTE DIGITAL SIGNATURE, CLA 80, Le 00: 256 bytes back */

size_t
jpki_apdu_sign(u_char *buf, const u_char *di, size_t len)
{
    size_t  n;

    n = jpki_apdu_header(buf, 0x80, 0x2A, 0x00, 0x80);
    buf[n++] = (u_char) len;
    memcpy(buf + n, di, len);
    n += len;
    buf[n++] = 0x00;

    return n;
}


size_t
jpki_apdu_get_response(u_char *buf, unsigned le)
{
    size_t  n;

    n = jpki_apdu_header(buf, 0x00, 0xC0, 0x00, 0x00);
    buf[n++] = (u_char) (le & 0xFF);

    return n;
}


/* arg gets the byte count of 61xx/6Cxx (00 = 256) or the tries left */

jpki_swc_t
jpki_sw_class(unsigned sw, unsigned *arg)
{
    unsigned  sw1, sw2, dummy;

    if (arg == NULL) {
        arg = &dummy;
    }

    sw1 = sw >> 8;
    sw2 = sw & 0xFF;
    *arg = 0;

    if (sw == JPKI_SW_OK) {
        return JPKI_SWC_OK;
    }

    if (sw1 == 0x61) {
        *arg = sw2 ? sw2 : 256;
        return JPKI_SWC_MORE;
    }

    if (sw1 == 0x6C) {
        *arg = sw2 ? sw2 : 256;
        return JPKI_SWC_WRONG_LE;
    }

    if (sw == JPKI_SW_EOF) {
        return JPKI_SWC_EOF;
    }

    if (sw1 == 0x63 && (sw2 & 0xF0) == 0xC0) {
        *arg = sw2 & 0x0F;
        return *arg ? JPKI_SWC_WRONG_PIN : JPKI_SWC_BLOCKED;
    }

    if (sw == 0x6983 || sw == JPKI_SW_BLOCKED) {
        return JPKI_SWC_BLOCKED;
    }

    if (sw == JPKI_SW_SECURITY) {
        return JPKI_SWC_SECURITY;
    }

    if (sw == JPKI_SW_NOT_FOUND) {
        return JPKI_SWC_NOT_FOUND;
    }

    return JPKI_SWC_ERROR;
}


const char *
jpki_sw_text(unsigned sw)
{
    switch (sw) {
    case JPKI_SW_OK:            return "success";
    case JPKI_SW_EOF:           return "end of file reached";
    case JPKI_SW_WRONG_LENGTH:  return "wrong length";
    case JPKI_SW_SECURITY:      return "security status not satisfied";
    case 0x6983:
    case JPKI_SW_BLOCKED:       return "PIN blocked";
    case JPKI_SW_NO_CONDITIONS: return "conditions of use not satisfied";
    case JPKI_SW_NOT_ALLOWED:   return "command not allowed";
    case JPKI_SW_WRONG_DATA:    return "wrong data";
    case JPKI_SW_NOT_FOUND:     return "file or application not found";
    case JPKI_SW_WRONG_P1P2:    return "wrong P1-P2";
    case JPKI_SW_WRONG_OFFSET:  return "offset outside the file";
    case JPKI_SW_INS:           return "instruction not supported";
    case JPKI_SW_CLA:           return "class not supported";
    }

    if ((sw & 0xFFF0) == 0x63C0) {
        return "wrong PIN";
    }

    return "card error";
}


/* hash is 32 bytes; out gets JPKI_DIGEST_INFO_LEN bytes */

void
jpki_digest_info_sha256(const u_char *hash, u_char *out)
{
    memcpy(out, jpki_sha256_prefix, sizeof(jpki_sha256_prefix));
    memcpy(out + sizeof(jpki_sha256_prefix), hash, JPKI_SHA256_LEN);
}


/*
 * The whole length of the DER element that starts at p (a certificate
 * EF starts "30 82 LL LL"), from its first n bytes; -1 if they are not
 * the start of a definite-length SEQUENCE.
 */

int
jpki_der_total_len(const u_char *p, size_t n, size_t *total)
{
    size_t    len, hdr, i, k;

    if (n < 2 || p[0] != 0x30) {
        return -1;
    }

    if (p[1] < 0x80) {
        *total = 2 + (size_t) p[1];
        return 0;
    }

    k = p[1] & 0x7F;

    /* 0x80 is the indefinite form, which DER forbids */
    if (k == 0 || k > 3 || n < 2 + k) {
        return -1;
    }

    len = 0;
    for (i = 0; i < k; i++) {
        len = (len << 8) | p[2 + i];
    }

    /* DER: the shortest form */
    if (len < 0x80 || (k > 1 && p[2] == 0)) {
        return -1;
    }

    hdr = 2 + k;
    *total = hdr + len;

    return 0;
}


/*
 * Checks a PIN as typed and writes it as the card wants it: the auth
 * PIN is exactly 4 digits; the signing PIN 6-16 letters and digits,
 * upper-cased (the card stores upper case).  0 if valid, -1 if not, so
 * that a malformed PIN never costs a try.
 */

int
jpki_pin_normalize(jpki_pin_kind_t kind, const char *in, char *out,
    size_t size)
{
    size_t  i, len;
    char    c;

    len = strlen(in);

    if (kind == JPKI_PIN_AUTH) {
        if (len != 4 || size < 5) {
            return -1;
        }

        for (i = 0; i < 4; i++) {
            if (in[i] < '0' || in[i] > '9') {
                return -1;
            }
            out[i] = in[i];
        }

        out[4] = '\0';
        return 0;
    }

    if (len < 6 || len > 16 || size < len + 1) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = in[i];

        if (c >= 'a' && c <= 'z') {
            c = (char) (c - 'a' + 'A');
        }

        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return -1;
        }

        out[i] = c;
    }

    out[len] = '\0';
    return 0;
}


unsigned
jpki_pin_max_tries(jpki_pin_kind_t kind)
{
    return kind == JPKI_PIN_AUTH ? JPKI_AUTH_TRIES : JPKI_SIGN_TRIES;
}


unsigned
jpki_pin_ef(jpki_pin_kind_t kind)
{
    return kind == JPKI_PIN_AUTH ? JPKI_EF_AUTH_PIN : JPKI_EF_SIGN_PIN;
}


unsigned
jpki_key_ef(jpki_pin_kind_t kind)
{
    return kind == JPKI_PIN_AUTH ? JPKI_EF_AUTH_KEY : JPKI_EF_SIGN_KEY;
}


/* EF 0006: an ASCII name padded with spaces (or NULs) to 32 bytes */

jpki_token_t
jpki_token_kind(const u_char *p, size_t n)
{
    size_t                    len;
    const jpki_token_name_t  *t;

    len = n;
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\0')) {
        len--;
    }

    for (t = jpki_tokens; t->text; t++) {
        if (strlen(t->text) == len && memcmp(t->text, p, len) == 0) {
            return t->kind;
        }
    }

    return JPKI_TOKEN_UNKNOWN;
}


const char *
jpki_token_text(jpki_token_t kind)
{
    switch (kind) {
    case JPKI_TOKEN_MYNUMBER:  return "My Number card";
    case JPKI_TOKEN_JUKI:      return "older Juki card";
    case JPKI_TOKEN_ANDROID:   return "smartphone JPKI (Android)";
    case JPKI_TOKEN_IPHONE:    return "smartphone JPKI (iPhone)";
    default:                   return "unknown";
    }
}


/*
 * An APDU in hex for a log; the data of VERIFY and CHANGE REFERENCE
 * DATA (a PIN) is replaced by stars.
 */

void
jpki_apdu_trace(char *out, size_t size, const u_char *apdu, size_t n)
{
    size_t  i, o, show;
    int     secret;

    if (size == 0) {
        return;
    }

    secret = n > 5 && (apdu[1] == 0x20 || apdu[1] == 0x24);
    show = secret ? 5 : n;
    o = 0;
    out[0] = '\0';

    for (i = 0; i < show && o + 4 < size; i++) {
        o += (size_t) snprintf(out + o, size - o, "%s%02X", i ? " " : "",
                               apdu[i]);
    }

    if (secret && o + 6 < size) {
        snprintf(out + o, size - o, " ****");
    }
}
