
/*
 * Copyright (C) Sekisho authors
 *
 * RFC 5280's CRL, read strictly: DER only (definite lengths in the
 * fewest octets, DEFAULT values left out, TRUE as ff, SET OF in
 * order, minimal INTEGERs, no bytes after the end), v2 whenever an
 * extension is present, the same signature algorithm inside and out.
 * Names are checked as far as d2i_X509_NAME() checks them (and a
 * little further: the string types a CA writes, non-empty, sorted), so
 * that what is taken here OpenSSL also parses.  Nothing recurses and
 * every element is looked at a bounded number of times: the time is
 * linear in the size of the CRL, and no byte outside [der, der + len)
 * is read.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_jpki_der.h"
#include "ngx_http_sekisho_text.h"
#include "ngx_http_sekisho_crl_der.h"


typedef struct {
    u_char                     *pos;
    u_char                     *end;
} ngx_http_sekisho_crl_cursor_t;


static ngx_int_t ngx_http_sekisho_crl_tlv(ngx_http_sekisho_crl_cursor_t *d,
    ngx_str_t *value, ngx_str_t *tlv);
static ngx_int_t ngx_http_sekisho_crl_next(ngx_http_sekisho_crl_cursor_t *d,
    u_char tag, ngx_str_t *value, ngx_str_t *tlv);
static ngx_int_t ngx_http_sekisho_crl_time(ngx_http_sekisho_crl_cursor_t *d,
    time_t *t);
static ngx_int_t ngx_http_sekisho_crl_integer(ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_oid(ngx_str_t *oid);
static ngx_int_t ngx_http_sekisho_crl_algorithm(ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_name(ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_rdn(ngx_str_t *set);
static ngx_int_t ngx_http_sekisho_crl_set_order(ngx_str_t *a, ngx_str_t *b);
static ngx_int_t ngx_http_sekisho_crl_string(u_char tag, ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_bits(ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_general_name(
    ngx_http_sekisho_crl_cursor_t *d, ngx_str_t *tlv);
static ngx_int_t ngx_http_sekisho_crl_names(u_char *p, size_t len,
    ngx_str_t *names, ngx_uint_t max, ngx_uint_t *n);
static ngx_int_t ngx_http_sekisho_crl_dp_name(ngx_str_t *v,
    ngx_str_t *full);
static ngx_int_t ngx_http_sekisho_crl_ext(ngx_http_sekisho_crl_cursor_t *d,
    ngx_str_t *oid, ngx_uint_t *critical, ngx_str_t *value);
static ngx_int_t ngx_http_sekisho_crl_single(ngx_str_t *value, u_char tag,
    ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_extensions(ngx_str_t *list,
    ngx_http_sekisho_crl_der_t *crl, const char **why);
static ngx_int_t ngx_http_sekisho_crl_extension(ngx_str_t *oid,
    ngx_uint_t critical, ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl,
    const char **why);
static ngx_int_t ngx_http_sekisho_crl_aki(ngx_str_t *value,
    ngx_http_sekisho_crl_der_t *crl);
static ngx_int_t ngx_http_sekisho_crl_idp(ngx_str_t *value,
    ngx_http_sekisho_crl_der_t *crl, const char **why);
static ngx_int_t ngx_http_sekisho_crl_entry_extensions(ngx_str_t *list,
    const char **why);
static ngx_uint_t ngx_http_sekisho_crl_pem_begins(u_char *p, u_char *end);


#define ngx_http_sekisho_crl_cursor(d, v)                                     \
    ((d)->pos = (v)->data, (d)->end = (v)->data + (v)->len)

#define ngx_http_sekisho_crl_at(d, tag)                                       \
    ((d)->pos < (d)->end && (d)->pos[0] == (tag))

#define ngx_http_sekisho_crl_same(a, b)                                       \
    ((a)->len == (b)->len && ngx_memcmp((a)->data, (b)->data, (a)->len) == 0)

#define ngx_http_sekisho_crl_space(c)                                         \
    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')


/* id-ce-* (2.5.29.n) is 55 1d n */
#define NGX_HTTP_SEKISHO_CRL_CE_NUMBER       0x14
#define NGX_HTTP_SEKISHO_CRL_CE_REASON       0x15
#define NGX_HTTP_SEKISHO_CRL_CE_INVALIDITY   0x18
#define NGX_HTTP_SEKISHO_CRL_CE_DELTA        0x1b
#define NGX_HTTP_SEKISHO_CRL_CE_IDP          0x1c
#define NGX_HTTP_SEKISHO_CRL_CE_CERT_ISSUER  0x1d
#define NGX_HTTP_SEKISHO_CRL_CE_AKI          0x23
#define NGX_HTTP_SEKISHO_CRL_CE_FRESHEST     0x2e

/* reasonCode removeFromCRL (8), for delta CRLs only; 7 is unused */
#define NGX_HTTP_SEKISHO_CRL_REMOVE          8
#define NGX_HTTP_SEKISHO_CRL_REASON_MAX      10

/*
 * Bounds far above any real CRL's, that keep the check for a repeated
 * extension quadratic in a small number only; d2i_X509_NAME() itself
 * refuses a name of more than 1 MB.
 */
#define NGX_HTTP_SEKISHO_CRL_EXTS            32
#define NGX_HTTP_SEKISHO_CRL_ENTRY_EXTS      8
#define NGX_HTTP_SEKISHO_CRL_NAME_MAX        65535


static u_char  ngx_http_sekisho_crl_begin[] = "-----BEGIN X509 CRL-----";
static u_char  ngx_http_sekisho_crl_end[] = "-----END X509 CRL-----";


ngx_int_t
ngx_http_sekisho_crl_der_read(u_char *der, size_t len,
    ngx_http_sekisho_crl_der_t *crl, const char **why)
{
    ngx_int_t                      rc;
    ngx_str_t                      v, alg;
    const char                    *reason;
    ngx_http_sekisho_crl_cursor_t  top, list, tbs, exts;

    if (why == NULL) {
        why = &reason;
    }

    ngx_memzero(crl, sizeof(ngx_http_sekisho_crl_der_t));
    *why = NULL;

    top.pos = der;
    top.end = der + len;

    if (ngx_http_sekisho_crl_next(&top, 0x30, &v, NULL) != NGX_OK
        || top.pos != top.end)
    {
        *why = "not a single DER SEQUENCE";
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&list, &v);

    if (ngx_http_sekisho_crl_next(&list, 0x30, &v, &crl->tbs) != NGX_OK) {
        *why = "no TBSCertList";
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&tbs, &v);

    if (ngx_http_sekisho_crl_next(&list, 0x30, &v, &crl->sig_alg) != NGX_OK
        || ngx_http_sekisho_crl_algorithm(&v) != NGX_OK)
    {
        *why = "a malformed signatureAlgorithm";
        return NGX_ERROR;
    }

    /* a signature is whole octets */
    if (ngx_http_sekisho_crl_next(&list, 0x03, &v, NULL) != NGX_OK
        || v.len < 2 || v.data[0] != 0)
    {
        *why = "a malformed signatureValue";
        return NGX_ERROR;
    }

    if (list.pos != list.end) {
        *why = "bytes after the signatureValue";
        return NGX_ERROR;
    }

    crl->signature.data = v.data + 1;
    crl->signature.len = v.len - 1;

    /* absent for v1; when present, RFC 5280 5.1.2.1 wants v2 */
    if (ngx_http_sekisho_crl_at(&tbs, 0x02)) {
        if (ngx_http_sekisho_crl_next(&tbs, 0x02, &v, NULL) != NGX_OK
            || v.len != 1 || v.data[0] != 1)
        {
            *why = "a version other than v2";
            return NGX_ERROR;
        }

        crl->v2 = 1;
    }

    if (ngx_http_sekisho_crl_next(&tbs, 0x30, &v, &alg) != NGX_OK
        || !ngx_http_sekisho_crl_same(&alg, &crl->sig_alg))
    {
        *why = "the signature algorithms inside and outside differ";
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_crl_next(&tbs, 0x30, &v, &crl->issuer) != NGX_OK
        || ngx_http_sekisho_crl_name(&v) != NGX_OK)
    {
        *why = "a malformed issuer name";
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_crl_time(&tbs, &crl->this_update) != NGX_OK) {
        *why = "a malformed thisUpdate";
        return NGX_ERROR;
    }

    /* 0 says "absent": a nextUpdate of the epoch would say it too */
    if (ngx_http_sekisho_crl_at(&tbs, 0x17)
        || ngx_http_sekisho_crl_at(&tbs, 0x18))
    {
        if (ngx_http_sekisho_crl_time(&tbs, &crl->next_update) != NGX_OK) {
            *why = "a malformed nextUpdate";
            return NGX_ERROR;
        }

        if (crl->next_update <= crl->this_update || crl->next_update == 0) {
            *why = "a nextUpdate not after thisUpdate";
            return NGX_ERROR;
        }
    }

    /* RFC 5280 5.1.2.6: no revoked certificates, no list */
    if (ngx_http_sekisho_crl_at(&tbs, 0x30)) {
        if (ngx_http_sekisho_crl_next(&tbs, 0x30, &crl->revoked, NULL)
            != NGX_OK
            || crl->revoked.len == 0)
        {
            *why = "an empty or malformed revokedCertificates";
            return NGX_ERROR;
        }
    }

    rc = NGX_OK;

    if (ngx_http_sekisho_crl_at(&tbs, 0xa0)) {
        if (!crl->v2) {
            *why = "extensions in a v1 CRL";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_crl_next(&tbs, 0xa0, &v, NULL) != NGX_OK) {
            *why = "malformed crlExtensions";
            return NGX_ERROR;
        }

        ngx_http_sekisho_crl_cursor(&exts, &v);

        if (ngx_http_sekisho_crl_next(&exts, 0x30, &v, NULL) != NGX_OK
            || exts.pos != exts.end || v.len == 0)
        {
            *why = "malformed crlExtensions";
            return NGX_ERROR;
        }

        if (tbs.pos != tbs.end) {
            *why = "bytes after the crlExtensions";
            return NGX_ERROR;
        }

        rc = ngx_http_sekisho_crl_extensions(&v, crl, why);
    }

    if (tbs.pos != tbs.end) {
        *why = "an unexpected element in the TBSCertList";
        return NGX_ERROR;
    }

    return rc;
}


void
ngx_http_sekisho_crl_entries_init(ngx_http_sekisho_crl_der_t *crl,
    ngx_http_sekisho_crl_entries_t *it)
{
    /* no arithmetic on the NULL of an absent list */
    if (crl->revoked.len == 0) {
        it->pos = NULL;
        it->end = NULL;

    } else {
        it->pos = crl->revoked.data;
        it->end = crl->revoked.data + crl->revoked.len;
    }

    it->v2 = crl->v2;
}


ngx_int_t
ngx_http_sekisho_crl_entries_next(ngx_http_sekisho_crl_entries_t *it,
    ngx_str_t *serial, const char **why)
{
    time_t                         t;
    ngx_str_t                      v, exts;
    const char                    *reason;
    ngx_http_sekisho_crl_cursor_t  d, e;

    if (why == NULL) {
        why = &reason;
    }

    *why = NULL;

    if (it->pos >= it->end) {
        return NGX_DONE;
    }

    d.pos = it->pos;
    d.end = it->end;

    if (ngx_http_sekisho_crl_next(&d, 0x30, &v, NULL) != NGX_OK) {
        *why = "a malformed CRL entry";
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&e, &v);

    if (ngx_http_sekisho_crl_next(&e, 0x02, serial, NULL) != NGX_OK
        || ngx_http_sekisho_crl_integer(serial) != NGX_OK)
    {
        *why = "a malformed or negative serial in a CRL entry";
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_crl_time(&e, &t) != NGX_OK) {
        *why = "a malformed revocationDate";
        return NGX_ERROR;
    }

    if (e.pos < e.end) {
        if (!it->v2) {
            *why = "entry extensions in a v1 CRL";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_crl_next(&e, 0x30, &exts, NULL) != NGX_OK
            || e.pos != e.end || exts.len == 0)
        {
            *why = "malformed CRL entry extensions";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_crl_entry_extensions(&exts, why) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    it->pos = d.pos;

    return NGX_OK;
}


ngx_int_t
ngx_http_sekisho_general_names(u_char *p, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n)
{
    *n = 0;

    return ngx_http_sekisho_crl_names(p, len, names, max, n);
}


ngx_int_t
ngx_http_sekisho_crl_dp_names(u_char *ext, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n)
{
    ngx_int_t                      rc;
    ngx_str_t                      v, dpn, full, bits, issuer;
    ngx_uint_t                     declined, skip, k;
    ngx_http_sekisho_crl_cursor_t  top, dps, dp;

    *n = 0;

    top.pos = ext;
    top.end = ext + len;

    if (ngx_http_sekisho_crl_next(&top, 0x30, &v, NULL) != NGX_OK
        || top.pos != top.end || v.len == 0)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&dps, &v);
    declined = 0;

    while (dps.pos < dps.end) {

        if (ngx_http_sekisho_crl_next(&dps, 0x30, &v, NULL) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_sekisho_crl_cursor(&dp, &v);
        ngx_str_null(&full);
        skip = 0;

        if (ngx_http_sekisho_crl_at(&dp, 0xa0)) {
            if (ngx_http_sekisho_crl_next(&dp, 0xa0, &dpn, NULL) != NGX_OK) {
                return NGX_ERROR;
            }

            rc = ngx_http_sekisho_crl_dp_name(&dpn, &full);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            skip = (rc == NGX_DECLINED);
        }

        if (ngx_http_sekisho_crl_at(&dp, 0x81)) {
            if (ngx_http_sekisho_crl_next(&dp, 0x81, &bits, NULL) != NGX_OK
                || ngx_http_sekisho_crl_bits(&bits) != NGX_OK)
            {
                return NGX_ERROR;
            }

            skip = 1;
        }

        if (ngx_http_sekisho_crl_at(&dp, 0xa2)) {
            if (ngx_http_sekisho_crl_next(&dp, 0xa2, &issuer, NULL) != NGX_OK
                || ngx_http_sekisho_crl_names(issuer.data, issuer.len, NULL,
                                              0, &k)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            skip = 1;
        }

        /* RFC 5280 4.2.1.13: a name or an issuer, in order, nothing else */
        if (dp.pos != dp.end || v.len == 0
            || (v.data[0] != 0xa0 && v.data[0] != 0xa2))
        {
            return NGX_ERROR;
        }

        declined |= skip;

        /* once declined, the names are only checked */
        if (full.len && !declined
            && ngx_http_sekisho_crl_names(full.data, full.len, names, max, n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (declined) {
        *n = 0;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * RFC 7468 text, strictly: white space, the BEGIN line (at a line's
 * start), base64 in lines (LF or CRLF, no other white space, no empty
 * line, no headers), the END line, white space.  In place is safe:
 * three octets are written for every four characters read, and the
 * BEGIN line is read first.
 */

ngx_int_t
ngx_http_sekisho_crl_pem(u_char *pem, size_t len, u_char *der, size_t *dlen)
{
    u_char     *p, *end, *w, c;
    size_t      n;
    uint32_t    acc;
    ngx_int_t   v;
    ngx_uint_t  chars, pad, done, bol;

    p = pem;
    end = pem + len;

    /* a DER SEQUENCE: "0" may not start PEM */
    if (len && p[0] == 0x30) {
        return NGX_DECLINED;
    }

    while (p < end && ngx_http_sekisho_crl_space(*p)) {
        p++;
    }

    n = sizeof(ngx_http_sekisho_crl_begin) - 1;

    if ((size_t) (end - p) < n
        || ngx_memcmp(p, ngx_http_sekisho_crl_begin, n) != 0)
    {
        return ngx_http_sekisho_crl_pem_begins(pem, end) ? NGX_ERROR
                                                          : NGX_DECLINED;
    }

    /* BEGIN starts a line, as OpenSSL's reader looks for it */
    if (p > pem && p[-1] != '\n') {
        return NGX_ERROR;
    }

    p += n;

    if (p < end && *p == '\r') {
        p++;
    }

    if (p == end || *p++ != '\n') {
        return NGX_ERROR;
    }

    w = der;
    acc = 0;
    chars = 0;
    pad = 0;
    done = 0;
    bol = 1;

    for ( ;; ) {

        if (p == end) {
            return NGX_ERROR;
        }

        c = *p++;

        /* no empty line: OpenSSL would take what is above for headers */
        if (c == '\n') {
            if (bol) {
                return NGX_ERROR;
            }

            bol = 1;
            continue;
        }

        if (c == '\r') {
            if (p == end || *p != '\n') {
                return NGX_ERROR;
            }

            continue;
        }

        if (c == '-' && bol) {
            p--;
            break;
        }

        bol = 0;

        if (done) {
            return NGX_ERROR;
        }

        if (c == '=') {
            /* "xx==" or "xxx=" ends the data */
            if (chars < 2) {
                return NGX_ERROR;
            }

            pad++;

            if (chars + pad < 4) {
                continue;
            }

            /* the bits past the last octet are zero in canonical base64 */
            if (chars == 3) {
                if (acc & 0x03) {
                    return NGX_ERROR;
                }

                *w++ = (u_char) (acc >> 10);
                *w++ = (u_char) (acc >> 2);

            } else {
                if (acc & 0x0f) {
                    return NGX_ERROR;
                }

                *w++ = (u_char) (acc >> 4);
            }

            chars = 0;
            done = 1;
            continue;
        }

        if (pad) {
            return NGX_ERROR;
        }

        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;

        } else if (c == '+') {
            v = 62;

        } else if (c == '/') {
            v = 63;

        } else {
            return NGX_ERROR;
        }

        acc = (acc << 6) | (uint32_t) v;

        if (++chars == 4) {
            *w++ = (u_char) (acc >> 16);
            *w++ = (u_char) (acc >> 8);
            *w++ = (u_char) acc;
            acc = 0;
            chars = 0;
        }
    }

    n = sizeof(ngx_http_sekisho_crl_end) - 1;

    if (chars != 0 || (pad && !done) || w == der
        || (size_t) (end - p) < n
        || ngx_memcmp(p, ngx_http_sekisho_crl_end, n) != 0)
    {
        return NGX_ERROR;
    }

    for (p += n; p < end; p++) {
        if (!ngx_http_sekisho_crl_space(*p)) {
            return NGX_ERROR;
        }
    }

    *dlen = w - der;

    return NGX_OK;
}


/* a "-----BEGIN" anywhere: PEM after something else, not DER */

static ngx_uint_t
ngx_http_sekisho_crl_pem_begins(u_char *p, u_char *end)
{
    static u_char  begin[] = "-----BEGIN";

    for ( /* void */ ; (size_t) (end - p) >= sizeof(begin) - 1; p++) {
        if (p[0] == '-' && ngx_memcmp(p, begin, sizeof(begin) - 1) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The next element, whatever its tag (one octet; not end-of-contents,
 * not the high-tag-number form): "value" its contents, "tlv" (may be
 * NULL) the whole of it.  A length takes at most four octets: a CRL of
 * 100 MB needs four.
 */

static ngx_int_t
ngx_http_sekisho_crl_tlv(ngx_http_sekisho_crl_cursor_t *d, ngx_str_t *value,
    ngx_str_t *tlv)
{
    u_char  *p, *start;
    size_t   len, n;

    p = d->pos;

    if (d->end - p < 2 || p[0] == 0x00 || (p[0] & 0x1f) == 0x1f) {
        return NGX_ERROR;
    }

    start = p;
    p++;
    len = *p++;

    if (len & 0x80) {
        n = len & 0x7f;

        /* indefinite (0x80), a leading zero, or a short length long */
        if (n == 0 || n > 4 || (size_t) (d->end - p) < n || p[0] == 0) {
            return NGX_ERROR;
        }

        len = 0;

        while (n--) {
            len = (len << 8) | *p++;
        }

        if (len < 0x80) {
            return NGX_ERROR;
        }
    }

    if ((size_t) (d->end - p) < len) {
        return NGX_ERROR;
    }

    value->data = p;
    value->len = len;

    if (tlv) {
        tlv->data = start;
        tlv->len = p + len - start;
    }

    d->pos = p + len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_crl_next(ngx_http_sekisho_crl_cursor_t *d, u_char tag,
    ngx_str_t *value, ngx_str_t *tlv)
{
    if (!ngx_http_sekisho_crl_at(d, tag)) {
        return NGX_ERROR;
    }

    return ngx_http_sekisho_crl_tlv(d, value, tlv);
}


/* Time: UTCTime or GeneralizedTime, as the JPKI reader takes them */

static ngx_int_t
ngx_http_sekisho_crl_time(ngx_http_sekisho_crl_cursor_t *d, time_t *t)
{
    u_char     tag;
    ngx_str_t  v;

    tag = (d->pos < d->end) ? d->pos[0] : 0;

    if ((tag != 0x17 && tag != 0x18)
        || ngx_http_sekisho_crl_next(d, tag, &v, NULL) != NGX_OK
        || ngx_http_sekisho_der_time(tag, v.data, v.len, t) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* an INTEGER's contents: minimal, not negative */

static ngx_int_t
ngx_http_sekisho_crl_integer(ngx_str_t *v)
{
    if (v->len == 0 || (v->data[0] & 0x80)) {
        return NGX_ERROR;
    }

    if (v->len > 1 && v->data[0] == 0 && !(v->data[1] & 0x80)) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* X.690 8.19: the last octet ends a subidentifier, none starts with 80 */

static ngx_int_t
ngx_http_sekisho_crl_oid(ngx_str_t *oid)
{
    size_t  i;

    if (oid->len == 0 || (oid->data[oid->len - 1] & 0x80)) {
        return NGX_ERROR;
    }

    for (i = 0; i < oid->len; i++) {
        if (oid->data[i] == 0x80 && (i == 0 || !(oid->data[i - 1] & 0x80))) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * AlgorithmIdentifier: an OID, then no parameters, a NULL, or a
 * SEQUENCE (RSASSA-PSS), left for the signature check to judge.
 */

static ngx_int_t
ngx_http_sekisho_crl_algorithm(ngx_str_t *v)
{
    ngx_str_t                      oid, params;
    ngx_http_sekisho_crl_cursor_t  d;

    ngx_http_sekisho_crl_cursor(&d, v);

    if (ngx_http_sekisho_crl_next(&d, 0x06, &oid, NULL) != NGX_OK
        || ngx_http_sekisho_crl_oid(&oid) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (d.pos == d.end) {
        return NGX_OK;
    }

    if (ngx_http_sekisho_crl_at(&d, 0x05)) {
        if (ngx_http_sekisho_crl_next(&d, 0x05, &params, NULL) != NGX_OK
            || params.len != 0)
        {
            return NGX_ERROR;
        }

    } else if (ngx_http_sekisho_crl_next(&d, 0x30, &params, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return (d.pos == d.end) ? NGX_OK : NGX_ERROR;
}


/* a Name's contents: RDNs, at least one (RFC 5280 5.1.2.3) */

static ngx_int_t
ngx_http_sekisho_crl_name(ngx_str_t *v)
{
    ngx_str_t                      set;
    ngx_http_sekisho_crl_cursor_t  d;

    if (v->len == 0 || v->len > NGX_HTTP_SEKISHO_CRL_NAME_MAX) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&d, v);

    while (d.pos < d.end) {
        if (ngx_http_sekisho_crl_next(&d, 0x31, &set, NULL) != NGX_OK
            || ngx_http_sekisho_crl_rdn(&set) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a RelativeDistinguishedName's contents: attributes, in DER order */

static ngx_int_t
ngx_http_sekisho_crl_rdn(ngx_str_t *set)
{
    u_char                         tag;
    ngx_str_t                      v, atv, prev, oid, value;
    ngx_http_sekisho_crl_cursor_t  d, a;

    if (set->len == 0) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&d, set);
    ngx_str_null(&prev);

    while (d.pos < d.end) {

        if (ngx_http_sekisho_crl_next(&d, 0x30, &v, &atv) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_sekisho_crl_cursor(&a, &v);

        if (ngx_http_sekisho_crl_next(&a, 0x06, &oid, NULL) != NGX_OK
            || ngx_http_sekisho_crl_oid(&oid) != NGX_OK)
        {
            return NGX_ERROR;
        }

        tag = (a.pos < a.end) ? a.pos[0] : 0;

        if (ngx_http_sekisho_crl_next(&a, tag, &value, NULL) != NGX_OK
            || a.pos != a.end
            || ngx_http_sekisho_crl_string(tag, &value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (prev.data && ngx_http_sekisho_crl_set_order(&prev, &atv) > 0) {
            return NGX_ERROR;
        }

        prev = atv;
    }

    return NGX_OK;
}


/*
 * X.690 11.6: a SET OF's encodings in ascending order, the shorter
 * padded with zeros at its end; 1 when "a" must come after "b".
 */

static ngx_int_t
ngx_http_sekisho_crl_set_order(ngx_str_t *a, ngx_str_t *b)
{
    size_t     i, n;
    ngx_int_t  rc;

    n = ngx_min(a->len, b->len);
    rc = ngx_memcmp(a->data, b->data, n);

    if (rc != 0) {
        return (rc > 0) ? 1 : -1;
    }

    for (i = n; i < a->len; i++) {
        if (a->data[i] != 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * An attribute's value: the string types CAs write, not empty.
 * d2i_X509_NAME() converts each to UTF-8 and refuses the name when it
 * cannot: a BMPString of odd length or with a surrogate, bad UTF-8.
 */

static ngx_int_t
ngx_http_sekisho_crl_string(u_char tag, ngx_str_t *v)
{
    u_char  *p, *end, c;
    size_t   i;

    if (v->len == 0) {
        return NGX_ERROR;
    }

    p = v->data;
    end = v->data + v->len;

    switch (tag) {

    case 0x0c: /* UTF8String */
        return ngx_http_sekisho_utf8_string(p, end);

    case 0x13: /* PrintableString, X.680 41.4 */
        for ( /* void */ ; p < end; p++) {
            c = *p;

            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9'))
            {
                continue;
            }

            switch (c) {
            case ' ': case '\'': case '(': case ')': case '+': case ',':
            case '-': case '.': case '/': case ':': case '=': case '?':
                continue;
            default:
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case 0x16: /* IA5String */
        for ( /* void */ ; p < end; p++) {
            if (*p >= 0x80) {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case 0x1e: /* BMPString: UCS-2, big-endian */
        if (v->len % 2) {
            return NGX_ERROR;
        }

        for (i = 0; i < v->len; i += 2) {
            if (p[i] >= 0xd8 && p[i] <= 0xdf) {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/*
 * ReasonFlags, a named bit list of nine bits: DER drops the trailing
 * zero bits (X.690 11.2.2), so the last octet's lowest used bit is set.
 */

static ngx_int_t
ngx_http_sekisho_crl_bits(ngx_str_t *v)
{
    u_char  unused, last;

    if (v->len == 0 || v->len > 3 || v->data[0] > 7) {
        return NGX_ERROR;
    }

    unused = v->data[0];

    if (v->len == 1) {
        return (unused == 0) ? NGX_OK : NGX_ERROR;
    }

    last = v->data[v->len - 1];

    if (!(last & (1 << unused)) || (last & ((1 << unused) - 1))) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * One GeneralName (RFC 5280 4.2.1.6, tagged implicitly but for the
 * CHOICE of directoryName): the forms a CRL distribution point is
 * named by, and otherName.  x400Address and ediPartyName are refused.
 */

static ngx_int_t
ngx_http_sekisho_crl_general_name(ngx_http_sekisho_crl_cursor_t *d,
    ngx_str_t *tlv)
{
    u_char                        *p, tag;
    ngx_str_t                      v, oid, value, name;
    ngx_http_sekisho_crl_cursor_t  g, w;

    tag = (d->pos < d->end) ? d->pos[0] : 0;

    if (ngx_http_sekisho_crl_next(d, tag, &v, tlv) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (tag) {

    case 0x81: /* rfc822Name */
    case 0x82: /* dNSName */
    case 0x86: /* uniformResourceIdentifier */
        if (v.len == 0) {
            return NGX_ERROR;
        }

        for (p = v.data; p < v.data + v.len; p++) {
            if (*p >= 0x80) {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    case 0x87: /* iPAddress */
        return (v.len == 4 || v.len == 16) ? NGX_OK : NGX_ERROR;

    case 0x88: /* registeredID */
        return ngx_http_sekisho_crl_oid(&v);

    case 0xa4: /* directoryName */
        ngx_http_sekisho_crl_cursor(&g, &v);

        if (ngx_http_sekisho_crl_next(&g, 0x30, &name, NULL) != NGX_OK
            || g.pos != g.end)
        {
            return NGX_ERROR;
        }

        return ngx_http_sekisho_crl_name(&name);

    case 0xa0: /* otherName: type-id, [0] EXPLICIT value */
        ngx_http_sekisho_crl_cursor(&g, &v);

        if (ngx_http_sekisho_crl_next(&g, 0x06, &oid, NULL) != NGX_OK
            || ngx_http_sekisho_crl_oid(&oid) != NGX_OK
            || ngx_http_sekisho_crl_next(&g, 0xa0, &value, NULL) != NGX_OK
            || g.pos != g.end)
        {
            return NGX_ERROR;
        }

        ngx_http_sekisho_crl_cursor(&w, &value);
        tag = (w.pos < w.end) ? w.pos[0] : 0;

        if (ngx_http_sekisho_crl_next(&w, tag, &v, NULL) != NGX_OK
            || w.pos != w.end)
        {
            return NGX_ERROR;
        }

        /* an OCTET STRING or a SEQUENCE is opaque to OpenSSL too */
        if (tag == 0x04 || tag == 0x30) {
            return NGX_OK;
        }

        return ngx_http_sekisho_crl_string(tag, &v);

    default:
        return NGX_ERROR;
    }
}


/*
 * GeneralNames' contents, at least one name: appended to names[*n]
 * (more than "max" in all is an error), or only checked when "names"
 * is NULL.
 */

static ngx_int_t
ngx_http_sekisho_crl_names(u_char *p, size_t len, ngx_str_t *names,
    ngx_uint_t max, ngx_uint_t *n)
{
    ngx_str_t                      tlv;
    ngx_http_sekisho_crl_cursor_t  d;

    if (len == 0) {
        return NGX_ERROR;
    }

    d.pos = p;
    d.end = p + len;

    while (d.pos < d.end) {

        if (ngx_http_sekisho_crl_general_name(&d, &tlv) != NGX_OK) {
            return NGX_ERROR;
        }

        if (names == NULL) {
            continue;
        }

        if (*n >= max) {
            return NGX_ERROR;
        }

        names[(*n)++] = tlv;
    }

    return NGX_OK;
}


/*
 * DistributionPointName, a CHOICE under an explicit [0]: NGX_OK with
 * the fullName's contents, NGX_DECLINED for nameRelativeToCRLIssuer.
 */

static ngx_int_t
ngx_http_sekisho_crl_dp_name(ngx_str_t *v, ngx_str_t *full)
{
    ngx_str_t                      rdn;
    ngx_uint_t                     n;
    ngx_http_sekisho_crl_cursor_t  d;

    ngx_http_sekisho_crl_cursor(&d, v);

    if (ngx_http_sekisho_crl_at(&d, 0xa0)) {
        if (ngx_http_sekisho_crl_next(&d, 0xa0, full, NULL) != NGX_OK
            || d.pos != d.end
            || ngx_http_sekisho_crl_names(full->data, full->len, NULL, 0, &n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_sekisho_crl_next(&d, 0xa1, &rdn, NULL) != NGX_OK
        || d.pos != d.end
        || ngx_http_sekisho_crl_rdn(&rdn) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


/* Extension: an OID, critical only as TRUE (DER leaves FALSE out) */

static ngx_int_t
ngx_http_sekisho_crl_ext(ngx_http_sekisho_crl_cursor_t *d, ngx_str_t *oid,
    ngx_uint_t *critical, ngx_str_t *value)
{
    ngx_str_t                      ext, b;
    ngx_http_sekisho_crl_cursor_t  e;

    if (ngx_http_sekisho_crl_next(d, 0x30, &ext, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&e, &ext);

    if (ngx_http_sekisho_crl_next(&e, 0x06, oid, NULL) != NGX_OK
        || ngx_http_sekisho_crl_oid(oid) != NGX_OK)
    {
        return NGX_ERROR;
    }

    *critical = 0;

    if (ngx_http_sekisho_crl_at(&e, 0x01)) {
        if (ngx_http_sekisho_crl_next(&e, 0x01, &b, NULL) != NGX_OK
            || b.len != 1 || b.data[0] != 0xff)
        {
            return NGX_ERROR;
        }

        *critical = 1;
    }

    if (ngx_http_sekisho_crl_next(&e, 0x04, value, NULL) != NGX_OK
        || e.pos != e.end)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* an extension's value that is one element of the tag given */

static ngx_int_t
ngx_http_sekisho_crl_single(ngx_str_t *value, u_char tag, ngx_str_t *v)
{
    ngx_http_sekisho_crl_cursor_t  d;

    ngx_http_sekisho_crl_cursor(&d, value);

    if (ngx_http_sekisho_crl_next(&d, tag, v, NULL) != NGX_OK
        || d.pos != d.end)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * crlExtensions: each at most once; the first reason to decline is
 * kept, but a malformed extension after it still makes an error.
 */

static ngx_int_t
ngx_http_sekisho_crl_extensions(ngx_str_t *list,
    ngx_http_sekisho_crl_der_t *crl, const char **why)
{
    ngx_int_t                      rc;
    ngx_str_t                      oids[NGX_HTTP_SEKISHO_CRL_EXTS], value;
    ngx_uint_t                     n, i, critical;
    const char                    *declined;
    ngx_http_sekisho_crl_cursor_t  d;

    ngx_http_sekisho_crl_cursor(&d, list);
    declined = NULL;

    for (n = 0; d.pos < d.end; n++) {

        if (n == NGX_HTTP_SEKISHO_CRL_EXTS) {
            *why = "too many CRL extensions";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_crl_ext(&d, &oids[n], &critical, &value)
            != NGX_OK)
        {
            *why = "a malformed CRL extension";
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (ngx_http_sekisho_crl_same(&oids[i], &oids[n])) {
                *why = "a CRL extension present twice";
                return NGX_ERROR;
            }
        }

        rc = ngx_http_sekisho_crl_extension(&oids[n], critical, &value, crl,
                                            why);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED && declined == NULL) {
            declined = *why;
        }
    }

    if (declined) {
        *why = declined;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * One CRL extension.  Critical ones are taken as d2i_X509_CRL() takes
 * them: the IDP and the AKI only (a delta CRL is declined anyway).
 */

static ngx_int_t
ngx_http_sekisho_crl_extension(ngx_str_t *oid, ngx_uint_t critical,
    ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl, const char **why)
{
    ngx_str_t  v;

    if (oid->len != 3 || oid->data[0] != 0x55 || oid->data[1] != 0x1d) {
        goto unknown;
    }

    switch (oid->data[2]) {

    case NGX_HTTP_SEKISHO_CRL_CE_AKI:
        if (ngx_http_sekisho_crl_aki(value, crl) != NGX_OK) {
            *why = "a malformed authorityKeyIdentifier";
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_SEKISHO_CRL_CE_IDP:
        return ngx_http_sekisho_crl_idp(value, crl, why);

    case NGX_HTTP_SEKISHO_CRL_CE_NUMBER:
        /* 0..MAX, at most 20 octets (RFC 5280 5.2.3) */
        if (ngx_http_sekisho_crl_single(value, 0x02, &v) != NGX_OK
            || ngx_http_sekisho_crl_integer(&v) != NGX_OK
            || v.len > 21 || (v.len == 21 && v.data[0] != 0))
        {
            *why = "a malformed cRLNumber";
            return NGX_ERROR;
        }

        crl->number = v;

        if (critical) {
            *why = "a critical cRLNumber";
            return NGX_DECLINED;
        }

        return NGX_OK;

    case NGX_HTTP_SEKISHO_CRL_CE_DELTA:
        if (ngx_http_sekisho_crl_single(value, 0x02, &v) != NGX_OK
            || ngx_http_sekisho_crl_integer(&v) != NGX_OK)
        {
            *why = "a malformed deltaCRLIndicator";
            return NGX_ERROR;
        }

        *why = "a delta CRL";
        return NGX_DECLINED;

    case NGX_HTTP_SEKISHO_CRL_CE_FRESHEST:
        if (critical) {
            *why = "a critical freshestCRL";
            return NGX_DECLINED;
        }

        return NGX_OK;

    default:
        break;
    }

unknown:

    if (critical) {
        *why = "an unknown critical CRL extension";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * AuthorityKeyIdentifier: a key id, and an issuer and serial together
 * or neither (RFC 5280 4.2.1.1); not empty.
 */

static ngx_int_t
ngx_http_sekisho_crl_aki(ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl)
{
    ngx_str_t                      v, names, serial;
    ngx_uint_t                     n, parts;
    ngx_http_sekisho_crl_cursor_t  aki;

    if (ngx_http_sekisho_crl_single(value, 0x30, &v) != NGX_OK
        || v.len == 0)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&aki, &v);
    parts = 0;

    if (ngx_http_sekisho_crl_at(&aki, 0x80)) {
        if (ngx_http_sekisho_crl_next(&aki, 0x80, &crl->key_id, NULL)
            != NGX_OK
            || crl->key_id.len == 0)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_sekisho_crl_at(&aki, 0xa1)) {
        if (ngx_http_sekisho_crl_next(&aki, 0xa1, &names, NULL) != NGX_OK
            || ngx_http_sekisho_crl_names(names.data, names.len, NULL, 0, &n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        parts++;
    }

    if (ngx_http_sekisho_crl_at(&aki, 0x82)) {
        if (ngx_http_sekisho_crl_next(&aki, 0x82, &serial, NULL) != NGX_OK
            || ngx_http_sekisho_crl_integer(&serial) != NGX_OK)
        {
            return NGX_ERROR;
        }

        parts++;
    }

    if (aki.pos != aki.end || parts == 1) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * IssuingDistributionPoint (RFC 5280 5.2.5): not empty, its fields in
 * order, the BOOLEANs present only when TRUE.
 */

static ngx_int_t
ngx_http_sekisho_crl_idp(ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl,
    const char **why)
{
    u_char                         tag, last;
    ngx_int_t                      rc;
    ngx_str_t                      v;
    const char                    *declined;
    ngx_http_sekisho_crl_cursor_t  idp;

    *why = "a malformed issuingDistributionPoint";

    if (ngx_http_sekisho_crl_single(value, 0x30, &v) != NGX_OK
        || v.len == 0)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_crl_cursor(&idp, &v);
    crl->idp = 1;
    declined = NULL;

    if (ngx_http_sekisho_crl_at(&idp, 0xa0)) {
        if (ngx_http_sekisho_crl_next(&idp, 0xa0, &v, NULL) != NGX_OK) {
            return NGX_ERROR;
        }

        rc = ngx_http_sekisho_crl_dp_name(&v, &crl->idp_names);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            declined = "an IDP with a nameRelativeToCRLIssuer";
        }
    }

    for (last = 0; idp.pos < idp.end; last = tag) {
        tag = idp.pos[0];

        if (tag <= last || tag < 0x81 || tag > 0x85
            || ngx_http_sekisho_crl_next(&idp, tag, &v, NULL) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (tag == 0x83) {
            if (ngx_http_sekisho_crl_bits(&v) != NGX_OK) {
                return NGX_ERROR;
            }

            declined = declined ? declined : "an IDP with onlySomeReasons";
            continue;
        }

        if (v.len != 1 || v.data[0] != 0xff) {
            return NGX_ERROR;
        }

        switch (tag) {

        case 0x81:
            crl->only_user = 1;
            break;

        case 0x82:
            crl->only_ca = 1;
            break;

        case 0x84:
            declined = declined ? declined : "an indirect CRL";
            break;

        default: /* 0x85 */
            declined = declined ? declined
                                : "an IDP with onlyContainsAttributeCerts";
            break;
        }
    }

    if (crl->only_user && crl->only_ca && declined == NULL) {
        declined = "an IDP with onlyContainsUserCerts and"
                   " onlyContainsCACerts";
    }

    *why = declined;

    return declined ? NGX_DECLINED : NGX_OK;
}


/*
 * crlEntryExtensions: reasonCode and invalidityDate are checked and
 * left; any critical one, and a certificateIssuer, is refused, as is
 * removeFromCRL, which only a delta CRL may say (RFC 5280 5.3.1).
 */

static ngx_int_t
ngx_http_sekisho_crl_entry_extensions(ngx_str_t *list, const char **why)
{
    time_t                         t;
    ngx_str_t                      oids[NGX_HTTP_SEKISHO_CRL_ENTRY_EXTS];
    ngx_str_t                      value, v;
    ngx_uint_t                     n, i, critical, known;
    ngx_http_sekisho_crl_cursor_t  d;

    ngx_http_sekisho_crl_cursor(&d, list);

    for (n = 0; d.pos < d.end; n++) {

        if (n == NGX_HTTP_SEKISHO_CRL_ENTRY_EXTS) {
            *why = "too many CRL entry extensions";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_crl_ext(&d, &oids[n], &critical, &value)
            != NGX_OK)
        {
            *why = "a malformed CRL entry extension";
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (ngx_http_sekisho_crl_same(&oids[i], &oids[n])) {
                *why = "a CRL entry extension present twice";
                return NGX_ERROR;
            }
        }

        known = (oids[n].len == 3 && oids[n].data[0] == 0x55
                 && oids[n].data[1] == 0x1d)
                ? oids[n].data[2] : 0;

        switch (known) {

        case NGX_HTTP_SEKISHO_CRL_CE_CERT_ISSUER:
            *why = "a certificateIssuer (an indirect CRL)";
            return NGX_ERROR;

        case NGX_HTTP_SEKISHO_CRL_CE_REASON:
            if (ngx_http_sekisho_crl_single(&value, 0x0a, &v) != NGX_OK
                || v.len != 1 || v.data[0] == 7
                || v.data[0] > NGX_HTTP_SEKISHO_CRL_REASON_MAX)
            {
                *why = "a malformed reasonCode";
                return NGX_ERROR;
            }

            if (v.data[0] == NGX_HTTP_SEKISHO_CRL_REMOVE) {
                *why = "a reasonCode removeFromCRL in a complete CRL";
                return NGX_ERROR;
            }

            break;

        case NGX_HTTP_SEKISHO_CRL_CE_INVALIDITY:
            if (ngx_http_sekisho_crl_single(&value, 0x18, &v) != NGX_OK
                || ngx_http_sekisho_der_time(0x18, v.data, v.len, &t)
                   != NGX_OK)
            {
                *why = "a malformed invalidityDate";
                return NGX_ERROR;
            }

            break;

        default:
            break;
        }

        if (critical) {
            *why = "a critical CRL entry extension";
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
