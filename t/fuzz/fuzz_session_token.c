
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the session cookie's value as a client can send it.
 * Arbitrary bytes are decoded as they come (the MAC fails first), and
 * again with a valid MAC appended, so that the field parsing behind
 * the MAC is reached too (scripts/fuzz, make fuzz).
 *
 * uses: ngx_http_sekisho_session_token.c ngx_http_sekisho_text.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ngx_http_sekisho_session_token.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static ngx_str_t  keys[2] = {
    ngx_string("fuzz-key-0123456789abcdef0123456789"),
    ngx_string("fuzz-old-0123456789abcdef0123456789")
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *buf, mac[32], out[NGX_HTTP_SEKISHO_TOKEN_MAX];
    size_t                       n;
    unsigned int                 mlen;
    ngx_uint_t                   key;
    ngx_http_sekisho_session_t   s;

    if (size > 2 * NGX_HTTP_SEKISHO_TOKEN_MAX) {
        return 0;
    }

    buf = malloc(size + 64);
    if (buf == NULL) {
        return 0;
    }

    /* as sent: no MAC a fuzzer can guess */
    memcpy(buf, data, size);
    (void) ngx_http_sekisho_session_decode(buf, size, keys, 2, &s, &key);

    /* with the MAC a gateway would have made for these bytes */
    if (HMAC(EVP_sha256(), keys[1].data, (int) keys[1].len, data, size, mac,
             &mlen)
        != NULL)
    {
        buf[size] = '.';
        n = ngx_http_sekisho_base64url_encode(buf + size + 1, mac, mlen);

        if (ngx_http_sekisho_session_decode(buf, size + 1 + n, keys, 2, &s,
                                            &key)
            == NGX_OK)
        {
            /* what decodes must encode again */
            if (ngx_http_sekisho_session_encode(out, &s, &keys[0]) == 0
                && s.serial_len != 0)
            {
                abort();
            }
        }
    }

    (void) ngx_http_sekisho_base64url_decode(out, sizeof(out), buf, size, &n);

    free(buf);

    return 0;
}
