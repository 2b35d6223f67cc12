
/*
 * Copyright (C) Sekisho authors
 *
 * RFC 5280's CRL, read strictly: DER only (definite lengths in the
 * fewest octets, DEFAULT values left out, TRUE as ff, SET OF in
 * order, minimal INTEGERs, no bytes after the end), v2 whenever an
 * extension is present, the same signature algorithm inside and out.
 * Names are checked by ngx_http_sekisho_der_names.c, so that what is
 * taken here OpenSSL also parses.  Nothing recurses and every element
 * is looked at a bounded number of times: the time is linear in the
 * size of the CRL, and no byte outside [der, der + len) is read.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_der.h"
#include "ngx_http_sekisho_der_names.h"
#include "ngx_http_sekisho_crl_der.h"


/*
 * One kind of extension list, crlExtensions or crlEntryExtensions: its
 * bound, what each extension in it is checked by, and the reasons.
 */
typedef ngx_int_t (*ngx_http_sekisho_crl_ext_pt)(ngx_str_t *oid,
    ngx_uint_t critical, ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl,
    const char **why);

typedef struct {
    ngx_uint_t                     max;
    ngx_http_sekisho_crl_ext_pt    handler;
    const char                    *too_many;
    const char                    *malformed;
    const char                    *twice;
} ngx_http_sekisho_crl_exts_t;


static ngx_int_t ngx_http_sekisho_crl_algorithm(ngx_str_t *v);
static ngx_int_t ngx_http_sekisho_crl_extensions(ngx_str_t *list,
    ngx_http_sekisho_crl_exts_t *kind, ngx_http_sekisho_crl_der_t *crl,
    const char **why);
static ngx_int_t ngx_http_sekisho_crl_extension(ngx_str_t *oid,
    ngx_uint_t critical, ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl,
    const char **why);
static ngx_int_t ngx_http_sekisho_crl_aki(ngx_str_t *value,
    ngx_http_sekisho_crl_der_t *crl);
static ngx_int_t ngx_http_sekisho_crl_idp(ngx_str_t *value,
    ngx_http_sekisho_crl_der_t *crl, const char **why);
static ngx_int_t ngx_http_sekisho_crl_entry_extension(ngx_str_t *oid,
    ngx_uint_t critical, ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl,
    const char **why);


#define ngx_http_sekisho_crl_same(a, b)                                       \
    ((a)->len == (b)->len && ngx_memcmp((a)->data, (b)->data, (a)->len) == 0)


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
 * extension quadratic in a small number only; the larger one sizes the
 * list of OIDs seen.
 */
#define NGX_HTTP_SEKISHO_CRL_EXTS            32
#define NGX_HTTP_SEKISHO_CRL_ENTRY_EXTS      8


static ngx_http_sekisho_crl_exts_t  ngx_http_sekisho_crl_exts = {
    NGX_HTTP_SEKISHO_CRL_EXTS,
    ngx_http_sekisho_crl_extension,
    "too many CRL extensions",
    "a malformed CRL extension",
    "a CRL extension present twice"
};

static ngx_http_sekisho_crl_exts_t  ngx_http_sekisho_crl_entry_exts = {
    NGX_HTTP_SEKISHO_CRL_ENTRY_EXTS,
    ngx_http_sekisho_crl_entry_extension,
    "too many CRL entry extensions",
    "a malformed CRL entry extension",
    "a CRL entry extension present twice"
};


ngx_int_t
ngx_http_sekisho_crl_der_read(u_char *der, size_t len,
    ngx_http_sekisho_crl_der_t *crl, const char **why)
{
    ngx_int_t                      rc;
    ngx_str_t                      v, alg, exts;
    const char                    *reason;
    ngx_http_sekisho_der_cursor_t  top, list, tbs;

    if (why == NULL) {
        why = &reason;
    }

    ngx_memzero(crl, sizeof(ngx_http_sekisho_crl_der_t));
    *why = NULL;

    top.pos = der;
    top.end = der + len;

    if (ngx_http_sekisho_der_next(&top, 0x30, &v, NULL) != NGX_OK
        || top.pos != top.end)
    {
        *why = "not a single DER SEQUENCE";
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&list, &v);

    if (ngx_http_sekisho_der_next(&list, 0x30, &v, &crl->tbs) != NGX_OK) {
        *why = "no TBSCertList";
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&tbs, &v);

    if (ngx_http_sekisho_der_next(&list, 0x30, &v, &crl->sig_alg) != NGX_OK
        || ngx_http_sekisho_crl_algorithm(&v) != NGX_OK)
    {
        *why = "a malformed signatureAlgorithm";
        return NGX_ERROR;
    }

    /* a signature is whole octets */
    if (ngx_http_sekisho_der_next(&list, 0x03, &v, NULL) != NGX_OK
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
    if (ngx_http_sekisho_der_at(&tbs, 0x02)) {
        if (ngx_http_sekisho_der_next(&tbs, 0x02, &v, NULL) != NGX_OK
            || v.len != 1 || v.data[0] != 1)
        {
            *why = "a version other than v2";
            return NGX_ERROR;
        }

        crl->v2 = 1;
    }

    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, &alg) != NGX_OK
        || !ngx_http_sekisho_crl_same(&alg, &crl->sig_alg))
    {
        *why = "the signature algorithms inside and outside differ";
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_der_next(&tbs, 0x30, &v, &crl->issuer) != NGX_OK
        || ngx_http_sekisho_der_name(&v) != NGX_OK)
    {
        *why = "a malformed issuer name";
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_der_next_time(&tbs, &crl->this_update) != NGX_OK) {
        *why = "a malformed thisUpdate";
        return NGX_ERROR;
    }

    /* 0 says "absent": a nextUpdate of the epoch would say it too */
    if (ngx_http_sekisho_der_at(&tbs, 0x17)
        || ngx_http_sekisho_der_at(&tbs, 0x18))
    {
        if (ngx_http_sekisho_der_next_time(&tbs, &crl->next_update)
            != NGX_OK)
        {
            *why = "a malformed nextUpdate";
            return NGX_ERROR;
        }

        if (crl->next_update <= crl->this_update || crl->next_update == 0) {
            *why = "a nextUpdate not after thisUpdate";
            return NGX_ERROR;
        }
    }

    /* RFC 5280 5.1.2.6: no revoked certificates, no list */
    if (ngx_http_sekisho_der_at(&tbs, 0x30)) {
        if (ngx_http_sekisho_der_next(&tbs, 0x30, &crl->revoked, NULL)
            != NGX_OK
            || crl->revoked.len == 0)
        {
            *why = "an empty or malformed revokedCertificates";
            return NGX_ERROR;
        }
    }

    rc = NGX_OK;

    if (ngx_http_sekisho_der_at(&tbs, 0xa0)) {
        if (!crl->v2) {
            *why = "extensions in a v1 CRL";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_der_next(&tbs, 0xa0, &v, NULL) != NGX_OK) {
            *why = "malformed crlExtensions";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_der_single(&v, 0x30, &exts) != NGX_OK
            || exts.len == 0)
        {
            *why = "malformed crlExtensions";
            return NGX_ERROR;
        }

        if (tbs.pos != tbs.end) {
            *why = "bytes after the crlExtensions";
            return NGX_ERROR;
        }

        rc = ngx_http_sekisho_crl_extensions(&exts,
                                             &ngx_http_sekisho_crl_exts, crl,
                                             why);
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
    ngx_http_sekisho_der_cursor_t  d, e;

    if (why == NULL) {
        why = &reason;
    }

    *why = NULL;

    if (it->pos >= it->end) {
        return NGX_DONE;
    }

    d.pos = it->pos;
    d.end = it->end;

    if (ngx_http_sekisho_der_next(&d, 0x30, &v, NULL) != NGX_OK) {
        *why = "a malformed CRL entry";
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&e, &v);

    if (ngx_http_sekisho_der_next(&e, 0x02, serial, NULL) != NGX_OK
        || ngx_http_sekisho_der_integer(serial) != NGX_OK)
    {
        *why = "a malformed or negative serial in a CRL entry";
        return NGX_ERROR;
    }

    if (ngx_http_sekisho_der_next_time(&e, &t) != NGX_OK) {
        *why = "a malformed revocationDate";
        return NGX_ERROR;
    }

    if (e.pos < e.end) {
        if (!it->v2) {
            *why = "entry extensions in a v1 CRL";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_der_next(&e, 0x30, &exts, NULL) != NGX_OK
            || e.pos != e.end || exts.len == 0)
        {
            *why = "malformed CRL entry extensions";
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_crl_extensions(&exts,
                                            &ngx_http_sekisho_crl_entry_exts,
                                            NULL, why)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    it->pos = d.pos;

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
    ngx_http_sekisho_der_cursor_t  d;

    ngx_http_sekisho_der_cursor(&d, v);

    if (ngx_http_sekisho_der_next(&d, 0x06, &oid, NULL) != NGX_OK
        || ngx_http_sekisho_der_oid(&oid) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (d.pos == d.end) {
        return NGX_OK;
    }

    if (ngx_http_sekisho_der_at(&d, 0x05)) {
        if (ngx_http_sekisho_der_next(&d, 0x05, &params, NULL) != NGX_OK
            || params.len != 0)
        {
            return NGX_ERROR;
        }

    } else if (ngx_http_sekisho_der_next(&d, 0x30, &params, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return (d.pos == d.end) ? NGX_OK : NGX_ERROR;
}


/*
 * crlExtensions or crlEntryExtensions: each at most once; the first
 * reason to decline is kept, but a malformed extension after it still
 * makes an error.
 */

static ngx_int_t
ngx_http_sekisho_crl_extensions(ngx_str_t *list,
    ngx_http_sekisho_crl_exts_t *kind, ngx_http_sekisho_crl_der_t *crl,
    const char **why)
{
    ngx_int_t                      rc;
    ngx_str_t                      oids[NGX_HTTP_SEKISHO_CRL_EXTS], value;
    ngx_uint_t                     n, i, critical;
    const char                    *declined;
    ngx_http_sekisho_der_cursor_t  d;

    ngx_http_sekisho_der_cursor(&d, list);
    declined = NULL;

    for (n = 0; d.pos < d.end; n++) {

        if (n == kind->max) {
            *why = kind->too_many;
            return NGX_ERROR;
        }

        if (ngx_http_sekisho_der_extension(&d, &oids[n], &critical, &value)
            != NGX_OK)
        {
            *why = kind->malformed;
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (ngx_http_sekisho_crl_same(&oids[i], &oids[n])) {
                *why = kind->twice;
                return NGX_ERROR;
            }
        }

        rc = kind->handler(&oids[n], critical, &value, crl, why);

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
        if (ngx_http_sekisho_der_single(value, 0x02, &v) != NGX_OK
            || ngx_http_sekisho_der_integer(&v) != NGX_OK
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
        if (ngx_http_sekisho_der_single(value, 0x02, &v) != NGX_OK
            || ngx_http_sekisho_der_integer(&v) != NGX_OK)
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
    ngx_http_sekisho_der_cursor_t  aki;

    if (ngx_http_sekisho_der_single(value, 0x30, &v) != NGX_OK
        || v.len == 0)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&aki, &v);
    parts = 0;

    if (ngx_http_sekisho_der_at(&aki, 0x80)) {
        if (ngx_http_sekisho_der_next(&aki, 0x80, &crl->key_id, NULL)
            != NGX_OK
            || crl->key_id.len == 0)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_sekisho_der_at(&aki, 0xa1)) {
        if (ngx_http_sekisho_der_next(&aki, 0xa1, &names, NULL) != NGX_OK
            || ngx_http_sekisho_general_names(names.data, names.len, NULL, 0,
                                              &n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        parts++;
    }

    if (ngx_http_sekisho_der_at(&aki, 0x82)) {
        if (ngx_http_sekisho_der_next(&aki, 0x82, &serial, NULL) != NGX_OK
            || ngx_http_sekisho_der_integer(&serial) != NGX_OK)
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
    ngx_http_sekisho_der_cursor_t  idp;

    *why = "a malformed issuingDistributionPoint";

    if (ngx_http_sekisho_der_single(value, 0x30, &v) != NGX_OK
        || v.len == 0)
    {
        return NGX_ERROR;
    }

    ngx_http_sekisho_der_cursor(&idp, &v);
    crl->idp = 1;
    declined = NULL;

    if (ngx_http_sekisho_der_at(&idp, 0xa0)) {
        if (ngx_http_sekisho_der_next(&idp, 0xa0, &v, NULL) != NGX_OK) {
            return NGX_ERROR;
        }

        rc = ngx_http_sekisho_der_dp_name(&v, &crl->idp_names);

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
            || ngx_http_sekisho_der_next(&idp, tag, &v, NULL) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (tag == 0x83) {
            if (ngx_http_sekisho_der_bits(&v) != NGX_OK) {
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
 * One entry extension: reasonCode and invalidityDate are checked and
 * left; any critical one, and a certificateIssuer, is refused, as is
 * removeFromCRL, which only a delta CRL may say (RFC 5280 5.3.1).
 */

static ngx_int_t
ngx_http_sekisho_crl_entry_extension(ngx_str_t *oid, ngx_uint_t critical,
    ngx_str_t *value, ngx_http_sekisho_crl_der_t *crl, const char **why)
{
    time_t      t;
    ngx_str_t   v;
    ngx_uint_t  known;

    known = (oid->len == 3 && oid->data[0] == 0x55 && oid->data[1] == 0x1d)
            ? oid->data[2] : 0;

    switch (known) {

    case NGX_HTTP_SEKISHO_CRL_CE_CERT_ISSUER:
        *why = "a certificateIssuer (an indirect CRL)";
        return NGX_ERROR;

    case NGX_HTTP_SEKISHO_CRL_CE_REASON:
        if (ngx_http_sekisho_der_single(value, 0x0a, &v) != NGX_OK
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
        if (ngx_http_sekisho_der_single(value, 0x18, &v) != NGX_OK
            || ngx_http_sekisho_der_time(0x18, v.data, v.len, &t) != NGX_OK)
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

    return NGX_OK;
}
