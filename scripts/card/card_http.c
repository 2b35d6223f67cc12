
/*
 * Copyright (C) Sekisho authors
 *
 * HTTP for the login, over libcurl's easy interface: blocking, which
 * is enough for a command-line tool.  TLS checks the certificate chain
 * against the system's CA store (or --cacert alone) and the host name
 * (or address); proxies come from the environment as for curl(1).
 * libcurl's own verbose output is never turned on: it would print the
 * Cookie and Set-Cookie headers, and the tool prints no secret.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include "card_http.h"


#define CARD_HTTP_MAX_HEAD  65536


struct card_http_s {
    CURL                     *curl;
    const card_http_conf_t   *conf;
    card_http_resp_t         *resp;        /* the answer being read */
    size_t                    head_len;
    size_t                    head_size;
    size_t                    body_size;
    int                       too_long;
    char                      errbuf[CURL_ERROR_SIZE];
};


static size_t card_http_on_header(char *p, size_t size, size_t n,
    void *data);
static size_t card_http_on_body(char *p, size_t size, size_t n, void *data);
static int card_http_append(char **buf, size_t *len, size_t *size,
    const char *p, size_t n);
static int card_http_proxied(void);
static const char *card_http_tls_reason(const char *errbuf);
static void card_http_error(card_http_t *h, const card_url_t *u,
    CURLcode rc, char *err, size_t errlen);


card_http_t *
card_http_open(const card_http_conf_t *conf, char *err, size_t errlen)
{
    CURL         *c;
    card_http_t  *h;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot start libcurl");
        return NULL;
    }

    h = calloc(1, sizeof(card_http_t));
    c = curl_easy_init();

    if (h == NULL || c == NULL) {
        free(h);
        curl_easy_cleanup(c);
        curl_global_cleanup();
        snprintf(err, errlen, "cannot start libcurl");
        return NULL;
    }

    h->curl = c;
    h->conf = conf;

    /* http and https alone, also where a redirect leads (libcurl 7.85) */
    if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https")
        != CURLE_OK)
    {
        card_http_close(h);
        snprintf(err, errlen, "libcurl %s is too old (7.85 or later needed)",
                 curl_version_info(CURLVERSION_NOW)->version);
        return NULL;
    }

    (void) curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    (void) curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void) curl_easy_setopt(c, CURLOPT_USERAGENT, "sekisho-card/1");
    (void) curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);

    /* the cookie engine, in memory: nothing is read or written by it */
    (void) curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");

    (void) curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, card_http_on_header);
    (void) curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    (void) curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, card_http_on_body);
    (void) curl_easy_setopt(c, CURLOPT_WRITEDATA, h);

    /* a proxy's answer to CONNECT is not the gateway's */
    (void) curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);

    /*
     * Timeouts as the hand-written client had them: the connection
     * (TCP, then a proxy's tunnel and the TLS handshake) within the
     * timeout, then no wait for data longer than the timeout (under one
     * byte a second for that long); no limit on the whole exchange.
     */
    (void) curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) conf->timeout);
    (void) curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    (void) curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) conf->timeout);

    /* HTTP/2 when the server offers it in the TLS handshake (ALPN) */
    (void) curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
                            (long) CURL_HTTP_VERSION_2TLS);
    (void) curl_easy_setopt(c, CURLOPT_SSLVERSION,
                            (long) CURL_SSLVERSION_TLSv1_2);

    if (conf->insecure) {
        (void) curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        (void) curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);

    } else if (conf->cacert) {
        /* this file alone, as before: not the system's directory too */
        (void) curl_easy_setopt(c, CURLOPT_CAINFO, conf->cacert);
        (void) curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    }

    /* no CURLOPT_PROXY: https_proxy, http_proxy, no_proxy are libcurl's */

    return h;
}


static int
card_http_append(char **buf, size_t *len, size_t *size, const char *p,
    size_t n)
{
    char    *nb;
    size_t   ns;

    if (*len + n + 1 > *size) {
        ns = *size ? *size : 1024;
        while (ns < *len + n + 1) {
            ns *= 2;
        }

        nb = realloc(*buf, ns);
        if (nb == NULL) {
            return -1;
        }

        *buf = nb;
        *size = ns;
    }

    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';

    return 0;
}


/*
 * The header lines of the answer: an answer's status line starts
 * again (after a redirect followed, or an interim 1xx answer).
 */

static size_t
card_http_on_header(char *p, size_t size, size_t n, void *data)
{
    card_http_t       *h = data;
    card_http_resp_t  *resp = h->resp;

    n *= size;

    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        h->head_len = 0;
        resp->body_len = 0;
        resp->body[0] = '\0';
    }

    if (h->head_len + n > CARD_HTTP_MAX_HEAD) {
        h->too_long = 1;
        return 0;
    }

    if (card_http_append(&resp->head, &h->head_len, &h->head_size, p, n)
        != 0)
    {
        return 0;
    }

    return n;
}


static size_t
card_http_on_body(char *p, size_t size, size_t n, void *data)
{
    card_http_t       *h = data;
    card_http_resp_t  *resp = h->resp;

    n *= size;

    if (resp->body_len + n > CARD_HTTP_MAX_BODY) {
        h->too_long = 1;
        return 0;
    }

    if (card_http_append((char **) &resp->body, &resp->body_len,
                         &h->body_size, p, n)
        != 0)
    {
        return 0;
    }

    return n;
}


/* whether a proxy may be in play: then libcurl's words say which */

static int
card_http_proxied(void)
{
    static const char  *vars[] = {
        "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
        "ALL_PROXY", NULL
    };

    const char  **v;
    const char   *s;

    for (v = vars; *v; v++) {
        s = getenv(*v);
        if (s && *s) {
            return 1;
        }
    }

    return 0;
}


/*
 * OpenSSL's reason from libcurl's message ("...:SSL routines::wrong
 * version number" -> "wrong version number"), as the hand-written
 * client gave it.
 */

static const char *
card_http_tls_reason(const char *errbuf)
{
    const char  *p;

    if (*errbuf == '\0' || strstr(errbuf, "SSL_ERROR_SYSCALL") != NULL) {
        return "connection closed";
    }

    p = strstr(errbuf, "::");
    if (p && strstr(errbuf, "error:")) {
        return strrchr(errbuf, ':') + 1;
    }

    return errbuf;
}


/* libcurl's failure in the words (and prefixes) the tool has always had */

static void
card_http_error(card_http_t *h, const card_url_t *u, CURLcode rc, char *err,
    size_t errlen)
{
    int               e;
    long              v, code, os, port;
    u_char            addr[16];
    const char       *why, *hp;
    curl_off_t        handshaken;
    struct addrinfo   hints, *res;

    hp = u->hostport;
    why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);

    if (h->conf->verbose) {
        fprintf(stderr, "libcurl: %s (%d)\n", why, (int) rc);
    }

    if (h->too_long) {
        snprintf(err, errlen, "the answer of %s is too long", hp);
        return;
    }

    switch (rc) {

    case CURLE_OUT_OF_MEMORY:
        snprintf(err, errlen, "out of memory");
        return;

    case CURLE_COULDNT_RESOLVE_HOST:
        /* the resolver's own words, as before: ask it again */
        memset(&hints, 0, sizeof(struct addrinfo));
        hints.ai_socktype = SOCK_STREAM;
        res = NULL;
        e = getaddrinfo(u->host, NULL, &hints, &res);
        if (res) {
            freeaddrinfo(res);
        }

        snprintf(err, errlen, "cannot resolve %s: %s", u->host,
                 e ? gai_strerror(e) : why);
        return;

    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(err, errlen, "cannot resolve the proxy for %s: %s", hp,
                 why);
        return;

    case CURLE_COULDNT_CONNECT:
        os = 0;
        (void) curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os);

        snprintf(err, errlen, "cannot connect to %s: %s%s%s%s", hp,
                 os ? strerror((int) os) : "failed",
                 card_http_proxied() ? " (" : "",
                 card_http_proxied() ? why : "",
                 card_http_proxied() ? ")" : "");
        return;

    case CURLE_OPERATION_TIMEDOUT:
        /* libcurl 7.88 counts the connect time after TLS: the socket */
        port = 0;
        handshaken = 0;
        (void) curl_easy_getinfo(h->curl, CURLINFO_LOCAL_PORT, &port);
        (void) curl_easy_getinfo(h->curl, CURLINFO_APPCONNECT_TIME_T,
                                 &handshaken);

        if (u->tls && handshaken == 0
            && (port != 0 || strstr(h->errbuf, "SSL") != NULL))
        {
            snprintf(err, errlen, "TLS handshake with %s failed: timed out",
                     hp);

        } else if (port == 0) {
            snprintf(err, errlen, "cannot connect to %s: %s", hp,
                     strerror(ETIMEDOUT));

        } else {
            snprintf(err, errlen, "no complete answer from %s: timed out",
                     hp);
        }
        return;

    case CURLE_PEER_FAILED_VERIFICATION:
        /* "unspecified" is libcurl's value for a check not made */
        v = X509_V_OK;
        (void) curl_easy_getinfo(h->curl, CURLINFO_PROXY_SSL_VERIFYRESULT,
                                 &v);
        if (v != X509_V_OK && v != X509_V_ERR_UNSPECIFIED) {
            snprintf(err, errlen, "TLS: the certificate of the proxy is not "
                     "trusted: %s", X509_verify_cert_error_string(v));
            return;
        }

        v = X509_V_OK;
        (void) curl_easy_getinfo(h->curl, CURLINFO_SSL_VERIFYRESULT, &v);

        /*
         * a good chain, and libcurl's own check of the name refused it:
         * "target host name" in curl 7.88 (Debian 12), "target
         * hostname" in 8.14 (Debian 13)
         */
        if (strstr(h->errbuf, "target host") != NULL) {
            v = (inet_pton(AF_INET, u->host, addr) == 1
                 || inet_pton(AF_INET6, u->host, addr) == 1)
                ? X509_V_ERR_IP_ADDRESS_MISMATCH
                : X509_V_ERR_HOSTNAME_MISMATCH;
        }

        snprintf(err, errlen, "TLS: the certificate of %s is not trusted: "
                 "%s (see --cacert)", hp,
                 (v != X509_V_OK && v != X509_V_ERR_UNSPECIFIED)
                 ? X509_verify_cert_error_string(v) : why);
        return;

    case CURLE_SSL_CACERT_BADFILE:
        snprintf(err, errlen, "TLS: cannot load the CA certificates%s%s",
                 h->conf->cacert ? " from " : "",
                 h->conf->cacert ? h->conf->cacert : "");
        return;

    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        snprintf(err, errlen, "TLS handshake with %s failed: %s", hp,
                 card_http_tls_reason(h->errbuf));
        return;

    case CURLE_SEND_ERROR:
        snprintf(err, errlen, "cannot send to %s: %s", hp, why);
        return;

    case CURLE_RECV_ERROR:
        code = 0;
        (void) curl_easy_getinfo(h->curl, CURLINFO_HTTP_CONNECTCODE, &code);

        if (code >= 300) {
            snprintf(err, errlen, "the proxy refused a tunnel to %s: "
                     "HTTP %ld", hp, code);
            return;
        }

        snprintf(err, errlen, "no complete answer from %s: connection failed",
                 hp);
        return;

    /* closed before the answer was whole: as the hand-written client */
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        snprintf(err, errlen, "%s gave no valid HTTP answer", hp);
        return;

    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(err, errlen, "%s redirects too many times", hp);
        return;

    case CURLE_UNSUPPORTED_PROTOCOL:
        code = 0;
        (void) curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);

        if (code >= 300 && code < 400) {
            snprintf(err, errlen, "%s redirects where the tool does not "
                     "follow: %s", hp, why);

        } else {
            /* HTTP/0.9, or no HTTP at all */
            snprintf(err, errlen, "%s gave no valid HTTP answer", hp);
        }
        return;

    default:
        snprintf(err, errlen, "%s: %s", hp, why);
        return;
    }
}


/*
 * One request.  headers: more header lines, each ended by CRLF.  With
 * CARD_HTTP_FOLLOW a GET follows up to 5 redirects, never from https
 * to http; otherwise a 3xx answer is the answer, its target in
 * resp->redirect.
 */

int
card_http_request(card_http_t *h, const card_url_t *u, const char *method,
    const char *headers, const u_char *body, size_t len, int flags,
    card_http_resp_t *resp, char *err, size_t errlen)
{
    int                  rc, follow;
    char                *url, *line, *eff, *loc;
    long                 status, version;
    CURL                *c;
    size_t               n;
    CURLcode             cc;
    const char          *p, *e;
    struct curl_slist   *hl, *nl;

    memset(resp, 0, sizeof(card_http_resp_t));

    c = h->curl;
    hl = NULL;
    url = NULL;
    rc = -1;

    resp->head = calloc(1, 1);
    resp->body = calloc(1, 1);
    h->head_size = resp->head ? 1 : 0;
    h->body_size = resp->body ? 1 : 0;
    h->head_len = 0;
    h->too_long = 0;
    h->errbuf[0] = '\0';
    h->resp = resp;

    n = strlen(u->hostport) + strlen(u->path) + sizeof("https://");
    url = malloc(n);

    /* "Expect:" off: the login's body goes at once, no 100-continue */
    hl = curl_slist_append(NULL, "Accept: application/json");
    nl = hl ? curl_slist_append(hl, "Expect:") : NULL;

    if (resp->head == NULL || resp->body == NULL || url == NULL
        || nl == NULL)
    {
        snprintf(err, errlen, "out of memory");
        goto done;
    }

    snprintf(url, n, "%s://%s%s", u->tls ? "https" : "http", u->hostport,
             u->path);

    for (p = headers; p && *p; p = e + strspn(e, "\r\n")) {
        e = p + strcspn(p, "\r\n");

        line = strndup(p, (size_t) (e - p));
        nl = line ? curl_slist_append(hl, line) : NULL;
        free(line);

        if (nl == NULL) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }

    if (strcmp(method, "GET") == 0) {
        (void) curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);

    } else if (strcmp(method, "POST") == 0) {
        (void) curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                                body ? (const char *) body : "");
        (void) curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t) (body ? len : 0));

    } else {
        snprintf(err, errlen, "unsupported method %s", method);
        goto done;
    }

    /*
     * Redirects are followed for a GET alone (libcurl would turn a POST
     * into a GET on 301, 302 and 303, and send the body again elsewhere
     * on 307 and 308), and never from https down to http.
     */
    follow = (flags & CARD_HTTP_FOLLOW) && strcmp(method, "GET") == 0;

    (void) curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, (long) follow);
    (void) curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    (void) curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                            u->tls ? "https" : "http,https");
    (void) curl_easy_setopt(c, CURLOPT_URL, url);
    (void) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

    if (h->conf->verbose) {
        fprintf(stderr, "%s %s\n", method, url);
    }

    cc = curl_easy_perform(c);

    (void) curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    (void) curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);

    if (cc != CURLE_OK) {
        card_http_error(h, u, cc, err, errlen);
        goto done;
    }

    status = 0;
    version = 0;
    eff = NULL;
    loc = NULL;
    (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    (void) curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &version);
    (void) curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    (void) curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);

    if (status < 100 || status > 999) {
        snprintf(err, errlen, "%s gave no valid HTTP answer", u->hostport);
        goto done;
    }

    resp->status = (int) status;

    if (loc && status >= 300 && status < 400) {
        resp->redirect = strdup(loc);
    }

    if (h->conf->verbose) {
        if (eff && strcmp(eff, url) != 0) {
            fprintf(stderr, "redirected to %s\n", eff);
        }

        fprintf(stderr, "< %s %d\n",
                version == CURL_HTTP_VERSION_2_0 ? "HTTP/2"
                : version == CURL_HTTP_VERSION_1_0 ? "HTTP/1.0"
                : "HTTP/1.1", resp->status);
    }

    rc = 0;

done:

    h->resp = NULL;
    curl_slist_free_all(hl);
    free(url);

    if (rc != 0) {
        card_http_free(resp);
    }

    return rc;
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


/*
 * Each cookie libcurl's engine holds, as a line of a curl cookie jar
 * (a "#HttpOnly_" prefix for an HttpOnly one); the number of cookies,
 * or -1.  The copies libcurl makes are wiped before they are freed.
 */

int
card_http_cookies(card_http_t *h, card_http_cookie_pt each, void *data)
{
    int                  n;
    struct curl_slist   *list, *l;

    list = NULL;

    if (curl_easy_getinfo(h->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK) {
        return -1;
    }

    n = 0;

    for (l = list; l; l = l->next) {
        if (n >= 0 && each(data, l->data) == 0) {
            n++;

        } else {
            n = -1;
        }

        OPENSSL_cleanse(l->data, strlen(l->data));
    }

    curl_slist_free_all(list);

    return n;
}


void
card_http_free(card_http_resp_t *resp)
{
    free(resp->head);
    free(resp->body);
    free(resp->redirect);
    resp->head = NULL;
    resp->body = NULL;
    resp->redirect = NULL;
}


void
card_http_close(card_http_t *h)
{
    if (h == NULL) {
        return;
    }

    curl_easy_cleanup(h->curl);
    free(h);
    curl_global_cleanup();
}
