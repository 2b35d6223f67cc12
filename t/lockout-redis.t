#!/usr/bin/perl

# The lockout and its Redis: two gateways share one limit; Redis
# stopped, slowed, frozen or with its script cache flushed; the
# password read from a file.  No worker may crash or hang.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $conf = <<'EOF';
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=300ms
                  password_file=%%TESTDIR%%/redis.pass prefix=gw:;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        add_header X-Reason $sekisho_reason always;

        sekisho_lockout account attempts=4 window=1m lock=1m;

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /open/login {
            sekisho_login_account form:user;
            sekisho_redis_failure open;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

my $t = Sekisho::Test->new;
my $password = 'redis-test-password-42';

$t->start_redis(password => $password);
$t->start_upstream;
$t->write_file('lockout.key', "shared-key-of-both-gateways\n");
$t->write_file('redis.pass', "$password\n");
chmod 0600, map { $t->dir . "/$_" } qw(lockout.key redis.pass);
$t->write_config($conf);
$t->run;

# a second gateway: its own nginx, the same Redis, key and upstream
my $t2 = Sekisho::Test->new;
$t2->{ports}{redis} = $t->port('redis');
$t2->{ports}{upstream} = $t->port('upstream');
$t2->write_file('lockout.key', "shared-key-of-both-gateways\n");
$t2->write_file('redis.pass', "$password\n");
chmod 0600, map { $t2->dir . "/$_" } qw(lockout.key redis.pass);
$t2->write_config($conf);
$t2->run;

sub login {
    my ($gw, $user, %o) = @_;
    return http_post($o{uri} || '/login', "user=$user&password=" . ($o{pass} || 'wrong'),
        port => $gw->port(0),
        headers => { 'X-Forwarded-For' => $o{from} || '192.0.2.7' });
}

# two gateways, one limit

is(http_status(login($t, 'alice')), 401, 'gateway 1: failure 1');
is(http_status(login($t2, 'alice')), 401, 'gateway 2: failure 2');
is(http_status(login($t, 'alice')), 401, 'gateway 1: failure 3');
is(http_status(login($t2, 'alice')), 401, 'gateway 2: failure 4');
is(http_status(login($t, 'alice', pass => 'wonderland')), 429,
    'gateway 1 refuses after failures on both');
is(http_status(login($t2, 'alice', pass => 'wonderland')), 429,
    'gateway 2 refuses too');

# the script cache flushed (as after a restart or failover)

is($t->redis('SCRIPT', 'FLUSH'), 'OK', 'script cache flushed');
my $r = login($t, 'bob', pass => 'builder');
is(http_status($r), 200, 'after SCRIPT FLUSH the login still works');
is(http_header($r, 'X-Reason'), 'login_ok', 'and is settled');
is(http_status(login($t, 'bob')), 401, 'and failures still count');

# Redis slowed: other locations answer while it sleeps, logins time out

my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    eval { $t->redis('DEBUG', 'SLEEP', '2') };
    POSIX::_exit(0);
}
sleep 0.3;

$r = http_get('/page', port => $t->port(0));
is(http_status($r), 200, 'Redis asleep: a non-login location answers');
is(waitpid($pid, POSIX::WNOHANG()), 0,
    'and it answered while Redis was still asleep');

$r = login($t, 'carol');
is(http_status($r), 503, 'Redis asleep: the login times out with 503');
is(http_header($r, 'X-Reason'), 'redis_unavailable', 'reason redis_unavailable');
ok(defined http_header($r, 'Retry-After'), '503 carries Retry-After');
like(http_body($r), qr/Login cannot be accepted right now/, 'bilingual 503 page');

is(http_status(login($t, 'carol', uri => '/open/login')), 401,
    'Redis asleep, "open": the login goes to the upstream');

waitpid($pid, 0);

sub recovers {
    my ($gw) = @_;
    my $end = time + 8;
    while (time < $end) {
        my $s = http_status(login($gw, 'dora', pass => 'x'));
        return 1 if $s == 401;
        sleep 0.25;
    }
    return 0;
}

ok(recovers($t), 'Redis awake again: logins are checked again');

# Redis stopped

my $redis_port = $t->port('redis');
$t->stop_redis;

$r = login($t, 'erin');
is(http_status($r), 503, 'Redis stopped: 503 under "closed"');
is(http_header($r, 'X-Reason'), 'redis_unavailable', 'reason redis_unavailable');

$r = login($t, 'erin', uri => '/open/login');
is(http_status($r), 401, 'Redis stopped: "open" lets the login through');
is(http_header($r, 'X-Reason'), 'redis_unavailable',
    'and records that Redis was unavailable');

is(http_status(http_get('/page', port => $t->port(0))), 200,
    'Redis stopped: other locations unaffected');

# many logins while Redis is down: all answered, none hangs
my @replies = http_parallel([ map {
    Sekisho::Test::post_request('/login', "user=u$_&password=x",
        headers => { 'X-Forwarded-For' => '192.0.2.9' })
} 1 .. 20 ], port => $t->port(0));
is(join(',', grep { $_ != 503 } map { http_status($_) } @replies), '',
    'twenty logins during the outage: each answered 503');

$t->start_redis(password => $password, port => $redis_port);
ok(recovers($t), 'Redis back: gateway 1 recovers by itself');
ok(recovers($t2), 'Redis back: gateway 2 recovers by itself');

# Redis frozen (SIGSTOP): the connection stalls, commands time out

kill 'STOP', $t->{redis_pid};
$r = login($t, 'fred');
is(http_status($r), 503, 'Redis frozen: 503 after the timeout');
kill 'CONT', $t->{redis_pid};
ok(recovers($t), 'Redis thawed: logins are checked again');

# the logs

$t->stop;
$t2->stop;

my $log = $t->error_log;
like($log, qr/\[error\].*sekisho: redis 127\.0\.0\.1:\d+ unavailable/,
    'outage logged as an error');
like($log, qr/\[notice\].*sekisho: redis 127\.0\.0\.1:\d+ recovered/,
    'recovery logged');
like($log, qr/\[warn\].*login let through unchecked \(sekisho_redis_failure open\)/,
    '"open" says so in the log');
unlike($log . $t2->error_log, qr/\Q$password\E/, 'the password is never logged');

$t2->done_quiet;
$t->done;
