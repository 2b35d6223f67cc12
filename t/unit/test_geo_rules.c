
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of the geo gate's pure rules: precedence, country codes,
 * lookup paths and IPv4-mapped addresses.
 *
 * uses: ngx_http_sekisho_geo_rules.c ngx_http_sekisho_reason.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_geo_rules.h"
#include "tap.h"


#define CC(s)  ngx_http_sekisho_country_pack((u_char *) s, sizeof(s) - 1)


static const char *
decide(uint16_t country, int in_deny, int in_allow, int unknown_allow,
    int dry_run, const char **reason)
{
    uint16_t                        allowed[2];
    ngx_http_sekisho_reason_e       r;
    ngx_http_sekisho_geo_facts_t    facts;
    ngx_http_sekisho_geo_policy_t   policy;
    ngx_http_sekisho_decision_e     d;
    static char                     dbuf[32], rbuf[32];
    const ngx_str_t                *s;

    allowed[0] = CC("JP");
    allowed[1] = CC("KR");

    memset(&facts, 0, sizeof(facts));
    facts.country = country;
    facts.in_deny = in_deny;
    facts.in_allow = in_allow;

    memset(&policy, 0, sizeof(policy));
    policy.countries = allowed;
    policy.ncountries = 2;
    policy.unknown_allow = unknown_allow;
    policy.dry_run = dry_run;

    r = NGX_HTTP_SEKISHO_REASON_NONE;
    d = ngx_http_sekisho_geo_decide(&facts, &policy, &r);

    s = ngx_http_sekisho_decision_name(d);
    snprintf(dbuf, sizeof(dbuf), "%.*s", (int) s->len, s->data);
    s = ngx_http_sekisho_reason_name(r);
    snprintf(rbuf, sizeof(rbuf), "%.*s", (int) s->len, s->data);

    *reason = rbuf;
    return dbuf;
}


static void
test_decide(void)
{
    const char  *reason;

    is_str(decide(CC("JP"), 0, 0, 0, 0, &reason), "allow", "JP allowed");
    is_str(reason, "geo_country", "JP: reason geo_country");

    is_str(decide(CC("KR"), 0, 0, 0, 0, &reason), "allow",
           "second country of the set allowed");

    is_str(decide(CC("US"), 0, 0, 0, 0, &reason), "deny", "US refused");
    is_str(reason, "geo_foreign", "US: reason geo_foreign");

    is_str(decide(0, 0, 0, 0, 0, &reason), "deny", "unknown refused");
    is_str(reason, "geo_unknown", "unknown: reason geo_unknown");

    is_str(decide(0, 0, 0, 1, 0, &reason), "allow",
           "unknown allowed by policy");
    is_str(reason, "geo_unknown", "unknown allowed: reason kept");

    is_str(decide(CC("US"), 0, 1, 0, 0, &reason), "allow",
           "allow list beats country");
    is_str(reason, "geo_allowlist", "reason geo_allowlist");

    is_str(decide(0, 0, 1, 0, 0, &reason), "allow",
           "allow list beats unknown");

    is_str(decide(CC("JP"), 1, 0, 0, 0, &reason), "deny",
           "deny list beats country");
    is_str(reason, "geo_denylist", "reason geo_denylist");

    is_str(decide(CC("JP"), 1, 1, 0, 0, &reason), "deny",
           "deny list beats allow list");
    is_str(reason, "geo_denylist", "deny and allow: reason geo_denylist");

    is_str(decide(CC("US"), 0, 0, 0, 1, &reason), "dryrun-deny",
           "dry run turns a refusal into dryrun-deny");
    is_str(reason, "geo_foreign", "dry run keeps the reason");

    is_str(decide(CC("JP"), 1, 0, 0, 1, &reason), "dryrun-deny",
           "dry run of a deny-listed address");

    is_str(decide(CC("JP"), 0, 0, 0, 1, &reason), "allow",
           "dry run leaves an allowed address allowed");
}


static void
test_country(void)
{
    u_char  out[2];

    is_int(CC("JP"), ('J' << 8) | 'P', "JP packs");
    is_int(CC("jp"), CC("JP"), "lower case is upper-cased");
    is_int(CC("Jp"), CC("JP"), "mixed case is upper-cased");
    is_int(CC("JPN"), 0, "three letters refused");
    is_int(CC("J"), 0, "one letter refused");
    is_int(CC(""), 0, "empty refused");
    is_int(CC("J1"), 0, "digit refused");
    is_int(CC("J "), 0, "space refused");
    is_int(CC("@P"), 0, "character before A refused");
    is_int(CC("J["), 0, "character after Z refused");
    is_int(ngx_http_sekisho_country_pack((u_char *) "J\xc3", 2), 0,
           "non-ASCII byte refused");

    ngx_http_sekisho_country_unpack(CC("KR"), out);
    ok(out[0] == 'K' && out[1] == 'R', "unpack gives the letters back");
}


static void
test_path(void)
{
    u_char       buf[64];
    ngx_int_t    n;
    const char  *out[NGX_HTTP_SEKISHO_GEO_PATH_MAX + 1];

#define SPLIT(s)                                                              \
    (memcpy(buf, s, sizeof(s)),                                               \
     ngx_http_sekisho_geo_split_path(buf, sizeof(s) - 1, out,                 \
                                     NGX_HTTP_SEKISHO_GEO_PATH_MAX))

    n = SPLIT("country.iso_code");
    is_int(n, 2, "two components");
    is_str(out[0], "country", "first component");
    is_str(out[1], "iso_code", "second component");
    ok(out[2] == NULL, "NULL-terminated");

    n = SPLIT("country_code");
    is_int(n, 1, "one component");
    is_str(out[0], "country_code", "whole key");

    n = SPLIT("subdivisions.0.iso_code");
    is_int(n, 3, "array index component");

    is_int(SPLIT(""), NGX_ERROR, "empty path refused");
    is_int(SPLIT(".country"), NGX_ERROR, "leading dot refused");
    is_int(SPLIT("country."), NGX_ERROR, "trailing dot refused");
    is_int(SPLIT("country..iso"), NGX_ERROR, "empty component refused");
    is_int(SPLIT("country iso"), NGX_ERROR, "space refused");
    is_int(SPLIT("a.b.c.d.e.f.g.h"), 8, "eight components accepted");
    is_int(SPLIT("a.b.c.d.e.f.g.h.i"), NGX_ERROR, "nine components refused");
}


static void
test_unmap(void)
{
    struct sockaddr      *sa;
    struct sockaddr_in    sin, in4;
    struct sockaddr_in6   sin6;

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.10", &sin6.sin6_addr);

    sa = ngx_http_sekisho_unmap_v4((struct sockaddr *) &sin6, &sin);
    ok(sa == (struct sockaddr *) &sin, "mapped address unmapped");
    is_int(sa->sa_family, AF_INET, "unmapped family is AF_INET");
    ok(sin.sin_addr.s_addr == inet_addr("192.0.2.10"),
       "unmapped address is the IPv4 one");

    inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
    sa = ngx_http_sekisho_unmap_v4((struct sockaddr *) &sin6, &sin);
    ok(sa == (struct sockaddr *) &sin6, "plain IPv6 left alone");

    inet_pton(AF_INET6, "::192.0.2.10", &sin6.sin6_addr);
    sa = ngx_http_sekisho_unmap_v4((struct sockaddr *) &sin6, &sin);
    ok(sa == (struct sockaddr *) &sin6,
       "IPv4-compatible (not mapped) address left alone");

    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    sa = ngx_http_sekisho_unmap_v4((struct sockaddr *) &in4, &sin);
    ok(sa == (struct sockaddr *) &in4, "IPv4 left alone");
}


static void
test_names(void)
{
    ok(ngx_http_sekisho_reason_name(NGX_HTTP_SEKISHO_REASON_GEO_OFF)->len
       == sizeof("geo_off") - 1, "geo_off named");
    ok(ngx_http_sekisho_reason_name((ngx_http_sekisho_reason_e) 999)->len
       == 0, "out-of-range reason gives an empty name");
    ok(ngx_http_sekisho_decision_name((ngx_http_sekisho_decision_e) 999)->len
       == 0, "out-of-range decision gives an empty name");
}


int
main(void)
{
    test_decide();
    test_country();
    test_path();
    test_unmap();
    test_names();

    return done_testing();
}
