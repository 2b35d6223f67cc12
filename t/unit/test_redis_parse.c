
/*
 * Copyright (C) Sekisho authors
 *
 * Unit tests of what Redis Sentinel and Redis Cluster say: node
 * addresses, MOVED and ASK, +switch-master, +promoted-slave, address
 * lists and the hash slot of a key (with the values Redis's CLUSTER
 * KEYSLOT gives).
 *
 * uses: ngx_http_sekisho_redis_parse.c
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_sekisho_redis_parse.h"
#include "tap.h"


#define S(s)  (u_char *) s, sizeof(s) - 1


static void
test_addr(void)
{
    ngx_http_sekisho_redis_addr_t  a;

    is_int(ngx_http_sekisho_redis_parse_addr(S("127.0.0.1:6381"), &a),
           NGX_OK, "IPv4 address");
    is_str((char *) a.host, "127.0.0.1", "its host");
    is_int(a.port, 6381, "its port");

    is_int(ngx_http_sekisho_redis_parse_addr(S("::1:7001"), &a), NGX_OK,
           "IPv6 as Redis writes it");
    is_str((char *) a.host, "::1", "its host");
    is_int(a.port, 7001, "its port");

    is_int(ngx_http_sekisho_redis_parse_addr(S("[2001:db8::5]:26379"), &a),
           NGX_OK, "IPv6 in brackets");
    is_str((char *) a.host, "2001:db8::5", "its host");

    is_int(ngx_http_sekisho_redis_parse_addr(S("redis.example:6379"), &a),
           NGX_ERROR, "a name is refused (it would block the worker)");
    is_int(ngx_http_sekisho_redis_parse_addr(S("127.0.0.1"), &a), NGX_ERROR,
           "no port");
    is_int(ngx_http_sekisho_redis_parse_addr(S("127.0.0.1:"), &a), NGX_ERROR,
           "empty port");
    is_int(ngx_http_sekisho_redis_parse_addr(S("127.0.0.1:0"), &a),
           NGX_ERROR, "port 0");
    is_int(ngx_http_sekisho_redis_parse_addr(S("127.0.0.1:65536"), &a),
           NGX_ERROR, "port too large");
    is_int(ngx_http_sekisho_redis_parse_addr(S("127.0.0.1:63x9"), &a),
           NGX_ERROR, "port not a number");
    is_int(ngx_http_sekisho_redis_parse_addr(S(":6379"), &a), NGX_ERROR,
           "no host");
    is_int(ngx_http_sekisho_redis_parse_addr(S("999.0.0.1:6379"), &a),
           NGX_ERROR, "not an address");
}


static void
test_redirect(void)
{
    ngx_uint_t                     slot;
    ngx_http_sekisho_redis_addr_t  a;

    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("MOVED 3999 127.0.0.1:6381"), &slot, &a),
           NGX_HTTP_SEKISHO_REDIS_MOVED, "MOVED");
    is_int(slot, 3999, "its slot");
    is_str((char *) a.host, "127.0.0.1", "its host");
    is_int(a.port, 6381, "its port");

    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("ASK 16383 ::1:7002"), &slot, &a),
           NGX_HTTP_SEKISHO_REDIS_ASK, "ASK, IPv6");
    is_int(slot, 16383, "its slot, the last");
    is_str((char *) a.host, "::1", "its host");

    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("NOSCRIPT No matching script"), &slot, &a),
           NGX_DECLINED, "another error is no redirection");
    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("MOVEDX 1 127.0.0.1:1"), &slot, &a),
           NGX_DECLINED, "a longer word is no MOVED");
    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("MOVED 16384 127.0.0.1:6381"), &slot, &a),
           NGX_ERROR, "slot out of range");
    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("MOVED x 127.0.0.1:6381"), &slot, &a),
           NGX_ERROR, "slot not a number");
    is_int(ngx_http_sekisho_redis_parse_redirect(S("MOVED 1"), &slot, &a),
           NGX_ERROR, "no address");
    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("MOVED 1 127.0.0.1:6381 x"), &slot, &a),
           NGX_ERROR, "something after the address");
    is_int(ngx_http_sekisho_redis_parse_redirect(
               S("MOVED 1 node-a:6381"), &slot, &a),
           NGX_ERROR, "a host name (cluster-announce-hostname) is refused");
}


static void
test_switch(void)
{
    ngx_str_t                      m = ngx_string("mymaster");
    ngx_http_sekisho_redis_addr_t  from, to;

    is_int(ngx_http_sekisho_redis_parse_switch(
               S("mymaster 127.0.0.1 6380 127.0.0.1 6381"), &m, &from, &to),
           NGX_OK, "+switch-master of our master");
    is_str((char *) from.host, "127.0.0.1", "old host");
    is_int(from.port, 6380, "old port");
    is_str((char *) to.host, "127.0.0.1", "new host");
    is_int(to.port, 6381, "new port");

    is_int(ngx_http_sekisho_redis_parse_switch(
               S("other 127.0.0.1 6380 127.0.0.1 6381"), &m, &from, &to),
           NGX_DECLINED, "another master's switch is not ours");
    is_int(ngx_http_sekisho_redis_parse_switch(
               S("mymaster2 127.0.0.1 6380 127.0.0.1 6381"), &m, &from, &to),
           NGX_DECLINED, "a longer name is another master");
    is_int(ngx_http_sekisho_redis_parse_switch(
               S("mymaster 127.0.0.1 6380 127.0.0.1"), &m, &from, &to),
           NGX_ERROR, "a word missing");
    is_int(ngx_http_sekisho_redis_parse_switch(
               S("mymaster 127.0.0.1 6380 127.0.0.1 6381 x"), &m, &from,
               &to),
           NGX_ERROR, "a word too many");
    is_int(ngx_http_sekisho_redis_parse_switch(
               S("mymaster 127.0.0.1 6380 db.example 6381"), &m, &from, &to),
           NGX_ERROR, "a new master by name is refused");
    is_int(ngx_http_sekisho_redis_parse_switch(
               S("mymaster 127.0.0.1 6380 127.0.0.1 70000"), &m, &from, &to),
           NGX_ERROR, "bad port");
}


static void
test_promoted(void)
{
    ngx_str_t                      m = ngx_string("mymaster");
    ngx_http_sekisho_redis_addr_t  from, to;

    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("slave 127.0.0.1:35875 127.0.0.1 35875 @ mymaster "
                 "127.0.0.1 42611"), &m, &from, &to),
           NGX_OK, "+promoted-slave of our master");
    is_str((char *) to.host, "127.0.0.1", "the new master's host");
    is_int(to.port, 35875, "its port");
    is_int(from.port, 42611, "the old master's port");

    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("slave ::1:6381 ::1 6381 @ mymaster ::1 6380"), &m, &from,
               &to),
           NGX_OK, "IPv6");
    is_str((char *) to.host, "::1", "its host");

    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("slave 127.0.0.1:1 127.0.0.1 1 @ other 127.0.0.1 2"), &m,
               &from, &to),
           NGX_DECLINED, "another master's replica");
    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("master 127.0.0.1:1 127.0.0.1 1 @ mymaster 127.0.0.1 2"),
               &m, &from, &to),
           NGX_ERROR, "not a replica");
    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("slave 127.0.0.1:1 127.0.0.1 1 # mymaster 127.0.0.1 2"),
               &m, &from, &to),
           NGX_ERROR, "no @");
    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("slave 127.0.0.1:1 127.0.0.1 1 @ mymaster 127.0.0.1"),
               &m, &from, &to),
           NGX_ERROR, "a word missing");
    is_int(ngx_http_sekisho_redis_parse_promoted(
               S("slave r:1 redis.example 1 @ mymaster 127.0.0.1 2"),
               &m, &from, &to),
           NGX_ERROR, "a name, not an address");
}


static void
test_list(void)
{
    ngx_str_t   l, items[3];
    ngx_uint_t  n;

    ngx_str_set(&l, "127.0.0.1:26379,127.0.0.1:26380,[::1]:26381");
    is_int(ngx_http_sekisho_redis_split_list(&l, items, 3, &n), NGX_OK,
           "three addresses");
    is_int(n, 3, "three items");
    ok(items[1].len == 15
       && ngx_strncmp(items[1].data, "127.0.0.1:26380", 15) == 0,
       "the second one");
    ok(items[2].len == 11 && ngx_strncmp(items[2].data, "[::1]:26381", 11) == 0,
       "the last one");

    ngx_str_set(&l, "127.0.0.1:26379");
    is_int(ngx_http_sekisho_redis_split_list(&l, items, 3, &n), NGX_OK,
           "one address");
    is_int(n, 1, "one item");

    ngx_str_set(&l, "");
    is_int(ngx_http_sekisho_redis_split_list(&l, items, 3, &n), NGX_ERROR,
           "empty list");
    ngx_str_set(&l, "a:1,,b:2");
    is_int(ngx_http_sekisho_redis_split_list(&l, items, 3, &n), NGX_ERROR,
           "empty item");
    ngx_str_set(&l, "a:1,");
    is_int(ngx_http_sekisho_redis_split_list(&l, items, 3, &n), NGX_ERROR,
           "trailing comma");
    ngx_str_set(&l, "a:1,b:2,c:3,d:4");
    is_int(ngx_http_sekisho_redis_split_list(&l, items, 3, &n), NGX_ERROR,
           "too many");
}


static void
test_slot(void)
{
    /* redis-cli CLUSTER KEYSLOT ... */
    is_int(ngx_http_sekisho_redis_key_slot(S("foo")), 12182, "slot of foo");
    is_int(ngx_http_sekisho_redis_key_slot(S("123456789")), 12739,
           "slot of 123456789 (CRC16 XMODEM check value 0x31c3)");
    is_int(ngx_http_sekisho_redis_key_slot(S("{lockout}")),
           ngx_http_sekisho_redis_key_slot(S("lockout")),
           "the hash tag alone");
    is_int(ngx_http_sekisho_redis_key_slot(S("sekisho:{lockout}:a:1")),
           ngx_http_sekisho_redis_key_slot(S("gw:{lockout}:ip:2")),
           "lockout keys share their slot");
    is_int(ngx_http_sekisho_redis_key_slot(S("{}x")),
           ngx_http_sekisho_redis_key_slot(S("{}x")), "empty tag");
    ok(ngx_http_sekisho_redis_key_slot(S("{}x"))
       != ngx_http_sekisho_redis_key_slot(S("x")),
       "an empty tag hashes the whole key");
    is_int(ngx_http_sekisho_redis_key_slot(S("a{b}{c}")),
           ngx_http_sekisho_redis_key_slot(S("b")), "the first tag counts");
    is_int(ngx_http_sekisho_redis_key_slot(S("")), 0, "empty key");
}


int
main(void)
{
    test_addr();
    test_redirect();
    test_switch();
    test_promoted();
    test_list();
    test_slot();

    return done_testing();
}
