
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <arpa/inet.h>
#include "ngx_http_sekisho_redis_parse.h"


static u_char *ngx_http_sekisho_redis_word(u_char **p, u_char *last,
    size_t *len);
static ngx_int_t ngx_http_sekisho_redis_numeric(u_char *host);


/* 1 to 65535, digits only; NGX_ERROR otherwise */

ngx_int_t
ngx_http_sekisho_redis_parse_port(u_char *p, size_t len)
{
    ngx_int_t  port;

    if (len == 0 || len > 5) {
        return NGX_ERROR;
    }

    port = 0;

    while (len--) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        port = port * 10 + (*p++ - '0');
    }

    return (port >= 1 && port <= 65535) ? port : NGX_ERROR;
}


/*
 * "127.0.0.1:6381", "::1:6381" (as Redis writes IPv6 in MOVED: the
 * port after the last colon) or "[::1]:6381".  Only numeric addresses:
 * a name would have hiredis call getaddrinfo() in the worker.
 */

ngx_int_t
ngx_http_sekisho_redis_parse_addr(u_char *p, size_t len,
    ngx_http_sekisho_redis_addr_t *addr)
{
    u_char     *colon, *host;
    size_t      hlen;
    ngx_int_t   port;

    colon = NULL;

    for (hlen = len; hlen > 0; hlen--) {
        if (p[hlen - 1] == ':') {
            colon = &p[hlen - 1];
            break;
        }
    }

    if (colon == NULL) {
        return NGX_ERROR;
    }

    port = ngx_http_sekisho_redis_parse_port(colon + 1,
                                             p + len - (colon + 1));
    if (port == NGX_ERROR) {
        return NGX_ERROR;
    }

    host = p;
    hlen = colon - p;

    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }

    if (hlen == 0 || hlen >= NGX_HTTP_SEKISHO_REDIS_HOSTLEN) {
        return NGX_ERROR;
    }

    ngx_memcpy(addr->host, host, hlen);
    addr->host[hlen] = '\0';

    if (ngx_http_sekisho_redis_numeric(addr->host) != NGX_OK) {
        return NGX_ERROR;
    }

    addr->port = (int) port;

    return NGX_OK;
}


/*
 * "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381": which of
 * the two, the slot and the node; NGX_DECLINED for any other error.
 */

ngx_int_t
ngx_http_sekisho_redis_parse_redirect(u_char *p, size_t len,
    ngx_uint_t *slot, ngx_http_sekisho_redis_addr_t *addr)
{
    u_char      *last, *w;
    size_t       wlen;
    ngx_int_t    kind, n;
    ngx_uint_t   i;

    last = p + len;

    w = ngx_http_sekisho_redis_word(&p, last, &wlen);

    if (wlen == 5 && ngx_strncmp(w, "MOVED", 5) == 0) {
        kind = NGX_HTTP_SEKISHO_REDIS_MOVED;

    } else if (wlen == 3 && ngx_strncmp(w, "ASK", 3) == 0) {
        kind = NGX_HTTP_SEKISHO_REDIS_ASK;

    } else {
        return NGX_DECLINED;
    }

    w = ngx_http_sekisho_redis_word(&p, last, &wlen);
    if (wlen == 0 || wlen > 5) {
        return NGX_ERROR;
    }

    n = 0;
    for (i = 0; i < wlen; i++) {
        if (w[i] < '0' || w[i] > '9') {
            return NGX_ERROR;
        }
        n = n * 10 + (w[i] - '0');
    }

    if (n >= NGX_HTTP_SEKISHO_REDIS_SLOTS) {
        return NGX_ERROR;
    }

    w = ngx_http_sekisho_redis_word(&p, last, &wlen);
    if (ngx_http_sekisho_redis_parse_addr(w, wlen, addr) != NGX_OK) {
        return NGX_ERROR;
    }

    /* nothing may follow */
    (void) ngx_http_sekisho_redis_word(&p, last, &wlen);
    if (wlen) {
        return NGX_ERROR;
    }

    *slot = (ngx_uint_t) n;

    return kind;
}


/*
 * A Sentinel's "+switch-master" message:
 * "<master name> <old ip> <old port> <new ip> <new port>".
 * NGX_DECLINED when it is about another master.
 */

ngx_int_t
ngx_http_sekisho_redis_parse_switch(u_char *p, size_t len, ngx_str_t *master,
    ngx_http_sekisho_redis_addr_t *from, ngx_http_sekisho_redis_addr_t *to)
{
    u_char                         *last, *w[5];
    size_t                          wlen[5], more;
    ngx_int_t                       port;
    ngx_uint_t                      i;
    ngx_http_sekisho_redis_addr_t  *a;

    last = p + len;

    for (i = 0; i < 5; i++) {
        w[i] = ngx_http_sekisho_redis_word(&p, last, &wlen[i]);
        if (wlen[i] == 0) {
            return NGX_ERROR;
        }
    }

    (void) ngx_http_sekisho_redis_word(&p, last, &more);
    if (more) {
        return NGX_ERROR;
    }

    for (i = 1; i < 5; i += 2) {
        a = (i == 1) ? from : to;

        if (wlen[i] >= NGX_HTTP_SEKISHO_REDIS_HOSTLEN) {
            return NGX_ERROR;
        }

        ngx_memcpy(a->host, w[i], wlen[i]);
        a->host[wlen[i]] = '\0';

        port = ngx_http_sekisho_redis_parse_port(w[i + 1], wlen[i + 1]);
        if (port == NGX_ERROR) {
            return NGX_ERROR;
        }

        a->port = (int) port;
    }

    /* the new address is connected to: it must be numeric */
    if (ngx_http_sekisho_redis_numeric(to->host) != NGX_OK) {
        return NGX_ERROR;
    }

    if (wlen[0] != master->len
        || ngx_strncmp(w[0], master->data, master->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A Sentinel's "+promoted-slave" message, sent when the replica it
 * chose has become a master, before the other replicas are moved to it:
 * "slave <ip>:<port> <ip> <port> @ <master name> <old ip> <old port>".
 */

ngx_int_t
ngx_http_sekisho_redis_parse_promoted(u_char *p, size_t len,
    ngx_str_t *master, ngx_http_sekisho_redis_addr_t *from,
    ngx_http_sekisho_redis_addr_t *to)
{
    u_char      *last, *w[8], buf[NGX_HTTP_SEKISHO_REDIS_HOSTLEN + 8], *b;
    size_t       wlen[8], more;
    ngx_uint_t   i;

    last = p + len;

    for (i = 0; i < 8; i++) {
        w[i] = ngx_http_sekisho_redis_word(&p, last, &wlen[i]);
        if (wlen[i] == 0 || wlen[i] >= NGX_HTTP_SEKISHO_REDIS_HOSTLEN) {
            return NGX_ERROR;
        }
    }

    (void) ngx_http_sekisho_redis_word(&p, last, &more);

    if (more || wlen[0] != 5 || ngx_strncmp(w[0], "slave", 5) != 0
        || wlen[4] != 1 || *w[4] != '@')
    {
        return NGX_ERROR;
    }

    for (i = 2; i < 8; i += 4) {
        if (wlen[i + 1] > 5) {
            return NGX_ERROR;
        }

        b = ngx_cpymem(buf, w[i], wlen[i]);
        *b++ = ':';
        b = ngx_cpymem(b, w[i + 1], wlen[i + 1]);

        if (ngx_http_sekisho_redis_parse_addr(buf, b - buf,
                                              i == 2 ? to : from)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (wlen[5] != master->len
        || ngx_strncmp(w[5], master->data, master->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* "a:1,b:2" into its items; an empty item or too many is an error */

ngx_int_t
ngx_http_sekisho_redis_split_list(ngx_str_t *list, ngx_str_t *items,
    ngx_uint_t max, ngx_uint_t *n)
{
    u_char  *p, *last, *comma;

    *n = 0;
    p = list->data;
    last = p + list->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if (comma == p || *n == max) {
            return NGX_ERROR;
        }

        items[*n].data = p;
        items[*n].len = comma - p;
        (*n)++;

        if (comma == last) {
            return NGX_OK;
        }

        p = comma + 1;
    }
}


/*
 * Redis Cluster's key slot: CRC16 (XMODEM) of the key, or of its hash
 * tag, the text between the first "{" and the next "}" when not empty.
 */

ngx_uint_t
ngx_http_sekisho_redis_key_slot(u_char *key, size_t len)
{
    size_t      s, e, i;
    uint16_t    crc;
    ngx_uint_t  b;

    for (s = 0; s < len; s++) {
        if (key[s] == '{') {
            break;
        }
    }

    if (s < len) {
        for (e = s + 1; e < len; e++) {
            if (key[e] == '}') {
                break;
            }
        }

        if (e < len && e != s + 1) {
            key += s + 1;
            len = e - s - 1;
        }
    }

    crc = 0;

    for (i = 0; i < len; i++) {
        crc ^= (uint16_t) key[i] << 8;

        for (b = 0; b < 8; b++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc & (NGX_HTTP_SEKISHO_REDIS_SLOTS - 1);
}


ngx_int_t
ngx_http_sekisho_redis_same_addr(ngx_http_sekisho_redis_addr_t *a,
    ngx_http_sekisho_redis_addr_t *b)
{
    return a->port == b->port
           && ngx_strcmp(a->host, b->host) == 0;
}


/* the next space-separated word; its length 0 at the end */

static u_char *
ngx_http_sekisho_redis_word(u_char **p, u_char *last, size_t *len)
{
    u_char  *s;

    while (*p < last && **p == ' ') {
        (*p)++;
    }

    s = *p;

    while (*p < last && **p != ' ') {
        (*p)++;
    }

    *len = *p - s;

    return s;
}


static ngx_int_t
ngx_http_sekisho_redis_numeric(u_char *host)
{
    u_char  buf[16];

    if (inet_pton(AF_INET, (char *) host, buf) == 1
        || inet_pton(AF_INET6, (char *) host, buf) == 1)
    {
        return NGX_OK;
    }

    return NGX_ERROR;
}
