
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_secret.h"


#define NGX_HTTP_SEKISHO_SECRET_MAX  4096


/*
 * Reads the whole file, less a trailing newline, at configuration time
 * (as root, before workers drop privileges).  Errors name the directive
 * being parsed and the file, never the content.
 */

ngx_int_t
ngx_http_sekisho_read_secret(ngx_conf_t *cf, ngx_str_t *file, size_t min,
    ngx_str_t *secret)
{
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         name;
    ngx_file_info_t   fi;

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read secret file \"%V\"", &name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read secret file \"%V\"", &name);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > NGX_HTTP_SEKISHO_SECRET_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%V\" is larger than %uz bytes",
                           &name, (size_t) NGX_HTTP_SEKISHO_SECRET_MAX);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    if (fi.st_mode & (S_IRWXG|S_IRWXO)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "secret file \"%V\" can be read by other users "
                           "than its owner", &name);
    }

    secret->data = ngx_pnalloc(cf->pool, size + 1);
    if (secret->data == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = size ? ngx_read_fd(fd, secret->data, size) : 0;
    ngx_close_file(fd);

    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read secret file \"%V\"", &name);
        return NGX_ERROR;
    }

    /* a trailing newline is not part of the secret */
    while (n && (secret->data[n - 1] == LF || secret->data[n - 1] == CR)) {
        n--;
    }

    if ((size_t) n < min) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%V\" must hold at least %uz bytes",
                           &name, min);
        return NGX_ERROR;
    }

    secret->len = n;

    return NGX_OK;
}
