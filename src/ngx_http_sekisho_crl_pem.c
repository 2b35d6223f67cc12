
/*
 * Copyright (C) Sekisho authors
 *
 * A CRL in PEM (RFC 7468) decoded to its DER.  Strict, so that a file
 * is not read one way here and another by OpenSSL: one block, white
 * space only around it, no headers, no empty line, canonical base64.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_crl_pem.h"
#include "ngx_http_sekisho_text.h"


static ngx_uint_t ngx_http_sekisho_crl_pem_begins(u_char *p, u_char *end);


#define ngx_http_sekisho_crl_pem_space(c)                                     \
    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')


static u_char  ngx_http_sekisho_crl_begin[] = "-----BEGIN X509 CRL-----";
static u_char  ngx_http_sekisho_crl_end[] = "-----END X509 CRL-----";


/*
 * RFC 7468 text, strictly: white space, the BEGIN line (at a line's
 * start), base64 in lines (LF or CRLF, no other white space, no empty
 * line, no headers), the END line, white space.  In place is safe:
 * three octets are written for every four characters read, and the
 * BEGIN line is read first.
 */

ngx_int_t
ngx_http_sekisho_crl_pem(u_char *pem, size_t len, u_char *der, size_t *dlen)
{
    u_char     *p, *end, *w, c;
    size_t      n;
    uint32_t    acc;
    ngx_int_t   v;
    ngx_uint_t  chars, pad, done, bol;

    p = pem;
    end = pem + len;

    /* a DER SEQUENCE: "0" may not start PEM */
    if (len && p[0] == 0x30) {
        return NGX_DECLINED;
    }

    while (p < end && ngx_http_sekisho_crl_pem_space(*p)) {
        p++;
    }

    n = sizeof(ngx_http_sekisho_crl_begin) - 1;

    if ((size_t) (end - p) < n
        || ngx_memcmp(p, ngx_http_sekisho_crl_begin, n) != 0)
    {
        return ngx_http_sekisho_crl_pem_begins(pem, end) ? NGX_ERROR
                                                          : NGX_DECLINED;
    }

    /* BEGIN starts a line, as OpenSSL's reader looks for it */
    if (p > pem && p[-1] != '\n') {
        return NGX_ERROR;
    }

    p += n;

    if (p < end && *p == '\r') {
        p++;
    }

    if (p == end || *p++ != '\n') {
        return NGX_ERROR;
    }

    w = der;
    acc = 0;
    chars = 0;
    pad = 0;
    done = 0;
    bol = 1;

    for ( ;; ) {

        if (p == end) {
            return NGX_ERROR;
        }

        c = *p++;

        /* no empty line: OpenSSL would take what is above for headers */
        if (c == '\n') {
            if (bol) {
                return NGX_ERROR;
            }

            bol = 1;
            continue;
        }

        if (c == '\r') {
            if (p == end || *p != '\n') {
                return NGX_ERROR;
            }

            continue;
        }

        if (c == '-' && bol) {
            p--;
            break;
        }

        bol = 0;

        if (done) {
            return NGX_ERROR;
        }

        if (c == '=') {
            /* "xx==" or "xxx=" ends the data */
            if (chars < 2) {
                return NGX_ERROR;
            }

            pad++;

            if (chars + pad < 4) {
                continue;
            }

            /* the bits past the last octet are zero in canonical base64 */
            if (chars == 3) {
                if (acc & 0x03) {
                    return NGX_ERROR;
                }

                *w++ = (u_char) (acc >> 10);
                *w++ = (u_char) (acc >> 2);

            } else {
                if (acc & 0x0f) {
                    return NGX_ERROR;
                }

                *w++ = (u_char) (acc >> 4);
            }

            chars = 0;
            done = 1;
            continue;
        }

        if (pad) {
            return NGX_ERROR;
        }

        v = ngx_http_sekisho_base64_digit(c, 0);

        if (v == NGX_ERROR) {
            return NGX_ERROR;
        }

        acc = (acc << 6) | (uint32_t) v;

        if (++chars == 4) {
            *w++ = (u_char) (acc >> 16);
            *w++ = (u_char) (acc >> 8);
            *w++ = (u_char) acc;
            acc = 0;
            chars = 0;
        }
    }

    n = sizeof(ngx_http_sekisho_crl_end) - 1;

    if (chars != 0 || (pad && !done) || w == der
        || (size_t) (end - p) < n
        || ngx_memcmp(p, ngx_http_sekisho_crl_end, n) != 0)
    {
        return NGX_ERROR;
    }

    for (p += n; p < end; p++) {
        if (!ngx_http_sekisho_crl_pem_space(*p)) {
            return NGX_ERROR;
        }
    }

    *dlen = w - der;

    return NGX_OK;
}


/* a "-----BEGIN" anywhere: PEM after something else, not DER */

static ngx_uint_t
ngx_http_sekisho_crl_pem_begins(u_char *p, u_char *end)
{
    static u_char  begin[] = "-----BEGIN";

    for ( /* void */ ; (size_t) (end - p) >= sizeof(begin) - 1; p++) {
        if (p[0] == '-' && ngx_memcmp(p, begin, sizeof(begin) - 1) == 0) {
            return 1;
        }
    }

    return 0;
}
