#!/usr/bin/perl
# What a Redis failover costs the lockout (scripts/bench/failover runs
# this; see there for the options).  Per round, a fresh set: a primary,
# two replicas and three Sentinels on loopback, two gateways, each with
# one client sending failed logins back to back for its own account.
# After two seconds the primary is failed over (SENTINEL FAILOVER; or
# CLIENT PAUSE 5000 WRITE on it first, then SENTINEL FAILOVER) or killed
# (kill -9), or nothing happens (the control); the clients go on for
# eight seconds more.  Then:
#
#   window   the time logins got 503, first 503 sent to last 503
#            answered, per gateway (the longer of the two)
#   503s     logins refused with 503 (closed failure policy)
#   lost     failures answered 401 (each one counted, the gateway said)
#            minus failures counted in Redis afterwards (ZCARD of the
#            accounts' failure sets on the primary at the end)
#   lag      replication lag when it happened: the primary's offset
#            minus the furthest-behind replica's, in bytes, each read
#            from the node just before the failover command or the kill
#
# The harness of the tests (t/lib/Sekisho/Test.pm) starts and stops
# every server.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use Getopt::Long;
use IO::Socket::IP;
use POSIX ();
use Time::HiRes qw(sleep time);

my $top;
BEGIN { $top = File::Spec->rel2abs(dirname(__FILE__) . '/../..'); }
use lib "$top/t/lib";

$ENV{SEKISHO_TEST_DEADLINE} = 3600;
require Sekisho::Test;

my $rounds = 3;
my $down_after = 1000;
my $only = '';
GetOptions('rounds=i' => \$rounds, 'down-after=i' => \$down_after,
    'only=s' => \$only) or exit 2;

my $password = 'bench-data-password';
my $spassword = 'bench-sentinel-password';

-f "$top/build/ngx_http_sekisho_module.so"
    or die "scripts/bench/failover: build the module first (scripts/build)\n";

sub setup {
    my $t = Sekisho::Test->new;
    $t->start_sentinel_set(password => $password,
        sentinel_password => $spassword, down_after => $down_after,
        failover_timeout => 10000);

    # wait until both replicas are in sync and every Sentinel knows the
    # others and both replicas
    my $end = time + 30;
    while (time < $end) {
        my $info = $t->redis_node('p', 'INFO', 'replication');
        my $n = () = $info =~ /^slave\d+:.*state=online/mg;
        last if $n == 2;
        sleep 0.1;
    }
    $end = time + 30;
    while (time < $end) {
        my $ok = grep {
            my $r = eval { $t->redis_node($_, 'SENTINEL', 'replicas',
                'mymaster') };
            my $o = eval { $t->redis_node($_, 'SENTINEL', 'sentinels',
                'mymaster') };
            ref $r && @$r == 2 && ref $o && @$o == 2;
        } qw(s1 s2 s3);
        last if $ok == 3;
        sleep 0.2;
    }

    my @gw;
    for my $i (0, 1) {
        my $g = $i ? Sekisho::Test->new : $t;
        $g->{ports}{$_} = $t->port($_) for qw(redis_s1 redis_s2 redis_s3);
        $g->write_file('lockout.key', "bench-key-of-both-gateways-0123\n");
        $g->write_file('redis.pass', "$password\n");
        $g->write_file('sentinel.pass', "$spassword\n");
        chmod 0600, map { $g->dir . "/$_" }
            qw(lockout.key redis.pass sentinel.pass);
        $g->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    access_log off;
    sekisho_redis sentinel=127.0.0.1:%%PORT_redis_s1%%,127.0.0.1:%%PORT_redis_s2%%,127.0.0.1:%%PORT_redis_s3%%
                  master=mymaster timeout=200ms
                  password_file=%%TESTDIR%%/redis.pass
                  sentinel_password_file=%%TESTDIR%%/sentinel.pass;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        sekisho_lockout account attempts=1000000 window=10m lock=1m;
        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_up%%;
        }
    }

    # the application: every password is wrong, at once
    server {
        listen 127.0.0.1:%%PORT_up%%;
        location / { return 401; }
    }
}
EOF
        $g->run;
        push @gw, $g;
    }

    return ($t, @gw);
}

sub master_of {
    my ($t) = @_;
    my %name = map { $t->port("redis_$_") => $_ } qw(p r1 r2);
    for my $s (qw(s1 s2 s3)) {
        my $r = eval { $t->redis_node($s, 'SENTINEL',
            'get-master-addr-by-name', 'mymaster') };
        return $name{ $r->[1] } if ref $r;
    }
    return '';
}

# one client: failed logins back to back, "start end status" in ms
sub client {
    my ($g, $user, $file, $seconds) = @_;
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    return $pid if $pid;
    open my $fh, '>', $file or POSIX::_exit(1);
    my $end = time + $seconds;
    while (time < $end) {
        my $s = time;
        my $r = Sekisho::Test::http_post('/login',
            "user=$user&password=wrong", port => $g->port(0));
        printf $fh "%.3f %.3f %d\n", $s * 1000, time * 1000,
            Sekisho::Test::http_status($r);
    }
    close $fh;
    POSIX::_exit(0);
}

# the primary's offset minus that of the replica furthest behind, each
# read from the node itself (the primary's view of its replicas is
# their last acknowledgement, up to a second old)
sub lag {
    my ($t, $m) = @_;
    my ($mo) = $t->redis_node($m, 'INFO', 'replication')
        =~ /master_repl_offset:(\d+)/;
    my $lag = 0;
    for my $r (grep { $_ ne $m } qw(p r1 r2)) {
        my ($o) = $t->redis_node($r, 'INFO', 'replication')
            =~ /slave_repl_offset:(\d+)/;
        $lag = $mo - $o if defined $o && $mo - $o > $lag;
    }
    return $lag;
}

sub round {
    my ($how) = @_;
    my ($t, @gw) = setup();
    my $old = master_of($t);
    my @files = map { $t->dir . "/client$_.log" } 0, 1;
    my @pids = map { client($gw[$_], "bench$_", $files[$_], 10) } 0, 1;

    sleep 2;
    my $lag = lag($t, $old);
    my $at = time * 1000;
    if ($how eq 'none') {
        # the control: no failover
    } elsif ($how eq 'kill') {
        $t->stop_redis_node($old, 'KILL');
    } elsif ($how eq 'paused') {
        # a planned switch: writes held on the old primary first, so
        # that none lands there after the replica is promoted
        $t->redis_node($old, 'CLIENT', 'PAUSE', 5000, 'WRITE');
        $t->redis_node('s1', 'SENTINEL', 'FAILOVER', 'mymaster');
    } else {
        $t->redis_node('s1', 'SENTINEL', 'FAILOVER', 'mymaster');
    }

    my $new = '';
    my $end = time + ($how eq 'none' ? 0 : 30);
    $new = $old if $how eq 'none';
    while (time < $end) {
        $new = master_of($t);
        last if $new && $new ne $old;
        sleep 0.05;
    }
    my $switched = time * 1000 - $at;

    waitpid($_, 0) for @pids;

    my ($window, $n503, $n401, $other) = (0, 0, 0, 0);
    for my $f (@files) {
        my ($first, $last);
        for (split /\n/, $t->read_file($f)) {
            my ($s, $e, $st) = split / /;
            if ($st == 503) {
                $n503++;
                $first //= $s;
                $last = $e;
            } elsif ($st == 401) {
                $n401++;
            } else {
                $other++;
            }
        }
        $window = $last - $first if defined $first && $last - $first > $window;
    }

    # counted where the gateways write at the end: the Sentinels' master
    # now (a second failover may have followed the first)
    my $last = master_of($t);
    my $counted = 0;
    my $keys = $t->redis_node($last, 'KEYS', '*{lockout}:a:*:f');
    $counted += $t->redis_node($last, 'ZCARD', $_) for @$keys;

    $gw[1]->stop;
    $t->stop;

    return { window => $window, n503 => $n503, n401 => $n401,
        other => $other, counted => $counted, lost => $n401 - $counted,
        lag => $lag, switched => $switched,
        again => $last ne $new ? " (then $last)" : '' };
}

print "Redis failover under login traffic: 1 primary, 2 replicas, "
    . "3 Sentinels (down-after-milliseconds $down_after), 2 gateways "
    . "(timeout=200ms, sekisho_redis_failure closed), 1 client each; "
    . "$rounds rounds\n\n";
printf "%-21s %5s %10s %7s %9s %8s %6s %9s %10s\n", 'event', 'round',
    'window ms', '503s', '401s', 'counted', 'lost', 'lag B',
    'switch ms';

my %key = ('none (control)' => 'none', 'SENTINEL FAILOVER' => 'failover',
    'CLIENT PAUSE+FAILOVER' => 'paused', 'kill -9' => 'kill');
for my $how ('none (control)', 'SENTINEL FAILOVER', 'CLIENT PAUSE+FAILOVER',
    'kill -9')
{
    my $key = $key{$how};
    next if $only && $only ne $key;
    for my $r (1 .. $rounds) {
        my $x = round($key);
        printf "%-21s %5d %10.0f %7d %9d %8d %6d %9d %10.0f%s%s\n", $how, $r,
            $x->{window}, $x->{n503}, $x->{n401}, $x->{counted},
            $x->{lost}, $x->{lag}, $x->{switched},
            $x->{other} ? "  ($x->{other} other answers)" : '',
            $x->{again};
    }
}
