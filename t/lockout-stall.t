#!/usr/bin/perl

# A Redis that stalls must not lock out an honest applicant, and must
# not lose a failure.  Each scenario gives an account three wrong
# passwords (the limit is four), then stalls Redis while a login waits
# for its reservation: frozen with SIGSTOP beyond the timeout, asleep
# in DEBUG SLEEP, its connection killed (CLIENT KILL) with a
# reservation or a settlement on the wire, and a client that leaves
# while its login waits.  Afterwards no reservation is left pending, the
# three failures are still counted, and the right password logs in.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256_hex);
use IO::Socket::IP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $KEY = 'stall-test-key-0123456789abcdef';

my $t = Sekisho::Test->new;

$t->start_redis;
$t->start_upstream;
# a gateway that gives Redis 300 ms, and a patient one (3 s) for the
# stalls that must be waited out
sub gateway {
    my ($gw, $timeout) = @_;
    $gw->write_file('lockout.key', "$KEY\n");
    chmod 0600, $gw->dir . '/lockout.key';
    $gw->write_config(<<"EOF");
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=$timeout;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        add_header X-Reason \$sekisho_reason always;

        sekisho_lockout account attempts=4 window=1h lock=1h;

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
    $gw->run;
}

my $t2 = Sekisho::Test->new;
$t2->{ports}{redis} = $t->port('redis');
$t2->{ports}{upstream} = $t->port('upstream');

gateway($t, '300ms');
gateway($t2, '3s');

sub key {
    my ($account, $kind) = @_;
    return 'sekisho:{lockout}:a:' . hmac_sha256_hex("a:$account", $KEY)
        . ":$kind";
}

sub login {
    my ($gw, $user, $pass, %o) = @_;
    return http_post('/login', "user=$user&password=$pass",
        port => $gw->port(0), timeout => 15, %o);
}

sub three_failures {
    my ($user) = @_;
    is_deeply([ map { http_status(login($t, $user, "wrong$_")) } 1 .. 3 ],
        [401, 401, 401], "$user: three wrong passwords");
}

# in the background: a command to Redis that blocks it
sub in_background {
    my ($code) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        eval { $code->() };
        POSIX::_exit(0);
    }
    return $pid;
}

# the gateway reconnects after a backoff that grew during the stall
sub recovers {
    my ($gw) = @_;
    for (1 .. 60) {
        my $status = http_status(login($gw, 'dora', 'x'));
        return 1 if $status == 401 || $status == 429;
        sleep 0.1;
    }
    return 0;
}

sub settled {
    my ($user, $what) = @_;

    ok(recovers($t) && recovers($t2), "$what: the gateways reach Redis again");

    # a refund kept for Redis's return is sent within about a second
    my $pending;
    for (1 .. 40) {
        $pending = $t->redis('ZCARD', key($user, 'p'));
        last if $pending == 0;
        sleep 0.1;
    }

    is($pending, 0, "$what: no reservation of $user is left pending");
    is($t->redis('ZCARD', key($user, 'f')), 3,
        "$what: the three failures before it still count");

    my $r = login($t, $user, 'wonderland');
    is(http_status($r), 200, "$what: the right password then logs in")
        or diag(http_header($r, 'X-Reason'));
}

# Redis frozen (SIGSTOP) beyond the timeout: the reservation waits in
# its socket and runs when Redis is thawed, after the gateway answered

three_failures('alice');
kill 'STOP', $t->{redis_pid};
my $r = login($t, 'alice', 'wonderland');
is(http_status($r), 503, 'SIGSTOP: the login waiting for Redis gets 503');
is(http_header($r, 'X-Reason'), 'redis_unavailable', 'reason redis_unavailable');
sleep 0.5;
kill 'CONT', $t->{redis_pid};
settled('alice', 'SIGSTOP');

# the same, but the gateway stops before Redis is thawed, so that no
# refund will ever come: the late script itself must refuse to reserve

{
    my $t3 = Sekisho::Test->new;
    $t3->{ports}{redis} = $t->port('redis');
    $t3->{ports}{upstream} = $t->port('upstream');
    gateway($t3, '300ms');

    $t->redis('DEL', key('carol', 'f'));
    is(http_status(login($t3, 'carol', 'wrong1')), 401, 'carol: a wrong password');
    kill 'STOP', $t->{redis_pid};
    is(http_status(login($t3, 'carol', 'singer')), 503,
        'SIGSTOP, then the gateway stops: the login gets 503');
    $t3->stop_nginx;
    kill 'CONT', $t->{redis_pid};
    sleep 0.3;
    is($t->redis('ZCARD', key('carol', 'p')), 0,
        'the reservation that ran after its deadline reserved nothing');
    is($t->redis('ZCARD', key('carol', 'f')), 1, 'the failure before it counts');
    like($t3->error_log, qr/not settled in Redis when the worker exited/,
        'the stopped gateway said what it could not settle');
    $t3->{crashes} = [];
    $t3->done_quiet;
}

# DEBUG SLEEP beyond the timeout

$t->redis('DEL', key('alice', 'f'));
three_failures('alice');
my $pid = in_background(sub { $t->redis('DEBUG', 'SLEEP', '1.8') });
sleep 0.2;
$r = login($t, 'alice', 'wonderland');
is(http_status($r), 503, 'DEBUG SLEEP: the login waiting for Redis gets 503');
waitpid($pid, 0);
settled('alice', 'DEBUG SLEEP');

# the client leaves while its login waits (a patient gateway: the
# reservation is answered after the request has gone)

$t->redis('DEL', key('alice', 'f'));
three_failures('alice');
$pid = in_background(sub { $t->redis('DEBUG', 'SLEEP', '1') });
sleep 0.2;
{
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1',
        PeerPort => $t2->port(0)) or die "connect: $@";
    print $s Sekisho::Test::post_request('/login',
        'user=alice&password=wrong-and-gone');
    sleep 0.3;
    close $s;
}
waitpid($pid, 0);
settled('alice', 'a client that left');

# CLIENT KILL of the gateway's connection with its reservation held by
# CLIENT PAUSE WRITE: the script never runs, the request is answered 503

sub status_to_file {
    my ($file, $code) = @_;
    my $r = $code->();
    open my $fh, '>', $t->dir . "/$file";
    print $fh http_status($r);
    close $fh;
}

$t->redis('DEL', key('alice', 'f'));
three_failures('alice');
ok(recovers($t2), 'the patient gateway is connected');
$t->redis('CLIENT', 'PAUSE', '3000', 'WRITE');
my $login = in_background(sub {
    status_to_file('paused.status', sub { login($t2, 'alice', 'wrong-paused') });
});
sleep 0.3;
$t->redis('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
waitpid($login, 0);
$t->redis('CLIENT', 'UNPAUSE');
is($t->read_file('paused.status'), '503',
    'CLIENT KILL before the reservation ran: the login gets 503');
settled('alice', 'CLIENT KILL of a held reservation');

# CLIENT KILL of a settlement held the same way: it is sent again when
# Redis answers again, and the failure is counted once

$t->redis('DEL', key('alice', 'f'));
is_deeply([ map { http_status(login($t, 'alice', "wrong$_")) } 1 .. 2 ],
    [401, 401], 'alice: two wrong passwords');
ok(recovers($t2), 'the patient gateway is connected');
$login = in_background(sub {
    status_to_file('settle.status', sub {
        login($t2, 'alice', 'wrong-third', headers => { 'X-Delay' => '0.6' })
    });
});
sleep 0.3;
$t->redis('CLIENT', 'PAUSE', '3000', 'WRITE');
sleep 0.6;
$t->redis('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
waitpid($login, 0);
$t->redis('CLIENT', 'UNPAUSE');
is($t->read_file('settle.status'), '401',
    'the application answered the third wrong password');
settled('alice', 'CLIENT KILL of a held settlement');

# CLIENT KILL racing a reservation that Redis runs as it wakes: if the
# script ran first, its answer was lost or not, and either way nothing
# stays pending and a fourth failure counts once

$t->redis('DEL', key('alice', 'f'));
three_failures('alice');
ok(recovers($t2), 'the patient gateway is connected');
$pid = in_background(sub { $t->redis('DEBUG', 'SLEEP', '1') });
sleep 0.2;
$login = in_background(sub {
    status_to_file('race.status', sub { login($t2, 'alice', 'wrong-race') });
});
sleep 0.2;
$t->redis('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
waitpid($pid, 0);
waitpid($login, 0);

my $race = $t->read_file('race.status');
like($race, qr/^(503|401)$/, "CLIENT KILL racing a reservation: answered ($race)");
ok(recovers($t) && recovers($t2), 'the race: the gateways reach Redis again');

my $pending;
for (1 .. 40) {
    $pending = $t->redis('ZCARD', key('alice', 'p'));
    last if $pending == 0;
    sleep 0.1;
}
is($pending, 0, 'the race: nothing is left pending');

if ($race eq '401') {
    is($t->redis('EXISTS', key('alice', 'l')), 1,
        'the race, the script first: the fourth failure locked the account');
} else {
    is($t->redis('ZCARD', key('alice', 'f')), 3,
        'the race, the kill first: the three failures still count');
}

$t2->done_quiet;

my $log = $t->error_log . $t2->error_log;
like($log, qr/is kept until Redis answers again/,
    'a settlement kept for Redis is said in the log');

$t->done;
