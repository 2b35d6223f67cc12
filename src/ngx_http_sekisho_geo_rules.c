
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_geo_rules.h"


/*
 * Precedence: the deny list beats the allow list, which beats the
 * country.  An address the database cannot place follows the
 * "sekisho_geo_unknown" policy.  Dry run keeps the reason but lets the
 * request through.
 */

ngx_http_sekisho_decision_e
ngx_http_sekisho_geo_decide(ngx_http_sekisho_geo_facts_t *facts,
    ngx_http_sekisho_geo_policy_t *policy, ngx_http_sekisho_reason_e *reason)
{
    ngx_uint_t                   i;
    ngx_http_sekisho_decision_e  decision;

    if (facts->in_deny) {
        *reason = NGX_HTTP_SEKISHO_REASON_GEO_DENYLIST;
        decision = NGX_HTTP_SEKISHO_DENY;

    } else if (facts->in_allow) {
        *reason = NGX_HTTP_SEKISHO_REASON_GEO_ALLOWLIST;
        return NGX_HTTP_SEKISHO_ALLOW;

    } else if (facts->country == 0) {
        *reason = NGX_HTTP_SEKISHO_REASON_GEO_UNKNOWN;

        if (policy->unknown_allow) {
            return NGX_HTTP_SEKISHO_ALLOW;
        }

        decision = NGX_HTTP_SEKISHO_DENY;

    } else {
        for (i = 0; i < policy->ncountries; i++) {
            if (policy->countries[i] == facts->country) {
                *reason = NGX_HTTP_SEKISHO_REASON_GEO_COUNTRY;
                return NGX_HTTP_SEKISHO_ALLOW;
            }
        }

        *reason = NGX_HTTP_SEKISHO_REASON_GEO_FOREIGN;
        decision = NGX_HTTP_SEKISHO_DENY;
    }

    return policy->dry_run ? NGX_HTTP_SEKISHO_DRYRUN_DENY : decision;
}


/*
 * An ISO 3166-1 alpha-2 code packed into 16 bits, upper case;
 * 0 for anything that is not two ASCII letters.
 */

uint16_t
ngx_http_sekisho_country_pack(const u_char *s, size_t len)
{
    u_char  a, b;

    if (len != 2) {
        return 0;
    }

    a = (u_char) (s[0] & ~0x20);
    b = (u_char) (s[1] & ~0x20);

    if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') {
        return 0;
    }

    return (uint16_t) ((a << 8) | b);
}


void
ngx_http_sekisho_country_unpack(uint16_t code, u_char *out)
{
    out[0] = (u_char) (code >> 8);
    out[1] = (u_char) (code & 0xff);
}


/*
 * Splits "a.b.c" in place into NUL-terminated components for
 * MMDB_aget_value(); "out" gets a NULL terminator, so it must hold
 * n + 1 pointers and "buf" len + 1 bytes.  Components are map keys
 * or array indexes: letters, digits, '_' and '-' only.
 */

ngx_int_t
ngx_http_sekisho_geo_split_path(u_char *buf, size_t len, const char **out,
    ngx_uint_t n)
{
    u_char      *p, *start;
    ngx_uint_t   k;

    if (len == 0) {
        return NGX_ERROR;
    }

    k = 0;
    start = buf;

    for (p = buf; p <= buf + len; p++) {

        if (p == buf + len || *p == '.') {
            if (p == start || k == n) {
                return NGX_ERROR;
            }

            *p = '\0';
            out[k++] = (const char *) start;
            start = p + 1;
            continue;
        }

        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
        {
            return NGX_ERROR;
        }
    }

    out[k] = NULL;

    return (ngx_int_t) k;
}


/*
 * A client on a dual-stack socket arrives as ::ffff:a.b.c.d; country
 * databases and CIDR lists know it as a.b.c.d.
 */

struct sockaddr *
ngx_http_sekisho_unmap_v4(struct sockaddr *sa, struct sockaddr_in *sin)
{
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;

    if (sa->sa_family != AF_INET6) {
        return sa;
    }

    sin6 = (struct sockaddr_in6 *) sa;

    if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        return sa;
    }

    ngx_memzero(sin, sizeof(struct sockaddr_in));
    sin->sin_family = AF_INET;
    sin->sin_port = sin6->sin6_port;
    ngx_memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);

    return (struct sockaddr *) sin;
#else
    return sa;
#endif
}
