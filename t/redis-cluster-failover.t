#!/usr/bin/perl

# The lockout on a Redis Cluster of three primaries, each with a
# replica (all with a password), when the primary of the {lockout}
# slot is killed (kill -9) under login traffic: the cluster promotes
# its replica, the gateway asks the other nodes where the slot lives
# now (MOVED) and goes on without a reload; a lock taken before the
# failover holds, failures after it count and lock.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $t = Sekisho::Test->new(workers => 2);

my $password = 'cluster-failover-password-5';
my @names = qw(n1 n2 n3 n4 n5 n6);

for my $n (@names) {
    $t->start_redis_node($n, password => $password,
        conf => "cluster-enabled yes\ncluster-config-file nodes.conf\n"
            . "cluster-node-timeout 1000\nmasterauth $password\n");
}

# redis-cli reads the password from its environment, not from argv
{
    local $ENV{REDISCLI_AUTH} = $password;
    my $out = `redis-cli --cluster create @{[ map { '127.0.0.1:' . $t->port("redis_$_") } @names ]} --cluster-replicas 1 --cluster-yes 2>&1`;
    is($?, 0, 'redis-cli --cluster create: three primaries, three replicas')
        or diag($out);
}

my %name_of = map { $t->port("redis_$_") => $_ } @names;

sub live { grep { $t->{nodes}{$_}{pid} } @names }

# every live node says the cluster is ok and names a live owner of
# every slot range
sub cluster_ok {
    my $end = time + 30;
    while (time < $end) {
        my $ok = grep {
            (eval { $t->redis_node($_, 'CLUSTER', 'INFO') } // '')
                =~ /cluster_state:ok/
        } live();
        return 1 if $ok == scalar(live());
        sleep 0.1;
    }
    return 0;
}

ok(cluster_ok(), 'the cluster is up');

my $slot = $t->redis_node('n1', 'CLUSTER', 'KEYSLOT', '{lockout}');

# the slot's primary and its replicas, as the live node $n sees them
sub owner {
    my ($n) = @_;
    for my $r (@{ $t->redis_node($n, 'CLUSTER', 'SLOTS') }) {
        next unless $r->[0] <= $slot && $slot <= $r->[1];
        return ($name_of{ $r->[2][1] },
            map { $name_of{ $_->[1] } } @$r[3 .. $#$r]);
    }
    return ();
}

# the replicas join after the cluster is made: until the slot's has,
# and is in sync
my ($old, @replicas);
my $end = time + 30;
while (time < $end) {
    ($old, @replicas) = owner('n1');
    last if @replicas && $t->redis_node($replicas[0], 'INFO', 'replication')
        =~ /master_link_status:up/;
    sleep 0.1;
}
ok($old && @replicas == 1,
    "slot $slot of {lockout}: $old, its replica @replicas in sync");

# the gateway: the seeds are three nodes, the slot's owner among them
my @seeds = ($old, grep { $_ ne $old && $_ ne $replicas[0] } @names)[0 .. 2];
$t->{ports}{"seed$_"} = $t->port("redis_$seeds[$_]") for 0 .. 2;

$t->start_upstream;
$t->write_file('lockout.key', "cluster-failover-key-0123456789\n");
$t->write_file('redis.pass', "$password\n");
chmod 0600, map { $t->dir . "/$_" } qw(lockout.key redis.pass);
$t->write_config(<<'EOF');
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis cluster=127.0.0.1:%%PORT_seed0%%,127.0.0.1:%%PORT_seed1%%,127.0.0.1:%%PORT_seed2%%
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
$t->run;

sub login {
    my ($user, %o) = @_;
    return http_status(http_post('/login',
        "user=$user&password=" . ($o{pass} || 'wrong'),
        port => $t->port(0),
        headers => { 'X-Forwarded-For' => $o{from} || '192.0.2.7' }));
}

sub failures {
    my ($user) = @_;
    return join(',', map { login($user) } 1 .. 4);
}

is(login('bob', pass => 'builder'), 200, 'a good login passes');
is(failures('alice'), '401,401,401,401', 'four failures of alice');
is(login('alice', pass => 'wonderland'), 429, 'alice locked');
is($t->redis_node($old, 'WAIT', 1, 5000), 1, 'the replica has the lock');

# logins go on while the slot's primary is killed

my $file = $t->dir . '/traffic.log';
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    open my $fh, '>', $file or POSIX::_exit(1);
    $fh->autoflush(1);
    my ($stop, $n) = (time + 6, 0);
    while (time < $stop) {
        $n++;
        print $fh login("traffic$n", from => '192.0.2.' . ($n % 200 + 1)),
            "\n";
    }
    POSIX::_exit(0);
}

sleep 1;
$t->stop_redis_node($old, 'KILL');

my $new = '';
$end = time + 30;
while (time < $end) {
    ($new) = eval { owner($replicas[0]) };
    last if $new && $new ne $old;
    sleep 0.1;
}
is($new, $replicas[0], "the cluster promotes $replicas[0] for the slot");
ok(cluster_ok(), 'and is ok again without the node killed');

waitpid($pid, 0);

# the gateway finds the slot's new primary by itself
my $back = 0;
$end = time + 30;
while (time < $end) {
    last if $back = (login('probe' . int(rand(1e9))) == 401);
    sleep 0.1;
}
ok($back, 'logins are checked again, without a reload');

my %c;
$c{$_}++ for split /\n/, $t->read_file($file);
ok($c{401}, 'logins were checked during the traffic') or diag(explain \%c);
is(join(',', grep { $_ != 401 && $_ != 429 && $_ != 503 } sort keys %c), '',
    'every login during the failover answered 401, 429 or 503')
    or diag(explain \%c);

is(login('alice', pass => 'wonderland'), 429,
    'alice, locked before the failover, still locked');
is(failures('dora'), '401,401,401,401', 'four failures of dora after it');
is(login('dora', pass => 'wonderland'), 429, 'dora locked');
ok(scalar(@{ $t->redis_node($new, 'CLUSTER', 'GETKEYSINSLOT', $slot, 100) }),
    "the counters are on $new");

my $log = $t->error_log;
my $oport = $t->port("redis_$old");
my $nport = $t->port("redis_$new");
like($log, qr/\[notice\].*sekisho: redis .*: 127\.0\.0\.1:$oport is down, its \d+ slots are asked of the other nodes/,
    'the node down loses its slots (logged)');
like($log, qr/\[notice\].*sekisho: redis .*: MOVED slot $slot to 127\.0\.0\.1:$nport/,
    'and the slot is found on the new primary through MOVED');
unlike($log, qr/\Q$password\E/, 'the password is never logged');

$t->done;
