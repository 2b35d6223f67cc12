
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_redis_conf.h"
#include "ngx_http_sekisho_redis_conn.h"
#include "ngx_http_sekisho_secret.h"


static char *ngx_http_sekisho_redis_conf_check(ngx_conf_t *cf,
    ngx_http_sekisho_redis_conf_t *rd, ngx_str_t *addr, ngx_str_t *sentinel,
    ngx_str_t *cluster, ngx_str_t *master, ngx_str_t *spass);


/*
 * sekisho_redis <host:port | unix:path
 *                | sentinel=host:port[,...] master=name
 *                | cluster=host:port[,...]>
 *               [db=N] [password_file=file] [sentinel_password_file=file]
 *               [timeout=time] [prefix=str];
 *
 * Host names are resolved here, at configuration time, because hiredis
 * would resolve them with a blocking getaddrinfo() in the worker.
 */

char *
ngx_http_sekisho_redis_conf_parse(ngx_conf_t *cf,
    ngx_http_sekisho_redis_conf_t *rd)
{
    ngx_int_t                  n;
    ngx_str_t                 *value, s, file, addr, sentinel, cluster,
                               master, spass;
    ngx_uint_t                 i;

    value = cf->args->elts;

    rd->timeout = 200;
    ngx_str_set(&rd->prefix, "sekisho:");

    ngx_str_null(&addr);
    ngx_str_null(&sentinel);
    ngx_str_null(&cluster);
    ngx_str_null(&master);
    ngx_str_null(&spass);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            sentinel.data = value[i].data + 9;
            sentinel.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            master.data = value[i].data + 7;
            master.len = value[i].len - 7;

            if (master.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "cluster=", 8) == 0) {
            cluster.data = value[i].data + 8;
            cluster.len = value[i].len - 8;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 65535) {
                goto invalid;
            }

            rd->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rd->timeout = ngx_parse_time(&s, 0);
            if (rd->timeout == (ngx_msec_t) NGX_ERROR || rd->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rd->prefix.data = value[i].data + 7;
            rd->prefix.len = value[i].len - 7;

            /* braces would break the {hash tag} of the keys */
            if (rd->prefix.len == 0
                || ngx_strlchr(rd->prefix.data,
                               rd->prefix.data + rd->prefix.len, '{')
                || ngx_strlchr(rd->prefix.data,
                               rd->prefix.data + rd->prefix.len, '}'))
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            file.data = value[i].data + 14;
            file.len = value[i].len - 14;

            if (ngx_http_sekisho_read_secret(cf, &file, 1, &rd->password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_password_file=", 23) == 0) {
            file.data = value[i].data + 23;
            file.len = value[i].len - 23;

            if (ngx_http_sekisho_read_secret(cf, &file, 1, &spass)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            if (spass.len == 0) {
                goto invalid;
            }

            continue;
        }

        /* the address comes first, and is no "name=value" */
        if (i == 1
            && (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')
                == NULL
                || ngx_strncmp(value[i].data, "unix:", 5) == 0))
        {
            addr = value[i];
            continue;
        }

        goto invalid;
    }

    if (ngx_http_sekisho_redis_conf_check(cf, rd, &addr, &sentinel, &cluster,
                                          &master, &spass)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"sekisho_redis\" "
                       "directive", &value[i]);

    return NGX_CONF_ERROR;
}


/* one way to reach Redis, and the parameters that belong to it */

static char *
ngx_http_sekisho_redis_conf_check(ngx_conf_t *cf,
    ngx_http_sekisho_redis_conf_t *rd,
    ngx_str_t *addr, ngx_str_t *sentinel, ngx_str_t *cluster,
    ngx_str_t *master, ngx_str_t *spass)
{
    u_char      *p;
    ngx_str_t    list;
    ngx_uint_t   ways;
    const char  *err;

    ways = (addr->data != NULL) + (sentinel->data != NULL)
           + (cluster->data != NULL);

    err = NULL;

    if (ways == 0) {
        err = "needs an address, \"sentinel=\" or \"cluster=\"";

    } else if (ways > 1) {
        err = "takes only one of an address, \"sentinel=\" and \"cluster=\"";

    } else if (sentinel->data && master->data == NULL) {
        err = "needs \"master=\" with \"sentinel=\"";

    } else if (master->data && sentinel->data == NULL) {
        err = "takes \"master=\" only with \"sentinel=\"";

    } else if (spass->data && sentinel->data == NULL) {
        err = "takes \"sentinel_password_file=\" only with \"sentinel=\"";

    } else if (cluster->data && rd->db) {
        err = "takes no \"db=\" with \"cluster=\": Redis Cluster has db 0 only";
    }

    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sekisho_redis\" directive %s", err);
        return NGX_CONF_ERROR;
    }

    if (sentinel->data) {
        rd->mode = NGX_HTTP_SEKISHO_REDIS_SENTINEL;
        rd->name = *master;

        return ngx_http_sekisho_redis_sentinel_conf(cf, &rd->sentinel,
                                                    sentinel, master, spass,
                                                    rd->timeout);
    }

    if (cluster->data) {
        rd->mode = NGX_HTTP_SEKISHO_REDIS_CLUSTER;
        rd->name = *cluster;

        if (ngx_http_sekisho_redis_resolve(cf, cluster, 0, "Redis Cluster",
                                           &rd->seeds, &rd->nseeds)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    rd->name = *addr;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        rd->unix_path = ngx_pnalloc(cf->pool, addr->len - 5 + 1);
        if (rd->unix_path == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(rd->unix_path, addr->data + 5, addr->len - 5);
        *p = '\0';

        return NGX_CONF_OK;
    }

    list = *addr;

    if (ngx_strlchr(list.data, list.data + list.len, ',')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\" in \"sekisho_redis\" "
                           "directive", addr);
        return NGX_CONF_ERROR;
    }

    rd->nseeds = 1;

    if (ngx_http_sekisho_redis_resolve(cf, &list, 6379, "Redis", &rd->seeds,
                                       &rd->nseeds)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    rd->addr = rd->seeds[0];

    return NGX_CONF_OK;
}
