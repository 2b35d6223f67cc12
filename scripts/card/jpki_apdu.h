
/*
 * Copyright (C) Sekisho authors
 *
 * The JPKI application of the My Number card as bytes: APDU building,
 * status words, DigestInfo, PIN rules, DER lengths and the token-info
 * EF.  Pure functions on buffers, shared by the applicant's tool and
 * the card emulator, and unit-tested alone.
 */


#ifndef _JPKI_APDU_H_INCLUDED_
#define _JPKI_APDU_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>


#define JPKI_AID_LEN           10

#define JPKI_EF_SIGN_CERT      0x0001
#define JPKI_EF_SIGN_CA        0x0002
#define JPKI_EF_TOKEN          0x0006
#define JPKI_EF_AUTH_CERT      0x000A
#define JPKI_EF_AUTH_CA        0x000B
#define JPKI_EF_AUTH_KEY       0x0017
#define JPKI_EF_AUTH_PIN       0x0018
#define JPKI_EF_SIGN_KEY       0x001A
#define JPKI_EF_SIGN_PIN       0x001B

#define JPKI_AUTH_TRIES        3
#define JPKI_SIGN_TRIES        5

#define JPKI_TOKEN_LEN         32
#define JPKI_SHA256_LEN        32
#define JPKI_DIGEST_INFO_LEN   51        /* 19-byte prefix + SHA-256 */
#define JPKI_SIG_LEN           256       /* RSA-2048 */

/* longest short APDU: header, Lc, 255 data bytes, Le */
#define JPKI_APDU_MAX          261

#define JPKI_SW_OK             0x9000
#define JPKI_SW_EOF            0x6282    /* end of file before Le bytes */
#define JPKI_SW_WRONG_LENGTH   0x6700
#define JPKI_SW_SECURITY       0x6982
#define JPKI_SW_BLOCKED        0x6984
#define JPKI_SW_NO_CONDITIONS  0x6985
#define JPKI_SW_NOT_ALLOWED    0x6986
#define JPKI_SW_WRONG_DATA     0x6A80
#define JPKI_SW_NOT_FOUND      0x6A82
#define JPKI_SW_WRONG_P1P2     0x6A86
#define JPKI_SW_WRONG_OFFSET   0x6B00
#define JPKI_SW_INS            0x6D00
#define JPKI_SW_CLA            0x6E00


typedef enum {
    JPKI_PIN_AUTH = 0,          /* 利用者証明用: 4 digits, 3 tries */
    JPKI_PIN_SIGN               /* 署名用: 6-16 of A-Z 0-9, 5 tries */
} jpki_pin_kind_t;


typedef enum {
    JPKI_TOKEN_UNKNOWN = 0,
    JPKI_TOKEN_MYNUMBER,        /* JPKIAPICCTOKEN2 */
    JPKI_TOKEN_JUKI,            /* JPKIAPICCTOKEN, older Juki card */
    JPKI_TOKEN_ANDROID,         /* JPKIAPGPSETOKEN */
    JPKI_TOKEN_IPHONE           /* JPKIAPIOSTOKEN */
} jpki_token_t;


/* What a status word means to a caller. */
typedef enum {
    JPKI_SWC_OK = 0,
    JPKI_SWC_MORE,              /* 61xx: GET RESPONSE for xx bytes */
    JPKI_SWC_WRONG_LE,          /* 6Cxx: send again with Le = xx */
    JPKI_SWC_EOF,               /* 6282: fewer bytes than asked */
    JPKI_SWC_WRONG_PIN,         /* 63Cx with x > 0 */
    JPKI_SWC_BLOCKED,           /* 63C0 or 6983/6984 */
    JPKI_SWC_SECURITY,          /* 6982: PIN not verified */
    JPKI_SWC_NOT_FOUND,         /* 6A82 */
    JPKI_SWC_ERROR              /* anything else */
} jpki_swc_t;


/* AID of the JPKI application (公的個人認証AP) */
extern const u_char  jpki_aid[JPKI_AID_LEN];

/* DER of DigestInfo { sha256, NULL } up to the OCTET STRING header */
extern const u_char  jpki_sha256_prefix[19];


size_t jpki_apdu_select_ap(u_char *buf);
size_t jpki_apdu_select_ef(u_char *buf, unsigned fid);
size_t jpki_apdu_read_binary(u_char *buf, unsigned offset, unsigned le);
size_t jpki_apdu_verify(u_char *buf, const char *pin, size_t len);
size_t jpki_apdu_sign(u_char *buf, const u_char *di, size_t len);
size_t jpki_apdu_get_response(u_char *buf, unsigned le);

jpki_swc_t jpki_sw_class(unsigned sw, unsigned *arg);
const char *jpki_sw_text(unsigned sw);

void jpki_digest_info_sha256(const u_char *hash, u_char *out);
int jpki_der_total_len(const u_char *p, size_t n, size_t *total);

int jpki_pin_normalize(jpki_pin_kind_t kind, const char *in, char *out,
    size_t size);
unsigned jpki_pin_max_tries(jpki_pin_kind_t kind);
unsigned jpki_pin_ef(jpki_pin_kind_t kind);
unsigned jpki_key_ef(jpki_pin_kind_t kind);

jpki_token_t jpki_token_kind(const u_char *p, size_t n);
const char *jpki_token_text(jpki_token_t kind);

void jpki_apdu_trace(char *out, size_t size, const u_char *apdu, size_t n);


#endif /* _JPKI_APDU_H_INCLUDED_ */
