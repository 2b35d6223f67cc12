
/*
 * Copyright (C) Sekisho authors
 *
 * What the gateway's own certificate path costs a login, beside the
 * OpenSSL calls of bench-openssl.c: ngx_http_sekisho_jpki_read() and
 * ngx_http_sekisho_jpki_check_slot() (src/ngx_http_sekisho_jpki_verify.c)
 * for a certificate never seen (an empty cache each time) and for one
 * seen before, then the signature check.  Built and run by
 * scripts/bench/jpki:
 *
 *   bench-jpki-cert <user cert.pem> <CA bundle.pem> [iterations]
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "ngx_http_sekisho_jpki_verify.h"


static double now(void);
static void report(const char *what, double start, int n, int bad);


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
report(const char *what, double start, int n, int bad)
{
    printf("%-44s %8.1f us%s\n", what, (now() - start) / n * 1e6,
           bad ? "  (SOME FAILED)" : "");
}


int
main(int argc, char **argv)
{
    int                              i, n, len, bad, fast;
    char                             err[256];
    FILE                            *f;
    X509                            *x;
    u_char                          *der, sig[256], digest[32];
    double                           t;
    ngx_http_sekisho_jpki_ca_t       ca;
    ngx_http_sekisho_jpki_slot_t    *slot;
    ngx_http_sekisho_jpki_cert_t     out;
    ngx_http_sekisho_jpki_check_t    chk;
    ngx_http_sekisho_jpki_cache_t   *cache;

    if (argc < 3) {
        fprintf(stderr, "usage: bench-jpki-cert cert.pem ca.pem [n]\n");
        return 2;
    }

    n = argc > 3 ? atoi(argv[3]) : 2000;

    f = fopen(argv[1], "r");
    x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) {
        fclose(f);
    }

    if (x == NULL
        || ngx_http_sekisho_jpki_ca_load(&ca, argv[2], err, sizeof(err))
           != NGX_OK)
    {
        fprintf(stderr, "bench-jpki-cert: cannot read the certificates\n");
        return 1;
    }

    der = NULL;
    len = i2d_X509(x, &der);

    memset(&chk, 0, sizeof(chk));
    chk.ca = &ca;
    chk.kind = NGX_HTTP_SEKISHO_JPKI_AUTH;
    chk.revocation = NGX_HTTP_SEKISHO_REVOKE_OFF;
    chk.now = time(NULL);

    printf("the gateway's certificate path, %d iterations each, %d of %d "
           "roots ready for the fast path\n", n, (int) ca.nfast,
           sk_X509_num(ca.roots));

    bad = 0;
    fast = 0;
    t = now();

    for (i = 0; i < n; i++) {
        cache = ngx_http_sekisho_jpki_cache_create(1);
        slot = ngx_http_sekisho_jpki_read(cache, der, len);

        if (slot == NULL
            || ngx_http_sekisho_jpki_check_slot(&chk, slot, &out)
               != NGX_HTTP_SEKISHO_JPKI_OK)
        {
            bad++;
        }

        fast += out.fast;
        ngx_http_sekisho_jpki_cache_free(cache);
    }

    report(fast == n ? "first seen: read and chain (fast path)"
                     : "first seen: read and chain (OpenSSL's path)",
           t, n, bad);

    cache = ngx_http_sekisho_jpki_cache_create(16);
    bad = 0;
    t = now();

    for (i = 0; i < n; i++) {
        slot = ngx_http_sekisho_jpki_read(cache, der, len);

        if (slot == NULL
            || ngx_http_sekisho_jpki_check_slot(&chk, slot, &out)
               != NGX_HTTP_SEKISHO_JPKI_OK)
        {
            bad++;
        }
    }

    report("seen before: from the worker's cache", t, n, bad);

    /* any 256 bytes: the RSA operation is the cost, not the verdict */
    memset(sig, 1, sizeof(sig));
    memset(digest, 0, sizeof(digest));
    slot = ngx_http_sekisho_jpki_read(cache, der, len);
    t = now();

    for (i = 0; slot && i < n; i++) {
        (void) ngx_http_sekisho_jpki_check_signature(slot, sig, sizeof(sig),
                                                     digest);
    }

    report("the login signature (RSA-2048, kept context)", t, n, slot == NULL);

    ngx_http_sekisho_jpki_cache_free(cache);
    ngx_http_sekisho_jpki_ca_free(&ca);
    OPENSSL_free(der);
    X509_free(x);

    return 0;
}
