
/*
 * Copyright (C) Sekisho authors
 *
 * libFuzzer target: what a Redis node or a Sentinel says that the
 * client reads itself: MOVED and ASK errors, +switch-master and
 * +promoted-slave messages, node addresses, and the hash slot of a key
 * (scripts/fuzz, make fuzz).  A redirection or a failover read from
 * any bytes must name a numeric address and a slot in range, or fail;
 * a failover is looked for of the master named "mymaster".
 *
 * uses: ngx_http_sekisho_redis_parse.c
 * libs:
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_redis_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check_addr(ngx_http_sekisho_redis_addr_t *a)
{
    /* a host the worker can connect to without a lookup, and a port */
    if (strnlen((char *) a->host, NGX_HTTP_SEKISHO_REDIS_HOSTLEN)
        == NGX_HTTP_SEKISHO_REDIS_HOSTLEN
        || a->port <= 0 || a->port > 65535)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                         *buf;
    ngx_str_t                       list, items[NGX_HTTP_SEKISHO_REDIS_MAX_NODES];
    ngx_str_t                       master = ngx_string("mymaster");
    ngx_int_t                       rc;
    ngx_uint_t                      slot, n;
    ngx_http_sekisho_redis_addr_t   a, b;

    /* a copy of the exact size, so that ASan sees any read past it */
    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);

    if (ngx_http_sekisho_redis_parse_addr(buf, size, &a) == NGX_OK) {
        check_addr(&a);
    }

    (void) ngx_http_sekisho_redis_parse_port(buf, size);

    rc = ngx_http_sekisho_redis_parse_redirect(buf, size, &slot, &a);
    if (rc == NGX_HTTP_SEKISHO_REDIS_MOVED || rc == NGX_HTTP_SEKISHO_REDIS_ASK)
    {
        check_addr(&a);
        if (slot >= NGX_HTTP_SEKISHO_REDIS_SLOTS) {
            abort();
        }
    }

    if (ngx_http_sekisho_redis_parse_switch(buf, size, &master, &a, &b)
        == NGX_OK)
    {
        check_addr(&a);
        check_addr(&b);
    }

    if (ngx_http_sekisho_redis_parse_promoted(buf, size, &master, &a, &b)
        == NGX_OK)
    {
        check_addr(&a);
        check_addr(&b);
    }

    list.data = buf;
    list.len = size;
    if (ngx_http_sekisho_redis_split_list(&list, items,
                                          NGX_HTTP_SEKISHO_REDIS_MAX_NODES,
                                          &n)
        == NGX_OK && n > NGX_HTTP_SEKISHO_REDIS_MAX_NODES)
    {
        abort();
    }

    if (ngx_http_sekisho_redis_key_slot(buf, size)
        >= NGX_HTTP_SEKISHO_REDIS_SLOTS)
    {
        abort();
    }

    free(buf);

    return 0;
}
