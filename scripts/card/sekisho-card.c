
/*
 * Copyright (C) Sekisho authors
 *
 * sekisho-card: the applicant's tool for the My Number card's JPKI
 * application, over PC/SC.  It lists readers, tells the card's state
 * and PIN tries left (without spending one), reads certificates, signs
 * with either key (raw PKCS#1 v1.5 or a detached CMS SignedData), and
 * logs in to the Sekisho gateway with the user-authentication key.
 *
 * PINs are read from the terminal with echo off, from a file or from
 * standard input, never from the command line; they are checked for
 * their form before the card sees them, so a typing slip costs no
 * try, and they are never printed.
 */


#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "card_cms.h"
#include "card_codec.h"
#include "card_http.h"
#include "card_login.h"
#include "card_pcsc.h"


#define card_err(...)  fprintf(stderr, "sekisho-card: " __VA_ARGS__)

#define CARD_CHALLENGE_MAX  512


typedef struct {
    const char         *reader;
    const char         *pin_file;
    const char         *out;
    const char         *digest;
    const char         *in;
    const char         *challenge_url;
    const char         *cookie_jar;
    int                 pin_stdin;
    int                 pem;
    int                 base64;
    int                 cms;
    int                 der;
    int                 verbose;
    card_http_conf_t    http;
} card_opts_t;


typedef struct {
    card_pcsc_t        *pcsc;
    jpki_pin_kind_t     kind;
} card_signer_t;


/* the session's cookies on their way to a jar or a Cookie line */

typedef struct {
    FILE               *jar;
    char               *hdr;
    size_t              size;
    size_t              len;
} card_cookies_t;


static void card_usage(FILE *f);
static int card_kind(const char *s, jpki_pin_kind_t *kind);
static int card_get_pin(card_opts_t *o, jpki_pin_kind_t kind, char *pin,
    size_t size);
static int card_write_out(card_opts_t *o, const void *p, size_t n,
    mode_t mode);
static int card_open(card_opts_t *o, card_pcsc_t *p);
static int card_cmd_readers(card_opts_t *o);
static int card_cmd_status(card_opts_t *o);
static int card_cmd_cert(card_opts_t *o, const char *which);
static int card_cmd_sign(card_opts_t *o, const char *which);
static int card_cms_signer(void *data, const u_char *di, size_t len,
    u_char *sig, size_t *siglen);
static int card_hash_file(const char *file, u_char *hash);
static int card_cmd_login(card_opts_t *o, const char *url);
static int card_login_cookie(void *data, const char *line);
static int card_login_cookies(card_opts_t *o, card_http_t *h,
    card_http_resp_t *resp);


static void
card_usage(FILE *f)
{
    fprintf(f,
"usage: sekisho-card [options] COMMAND [ARGS]\n"
"\n"
"  readers                         list readers and whether a card is in\n"
"  status                          the card's kind and PIN tries left\n"
"                                  (spends no try)\n"
"  cert auth|sign|auth-ca|sign-ca [--pem] [-o FILE]\n"
"                                  a certificate (sign needs the sign PIN)\n"
"  sign auth|sign (--digest HEX | --in FILE) [--base64] [-o FILE]\n"
"                                  RSA PKCS#1 v1.5 over SHA-256: 256 bytes\n"
"  sign auth|sign --cms --in FILE [--der] [-o FILE]\n"
"                                  detached CMS SignedData, base64 DER\n"
"  login URL [--challenge-url URL] [--cookie-jar FILE]\n"
"            [--cacert FILE] [--insecure] [--timeout SEC]\n"
"                                  JPKI login to the Sekisho gateway\n"
"\n"
"login (over libcurl):\n"
"  --challenge-url URL    where the challenge is (default: \"challenge\"\n"
"                         beside the login URL)\n"
"  --cookie-jar FILE      save the session cookie there (curl's format,\n"
"                         mode 0600) instead of printing a Cookie line\n"
"  --cacert FILE          trust this CA file alone (default: the system's\n"
"                         CA store)\n"
"  --insecure             check no certificate\n"
"  --timeout SEC          to connect, and for each wait (default 10)\n"
"  proxies as for curl: https_proxy, http_proxy, all_proxy, no_proxy from\n"
"  the environment; HTTP/2 when the gateway offers it over TLS; the\n"
"  challenge follows redirects (never https to http), the login none\n"
"\n"
"options:\n"
"  --reader NAME|NUMBER   the reader (default: the first with a card)\n"
"  --pin-file FILE        the PIN is the file's first line\n"
"  --pin-stdin            the PIN is the first line of standard input\n"
"                         (default: asked on the terminal, not echoed)\n"
"  -v, --verbose          APDUs (PINs masked) and requests on stderr\n"
"\n"
"exit codes: 0 ok, 1 error, 2 usage, 3 PC/SC service not running,\n"
"  4 no reader, 5 no card, 6 not a JPKI card, 7 wrong PIN, 8 PIN blocked,\n"
"  9 card removed, 10 security status not satisfied, 11 malformed PIN\n"
"  (not sent), 12 refused by the gateway, 13 network or TLS error,\n"
"  14 unexpected card answer\n");
}


static int
card_kind(const char *s, jpki_pin_kind_t *kind)
{
    if (s && strcmp(s, "auth") == 0) {
        *kind = JPKI_PIN_AUTH;
        return 0;
    }

    if (s && strcmp(s, "sign") == 0) {
        *kind = JPKI_PIN_SIGN;
        return 0;
    }

    return -1;
}


/* the PIN, checked for its form; nothing reaches the card before */

static int
card_get_pin(card_opts_t *o, jpki_pin_kind_t kind, char *pin, size_t size)
{
    int             rc, tty;
    char            raw[128];
    FILE           *f;
    struct termios  t, saved;

    raw[0] = '\0';
    rc = CARD_OK;
    tty = 0;

    if (o->pin_file) {
        f = fopen(o->pin_file, "r");
        if (f == NULL) {
            card_err("cannot open %s: %s\n", o->pin_file, strerror(errno));
            return CARD_USAGE;
        }

    } else if (o->pin_stdin) {
        f = stdin;

    } else {
        f = fopen("/dev/tty", "r+");
        if (f == NULL) {
            card_err("no terminal to ask the PIN on: use --pin-file or "
                     "--pin-stdin\n");
            return CARD_USAGE;
        }

        tty = 1;
        fprintf(f, "%s: ", kind == JPKI_PIN_AUTH
                ? "利用者証明用 PIN / auth PIN (4 digits)"
                : "署名用 PIN / sign PIN (6-16 letters and digits)");
        fflush(f);

        if (tcgetattr(fileno(f), &saved) == 0) {
            t = saved;
            t.c_lflag &= ~(tcflag_t) ECHO;
            t.c_lflag |= ECHONL;
            (void) tcsetattr(fileno(f), TCSAFLUSH, &t);

        } else {
            tty = 2;
        }
    }

    if (fgets(raw, sizeof(raw), f) == NULL) {
        raw[0] = '\0';
    }

    if (tty == 1) {
        (void) tcsetattr(fileno(f), TCSAFLUSH, &saved);
    }

    if (f != stdin) {
        fclose(f);
    }

    raw[strcspn(raw, "\r\n")] = '\0';

    if (jpki_pin_normalize(kind, raw, pin, size) != 0) {
        card_err("%s; nothing was sent to the card\n",
                 kind == JPKI_PIN_AUTH
                 ? "the auth PIN must be exactly 4 digits"
                 : "the sign PIN must be 6 to 16 letters A-Z and digits");
        rc = CARD_BAD_PIN;
    }

    OPENSSL_cleanse(raw, sizeof(raw));

    return rc;
}


static int
card_write_out(card_opts_t *o, const void *p, size_t n, mode_t mode)
{
    int     fd;
    size_t  w;
    FILE   *f;

    if (o->out == NULL || strcmp(o->out, "-") == 0) {
        w = fwrite(p, 1, n, stdout);
        if (w != n || fflush(stdout) != 0) {
            card_err("cannot write the output: %s\n", strerror(errno));
            return CARD_ERROR;
        }
        return CARD_OK;
    }

    fd = open(o->out, O_WRONLY | O_CREAT | O_TRUNC, mode);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        card_err("cannot write %s: %s\n", o->out, strerror(errno));
        return CARD_ERROR;
    }

    w = fwrite(p, 1, n, f);

    if (fclose(f) != 0 || w != n) {
        card_err("cannot write %s: %s\n", o->out, strerror(errno));
        return CARD_ERROR;
    }

    return CARD_OK;
}


/* the reader, the card, and its JPKI application selected */

static int
card_open(card_opts_t *o, card_pcsc_t *p)
{
    int  rc;

    p->verbose = o->verbose ? 1 : 0;

    rc = card_pcsc_establish(p);
    if (rc == CARD_OK) {
        rc = card_pcsc_connect(p, o->reader);
    }

    if (rc == CARD_OK) {
        rc = card_jpki_select(p);
    }

    return rc;
}


static int
card_cmd_readers(card_opts_t *o)
{
    int          rc, i;
    char        *readers, *r;
    DWORD        len;
    card_pcsc_t  p;

    (void) o;
    memset(&p, 0, sizeof(card_pcsc_t));

    rc = card_pcsc_establish(&p);
    if (rc == CARD_OK) {
        rc = card_pcsc_list(&p, &readers, &len);
    }

    if (rc != CARD_OK) {
        card_pcsc_close(&p);
        return rc;
    }

    for (r = readers, i = 0; *r; r += strlen(r) + 1, i++) {
        SCARD_READERSTATE  rs;

        memset(&rs, 0, sizeof(SCARD_READERSTATE));
        rs.szReader = r;
        rs.dwCurrentState = SCARD_STATE_UNAWARE;

        if (SCardGetStatusChange(p.ctx, 0, &rs, 1) != SCARD_S_SUCCESS) {
            rs.dwEventState = SCARD_STATE_UNKNOWN;
        }

        printf("%d: %s (%s)\n", i, r,
               (rs.dwEventState & SCARD_STATE_PRESENT) ? "card present"
               : (rs.dwEventState & SCARD_STATE_EMPTY) ? "no card"
               : "state unknown");
    }

    SCardFreeMemory(p.ctx, readers);
    card_pcsc_close(&p);

    return CARD_OK;
}


static int
card_cmd_status(card_opts_t *o)
{
    int           rc, i;
    u_char        token[JPKI_TOKEN_LEN];
    size_t        n;
    unsigned      tries[2];
    card_pcsc_t   p;
    jpki_token_t  kind;

    memset(&p, 0, sizeof(card_pcsc_t));

    rc = card_open(o, &p);

    if (rc == CARD_OK) {
        rc = card_jpki_token(&p, token);
    }

    for (i = 0; rc == CARD_OK && i < 2; i++) {
        rc = card_jpki_tries(&p, (jpki_pin_kind_t) i, &tries[i]);
    }

    if (rc != CARD_OK) {
        card_pcsc_close(&p);
        return rc;
    }

    kind = jpki_token_kind(token, sizeof(token));

    n = sizeof(token);
    while (n > 0 && (token[n - 1] == ' ' || token[n - 1] == '\0')) {
        n--;
    }

    for (i = 0; i < (int) n; i++) {
        if (token[i] < 0x20 || token[i] > 0x7E) {
            token[i] = '?';
        }
    }

    printf("reader: %s\n", p.reader);
    printf("card: %s (%.*s)\n", jpki_token_text(kind), (int) n,
           (char *) token);

    for (i = 0; i < 2; i++) {
        if (tries[i] == 0) {
            printf("%s PIN: blocked\n", i ? "sign" : "auth");
        } else {
            printf("%s PIN: %u of %u tries left\n", i ? "sign" : "auth",
                   tries[i], jpki_pin_max_tries((jpki_pin_kind_t) i));
        }
    }

    card_pcsc_close(&p);

    return CARD_OK;
}


static int
card_cmd_cert(card_opts_t *o, const char *which)
{
    int           rc;
    char          pin[17], *pem, *b64;
    u_char       *der;
    size_t        len, n, i, o64;
    unsigned      fid;
    card_pcsc_t   p;

    if (which == NULL) {
        card_usage(stderr);
        return CARD_USAGE;
    }

    if (strcmp(which, "auth") == 0) {
        fid = JPKI_EF_AUTH_CERT;
    } else if (strcmp(which, "sign") == 0) {
        fid = JPKI_EF_SIGN_CERT;
    } else if (strcmp(which, "auth-ca") == 0) {
        fid = JPKI_EF_AUTH_CA;
    } else if (strcmp(which, "sign-ca") == 0) {
        fid = JPKI_EF_SIGN_CA;
    } else {
        card_err("cert: want auth, sign, auth-ca or sign-ca\n");
        return CARD_USAGE;
    }

    /* the signing certificate holds name and address: PIN first */
    if (fid == JPKI_EF_SIGN_CERT) {
        rc = card_get_pin(o, JPKI_PIN_SIGN, pin, sizeof(pin));
        if (rc != CARD_OK) {
            return rc;
        }
    }

    memset(&p, 0, sizeof(card_pcsc_t));
    rc = card_open(o, &p);

    if (rc == CARD_OK && fid == JPKI_EF_SIGN_CERT) {
        rc = card_jpki_verify(&p, JPKI_PIN_SIGN, pin);
    }

    OPENSSL_cleanse(pin, sizeof(pin));

    if (rc == CARD_OK) {
        rc = card_jpki_read(&p, fid, &der, &len);
    }

    card_pcsc_close(&p);

    if (rc != CARD_OK) {
        return rc;
    }

    if (!o->pem) {
        rc = card_write_out(o, der, len, 0644);
        free(der);
        return rc;
    }

    b64 = malloc(card_base64_len(len) + 1);
    pem = malloc(card_base64_len(len) + card_base64_len(len) / 64 + 128);

    if (b64 == NULL || pem == NULL) {
        free(b64);
        free(pem);
        free(der);
        card_err("out of memory\n");
        return CARD_ERROR;
    }

    n = card_base64_encode(der, len, b64, 0);
    o64 = (size_t) sprintf(pem, "-----BEGIN CERTIFICATE-----\n");

    for (i = 0; i < n; i += 64) {
        o64 += (size_t) sprintf(pem + o64, "%.*s\n",
                                (int) (n - i < 64 ? n - i : 64), b64 + i);
    }

    o64 += (size_t) sprintf(pem + o64, "-----END CERTIFICATE-----\n");

    rc = card_write_out(o, pem, o64, 0644);

    free(b64);
    free(pem);
    free(der);

    return rc;
}


static int
card_cms_signer(void *data, const u_char *di, size_t len, u_char *sig,
    size_t *siglen)
{
    card_signer_t  *s = data;

    return card_jpki_sign(s->pcsc, s->kind, di, len, sig, siglen);
}


static int
card_hash_file(const char *file, u_char *hash)
{
    int          ok;
    u_char       buf[16384];
    size_t       n;
    FILE        *f;
    EVP_MD_CTX  *md;

    f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (f == NULL) {
        card_err("cannot open %s: %s\n", file, strerror(errno));
        return CARD_ERROR;
    }

    md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

    while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        ok = EVP_DigestUpdate(md, buf, n) == 1;
    }

    ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, hash, NULL) == 1;

    EVP_MD_CTX_free(md);

    if (f != stdin) {
        fclose(f);
    }

    if (!ok) {
        card_err("cannot read %s\n", file);
        return CARD_ERROR;
    }

    return CARD_OK;
}


static int
card_cmd_sign(card_opts_t *o, const char *which)
{
    int               rc;
    char              pin[17], *b64;
    u_char            hash[JPKI_SHA256_LEN], di[JPKI_DIGEST_INFO_LEN];
    u_char            sig[JPKI_SIG_LEN], *cert, *cms;
    size_t            n, siglen, cert_len, cms_len;
    card_pcsc_t       p;
    card_signer_t     signer;
    jpki_pin_kind_t   kind;

    if (card_kind(which, &kind) != 0) {
        card_err("sign: want auth or sign\n");
        return CARD_USAGE;
    }

    if ((o->digest != NULL) == (o->in != NULL) || (o->cms && o->in == NULL)) {
        card_err("sign: give --in FILE%s\n",
                 o->cms ? "" : " or --digest HEX (SHA-256, 64 hex digits)");
        return CARD_USAGE;
    }

    if (o->in && strcmp(o->in, "-") == 0 && o->pin_stdin) {
        card_err("sign: --in - and --pin-stdin both want standard input\n");
        return CARD_USAGE;
    }

    if (o->digest) {
        if (card_hex_decode(o->digest, hash, sizeof(hash), &n) != 0
            || n != sizeof(hash))
        {
            card_err("--digest: want a SHA-256 hash, 64 hex digits\n");
            return CARD_USAGE;
        }

    } else {
        rc = card_hash_file(o->in, hash);
        if (rc != CARD_OK) {
            return rc;
        }
    }

    rc = card_get_pin(o, kind, pin, sizeof(pin));
    if (rc != CARD_OK) {
        return rc;
    }

    memset(&p, 0, sizeof(card_pcsc_t));
    cert = NULL;
    cms = NULL;

    rc = card_open(o, &p);

    if (rc == CARD_OK) {
        rc = card_jpki_verify(&p, kind, pin);
    }

    OPENSSL_cleanse(pin, sizeof(pin));

    if (rc == CARD_OK && o->cms) {
        rc = card_jpki_read(&p, kind == JPKI_PIN_AUTH ? JPKI_EF_AUTH_CERT
                                                      : JPKI_EF_SIGN_CERT,
                            &cert, &cert_len);

        if (rc == CARD_OK) {
            signer.pcsc = &p;
            signer.kind = kind;

            rc = card_cms_detached(cert, cert_len, hash, time(NULL),
                                   card_cms_signer, &signer, &cms, &cms_len);
            if (rc < 0) {
                card_err("cannot build the CMS SignedData\n");
                rc = CARD_ERROR;
            }
        }

    } else if (rc == CARD_OK) {
        jpki_digest_info_sha256(hash, di);
        rc = card_jpki_sign(&p, kind, di, sizeof(di), sig, &siglen);
    }

    card_pcsc_close(&p);
    free(cert);

    if (rc != CARD_OK) {
        free(cms);
        return rc;
    }

    if (o->cms && o->der) {
        rc = card_write_out(o, cms, cms_len, 0644);
        free(cms);
        return rc;
    }

    if (!o->cms && !o->base64) {
        return card_write_out(o, sig, siglen, 0644);
    }

    b64 = malloc(card_base64_len(o->cms ? cms_len : siglen) + 2);
    if (b64 == NULL) {
        free(cms);
        card_err("out of memory\n");
        return CARD_ERROR;
    }

    n = card_base64_encode(o->cms ? cms : sig, o->cms ? cms_len : siglen,
                           b64, 0);
    b64[n++] = '\n';

    rc = card_write_out(o, b64, n, 0644);

    free(b64);
    free(cms);

    return rc;
}


/*
 * One cookie of libcurl's engine, a line of a curl cookie jar: to the
 * jar as it is, or its name and value to the Cookie header line.
 */

static int
card_login_cookie(void *data, const char *line)
{
    card_cookies_t  *ck = data;
    size_t           nl, vl;
    const char      *name, *value;
    int              i;

    if (ck->jar) {
        return fprintf(ck->jar, "%s\n", line) < 0 ? -1 : 0;
    }

    /* domain, subdomains, path, secure, expiry, name, value */
    name = line;
    for (i = 0; i < 5 && name; i++) {
        name = strchr(name, '\t');
        name = name ? name + 1 : NULL;
    }

    if (name == NULL) {
        return 0;
    }

    value = strchr(name, '\t');
    nl = value ? (size_t) (value - name) : strlen(name);
    value = value ? value + 1 : "";
    vl = strlen(value);

    if (ck->len + nl + vl + 4 < ck->size) {
        ck->len += (size_t) snprintf(ck->hdr + ck->len, ck->size - ck->len,
                                     "%s%.*s=%s", ck->len ? "; " : "",
                                     (int) nl, name, value);
    }

    return 0;
}


/*
 * Cookies of a successful login, from libcurl's engine: into a curl
 * cookie jar (mode 0600), or printed as a Cookie header line.
 */

static int
card_login_cookies(card_opts_t *o, card_http_t *h, card_http_resp_t *resp)
{
    int              fd, n;
    char             hdr[4096];
    size_t           len;
    card_cookies_t   ck;

    memset(&ck, 0, sizeof(card_cookies_t));
    ck.hdr = hdr;
    ck.size = sizeof(hdr);
    hdr[0] = '\0';

    if (o->cookie_jar) {
        fd = open(o->cookie_jar, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck.jar = fd >= 0 ? fdopen(fd, "w") : NULL;

        if (ck.jar == NULL) {
            if (fd >= 0) {
                close(fd);
            }
            card_err("cannot write %s: %s\n", o->cookie_jar,
                     strerror(errno));
            return CARD_ERROR;
        }

        fprintf(ck.jar, "# Netscape HTTP Cookie File\n"
                        "# written by sekisho-card\n\n");
    }

    n = card_http_cookies(h, card_login_cookie, &ck);

    if (ck.jar && (fclose(ck.jar) != 0 || n < 0)) {
        card_err("cannot write %s\n", o->cookie_jar);
        return CARD_ERROR;
    }

    /* the session cookie is the login answer's */
    if (n <= 0 || card_http_header(resp, "Set-Cookie", NULL, &len) == NULL) {
        card_err("warning: the gateway set no session cookie\n");

    } else if (o->cookie_jar) {
        card_err("session cookie saved to %s\n", o->cookie_jar);

    } else {
        printf("Cookie: %s\n", hdr);
    }

    OPENSSL_cleanse(hdr, sizeof(hdr));

    return CARD_OK;
}


static int
card_cmd_login(card_opts_t *o, const char *url)
{
    int                rc, r;
    char               pin[17], err[512], curl_buf[2100];
    char               challenge[CARD_CHALLENGE_MAX + 1];
    char              *msg, *body, *cert64;
    u_char             hash[JPKI_SHA256_LEN], di[JPKI_DIGEST_INFO_LEN];
    u_char             sig[JPKI_SIG_LEN], *cert;
    char               sig64[card_base64_len(JPKI_SIG_LEN) + 1];
    size_t             n, cert_len, siglen;
    unsigned           tries;
    card_url_t         lu, cu;
    card_http_t       *h;
    card_pcsc_t        p;
    card_http_resp_t   resp;

    if (url == NULL) {
        card_err("login: give the gateway's login URL\n");
        return CARD_USAGE;
    }

    if (card_url_parse(url, &lu, err, sizeof(err)) != 0) {
        card_err("login URL: %s\n", err);
        return CARD_USAGE;
    }

    if (o->challenge_url == NULL) {
        if (card_challenge_url(url, curl_buf, sizeof(curl_buf)) != 0) {
            card_err("login URL too long\n");
            return CARD_USAGE;
        }
        o->challenge_url = curl_buf;
    }

    if (card_url_parse(o->challenge_url, &cu, err, sizeof(err)) != 0) {
        card_err("challenge URL: %s\n", err);
        return CARD_USAGE;
    }

    rc = card_get_pin(o, JPKI_PIN_AUTH, pin, sizeof(pin));
    if (rc != CARD_OK) {
        return rc;
    }

    memset(&p, 0, sizeof(card_pcsc_t));
    memset(&resp, 0, sizeof(card_http_resp_t));
    cert = NULL;
    msg = NULL;
    body = NULL;
    cert64 = NULL;
    h = NULL;

    /* the card first: no challenge is spent on a card that cannot sign */
    rc = card_open(o, &p);

    if (rc == CARD_OK) {
        rc = card_jpki_read(&p, JPKI_EF_AUTH_CERT, &cert, &cert_len);
    }

    if (rc == CARD_OK) {
        rc = card_jpki_tries(&p, JPKI_PIN_AUTH, &tries);
        if (rc == CARD_OK && tries == 0) {
            card_err("the auth (利用者証明用) PIN is blocked; the municipal "
                     "office can reset it\n");
            rc = CARD_PIN_BLOCKED;
        }
    }

    if (rc != CARD_OK) {
        goto done;
    }

    /*
     * One HTTP session for the challenge and the login: libcurl's cookie
     * engine keeps the challenge's cookies (a load balancer's, say) and
     * sends them with the login where they belong, as a browser would.
     */
    h = card_http_open(&o->http, err, sizeof(err));
    if (h == NULL) {
        card_err("%s\n", err);
        rc = CARD_ERROR;
        goto done;
    }

    /*
     * The challenge is a GET: safe to follow to where the gateway sends
     * it (http to https, a moved path), within 5 hops and never down
     * from https to http.
     */
    if (card_http_request(h, &cu, "GET", NULL, NULL, 0, CARD_HTTP_FOLLOW,
                          &resp, err, sizeof(err)) != 0)
    {
        card_err("challenge: %s\n", err);
        rc = CARD_NETWORK;
        goto done;
    }

    if (resp.status != 200) {
        card_err("challenge refused: HTTP %d\n%s\n", resp.status,
                 (char *) resp.body);
        rc = CARD_REFUSED;
        goto done;
    }

    r = card_json_string((char *) resp.body, resp.body_len, "challenge",
                         challenge, sizeof(challenge));

    if (r != 0 || !card_is_base64url(challenge, strlen(challenge))) {
        card_err("the gateway's answer at %s has no valid challenge\n",
                 o->challenge_url);
        rc = CARD_NETWORK;
        goto done;
    }

    card_http_free(&resp);

    rc = card_jpki_verify(&p, JPKI_PIN_AUTH, pin);
    OPENSSL_cleanse(pin, sizeof(pin));

    if (rc != CARD_OK) {
        goto done;
    }

    n = strlen(CARD_LOGIN_PREFIX) + strlen(lu.hostport) + strlen(challenge)
        + 2;
    msg = malloc(n);
    if (msg == NULL || card_login_message(lu.hostport, challenge, msg, n) == 0)
    {
        card_err("out of memory\n");
        rc = CARD_ERROR;
        goto done;
    }

    SHA256((u_char *) msg, strlen(msg), hash);
    jpki_digest_info_sha256(hash, di);

    rc = card_jpki_sign(&p, JPKI_PIN_AUTH, di, sizeof(di), sig, &siglen);

    /* the card is done: reset, the PIN's state gone */
    card_pcsc_close(&p);

    if (rc != CARD_OK) {
        goto done;
    }

    cert64 = malloc(card_base64_len(cert_len) + 1);
    body = malloc(card_base64_len(cert_len) + sizeof(sig64) + strlen(challenge)
                  + 128);

    if (cert64 == NULL || body == NULL) {
        card_err("out of memory\n");
        rc = CARD_ERROR;
        goto done;
    }

    card_base64_encode(cert, cert_len, cert64, 0);
    card_base64_encode(sig, siglen, sig64, 0);

    n = (size_t) sprintf(body, "{\"challenge\":\"%s\",\"certificate\":\"%s\","
                         "\"signature\":\"%s\"}", challenge, cert64, sig64);

    /*
     * The login is a POST and follows no redirect: libcurl would turn it
     * into a GET on 301, 302 or 303 (the login lost, a page taken for
     * the answer) or, on 307 and 308, send the signed answer and the
     * certificate to wherever the Location says.  The signature is
     * bound to the login URL's Host; a 3xx is a refusal that names its
     * target, and the applicant gives that URL if it is the gateway.
     */
    if (card_http_request(h, &lu, "POST",
                          "Content-Type: application/json\r\n",
                          (u_char *) body, n, 0, &resp, err, sizeof(err))
        != 0)
    {
        card_err("login: %s\n", err);
        rc = CARD_NETWORK;
        goto done;
    }

    if (resp.status != 200) {
        card_err("login refused: HTTP %d\n", resp.status);
        fprintf(stderr, "%s%s", (char *) resp.body,
                resp.body_len && resp.body[resp.body_len - 1] == '\n'
                ? "" : "\n");
        if (resp.redirect) {
            card_err("the login URL redirects to %s (not followed: give "
                     "that URL if it is the gateway's)\n", resp.redirect);
        }
        rc = CARD_REFUSED;
        goto done;
    }

    printf("%s%s", (char *) resp.body,
           resp.body_len && resp.body[resp.body_len - 1] == '\n' ? "" : "\n");

    rc = card_login_cookies(o, h, &resp);

done:

    OPENSSL_cleanse(pin, sizeof(pin));
    card_pcsc_close(&p);
    card_http_free(&resp);
    free(cert);
    free(msg);
    free(body);
    free(cert64);
    card_http_close(h);

    return rc;
}


int
main(int argc, char **argv)
{
    int          opt, rc;
    char        *end;
    long         t;
    const char  *cmd, *arg;
    card_opts_t  o;

    static const struct option  options[] = {
        { "reader",        required_argument, NULL, 'r' },
        { "pin-file",      required_argument, NULL, 'p' },
        { "pin-stdin",     no_argument,       NULL, 'P' },
        { "output",        required_argument, NULL, 'o' },
        { "pem",           no_argument,       NULL, 'm' },
        { "digest",        required_argument, NULL, 'd' },
        { "in",            required_argument, NULL, 'i' },
        { "base64",        no_argument,       NULL, 'b' },
        { "cms",           no_argument,       NULL, 'c' },
        { "der",           no_argument,       NULL, 'D' },
        { "challenge-url", required_argument, NULL, 'C' },
        { "cookie-jar",    required_argument, NULL, 'j' },
        { "cacert",        required_argument, NULL, 'a' },
        { "insecure",      no_argument,       NULL, 'k' },
        { "timeout",       required_argument, NULL, 't' },
        { "verbose",       no_argument,       NULL, 'v' },
        { "help",          no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&o, 0, sizeof(card_opts_t));
    o.http.timeout = 10;

    while ((opt = getopt_long(argc, argv, "o:vh", options, NULL)) != -1) {
        switch (opt) {
        case 'r': o.reader = optarg; break;
        case 'p': o.pin_file = optarg; break;
        case 'P': o.pin_stdin = 1; break;
        case 'o': o.out = optarg; break;
        case 'm': o.pem = 1; break;
        case 'd': o.digest = optarg; break;
        case 'i': o.in = optarg; break;
        case 'b': o.base64 = 1; break;
        case 'c': o.cms = 1; break;
        case 'D': o.der = 1; break;
        case 'C': o.challenge_url = optarg; break;
        case 'j': o.cookie_jar = optarg; break;
        case 'a': o.http.cacert = optarg; break;
        case 'k': o.http.insecure = 1; break;
        case 'v': o.verbose = 1; o.http.verbose = 1; break;

        case 't':
            t = strtol(optarg, &end, 10);
            if (*end || t < 1 || t > 3600) {
                card_err("--timeout: want seconds, 1 to 3600\n");
                return CARD_USAGE;
            }
            o.http.timeout = (int) t;
            break;

        case 'h':
            card_usage(stdout);
            return CARD_OK;

        default:
            card_usage(stderr);
            return CARD_USAGE;
        }
    }

    if (optind >= argc) {
        card_usage(stderr);
        return CARD_USAGE;
    }

    if (o.pin_file && o.pin_stdin) {
        card_err("--pin-file and --pin-stdin: one of them\n");
        return CARD_USAGE;
    }

    cmd = argv[optind];
    arg = optind + 1 < argc ? argv[optind + 1] : NULL;

    if (optind + 2 < argc) {
        card_err("%s: too many arguments\n", cmd);
        return CARD_USAGE;
    }

    if (strcmp(cmd, "readers") == 0 && arg == NULL) {
        rc = card_cmd_readers(&o);

    } else if (strcmp(cmd, "status") == 0 && arg == NULL) {
        rc = card_cmd_status(&o);

    } else if (strcmp(cmd, "cert") == 0) {
        rc = card_cmd_cert(&o, arg);

    } else if (strcmp(cmd, "sign") == 0) {
        rc = card_cmd_sign(&o, arg);

    } else if (strcmp(cmd, "login") == 0) {
        rc = card_cmd_login(&o, arg);

    } else {
        card_usage(stderr);
        rc = CARD_USAGE;
    }

    return rc;
}
