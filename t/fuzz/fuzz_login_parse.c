
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the login body parsers and the account
 * normalisation on arbitrary bytes (scripts/fuzz, make fuzz).
 *
 * uses: ngx_http_sekisho_login_parse.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_login_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char     *body, *buf;
    ngx_str_t   name = ngx_string("user"), out;

    body = malloc(size + 1);
    buf = malloc(size + 1);

    if (body == NULL || buf == NULL) {
        free(body);
        free(buf);
        return 0;
    }

    memcpy(body, data, size);

    if (ngx_http_sekisho_form_value(body, size, &name, &out, buf) == NGX_OK) {
        (void) ngx_http_sekisho_account_normalize(&out);
    }

    if (ngx_http_sekisho_json_value(body, size, &name, &out, buf) == NGX_OK) {
        (void) ngx_http_sekisho_account_normalize(&out);
    }

    free(body);
    free(buf);

    return 0;
}
