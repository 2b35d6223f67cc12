
/*
 * Copyright (C) Sekisho authors
 *
 * Login text: the URL is checked strictly (no user part, no control
 * characters) because its host goes into a header and into the signed
 * message; the JSON reader knows just enough to find a string member
 * of the top-level object.
 */


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "card_login.h"


static const char *card_json_ws(const char *p, const char *end);
static const char *card_json_str(const char *p, const char *end, char *out,
    size_t size, size_t *n);
static const char *card_json_skip(const char *p, const char *end, int depth);


int
card_url_parse(const char *url, card_url_t *u, char *err, size_t len)
{
    const char     *p, *a, *ae, *h, *he, *q;
    char           *end;
    unsigned long   port;
    size_t          n;

    memset(u, 0, sizeof(card_url_t));

    for (p = url; *p; p++) {
        if ((u_char) *p <= 0x20 || *p == 0x7F) {
            snprintf(err, len, "the URL has a space or control character");
            return -1;
        }
    }

    if (strncasecmp(url, "http://", 7) == 0) {
        a = url + 7;
        u->port = 80;

    } else if (strncasecmp(url, "https://", 8) == 0) {
        a = url + 8;
        u->tls = 1;
        u->port = 443;

    } else {
        snprintf(err, len, "the URL must start with http:// or https://");
        return -1;
    }

    ae = a + strcspn(a, "/?#");

    if (memchr(a, '@', (size_t) (ae - a)) != NULL) {
        snprintf(err, len, "the URL must not carry a user name");
        return -1;
    }

    if (a < ae && *a == '[') {
        h = a + 1;
        he = memchr(h, ']', (size_t) (ae - h));
        if (he == NULL) {
            snprintf(err, len, "the URL has an unclosed \"[\"");
            return -1;
        }
        u->ipv6 = 1;
        q = he + 1;

    } else {
        h = a;
        he = memchr(a, ':', (size_t) (ae - a));
        if (he == NULL) {
            he = ae;
        }
        q = he;
    }

    n = (size_t) (he - h);
    if (n == 0 || n >= sizeof(u->host)) {
        snprintf(err, len, "the URL has no valid host");
        return -1;
    }

    for (p = h; p < he; p++) {
        if (!(isalnum((u_char) *p) || *p == '-' || *p == '.' || *p == '_'
              || (u->ipv6 && *p == ':')))
        {
            snprintf(err, len, "the URL's host has an invalid character");
            return -1;
        }
    }

    memcpy(u->host, h, n);
    u->host[n] = '\0';

    if (q < ae) {
        if (*q != ':' || q + 1 == ae || !isdigit((u_char) q[1])) {
            snprintf(err, len, "the URL has an invalid port");
            return -1;
        }

        port = strtoul(q + 1, &end, 10);
        if (end != ae || port == 0 || port > 65535) {
            snprintf(err, len, "the URL has an invalid port");
            return -1;
        }

        u->port = (unsigned) port;
    }

    snprintf(u->hostport, sizeof(u->hostport), u->ipv6 ? "[%s]" : "%s",
             u->host);

    if (u->port != (u->tls ? 443u : 80u)) {
        n = strlen(u->hostport);
        snprintf(u->hostport + n, sizeof(u->hostport) - n, ":%u", u->port);
    }

    /* the fragment is never sent */
    n = strcspn(ae, "#");

    if (n + 2 > sizeof(u->path)) {
        snprintf(err, len, "the URL's path is too long");
        return -1;
    }

    if (n == 0 || *ae != '/') {
        u->path[0] = '/';
        memcpy(u->path + 1, ae, n);
        u->path[n + 1] = '\0';

    } else {
        memcpy(u->path, ae, n);
        u->path[n] = '\0';
    }

    return 0;
}


/* http://h/jpki/login -> http://h/jpki/challenge (the query is dropped) */

int
card_challenge_url(const char *login, char *out, size_t size)
{
    char        err[128];
    size_t      dir;
    card_url_t  u;
    int         n;

    if (card_url_parse(login, &u, err, sizeof(err)) != 0) {
        return -1;
    }

    dir = strcspn(u.path, "?");
    while (dir > 0 && u.path[dir - 1] != '/') {
        dir--;
    }

    n = snprintf(out, size, "%s://%s%.*s%s", u.tls ? "https" : "http",
                 u.hostport, (int) dir, u.path, "challenge");

    return (n < 0 || (size_t) n >= size) ? -1 : 0;
}


/*
 * "sekisho-jpki-login:v1\n<Host>\n<challenge>", no final newline: the
 * Host header binds the signature to the gateway it was made for.
 * Returns the length, or 0 if out is too small.
 */

size_t
card_login_message(const char *host, const char *challenge, char *out,
    size_t size)
{
    int  n;

    n = snprintf(out, size, "%s%s\n%s", CARD_LOGIN_PREFIX, host, challenge);

    return (n < 0 || (size_t) n >= size) ? 0 : (size_t) n;
}


static const char *
card_json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }

    return p;
}


/*
 * A JSON string at p (at its quote); copies it to out if out is not
 * NULL, unescaped (\uXXXX only below 0x80: the gateway's values are
 * ASCII).  Returns the position after the closing quote, NULL if bad.
 */

static const char *
card_json_str(const char *p, const char *end, char *out, size_t size,
    size_t *n)
{
    size_t    o;
    unsigned  v;
    char      c;
    int       i;

    if (p >= end || *p != '"') {
        return NULL;
    }

    o = 0;

    for (p++; p < end; p++) {
        c = *p;

        if (c == '"') {
            if (out) {
                out[o] = '\0';
            }
            if (n) {
                *n = o;
            }
            return p + 1;
        }

        if ((u_char) c < 0x20) {
            return NULL;
        }

        if (c == '\\') {
            if (++p >= end) {
                return NULL;
            }

            switch (*p) {
            case '"': case '\\': case '/': c = *p; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                if (end - p < 5) {
                    return NULL;
                }
                v = 0;
                for (i = 1; i <= 4; i++) {
                    if (!isxdigit((u_char) p[i])) {
                        return NULL;
                    }
                    v = v << 4 | (unsigned) (isdigit((u_char) p[i])
                                  ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
                }
                if (v >= 0x80) {
                    return NULL;
                }
                c = (char) v;
                p += 4;
                break;
            default:
                return NULL;
            }
        }

        if (out) {
            if (o + 1 >= size) {
                return NULL;
            }
            out[o] = c;
        }
        o++;
    }

    return NULL;
}


/* skips one JSON value of any kind; NULL if it is not one */

static const char *
card_json_skip(const char *p, const char *end, int depth)
{
    char  close;

    p = card_json_ws(p, end);
    if (p >= end || depth > 32) {
        return NULL;
    }

    if (*p == '"') {
        return card_json_str(p, end, NULL, 0, NULL);
    }

    if (*p == '{' || *p == '[') {
        close = (*p == '{') ? '}' : ']';
        p = card_json_ws(p + 1, end);

        if (p < end && *p == close) {
            return p + 1;
        }

        for ( ;; ) {
            if (close == '}') {
                p = card_json_str(card_json_ws(p, end), end, NULL, 0, NULL);
                if (p == NULL) {
                    return NULL;
                }
                p = card_json_ws(p, end);
                if (p >= end || *p != ':') {
                    return NULL;
                }
                p++;
            }

            p = card_json_skip(p, end, depth + 1);
            if (p == NULL) {
                return NULL;
            }

            p = card_json_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }

            return (p < end && *p == close) ? p + 1 : NULL;
        }
    }

    /* a number, true, false or null */
    if (!(isalnum((u_char) *p) || *p == '-')) {
        return NULL;
    }

    while (p < end && (isalnum((u_char) *p) || *p == '-' || *p == '+'
                       || *p == '.'))
    {
        p++;
    }

    return p;
}


/*
 * The string value of member "key" of the top-level object.  0 if
 * found, 1 if absent, -1 if the text is not a JSON object or the value
 * is not a string or too long.
 */

int
card_json_string(const char *json, size_t len, const char *key, char *out,
    size_t size)
{
    const char  *p, *end, *v;
    char         name[64];
    size_t       n;
    int          found;

    p = json;
    end = json + len;
    found = 1;

    p = card_json_ws(p, end);
    if (p >= end || *p != '{') {
        return -1;
    }

    p = card_json_ws(p + 1, end);
    if (p < end && *p == '}') {
        return 1;
    }

    for ( ;; ) {
        p = card_json_ws(p, end);

        /* a longer name than ours cannot be ours */
        if (card_json_str(p, end, name, sizeof(name), &n) == NULL) {
            if (card_json_str(p, end, NULL, 0, NULL) == NULL) {
                return -1;
            }
            name[0] = '\0';
            n = 0;
        }

        p = card_json_ws(card_json_str(p, end, NULL, 0, NULL), end);
        if (p >= end || *p != ':') {
            return -1;
        }

        v = card_json_ws(p + 1, end);

        if (found == 1 && n == strlen(key) && memcmp(name, key, n) == 0) {
            if (card_json_str(v, end, out, size, NULL) == NULL) {
                return -1;
            }
            found = 0;
        }

        p = card_json_skip(v, end, 1);
        if (p == NULL) {
            return -1;
        }

        p = card_json_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }

        if (p >= end || *p != '}') {
            return -1;
        }

        return found;
    }
}
