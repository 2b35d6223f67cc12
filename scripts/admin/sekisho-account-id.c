
/*
 * Copyright (C) Sekisho authors
 *
 * sekisho-account-id: an account id as the gateway counts it.  Reads
 * one id per line on standard input and writes its normal form (the
 * gateway's own code: ngx_http_sekisho_account_normalize()), so that
 * sekisho-admin finds the same counter as the gateway for any
 * spelling.  Exit status 1, and a message, for an id the gateway
 * refuses.
 *
 *   printf '%s\n' 'ＡＬＩＣＥ ' | sekisho-account-id      ->  alice
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_account.h"


int
main(int argc, char **argv)
{
    u_char     out[NGX_HTTP_SEKISHO_ACCOUNT_MAX];
    char      *line;
    size_t     cap, n;
    ssize_t    len;
    ngx_int_t  rc, status;

    line = NULL;
    cap = 0;
    status = 0;

    while ((len = getline(&line, &cap, stdin)) != -1) {

        if (len && line[len - 1] == '\n') {
            len--;
        }

        rc = ngx_http_sekisho_account_normalize((u_char *) line, len, out, &n,
                                                argc > 1
                                                && strcmp(argv[1], "--ascii")
                                                   == 0);

        if (rc == NGX_OK) {
            fwrite(out, 1, n, stdout);
            fputc('\n', stdout);
            continue;
        }

        fprintf(stderr, "sekisho-account-id: %s\n",
                rc == NGX_DECLINED ? "an empty account id"
                                   : "an account id the gateway refuses "
                                     "(not UTF-8 text, control characters, "
                                     "or too long)");
        fputc('\n', stdout);
        status = 1;
    }

    free(line);

    return status;
}
