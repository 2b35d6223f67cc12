
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: reading a login's account id (scripts/fuzz, make
 * fuzz).  The first byte picks the reader: a form or query string, a
 * JSON body, a multipart body, or the normaliser alone.  Besides
 * memory safety it checks what the lockout relies on: a value found
 * lies inside the data or the buffer, and the normal form of an id is
 * its own normal form (an operator's unlock finds the same counter).
 *
 * uses: ngx_http_sekisho_account.c ngx_http_sekisho_json.c
 * uses: ngx_http_sekisho_multipart.c ngx_http_sekisho_text.c
 * libs: -lutf8proc
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_account.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_normal(u_char *in, size_t len);
static int is_ascii(u_char *p, size_t n);


static void
check_normal(u_char *in, size_t len)
{
    u_char     once[NGX_HTTP_SEKISHO_ACCOUNT_MAX];
    u_char     twice[NGX_HTTP_SEKISHO_ACCOUNT_MAX];
    size_t     n1, n2;
    ngx_int_t  rc;

    if (ngx_http_sekisho_account_normalize(in, len, once, &n1, 0)
        != NGX_OK)
    {
        return;
    }

    if (n1 == 0 || n1 > NGX_HTTP_SEKISHO_ACCOUNT_MAX) {
        abort();
    }

    rc = ngx_http_sekisho_account_normalize(once, n1, twice, &n2, 0);

    if (rc != NGX_OK || n2 != n1 || memcmp(once, twice, n1) != 0) {
        abort();
    }

    /* ids=ascii accepts exactly the normal forms that are ASCII */
    rc = ngx_http_sekisho_account_normalize(in, len, twice, &n2, 1);

    if ((rc == NGX_OK) != is_ascii(once, n1)) {
        abort();
    }
}


static int
is_ascii(u_char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (p[i] >= 0x80) {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                           *body, *buf;
    size_t                            len;
    ngx_int_t                         rc;
    ngx_str_t                         boundary = ngx_string("XyZ");
    ngx_http_sekisho_account_find_t   f;

    if (size == 0) {
        return 0;
    }

    len = size - 1;
    body = malloc(len + 1);
    buf = malloc(len + 1);

    if (body == NULL || buf == NULL) {
        free(body);
        free(buf);
        return 0;
    }

    memcpy(body, data + 1, len);

    ngx_memzero(&f, sizeof(f));
    ngx_str_set(&f.field, "login_id");

    switch (data[0] & 3) {

    case 0:
        rc = ngx_http_sekisho_account_form(&f, body, len, buf);
        break;

    case 1:
        rc = ngx_http_sekisho_account_json(&f, body, len, buf);
        break;

    case 2:
        rc = ngx_http_sekisho_account_multipart(&f, body, len, &boundary,
                                                buf);
        break;

    default:
        check_normal(body, len);
        rc = NGX_DECLINED;
        break;
    }

    if (rc == NGX_OK && f.found) {
        if (f.found != 1) {
            abort();
        }

        if (!((f.value.data >= body && f.value.data + f.value.len
                                       <= body + len)
              || (f.value.data >= buf && f.value.data + f.value.len
                                         <= buf + len)))
        {
            abort();
        }

        check_normal(f.value.data, f.value.len);
    }

    free(body);
    free(buf);

    return 0;
}
