#!/usr/bin/perl

# Anchors: the audit chain's head sent out of the host (alert
# "audit_anchor", to syslog and to the Redis stream) at every epoch and
# every anchor= seconds, and "sekisho-audit verify --anchors" telling a
# cut end, a missing file and a rewritten record apart, from the syslog
# lines a loopback receiver got and from a redis-cli XRANGE dump.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256 hmac_sha256_hex);
use IO::Select;
use IO::Socket::IP;
use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $t = Sekisho::Test->new(workers => 2);
my $top = Sekisho::Test::top();
my $d = $t->dir;
my $tool = "$top/scripts/admin/sekisho-audit";

my $syslog = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0,
    Proto => 'udp') or die "udp: $@";
$t->{ports}{syslog} = $syslog->sockport;

my $initial = 'anchor-test-initial-key-0123';
$t->start_redis;
$t->start_upstream;
$t->write_file('audit.key', "$initial\n");
$t->write_file('lockout.key', "anchor-test-lockout-0123456\n");
chmod 0600, "$d/audit.key", "$d/lockout.key";

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_redis 127.0.0.1:%%PORT_redis%%;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    sekisho_alert syslog:server=127.0.0.1:%%PORT_syslog%%,facility=local4,tag=gw-test;
    sekisho_alert redis stream=soc:alerts;

    sekisho_audit_log %%TESTDIR%%/audit.log key=%%TESTDIR%%/audit.key
                      state=%%TESTDIR%%/audit.state epoch=3s anchor=1s
                      events=all;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

my $p = $t->port(0);
my @received;

# keeps every syslog message, as a syslog server would write them
sub receive {
    my ($wait) = @_;
    my $sel = IO::Select->new($syslog);
    my $end = time + $wait;
    while ((my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        $syslog->recv(my $buf, 65535);
        push @received, $buf;
    }
}

sub records {
    my ($file) = @_;
    my $json = JSON::PP->new;
    return map { $json->decode($_) } split /\n/, $t->read_file($file || 'audit.log');
}

# requests, then waits until an anchor carries the head
sub traffic {
    my ($tag) = @_;
    http_get("/$tag/$_", port => $p) for 1 .. 4;
    sleep 0.2;
    my $head = (records())[-1]{seq};
    my $end = time + 10;
    while (time < $end) {
        receive(0.3);
        return 1 if grep { /event="audit_anchor".* seq="$head" / } @received;
    }
    return 0;
}

ok(traffic('a'), 'the head is anchored to syslog within anchor=1s');

my ($anchor) = grep { / audit_anchor \[/ } @received;
like($anchor // '',
    qr/^<165>1 \S+ \S+ gw-test \d+ audit_anchor \[sekisho\@32473 event="audit_anchor" severity="notice" file="\Q$d\E\/audit\.log" first="1" seq="\d+" mac="[0-9a-f]{64}" epoch="\d+"\] the head of the audit chain/,
    'an anchor is an RFC 5424 notice with file, first, seq, mac and epoch');

# a rotation (two), so that files can go missing
rename "$d/audit.log", "$d/audit.log.2" or die;
kill 'USR1', $t->{nginx};
sleep 0.5;
ok(traffic('b'), 'anchored after a reopen');
rename "$d/audit.log", "$d/audit.log.1" or die;
kill 'USR1', $t->{nginx};
sleep 0.5;
ok(traffic('c'), 'anchored after the second reopen');

# an epoch ends with no request: anchored too
my ($state_epoch) = $t->read_file('audit.state') =~ /^epoch (\d+)$/m;
my $end = time + 10;
while (time < $end) {
    receive(0.3);
    last if grep { /event="audit_anchor".* epoch="(\d+)"/ && $1 > $state_epoch } @received;
}
ok((grep { /event="audit_anchor".* epoch="(\d+)"/ && $1 > $state_epoch } @received),
    'a new epoch is anchored, with no request');

$t->stop_nginx;

my @syslog_anchors = grep { / audit_anchor \[/ } @received;
$t->write_file('anchors.syslog', join("\n", @syslog_anchors) . "\n");
my $redis_cli = "redis-cli -h 127.0.0.1 -p " . $t->port('redis');
system("$redis_cli XRANGE soc:alerts - + > $d/anchors.redis") == 0 or die 'redis-cli';

my $stream = $t->redis('XRANGE', 'soc:alerts', '-', '+');
my @stream_anchors = grep { my %f = @{ $_->[1] }; $f{event} eq 'audit_anchor' } @$stream;
ok(@stream_anchors >= @syslog_anchors - 1, 'the stream has the anchors too')
    or diag(scalar(@stream_anchors) . ' in the stream, ' . scalar(@syslog_anchors) . ' by syslog');

sub verify {
    my ($anchors, @files) = @_;
    my $out = `$tool verify --key-file $d/audit.key --anchors $d/$anchors @files 2>&1`;
    return ($? >> 8, $out);
}

my @all = map { "$d/$_" } qw(audit.log.2 audit.log.1 audit.log);

for my $src (qw(anchors.syslog anchors.redis)) {
    my ($rc, $out) = verify($src, @all);
    is($rc, 0, "$src: the whole log matches its anchors") or diag($out);
    like($out, qr/anchors: (\d+) of \1 match the log/, "$src: every anchor matches");
}

# a cut end: the newest file loses its last records
my @lines = split /(?<=\n)/, $t->read_file('audit.log');
$t->write_file('cut.log', join '', @lines[0 .. $#lines - 2]);
for my $src (qw(anchors.syslog anchors.redis)) {
    my ($rc, $out) = verify($src, "$d/audit.log.2", "$d/audit.log.1", "$d/cut.log");
    is($rc, 3, "$src: lines cut from the end: exit 3");
    like($out, qr/CUT END: .*the log ends at seq \d+ .*cut\.log:\d+/, "$src: reported as a cut end");
}

# a missing file: the newest one, and one in the middle
for my $src (qw(anchors.syslog anchors.redis)) {
    my ($rc, $out) = verify($src, "$d/audit.log.2", "$d/audit.log.1");
    is($rc, 4, "$src: the newest file missing: exit 4");
    like($out, qr/MISSING FILE: .*the file that began at seq \d+ is not among the files given/,
        "$src: reported as a missing file");
    unlike($out, qr/CUT END/, "$src: not as a cut end");

    ($rc, $out) = verify($src, "$d/audit.log.2", "$d/audit.log");
    is($rc, 4, "$src: a file in the middle missing: exit 4");
    like($out, qr/MISSING FILE: .*no file given has seq \d+ \(a file is missing after .*audit\.log\.2/,
        "$src: reported as a missing file after the one before it");
}

# a rewrite inside the current epoch with that epoch's key (stolen):
# the chain verifies, the anchor does not
my $json = JSON::PP->new;
my $last = $json->decode($lines[-1]);
my $k = $initial;
$k = hmac_sha256('sekisho-audit-epoch' . pack('Q>', $_), $k) for 1 .. $last->{epoch};
my $forged = $lines[-1];
$forged =~ s/"\@timestamp":"[^"]*"/"\@timestamp":"2026-01-01T00:00:00.000+00:00"/ or die;
my ($body) = $forged =~ /\A(.*),"mac":"[0-9a-f]{64}"\}\n\z/s or die;
$forged = "$body,\"mac\":\"" . hmac_sha256_hex($body, $k) . "\"}\n";
$t->write_file('forged.log', join '', @lines[0 .. $#lines - 1], $forged);

my $out = `$tool verify --key-file $d/audit.key $d/audit.log.2 $d/audit.log.1 $d/forged.log 2>&1`;
is($? >> 8, 0, 'the rewrite with the key of its epoch passes the chain alone') or diag($out);
for my $src (qw(anchors.syslog anchors.redis)) {
    my ($rc, $o) = verify($src, "$d/audit.log.2", "$d/audit.log.1", "$d/forged.log");
    is($rc, 5, "$src: against the anchors: exit 5");
    like($o, qr/REWRITTEN: .*seq $last->{seq}.*forged\.log:\d+ has MAC [0-9a-f]{64}, the anchor says $last->{mac}/,
        "$src: reported as rewritten, with the anchored MAC");
}

# anchors older than the files given are noted, not failures
my ($rc, $o) = verify('anchors.syslog', "$d/audit.log");
is($rc, 0, 'anchors before the first file given: not a failure') or diag($o);
like($o, qr/note: \d+ anchor\(s\) before the first record given/, 'but noted');

# anchors of several logs must be told apart
my $other = $syslog_anchors[0] =~ s/file="[^"]*"/file="\/var\/log\/other.log"/r;
$t->write_file('mixed.syslog', join("\n", @syslog_anchors, $other) . "\n");
($rc, $o) = verify('mixed.syslog', @all);
is($rc, 2, 'anchors of two logs without a choice: usage error');
like($o, qr/several logs/, 'saying so');
$o = `$tool verify --key-file $d/audit.key --anchors $d/mixed.syslog --anchor-log $d/audit.log @all 2>&1`;
is($? >> 8, 0, '--anchor-log chooses') or diag($o);

$t->done;
