
/*
 * Copyright (C) Sekisho authors
 *
 * Encodings the card tools print and send: hex, base64 and base64url.
 */


#ifndef _CARD_CODEC_H_INCLUDED_
#define _CARD_CODEC_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>


#define card_base64_len(n)  ((((n) + 2) / 3) * 4)


int card_hex_decode(const char *hex, u_char *out, size_t size, size_t *n);
size_t card_base64_encode(const u_char *in, size_t n, char *out, int url);
int card_base64_decode(const char *in, size_t len, u_char *out, size_t size,
    size_t *n, int url);
int card_is_base64url(const char *s, size_t len);


#endif /* _CARD_CODEC_H_INCLUDED_ */
