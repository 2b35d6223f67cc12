
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the detached CMS SignedData (card_cms.c): made with a
 * software key that, like the card, only signs a DigestInfo, and
 * checked by OpenSSL's CMS_verify().
 */


#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/cms.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include "tap.h"
#include "test_keys.h"
#include "card_cms.h"


static int
soft_sign(void *data, const u_char *di, size_t len, u_char *sig,
    size_t *siglen)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    if (data == NULL) {
        return 42;
    }

    ctx = EVP_PKEY_CTX_new(data, NULL);
    rc = (ctx && EVP_PKEY_sign_init(ctx) > 0
          && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0
          && EVP_PKEY_sign(ctx, sig, siglen, di, len) > 0) ? 0 : 1;
    EVP_PKEY_CTX_free(ctx);

    return rc;
}


static int
verify(u_char *der, size_t len, X509 *ca, const char *content)
{
    int              rc;
    BIO             *in, *data;
    CMS_ContentInfo *cms;
    X509_STORE      *store;

    in = BIO_new_mem_buf(der, (int) len);
    data = BIO_new_mem_buf(content, (int) strlen(content));
    cms = d2i_CMS_bio(in, NULL);
    store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);

    rc = cms ? CMS_verify(cms, NULL, store, data, NULL, CMS_BINARY) : -1;

    CMS_ContentInfo_free(cms);
    X509_STORE_free(store);
    BIO_free(in);
    BIO_free(data);

    return rc;
}


int
main(void)
{
    int                rc, nattr;
    char               dir[] = "/tmp/sekisho-cms-XXXXXX", path[128];
    u_char            *der, *cert, hash[32], *p;
    size_t             len;
    int                cert_len;
    X509              *x, *other;
    EVP_PKEY          *key, *okey;
    BIO               *in;
    CMS_ContentInfo   *cms;
    STACK_OF(X509)    *certs;
    STACK_OF(CMS_SignerInfo)  *sis;
    CMS_SignerInfo    *si;
    ASN1_TYPE         *t;
    const char        *content = "申請書 body\n";

    if (mkdtemp(dir) == NULL) {
        return 1;
    }

    x = test_identity(dir, "signer", &key);
    other = test_identity(dir, "other", &okey);
    ok(x && other, "test keys made");

    cert = NULL;
    cert_len = i2d_X509(x, &cert);
    SHA256((u_char *) content, strlen(content), hash);

    rc = card_cms_detached(cert, (size_t) cert_len, hash, 1700000000,
                           soft_sign, key, &der, &len);
    ok(rc == 0, "SignedData made");

    is_int(verify(der, len, x, content), 1, "CMS_verify accepts it");
    is_int(verify(der, len, x, "申請書 body!\n"), 0,
           "another content does not verify");
    is_int(verify(der, len, other, content), 0,
           "an untrusted signer does not verify");

    p = der;
    in = BIO_new_mem_buf(der, (int) len);
    cms = d2i_CMS_bio(in, NULL);
    BIO_free(in);
    ok(cms != NULL, "parses as CMS");

    ok(cms && OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed,
       "a SignedData");
    ok(cms && CMS_is_detached(cms), "detached: no content inside");

    certs = cms ? CMS_get1_certs(cms) : NULL;
    ok(certs && sk_X509_num(certs) == 1
       && X509_cmp(sk_X509_value(certs, 0), x) == 0,
       "the signer's certificate is included");
    sk_X509_pop_free(certs, X509_free);

    sis = cms ? CMS_get0_SignerInfos(cms) : NULL;
    si = sis ? sk_CMS_SignerInfo_value(sis, 0) : NULL;
    nattr = si ? CMS_signed_get_attr_count(si) : -1;
    is_int(nattr, 3, "three signed attributes");

    t = si ? CMS_signed_get0_data_by_OBJ(si,
                                         OBJ_nid2obj(NID_pkcs9_signingTime),
                                         -3, V_ASN1_UTCTIME)
           : NULL;
    ok(t && ASN1_STRING_length((ASN1_STRING *) t) == 13
       && memcmp(ASN1_STRING_get0_data((ASN1_STRING *) t), "231114221320Z",
                 13) == 0, "signingTime as UTCTime");
    ok(si && CMS_signed_get0_data_by_OBJ(si,
                                         OBJ_nid2obj(NID_pkcs9_contentType),
                                         -3, V_ASN1_OBJECT) != NULL,
       "contentType attribute");
    ok(si && CMS_signed_get0_data_by_OBJ(si,
                                         OBJ_nid2obj(NID_pkcs9_messageDigest),
                                         -3, V_ASN1_OCTET_STRING) != NULL,
       "messageDigest attribute");

    if (si) {
        X509_ALGOR  *dig, *sig;

        CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
        is_int(OBJ_obj2nid(dig->algorithm), NID_sha256, "digest sha256");
        is_int(OBJ_obj2nid(sig->algorithm), NID_rsaEncryption,
               "signature rsaEncryption");
    }

    CMS_ContentInfo_free(cms);
    (void) p;
    free(der);

    rc = card_cms_detached(cert, (size_t) cert_len, hash, 1700000000,
                           soft_sign, NULL, &der, &len);
    ok(rc == 42 && der == NULL, "the signer's error comes back");

    rc = card_cms_detached((u_char *) "\x30\x03\x02\x01\x01", 5, hash, 0,
                           soft_sign, key, &der, &len);
    is_int(rc, -1, "not a certificate: refused");

    rc = card_cms_detached(cert, (size_t) cert_len, hash,
                           (time_t) 2524608000LL, soft_sign, key, &der, &len);
    ok(rc == 0 && verify(der, len, x, content) == 1,
       "after 2049 signingTime is a GeneralizedTime and verifies");
    free(der);

    OPENSSL_free(cert);
    X509_free(x);
    X509_free(other);
    EVP_PKEY_free(key);
    EVP_PKEY_free(okey);

    snprintf(path, sizeof(path), "rm -rf %s", dir);
    rc = system(path);
    (void) rc;

    return done_testing();
}
