
/*
 * Copyright (C) Sekisho authors
 *
 * hiredis's asynchronous connections on nginx's event loop: a context
 * is opened without blocking (numeric addresses only) and its socket
 * watched by nginx's events; hiredis closes the socket, nginx only
 * forgets it.
 */


#ifndef _NGX_HTTP_SEKISHO_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_SEKISHO_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/async.h>
#include "ngx_http_sekisho_redis_parse.h"


/*
 * host and port, or unix_path; NULL on failure, with the reason in
 * "err".  The caller sets ac->data and the connect and disconnect
 * callbacks.
 */
redisAsyncContext *ngx_http_sekisho_redis_open(u_char *host, int port,
    u_char *unix_path, ngx_log_t *log, const char **err);

/*
 * A comma-separated list of host:port, resolved at configuration time
 * (the workers never resolve); an error names "what" and the directive.
 */
char *ngx_http_sekisho_redis_resolve(ngx_conf_t *cf, ngx_str_t *list,
    in_port_t default_port, const char *what,
    ngx_http_sekisho_redis_addr_t **addrs, ngx_uint_t *n);


#endif /* _NGX_HTTP_SEKISHO_REDIS_CONN_H_INCLUDED_ */
