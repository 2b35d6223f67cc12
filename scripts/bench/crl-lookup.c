
/*
 * Copyright (C) Sekisho authors
 *
 * bench-crl-lookup: revocation lookups per second in an index file as
 * the workers map it, with the gateway's own lookup
 * (ngx_http_sekisho_crlix_check): for random CRLs of bench-crl-gen's
 * set, a serial each CRL lists and one it does not, under the
 * distribution point of that CRL.  Checks every answer too.
 *
 *   bench-crl-lookup <crl.index> <serials> <issuer.pem> [lookups [city]]
 *
 * With a city (0 is the largest CRL), only that CRL's serials.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <sys/mman.h>
#include <openssl/pem.h>
#include "ngx_http_sekisho_crl_index.h"
#include "ngx_http_sekisho_crl_set.h"


typedef struct {
    u_char      scope[NGX_HTTP_SEKISHO_CRLIX_KEY];
    u_char      listed[NGX_HTTP_SEKISHO_CRLIX_KEY];
    u_char      unlisted[NGX_HTTP_SEKISHO_CRLIX_KEY];
} city_t;


static void city_scope(int i, u_char *key);
static int hex8(const char *s, u_char *out);


int
main(int argc, char **argv)
{
    int                            fd, i, n, k, bad, only;
    long                           lookups, l;
    FILE                          *f;
    X509                          *ca;
    city_t                        *cities;
    u_char                        *map, id[NGX_HTTP_SEKISHO_CRLIX_ISSUER],
                                   serial[9];
    double                         ns;
    ngx_uint_t                     rc, m;
    struct stat                    st;
    struct timespec                t0, t1;
    char                           a[64], b[64];
    ngx_http_sekisho_crlix_t       ix;
    ngx_http_sekisho_crlix_row_t  *row;

    if (argc < 4) {
        fprintf(stderr, "usage: bench-crl-lookup <crl.index> <serials> "
                "<issuer.pem> [lookups [city]]\n");
        return 2;
    }

    lookups = (argc > 4) ? atol(argv[4]) : 10000000;
    only = (argc > 5) ? atoi(argv[5]) : -1;

    fd = open(argv[1], O_RDONLY);
    if (fd == -1 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 1;
    }

    map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED
        || ngx_http_sekisho_crlix_open(&ix, map, st.st_size) != NGX_OK)
    {
        fprintf(stderr, "bench-crl-lookup: not an index: %s\n", argv[1]);
        return 1;
    }

    f = fopen(argv[3], "r");
    ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (ca == NULL || ngx_http_sekisho_crl_root_id(ca, id) != NGX_OK) {
        fprintf(stderr, "bench-crl-lookup: cannot read %s\n", argv[3]);
        return 1;
    }

    f = fopen(argv[2], "r");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }

    cities = calloc(100000, sizeof(city_t));
    n = 0;

    while (n < 100000 && fscanf(f, "%d %63s %63s", &i, a, b) == 3) {
        if (only >= 0 && i != only) {
            continue;
        }

        city_scope(i, cities[n].scope);

        serial[0] = 0;
        hex8(a, serial + 1);
        ngx_http_sekisho_crlix_serial_key(serial, 9, cities[n].listed);
        hex8(b, serial + 1);
        ngx_http_sekisho_crlix_serial_key(serial, 9, cities[n].unlisted);
        n++;
    }

    fclose(f);

    if (n == 0) {
        fprintf(stderr, "bench-crl-lookup: no serials\n");
        return 1;
    }

    /*
     * One city: 100,000 of the serials its CRL lists, taken from the
     * index, and as many drawn at random (listed with a chance of
     * 2.4 million in 2^63).
     */
    if (only >= 0) {
        row = ngx_http_sekisho_crlix_find(&ix, id, cities[0].scope, &m);

        if (m == 0 || row->count == 0) {
            fprintf(stderr, "bench-crl-lookup: no CRL of city %d\n", only);
            return 1;
        }

        srand(11);

        for (n = 0; n < 100000; n++) {
            memcpy(cities[n].scope, cities[0].scope,
                   NGX_HTTP_SEKISHO_CRLIX_KEY);
            memcpy(cities[n].listed, ix.keys + (row->first
                   + ((uint64_t) rand() * RAND_MAX + rand()) % row->count)
                   * NGX_HTTP_SEKISHO_CRLIX_KEY, NGX_HTTP_SEKISHO_CRLIX_KEY);
            serial[0] = 0;
            for (k = 1; k < 9; k++) {
                serial[k] = (u_char) rand();
            }
            serial[1] |= 0x80;
            ngx_http_sekisho_crlix_serial_key(serial, 9, cities[n].unlisted);
        }
    }

    /* the pages in, as a worker serving for a while has them */
    for (k = 0; k < n; k++) {
        ngx_http_sekisho_crlix_check(&ix, id, cities[k].scope, 1,
                                     cities[k].listed, 0, time(NULL), &row);
    }

    bad = 0;
    srand(7);
    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (l = 0; l < lookups; l++) {
        k = rand() % n;

        if (l & 1) {
            rc = ngx_http_sekisho_crlix_check(&ix, id, cities[k].scope, 1,
                                              cities[k].unlisted, 0,
                                              time(NULL), &row);
            bad += (rc != NGX_HTTP_SEKISHO_CRLIX_GOOD);

        } else {
            rc = ngx_http_sekisho_crlix_check(&ix, id, cities[k].scope, 1,
                                              cities[k].listed, 0,
                                              time(NULL), &row);
            bad += (rc != NGX_HTTP_SEKISHO_CRLIX_REVOKED);
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))
         / lookups;

    printf("lookups: %ld %s %d CRLs (%u rows, %lu entries), "
           "%.0f ns each, %.2f million/s on one core, %d wrong answers\n",
           lookups, (only >= 0) ? "in the largest of" : "over",
           (only >= 0) ? (int) ix.header->nrows : n, ix.header->nrows,
           (unsigned long) ix.header->nkeys, ns, 1000.0 / ns, bad);

    return bad ? 1 : 0;
}


/* the distribution point's key, as bench-crl-gen names it */

static void
city_scope(int i, u_char *key)
{
    int      len;
    char     cn[64];
    u_char   der[256], *p;
    X509_NAME     *name;
    GENERAL_NAME  *gn;

    name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "C", V_ASN1_PRINTABLESTRING,
                               (u_char *) "JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", V_ASN1_UTF8STRING,
                               (u_char *) "JPKI TEST", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
                               (u_char *) "JPKI for user authentication",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
                               (u_char *) "CRL Distribution Points",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "OU", V_ASN1_UTF8STRING,
                               (u_char *) "Ibaraki-ken", -1, -1, 0);

    if (i == 0) {
        snprintf(cn, sizeof(cn), "Tsukuba-shi CRLDP");
    } else {
        snprintf(cn, sizeof(cn), "City %04d CRLDP", i);
    }

    X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING, (u_char *) cn,
                               -1, -1, 0);

    gn = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gn, GEN_DIRNAME, name);

    p = der;
    len = i2d_GENERAL_NAME(gn, &p);
    ngx_http_sekisho_crlix_scope_key(der, len, key);

    GENERAL_NAME_free(gn);
}


static int
hex8(const char *s, u_char *out)
{
    int  i;
    unsigned int  v;

    for (i = 0; i < 8; i++) {
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return -1;
        }

        out[i] = (u_char) v;
    }

    return 0;
}
