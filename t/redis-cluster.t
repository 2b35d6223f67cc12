#!/usr/bin/perl

# The lockout on a Redis Cluster of three primaries (with a password):
# two gateways count and lock as on one server; the slot of {lockout}
# is moved to another node (SETSLOT MIGRATING/IMPORTING, MIGRATE,
# SETSLOT NODE) while logins go on, so that the gateways meet ASK,
# TRYAGAIN and MOVED: they follow them, and no count is lost.

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

    sekisho_redis cluster=127.0.0.1:%%PORT_redis_n1%%,127.0.0.1:%%PORT_redis_n2%%
                  timeout=1s password_file=%%TESTDIR%%/redis.pass;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        sekisho_lockout account attempts=4 window=5m lock=5m;

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

my $password = 'cluster-password-3';

my $t = Sekisho::Test->new;

for my $n (qw(n1 n2 n3)) {
    $t->start_redis_node($n, password => $password,
        conf => "cluster-enabled yes\ncluster-config-file nodes.conf\n"
            . "cluster-node-timeout 5000\nmasterauth $password\n");
}

# redis-cli reads the password from its environment, not from argv
{
    local $ENV{REDISCLI_AUTH} = $password;
    my $out = `redis-cli --cluster create @{[ map { '127.0.0.1:' . $t->port("redis_$_") } qw(n1 n2 n3) ]} --cluster-yes 2>&1`;
    is($?, 0, 'redis-cli --cluster create: three primaries') or diag($out);
}

sub cluster_ok {
    my $end = time + 30;
    while (time < $end) {
        my $ok = grep {
            (eval { $t->redis_node($_, 'CLUSTER', 'INFO') } // '')
                =~ /cluster_state:ok/
        } qw(n1 n2 n3);
        return 1 if $ok == 3;
        sleep 0.1;
    }
    return 0;
}

ok(cluster_ok(), 'the cluster is up');

my %name_of = map { $t->port("redis_$_") => $_ } qw(n1 n2 n3);
my $slot = $t->redis_node('n1', 'CLUSTER', 'KEYSLOT', '{lockout}');

sub owner {
    for my $r (@{ $t->redis_node('n1', 'CLUSTER', 'SLOTS') }) {
        return $name_of{ $r->[2][1] } if $r->[0] <= $slot && $slot <= $r->[1];
    }
    return '';
}

my $src = owner();
ok($src, "slot $slot of {lockout} is on $src");

# the gateways

my @gw;
for my $i (0, 1) {
    my $g = $i ? Sekisho::Test->new : $t;
    if ($i) {
        $g->{ports}{$_} = $t->port($_) for qw(redis_n1 redis_n2 upstream);
    } else {
        $t->start_upstream;
    }
    $g->write_file('lockout.key', "shared-key-of-both-gateways\n");
    $g->write_file('redis.pass', "$password\n");
    chmod 0600, map { $g->dir . "/$_" } qw(lockout.key redis.pass);
    $g->write_config($conf);
    $g->run;
    push @gw, $g;
}

sub login {
    my ($g, $user, %o) = @_;
    return http_status(http_post('/login',
        "user=$user&password=" . ($o{pass} || 'wrong'),
        port => $g->port(0),
        headers => { 'X-Forwarded-For' => $o{from} || '192.0.2.7' }));
}

sub failures {
    my ($user, $n) = @_;
    return join(',', map { login($gw[$_ % 2], $user) } 0 .. $n - 1);
}

sub keys_in_slot {
    my ($n) = @_;
    return @{ $t->redis_node($n, 'CLUSTER', 'GETKEYSINSLOT', $slot, 1000) };
}

is(login($gw[0], 'bob', pass => 'builder'), 200, 'a good login passes');
is(failures('alice', 4), '401,401,401,401', 'four failures of alice');
is(login($gw[0], 'alice', pass => 'wonderland'), 429,
    'alice locked (gateway 1)');
is(login($gw[1], 'alice', pass => 'wonderland'), 429,
    'alice locked (gateway 2)');
is(failures('carol', 2), '401,401', 'two failures of carol before the move');
ok(scalar(keys_in_slot($src)) > 0, "the counters are on $src");

# the slot moves while logins go on

my ($dst) = grep { $_ ne $src } qw(n1 n2 n3);
my %id = map { $_ => $t->redis_node($_, 'CLUSTER', 'MYID') } qw(n1 n2 n3);

my $file = $t->dir . '/traffic.log';
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    open my $fh, '>', $file or POSIX::_exit(1);
    $fh->autoflush(1);
    my ($end, $n) = (time + 4, 0);
    while (time < $end) {
        $n++;
        for my $i (0, 1) {
            print $fh login($gw[$i], "traffic$n",
                from => '192.0.2.' . ($n % 200 + 1)), "\n";
        }
    }
    POSIX::_exit(0);
}

sleep 0.5;
is($t->redis_node($dst, 'CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $id{$src}),
    'OK', "$dst imports the slot");
is($t->redis_node($src, 'CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $id{$dst}),
    'OK', "$src migrates it");

# a login whose keys are all new while the slot is open: ASK for sure
my $eve = fork;
die "fork: $!" unless defined $eve;
if ($eve == 0) {
    login($gw[0], 'eve', from => '198.51.100.1');
    POSIX::_exit(0);
}
sleep 1;

my $moved = 0;
for (1 .. 50) {
    my @k = keys_in_slot($src) or last;
    my $r = $t->redis_node($src, 'MIGRATE', '127.0.0.1',
        $t->port("redis_$dst"), '', 0, 5000, 'AUTH', $password, 'KEYS', @k);
    $moved += @k if $r eq 'OK';
}
ok($moved > 0, "MIGRATE moved the keys ($moved)");

for my $n ($dst, $src, grep { $_ ne $src && $_ ne $dst } qw(n1 n2 n3)) {
    is($t->redis_node($n, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $id{$dst}),
        'OK', "$n: the slot is $dst\'s");
}

waitpid($_, 0) for $pid, $eve;
is(owner(), $dst, "slot $slot is on $dst now");
is(scalar(keys_in_slot($src)), 0, "no key of the slot left on $src");

my %c;
$c{$_}++ for split /\n/, $t->read_file($file);
ok($c{401}, 'logins were checked during the move') or diag(explain \%c);
is(join(',', grep { $_ != 401 && $_ != 429 && $_ != 503 } sort keys %c), '',
    'every login during the move answered 401, 429 or 503')
    or diag(explain \%c);

# after the move: the same counts, on the new node

is(login($gw[1], 'alice', pass => 'wonderland'), 429,
    'alice, locked before the move, still locked (gateway 2)');
is(login($gw[0], 'alice', pass => 'wonderland'), 429,
    'and on gateway 1');
is(failures('carol', 2), '401,401', 'two more failures of carol after the move');
is(login($gw[0], 'carol', pass => 'wonderland'), 429,
    'carol locked: the failures before and after the move add up');
is(failures('dora', 4), '401,401,401,401', 'four failures of dora after the move');
is(login($gw[1], 'dora', pass => 'wonderland'), 429, 'dora locked');
ok(scalar(keys_in_slot($dst)) > 0, "the counters are on $dst");

# the gateways said what they followed

my $dport = $t->port("redis_$dst");
my $all = $gw[0]->error_log . $gw[1]->error_log;
like($all, qr/\[info\].*sekisho: redis .*: ASK slot $slot at 127\.0\.0\.1:$dport/,
    'ASK followed (logged at info)');
like($all, qr/\[notice\].*sekisho: redis .*: MOVED slot $slot to 127\.0\.0\.1:$dport/,
    'MOVED followed and remembered (logged at notice)');
unlike($all, qr/answered an error: (?:MOVED|ASK)/,
    'no MOVED or ASK was taken for an error');
unlike($all, qr/\Q$password\E/, 'the password is never logged');

$gw[1]->done_quiet;
$t->done;
