#!/usr/bin/perl

# Redis over a UNIX socket, in a database other than 0.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;

$t->start_redis(unix => 1);
$t->start_upstream;
$t->write_file('lockout.key', "unix-socket-test-key-123\n");
chmod 0600, $t->dir . '/lockout.key';

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_redis unix:%%TESTDIR%%/redis/redis.sock db=3 prefix=intake:;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        sekisho_lockout account attempts=2;
        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

sub login {
    return http_status(http_post('/login', "user=$_[0]&password=$_[1]",
        port => $t->port(0)));
}

is(login('alice', 'bad'), 401, 'over a UNIX socket: failure 1');
is(login('alice', 'bad'), 401, 'failure 2');
is(login('alice', 'wonderland'), 429, 'locked');

is(scalar @{ $t->redis('KEYS', '*') }, 0, 'nothing in database 0');
$t->{redis_db} = 3;
my $keys = $t->redis('KEYS', '*');
ok(scalar @$keys, 'the keys are in database 3');
is(join(',', grep { !/^intake:\{lockout\}:/ } @$keys), '',
    'with the configured prefix');

$t->done;
