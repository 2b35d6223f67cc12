
/*
 * Copyright (C) Sekisho authors
 *
 * Unit-test helper: an RSA-2048 key and a self-signed certificate,
 * written as PEM files for the code under test to load.
 */


#ifndef _TEST_KEYS_H_INCLUDED_
#define _TEST_KEYS_H_INCLUDED_


#include <stdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>


static X509 *
test_identity(const char *dir, const char *name, EVP_PKEY **key_out)
{
    char       path[4096];
    FILE      *f;
    X509      *x;
    EVP_PKEY  *key;
    X509_NAME *n;

    key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    x = X509_new();
    if (key == NULL || x == NULL) {
        return NULL;
    }

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);

    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (u_char *) "JP", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (u_char *) name, -1,
                               -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, key, EVP_sha256());

    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);

    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    f = fopen(path, "w");
    PEM_write_X509(f, x);
    fclose(f);

    if (key_out) {
        *key_out = key;
    } else {
        EVP_PKEY_free(key);
    }

    return x;
}


#endif /* _TEST_KEYS_H_INCLUDED_ */
