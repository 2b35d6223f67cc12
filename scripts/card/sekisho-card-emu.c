
/*
 * Copyright (C) Sekisho authors
 *
 * sekisho-card-emu: a virtual My Number card (its JPKI application) for
 * tests and demos.  It is the card side of vsmartcard's vpcd protocol:
 * pcscd's vpcd driver listens on a TCP port, the card connects to it,
 * and every message is a 2-byte big-endian length and a payload.  A
 * 1-byte payload is a control (00 power off, 01 on, 02 reset, 04 ATR),
 * anything longer an APDU to answer with data and a status word.
 *
 * The card is "pulled out" by closing the connection: on SIGUSR1
 * (which toggles), or instead of answering APDU number N+1 with
 * --remove-after N.  When vpcd goes away (pcscd restarted) the card
 * connects again.  PINs come from a file, never from the command line,
 * and are never logged.
 */


#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include "card_codec.h"
#include "jpki_card.h"


#define EMU_DEFAULT_PORT  35963          /* vpcd's, 0x8C7B */
#define EMU_MSG_MAX       0x10000

/* a contact-card ATR of the kind real cards give, not in OpenSC's
 * table, so that clients find the card by its AID */
#define EMU_ATR_T1  "3BDA13FF8131FB468012392F31C173C601C03B"
#define EMU_ATR_T0  "3B021450"


typedef struct {
    const char     *host;
    const char     *port;
    const char     *state;
    unsigned long   remove_after;
    int             verbose;
    int             present;
    u_char          atr[33];
    size_t          natr;
} emu_conf_t;


static void emu_usage(FILE *f);
static void emu_signal(int signo);
static int emu_read_pins(const char *file, char *auth, char *sign);
static void emu_load_state(emu_conf_t *conf, jpki_card_t *card);
static void emu_save_state(emu_conf_t *conf, jpki_card_t *card);
static int emu_connect(emu_conf_t *conf);
static int emu_read_all(int fd, u_char *buf, size_t n);
static int emu_send(int fd, const u_char *p, size_t n);
static int emu_serve(emu_conf_t *conf, jpki_card_t *card, int fd);
static void emu_sleep_ms(long ms);


static volatile sig_atomic_t  emu_quit;
static volatile sig_atomic_t  emu_toggle;
static unsigned long          emu_apdus;


static void
emu_usage(FILE *f)
{
    fprintf(f,
        "usage: sekisho-card-emu --card DIR/WHO --pin-file FILE [options]\n"
        "\n"
        "A virtual My Number card (JPKI application) for pcscd's vpcd.\n"
        "\n"
        "  --card DIR/WHO      WHO-auth.{key,pem}, WHO-sign.{key,pem} and\n"
        "                      DIR/auth-ca.pem, DIR/sign-ca.pem\n"
        "  --auth-key F --auth-cert F --sign-key F --sign-cert F\n"
        "  --auth-ca F --sign-ca F   override single files\n"
        "  --pin-file FILE     two lines: the auth PIN, the sign PIN\n"
        "  --host H            vpcd's address (127.0.0.1)\n"
        "  --port N            vpcd's port (35963)\n"
        "  --state FILE        keep the PIN retry counters in FILE\n"
        "  --token NAME        EF 0006 text (JPKIAPICCTOKEN2)\n"
        "  --no-jpki           no JPKI application (6A82 to its AID)\n"
        "  --t0                answer as over T=0 (61xx, 6Cxx)\n"
        "  --atr HEX           the ATR\n"
        "  --absent            start pulled out (SIGUSR1 inserts)\n"
        "  --remove-after N    pulled out instead of answering APDU N+1\n"
        "  -v                  log APDUs to stderr (PINs masked)\n"
        "\n"
        "SIGUSR1 pulls the card out or puts it back; SIGTERM stops.\n");
}


static void
emu_signal(int signo)
{
    if (signo == SIGUSR1) {
        emu_toggle = 1;

    } else {
        emu_quit = 1;
    }
}


static int
emu_read_pins(const char *file, char *auth, char *sign)
{
    FILE    *f;
    char     line[2][64];
    size_t   n;
    int      i;

    f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "sekisho-card-emu: cannot open %s: %s\n", file,
                strerror(errno));
        return -1;
    }

    for (i = 0; i < 2; i++) {
        if (fgets(line[i], sizeof(line[i]), f) == NULL) {
            fclose(f);
            fprintf(stderr, "sekisho-card-emu: %s: want two lines, the auth "
                    "PIN and the sign PIN\n", file);
            return -1;
        }

        n = strcspn(line[i], "\r\n");
        line[i][n] = '\0';

        if (n > 16) {
            fclose(f);
            fprintf(stderr, "sekisho-card-emu: %s: PIN too long\n", file);
            return -1;
        }
    }

    fclose(f);

    memcpy(auth, line[0], strlen(line[0]) + 1);
    memcpy(sign, line[1], strlen(line[1]) + 1);
    OPENSSL_cleanse(line, sizeof(line));

    return 0;
}


/* "auth N" and "sign N" lines; a missing file is a new card */

static void
emu_load_state(emu_conf_t *conf, jpki_card_t *card)
{
    FILE      *f;
    char       kind[8];
    unsigned   n;

    if (conf->state == NULL) {
        return;
    }

    f = fopen(conf->state, "r");
    if (f == NULL) {
        return;
    }

    while (fscanf(f, "%7s %u", kind, &n) == 2) {
        if (strcmp(kind, "auth") == 0) {
            jpki_card_set_tries(card, JPKI_PIN_AUTH, n);

        } else if (strcmp(kind, "sign") == 0) {
            jpki_card_set_tries(card, JPKI_PIN_SIGN, n);
        }
    }

    fclose(f);
}


/* written beside and renamed, so a crash leaves the old or the new */

static void
emu_save_state(emu_conf_t *conf, jpki_card_t *card)
{
    char   tmp[4096];
    FILE  *f;
    int    fd;

    if (conf->state == NULL) {
        return;
    }

    snprintf(tmp, sizeof(tmp), "%s.tmp", conf->state);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        fprintf(stderr, "sekisho-card-emu: cannot write %s: %s\n", tmp,
                strerror(errno));
        return;
    }

    fprintf(f, "auth %u\nsign %u\n",
            jpki_card_tries(card, JPKI_PIN_AUTH),
            jpki_card_tries(card, JPKI_PIN_SIGN));

    if (fclose(f) != 0 || rename(tmp, conf->state) != 0) {
        fprintf(stderr, "sekisho-card-emu: cannot write %s: %s\n",
                conf->state, strerror(errno));
    }
}


static int
emu_connect(emu_conf_t *conf)
{
    int               fd, one;
    struct addrinfo   hints, *res, *ai;

    one = 1;
    memset(&hints, 0, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;

    if (getaddrinfo(conf->host, conf->port, &hints, &res) != 0) {
        return -1;
    }

    fd = -1;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            continue;
        }

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            /* one small answer per command: no Nagle delay */
            (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                              sizeof(one));
            break;
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    return fd;
}


/* 1 when all n bytes came, 0 on end of stream, -1 on error */

static int
emu_read_all(int fd, u_char *buf, size_t n)
{
    int      one;
    ssize_t  r;
    size_t   got;

    got = 0;

    while (got < n) {
#ifdef TCP_QUICKACK
        /*
         * vpcd writes the length and the APDU apart, with Nagle on: its
         * second write waits for our ACK, which Linux would delay 40 ms
         */
        one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#endif

        r = recv(fd, buf + got, n - got, 0);

        if (r == 0) {
            return 0;
        }

        if (r < 0) {
            if (errno == EINTR && !emu_quit) {
                continue;
            }
            return -1;
        }

        got += (size_t) r;
    }

    return 1;
}


static int
emu_send(int fd, const u_char *p, size_t n)
{
    u_char   buf[2 + JPKI_CARD_RESP_MAX + 64];
    size_t   sent;
    ssize_t  r;

    buf[0] = (u_char) (n >> 8);
    buf[1] = (u_char) n;
    memcpy(buf + 2, p, n);
    n += 2;

    for (sent = 0; sent < n; sent += (size_t) r) {
        r = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);

        if (r < 0) {
            if (errno == EINTR) {
                r = 0;
                continue;
            }
            return -1;
        }
    }

    return 0;
}


/*
 * Answers vpcd until the connection ends (0), the card is pulled out
 * (1) or the emulator is told to stop (2).
 */

static int
emu_serve(emu_conf_t *conf, jpki_card_t *card, int fd)
{
    int            rc;
    char           trace[64];
    u_char        *msg, resp[JPKI_CARD_RESP_MAX];
    size_t         n, rn;
    unsigned       sw;
    struct pollfd  pfd;

    msg = malloc(EMU_MSG_MAX);
    if (msg == NULL) {
        return 2;
    }

    rc = 0;

    for ( ;; ) {
        if (emu_quit) {
            rc = 2;
            break;
        }

        if (emu_toggle) {
            emu_toggle = 0;
            conf->present = 0;
            fprintf(stderr, "sekisho-card-emu: card pulled out\n");
            rc = 1;
            break;
        }

        pfd.fd = fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, 200) <= 0) {
            continue;
        }

        if (emu_read_all(fd, msg, 2) != 1) {
            break;
        }

        n = (size_t) msg[0] << 8 | msg[1];

        if (n == 0 || emu_read_all(fd, msg, n) != 1) {
            break;
        }

        if (n == 1) {
            switch (msg[0]) {
            case 0x00:
            case 0x01:
            case 0x02:
                if (conf->verbose) {
                    fprintf(stderr, "sekisho-card-emu: %s\n",
                            msg[0] == 0 ? "power off"
                            : msg[0] == 1 ? "power on" : "reset");
                }
                jpki_card_reset(card);
                continue;

            case 0x04:
                if (emu_send(fd, conf->atr, conf->natr) != 0) {
                    goto closed;
                }
                continue;
            }

            fprintf(stderr, "sekisho-card-emu: unknown control %02X\n",
                    msg[0]);
            continue;
        }

        emu_apdus++;

        if (conf->remove_after && emu_apdus > conf->remove_after) {
            conf->remove_after = 0;
            conf->present = 0;
            fprintf(stderr, "sekisho-card-emu: card pulled out after %lu "
                    "APDUs\n", emu_apdus - 1);
            rc = 1;
            break;
        }

        rn = jpki_card_apdu(card, msg, n, resp);
        sw = (unsigned) resp[rn - 2] << 8 | resp[rn - 1];

        if (conf->verbose) {
            jpki_apdu_trace(trace, sizeof(trace), msg, n);
            fprintf(stderr, "sekisho-card-emu: > %s%s\n", trace,
                    strlen(trace) >= sizeof(trace) - 5 ? " ..." : "");
            fprintf(stderr, "sekisho-card-emu: < %04X (%zu bytes)\n", sw,
                    rn - 2);
        }

        if (jpki_card_take_changed(card)) {
            emu_save_state(conf, card);
        }

        if (emu_send(fd, resp, rn) != 0) {
            break;
        }
    }

closed:

    OPENSSL_cleanse(msg, EMU_MSG_MAX);
    free(msg);

    return rc;
}


static void
emu_sleep_ms(long ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;

    /* a signal cuts it short, which is wanted */
    nanosleep(&ts, NULL);
}


int
main(int argc, char **argv)
{
    int                opt, fd, rc, connected;
    char               auth_pin[17], sign_pin[17], err[512];
    char               files[6][4096];
    char              *end, *atr_hex;
    const char        *card_base, *pin_file, *over[6];
    long               backoff;
    size_t             i;
    emu_conf_t         conf;
    jpki_card_t       *card;
    jpki_card_conf_t   cc;
    struct sigaction   sa;

    static const struct option  options[] = {
        { "card",         required_argument, NULL, 'c' },
        { "pin-file",     required_argument, NULL, 'p' },
        { "host",         required_argument, NULL, 'H' },
        { "port",         required_argument, NULL, 'P' },
        { "state",        required_argument, NULL, 's' },
        { "token",        required_argument, NULL, 'T' },
        { "no-jpki",      no_argument,       NULL, 'n' },
        { "t0",           no_argument,       NULL, '0' },
        { "atr",          required_argument, NULL, 'a' },
        { "absent",       no_argument,       NULL, 'A' },
        { "remove-after", required_argument, NULL, 'r' },
        { "auth-key",     required_argument, NULL, 1000 },
        { "auth-cert",    required_argument, NULL, 1001 },
        { "auth-ca",      required_argument, NULL, 1002 },
        { "sign-key",     required_argument, NULL, 1003 },
        { "sign-cert",    required_argument, NULL, 1004 },
        { "sign-ca",      required_argument, NULL, 1005 },
        { "verbose",      no_argument,       NULL, 'v' },
        { "help",         no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&conf, 0, sizeof(emu_conf_t));
    memset(&cc, 0, sizeof(jpki_card_conf_t));
    memset(over, 0, sizeof(over));

    conf.host = "127.0.0.1";
    conf.port = "35963";
    conf.present = 1;
    card_base = NULL;
    pin_file = NULL;
    atr_hex = NULL;

    while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': card_base = optarg; break;
        case 'p': pin_file = optarg; break;
        case 'H': conf.host = optarg; break;
        case 's': conf.state = optarg; break;
        case 'T': cc.token = optarg; break;
        case 'n': cc.no_jpki = 1; break;
        case '0': cc.t0 = 1; break;
        case 'a': atr_hex = optarg; break;
        case 'A': conf.present = 0; break;
        case 'v': conf.verbose = 1; break;

        case 'P':
            if (strtoul(optarg, &end, 10) == 0 || *end
                || strtoul(optarg, NULL, 10) > 65535)
            {
                fprintf(stderr, "sekisho-card-emu: bad port \"%s\"\n",
                        optarg);
                return 2;
            }
            conf.port = optarg;
            break;

        case 'r':
            conf.remove_after = strtoul(optarg, &end, 10);
            if (*end || conf.remove_after == 0) {
                fprintf(stderr, "sekisho-card-emu: bad --remove-after\n");
                return 2;
            }
            break;

        case 'h':
            emu_usage(stdout);
            return 0;

        default:
            if (opt >= 1000 && opt <= 1005) {
                over[opt - 1000] = optarg;
                break;
            }
            emu_usage(stderr);
            return 2;
        }
    }

    if (optind != argc || pin_file == NULL) {
        emu_usage(stderr);
        return 2;
    }

    /* files: auth key, auth cert, auth CA, sign key, sign cert, sign CA */
    for (i = 0; i < 6; i++) {
        if (over[i]) {
            snprintf(files[i], sizeof(files[i]), "%s", over[i]);
            continue;
        }

        if (card_base == NULL) {
            fprintf(stderr, "sekisho-card-emu: --card or all six files "
                    "are needed\n");
            return 2;
        }

        if (i == 2 || i == 5) {
            /* the CA certificates lie beside the card's files */
            end = strrchr(card_base, '/');
            snprintf(files[i], sizeof(files[i]), "%.*s%s",
                     end ? (int) (end - card_base + 1) : 0, card_base,
                     i == 2 ? "auth-ca.pem" : "sign-ca.pem");
            continue;
        }

        snprintf(files[i], sizeof(files[i]), "%s-%s.%s", card_base,
                 i < 3 ? "auth" : "sign", i % 3 ? "pem" : "key");
    }

    atr_hex = atr_hex ? atr_hex : cc.t0 ? EMU_ATR_T0 : EMU_ATR_T1;

    if (card_hex_decode(atr_hex, conf.atr, sizeof(conf.atr), &conf.natr)
        != 0 || conf.natr < 2)
    {
        fprintf(stderr, "sekisho-card-emu: bad ATR \"%s\"\n", atr_hex);
        return 2;
    }

    if (emu_read_pins(pin_file, auth_pin, sign_pin) != 0) {
        return 1;
    }

    cc.auth_key = files[0];
    cc.auth_cert = files[1];
    cc.auth_ca = files[2];
    cc.sign_key = files[3];
    cc.sign_cert = files[4];
    cc.sign_ca = files[5];
    cc.auth_pin = auth_pin;
    cc.sign_pin = sign_pin;

    card = jpki_card_new(&cc, err, sizeof(err));

    OPENSSL_cleanse(auth_pin, sizeof(auth_pin));
    OPENSSL_cleanse(sign_pin, sizeof(sign_pin));

    if (card == NULL) {
        fprintf(stderr, "sekisho-card-emu: %s\n", err);
        return 1;
    }

    emu_load_state(&conf, card);

    memset(&sa, 0, sizeof(struct sigaction));
    sa.sa_handler = emu_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "sekisho-card-emu: card for %s:%s, auth PIN %u tries, "
            "sign PIN %u tries%s\n", conf.host, conf.port,
            jpki_card_tries(card, JPKI_PIN_AUTH),
            jpki_card_tries(card, JPKI_PIN_SIGN),
            conf.present ? "" : ", pulled out");

    backoff = 50;
    connected = 0;
    rc = 0;

    while (!emu_quit) {
        if (!conf.present) {
            if (emu_toggle) {
                emu_toggle = 0;
                conf.present = 1;
                fprintf(stderr, "sekisho-card-emu: card put in\n");
                continue;
            }

            emu_sleep_ms(200);
            continue;
        }

        fd = emu_connect(&conf);

        if (fd < 0) {
            if (connected) {
                fprintf(stderr, "sekisho-card-emu: vpcd is gone, "
                        "connecting again\n");
                connected = 0;
            }

            emu_sleep_ms(backoff);
            backoff = backoff < 1000 ? backoff * 2 : 1000;

            /* a pull while waiting for vpcd */
            if (emu_toggle) {
                emu_toggle = 0;
                conf.present = 0;
            }
            continue;
        }

        backoff = 50;
        connected = 1;
        jpki_card_reset(card);

        if (conf.verbose) {
            fprintf(stderr, "sekisho-card-emu: connected to vpcd\n");
        }

        rc = emu_serve(&conf, card, fd);
        close(fd);
        jpki_card_reset(card);

        if (rc == 0) {
            /* vpcd closed: pcscd stopped or gave up on the card */
            emu_sleep_ms(100);
        }
    }

    jpki_card_free(card);

    return 0;
}
