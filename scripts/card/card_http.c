
/*
 * Copyright (C) Sekisho authors
 *
 * HTTP for the login.  Blocking sockets with timeouts are enough for a
 * command-line tool.  TLS checks the certificate chain and the host
 * name (or address) by default; the answer is read until it is
 * complete by its Content-Length or chunks, or the server closes.
 */


#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "card_http.h"


typedef struct {
    int         fd;
    SSL_CTX    *ctx;
    SSL        *ssl;
} card_conn_t;


static int card_http_connect(const card_http_conf_t *conf,
    const card_url_t *u, card_conn_t *c, char *err, size_t errlen);
static int card_http_tls(const card_http_conf_t *conf, const card_url_t *u,
    card_conn_t *c, char *err, size_t errlen);
static void card_http_close(card_conn_t *c);
static int card_http_send(card_conn_t *c, const char *p, size_t n);
static ssize_t card_http_recv(card_conn_t *c, u_char *p, size_t n);
static int card_http_parse(u_char *buf, size_t n, card_http_resp_t *resp,
    int final);
static int card_http_dechunk(const u_char *p, size_t n, u_char *out,
    size_t *on);


static int
card_http_connect(const card_http_conf_t *conf, const card_url_t *u,
    card_conn_t *c, char *err, size_t errlen)
{
    int               fd, e, flags;
    char              port[8];
    socklen_t         elen;
    struct pollfd     pfd;
    struct timeval    tv;
    struct addrinfo   hints, *res, *ai;

    memset(&hints, 0, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", u->port);

    e = getaddrinfo(u->host, port, &hints, &res);
    if (e != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host,
                 gai_strerror(e));
        return -1;
    }

    fd = -1;
    e = 0;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }

        flags = fcntl(fd, F_GETFL);
        (void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            e = 0;

        } else if (errno == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;

            if (poll(&pfd, 1, conf->timeout * 1000) == 1) {
                elen = sizeof(e);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0) {
                    e = errno;
                }

            } else {
                e = ETIMEDOUT;
            }

        } else {
            e = errno;
        }

        if (e == 0) {
            (void) fcntl(fd, F_SETFL, flags);
            break;
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", u->hostport,
                 strerror(e));
        return -1;
    }

    tv.tv_sec = conf->timeout;
    tv.tv_usec = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    c->fd = fd;

    return u->tls ? card_http_tls(conf, u, c, err, errlen) : 0;
}


static int
card_http_tls(const card_http_conf_t *conf, const card_url_t *u,
    card_conn_t *c, char *err, size_t errlen)
{
    long            v;
    u_char          addr[16];
    unsigned long   e;

    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return -1;
    }

    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);

    /* the lengths in the answer tell whether it is complete */
    SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);

    if (!conf->insecure) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);

        if (conf->cacert
            ? SSL_CTX_load_verify_locations(c->ctx, conf->cacert, NULL) != 1
            : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
        {
            snprintf(err, errlen, "TLS: cannot load the CA certificates%s%s",
                     conf->cacert ? " from " : "",
                     conf->cacert ? conf->cacert : "");
            return -1;
        }
    }

    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        snprintf(err, errlen, "TLS: cannot create a connection");
        return -1;
    }

    if (inet_pton(AF_INET, u->host, addr) == 1
        || inet_pton(AF_INET6, u->host, addr) == 1)
    {
        /* an address: checked against the certificate's IP entries */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host)
            != 1)
        {
            snprintf(err, errlen, "TLS: bad address %s", u->host);
            return -1;
        }

    } else if (SSL_set_tlsext_host_name(c->ssl, u->host) != 1
               || SSL_set1_host(c->ssl, u->host) != 1)
    {
        snprintf(err, errlen, "TLS: bad host name %s", u->host);
        return -1;
    }

    if (SSL_connect(c->ssl) != 1) {
        v = SSL_get_verify_result(c->ssl);

        if (v != X509_V_OK) {
            snprintf(err, errlen, "TLS: the certificate of %s is not "
                     "trusted: %s (see --cacert)", u->hostport,
                     X509_verify_cert_error_string(v));

        } else {
            e = ERR_peek_last_error();
            snprintf(err, errlen, "TLS handshake with %s failed: %s",
                     u->hostport,
                     e ? ERR_reason_error_string(e) : "connection closed");
        }

        ERR_clear_error();
        return -1;
    }

    return 0;
}


static void
card_http_close(card_conn_t *c)
{
    if (c->ssl) {
        (void) SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }

    SSL_CTX_free(c->ctx);

    if (c->fd >= 0) {
        close(c->fd);
    }

    c->fd = -1;
    c->ssl = NULL;
    c->ctx = NULL;
}


static int
card_http_send(card_conn_t *c, const char *p, size_t n)
{
    ssize_t  r;

    while (n > 0) {
        if (c->ssl) {
            r = SSL_write(c->ssl, p, (int) (n > 65536 ? 65536 : n));
            if (r <= 0) {
                return -1;
            }

        } else {
            r = send(c->fd, p, n, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return -1;
            }
        }

        p += r;
        n -= (size_t) r;
    }

    return 0;
}


/* bytes read, 0 at the end, -1 on an error or a timeout */

static ssize_t
card_http_recv(card_conn_t *c, u_char *p, size_t n)
{
    int      r, e;
    ssize_t  rr;

    if (c->ssl) {
        r = SSL_read(c->ssl, p, (int) (n > 65536 ? 65536 : n));
        if (r > 0) {
            return r;
        }

        e = SSL_get_error(c->ssl, r);
        ERR_clear_error();

        return (e == SSL_ERROR_ZERO_RETURN) ? 0 : -1;
    }

    do {
        rr = recv(c->fd, p, n, 0);
    } while (rr < 0 && errno == EINTR);

    return rr;
}


/*
 * Chunked transfer coding: 1 complete (the body in out), 0 not yet,
 * -1 malformed.  out must hold n bytes.
 */

static int
card_http_dechunk(const u_char *p, size_t n, u_char *out, size_t *on)
{
    size_t          i, size;
    int             d;
    const u_char   *e;

    *on = 0;
    i = 0;

    for ( ;; ) {
        size = 0;
        d = 0;

        while (i < n) {
            u_char  ch = p[i];

            if (ch >= '0' && ch <= '9') {
                size = size * 16 + (size_t) (ch - '0');
            } else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') {
                size = size * 16 + (size_t) ((ch | 0x20) - 'a' + 10);
            } else {
                break;
            }

            if (++d > 8) {
                return -1;
            }
            i++;
        }

        if (i >= n) {
            return 0;
        }

        if (d == 0) {
            return -1;
        }

        /* chunk extensions up to the end of the line */
        e = memchr(p + i, '\n', n - i);
        if (e == NULL) {
            return 0;
        }
        i = (size_t) (e - p) + 1;

        if (size == 0) {
            /* trailers, then an empty line */
            for ( ;; ) {
                e = memchr(p + i, '\n', n - i);
                if (e == NULL) {
                    return 0;
                }
                if ((size_t) (e - p) == i
                    || ((size_t) (e - p) == i + 1 && p[i] == '\r'))
                {
                    return 1;
                }
                i = (size_t) (e - p) + 1;
            }
        }

        if (n - i < size + 2) {
            return 0;
        }

        memcpy(out + *on, p + i, size);
        *on += size;
        i += size;

        if (p[i] == '\r') {
            i++;
        }
        if (i >= n) {
            return 0;
        }
        if (p[i] != '\n') {
            return -1;
        }
        i++;
    }
}


/*
 * 1 when buf holds a whole answer (parsed into resp), 0 if more is to
 * come, -1 if it is not HTTP.  final: the server has closed.
 */

static int
card_http_parse(u_char *buf, size_t n, card_http_resp_t *resp, int final)
{
    int             rc;
    u_char         *end, *body;
    size_t          hlen, blen, clen, on;
    const char     *v;
    char           *x;

    end = NULL;
    if (n >= 4) {
        end = memmem(buf, n, "\r\n\r\n", 4);
    }

    if (end == NULL) {
        return final ? -1 : 0;
    }

    if (n < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') {
        return -1;
    }

    hlen = (size_t) (end - buf);
    body = end + 4;
    blen = n - (size_t) (body - buf);

    free(resp->head);
    resp->head = malloc(hlen + 1);
    if (resp->head == NULL) {
        return -1;
    }
    memcpy(resp->head, buf, hlen);
    resp->head[hlen] = '\0';

    resp->status = (int) strtol((char *) buf + 9, &x, 10);
    if (x != (char *) buf + 12 || resp->status < 100) {
        return -1;
    }

    free(resp->body);
    resp->body = malloc(blen + 1);
    if (resp->body == NULL) {
        return -1;
    }

    v = card_http_header(resp, "Transfer-Encoding", NULL, &clen);

    if (v && clen >= 7 && strncasecmp(v + clen - 7, "chunked", 7) == 0) {
        rc = card_http_dechunk(body, blen, resp->body, &on);
        if (rc <= 0) {
            return (rc < 0 || final) ? -1 : 0;
        }
        resp->body_len = on;

    } else if ((v = card_http_header(resp, "Content-Length", NULL, &clen))) {
        clen = strtoul(v, &x, 10);
        if (blen < clen) {
            return final ? -1 : 0;
        }
        memcpy(resp->body, body, clen);
        resp->body_len = clen;

    } else {
        if (!final) {
            return 0;
        }
        memcpy(resp->body, body, blen);
        resp->body_len = blen;
    }

    resp->body[resp->body_len] = '\0';

    return 1;
}


/*
 * The value of header "name" after position from (NULL: the first);
 * call again with the value returned to find the next one.
 */

const char *
card_http_header(const card_http_resp_t *resp, const char *name,
    const char *from, size_t *len)
{
    size_t       nl;
    const char  *p, *v, *e;

    nl = strlen(name);
    p = from ? from : resp->head;

    for ( ;; ) {
        p = strchr(p, '\n');
        if (p == NULL) {
            return NULL;
        }
        p++;

        if (strncasecmp(p, name, nl) != 0 || p[nl] != ':') {
            continue;
        }

        v = p + nl + 1;
        while (*v == ' ' || *v == '\t') {
            v++;
        }

        e = v + strcspn(v, "\r\n");
        while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        *len = (size_t) (e - v);
        return v;
    }
}


int
card_http_request(const card_http_conf_t *conf, const card_url_t *u,
    const char *method, const char *headers, const u_char *body, size_t len,
    card_http_resp_t *resp, char *err, size_t errlen)
{
    int           rc, done;
    char         *req;
    u_char       *buf;
    size_t        n, size, rl;
    ssize_t       r;
    card_conn_t   c;

    memset(resp, 0, sizeof(card_http_resp_t));
    memset(&c, 0, sizeof(card_conn_t));
    c.fd = -1;
    buf = NULL;
    rc = -1;

    rl = strlen(u->path) + strlen(u->hostport) + 512;
    rl += headers ? strlen(headers) : 0;
    req = malloc(rl);
    if (req == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    n = (size_t) snprintf(req, rl,
                          "%s %s HTTP/1.1\r\n"
                          "Host: %s\r\n"
                          "User-Agent: sekisho-card/1\r\n"
                          "Accept: application/json\r\n"
                          "Connection: close\r\n"
                          "%s",
                          method, u->path, u->hostport,
                          headers ? headers : "");

    if (body) {
        n += (size_t) snprintf(req + n, rl - n, "Content-Length: %zu\r\n",
                               len);
    }

    n += (size_t) snprintf(req + n, rl - n, "\r\n");

    if (conf->verbose) {
        fprintf(stderr, "%s %s://%s%s\n", method, u->tls ? "https" : "http",
                u->hostport, u->path);
    }

    if (card_http_connect(conf, u, &c, err, errlen) != 0) {
        goto done;
    }

    if (card_http_send(&c, req, n) != 0
        || (body && card_http_send(&c, (const char *) body, len) != 0))
    {
        snprintf(err, errlen, "cannot send to %s: %s", u->hostport,
                 errno == EAGAIN ? "timed out" : strerror(errno));
        goto done;
    }

    size = 16384;
    buf = malloc(size);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }

    n = 0;

    for ( ;; ) {
        if (n == size) {
            u_char  *nb;

            if (size > CARD_HTTP_MAX_BODY) {
                snprintf(err, errlen, "the answer of %s is too long",
                         u->hostport);
                goto done;
            }

            nb = realloc(buf, size * 2);
            if (nb == NULL) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            buf = nb;
            size *= 2;
        }

        r = card_http_recv(&c, buf + n, size - n);

        if (r < 0) {
            snprintf(err, errlen, "no complete answer from %s: %s",
                     u->hostport,
                     (errno == EAGAIN || errno == EWOULDBLOCK)
                     ? "timed out" : "connection failed");
            goto done;
        }

        n += (size_t) r;

        done = card_http_parse(buf, n, resp, r == 0);

        if (done == 1) {
            break;
        }

        if (done < 0) {
            snprintf(err, errlen, "%s gave no valid HTTP answer",
                     u->hostport);
            goto done;
        }
    }

    rc = 0;

done:

    card_http_close(&c);
    free(req);
    free(buf);

    if (rc != 0) {
        card_http_free(resp);
    }

    return rc;
}


void
card_http_free(card_http_resp_t *resp)
{
    free(resp->head);
    free(resp->body);
    resp->head = NULL;
    resp->body = NULL;
}
