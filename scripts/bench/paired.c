
/*
 * Copyright (C) Sekisho authors
 *
 * The CPU time two nginx workers spend per request, measured side by
 * side.  Two gateways with one worker each, pinned to one CPU, are sent
 * batches of requests in turn: a batch to the first, a batch to the
 * second, and so on.  Whatever else the machine is doing (the other
 * tenants of a VM, frequency changes) falls on both alike, batch by
 * batch, so the ratio of their CPU times holds still where requests per
 * second move by 15 %.  The CPU time is the worker's own, user and
 * kernel, in nanoseconds, from /proc/<pid>/schedstat (the kernel's
 * scheduler accounting, not clock ticks).
 *
 *   bench-paired [-C <cookie file>] [-H <header line>]... [-A <file>]
 *                <connections> <requests> <rounds>
 *                <port>:<worker pid>:<path> <port>:<worker pid>:<path>
 *
 * Each round sends <requests> requests to each gateway, <connections>
 * at a time over keep-alive connections, all alike (the -H lines, and
 * a Cookie header with the file's "name=value"; with -A, one more
 * header, the file's lines in turn, request by request), and prints
 *
 *   round <n> <ns a request, first> <ns a request, second>
 *
 * Every answer must be 200; a Set-Cookie for the cookie's name replaces
 * the cookie, as a browser would.  SEKISHO_BENCH_BROWSER=1 in the
 * environment adds the four headers a browser sends (the same as
 * scripts/bench/jpki-ir's).  Built and run by scripts/bench/geo (the
 * geo gate) and scripts/bench/jpki (the session check).
 */


#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>


#define BENCH_MAX_CONNS  256
#define BENCH_BUF        16384


typedef struct {
    int         port;
    int         pid;
    const char *path;
    size_t      next_rotate;    /* each gateway sees the same sequence */
    int         fd[BENCH_MAX_CONNS];
} bench_target_t;


static char         cookie[1024];
static size_t       cookie_name_len;
static char         headers[2048];
static char       **rotate;
static size_t       nrotate;
static const char  *extra = "";

static const char  browser[] =
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
    "Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
    "*/*;q=0.8\r\n"
    "Accept-Language: ja,en-US;q=0.7,en;q=0.3\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n";


static void die(const char *what);
static long long cpu_ns(int pid);
static int dial(int port);
static void send_all(int fd, const char *p, size_t n);
static void read_answer(bench_target_t *t, int fd);
static void batch(bench_target_t *t, int conns);
static void parse_target(const char *arg, bench_target_t *t);
static void read_cookie(const char *file);
static void read_rotate(const char *file);


static void
die(const char *what)
{
    fprintf(stderr, "bench-paired: %s%s%s\n", what,
            errno ? ": " : "", errno ? strerror(errno) : "");
    exit(1);
}


static long long
cpu_ns(int pid)
{
    char       name[64];
    FILE      *f;
    long long  ns;

    snprintf(name, sizeof(name), "/proc/%d/schedstat", pid);

    f = fopen(name, "r");
    if (f == NULL) {
        die("cannot open a worker's /proc/<pid>/schedstat");
    }

    if (fscanf(f, "%lld", &ns) != 1) {
        errno = 0;
        die("cannot read a worker's schedstat");
    }

    fclose(f);

    return ns;
}


static int
dial(int port)
{
    int                 fd, one;
    struct timeval      tv;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) {
        die("socket()");
    }

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    /* a gateway that stops answering ends the run, not hangs it */
    tv.tv_sec = 30;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        die("connect() to a gateway");
    }

    return fd;
}


static void
send_all(int fd, const char *p, size_t n)
{
    ssize_t  w;

    while (n) {
        w = write(fd, p, n);
        if (w == -1) {
            if (errno == EINTR) {
                continue;
            }
            die("write() to a gateway");
        }
        p += w;
        n -= w;
    }
}


/* one whole answer: the header, then Content-Length bytes of body */

static void
read_answer(bench_target_t *t, int fd)
{
    char     buf[BENCH_BUF], *end, *h, *v, *e;
    size_t   have, head, body;
    ssize_t  n;

    have = 0;
    end = NULL;

    while (end == NULL) {
        if (have == sizeof(buf) - 1) {
            errno = 0;
            die("an answer's header is too long");
        }

        n = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                continue;
            }
            if (n == 0) {
                errno = 0;
                die("a gateway closed the connection");
            }
            die("reading a gateway's answer (30 s at most)");
        }

        have += n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }

    head = end + 4 - buf;

    if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
        errno = 0;
        fprintf(stderr, "bench-paired: %s answered: %.*s\n", t->path,
                (int) (strchr(buf, '\r') - buf), buf);
        die("an answer was not 200");
    }

    body = 0;

    for (h = strstr(buf, "\r\n") + 2; h < end; h = strstr(h, "\r\n") + 2) {
        if (strncasecmp(h, "Content-Length:", 15) == 0) {
            body = strtoul(h + 15, NULL, 10);

        } else if (strncasecmp(h, "Set-Cookie:", 11) == 0) {
            v = h + 11;
            while (*v == ' ') {
                v++;
            }

            if (cookie_name_len
                && strncmp(v, cookie, cookie_name_len + 1) == 0)
            {
                e = v + strcspn(v, ";\r");
                if ((size_t) (e - v) < sizeof(cookie)) {
                    memcpy(cookie, v, e - v);
                    cookie[e - v] = '\0';
                }
            }
        }
    }

    while (have - head < body) {
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                continue;
            }
            errno = 0;
            die("a gateway closed the connection in a body");
        }
        have += n;
    }

    if (have - head != body) {
        errno = 0;
        die("more bytes than one answer (nothing else was asked)");
    }
}


static void
batch(bench_target_t *t, int conns)
{
    int     i;
    char    req[4096];
    size_t  n;

    for (i = 0; i < conns; i++) {
        n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s",
                     t->path, t->port, extra, headers);

        if (nrotate && n < sizeof(req)) {
            n += snprintf(req + n, sizeof(req) - n, "%s\r\n",
                          rotate[t->next_rotate++ % nrotate]);
        }

        if (cookie_name_len && n < sizeof(req)) {
            n += snprintf(req + n, sizeof(req) - n, "Cookie: %s\r\n",
                          cookie);
        }

        if (n < sizeof(req)) {
            n += snprintf(req + n, sizeof(req) - n, "\r\n");
        }

        if (n >= sizeof(req)) {
            errno = 0;
            die("a request would be over 4 KB");
        }

        send_all(t->fd[i], req, n);
    }

    for (i = 0; i < conns; i++) {
        read_answer(t, t->fd[i]);
    }
}


static void
parse_target(const char *arg, bench_target_t *t)
{
    char  *p;

    t->port = strtol(arg, &p, 10);
    if (*p != ':') {
        goto bad;
    }

    t->pid = strtol(p + 1, &p, 10);
    if (*p != ':' || p[1] != '/') {
        goto bad;
    }

    t->path = p + 1;
    return;

bad:
    errno = 0;
    die("a target is <port>:<worker pid>:<path>");
}


static void
read_cookie(const char *file)
{
    FILE  *f;

    f = fopen(file, "r");
    if (f == NULL || fgets(cookie, sizeof(cookie), f) == NULL) {
        die("cannot read the cookie file");
    }
    fclose(f);

    cookie[strcspn(cookie, "\r\n")] = '\0';
    cookie_name_len = strcspn(cookie, "=");

    if (cookie_name_len == 0 || cookie[cookie_name_len] != '=') {
        errno = 0;
        die("the cookie file holds <name>=<value>");
    }
}


/* header lines sent in turn, one a request (-A) */

static void
read_rotate(const char *file)
{
    char    line[256];
    FILE   *f;
    size_t  len;

    f = fopen(file, "r");
    if (f == NULL) {
        die("cannot open the -A file");
    }

    while (fgets(line, sizeof(line), f)) {
        len = strcspn(line, "\r\n");
        if (len == 0) {
            continue;
        }

        rotate = realloc(rotate, (nrotate + 1) * sizeof(char *));
        if (rotate == NULL || (rotate[nrotate] = strndup(line, len)) == NULL) {
            die("out of memory");
        }

        nrotate++;
    }

    fclose(f);

    if (nrotate == 0) {
        errno = 0;
        die("the -A file has no line");
    }
}


int
main(int argc, char **argv)
{
    int              i, r, c, conns, requests, rounds, batches;
    size_t           len;
    long long        a0, b0, a1, b1;
    bench_target_t   t[2];

    while ((c = getopt(argc, argv, "A:C:H:")) != -1) {
        switch (c) {

        case 'A':
            read_rotate(optarg);
            break;

        case 'C':
            read_cookie(optarg);
            break;

        case 'H':
            len = strlen(headers);
            if (len + strlen(optarg) + 3 > sizeof(headers)
                || strpbrk(optarg, "\r\n"))
            {
                errno = 0;
                die("-H: one header line, 2 KB of them at most");
            }
            snprintf(headers + len, sizeof(headers) - len, "%s\r\n", optarg);
            break;

        default:
            exit(2);
        }
    }

    if (argc - optind != 5) {
        errno = 0;
        die("usage: bench-paired [-C cookie file] [-H header]... [-A file] "
            "<connections> <requests> <rounds> "
            "<port>:<pid>:<path> <port>:<pid>:<path>");
    }

    argv += optind;

    conns = atoi(argv[0]);
    requests = atoi(argv[1]);
    rounds = atoi(argv[2]);

    if (conns < 1 || conns > BENCH_MAX_CONNS || requests < conns
        || rounds < 1)
    {
        errno = 0;
        die("connections 1..256, requests >= connections, rounds >= 1");
    }

    /* a closed connection is an error message, not a silent SIGPIPE */
    signal(SIGPIPE, SIG_IGN);

    if (getenv("SEKISHO_BENCH_BROWSER")
        && strcmp(getenv("SEKISHO_BENCH_BROWSER"), "1") == 0)
    {
        extra = browser;
    }

    parse_target(argv[3], &t[0]);
    parse_target(argv[4], &t[1]);

    for (i = 0; i < conns; i++) {
        t[0].fd[i] = dial(t[0].port);
        t[1].fd[i] = dial(t[1].port);
    }

    batches = requests / conns;

    /* warm both: connections to the upstream, caches, allocators */
    for (i = 0; i < batches / 4 + 1; i++) {
        batch(&t[0], conns);
        batch(&t[1], conns);
    }

    for (r = 1; r <= rounds; r++) {
        a0 = cpu_ns(t[0].pid);
        b0 = cpu_ns(t[1].pid);

        for (i = 0; i < batches; i++) {
            batch(&t[0], conns);
            batch(&t[1], conns);
        }

        a1 = cpu_ns(t[0].pid);
        b1 = cpu_ns(t[1].pid);

        printf("round %d %.1f %.1f\n", r,
               (double) (a1 - a0) / (batches * conns),
               (double) (b1 - b0) / (batches * conns));
        fflush(stdout);
    }

    return 0;
}
