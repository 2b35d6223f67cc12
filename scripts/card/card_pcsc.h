
/*
 * Copyright (C) Sekisho authors
 *
 * sekisho-card's side of PC/SC: the reader, the card connection, APDU
 * exchange with 61xx and 6Cxx handled as real readers need, and the
 * JPKI operations on top.  Every failure is told on stderr once and
 * comes back as one of the exit codes below.
 */


#ifndef _CARD_PCSC_H_INCLUDED_
#define _CARD_PCSC_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>
#include <PCSC/winscard.h>
#include "jpki_apdu.h"


/* sekisho-card's exit codes */
#define CARD_OK              0
#define CARD_ERROR           1       /* anything else: I/O, memory */
#define CARD_USAGE           2
#define CARD_NO_SERVICE      3       /* pcscd not running */
#define CARD_NO_READER       4
#define CARD_NO_CARD         5
#define CARD_NOT_JPKI        6       /* no JPKI application */
#define CARD_WRONG_PIN       7
#define CARD_PIN_BLOCKED     8
#define CARD_REMOVED         9       /* pulled out mid-way */
#define CARD_SECURITY        10      /* 6982: a PIN is needed first */
#define CARD_BAD_PIN         11      /* malformed: not sent to the card */
#define CARD_REFUSED         12      /* the gateway said no */
#define CARD_NETWORK         13      /* connection, TLS, HTTP */
#define CARD_CARD_FAILED     14      /* an unexpected status word */


typedef struct {
    SCARDCONTEXT    ctx;
    SCARDHANDLE     card;
    DWORD           protocol;
    char            reader[MAX_READERNAME + 1];
    unsigned        have_ctx:1;
    unsigned        have_card:1;
    unsigned        in_tx:1;
    unsigned        verbose:1;
} card_pcsc_t;


int card_pcsc_establish(card_pcsc_t *p);
int card_pcsc_list(card_pcsc_t *p, char **readers, DWORD *len);
int card_pcsc_connect(card_pcsc_t *p, const char *want);
int card_pcsc_transmit(card_pcsc_t *p, const u_char *apdu, size_t n,
    u_char *resp, size_t size, size_t *rn, unsigned *sw);
void card_pcsc_close(card_pcsc_t *p);

int card_jpki_select(card_pcsc_t *p);
int card_jpki_token(card_pcsc_t *p, u_char *token);
int card_jpki_read(card_pcsc_t *p, unsigned fid, u_char **data,
    size_t *len);
int card_jpki_tries(card_pcsc_t *p, jpki_pin_kind_t kind, unsigned *tries);
int card_jpki_verify(card_pcsc_t *p, jpki_pin_kind_t kind,
    const char *pin);
int card_jpki_sign(card_pcsc_t *p, jpki_pin_kind_t kind, const u_char *di,
    size_t len, u_char *sig, size_t *siglen);


#endif /* _CARD_PCSC_H_INCLUDED_ */
