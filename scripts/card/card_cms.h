
/*
 * Copyright (C) Sekisho authors
 *
 * A detached CMS SignedData (RFC 5652) made with a key that only signs
 * a DigestInfo, as the card does: OpenSSL's CMS_sign() wants the
 * private key itself, so the DER is written here.
 */


#ifndef _CARD_CMS_H_INCLUDED_
#define _CARD_CMS_H_INCLUDED_


#include <stddef.h>
#include <time.h>
#include <sys/types.h>


/* signs a DigestInfo; writes at most *siglen bytes; 0 or an error code */
typedef int (*card_cms_sign_pt)(void *data, const u_char *di, size_t len,
    u_char *sig, size_t *siglen);


int card_cms_detached(const u_char *cert, size_t cert_len,
    const u_char *content_sha256, time_t now, card_cms_sign_pt sign,
    void *data, u_char **out, size_t *out_len);


#endif /* _CARD_CMS_H_INCLUDED_ */
