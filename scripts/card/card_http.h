
/*
 * Copyright (C) Sekisho authors
 *
 * HTTP for the login, over libcurl: one session (card_http_t) holds a
 * connection that may be reused and libcurl's cookie engine, in
 * memory, so that the challenge's cookies go with the login and the
 * login's cookies can be saved.  The system's CA store unless told
 * otherwise, proxies from the environment (https_proxy, http_proxy,
 * no_proxy), HTTP/2 when a TLS server offers it, timeouts on the
 * connection (TCP, proxy and TLS) and on every wait for data.
 */


#ifndef _CARD_HTTP_H_INCLUDED_
#define _CARD_HTTP_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>
#include "card_login.h"


#define CARD_HTTP_MAX_BODY  (1024 * 1024)

/* card_http_request(): follow redirects (for safe methods only) */
#define CARD_HTTP_FOLLOW    1


typedef struct card_http_s  card_http_t;


typedef struct {
    const char     *cacert;        /* NULL: the system's authorities */
    int             insecure;      /* no certificate check */
    int             timeout;       /* seconds, for each step */
    int             verbose;
} card_http_conf_t;


typedef struct {
    int             status;
    char           *head;          /* the header lines, NUL-ended */
    u_char         *body;          /* NUL-ended too */
    size_t          body_len;
    char           *redirect;      /* a 3xx not followed: its target */
} card_http_resp_t;


/* one cookie of the engine, a line of a curl cookie jar without "\n" */
typedef int (*card_http_cookie_pt)(void *data, const char *line);


card_http_t *card_http_open(const card_http_conf_t *conf, char *err,
    size_t errlen);
int card_http_request(card_http_t *h, const card_url_t *u,
    const char *method, const char *headers, const u_char *body,
    size_t len, int flags, card_http_resp_t *resp, char *err,
    size_t errlen);
const char *card_http_header(const card_http_resp_t *resp, const char *name,
    const char *from, size_t *len);
int card_http_cookies(card_http_t *h, card_http_cookie_pt each, void *data);
void card_http_free(card_http_resp_t *resp);
void card_http_close(card_http_t *h);


#endif /* _CARD_HTTP_H_INCLUDED_ */
