
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_redis.h"
#include "ngx_http_sekisho_alert.h"
#include "ngx_http_sekisho_metrics.h"


/* slots of the refusal-burst table in shared memory */
#define NGX_HTTP_SEKISHO_BURSTS    4096

/* the SD-ID: a private one (RFC 5424 7.2.2), under the example PEN */
#define NGX_HTTP_SEKISHO_SD_ID     "sekisho@32473"

#define NGX_HTTP_SEKISHO_ALERT_MAX 2048


typedef struct {
    ngx_str_t                    name;
    ngx_uint_t                   severity;     /* RFC 5424 */
    const char                  *text;
} ngx_http_sekisho_alert_kind_t;


typedef struct {
    ngx_uint_t                   type;         /* 0 syslog, 1 redis */
    ngx_addr_t                  *server;
    ngx_uint_t                   facility;
    ngx_str_t                    tag;
    ngx_socket_t                 fd;           /* the worker's */
    ngx_str_t                    stream;
    ngx_str_t                    maxlen;
} ngx_http_sekisho_sink_t;


typedef struct {
    uint64_t                     prefix;
    uint64_t                     window;       /* its start, ms */
    ngx_uint_t                   count;
    ngx_uint_t                   alerted;
} ngx_http_sekisho_burst_t;


typedef struct {
    ngx_atomic_t                 redis_down;
    ngx_atomic_t                 last[16];     /* per event, see _once() */
    ngx_http_sekisho_burst_t     bursts[NGX_HTTP_SEKISHO_BURSTS];
} ngx_http_sekisho_alert_sh_t;


struct ngx_http_sekisho_alerts_s {
    ngx_array_t                  sinks;        /* ngx_http_sekisho_sink_t */
    ngx_uint_t                   burst_count;
    ngx_msec_t                   burst_window;
    ngx_uint_t                   jpki_count;
    ngx_msec_t                   jpki_window;
    ngx_shm_zone_t              *zone;
    ngx_shmtx_t                 *mutex;
    ngx_http_sekisho_alert_sh_t *sh;
};


static ngx_http_sekisho_alerts_t *ngx_http_sekisho_alerts_get(ngx_conf_t *cf);
static ngx_int_t ngx_http_sekisho_alert_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_sekisho_alerts_t *ngx_http_sekisho_alerts_current(void);
static u_char *ngx_http_sekisho_sd_escape(u_char *p, u_char *last,
    ngx_str_t *v);
static void ngx_http_sekisho_alert_stream_done(void *data, redisReply *reply);
static void ngx_http_sekisho_alert_burst(ngx_http_sekisho_alerts_t *alerts,
    ngx_http_sekisho_alert_e event, struct sockaddr *sa, ngx_str_t *addr,
    ngx_uint_t limit, ngx_msec_t window, char *what);


static ngx_http_sekisho_alert_kind_t  ngx_http_sekisho_alert_kinds[] = {
    { ngx_string("account_locked"), 4,
      "an account was locked after repeated failed logins" },
    { ngx_string("ip_locked"), 4,
      "an address was locked after repeated failed logins" },
    { ngx_string("foreign_burst"), 4,
      "a burst of refused requests from one network" },
    { ngx_string("redis_unavailable"), 3,
      "Redis is unavailable: logins follow sekisho_redis_failure" },
    { ngx_string("redis_recovered"), 5,
      "Redis answers again" },
    { ngx_string("geoip_reload_failed"), 3,
      "a replacement country database was refused; the old one stays" },
    { ngx_string("audit_write_failed"), 2,
      "audit records could not be written and are lost" },
    { ngx_string("jpki_failure_burst"), 4,
      "a burst of failed card logins or signatures from one network" },
    { ngx_string("jpki_revoked_certificate"), 4,
      "a revoked JPKI certificate was presented" },
    { ngx_string("geoip_stale"), 4,
      "the country database in use is older than its max_age" },
    { ngx_string("audit_anchor"), 5,
      "the head of the audit chain, for the auditor to keep" }
};


static ngx_str_t  ngx_http_sekisho_severities[] = {
    ngx_string("emergency"), ngx_string("alert"), ngx_string("critical"),
    ngx_string("error"), ngx_string("warning"), ngx_string("notice"),
    ngx_string("info"), ngx_string("debug")
};


static ngx_str_t  ngx_http_sekisho_facilities[] = {
    ngx_string("kern"), ngx_string("user"), ngx_string("mail"),
    ngx_string("daemon"), ngx_string("auth"), ngx_string("syslog"),
    ngx_string("lpr"), ngx_string("news"), ngx_string("uucp"),
    ngx_string("cron"), ngx_string("authpriv"), ngx_string("ftp"),
    ngx_string("ntp"), ngx_string("audit"), ngx_string("alert"),
    ngx_string("clock"), ngx_string("local0"), ngx_string("local1"),
    ngx_string("local2"), ngx_string("local3"), ngx_string("local4"),
    ngx_string("local5"), ngx_string("local6"), ngx_string("local7"),
    ngx_null_string
};


/*
 * sekisho_alert syslog:server=addr[:port][,facility=f][,tag=t];
 * sekisho_alert redis [stream=key] [maxlen=n];
 */

char *
ngx_http_sekisho_alert_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    u_char                     *p, *last, *comma;
    ngx_str_t                  *value, s;
    ngx_url_t                   u;
    ngx_uint_t                  i;
    ngx_http_sekisho_sink_t    *sink;
    ngx_http_sekisho_alerts_t  *alerts;

    alerts = ngx_http_sekisho_alerts_get(cf);
    if (alerts == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->alerts = alerts;

    sink = ngx_array_push(&alerts->sinks);
    if (sink == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(sink, sizeof(ngx_http_sekisho_sink_t));
    sink->fd = (ngx_socket_t) -1;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "redis") == 0) {
        sink->type = 1;
        ngx_str_set(&sink->stream, "sekisho:alerts");
        ngx_str_set(&sink->maxlen, "10000");

        for (i = 2; i < cf->args->nelts; i++) {
            if (ngx_strncmp(value[i].data, "stream=", 7) == 0
                && value[i].len > 7)
            {
                sink->stream.data = value[i].data + 7;
                sink->stream.len = value[i].len - 7;
                continue;
            }

            if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0
                && ngx_atoi(value[i].data + 7, value[i].len - 7) > 0)
            {
                sink->maxlen.data = value[i].data + 7;
                sink->maxlen.len = value[i].len - 7;
                continue;
            }

            goto invalid;
        }

        if (mcf->redis == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"sekisho_alert redis\" requires "
                               "\"sekisho_redis\" before it");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[1].data, "syslog:", 7) != 0
        || cf->args->nelts != 2)
    {
        i = 1;
        goto invalid;
    }

    sink->facility = 13;                       /* log audit */
    ngx_str_set(&sink->tag, "sekisho");

    p = value[1].data + 7;
    last = value[1].data + value[1].len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        s.data = p;
        s.len = comma - p;

        if (s.len > 7 && ngx_strncmp(s.data, "server=", 7) == 0) {
            ngx_memzero(&u, sizeof(ngx_url_t));
            u.url.data = s.data + 7;
            u.url.len = s.len - 7;
            u.default_port = 514;

            if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid syslog server \"%V\" in "
                                   "\"%V\" directive", &u.url, &cmd->name);
                return NGX_CONF_ERROR;
            }

            sink->server = &u.addrs[0];

        } else if (s.len > 9 && ngx_strncmp(s.data, "facility=", 9) == 0) {
            for (i = 0; ngx_http_sekisho_facilities[i].len; i++) {
                if (ngx_http_sekisho_facilities[i].len == s.len - 9
                    && ngx_strncmp(ngx_http_sekisho_facilities[i].data,
                                   s.data + 9, s.len - 9) == 0)
                {
                    break;
                }
            }

            if (ngx_http_sekisho_facilities[i].len == 0) {
                i = 1;
                goto invalid;
            }

            sink->facility = i;

        } else if (s.len > 4 && s.len <= 4 + 48
                   && ngx_strncmp(s.data, "tag=", 4) == 0)
        {
            sink->tag.data = s.data + 4;
            sink->tag.len = s.len - 4;

        } else {
            i = 1;
            goto invalid;
        }

        p = comma + 1;
    }

    if (sink->server == NULL) {
        i = 1;
        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive",
                       &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


/* sekisho_alert_foreign_burst | sekisho_alert_jpki_burst <count> <window> */

char *
ngx_http_sekisho_alert_burst_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_sekisho_main_conf_t *mcf = conf;

    ngx_int_t                   n;
    ngx_str_t                  *value;
    ngx_msec_t                  t;
    ngx_http_sekisho_alerts_t  *alerts;

    alerts = ngx_http_sekisho_alerts_get(cf);
    if (alerts == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->alerts = alerts;
    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    t = ngx_parse_time(&value[2], 0);

    if (n < 1 || t == (ngx_msec_t) NGX_ERROR || t == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V %V\" in \"%V\" directive, "
                           "it must be a count and a time such as "
                           "\"100 1m\"", &value[1], &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (cmd->name.data[sizeof("sekisho_alert_") - 1] == 'j') {
        alerts->jpki_count = n;
        alerts->jpki_window = t;

    } else {
        alerts->burst_count = n;
        alerts->burst_window = t;
    }

    return NGX_CONF_OK;
}


static ngx_http_sekisho_alerts_t *
ngx_http_sekisho_alerts_get(ngx_conf_t *cf)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_cf_main_conf(cf);

    if (mcf->alerts) {
        return mcf->alerts;
    }

    mcf->alerts = ngx_pcalloc(cf->pool, sizeof(ngx_http_sekisho_alerts_t));
    if (mcf->alerts == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->alerts->sinks, cf->pool, 2,
                       sizeof(ngx_http_sekisho_sink_t))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->alerts->burst_count = 100;
    mcf->alerts->burst_window = 60000;
    mcf->alerts->jpki_count = 20;
    mcf->alerts->jpki_window = 300000;

    return mcf->alerts;
}


/* postconfiguration: the zone that deduplicates, if alerts are sent */

ngx_int_t
ngx_http_sekisho_alert_init(ngx_conf_t *cf)
{
    ngx_str_t                      name = ngx_string("sekisho_alerts");
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_cf_main_conf(cf);

    if (mcf->alerts == NULL) {
        return NGX_OK;
    }

    /* a slab pool, as nginx expects of every zone, and the state */
    mcf->alerts->zone = ngx_shared_memory_add(cf, &name,
                 8 * ngx_pagesize
                 + ngx_align(sizeof(ngx_http_sekisho_alert_sh_t), ngx_pagesize),
                 &ngx_http_sekisho_conf_index);
    if (mcf->alerts->zone == NULL) {
        return NGX_ERROR;
    }

    mcf->alerts->zone->init = ngx_http_sekisho_alert_init_zone;
    mcf->alerts->zone->data = mcf->alerts;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_alert_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t            *shpool;
    ngx_http_sekisho_alerts_t  *alerts;

    alerts = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data == NULL) {
        shpool->data = ngx_slab_calloc(shpool,
                                       sizeof(ngx_http_sekisho_alert_sh_t));
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }
    }

    alerts->sh = shpool->data;

    /* the pool's own mutex: nginx frees it if a worker dies holding it */
    alerts->mutex = &shpool->mutex;

    return NGX_OK;
}


/* each worker sends syslog from its own non-blocking UDP socket */

ngx_int_t
ngx_http_sekisho_alert_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_sekisho_sink_t        *sink;
    ngx_http_sekisho_main_conf_t   *mcf;

    mcf = ngx_http_sekisho_cycle_main_conf(cycle);

    if (mcf == NULL || mcf->alerts == NULL) {
        return NGX_OK;
    }

    sink = mcf->alerts->sinks.elts;

    for (i = 0; i < mcf->alerts->sinks.nelts; i++) {
        if (sink[i].type != 0) {
            continue;
        }

        sink[i].fd = ngx_socket(sink[i].server->sockaddr->sa_family,
                                SOCK_DGRAM, 0);

        if (sink[i].fd == (ngx_socket_t) -1
            || ngx_nonblocking(sink[i].fd) == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                          "sekisho: the syslog socket for alerts to %V "
                          "cannot be made", &sink[i].server->name);
            return NGX_ERROR;
        }

        (void) fcntl(sink[i].fd, F_SETFD, FD_CLOEXEC);
    }

    return NGX_OK;
}


static ngx_http_sekisho_alerts_t *
ngx_http_sekisho_alerts_current(void)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    /* the master while it builds its first cycle: nothing to send yet */
    if (ngx_cycle->conf_ctx == NULL) {
        return NULL;
    }

    mcf = ngx_http_sekisho_cycle_main_conf(ngx_cycle);

    return (mcf && mcf->alerts && mcf->alerts->sh) ? mcf->alerts : NULL;
}


/*
 * One alert to every sink: RFC 5424 over UDP, XADD to the stream.
 * Parameters are SD-PARAMs in syslog and fields in the stream.
 */

void
ngx_http_sekisho_alert(ngx_http_sekisho_alert_e event,
    ngx_http_sekisho_alert_param_t *params, ngx_uint_t n)
{
    u_char                         *p, *last, *start;
    u_char                          buf[NGX_HTTP_SEKISHO_ALERT_MAX];
    u_char                          ts[64];
    ssize_t                         sent;
    ngx_str_t                       argv[32], tsv;
    ngx_uint_t                      i, j, k;
    ngx_tm_t                        tm;
    ngx_time_t                     *tp;
    ngx_http_sekisho_sink_t        *sink;
    ngx_http_sekisho_alerts_t      *alerts;
    ngx_http_sekisho_alert_kind_t  *kind;
    ngx_http_sekisho_main_conf_t   *mcf;

    alerts = ngx_http_sekisho_alerts_current();
    if (alerts == NULL) {
        return;
    }

    kind = &ngx_http_sekisho_alert_kinds[event];

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);
    tsv.data = ts;
    tsv.len = ngx_sprintf(ts, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ",
                          tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                          tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                          tp->msec) - ts;

    sink = alerts->sinks.elts;

    for (i = 0; i < alerts->sinks.nelts; i++) {

        if (sink[i].type == 1) {
            mcf = ngx_http_sekisho_cycle_main_conf(ngx_cycle);
            k = 0;
            ngx_str_set(&argv[k], "XADD");
            k++;
            argv[k++] = sink[i].stream;
            ngx_str_set(&argv[k], "MAXLEN");
            k++;
            ngx_str_set(&argv[k], "~");
            k++;
            argv[k++] = sink[i].maxlen;
            ngx_str_set(&argv[k], "*");
            k++;
            ngx_str_set(&argv[k], "event");
            k++;
            argv[k++] = kind->name;
            ngx_str_set(&argv[k], "severity");
            k++;
            argv[k++] = ngx_http_sekisho_severities[kind->severity];
            ngx_str_set(&argv[k], "time");
            k++;
            argv[k++] = tsv;
            ngx_str_set(&argv[k], "node");
            k++;
            argv[k++] = *(ngx_str_t *) &ngx_cycle->hostname;
            ngx_str_set(&argv[k], "message");
            k++;
            argv[k].data = (u_char *) kind->text;
            argv[k++].len = ngx_strlen(kind->text);

            for (j = 0; j < n && k + 2 <= 32; j++) {
                argv[k].data = (u_char *) params[j].name;
                argv[k++].len = ngx_strlen(params[j].name);
                argv[k++] = params[j].value;
            }

            if (ngx_http_sekisho_redis_command(mcf->redis, k, argv,
                                 ngx_http_sekisho_alert_stream_done, NULL)
                == NULL)
            {
                ngx_http_sekisho_metrics_count(
                                          NGX_HTTP_SEKISHO_M_ALERTS_FAILED);
            }

            continue;
        }

        /* <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG */

        last = buf + sizeof(buf);
        start = buf;

        p = ngx_slprintf(buf, last, "<%ui>1 %V %V %V %P %V [%s event=\"%V\" "
                         "severity=\"%V\"",
                         sink[i].facility * 8 + kind->severity, &tsv,
                         &ngx_cycle->hostname, &sink[i].tag, ngx_pid,
                         &kind->name, NGX_HTTP_SEKISHO_SD_ID, &kind->name,
                         &ngx_http_sekisho_severities[kind->severity]);

        for (j = 0; j < n; j++) {
            p = ngx_slprintf(p, last, " %s=\"", params[j].name);
            p = ngx_http_sekisho_sd_escape(p, last, &params[j].value);
            p = ngx_slprintf(p, last, "\"");
        }

        p = ngx_slprintf(p, last, "] %s", kind->text);

        sent = sendto(sink[i].fd, start, p - start, 0,
                      sink[i].server->sockaddr, sink[i].server->socklen);

        ngx_http_sekisho_metrics_count(sent == p - start
                                       ? NGX_HTTP_SEKISHO_M_ALERTS_SENT
                                       : NGX_HTTP_SEKISHO_M_ALERTS_FAILED);
    }
}


static void
ngx_http_sekisho_alert_stream_done(void *data, redisReply *reply)
{
    ngx_http_sekisho_metrics_count(reply ? NGX_HTTP_SEKISHO_M_ALERTS_SENT
                                         : NGX_HTTP_SEKISHO_M_ALERTS_FAILED);
}


/* PARAM-VALUE: '"', '\' and ']' escaped with '\' (RFC 5424 6.3.3) */

static u_char *
ngx_http_sekisho_sd_escape(u_char *p, u_char *last, ngx_str_t *v)
{
    ngx_uint_t  i;

    for (i = 0; i < v->len && p < last - 1; i++) {
        if (v->data[i] == '"' || v->data[i] == '\\' || v->data[i] == ']') {
            *p++ = '\\';
        }

        *p++ = v->data[i];
    }

    return p;
}


/*
 * An alert that every worker would raise for the same cause (a bad
 * database file, a failing disk) is sent once for the node: "key" names
 * the cause, and only its first sender gets through.
 */

void
ngx_http_sekisho_alert_once(ngx_http_sekisho_alert_e event, uint64_t key,
    ngx_http_sekisho_alert_param_t *params, ngx_uint_t n)
{
    ngx_atomic_uint_t           old;
    ngx_http_sekisho_alerts_t  *alerts;

    alerts = ngx_http_sekisho_alerts_current();
    if (alerts == NULL) {
        return;
    }

    /* 0 is "nothing sent yet"; causes next to each other stay apart
       (day N and N + 1 of the same database, minute N and N + 1) */
    key++;

    if (key == 0) {
        key = 1;
    }

    old = alerts->sh->last[event];

    if (old == key || !ngx_atomic_cmp_set(&alerts->sh->last[event], old, key))
    {
        return;
    }

    ngx_http_sekisho_alert(event, params, n);
}


/* once per outage for the whole node, not once per worker */

void
ngx_http_sekisho_alert_redis(ngx_uint_t down, ngx_str_t *name)
{
    ngx_http_sekisho_alerts_t       *alerts;
    ngx_http_sekisho_alert_param_t   param;

    /* the gauge follows every worker, with or without alert sinks */
    ngx_http_sekisho_metrics_redis(down);

    alerts = ngx_http_sekisho_alerts_current();
    if (alerts == NULL) {
        return;
    }

    if (!ngx_atomic_cmp_set(&alerts->sh->redis_down, !down, down)) {
        return;
    }

    param.name = "redis";
    param.value = *name;

    ngx_http_sekisho_alert(down ? NGX_HTTP_SEKISHO_ALERT_REDIS_UNAVAILABLE
                                : NGX_HTTP_SEKISHO_ALERT_REDIS_RECOVERED,
                           &param, 1);
}


/*
 * A refusal by the geo gate: counted per /24 (IPv4) or /48 (IPv6) in
 * the window; the count passing the threshold raises one alert for
 * that network and window.
 */

void
ngx_http_sekisho_alert_refusal(struct sockaddr *sa, ngx_str_t *addr)
{
    ngx_http_sekisho_alerts_t  *alerts;

    alerts = ngx_http_sekisho_alerts_current();
    if (alerts == NULL) {
        return;
    }

    ngx_http_sekisho_alert_burst(alerts, NGX_HTTP_SEKISHO_ALERT_FOREIGN_BURST,
                                 sa, addr, alerts->burst_count,
                                 alerts->burst_window, "refusals");
}


/* a failed card login or signed body, counted the same way */

void
ngx_http_sekisho_alert_jpki_failure(struct sockaddr *sa, ngx_str_t *addr)
{
    ngx_http_sekisho_alerts_t  *alerts;

    alerts = ngx_http_sekisho_alerts_current();
    if (alerts == NULL) {
        return;
    }

    ngx_http_sekisho_alert_burst(alerts, NGX_HTTP_SEKISHO_ALERT_JPKI_BURST,
                                 sa, addr, alerts->jpki_count,
                                 alerts->jpki_window, "failures");
}


static void
ngx_http_sekisho_alert_burst(ngx_http_sekisho_alerts_t *alerts,
    ngx_http_sekisho_alert_e event, struct sockaddr *sa, ngx_str_t *addr,
    ngx_uint_t limit, ngx_msec_t window, char *what)
{
    u_char                          *a, text[NGX_SOCKADDR_STRLEN + 4];
    u_char                           cnt[NGX_INT_T_LEN];
    uint64_t                         prefix, now;
    struct sockaddr_storage          net;
    ngx_uint_t                       i, h, count, alert;
    ngx_time_t                      *tp;
    ngx_http_sekisho_burst_t        *b, *victim;
    ngx_http_sekisho_alert_param_t   params[3];

    if (sa->sa_family == AF_INET) {
        a = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        prefix = ((uint64_t) 4 << 56) | (a[0] << 16) | (a[1] << 8) | a[2];

#if (NGX_HAVE_INET6)
    } else if (sa->sa_family == AF_INET6) {
        a = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        prefix = ((uint64_t) 6 << 56) | ((uint64_t) a[0] << 40)
                 | ((uint64_t) a[1] << 32) | ((uint64_t) a[2] << 24)
                 | ((uint64_t) a[3] << 16) | ((uint64_t) a[4] << 8) | a[5];
#endif

    } else {
        return;
    }

    /* each kind of burst counts apart */
    prefix |= (uint64_t) event << 48;

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    h = (ngx_uint_t) ((prefix * 0x9e3779b97f4a7c15ULL) >> 52)
        % NGX_HTTP_SEKISHO_BURSTS;

    ngx_shmtx_lock(alerts->mutex);

    victim = NULL;

    for (i = 0; i < 8; i++) {
        b = &alerts->sh->bursts[(h + i) % NGX_HTTP_SEKISHO_BURSTS];

        if (b->prefix == prefix) {
            victim = b;
            break;
        }

        if (victim == NULL || b->window < victim->window) {
            victim = b;
        }
    }

    b = victim;

    if (b->prefix != prefix || now - b->window >= window) {
        b->prefix = prefix;
        b->window = now;
        b->count = 0;
        b->alerted = 0;
    }

    count = ++b->count;
    alert = (count > limit && !b->alerted);

    if (alert) {
        b->alerted = 1;
    }

    ngx_shmtx_unlock(alerts->mutex);

    if (!alert) {
        return;
    }

    /* the network itself: the host bits cleared */
    ngx_memzero(&net, sizeof(net));

    if (sa->sa_family == AF_INET) {
        ngx_memcpy(&net, sa, sizeof(struct sockaddr_in));
        a = (u_char *) &((struct sockaddr_in *) &net)->sin_addr;
        a[3] = 0;

#if (NGX_HAVE_INET6)
    } else {
        ngx_memcpy(&net, sa, sizeof(struct sockaddr_in6));
        a = ((struct sockaddr_in6 *) &net)->sin6_addr.s6_addr;
        ngx_memzero(a + 6, 10);
#endif
    }

    params[0].name = "network";
    params[0].value.data = text;
    params[0].value.len = ngx_sock_ntop((struct sockaddr *) &net,
                                        sizeof(net), text,
                                        NGX_SOCKADDR_STRLEN, 0);
    params[0].value.len = ngx_sprintf(text + params[0].value.len, "/%d",
                                      sa->sa_family == AF_INET ? 24 : 48)
                          - text;

    params[1].name = "last_address";
    params[1].value = *addr;

    params[2].name = what;
    params[2].value.data = cnt;
    params[2].value.len = ngx_sprintf(cnt, "%ui", count) - cnt;

    ngx_http_sekisho_alert(event, params, 3);
}
