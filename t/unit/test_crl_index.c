
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the revocation index: serial keys, building and
 * opening, the hash table of rows, the search of a CRL's keys through
 * its buckets against a plain scan (serials in order, at random, of
 * mixed lengths, in far clusters, one key, none), which CRL speaks (the
 * newest of a scope and kind, whole-issuer CRLs, ARLs, one not yet
 * begun, a stale one), and damaged indexes and buckets refused.
 *
 * uses: ngx_http_sekisho_crl_index.c
 * libs: -lcrypto
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_crl_index.h"
#include "tap.h"


#define KEY  NGX_HTTP_SEKISHO_CRLIX_KEY


static u_char  issuer_a[NGX_HTTP_SEKISHO_CRLIX_ISSUER] = { 0xa1, 0x02 };
static u_char  issuer_b[NGX_HTTP_SEKISHO_CRLIX_ISSUER] = { 0xb1, 0x02 };
static u_char  sources[32];          /* the digest of what was read */

static uint64_t  seed = 0x9e3779b97f4a7c15ULL;


static uint64_t
rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;

    return seed;
}


/* a serial of "len" bytes from a number, big-endian */

static void
serial_of(uint64_t v, size_t len, u_char *out)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        out[len - 1 - i] = (i < 8) ? (u_char) (v >> (8 * i)) : 0x5a;
    }
}


static void
row_init(ngx_http_sekisho_crlix_row_t *row, u_char *issuer, const char *dp,
    uint32_t kind, time_t this_update, time_t next_update, uint64_t first,
    uint64_t count)
{
    ngx_memzero(row, sizeof(*row));
    ngx_memcpy(row->issuer, issuer, NGX_HTTP_SEKISHO_CRLIX_ISSUER);

    if (dp) {
        ngx_http_sekisho_crlix_scope_key((u_char *) dp, strlen(dp),
                                         row->scope);
    }

    row->kind = kind;
    row->this_update = this_update;
    row->next_update = next_update;
    row->first = first;
    row->count = count;
}


static void
test_serial_keys(void)
{
    u_char  a[KEY], b[KEY], big[20];

    ngx_http_sekisho_crlix_serial_key((u_char *) "\x00\x80\x01", 3, a);
    ngx_http_sekisho_crlix_serial_key((u_char *) "\x80\x01", 2, b);
    ok(memcmp(a, b, KEY) == 0, "the INTEGER's sign byte does not matter");
    is_int(a[0], 2, "a short serial: its length first");

    ngx_http_sekisho_crlix_serial_key((u_char *) "\x00", 1, a);
    is_int(a[0], 1, "serial 0 keeps one byte");

    memset(big, 0x7f, sizeof(big));
    ngx_http_sekisho_crlix_serial_key(big, sizeof(big), a);
    is_int(a[0], 0xff, "a 20-byte serial: hashed, behind 0xff");
    big[19] ^= 1;
    ngx_http_sekisho_crlix_serial_key(big, sizeof(big), b);
    ok(memcmp(a, b, KEY) != 0, "and its last byte counts");

    ngx_http_sekisho_crlix_scope_key((u_char *) "x", 1, a);
    ok(a[0] & 0x01, "a point's key is never the whole issuer's");
}


/*
 * One CRL of n keys made by "make", looked up for every key it holds
 * and as many it does not: the index answers as a scan does.
 */

typedef uint64_t (*make_pt)(uint64_t i, size_t *len);


static uint64_t
make_sequential(uint64_t i, size_t *len)
{
    *len = 4;
    return 0x10000000 + i * 3;
}


static uint64_t
make_random(uint64_t i, size_t *len)
{
    *len = 9;
    return rnd() | 0x8000000000000000ULL;
}


static uint64_t
make_mixed(uint64_t i, size_t *len)
{
    *len = 1 + rnd() % 19;
    return rnd() >> (rnd() % 64);
}


static uint64_t
make_clusters(uint64_t i, size_t *len)
{
    /* all but one at the bottom, one at the top: the worst guess */
    *len = 8;
    return (i == 0) ? 0xfffffffffffffff0ULL : 1000 + i * 2;
}


static void
test_search(const char *name, make_pt make, uint64_t n)
{
    char                           what[128];
    u_char                        *keys, *index, serial[20], key[KEY],
                                   scope[KEY];
    size_t                         len, index_len;
    uint64_t                       i, v, wrong_in, wrong_out;
    ngx_uint_t                     rc, j, listed;
    ngx_http_sekisho_crlix_t       ix;
    ngx_http_sekisho_crlix_row_t   row, *used;

    keys = malloc((n ? n : 1) * KEY);

    for (i = 0; i < n; i++) {
        v = make(i, &len);
        serial_of(v, len, serial);
        ngx_http_sekisho_crlix_serial_key(serial, len, keys + i * KEY);
    }

    row_init(&row, issuer_a, "City", NGX_HTTP_SEKISHO_CRLIX_USERS,
             1000, 5000, 0, n);
    ngx_http_sekisho_crlix_scope_key((u_char *) "City", 4, scope);

    snprintf(what, sizeof(what), "%s: %lu keys indexed", name,
             (unsigned long) n);
    ok(ngx_http_sekisho_crlix_build(&row, 1, keys, n, NULL, 0, sources, 2000,
                                    &index, &index_len) == NGX_OK
       && ngx_http_sekisho_crlix_open(&ix, index, index_len) == NGX_OK,
       what);

    wrong_in = 0;
    wrong_out = 0;

    for (i = 0; i < n; i++) {
        rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scope, 1,
                                          ix.keys + i * KEY, 0, 3000, &used);
        wrong_in += (rc != NGX_HTTP_SEKISHO_CRLIX_REVOKED);
    }

    /* keys it does not hold: near its own, and anywhere */
    for (i = 0; i < 2 * n + 1000; i++) {
        if (n && (i & 1)) {
            memcpy(key, ix.keys + (rnd() % n) * KEY, KEY);
            key[KEY - 1 - rnd() % 3] ^= (u_char) (1 + rnd() % 255);

        } else {
            v = make_mixed(0, &len);
            serial_of(v, len, serial);
            ngx_http_sekisho_crlix_serial_key(serial, len, key);
        }

        listed = 0;

        for (j = 0; j < n; j++) {
            if (memcmp(ix.keys + j * KEY, key, KEY) == 0) {
                listed = 1;
                break;
            }
        }

        rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scope, 1, key, 0,
                                          3000, &used);
        wrong_out += (rc != (listed ? NGX_HTTP_SEKISHO_CRLIX_REVOKED
                                    : NGX_HTTP_SEKISHO_CRLIX_GOOD));
    }

    snprintf(what, sizeof(what), "%s: every key held is found", name);
    is_int((int) wrong_in, 0, what);
    snprintf(what, sizeof(what), "%s: others answer as a scan does", name);
    is_int((int) wrong_out, 0, what);

    free(index);
    free(keys);
}


static u_char *
key_of(uint64_t v)
{
    static u_char  keys[8][KEY];
    static int     k;
    u_char         serial[8];

    k = (k + 1) % 8;
    serial_of(v, 8, serial);
    ngx_http_sekisho_crlix_serial_key(serial, 8, keys[k]);

    return keys[k];
}


/*
 * Which CRL speaks: of a scope the newest begun; whole-issuer CRLs for
 * every certificate of the issuer; an ARL only for CAs.
 */

static void
test_speaking(void)
{
    u_char                         keys[6 * KEY], *index, scopes[2 * KEY];
    size_t                         index_len;
    ngx_uint_t                     rc;
    ngx_http_sekisho_crlix_t       ix;
    ngx_http_sekisho_crlix_row_t   rows[7], *used, *found;
    ngx_uint_t                     n;

    /* keys: 0 revoked in Mito's older CRL, 1 in Mito's newer,
     * 2 in the complete CRL, 3 (a CA) in the ARL, 4 in a future CRL,
     * 5 in issuer b's Mito CRL */
    memcpy(keys + 0 * KEY, key_of(100), KEY);
    memcpy(keys + 1 * KEY, key_of(101), KEY);
    memcpy(keys + 2 * KEY, key_of(102), KEY);
    memcpy(keys + 3 * KEY, key_of(103), KEY);
    memcpy(keys + 4 * KEY, key_of(104), KEY);
    memcpy(keys + 5 * KEY, key_of(105), KEY);

    row_init(&rows[0], issuer_a, "Mito", NGX_HTTP_SEKISHO_CRLIX_USERS,
             1000, 5000, 0, 1);
    row_init(&rows[1], issuer_a, "Mito", NGX_HTTP_SEKISHO_CRLIX_USERS,
             2000, 5000, 1, 1);
    row_init(&rows[2], issuer_a, NULL, NGX_HTTP_SEKISHO_CRLIX_ALL,
             1600, 5000, 2, 1);
    row_init(&rows[3], issuer_a, NULL, NGX_HTTP_SEKISHO_CRLIX_CAS,
             1500, 5000, 3, 1);
    row_init(&rows[4], issuer_a, "Tsukuba", NGX_HTTP_SEKISHO_CRLIX_USERS,
             9000, 10000, 4, 1);
    row_init(&rows[5], issuer_b, "Mito", NGX_HTTP_SEKISHO_CRLIX_USERS,
             1000, 5000, 5, 1);
    row_init(&rows[6], issuer_a, "Stale", NGX_HTTP_SEKISHO_CRLIX_USERS,
             100, 200, 0, 0);

    ok(ngx_http_sekisho_crlix_build(rows, 7, keys, 6, NULL, 0, sources, 3000,
                                    &index, &index_len) == NGX_OK
       && ngx_http_sekisho_crlix_open(&ix, index, index_len) == NGX_OK,
       "seven rows, two issuers, indexed");

    ngx_http_sekisho_crlix_scope_key((u_char *) "Mito", 4, scopes);
    ngx_http_sekisho_crlix_scope_key((u_char *) "Tsukuba", 7, scopes + KEY);

    found = ngx_http_sekisho_crlix_find(&ix, issuer_a, scopes, &n);
    is_int((int) n, 2, "Mito's two CRLs of issuer a found together");
    ok(n == 2 && found[0].this_update == 2000, "the newest first");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scopes, 1,
                                      key_of(101), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_REVOKED,
           "listed in Mito's newest: revoked");
    ok(used && used->this_update == 2000, "by Mito's newest");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scopes, 1,
                                      key_of(100), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_GOOD,
           "listed only in Mito's older CRL: the newest speaks");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scopes, 1,
                                      key_of(102), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_REVOKED,
           "listed in the complete CRL: revoked whatever its point");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scopes, 1,
                                      key_of(103), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_GOOD,
           "an ARL does not speak for a card");
    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, NULL, 0,
                                      key_of(103), 1, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_REVOKED,
           "but for a CA, though a complete CRL is newer: kinds do not"
           " replace each other");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scopes + KEY, 1,
                                      key_of(104), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_GOOD,
           "a CRL not yet begun does not speak (the complete CRL does)");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_b, scopes, 1,
                                      key_of(101), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_GOOD,
           "issuer b's Mito CRL is its own");
    rc = ngx_http_sekisho_crlix_check(&ix, issuer_b, scopes, 1,
                                      key_of(105), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_REVOKED,
           "and lists its own");
    rc = ngx_http_sekisho_crlix_check(&ix, issuer_b, NULL, 0,
                                      key_of(105), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_NONE,
           "a card of issuer b naming no point: no CRL covers it");

    rc = ngx_http_sekisho_crlix_check(&ix, issuer_a, scopes, 1,
                                      key_of(1), 0, 6000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_STALE,
           "past every next update: stale");

    /* what a SOC watches: the earliest next update of those in force */
    is_int((int) ngx_http_sekisho_crlix_next_update(&ix, 3000), 200,
           "the earliest next update in force: the stale point's, past");
    is_int((int) ngx_http_sekisho_crlix_next_update(&ix, 50), 0,
           "none begun: no next update");

    ngx_http_sekisho_crlix_scope_key((u_char *) "Stale", 5, scopes);
    rc = ngx_http_sekisho_crlix_check(&ix, issuer_b, scopes, 1,
                                      key_of(1), 0, 3000, &used);
    is_int((int) rc, NGX_HTTP_SEKISHO_CRLIX_NONE,
           "another issuer's point is not this one's");

    free(index);
}


/* of a point's successive CRLs, the newest begun gives the next update */

static void
test_next_update(void)
{
    u_char                        keys[KEY], *index;
    size_t                        index_len;
    ngx_http_sekisho_crlix_t      ix;
    ngx_http_sekisho_crlix_row_t  rows[4];

    memcpy(keys, key_of(7), KEY);

    row_init(&rows[0], issuer_a, "Mito", NGX_HTTP_SEKISHO_CRLIX_USERS,
             1000, 1500, 0, 1);
    row_init(&rows[1], issuer_a, "Mito", NGX_HTTP_SEKISHO_CRLIX_USERS,
             2000, 5000, 0, 1);
    row_init(&rows[2], issuer_a, "Mito", NGX_HTTP_SEKISHO_CRLIX_USERS,
             8000, 12000, 0, 1);
    row_init(&rows[3], issuer_a, NULL, NGX_HTTP_SEKISHO_CRLIX_ALL,
             1000, 0, 0, 1);

    ok(ngx_http_sekisho_crlix_build(rows, 4, keys, 1, NULL, 0, sources, 3000,
                                    &index, &index_len) == NGX_OK
       && ngx_http_sekisho_crlix_open(&ix, index, index_len) == NGX_OK,
       "three issues of Mito's CRL and a complete CRL without nextUpdate");

    is_int((int) ngx_http_sekisho_crlix_next_update(&ix, 1200), 1500,
           "before the second issue begins: the first's next update");
    is_int((int) ngx_http_sekisho_crlix_next_update(&ix, 3000), 5000,
           "once it has: the second's (the first's past one no longer "
           "counts)");
    is_int((int) ngx_http_sekisho_crlix_next_update(&ix, 9000), 12000,
           "and then the third's");
    is_int((int) ngx_http_sekisho_crlix_next_update(&ix, 20000), 12000,
           "the newest past its next update: that time, in the past");
    is_int((int) ngx_http_sekisho_crlix_next_update(NULL, 3000), 0,
           "no index: none");

    free(index);
}


/* damaged indexes: every one refused, none read out of bounds */

static void
test_damaged(void)
{
    u_char                           keys[4 * KEY], *index, *copy;
    size_t                           index_len, i;
    uint32_t                        *dir;
    ngx_uint_t                       refused, slots;
    ngx_http_sekisho_crlix_t         ix;
    ngx_http_sekisho_crlix_row_t     rows[3], *r;
    ngx_http_sekisho_crlix_header_t *h;

    for (i = 0; i < 4; i++) {
        memcpy(keys + i * KEY, key_of(200 + i), KEY);
    }

    row_init(&rows[0], issuer_a, "A", 0, 1000, 5000, 0, 2);
    row_init(&rows[1], issuer_a, "B", 0, 1000, 5000, 2, 2);
    row_init(&rows[2], issuer_a, "B", 0, 900, 5000, 2, 2);

    ngx_http_sekisho_crlix_build(rows, 3, keys, 4, NULL, 0, sources, 3000,
                                 &index, &index_len);
    copy = malloc(index_len);

    is_int((int) ngx_http_sekisho_crlix_open(&ix, index, index_len), NGX_OK,
           "the index opens");

    h = (ngx_http_sekisho_crlix_header_t *) index;
    dir = (uint32_t *) (index + h->dir);
    slots = 0;

    for (i = 0; i < h->ndir; i++) {
        slots += (dir[i] != 0);
    }

    is_int((int) slots, 2, "two scopes: two slots of the table");
    ok(h->ndir >= 6 && (h->ndir & (h->ndir - 1)) == 0,
       "the table a power of two, at most half full");

    refused = 0;

    for (i = 0; i < index_len; i++) {
        if (ngx_http_sekisho_crlix_open(&ix, index, i) == NGX_OK) {
            break;
        }

        refused++;
    }

    is_int((int) refused, (int) index_len, "every truncation refused");

    /* a slot pointing past the rows, or to a row not first of its scope */
    for (i = 0; i < h->ndir; i++) {
        if (dir[i]) {
            break;
        }
    }

    memcpy(copy, index, index_len);
    ((uint32_t *) (copy + h->dir))[i] = 4;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "a slot past the rows refused");

    memcpy(copy, index, index_len);
    ((uint32_t *) (copy + h->dir))[i] = 3;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "a slot on the second row of a scope refused");

    memcpy(copy, index, index_len);
    ((uint32_t *) (copy + h->dir))[i] = 0;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "a scope without a slot refused");

    memcpy(copy, index, index_len);
    ((ngx_http_sekisho_crlix_header_t *) copy)->ndir = 3;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "a table not a power of two refused");

    memcpy(copy, index, index_len);
    ((ngx_http_sekisho_crlix_header_t *) copy)->version = 1;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "an index of another version refused (rebuilt)");

    memcpy(copy, index, index_len);
    ((ngx_http_sekisho_crlix_row_t *) (copy + h->rows))[0].count = 5;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "a row's keys past the keys refused");

    /* scope B's two rows, the older first */
    memcpy(copy, index, index_len);
    r = (ngx_http_sekisho_crlix_row_t *) (copy + h->rows);
    i = (memcmp(r[0].scope, r[1].scope, KEY) == 0) ? 0 : 1;
    r[i].this_update = 900;
    r[i + 1].this_update = 1000;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "rows out of order refused");

    free(copy);
    free(index);
}


/* a CRL's buckets damaged: refused */

static void
test_damaged_buckets(void)
{
    u_char                           *keys, *index, *copy;
    size_t                            index_len;
    uint32_t                         *b;
    uint64_t                          i;
    ngx_http_sekisho_crlix_t          ix;
    ngx_http_sekisho_crlix_row_t      row, *r;
    ngx_http_sekisho_crlix_header_t  *h;

    keys = malloc(1000 * KEY);

    for (i = 0; i < 1000; i++) {
        memcpy(keys + i * KEY, key_of(5000 + i * 7), KEY);
    }

    row_init(&row, issuer_a, "A", 0, 1000, 5000, 0, 1000);
    ngx_http_sekisho_crlix_build(&row, 1, keys, 1000, NULL, 0, sources,
                                 3000, &index, &index_len);
    copy = malloc(index_len);
    h = (ngx_http_sekisho_crlix_header_t *) index;
    r = (ngx_http_sekisho_crlix_row_t *) (index + h->rows);

    is_int((int) r->nbuckets, 128, "1,000 keys: 128 buckets");
    is_int((int) h->nbuckets, 129, "and their end");
    is_int((int) ngx_http_sekisho_crlix_open(&ix, index, index_len), NGX_OK,
           "the index opens");

    memcpy(copy, index, index_len);
    b = (uint32_t *) (copy + h->buckets);
    b[10] = b[9] - 1;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "a bucket before the one below refused");

    memcpy(copy, index, index_len);
    b = (uint32_t *) (copy + h->buckets);
    b[128] = 999;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "buckets not ending at the count refused");

    memcpy(copy, index, index_len);
    ((ngx_http_sekisho_crlix_row_t *) (copy + h->rows))->nbuckets = 129;
    is_int((int) ngx_http_sekisho_crlix_open(&ix, copy, index_len),
           NGX_ERROR, "buckets past the table refused");

    free(copy);
    free(index);
    free(keys);
}


int
main(void)
{
    test_serial_keys();
    test_search("serials in order", make_sequential, 5000);
    test_search("random serials", make_random, 20000);
    test_search("serials of mixed lengths", make_mixed, 3000);
    test_search("far clusters", make_clusters, 3000);
    test_search("one serial", make_sequential, 1);
    test_search("no serial", make_sequential, 0);
    test_speaking();
    test_next_update();
    test_damaged();
    test_damaged_buckets();

    return done_testing();
}
