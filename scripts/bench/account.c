
/*
 * Copyright (C) Sekisho authors
 *
 * bench-account: what reading a login's account id costs, per request,
 * in the gateway's own code: the strict reading (three cuts of a form,
 * every framework's reading of each name, UTF-8 checks, NFKC_Casefold)
 * against the reader it replaced (commit e0e47d8: one cut, the name as
 * sent, ASCII lower case), on the same bodies.  A form is cut again at
 * ";" and "]=" only when it has them; an id of printable ASCII takes a
 * path without utf8proc's tables that gives the same answer.  Built and run by
 * scripts/bench/run account; the old reader is taken from git there.
 *
 *   bench-account [iterations]
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <time.h>
#include "ngx_http_sekisho_account.h"


/* the reader of e0e47d8, renamed when it is compiled */
ngx_int_t old_form_value(u_char *body, size_t len, ngx_str_t *name,
    ngx_str_t *out, u_char *buf);
ngx_int_t old_json_value(u_char *body, size_t len, ngx_str_t *name,
    ngx_str_t *out, u_char *buf);
ngx_int_t old_account_normalize(ngx_str_t *account);


static double now_ns(void);


static const char  form[] =
    "login_id=alice%40example.jp&password=correct+horse+battery&"
    "remember=1&_token=8f14e45fceea167a5a36dedd4bea2543";

static const char  json[] =
    "{\"login_id\":\"alice@example.jp\",\"password\":\"correct horse "
    "battery\",\"remember\":true,\"_token\":\"8f14e45fceea167a5a36dedd4bea"
    "2543\"}";

static const char  multipart[] =
    "--XyZ\r\nContent-Disposition: form-data; name=\"login_id\"\r\n\r\n"
    "alice@example.jp\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n"
    "correct horse battery\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"_token\"\r\n\r\n"
    "8f14e45fceea167a5a36dedd4bea2543\r\n--XyZ--\r\n";


static double
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e9 + ts.tv_nsec;
}


int
main(int argc, char **argv)
{
    u_char                           buf[1024], out[256];
    size_t                           n;
    double                           t;
    long                             i, iterations;
    ngx_str_t                        field = ngx_string("login_id"), v;
    ngx_str_t                        boundary = ngx_string("XyZ");
    ngx_http_sekisho_account_find_t  f;

    iterations = (argc > 1) ? atol(argv[1]) : 2000000;

#define RUN(label, code)                                                      \
    t = now_ns();                                                             \
    for (i = 0; i < iterations; i++) {                                        \
        code;                                                                 \
    }                                                                         \
    printf("  %-54s %8.1f ns\n", label, (now_ns() - t) / iterations)

    printf("bench-account: %ld iterations each, ns per request\n",
           iterations);

    RUN("form, old reader (one cut, as sent)",
        old_form_value((u_char *) form, sizeof(form) - 1, &field, &v, buf));
    RUN("form, strict reader (every reading of each name)",
        ngx_memzero(&f, sizeof(f)); f.field = field;
        ngx_http_sekisho_account_form(&f, (u_char *) form, sizeof(form) - 1,
                                      buf));

    RUN("JSON, old reader",
        old_json_value((u_char *) json, sizeof(json) - 1, &field, &v, buf));
    RUN("JSON, strict reader (UTF-8 checked, caseless keys)",
        ngx_memzero(&f, sizeof(f)); f.field = field;
        ngx_http_sekisho_account_json(&f, (u_char *) json, sizeof(json) - 1,
                                      buf));

    RUN("multipart, strict reader (the old one had none)",
        ngx_memzero(&f, sizeof(f)); f.field = field;
        ngx_http_sekisho_account_multipart(&f, (u_char *) multipart,
                                           sizeof(multipart) - 1, &boundary,
                                           buf));

    RUN("normalise \"Alice@Example.jp\", old (ASCII lower case)",
        ngx_memcpy(buf, "Alice@Example.jp", 16); v.data = buf; v.len = 16;
        old_account_normalize(&v));
    RUN("normalise \"Alice@Example.jp\", strict (ASCII path)",
        ngx_http_sekisho_account_normalize((u_char *) "Alice@Example.jp", 16,
                                           out, &n, 0));
    RUN("normalise \"山田 太郎\", NFKC_Casefold twice",
        ngx_http_sekisho_account_normalize((u_char *) "山田 太郎", 13, out,
                                           &n, 0));

    return 0;
}
