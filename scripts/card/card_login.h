
/*
 * Copyright (C) Sekisho authors
 *
 * The text side of the gateway's JPKI login: URLs and the Host header,
 * the signed message, the JSON the gateway speaks, and cookies in the
 * curl (Netscape) cookie-jar format.  Pure functions on strings.
 */


#ifndef _CARD_LOGIN_H_INCLUDED_
#define _CARD_LOGIN_H_INCLUDED_


#include <stddef.h>
#include <time.h>


#define CARD_LOGIN_PREFIX  "sekisho-jpki-login:v1\n"


typedef struct {
    int         tls;
    int         ipv6;
    unsigned    port;
    char        host[256];       /* without brackets, as written */
    char        hostport[272];   /* the Host header: port if not default */
    char        path[2048];      /* path and query, "/" at least */
} card_url_t;


int card_url_parse(const char *url, card_url_t *u, char *err, size_t len);
int card_challenge_url(const char *login, char *out, size_t size);
size_t card_login_message(const char *host, const char *challenge,
    char *out, size_t size);
int card_json_string(const char *json, size_t len, const char *key,
    char *out, size_t size);


#endif /* _CARD_LOGIN_H_INCLUDED_ */
