
/*
 * Copyright (C) Sekisho authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_conf.h"


/* written by ngx_http_sekisho_module.c when nginx creates the conf */
ngx_uint_t  ngx_http_sekisho_conf_index;
