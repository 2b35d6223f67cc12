
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the byte helpers the audit record prints with: a CRL
 * number (big-endian, up to 20 bytes) in decimal, as "openssl crl
 * -text" prints it, serials in upper-case hex, and dates in UTC.
 *
 * uses: ngx_http_sekisho_text.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_text.h"
#include "tap.h"


static char  out[128];


static const char *
utc(time_t t)
{
    u_char  *p;

    ngx_memset(out, 'x', sizeof(out));
    p = ngx_http_sekisho_utc((u_char *) out, t);
    if ((size_t) (p - (u_char *) out) != NGX_HTTP_SEKISHO_UTC_LEN
        || out[NGX_HTTP_SEKISHO_UTC_LEN] != 'x')
    {
        return "wrote a length other than NGX_HTTP_SEKISHO_UTC_LEN";
    }

    out[NGX_HTTP_SEKISHO_UTC_LEN] = '\0';

    return out;
}


static const char *
decimal(const u_char *be, size_t len)
{
    size_t  n;

    n = ngx_http_sekisho_decimal((u_char *) out, (u_char *) be, len);
    out[n] = '\0';

    return out;
}


int
main(void)
{
    u_char  n[20];

    ngx_memzero(n, sizeof(n));
    is_str(decimal(n, 20), "0", "zero, padded to 20 bytes");

    n[19] = 0x01;
    is_str(decimal(n, 20), "1", "one");

    n[18] = 0x10;
    n[19] = 0x00;
    is_str(decimal(n, 20), "4096", "0x1000, the test authority's CRL number");

    ngx_memzero(n, sizeof(n));
    ngx_memset(n + 12, 0xff, 8);
    is_str(decimal(n, 20), "18446744073709551615", "2^64 - 1");

    n[11] = 0x01;
    ngx_memzero(n + 12, 8);
    is_str(decimal(n, 20), "18446744073709551616", "2^64: past 64 bits");

    ngx_memset(n, 0xff, 20);
    is_str(decimal(n, 20), "1461501637330902918203684832716283019655932542975",
           "2^160 - 1: the largest CRL number RFC 5280 allows");

    is_str(decimal(n, 0), "0", "no bytes: zero");

    n[0] = 0x7b;
    is_str(decimal(n, 1), "123", "one byte");

    ngx_memzero(n, 4);
    n[2] = 0x30;
    n[3] = 0x39;
    is_int(ngx_http_sekisho_hex((u_char *) out, n + 2, 2), 4,
           "hex: 2 digits a byte");
    out[4] = '\0';
    is_str(out, "3039", "hex: upper case");

    is_str(utc(0), "1970-01-01T00:00:00Z", "utc: the epoch");
    is_str(utc(1793491200), "2026-11-01T00:00:00Z", "utc: a date");
    is_str(utc(-631152000), "1950-01-01T00:00:00Z",
           "utc: before the epoch (UTCTime's first year)");
    is_str(utc(253402300799), "9999-12-31T23:59:59Z",
           "utc: GeneralizedTime's last second");
    is_str(utc(253402300800), "1970-01-01T00:00:00Z",
           "utc: a year of five digits is not printed as one");

    return done_testing();
}
