#!/usr/bin/perl

# sekisho_metrics: Prometheus text exposition of the shared counters,
# valid for Prometheus' own parser (promtool), kept across a reload.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Sekisho::Test;

my $t = Sekisho::Test->new(workers => 2);
my $d = $t->dir;

$t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP', '198.51.100.0/24' => 'US' });
$t->start_redis;
$t->start_upstream;
$t->write_file('lockout.key', "metrics-test-key-0123456\n");
chmod 0600, "$d/lockout.key";

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb;
    sekisho_redis 127.0.0.1:%%PORT_redis%%;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    sekisho_audit_log %%TESTDIR%%/audit.log;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        sekisho_lockout account attempts=2 window=1h lock=1h;

        location / {
            sekisho on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /metrics {
            sekisho_metrics;
            allow 127.0.0.1;
            deny all;
        }

        location = /metrics-elsewhere {
            sekisho_metrics;
            allow 127.0.0.2;
            deny all;
        }
    }
}
EOF
$t->run;

my $p = $t->port(0);

sub metrics {
    my $r = http_get('/metrics', port => $p);
    return ($r, http_body($r));
}

sub value {
    my ($body, $name) = @_;
    return $body =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

sub login { http_post('/login', "user=$_[0]&password=$_[1]", port => $p) }

http_get('/x', port => $p, headers => { 'X-Forwarded-For' => '198.51.100.1' })
    for 1 .. 3;
http_get('/x', port => $p, headers => { 'X-Forwarded-For' => '192.0.2.1' })
    for 1 .. 4;
login('alice', 'wonderland');
login('bob', 'bad') for 1 .. 2;
login('bob', 'builder') for 1 .. 2;
sleep 0.3;

my ($r, $m) = metrics();
is(http_status($r), 200, 'metrics answer 200');
like(http_header($r, 'Content-Type'), qr{^text/plain; version=0\.0\.4},
    'in the text exposition format');

is(value($m, 'sekisho_requests_total{decision="deny",reason="geo_foreign"}'), 3,
    'refusals by decision and reason');
is(value($m, 'sekisho_requests_total{decision="allow",reason="geo_country"}'), 4,
    'allowed requests by reason');
is(value($m, 'sekisho_logins_total{outcome="ok"}'), 1, 'logins ok');
is(value($m, 'sekisho_logins_total{outcome="failed"}'), 2, 'logins failed');
is(value($m, 'sekisho_logins_total{outcome="locked"}'), 2, 'logins refused as locked');
is(value($m, 'sekisho_lockouts_total{kind="account"}'), 1, 'one account lockout');
is(value($m, 'sekisho_accounts_locked'), 1, 'one account currently locked');

my $count = value($m, 'sekisho_redis_command_duration_seconds_count');
cmp_ok($count, '>=', 7, "Redis commands timed ($count)");
my @buckets = $m =~ /^sekisho_redis_command_duration_seconds_bucket\{le="[^"]+"\} (\d+)$/mg;
is(scalar @buckets, 12, 'eleven buckets and +Inf');
is(join(',', @buckets), join(',', sort { $a <=> $b } @buckets),
    'buckets are cumulative');
is($buckets[-1], $count, '+Inf equals the count');

my $records = () = $t->read_file('audit.log') =~ /\n/g;
is(value($m, 'sekisho_audit_records_total'), $records - 1,
    'audit records written by the workers (the start record is the master\'s)');
like(value($m, 'sekisho_geoip_build_timestamp_seconds'), qr/^\d{10}$/,
    'the database build time');

SKIP: {
    skip 'promtool (Debian package prometheus) not installed', 1
        unless -x '/usr/bin/promtool';
    my $f = $t->write_file('metrics.txt', $m);
    my $out = `/usr/bin/promtool check metrics < $f 2>&1`;
    is($? >> 8, 0, 'promtool check metrics accepts the output') or diag($out);
}

# a strict reading of the format, independent of promtool
my (%type, $bad);
for my $line (split /\n/, $m) {
    if ($line =~ /^# TYPE (\w+) (counter|gauge|histogram)$/) {
        $type{$1} = $2;
    } elsif ($line =~ /^# HELP \w+ .+$/) {
    } elsif ($line =~ /^(\w+?)(_bucket|_sum|_count)?(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? [0-9.e+]+$/) {
        my $family = exists $type{$1} ? $1 : $1 . ($2 // '');
        $bad .= "untyped: $line\n" unless exists $type{$1} || exists $type{$family};
    } else {
        $bad .= "malformed: $line\n";
    }
}
is($bad // '', '', 'every line is a typed sample, HELP or TYPE');

# kept across a reload
$t->reload;
(undef, $m) = metrics();
is(value($m, 'sekisho_requests_total{decision="deny",reason="geo_foreign"}'), 3,
    'counters survive a reload');

$r = http_get('/metrics-elsewhere', port => $p);
is(http_status($r), 403, 'operators restrict it with allow/deny');

$r = http("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
    . "Connection: close\r\n\r\n", port => $p);
is(http_status($r), 405, 'only GET and HEAD');

$t->done;
