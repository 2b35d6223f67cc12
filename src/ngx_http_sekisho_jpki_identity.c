
/*
 * Copyright (C) Sekisho authors
 *
 * Each part is read by OpenSSL's own decoder for it.  Nothing here
 * judges a certificate: it has been checked before it is read here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "ngx_http_sekisho_jpki_identity.h"


#define NGX_HTTP_SEKISHO_OID_JPKI  "1.2.392.200149.8.5.5."


/*
 * The JPKI otherName entries of a signing certificate's
 * subjectAltName: .1 name, .3 sex, .4 birth date, .5 address (JPKI.md,
 * section 3).  The values are copied into "buf".
 */

ngx_int_t
ngx_http_sekisho_jpki_identity(X509 *cert,
    ngx_http_sekisho_jpki_identity_t *id, u_char *buf, size_t size)
{
    int               i, n, type;
    char              oid[64];
    u_char           *p, *last;
    ngx_str_t        *field;
    ASN1_STRING      *s;
    GENERAL_NAME     *gn;
    GENERAL_NAMES    *names;

    ngx_memzero(id, sizeof(ngx_http_sekisho_jpki_identity_t));

    names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) {
        ERR_clear_error();
        return NGX_DECLINED;
    }

    p = buf;
    last = buf + size;

    for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        gn = sk_GENERAL_NAME_value(names, i);

        if (gn->type != GEN_OTHERNAME) {
            continue;
        }

        n = OBJ_obj2txt(oid, sizeof(oid), gn->d.otherName->type_id, 1);

        if (n != (int) sizeof(NGX_HTTP_SEKISHO_OID_JPKI)
            || ngx_strncmp(oid, NGX_HTTP_SEKISHO_OID_JPKI,
                           sizeof(NGX_HTTP_SEKISHO_OID_JPKI) - 1)
               != 0)
        {
            continue;
        }

        switch (oid[n - 1]) {
        case '1': field = &id->name; break;
        case '3': field = &id->sex; break;
        case '4': field = &id->birth; break;
        case '5': field = &id->address; break;
        default: continue;
        }

        type = gn->d.otherName->value->type;

        if (type != V_ASN1_UTF8STRING && type != V_ASN1_PRINTABLESTRING
            && type != V_ASN1_IA5STRING)
        {
            continue;
        }

        s = gn->d.otherName->value->value.asn1_string;

        if ((size_t) ASN1_STRING_length(s) > (size_t) (last - p)) {
            GENERAL_NAMES_free(names);
            return NGX_ERROR;
        }

        field->data = p;
        field->len = ASN1_STRING_length(s);
        p = ngx_cpymem(p, ASN1_STRING_get0_data(s), field->len);
    }

    GENERAL_NAMES_free(names);

    return (id->name.len || id->address.len) ? NGX_OK : NGX_DECLINED;
}


/*
 * For header values: UTF-8 and anything not an unreserved URI
 * character as %XX (RFC 3986), so that no client of the header has to
 * guess a charset.  dst holds 3 * len bytes.
 */

size_t
ngx_http_sekisho_pct_encode(u_char *dst, u_char *src, size_t len)
{
    u_char  *d, c;

    static const u_char  hex[] = "0123456789ABCDEF";

    d = dst;

    while (len--) {
        c = *src++;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *d++ = c;
            continue;
        }

        *d++ = '%';
        *d++ = hex[c >> 4];
        *d++ = hex[c & 0x0f];
    }

    return d - dst;
}


/* the subject key identifier of a CA certificate; 0 when it has none */

size_t
ngx_http_sekisho_jpki_key_id(X509 *cert, u_char *id, size_t max)
{
    size_t                     n;
    const ASN1_OCTET_STRING   *ski;

    ski = X509_get0_subject_key_id(cert);

    if (ski == NULL) {
        return 0;
    }

    n = ngx_min((size_t) ASN1_STRING_length(ski), max);
    ngx_memcpy(id, ASN1_STRING_get0_data(ski), n);

    return n;
}


/* the serial number as big-endian bytes; 0 when it does not fit */

size_t
ngx_http_sekisho_jpki_serial(const ASN1_INTEGER *ai, u_char *serial,
    size_t max)
{
    int             n;
    BIGNUM         *bn;

    bn = ASN1_INTEGER_to_BN(ai, NULL);
    if (bn == NULL) {
        return 0;
    }

    n = BN_num_bytes(bn);

    if (n == 0 || (size_t) n > max || BN_is_negative(bn)) {
        BN_free(bn);
        return 0;
    }

    BN_bn2bin(bn, serial);
    BN_free(bn);

    return (size_t) n;
}


/*
 * A distribution point's name for the log: a directoryName as RFC 2253
 * text (UTF-8 kept), a URI as it is.  The length written.
 */

size_t
ngx_http_sekisho_jpki_dp_text(ngx_str_t *dp, u_char *buf, size_t size)
{
    int             len;
    BIO            *bio;
    char           *text;
    GENERAL_NAME   *gn;
    const u_char   *p;

    p = dp->data;
    gn = d2i_GENERAL_NAME(NULL, &p, (long) dp->len);
    bio = BIO_new(BIO_s_mem());

    if (gn == NULL || bio == NULL || size == 0) {
        GENERAL_NAME_free(gn);
        BIO_free(bio);
        ERR_clear_error();
        return 0;
    }

    if (gn->type == GEN_DIRNAME) {
        X509_NAME_print_ex(bio, gn->d.directoryName, 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);

    } else if (gn->type == GEN_URI) {
        BIO_write(bio, ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                  ASN1_STRING_length(gn->d.uniformResourceIdentifier));
    }

    len = (int) BIO_get_mem_data(bio, &text);
    len = ngx_min((size_t) len, size);
    ngx_memcpy(buf, text, len);

    GENERAL_NAME_free(gn);
    BIO_free(bio);
    ERR_clear_error();

    return len;
}
