#!/usr/bin/perl

# The lockout on Redis Sentinel: a primary, two replicas and three
# Sentinels, all with passwords; two gateways send logins while the
# primary is failed over (SENTINEL FAILOVER), then killed (kill -9).
# Locks taken before a switch hold after it, failures after it count,
# no command is ever written to a replica, the gateways follow without
# a reload, and Redis down and back are alerted once each way.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::IP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $conf = <<'EOF';
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis sentinel=127.0.0.1:%%PORT_redis_s1%%,127.0.0.1:%%PORT_redis_s2%%,127.0.0.1:%%PORT_redis_s3%%
                  master=mymaster timeout=500ms
                  password_file=%%TESTDIR%%/redis.pass
                  sentinel_password_file=%%TESTDIR%%/sentinel.pass;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    sekisho_alert syslog:server=127.0.0.1:%%PORT_syslog%%,facility=local4,tag=gw;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        add_header X-Reason $sekisho_reason always;

        sekisho_lockout account attempts=4 window=5m lock=5m;

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

my $password = 'data-node-password-7';
my $spassword = 'sentinel-password-9';

my $t = Sekisho::Test->new;

# the data nodes: p the primary, r1 and r2 its replicas; s1-s3 Sentinels
$t->start_sentinel_set(password => $password,
    sentinel_password => $spassword, down_after => 1000,
    failover_timeout => 4000);

my %name_of = map { $t->port("redis_$_") => $_ } qw(p r1 r2);

sub master {
    for my $s (qw(s1 s2 s3)) {
        my $r = eval { $t->redis_node($s, 'SENTINEL',
            'get-master-addr-by-name', 'mymaster') };
        return $name_of{ $r->[1] } if ref $r;
    }
    return '';
}

sub replicas_of {
    my ($m) = @_;
    return grep { $_ ne $m && $t->{nodes}{$_}{pid} } qw(p r1 r2);
}

# every Sentinel sees the live replicas as replicas, and the other two
# Sentinels
sub sentinels_agree {
    my $end = time + 30;
    while (time < $end) {
        my $ok = 0;
        my $want = scalar replicas_of(master());
        for my $s (qw(s1 s2 s3)) {
            my $r = eval { $t->redis_node($s, 'SENTINEL', 'replicas',
                'mymaster') };
            my $o = eval { $t->redis_node($s, 'SENTINEL', 'sentinels',
                'mymaster') };
            my $up = ref $r
                ? grep { my %h = @$_; $h{flags} eq 'slave' } @$r : 0;
            $ok++ if $up >= $want && ref $o && @$o == 2;
        }
        return 1 if $ok == 3;
        sleep 0.2;
    }
    return 0;
}

ok(sentinels_agree(), 'three Sentinels watch the primary and two replicas');
is(master(), 'p', 'p is the primary');

# the gateways

my @syslog;
my @gw;
for my $i (0, 1) {
    my $g = $i ? Sekisho::Test->new : $t;
    $syslog[$i] = IO::Socket::IP->new(LocalHost => '127.0.0.1',
        LocalPort => 0, Proto => 'udp') or die "udp: $@";
    $g->{ports}{syslog} = $syslog[$i]->sockport;
    if ($i) {
        $g->{ports}{$_} = $t->port($_)
            for qw(redis_s1 redis_s2 redis_s3 upstream);
    } else {
        $t->start_upstream;
    }
    $g->write_file('lockout.key', "shared-key-of-both-gateways\n");
    $g->write_file('redis.pass', "$password\n");
    $g->write_file('sentinel.pass', "$spassword\n");
    chmod 0600, map { $g->dir . "/$_" }
        qw(lockout.key redis.pass sentinel.pass);
    $g->write_config($conf);
    $g->run;
    push @gw, $g;
}

my @alerts = ([], []);

sub read_alerts {
    for my $i (0, 1) {
        my $sel = IO::Select->new($syslog[$i]);
        while ($sel->can_read(0.01)) {
            my $m;
            $syslog[$i]->recv($m, 4096);
            push @{ $alerts[$i] }, $1
                if $m =~ / (redis_unavailable|redis_recovered) \[/;
        }
    }
}

sub login {
    my ($g, $user, %o) = @_;
    return http_status(http_post('/login',
        "user=$user&password=" . ($o{pass} || 'wrong'),
        port => $g->port(0),
        headers => { 'X-Forwarded-For' => $o{from} || '192.0.2.7' }));
}

# four failures, on both gateways in turn
sub lock_account {
    my ($user) = @_;
    return join(',', map { login($gw[$_ % 2], $user) } 0 .. 3);
}

# logins on both gateways until each answers 401 again (Redis asked)
sub recovers {
    my $end = time + 30;
    my %ok;
    while (time < $end && keys %ok < 2) {
        for my $i (0, 1) {
            $ok{$i} = 1 if login($gw[$i], 'probe' . int(rand(1e9))) == 401;
        }
        read_alerts();
        sleep 0.1;
    }
    return keys %ok == 2;
}

# login traffic on both gateways in a child, each answer written down
sub traffic {
    my ($file, $seconds) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    return $pid if $pid;
    open my $fh, '>', $file or POSIX::_exit(1);
    $fh->autoflush(1);
    my ($end, $n) = (time + $seconds, 0);
    while (time < $end) {
        $n++;
        for my $i (0, 1) {
            my $s = login($gw[$i], "traffic$n",
                from => '192.0.2.' . ($n % 200 + 1));
            print $fh "$i $s\n";
        }
    }
    close $fh;
    POSIX::_exit(0);
}

sub traffic_statuses {
    my ($file) = @_;
    my %c;
    for (split /\n/, $t->read_file($file)) {
        my (undef, $s) = split / /;
        $c{$s}++;
    }
    return \%c;
}

# scripts run on a node since its last CONFIG RESETSTAT: only a client
# sends them (a replica applies a script's effects, not the script)
sub evals_on {
    my ($n) = @_;
    my $info = $t->redis_node($n, 'INFO', 'commandstats');
    my $w = 0;
    $w += $1 while $info =~ /^cmdstat_eval\w*:calls=(\d+)/mg;
    return $w;
}

# writes a node refused as a replica (READONLY, in a script or before
# it), since its last CONFIG RESETSTAT
sub refused_on {
    my ($n) = @_;
    my $info = $t->redis_node($n, 'INFO', 'all');
    my $w = 0;
    $w += $1 while $info =~ /^errorstat_READONLY:count=(\d+)/mg;
    $w += $1 while $info =~ /^cmdstat_eval\w*:.*rejected_calls=(\d+)/mg;
    return $w;
}

# the Sentinels' logs, each from where it was at the mark on
sub sentinel_events {
    my ($mark) = @_;
    my @ev;
    for my $s (qw(s1 s2 s3)) {
        my $log = $t->read_file("redis_$s/redis.log");
        push @ev, grep { /[+-](?:try-failover|elected-leader|selected-slave|promoted-slave|switch-master|failover-\S+|slave-reconf\S*)/ }
            split /\n/, substr($log, $mark->{$s} || 0);
    }
    return @ev;
}

sub sentinel_mark {
    return { map { $_ => -s $t->dir . "/redis_$_/redis.log" } qw(s1 s2 s3) };
}

# a node some Sentinel made or named the primary since the mark: a
# second election can promote another replica after a first one did
# (the first one's writes are then lost, as Redis documents)
sub was_primary {
    my ($n, $mark) = @_;
    my $port = $t->port("redis_$n");
    return grep { /\+promoted-slave slave 127\.0\.0\.1:$port / 
        || /\+switch-master mymaster \S+ \d+ 127\.0\.0\.1 $port$/ }
        sentinel_events($mark);
}

# the primary's replicas that are online, in sync
sub replicas_online {
    my ($m, $want) = @_;
    my $end = time + 30;
    while (time < $end) {
        my $info = eval { $t->redis_node($m, 'INFO', 'replication') } // '';
        my $n = () = $info =~ /^slave\d+:.*state=online/mg;
        return 1 if $n >= $want;
        sleep 0.1;
    }
    return 0;
}

# before any switch

is(login($gw[0], 'bob', pass => 'builder'), 200, 'a good login passes');
is(lock_account('alice'), '401,401,401,401',
    'four failures of alice, on both gateways');
is(login($gw[0], 'alice', pass => 'wonderland'), 429,
    'alice locked (gateway 1)');
is(login($gw[1], 'alice', pass => 'wonderland'), 429,
    'alice locked (gateway 2)');

for my $round ('SENTINEL FAILOVER', 'kill -9') {
    my $old = master();
    my @replicas = replicas_of($old);
    my $victim = $round eq 'kill -9' ? 'dave' : 'carl';

    ok(replicas_online($old, scalar @replicas),
        "$round: the replicas are in sync");
    is(lock_account($victim), '401,401,401,401',
        "$round: $victim fails four times");
    is($t->redis_node($old, 'WAIT', scalar @replicas, 5000),
        scalar @replicas, "$round: the replicas have the writes");
    $t->redis_node($_, 'CONFIG', 'RESETSTAT') for @replicas;
    my $mark = sentinel_mark();

    my $file = "traffic-$victim.log";
    my $pid = traffic($t->dir . "/$file", 6);
    sleep 1;

    if ($round eq 'kill -9') {
        $t->stop_redis_node($old, 'KILL');
    } else {
        is($t->redis_node('s1', 'SENTINEL', 'FAILOVER', 'mymaster'), 'OK',
            'SENTINEL FAILOVER accepted');
    }

    my $end = time + 30;
    my $new = '';
    while (time < $end) {
        $new = master();
        last if $new && $new ne $old;
        sleep 0.1;
    }
    ok($new && $new ne $old, "$round: the Sentinels name a new primary")
        or diag("still $new");

    waitpid($pid, 0);
    ok(recovers(), "$round: both gateways ask Redis again, without a reload");

    is(login($gw[0], 'alice', pass => 'wonderland'), 429,
        "$round: alice, locked before, still locked (gateway 1)");
    is(login($gw[1], $victim, pass => 'wonderland'), 429,
        "$round: $victim, locked just before, still locked (gateway 2)");
    my $fresh = "$victim-after";
    is(lock_account($fresh), '401,401,401,401',
        "$round: failures after the switch are counted");
    is(login($gw[0], $fresh, pass => 'wonderland'), 429,
        "$round: and lock (gateway 1)");
    is(login($gw[1], $fresh, pass => 'wonderland'), 429,
        "$round: and lock (gateway 2)");

    my $c = traffic_statuses($file);
    ok($c->{401}, "$round: logins were checked during the traffic")
        or diag(explain $c);
    is(join(',', grep { $_ != 401 && $_ != 429 && $_ != 503 } sort keys %$c),
        '', "$round: every login during the switch answered 401, 429 or 503")
        or diag(explain $c);

    for my $r (grep { $t->{nodes}{$_}{pid} } @replicas) {
        is(refused_on($r), 0, "$round: no write sent to $r while a replica")
            or diag(join "\n", sentinel_events($mark));
        next if $r eq $new;
        if (was_primary($r, $mark)) {
            note("$round: $r was promoted too, by an earlier election");
            next;
        }
        is(evals_on($r), 0, "$round: no script ran on $r, never the primary")
            or diag(join "\n", sentinel_events($mark));
    }

    ok(sentinels_agree(), "$round: the Sentinels agree again");
}

# the logs

read_alerts();
for my $i (0, 1) {
    my $g = $gw[$i];
    my $log = $g->error_log;
    my $n = $i + 1;

    like($log, qr/sekisho: redis master "mymaster" failed over from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+/,
        "gateway $n: a failover is logged with the old and new primary");
    like($log, qr/\[error\].*sekisho: redis mymaster unavailable/,
        "gateway $n: the outage of kill -9 is logged");
    like($log, qr/\[notice\].*sekisho: redis mymaster recovered/,
        "gateway $n: and the recovery");
    unlike($log, qr/answered an error: READONLY|is a replica now/,
        "gateway $n: no command was sent to a replica");
    unlike($log, qr/\Q$password\E|\Q$spassword\E/,
        "gateway $n: no password in the log");

    my $seq = join(',',
        map { /unavailable/ ? 'down' : 'up' } @{ $alerts[$i] });
    like($seq, qr/^down,up(,down,up)*$/,
        "gateway $n: Redis down and back alerted once each way")
        or diag($seq);
}

$gw[1]->done_quiet;
$t->done;
