
/*
 * Copyright (C) Sekisho authors
 *
 * A small blocking HTTP/1.1 client over TCP or TLS (OpenSSL), enough
 * for the gateway's login: one request per connection, timeouts on
 * connect, read and write, certificate and host name checked unless
 * told otherwise.
 */


#ifndef _CARD_HTTP_H_INCLUDED_
#define _CARD_HTTP_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>
#include "card_login.h"


#define CARD_HTTP_MAX_BODY  (1024 * 1024)


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
} card_http_resp_t;


int card_http_request(const card_http_conf_t *conf, const card_url_t *u,
    const char *method, const char *headers, const u_char *body,
    size_t len, card_http_resp_t *resp, char *err, size_t errlen);
const char *card_http_header(const card_http_resp_t *resp, const char *name,
    const char *from, size_t *len);
void card_http_free(card_http_resp_t *resp);


#endif /* _CARD_HTTP_H_INCLUDED_ */
