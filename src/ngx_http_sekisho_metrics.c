
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_conf.h"
#include "ngx_http_sekisho_ctx.h"
#include "ngx_http_sekisho_reason.h"
#include "ngx_http_sekisho_metrics.h"


/* the upper bounds of the Redis latency histogram, in microseconds */
#define NGX_HTTP_SEKISHO_BUCKETS  11

/* locks remembered for "accounts currently locked" */
#define NGX_HTTP_SEKISHO_LOCKED   1024


typedef struct {
    uint64_t                     key;
    uint64_t                     until;      /* ms since the epoch */
} ngx_http_sekisho_locked_t;


typedef struct {
    ngx_atomic_t                 requests[NGX_HTTP_SEKISHO_DECISION_COUNT]
                                         [NGX_HTTP_SEKISHO_REASON_COUNT];
    ngx_atomic_t                 counters[NGX_HTTP_SEKISHO_M_COUNT];
    ngx_atomic_t                 jpki[2][NGX_HTTP_SEKISHO_REASON_COUNT];
    ngx_atomic_t                 redis_buckets[NGX_HTTP_SEKISHO_BUCKETS + 1];
    ngx_atomic_t                 redis_sum_us;
    ngx_atomic_t                 geoip_built;
    ngx_atomic_t                 geoip_loaded;
    ngx_atomic_t                 geoip_max_age;
    ngx_atomic_t                 redis_down;
    int64_t                      crl_built;
    int64_t                      crl_next_update;
    ngx_http_sekisho_locked_t    locked[NGX_HTTP_SEKISHO_LOCKED];
} ngx_http_sekisho_metrics_sh_t;


static ngx_int_t ngx_http_sekisho_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_sekisho_metrics_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_sekisho_metrics_locked_now(void);
static u_char *ngx_http_sekisho_metrics_state(ngx_http_request_t *r,
    ngx_http_sekisho_metrics_sh_t *sh, u_char *p);


static ngx_http_sekisho_metrics_sh_t  *ngx_http_sekisho_metrics_sh;
static ngx_str_t                       ngx_http_sekisho_ok = ngx_string("ok");
static ngx_shmtx_t                    *ngx_http_sekisho_metrics_mutex;


static uint64_t  ngx_http_sekisho_buckets[NGX_HTTP_SEKISHO_BUCKETS] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000
};


static const char  *ngx_http_sekisho_counter_text[] = {
    "# HELP sekisho_redis_errors_total Redis commands that failed.\n"
    "# TYPE sekisho_redis_errors_total counter\n"
    "sekisho_redis_errors_total{kind=\"timeout\"} %uA\n",
    "sekisho_redis_errors_total{kind=\"error\"} %uA\n",
    "sekisho_redis_errors_total{kind=\"unavailable\"} %uA\n",
    "# HELP sekisho_lockouts_total Locks set after failed logins.\n"
    "# TYPE sekisho_lockouts_total counter\n"
    "sekisho_lockouts_total{kind=\"account\"} %uA\n",
    "sekisho_lockouts_total{kind=\"ip\"} %uA\n",
    "# HELP sekisho_geoip_reloads_total Country database replacements.\n"
    "# TYPE sekisho_geoip_reloads_total counter\n"
    "sekisho_geoip_reloads_total{result=\"ok\"} %uA\n",
    "sekisho_geoip_reloads_total{result=\"failed\"} %uA\n",
    "# HELP sekisho_audit_records_total Audit records written.\n"
    "# TYPE sekisho_audit_records_total counter\n"
    "sekisho_audit_records_total %uA\n",
    "# HELP sekisho_audit_write_errors_total Audit records lost.\n"
    "# TYPE sekisho_audit_write_errors_total counter\n"
    "sekisho_audit_write_errors_total %uA\n",
    "# HELP sekisho_alerts_total Alerts sent to the SOC.\n"
    "# TYPE sekisho_alerts_total counter\n"
    "sekisho_alerts_total{result=\"sent\"} %uA\n",
    "sekisho_alerts_total{result=\"failed\"} %uA\n"
};


/* one zone for all counters, kept across reloads */

ngx_int_t
ngx_http_sekisho_metrics_init(ngx_conf_t *cf)
{
    ngx_str_t        name = ngx_string("sekisho_metrics");
    ngx_shm_zone_t  *zone;

    /* a slab pool, as nginx expects of every zone, and the counters */
    zone = ngx_shared_memory_add(cf, &name,
                  8 * ngx_pagesize
                  + ngx_align(sizeof(ngx_http_sekisho_metrics_sh_t),
                              ngx_pagesize),
                  &ngx_http_sekisho_conf_index);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_sekisho_metrics_init_zone;
    zone->data = (void *) 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_sekisho_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data == NULL) {
        shpool->data = ngx_slab_calloc(shpool,
                                       sizeof(ngx_http_sekisho_metrics_sh_t));
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }
    }

    /* on reload the zone, and the counters in it, are kept */
    ngx_http_sekisho_metrics_sh = shpool->data;

    /* the pool's own mutex: nginx frees it if a worker dies holding it */
    ngx_http_sekisho_metrics_mutex = &shpool->mutex;

    return NGX_OK;
}


void
ngx_http_sekisho_metrics_count(ngx_http_sekisho_counter_e counter)
{
    if (ngx_http_sekisho_metrics_sh) {
        (void) ngx_atomic_fetch_add(
                        &ngx_http_sekisho_metrics_sh->counters[counter], 1);
    }
}


void
ngx_http_sekisho_metrics_request(ngx_uint_t decision, ngx_uint_t reason)
{
    if (ngx_http_sekisho_metrics_sh
        && decision < NGX_HTTP_SEKISHO_DECISION_COUNT
        && reason < NGX_HTTP_SEKISHO_REASON_COUNT)
    {
        (void) ngx_atomic_fetch_add(
               &ngx_http_sekisho_metrics_sh->requests[decision][reason], 1);
    }
}


/* a JPKI verification: use 0 a card login, 1 a signed body */

void
ngx_http_sekisho_metrics_jpki(ngx_uint_t use, ngx_uint_t reason)
{
    if (ngx_http_sekisho_metrics_sh && use < 2
        && reason < NGX_HTTP_SEKISHO_REASON_COUNT)
    {
        (void) ngx_atomic_fetch_add(
                       &ngx_http_sekisho_metrics_sh->jpki[use][reason], 1);
    }
}


void
ngx_http_sekisho_metrics_redis_latency(uint64_t us)
{
    ngx_uint_t  i;

    if (ngx_http_sekisho_metrics_sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_SEKISHO_BUCKETS; i++) {
        if (us <= ngx_http_sekisho_buckets[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&ngx_http_sekisho_metrics_sh->redis_buckets[i],
                                1);
    (void) ngx_atomic_fetch_add(&ngx_http_sekisho_metrics_sh->redis_sum_us,
                                us);
}


void
ngx_http_sekisho_metrics_geoip(time_t built, time_t loaded)
{
    if (ngx_http_sekisho_metrics_sh) {
        ngx_http_sekisho_metrics_sh->geoip_built = built;
        ngx_http_sekisho_metrics_sh->geoip_loaded = loaded;
    }
}


/* the configured max_age of the database, 0 when none is set */

void
ngx_http_sekisho_metrics_geoip_max_age(time_t max_age)
{
    if (ngx_http_sekisho_metrics_sh) {
        ngx_http_sekisho_metrics_sh->geoip_max_age = max_age;
    }
}


/*
 * Redis as a worker last found it, down or back: the latest change of
 * any worker counts (an idle worker finds Redis back only when it next
 * needs it), as for the alerts.
 */

void
ngx_http_sekisho_metrics_redis(ngx_uint_t down)
{
    if (ngx_http_sekisho_metrics_sh) {
        ngx_http_sekisho_metrics_sh->redis_down = down;
    }
}


/* the revocation index in use: when built, the earliest nextUpdate */

void
ngx_http_sekisho_metrics_crl(int64_t built, int64_t next_update)
{
    if (ngx_http_sekisho_metrics_sh) {
        ngx_http_sekisho_metrics_sh->crl_built = built;
        ngx_http_sekisho_metrics_sh->crl_next_update = next_update;
    }
}


/*
 * A lock seen by this gateway (set after failures, or met by a refused
 * login): remembered until it expires, for the "currently locked"
 * gauge.  "key" is the hex hash of the account.
 */

void
ngx_http_sekisho_metrics_locked(u_char *key, ngx_msec_t lock_ms)
{
    uint64_t                    k, now, oldest;
    ngx_uint_t                  i, h, victim;
    ngx_time_t                 *tp;
    ngx_http_sekisho_locked_t  *l;

    if (ngx_http_sekisho_metrics_sh == NULL) {
        return;
    }

    k = 0;
    for (i = 0; i < 16; i++) {
        k = (k << 4) | (uint64_t) ((key[i] <= '9') ? key[i] - '0'
                                                   : key[i] - 'a' + 10);
    }

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    l = ngx_http_sekisho_metrics_sh->locked;
    h = (ngx_uint_t) (k % NGX_HTTP_SEKISHO_LOCKED);
    victim = h;
    oldest = (uint64_t) -1;

    ngx_shmtx_lock(ngx_http_sekisho_metrics_mutex);

    /* the same key, a free or expired slot, or else the oldest of 16 */
    for (i = 0; i < 16; i++, h = (h + 1) % NGX_HTTP_SEKISHO_LOCKED) {
        if (l[h].key == k || l[h].until <= now) {
            victim = h;
            break;
        }

        if (l[h].until < oldest) {
            oldest = l[h].until;
            victim = h;
        }
    }

    l[victim].key = k;
    l[victim].until = now + lock_ms;

    ngx_shmtx_unlock(ngx_http_sekisho_metrics_mutex);
}


static ngx_uint_t
ngx_http_sekisho_metrics_locked_now(void)
{
    uint64_t     now;
    ngx_uint_t   i, n;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    n = 0;

    for (i = 0; i < NGX_HTTP_SEKISHO_LOCKED; i++) {
        if (ngx_http_sekisho_metrics_sh->locked[i].until > now) {
            n++;
        }
    }

    return n;
}


char *
ngx_http_sekisho_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_sekisho_metrics_handler;

    return NGX_CONF_OK;
}


/* the Prometheus text exposition format, version 0.0.4 */

static ngx_int_t
ngx_http_sekisho_metrics_handler(ngx_http_request_t *r)
{
    size_t                          size;
    ngx_int_t                       rc;
    ngx_buf_t                      *b;
    ngx_uint_t                      d, i;
    ngx_chain_t                     out;
    ngx_atomic_uint_t               v, cum;
    const ngx_str_t                *dn, *rn;
    ngx_http_sekisho_metrics_sh_t  *sh;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    sh = ngx_http_sekisho_metrics_sh;
    if (sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    size = 5120
           + NGX_HTTP_SEKISHO_DECISION_COUNT * NGX_HTTP_SEKISHO_REASON_COUNT
             * (64 + NGX_ATOMIC_T_LEN)
           + NGX_HTTP_SEKISHO_M_COUNT * (160 + NGX_ATOMIC_T_LEN)
           + 2 * NGX_HTTP_SEKISHO_REASON_COUNT * (80 + NGX_ATOMIC_T_LEN)
           + (NGX_HTTP_SEKISHO_BUCKETS + 4) * (96 + NGX_ATOMIC_T_LEN);

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last,
        "# HELP sekisho_requests_total Requests Sekisho decided on, by "
        "decision and reason.\n"
        "# TYPE sekisho_requests_total counter\n");

    for (d = 1; d < NGX_HTTP_SEKISHO_DECISION_COUNT; d++) {
        for (i = 1; i < NGX_HTTP_SEKISHO_REASON_COUNT; i++) {
            v = sh->requests[d][i];
            if (v == 0) {
                continue;
            }

            dn = ngx_http_sekisho_decision_name(d);
            rn = ngx_http_sekisho_reason_name(i);

            b->last = ngx_sprintf(b->last,
                          "sekisho_requests_total{decision=\"%V\","
                          "reason=\"%V\"} %uA\n", dn, rn, v);
        }
    }

    b->last = ngx_sprintf(b->last,
        "# HELP sekisho_logins_total Login attempts, by outcome.\n"
        "# TYPE sekisho_logins_total counter\n"
        "sekisho_logins_total{outcome=\"ok\"} %uA\n"
        "sekisho_logins_total{outcome=\"failed\"} %uA\n"
        "sekisho_logins_total{outcome=\"error\"} %uA\n"
        "sekisho_logins_total{outcome=\"locked\"} %uA\n"
        "sekisho_logins_total{outcome=\"unavailable\"} %uA\n"
        "sekisho_logins_total{outcome=\"refused\"} %uA\n",
        sh->requests[NGX_HTTP_SEKISHO_ALLOW]
                    [NGX_HTTP_SEKISHO_REASON_LOGIN_OK],
        sh->requests[NGX_HTTP_SEKISHO_ALLOW]
                    [NGX_HTTP_SEKISHO_REASON_LOGIN_FAILED],
        sh->requests[NGX_HTTP_SEKISHO_ALLOW]
                    [NGX_HTTP_SEKISHO_REASON_LOGIN_ERROR],
        sh->requests[NGX_HTTP_SEKISHO_DENY]
                    [NGX_HTTP_SEKISHO_REASON_ACCOUNT_LOCKED]
        + sh->requests[NGX_HTTP_SEKISHO_DENY]
                      [NGX_HTTP_SEKISHO_REASON_IP_LOCKED],
        sh->requests[NGX_HTTP_SEKISHO_DENY]
                    [NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE]
        + sh->requests[NGX_HTTP_SEKISHO_ALLOW]
                      [NGX_HTTP_SEKISHO_REASON_REDIS_UNAVAILABLE],
        /* requests the gateway could not read one way only */
        sh->requests[NGX_HTTP_SEKISHO_DENY]
                    [NGX_HTTP_SEKISHO_REASON_LOGIN_NO_ACCOUNT]
        + sh->requests[NGX_HTTP_SEKISHO_DENY]
                      [NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_BODY]
        + sh->requests[NGX_HTTP_SEKISHO_DENY]
                      [NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_CONTENT_TYPE]
        + sh->requests[NGX_HTTP_SEKISHO_DENY]
                      [NGX_HTTP_SEKISHO_REASON_LOGIN_BAD_ACCOUNT]);

    b->last = ngx_sprintf(b->last,
        "# HELP sekisho_jpki_verifications_total JPKI verifications, by use "
        "(login, signed_body) and result (ok or the refusal's reason).\n"
        "# TYPE sekisho_jpki_verifications_total counter\n");

    for (d = 0; d < 2; d++) {
        for (i = 1; i < NGX_HTTP_SEKISHO_REASON_COUNT; i++) {
            v = sh->jpki[d][i];
            if (v == 0) {
                continue;
            }

            rn = ngx_http_sekisho_reason_name(i);

            if (i == NGX_HTTP_SEKISHO_REASON_JPKI_LOGIN_OK
                || i == NGX_HTTP_SEKISHO_REASON_JPKI_SIGNED_BODY)
            {
                rn = &ngx_http_sekisho_ok;
            }

            b->last = ngx_sprintf(b->last,
                          "sekisho_jpki_verifications_total{use=\"%s\","
                          "result=\"%V\"} %uA\n",
                          d ? "signed_body" : "login", rn, v);
        }
    }

    b->last = ngx_sprintf(b->last,
        "# HELP sekisho_accounts_locked Accounts this gateway saw locked "
        "whose lock has not expired yet.\n"
        "# TYPE sekisho_accounts_locked gauge\n"
        "sekisho_accounts_locked %ui\n", ngx_http_sekisho_metrics_locked_now());

    for (i = 0; i < NGX_HTTP_SEKISHO_M_COUNT; i++) {
        b->last = ngx_sprintf(b->last, ngx_http_sekisho_counter_text[i],
                              sh->counters[i]);
    }

    b->last = ngx_sprintf(b->last,
        "# HELP sekisho_redis_command_duration_seconds Time from sending a "
        "Redis command to its answer.\n"
        "# TYPE sekisho_redis_command_duration_seconds histogram\n");

    cum = 0;

    for (i = 0; i < NGX_HTTP_SEKISHO_BUCKETS; i++) {
        cum += sh->redis_buckets[i];
        b->last = ngx_sprintf(b->last,
                      "sekisho_redis_command_duration_seconds_bucket"
                      "{le=\"%uL.%06uL\"} %uA\n",
                      ngx_http_sekisho_buckets[i] / 1000000,
                      ngx_http_sekisho_buckets[i] % 1000000, cum);
    }

    cum += sh->redis_buckets[NGX_HTTP_SEKISHO_BUCKETS];
    v = sh->redis_sum_us;

    b->last = ngx_sprintf(b->last,
        "sekisho_redis_command_duration_seconds_bucket{le=\"+Inf\"} %uA\n"
        "sekisho_redis_command_duration_seconds_sum %uA.%06uA\n"
        "sekisho_redis_command_duration_seconds_count %uA\n",
        cum, v / 1000000, v % 1000000, cum);

    if (sh->geoip_built) {
        b->last = ngx_sprintf(b->last,
            "# HELP sekisho_geoip_build_timestamp_seconds When the country "
            "database in use was built.\n"
            "# TYPE sekisho_geoip_build_timestamp_seconds gauge\n"
            "sekisho_geoip_build_timestamp_seconds %uA\n"
            "# HELP sekisho_geoip_load_timestamp_seconds When the country "
            "database in use was last loaded.\n"
            "# TYPE sekisho_geoip_load_timestamp_seconds gauge\n"
            "sekisho_geoip_load_timestamp_seconds %uA\n",
            sh->geoip_built, sh->geoip_loaded);
    }

    if (sh->geoip_built && sh->geoip_max_age) {
        b->last = ngx_sprintf(b->last,
            "# HELP sekisho_geoip_max_age_seconds The max_age of "
            "sekisho_geoip_db: an older database is stale.\n"
            "# TYPE sekisho_geoip_max_age_seconds gauge\n"
            "sekisho_geoip_max_age_seconds %uA\n", sh->geoip_max_age);
    }

    b->last = ngx_http_sekisho_metrics_state(r, sh, b->last);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Gauges of the gateway's dependencies, for alerts that do not wait
 * for traffic: Redis as the workers last found it, the CRLs' freshness.
 */

static u_char *
ngx_http_sekisho_metrics_state(ngx_http_request_t *r,
    ngx_http_sekisho_metrics_sh_t *sh, u_char *p)
{
    ngx_http_sekisho_main_conf_t  *mcf;

    mcf = ngx_http_sekisho_main_conf(r);

    if (mcf->redis) {
        p = ngx_sprintf(p,
            "# HELP sekisho_redis_up Whether Redis answered (1) or was "
            "unavailable (0) when a worker last changed its mind.\n"
            "# TYPE sekisho_redis_up gauge\n"
            "sekisho_redis_up %ui\n",
            (ngx_uint_t) (sh->redis_down ? 0 : 1));
    }

    /* a reload may have taken the CRLs away: their gauges go too */
    if (mcf->jpki.crl == NULL) {
        return p;
    }

    if (sh->crl_built) {
        p = ngx_sprintf(p,
            "# HELP sekisho_jpki_crl_build_timestamp_seconds When the CRLs "
            "in use were read.\n"
            "# TYPE sekisho_jpki_crl_build_timestamp_seconds gauge\n"
            "sekisho_jpki_crl_build_timestamp_seconds %L\n",
            sh->crl_built);
    }

    if (sh->crl_built && sh->crl_next_update) {
        p = ngx_sprintf(p,
            "# HELP sekisho_jpki_crl_next_update_timestamp_seconds The "
            "earliest nextUpdate of the CRLs in force: renew them before "
            "it.\n"
            "# TYPE sekisho_jpki_crl_next_update_timestamp_seconds gauge\n"
            "sekisho_jpki_crl_next_update_timestamp_seconds %L\n",
            sh->crl_next_update);
    }

    return p;
}
