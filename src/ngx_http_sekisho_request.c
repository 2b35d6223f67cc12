
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_sekisho_request.h"


static ngx_uint_t ngx_http_sekisho_header_named(ngx_str_t *key,
    ngx_str_t *name, ngx_uint_t underscores);


/* a header by name (and value, if given), both without regard to case */

ngx_table_elt_t *
ngx_http_sekisho_find_header(ngx_list_t *headers, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        /* a header removed by a filter keeps its slot with hash 0 */
        if (h[i].hash == 0
            || h[i].key.len != name->len
            || ngx_strncasecmp(h[i].key.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (value == NULL
            || (h[i].value.len == value->len
                && ngx_strncasecmp(h[i].value.data, value->data,
                                   value->len) == 0))
        {
            return &h[i];
        }
    }
}


/*
 * How many headers have the name, without regard to case and, with
 * "underscores", with "_" for "-" (PHP and CGI read X_Account as
 * X-Account when underscores_in_headers is on); the first one found.
 */

ngx_uint_t
ngx_http_sekisho_count_headers(ngx_list_t *headers, ngx_str_t *name,
    ngx_uint_t underscores, ngx_table_elt_t **first)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    *first = NULL;

    for (part = &headers->part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0
                || !ngx_http_sekisho_header_named(&h[i].key, name,
                                                  underscores))
            {
                continue;
            }

            if (n++ == 0) {
                *first = &h[i];
            }
        }
    }

    return n;
}


static ngx_uint_t
ngx_http_sekisho_header_named(ngx_str_t *key, ngx_str_t *name,
    ngx_uint_t underscores)
{
    u_char      a, b;
    ngx_uint_t  i;

    if (key->len != name->len) {
        return 0;
    }

    for (i = 0; i < key->len; i++) {
        a = ngx_tolower(key->data[i]);
        b = ngx_tolower(name->data[i]);

        if (underscores) {
            a = (a == '_') ? '-' : a;
            b = (b == '_') ? '-' : b;
        }

        if (a != b) {
            return 0;
        }
    }

    return 1;
}


/* a header to the upstream, as if the client had sent it */

ngx_int_t
ngx_http_sekisho_push_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    /* Sekisho's own few header names: lower-cased and hashed once */
    static struct {
        char             *name;
        u_char            lowcase[48];
        ngx_uint_t        hash;
    }  known[12];

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(name);

    h->key.data = (u_char *) name;
    h->key.len = len;
    h->value = *value;

    for (i = 0; i < 12 && len < 48; i++) {
        if (known[i].name == NULL) {
            known[i].name = name;
            known[i].hash = ngx_hash_strlow(known[i].lowcase,
                                            (u_char *) name, len);
        }

        if (known[i].name == name) {
            h->lowcase_key = known[i].lowcase;
            h->hash = known[i].hash;
            return NGX_OK;
        }
    }

    h->lowcase_key = ngx_pnalloc(r->pool, len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, len);

    return NGX_OK;
}
