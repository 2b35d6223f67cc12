
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: a revocation index as a worker maps it (scripts/fuzz,
 * make fuzz).  The index is this module's own file, written by rename,
 * but a disk or an operator may damage it: whatever the bytes, opening
 * must refuse them or give an index whose every lookup stays inside
 * them.  The first half of the input seeds a valid index (so the
 * fuzzer reaches the lookups), the rest is flipped into it.
 *
 * uses: ngx_http_sekisho_crl_index.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_crl_index.h"


#define KEY    NGX_HTTP_SEKISHO_CRLIX_KEY
#define NKEYS  86                   /* the last row has buckets */


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                        *index, *copy, keys[NKEYS * KEY],
                                   sources[32], issuer[20], scope[KEY];
    size_t                         len, i, half;
    ngx_uint_t                     n, r;
    ngx_http_sekisho_crlix_t       ix;
    ngx_http_sekisho_crlix_row_t   rows[4], *used;

    if (size < 8) {
        return 0;
    }

    /* a valid index from the first bytes: 4 rows, the last of 80 keys */
    ngx_memzero(rows, sizeof(rows));
    ngx_memzero(sources, sizeof(sources));
    ngx_memzero(issuer, sizeof(issuer));
    issuer[0] = 1;

    for (i = 0; i < NKEYS * KEY; i++) {
        keys[i] = data[i % size] ^ (u_char) (i / KEY);
    }

    for (r = 0; r < 4; r++) {
        ngx_memcpy(rows[r].issuer, issuer, sizeof(issuer));
        rows[r].scope[0] = (u_char) (data[r] & 0x03);
        rows[r].kind = data[r] % 3;
        rows[r].this_update = data[r + 4];
        rows[r].next_update = 1000;
        rows[r].first = r * 2;
        rows[r].count = (r == 3) ? NKEYS - 6 : 2;
    }

    if (ngx_http_sekisho_crlix_build(rows, 4, keys, NKEYS, NULL, 0, sources, 0,
                                     &index, &len)
        != NGX_OK)
    {
        return 0;
    }

    /* the rest of the input flips bytes of it, or cuts it */
    copy = malloc(len);
    ngx_memcpy(copy, index, len);
    half = size / 2;

    for (i = half; i + 2 < size; i += 3) {
        copy[((size_t) data[i] << 8 | data[i + 1]) % len] ^= data[i + 2];
    }

    if (size & 1) {
        len -= data[size - 1] % (len + 1);
    }

    /* exactly as long as it claims to be, for AddressSanitizer */
    free(index);
    index = malloc(len ? len : 1);
    ngx_memcpy(index, copy, len);
    free(copy);
    copy = index;
    index = NULL;

    if (ngx_http_sekisho_crlix_open(&ix, copy, len) == NGX_OK) {
        for (r = 0; r < 4; r++) {
            scope[0] = (u_char) r;
            ngx_memzero(scope + 1, KEY - 1);
            (void) ngx_http_sekisho_crlix_check(&ix, issuer, scope, 1,
                                                keys + r * 20 * KEY, r & 1,
                                                500, &used);
            (void) ngx_http_sekisho_crlix_find(&ix, issuer, NULL, &n);
        }
    }

    free(copy);
    free(index);

    return 0;
}
