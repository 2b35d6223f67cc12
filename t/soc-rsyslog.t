#!/usr/bin/perl

# conf.d/rsyslog/sekisho.conf with Debian's rsyslog: the gateway's RFC
# 5424 alerts arrive over UDP on loopback and are written as received
# and as JSON lines with the structured data parsed; the audit anchors
# in either file are what the auditor's "sekisho-audit verify
# --anchors" reads against the log.  rsyslogd runs
# with its own configuration, work directory and pid file, on a free
# loopback port; the snippet is used as shipped but for its port and
# file paths.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::IP;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $rsyslogd = '/usr/sbin/rsyslogd';
plan skip_all => 'rsyslogd (Debian package rsyslog) not installed'
    unless -x $rsyslogd;

my $t = Sekisho::Test->new;
my $d = $t->dir;
my $top = Sekisho::Test::top();

# a free UDP port on loopback
my $probe = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0,
    Proto => 'udp') or die "udp: $@";
my $port = $probe->sockport;
close $probe;
$t->{ports}{syslog} = $port;

my $snippet = $t->read_file("$top/conf.d/rsyslog/sekisho.conf");
ok($snippet =~ s{port="514"}{port="$port"}, 'the snippet listens on port 514');
ok($snippet =~ s{/var/log/sekisho/}{$d/log/}g, 'and writes to /var/log/sekisho');
mkdir "$d/log";
mkdir "$d/rsyslog";
$t->write_file('rsyslog/sekisho.conf', $snippet);
my $main = $t->write_file('rsyslog/rsyslog.conf',
    qq{global(workDirectory="$d/rsyslog")\n}
    . qq{include(file="$d/rsyslog/sekisho.conf")\n});

my $out = `$rsyslogd -N1 -f $main 2>&1`;
is($? >> 8, 0, 'rsyslogd -N1 accepts the snippet') or diag($out);

my $pid = fork;
die "fork: $!\n" unless defined $pid;
if ($pid == 0) {
    open STDOUT, '>>', "$d/rsyslog/stdout.log";
    open STDERR, '>>', "$d/rsyslog/stdout.log";
    exec $rsyslogd, '-n', '-f', $main, '-i', "$d/rsyslog/rsyslogd.pid";
    die "exec rsyslogd: $!\n";
}
push @{ $t->{pids} }, $pid;

my $udp = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port,
    Proto => 'udp') or die "udp: $@";

# ready once a probe of our own is written
my $ready = 0;
for my $i (1 .. 50) {
    $udp->send("<165>1 2026-12-01T00:00:00.000Z probe sekisho-t - probe "
        . "[probe\@32473 n=\"$i\"] ready?");
    sleep 0.2;
    last if $ready = ($t->read_file('log/alerts.log') =~ /ready\?/);
}
ok($ready, 'rsyslogd receives on the loopback port')
    or diag($t->read_file('rsyslog/stdout.log'));

# a message that is not RFC 5424 is not an alert
$udp->send('<13>Dec  1 00:00:00 host other: a BSD syslog line');

my $db = $t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP',
    '198.51.100.0/24' => 'US' });
$t->start_redis;
$t->start_upstream;
$t->write_file('lockout.key', "rsyslog-test-key-0123456789\n");
$t->write_file('audit.key', "rsyslog-test-audit-key-0123456789\n");
chmod 0600, "$d/lockout.key", "$d/audit.key";

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb;
    sekisho_redis 127.0.0.1:%%PORT_redis%%;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    sekisho_alert syslog:server=127.0.0.1:%%PORT_syslog%%,facility=local4;
    sekisho_alert_foreign_burst 5 1m;
    sekisho_audit_log %%TESTDIR%%/audit.log key=%%TESTDIR%%/audit.key
                      anchor=1s events=all;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        sekisho_lockout account attempts=2 window=1h lock=1h;

        location / {
            sekisho on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

my $p = $t->port(0);
http_post('/login', 'user=alice&password=bad', port => $p,
    headers => { 'X-Forwarded-For' => '192.0.2.20' }) for 1 .. 2;
http_get('/x', port => $p, headers => { 'X-Forwarded-For' => "198.51.100.$_" })
    for 1 .. 8;

# both alerts written (rsyslog writes asynchronously)
my (@raw, @json);
my $end = time + 10;
while (time < $end) {
    @raw = grep { /^<\d+>1 .* sekisho \d+ / && !/ audit_anchor / }
        split /\n/, $t->read_file('log/alerts.log');
    @json = grep { !/"app":"sekisho-t"/ && !/"event":"audit_anchor"/ }
        split /\n/, $t->read_file('log/alerts.jsonl');
    last if @raw >= 2 && @json >= 2;
    sleep 0.2;
}

is(scalar @raw, 2, 'alerts.log: the two alerts, as received');
like($raw[0] // '', qr/^<164>1 \S+ \S+ sekisho \d+ account_locked \[sekisho\@32473 event="account_locked" severity="warning" account_hash="[0-9a-f]{16}" last_address="192\.0\.2\.20"\] an account was locked/,
    'the account lock, an RFC 5424 line with its structured data');
unlike($t->read_file('log/alerts.log'), qr/BSD syslog line/,
    'a message that is not RFC 5424 is not written');

is(scalar @json, 2, 'alerts.jsonl: one line per alert');
my @e = map { eval { decode_json($_) } } @json;
is(scalar @e, 2, 'each line is JSON') or diag(join "\n", @json);

my ($lock) = grep { $_->{event} eq 'account_locked' } @e;
my ($burst) = grep { $_->{event} eq 'foreign_burst' } @e;
my $sd = $lock ? $lock->{sd}{'sekisho@32473'} : {};
is($sd->{event}, 'account_locked', 'structured data parsed: the event');
like($sd->{account_hash} // '', qr/^[0-9a-f]{16}$/, 'the account hash');
is($sd->{last_address}, '192.0.2.20', 'the last address');
is($lock->{severity}, 'warning', 'the severity from PRI');
is($lock->{facility}, 'local4', 'the facility from PRI');
like($lock->{'@timestamp'} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    "the gateway's timestamp");
is($burst ? $burst->{sd}{'sekisho@32473'}{network} : undef,
    '198.51.100.0/24', 'the foreign burst names its network');
is($burst ? $burst->{sd}{'sekisho@32473'}{refusals} : undef, 6,
    'and the count that crossed the threshold');

# the anchors as rsyslog kept them, against the audit log

my $tool = "$top/scripts/admin/sekisho-audit";
http_get("/late/$_", port => $p, headers => { 'X-Forwarded-For' => '192.0.2.9' })
    for 1 .. 3;
my $n = () = $t->read_file('audit.log') =~ /\n/g;
my $anchored = 0;
$end = time + 10;
while (time < $end) {
    ($anchored) = sort { $b <=> $a }
        map { $_->{sd}{'sekisho@32473'}{seq} // () }
        grep { $_->{event} eq 'audit_anchor' }
        map { eval { decode_json($_) } // () } split /\n/,
        $t->read_file('log/alerts.jsonl');
    last if ($anchored // 0) >= $n;
    sleep 0.2;
}
is($anchored, $n, "the log's head, record $n, anchored through rsyslog");
$t->stop_nginx;

for my $f ('alerts.jsonl', 'alerts.log') {
    $out = `$tool verify --key-file $d/audit.key --anchors $d/log/$f $d/audit.log 2>&1`;
    is($? >> 8, 0, "verify --anchors log/$f: the log is whole") or diag($out);
    like($out, qr/anchors: (\d+) of \1 match the log/, 'every anchor matches');
}

# the log cut after the last anchor was sent: the SOC's copy tells
my @lines = split /(?<=\n)/, $t->read_file('audit.log');
$t->write_file('cut.log', join '', @lines[0 .. $#lines - 2]);
$out = `$tool verify --key-file $d/audit.key --anchors $d/log/alerts.jsonl $d/cut.log 2>&1`;
is($? >> 8, 3, 'two records cut from the end: verify --anchors exits 3')
    or diag($out);
like($out, qr/were cut from its end/, 'saying they were cut');

$t->done;
