
/*
 * Copyright (C) Sekisho authors
 *
 * Secrets (passwords, HMAC keys) are read from files named in the
 * configuration, never written in nginx.conf, and never logged.
 */


#ifndef _NGX_HTTP_SEKISHO_SECRET_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_SECRET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_sekisho_read_secret(ngx_conf_t *cf, ngx_str_t *file,
    size_t min, ngx_str_t *secret);


#endif /* _NGX_HTTP_SEKISHO_SECRET_H_INCLUDED_ */
