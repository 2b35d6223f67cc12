
/*
 * Copyright (C) Sekisho authors
 *
 * Where a first-seen card login spends its time: the OpenSSL calls the
 * gateway makes, one by one, on a certificate of the test authority.
 * Run by scripts/bench/jpki:
 *
 *   bench-openssl <user cert.pem> <CA bundle.pem> [iterations]
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
report(const char *what, double start, int n)
{
    printf("%-44s %8.1f us\n", what, (now() - start) / n * 1e6);
}


int
main(int argc, char **argv)
{
    int             i, n, len, pklen;
    FILE           *f;
    X509           *x, *y, *ca;
    double          t;
    size_t          outlen;
    u_char         *der, *pkder, sig[512], out[512];
    X509_STORE     *store;
    EVP_PKEY_CTX   *pc;
    X509_STORE_CTX *xs;
    const u_char   *p;

    if (argc < 3) {
        fprintf(stderr, "usage: bench-openssl cert.pem ca.pem [n]\n");
        return 2;
    }

    n = argc > 3 ? atoi(argv[3]) : 2000;

    f = fopen(argv[1], "r");
    x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) {
        fclose(f);
    }

    store = X509_STORE_new();
    f = fopen(argv[2], "r");
    ca = NULL;

    while (f && (y = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        X509_STORE_add_cert(store, y);
        if (ca == NULL) {
            ca = y;
        } else {
            X509_free(y);
        }
    }

    if (f) {
        fclose(f);
    }

    if (x == NULL || ca == NULL) {
        fprintf(stderr, "bench-openssl: cannot read the certificates\n");
        return 1;
    }

    der = NULL;
    len = i2d_X509(x, &der);
    pkder = NULL;
    pklen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &pkder);

    printf("%s, %d iterations each\n", OpenSSL_version(OPENSSL_VERSION), n);

    t = now();
    for (i = 0; i < n; i++) {
        p = der;
        y = d2i_X509(NULL, &p, len);
        X509_free(y);
    }
    report("d2i_X509 (parse a certificate)", t, n);

    t = now();
    for (i = 0; i < n; i++) {
        X509_PUBKEY  *pk;

        p = pkder;
        pk = d2i_X509_PUBKEY(NULL, &p, pklen);
        X509_PUBKEY_free(pk);
    }
    report("  of which d2i_X509_PUBKEY (its public key)", t, n);

    t = now();
    for (i = 0; i < n; i++) {
        xs = X509_STORE_CTX_new();
        X509_STORE_CTX_init(xs, store, x, NULL);
        X509_verify_cert(xs);
        X509_STORE_CTX_free(xs);
    }
    report("X509_verify_cert (chain to the root)", t, n);

    memset(sig, 1, sizeof(sig));
    t = now();
    for (i = 0; i < n; i++) {
        pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
        outlen = sizeof(out);
        EVP_PKEY_verify_recover_init(pc);
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
        EVP_PKEY_verify_recover(pc, out, &outlen, sig, 256);
        EVP_PKEY_CTX_free(pc);
    }
    report("RSA-2048 public operation, new context", t, n);

    pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
    EVP_PKEY_verify_recover_init(pc);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
    t = now();
    for (i = 0; i < n; i++) {
        outlen = sizeof(out);
        EVP_PKEY_verify_recover(pc, out, &outlen, sig, 256);
    }
    report("RSA-2048 public operation, kept context", t, n);
    EVP_PKEY_CTX_free(pc);

    ERR_clear_error();
    OPENSSL_free(der);
    OPENSSL_free(pkder);
    X509_free(x);
    X509_free(ca);
    X509_STORE_free(store);

    return 0;
}
