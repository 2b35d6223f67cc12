
/*
 * Copyright (C) Sekisho authors
 *
 * PC/SC for sekisho-card.  The card is found by its JPKI AID, never by
 * its ATR (real cards' ATRs vary).  One transaction spans the whole
 * command, so no other program can come between a VERIFY and the
 * signature it allows; on the way out the card is reset, so that no
 * program inherits a verified PIN.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <PCSC/pcsclite.h>
#include <openssl/crypto.h>
#include "card_pcsc.h"


#define card_err(...)  fprintf(stderr, "sekisho-card: " __VA_ARGS__)


static int card_pcsc_lost(card_pcsc_t *p, LONG rv);
static int card_pcsc_has_card(card_pcsc_t *p, const char *reader);
static int card_jpki_cmd(card_pcsc_t *p, const u_char *apdu, size_t n,
    u_char *resp, size_t size, size_t *rn, unsigned *sw);
static int card_jpki_select_ef(card_pcsc_t *p, unsigned fid);
static const char *card_pin_name(jpki_pin_kind_t kind);


int
card_pcsc_establish(card_pcsc_t *p)
{
    LONG  rv;

    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);

    if (rv == SCARD_E_NO_SERVICE) {
        card_err("PC/SC service not running (start pcscd)\n");
        return CARD_NO_SERVICE;
    }

    if (rv != SCARD_S_SUCCESS) {
        card_err("PC/SC: %s\n", pcsc_stringify_error(rv));
        return CARD_ERROR;
    }

    p->have_ctx = 1;

    return CARD_OK;
}


/* *readers is a multi-string (names, each NUL-ended, then a NUL) */

int
card_pcsc_list(card_pcsc_t *p, char **readers, DWORD *len)
{
    LONG  rv;

    *readers = NULL;
    *len = SCARD_AUTOALLOCATE;

    rv = SCardListReaders(p->ctx, NULL, (LPSTR) readers, len);

    if (rv == SCARD_E_NO_READERS_AVAILABLE
        || (rv == SCARD_S_SUCCESS && (*len <= 1 || (*readers)[0] == '\0')))
    {
        card_err("no smart card reader found\n");
        return CARD_NO_READER;
    }

    if (rv == SCARD_E_NO_SERVICE) {
        card_err("PC/SC service not running (start pcscd)\n");
        return CARD_NO_SERVICE;
    }

    if (rv != SCARD_S_SUCCESS) {
        card_err("PC/SC: cannot list readers: %s\n",
                 pcsc_stringify_error(rv));
        return CARD_ERROR;
    }

    return CARD_OK;
}


static int
card_pcsc_has_card(card_pcsc_t *p, const char *reader)
{
    SCARD_READERSTATE  rs;

    memset(&rs, 0, sizeof(SCARD_READERSTATE));
    rs.szReader = reader;
    rs.dwCurrentState = SCARD_STATE_UNAWARE;

    if (SCardGetStatusChange(p->ctx, 0, &rs, 1) != SCARD_S_SUCCESS) {
        return 0;
    }

    return (rs.dwEventState & SCARD_STATE_PRESENT) ? 1 : 0;
}


/*
 * want: a reader's number (from "readers"), its name or the start of
 * it, or NULL for the first reader with a card.
 */

int
card_pcsc_connect(card_pcsc_t *p, const char *want)
{
    int          rc, i, n;
    char        *readers, *r, *end, *found;
    LONG         rv;
    DWORD        len;
    long         index;

    rc = card_pcsc_list(p, &readers, &len);
    if (rc != CARD_OK) {
        return rc;
    }

    found = NULL;
    index = -1;

    if (want && want[0]) {
        index = strtol(want, &end, 10);
        if (*end != '\0' || index < 0) {
            index = -1;
        }
    }

    for (r = readers, i = 0; *r; r += strlen(r) + 1, i++) {
        if (want == NULL || want[0] == '\0') {
            if (card_pcsc_has_card(p, r)) {
                found = r;
                break;
            }
            continue;
        }

        if (index >= 0 ? i == index
                       : strncmp(r, want, strlen(want)) == 0)
        {
            found = r;
            break;
        }
    }

    if (found == NULL) {
        if (want && want[0]) {
            card_err("no reader \"%s\" (see: sekisho-card readers)\n", want);
            rc = CARD_NO_READER;

        } else {
            card_err("no card in any reader\n");
            rc = CARD_NO_CARD;
        }

        SCardFreeMemory(p->ctx, readers);
        return rc;
    }

    n = snprintf(p->reader, sizeof(p->reader), "%s", found);
    SCardFreeMemory(p->ctx, readers);

    if (n < 0 || (size_t) n >= sizeof(p->reader)) {
        card_err("reader name too long\n");
        return CARD_ERROR;
    }

    rv = SCardConnect(p->ctx, p->reader, SCARD_SHARE_SHARED,
                      SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->card,
                      &p->protocol);

    switch (rv) {
    case SCARD_S_SUCCESS:
        break;

    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
        card_err("no card in reader \"%s\"\n", p->reader);
        return CARD_NO_CARD;

    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
        card_err("reader \"%s\" is gone\n", p->reader);
        return CARD_NO_READER;

    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_E_PROTO_MISMATCH:
        card_err("the card in \"%s\" does not answer: %s\n", p->reader,
                 pcsc_stringify_error(rv));
        return CARD_CARD_FAILED;

    case SCARD_E_SHARING_VIOLATION:
        card_err("the card is in exclusive use by another program\n");
        return CARD_ERROR;

    default:
        card_err("cannot connect to the card: %s\n",
                 pcsc_stringify_error(rv));
        return CARD_ERROR;
    }

    p->have_card = 1;

    rv = SCardBeginTransaction(p->card);
    if (rv != SCARD_S_SUCCESS) {
        return card_pcsc_lost(p, rv);
    }

    p->in_tx = 1;

    return CARD_OK;
}


/*
 * A failed exchange: the card was pulled out if PC/SC says so, or if
 * the reader shows it gone within a moment (vpcd and some readers
 * first fail the exchange, then notice the card is missing).
 */

static int
card_pcsc_lost(card_pcsc_t *p, LONG rv)
{
    int                removed;
    SCARD_READERSTATE  rs;

    removed = (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD);

    if (!removed) {
        memset(&rs, 0, sizeof(SCARD_READERSTATE));
        rs.szReader = p->reader;
        rs.dwCurrentState = SCARD_STATE_UNAWARE;

        if (SCardGetStatusChange(p->ctx, 0, &rs, 1) == SCARD_S_SUCCESS) {
            if (!(rs.dwEventState & SCARD_STATE_EMPTY)) {
                rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
                (void) SCardGetStatusChange(p->ctx, 2000, &rs, 1);
            }

            removed = (rs.dwEventState & SCARD_STATE_EMPTY) ? 1 : 0;
        }
    }

    if (removed) {
        card_err("the card was removed\n");
        return CARD_REMOVED;
    }

    if (rv == SCARD_W_RESET_CARD) {
        card_err("the card was reset by another program; try again\n");
        return CARD_CARD_FAILED;
    }

    card_err("card communication failed: %s\n", pcsc_stringify_error(rv));
    return CARD_CARD_FAILED;
}


/*
 * One command: 61xx fetches the rest with GET RESPONSE, 6Cxx sends the
 * command again with Le = xx (both as over T=0 and with some readers).
 */

int
card_pcsc_transmit(card_pcsc_t *p, const u_char *apdu, size_t n,
    u_char *resp, size_t size, size_t *rn, unsigned *sw)
{
    int                     i;
    char                    trace[64];
    u_char                  cmd[JPKI_APDU_MAX], rbuf[258];
    LONG                    rv;
    DWORD                   rlen;
    size_t                  cn, dn;
    unsigned                arg;
    const SCARD_IO_REQUEST *pci;

    if (n > sizeof(cmd)) {
        return CARD_ERROR;
    }

    pci = (p->protocol == SCARD_PROTOCOL_T0) ? SCARD_PCI_T0 : SCARD_PCI_T1;
    memcpy(cmd, apdu, n);
    cn = n;
    *rn = 0;

    for (i = 0; i < 32; i++) {
        if (p->verbose) {
            jpki_apdu_trace(trace, sizeof(trace), cmd, cn);
            fprintf(stderr, "> %s%s\n", trace,
                    strlen(trace) >= sizeof(trace) - 5 ? " ..." : "");
        }

        rlen = sizeof(rbuf);
        rv = SCardTransmit(p->card, pci, cmd, (DWORD) cn, NULL, rbuf, &rlen);

        if (rv != SCARD_S_SUCCESS) {
            OPENSSL_cleanse(cmd, sizeof(cmd));
            return card_pcsc_lost(p, rv);
        }

        /* vpcd answers nothing when the card went away mid-command */
        if (rlen < 2) {
            OPENSSL_cleanse(cmd, sizeof(cmd));
            return card_pcsc_lost(p, SCARD_E_NOT_TRANSACTED);
        }

        dn = rlen - 2;
        *sw = (unsigned) rbuf[dn] << 8 | rbuf[dn + 1];

        if (p->verbose) {
            fprintf(stderr, "< %04X (%zu bytes)\n", *sw, dn);
        }

        if (*rn + dn > size) {
            OPENSSL_cleanse(cmd, sizeof(cmd));
            card_err("the card gave a longer answer than expected\n");
            return CARD_CARD_FAILED;
        }

        memcpy(resp + *rn, rbuf, dn);
        *rn += dn;

        switch (jpki_sw_class(*sw, &arg)) {

        case JPKI_SWC_MORE:
            cn = jpki_apdu_get_response(cmd, arg);
            continue;

        case JPKI_SWC_WRONG_LE:
            /* only a command that has an Le can be sent with another */
            if (cn == 4 || (cn > 5 && cn == (size_t) cmd[4] + 5)) {
                break;
            }
            cmd[cn - 1] = (u_char) (arg & 0xFF);
            *rn -= dn;
            continue;

        default:
            break;
        }

        OPENSSL_cleanse(cmd, sizeof(cmd));
        return CARD_OK;
    }

    OPENSSL_cleanse(cmd, sizeof(cmd));
    card_err("the card keeps asking for GET RESPONSE\n");
    return CARD_CARD_FAILED;
}


void
card_pcsc_close(card_pcsc_t *p)
{
    if (p->in_tx) {
        (void) SCardEndTransaction(p->card, SCARD_LEAVE_CARD);
        p->in_tx = 0;
    }

    if (p->have_card) {
        /* a reset ends the security state: no verified PIN is left */
        (void) SCardDisconnect(p->card, SCARD_RESET_CARD);
        p->have_card = 0;
    }

    if (p->have_ctx) {
        (void) SCardReleaseContext(p->ctx);
        p->have_ctx = 0;
    }
}


static int
card_jpki_cmd(card_pcsc_t *p, const u_char *apdu, size_t n, u_char *resp,
    size_t size, size_t *rn, unsigned *sw)
{
    u_char  dummy[258];
    size_t  dn;

    if (resp == NULL) {
        resp = dummy;
        size = sizeof(dummy);
        rn = &dn;
    }

    return card_pcsc_transmit(p, apdu, n, resp, size, rn, sw);
}


int
card_jpki_select(card_pcsc_t *p)
{
    int       rc;
    u_char    apdu[JPKI_APDU_MAX];
    unsigned  sw;

    rc = card_jpki_cmd(p, apdu, jpki_apdu_select_ap(apdu), NULL, 0, NULL,
                       &sw);
    if (rc != CARD_OK) {
        return rc;
    }

    if (sw != JPKI_SW_OK) {
        card_err("not a JPKI card: the card has no JPKI application "
                 "(SELECT answered %04X, %s)\n", sw, jpki_sw_text(sw));
        return CARD_NOT_JPKI;
    }

    return CARD_OK;
}


static int
card_jpki_select_ef(card_pcsc_t *p, unsigned fid)
{
    int       rc;
    u_char    apdu[JPKI_APDU_MAX];
    unsigned  sw;

    rc = card_jpki_cmd(p, apdu, jpki_apdu_select_ef(apdu, fid), NULL, 0,
                       NULL, &sw);
    if (rc != CARD_OK) {
        return rc;
    }

    if (sw != JPKI_SW_OK) {
        card_err("the card has no EF %04X (%04X, %s)\n", fid, sw,
                 jpki_sw_text(sw));
        return CARD_CARD_FAILED;
    }

    return CARD_OK;
}


/* EF 0006: 32 bytes naming the kind of token */

int
card_jpki_token(card_pcsc_t *p, u_char *token)
{
    int       rc;
    u_char    apdu[JPKI_APDU_MAX];
    size_t    n;
    unsigned  sw;

    rc = card_jpki_select_ef(p, JPKI_EF_TOKEN);
    if (rc != CARD_OK) {
        return rc;
    }

    memset(token, ' ', JPKI_TOKEN_LEN);

    rc = card_jpki_cmd(p, apdu, jpki_apdu_read_binary(apdu, 0, JPKI_TOKEN_LEN),
                       token, JPKI_TOKEN_LEN, &n, &sw);
    if (rc != CARD_OK) {
        return rc;
    }

    if (sw != JPKI_SW_OK && sw != JPKI_SW_EOF) {
        card_err("cannot read the token EF (%04X, %s)\n", sw,
                 jpki_sw_text(sw));
        return CARD_CARD_FAILED;
    }

    return CARD_OK;
}


/*
 * A certificate EF, as OpenSC reads it: 4 bytes for the DER length,
 * then 256-byte chunks and the exact remainder.
 */

int
card_jpki_read(card_pcsc_t *p, unsigned fid, u_char **data, size_t *len)
{
    int       rc;
    u_char    apdu[JPKI_APDU_MAX], *buf;
    size_t    total, off, want, n;
    unsigned  sw;

    *data = NULL;

    rc = card_jpki_select_ef(p, fid);
    if (rc != CARD_OK) {
        return rc;
    }

    buf = malloc(0x8000);
    if (buf == NULL) {
        card_err("out of memory\n");
        return CARD_ERROR;
    }

    off = 0;
    total = 4;

    while (off < total) {
        want = total - off < 256 ? total - off : 256;

        rc = card_jpki_cmd(p, apdu,
                           jpki_apdu_read_binary(apdu, (unsigned) off,
                                                 (unsigned) want),
                           buf + off, 0x8000 - off, &n, &sw);
        if (rc != CARD_OK) {
            free(buf);
            return rc;
        }

        if (sw == JPKI_SW_SECURITY) {
            free(buf);
            card_err("security status not satisfied: EF %04X needs the "
                     "PIN first\n", fid);
            return CARD_SECURITY;
        }

        if ((sw != JPKI_SW_OK && sw != JPKI_SW_EOF) || n == 0 || n > want) {
            free(buf);
            card_err("cannot read EF %04X at %zu (%04X, %s)\n", fid, off,
                     sw, jpki_sw_text(sw));
            return CARD_CARD_FAILED;
        }

        off += n;

        if (total == 4 && off >= 4) {
            if (jpki_der_total_len(buf, off, &total) != 0
                || total > 0x7FFF)
            {
                free(buf);
                card_err("EF %04X holds no certificate\n", fid);
                return CARD_CARD_FAILED;
            }
        }
    }

    *data = buf;
    *len = total;

    return CARD_OK;
}


int
card_jpki_tries(card_pcsc_t *p, jpki_pin_kind_t kind, unsigned *tries)
{
    int         rc;
    u_char      apdu[JPKI_APDU_MAX];
    unsigned    sw, arg;
    jpki_swc_t  c;

    rc = card_jpki_select_ef(p, jpki_pin_ef(kind));
    if (rc != CARD_OK) {
        return rc;
    }

    rc = card_jpki_cmd(p, apdu, jpki_apdu_verify(apdu, NULL, 0), NULL, 0,
                       NULL, &sw);
    if (rc != CARD_OK) {
        return rc;
    }

    c = jpki_sw_class(sw, &arg);

    switch (c) {
    case JPKI_SWC_WRONG_PIN:
        *tries = arg;
        return CARD_OK;

    case JPKI_SWC_BLOCKED:
        *tries = 0;
        return CARD_OK;

    case JPKI_SWC_OK:
        /* already verified in this session */
        *tries = jpki_pin_max_tries(kind);
        return CARD_OK;

    default:
        card_err("cannot read the %s PIN's tries left (%04X, %s)\n",
                 card_pin_name(kind), sw, jpki_sw_text(sw));
        return CARD_CARD_FAILED;
    }
}


static const char *
card_pin_name(jpki_pin_kind_t kind)
{
    return kind == JPKI_PIN_AUTH ? "auth (利用者証明用)" : "sign (署名用)";
}


/*
 * VERIFY, after looking at the tries left: a blocked PIN is not tried
 * again.  pin has been checked by jpki_pin_normalize().
 */

int
card_jpki_verify(card_pcsc_t *p, jpki_pin_kind_t kind, const char *pin)
{
    int       rc;
    u_char    apdu[JPKI_APDU_MAX];
    unsigned  sw, arg, tries;

    rc = card_jpki_tries(p, kind, &tries);
    if (rc != CARD_OK) {
        return rc;
    }

    if (tries == 0) {
        card_err("the %s PIN is blocked; the municipal office can reset "
                 "it\n", card_pin_name(kind));
        return CARD_PIN_BLOCKED;
    }

    rc = card_jpki_cmd(p, apdu, jpki_apdu_verify(apdu, pin, strlen(pin)),
                       NULL, 0, NULL, &sw);
    OPENSSL_cleanse(apdu, sizeof(apdu));

    if (rc != CARD_OK) {
        return rc;
    }

    switch (jpki_sw_class(sw, &arg)) {
    case JPKI_SWC_OK:
        return CARD_OK;

    case JPKI_SWC_WRONG_PIN:
        card_err("wrong %s PIN: %u %s left\n", card_pin_name(kind), arg,
                 arg == 1 ? "try" : "tries");
        return CARD_WRONG_PIN;

    case JPKI_SWC_BLOCKED:
        card_err("wrong %s PIN: the PIN is now blocked; the municipal "
                 "office can reset it\n", card_pin_name(kind));
        return CARD_PIN_BLOCKED;

    default:
        card_err("VERIFY failed (%04X, %s)\n", sw, jpki_sw_text(sw));
        return CARD_CARD_FAILED;
    }
}


/* di: a DigestInfo; the card pads it and signs: 256 bytes */

int
card_jpki_sign(card_pcsc_t *p, jpki_pin_kind_t kind, const u_char *di,
    size_t len, u_char *sig, size_t *siglen)
{
    int       rc;
    u_char    apdu[JPKI_APDU_MAX];
    unsigned  sw;

    rc = card_jpki_select_ef(p, jpki_key_ef(kind));
    if (rc != CARD_OK) {
        return rc;
    }

    rc = card_jpki_cmd(p, apdu, jpki_apdu_sign(apdu, di, len), sig,
                       JPKI_SIG_LEN, siglen, &sw);
    if (rc != CARD_OK) {
        return rc;
    }

    if (sw == JPKI_SW_SECURITY) {
        card_err("security status not satisfied: the %s key needs its "
                 "PIN first\n", card_pin_name(kind));
        return CARD_SECURITY;
    }

    if (sw != JPKI_SW_OK || *siglen != JPKI_SIG_LEN) {
        card_err("the card did not sign (%04X, %s)\n", sw,
                 jpki_sw_text(sw));
        return CARD_CARD_FAILED;
    }

    return CARD_OK;
}
