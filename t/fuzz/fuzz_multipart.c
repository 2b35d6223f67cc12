
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the multipart/form-data reader (scripts/fuzz, make
 * fuzz).  The first byte is the boundary's length (0 to 71, so that
 * refused lengths are tried too), the boundary follows, then the body.
 * Every part's strings must lie inside the body or "buf", and a reader
 * that said NGX_DONE or NGX_ERROR must keep saying it.
 *
 * uses: ngx_http_sekisho_multipart.c ngx_http_sekisho_text.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_multipart.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_inside(ngx_str_t *s, u_char *start, size_t len);


static void
fuzz_inside(ngx_str_t *s, u_char *start, size_t len)
{
    if (s->len == 0) {
        return;
    }

    if (s->data < start || s->data > start + len
        || s->len > (size_t) (start + len - s->data))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                        *body, *buf, *bd;
    size_t                         blen, len;
    ngx_int_t                      rc;
    ngx_str_t                      boundary;
    ngx_uint_t                     n;
    ngx_http_sekisho_part_t        part;
    ngx_http_sekisho_multipart_t   mp;

    if (size == 0) {
        return 0;
    }

    blen = data[0] % 72;

    if (size - 1 < blen) {
        return 0;
    }

    len = size - 1 - blen;

    /* separate allocations of the exact sizes, for ASan */
    bd = malloc(blen ? blen : 1);
    body = malloc(len ? len : 1);
    buf = malloc(len ? len : 1);

    if (bd == NULL || body == NULL || buf == NULL) {
        free(bd);
        free(body);
        free(buf);
        return 0;
    }

    memcpy(bd, data + 1, blen);
    memcpy(body, data + 1 + blen, len);

    boundary.data = bd;
    boundary.len = blen;

    if (ngx_http_sekisho_multipart_init(&mp, body, len, &boundary) != NGX_OK) {
        if (ngx_http_sekisho_multipart_next(&mp, &part, buf) != NGX_ERROR) {
            abort();
        }

        goto done;
    }

    for (n = 0; /* void */; n++) {
        rc = ngx_http_sekisho_multipart_next(&mp, &part, buf);

        if (rc != NGX_OK) {
            break;
        }

        if (n == NGX_HTTP_SEKISHO_MULTIPART_PARTS || part.name.len == 0) {
            abort();
        }

        fuzz_inside(&part.name, body, len);
        fuzz_inside(&part.value, body, len);
        fuzz_inside(&part.content_type, body, len);
        fuzz_inside(&part.transfer_encoding, body, len);
        fuzz_inside(&part.name_ext, buf, len);
    }

    if ((rc != NGX_DONE && rc != NGX_ERROR)
        || ngx_http_sekisho_multipart_next(&mp, &part, buf) != rc)
    {
        abort();
    }

done:

    free(bd);
    free(body);
    free(buf);

    return 0;
}
