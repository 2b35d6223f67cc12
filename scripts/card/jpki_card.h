
/*
 * Copyright (C) Sekisho authors
 *
 * A virtual JPKI application: APDUs in, responses out, with the keys
 * in OpenSSL.  No transport here: sekisho-card-emu.c carries it over
 * vpcd, and the unit tests call it directly.
 */


#ifndef _JPKI_CARD_H_INCLUDED_
#define _JPKI_CARD_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>
#include "jpki_apdu.h"


/* a response: up to 256 data bytes and the status word */
#define JPKI_CARD_RESP_MAX  258

/* certificate EFs are larger than the certificates they hold */
#define JPKI_CARD_CERT_EF   2048


typedef struct jpki_card_s  jpki_card_t;


typedef struct {
    const char     *auth_key;        /* PEM files */
    const char     *auth_cert;
    const char     *auth_ca;
    const char     *sign_key;
    const char     *sign_cert;
    const char     *sign_ca;
    const char     *auth_pin;        /* as stored on the card */
    const char     *sign_pin;
    const char     *token;           /* EF 0006, NULL: JPKIAPICCTOKEN2 */
    int             no_jpki;         /* 6A82 to the JPKI AID */
    int             t0;              /* 61xx / 6Cxx, as over T=0 */
} jpki_card_conf_t;


jpki_card_t *jpki_card_new(const jpki_card_conf_t *conf, char *err,
    size_t len);
void jpki_card_free(jpki_card_t *c);
void jpki_card_reset(jpki_card_t *c);
size_t jpki_card_apdu(jpki_card_t *c, const u_char *apdu, size_t n,
    u_char *out);
unsigned jpki_card_tries(jpki_card_t *c, jpki_pin_kind_t kind);
void jpki_card_set_tries(jpki_card_t *c, jpki_pin_kind_t kind,
    unsigned tries);
int jpki_card_take_changed(jpki_card_t *c);


#endif /* _JPKI_CARD_H_INCLUDED_ */
