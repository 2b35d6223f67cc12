
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: the lookup-path splitter and country codes of the
 * geo gate on arbitrary bytes (scripts/fuzz, make fuzz).
 *
 * uses: ngx_http_sekisho_geo_rules.c ngx_http_sekisho_reason.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_geo_rules.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *buf;
    const char  *out[NGX_HTTP_SEKISHO_GEO_PATH_MAX + 1];

    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);
    (void) ngx_http_sekisho_geo_split_path(buf, size, out,
                                           NGX_HTTP_SEKISHO_GEO_PATH_MAX);
    (void) ngx_http_sekisho_country_pack(data, size);

    free(buf);

    return 0;
}
