
/*
 * Copyright (C) Sekisho authors
 *
 * A few TAP helpers for the C unit tests; prove reads their output.
 */


#ifndef _SEKISHO_TAP_H_INCLUDED_
#define _SEKISHO_TAP_H_INCLUDED_


#include <stdio.h>
#include <string.h>


static int  tap_n;
static int  tap_failed;


#define ok(cond, name)                                                        \
    do {                                                                      \
        tap_n++;                                                              \
        if (cond) {                                                           \
            printf("ok %d - %s\n", tap_n, name);                              \
        } else {                                                              \
            tap_failed++;                                                     \
            printf("not ok %d - %s\n#   at %s line %d\n", tap_n, name,        \
                   __FILE__, __LINE__);                                       \
        }                                                                     \
    } while (0)

#define is_int(got, want, name)                                               \
    do {                                                                      \
        long long  g_ = (long long) (got), w_ = (long long) (want);           \
        ok(g_ == w_, name);                                                   \
        if (g_ != w_) {                                                       \
            printf("#   got: %lld\n#   expected: %lld\n", g_, w_);            \
        }                                                                     \
    } while (0)

#define is_str(got, want, name)                                               \
    do {                                                                      \
        const char  *g_ = (got), *w_ = (want);                                \
        int          same_ = (g_ && w_ && strcmp(g_, w_) == 0);               \
        ok(same_, name);                                                      \
        if (!same_) {                                                         \
            printf("#   got: '%s'\n#   expected: '%s'\n",                     \
                   g_ ? g_ : "(null)", w_ ? w_ : "(null)");                   \
        }                                                                     \
    } while (0)

#define done_testing()                                                        \
    (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)


#endif /* _SEKISHO_TAP_H_INCLUDED_ */
