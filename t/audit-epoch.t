#!/usr/bin/perl

# The audit key's epochs (forward security): the key evolves at every
# epoch, at a new file and at a restart, and only the current key is
# kept (state file); the old one is gone from it.  Whoever steals the
# current key cannot rewrite records of earlier epochs undetected;
# a rewrite inside the current epoch is what the chain alone cannot
# show (t/audit-anchor.t shows the anchors catching it).  Workers,
# reload, restart and reopen keep the chain verifiable across epochs.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256 hmac_sha256_hex);
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $t = Sekisho::Test->new(workers => 2);
my $top = Sekisho::Test::top();
my $d = $t->dir;
my $tool = "$top/scripts/admin/sekisho-audit";

my $initial = 'initial-audit-key-0123456789';
$t->start_upstream;
$t->write_file('audit.key', "$initial\n");
chmod 0600, "$d/audit.key";

# the thread pool's own debug lines show where the state is written
$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
error_log %%TESTDIR%%/debug.log debug;
http {
    %%TEST_GLOBALS_HTTP%%
    # a cache manager and loader: nginx's helper processes, which serve
    # no request, start no epoch and have no thread pool
    proxy_cache_path %%TESTDIR%%/cache keys_zone=c:1m;
    sekisho_audit_log %%TESTDIR%%/audit.log key=%%TESTDIR%%/audit.key
                      state=%%TESTDIR%%/audit.state epoch=2s events=all;

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

sub get { http_get($_[0], port => $p) }

sub state {
    my $s = $t->read_file('audit.state');
    my ($e) = $s =~ /^epoch (\d+)$/m;
    my ($k) = $s =~ /^key ([0-9a-f]{64})$/m;
    return ($e, $k, $s);
}

# waits until the state file's epoch passes $e: its new epoch
sub next_epoch {
    my ($e) = @_;
    my $end = time + 15;
    while (time < $end) {
        my ($now) = state();
        return $now if defined $now && $now > $e;
        sleep 0.2;
    }
    return undef;
}

sub records {
    my ($file) = @_;
    my $json = JSON::PP->new;
    return map { $json->decode($_) } split /\n/, $t->read_file($file || 'audit.log');
}

sub verify {
    my ($key, @files) = @_;
    my $out = `$tool verify --key-file $key @files 2>&1`;
    return ($? >> 8, $out);
}

sub derive { hmac_sha256('sekisho-audit-epoch' . pack('Q>', $_[1]), $_[0]) }

# the start: epoch 0 is the initial key, the gateway starts in epoch 1

my ($e1, $k1, $s1) = state();
is($e1, 1, 'the first start is epoch 1');
is((stat "$d/audit.state")[2] & 07777, 0600, 'the state file is mode 0600');
is($k1, unpack('H*', derive($initial, 1)),
    'its key is HMAC-SHA256(initial key, "sekisho-audit-epoch" || 1)');
unlike($s1, qr/\Q$initial\E|\Q${\ unpack('H*', $initial)}\E/,
    'the state file holds no trace of the initial key');

get("/one/$_") for 1 .. 3;
sleep 0.2;
my @r = records();
is($r[0]{'event.action'}, 'audit_start', 'the log starts with a start record');
is($r[0]{epoch}, 1, 'of epoch 1');
like($r[0]{close} // '', qr/^[0-9a-f]{64}$/, 'closing epoch 0 (the initial key)');
is(join(',', map { $_->{epoch} } @r[1 .. 3]), '1,1,1', 'records carry their epoch');
ok(!grep({ exists $_->{close} } @r[1 .. 3]), 'no close within an epoch');

# the epoch ends: a new key, the old one gone from the state file

my $e2 = next_epoch($e1);
ok(defined $e2, 'the epoch ends after epoch=2s, with no request') or BAIL_OUT('no epochs');
my (undef, $k2, $s2) = state();
is($k2, unpack('H*', derive(pack('H*', $k1), $e2)),
    'the new key is the old one evolved (one way)') if $e2 == $e1 + 1;
unlike($s2, qr/$k1/, 'the old key is not in the state file any more');
my @tmp = glob "$d/audit.state.*";
is("@tmp", '', 'no state written aside is left behind');

get("/two/$_") for 1 .. 3;
sleep 0.2;
@r = records();
my ($first2) = grep { $_->{epoch} == $e2 } @r;
ok($first2 && $first2->{close}, 'the first record of the new epoch carries the close');

my ($rc, $out) = verify("$d/audit.key", "$d/audit.log");
is($rc, 0, 'verify with the initial key: intact across epochs') or diag($out);

# rotation and reopen: a new file, a new epoch

rename "$d/audit.log", "$d/audit.log.1" or die;
my ($before) = state();
kill 'USR1', $t->{nginx};
my $e3 = next_epoch($before);
ok(defined $e3, 'a reopen onto a new file begins a new epoch');
get('/after-reopen');
sleep 0.2;
my @new = records('audit.log');
is(scalar @new, 1, 'the new file has the new record');
ok($new[0]{epoch} > (records('audit.log.1'))[-1]{epoch}, 'in a later epoch than the old file');
is($new[0]{prev}, (records('audit.log.1'))[-1]{mac}, 'linked to the old file');
($rc, $out) = verify("$d/audit.key", "$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'verify across the reopen') or diag($out);

# reload: no start record, the epochs go on

my $n_before = () = records('audit.log');
$t->reload;
get('/after-reload');
sleep 0.2;
@new = records('audit.log');
is(scalar @new, $n_before + 1, 'recorded after reload');
ok(!grep({ $_->{'event.action'} eq 'audit_start' } @new), 'reload writes no start record');

# restart: the key comes from the state file alone (the initial key is
# taken off the gateway), a new epoch

rename "$d/audit.key", "$d/audit.key.offline" or die;
my ($before_restart) = state();
$t->stop_nginx;

# a state written aside by a process that died before renaming it: the
# start removes it (it holds a key); one of a live process stays
my $dead = fork // die "fork: $!";
POSIX::_exit(0) unless $dead;
waitpid($dead, 0);
$t->write_file("audit.state.$dead.tmp", "sekisho-audit-state 1\n");
$t->write_file("audit.state.$$.tmp", "sekisho-audit-state 1\n");
$t->run;
ok(!-e "$d/audit.state.$dead.tmp", 'a dead process\'s state aside is removed at the start');
like($t->error_log, qr/\[notice\].*removed "\Q$d\E\/audit\.state\.$dead\.tmp": a state written aside by process $dead/,
    'and the log says so');
ok(-e "$d/audit.state.$$.tmp", 'a live process\'s is left to it');
unlink "$d/audit.state.$$.tmp";
get('/after-restart');
sleep 0.2;
@new = records('audit.log');
my ($start) = grep { $_->{'event.action'} eq 'audit_start' } @new;
ok($start, 'a restart writes a start record');
is($start->{'sekisho.audit.chain'}, 'resumed', 'which resumes the chain');
cmp_ok($start->{epoch}, '>', $before_restart, 'in a new epoch, from the state file alone');
($rc, $out) = verify("$d/audit.key.offline", "$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'verify with the initial key across the restart') or diag($out);
like($out, qr/the gateway started/, 'and notes it');

# the auditor's derived keys: a key of epoch N verifies epochs N and later

my ($ce) = state();
my $out2 = `$tool key --key-file $d/audit.key.offline --epoch $e3 --out $d/epoch.key 2>&1`;
is($? >> 8, 0, 'key --epoch writes a derived key') or diag($out2);
is((stat "$d/epoch.key")[2] & 07777, 0600, 'to a file of mode 0600');
like($t->read_file('epoch.key'), qr/^key \Q${\ unpack('H*', derive(derive(derive(derive($initial, 1), 2), 3), 4))}\E$/m,
    'the key of epoch 4 is the initial key evolved four times') if $e3 == 4;
($rc, $out) = verify("$d/epoch.key", "$d/audit.log");
is($rc, 0, 'the key of an epoch verifies the file of that epoch on') or diag($out);
($rc, $out) = verify("$d/epoch.key", "$d/audit.log.1");
is($rc, 1, 'but not the earlier epochs');
like($out, qr/before the key given/, 'saying why');

# the state cannot be written aside (a directory stands where each
# worker writes it, in nginx's thread pool): the error comes back to
# the log naming both files, records go on, the state file keeps its
# epoch; once the way is clear the next epoch is saved

sub workers {
    my @w;
    for my $f (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $f or next;
        my $l = <$fh> // next;
        next unless $l =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $t->{nginx};
        my $pid = $1;
        open my $cmd, '<', "/proc/$pid/cmdline" or next;
        push @w, $pid if (<$cmd> // '') =~ /worker process/;
    }
    return @w;
}

my @workers = workers();
is(scalar @workers, 2, 'two workers to block');
for my $w (@workers) {
    # a save under way has its file there for a moment
    my $tries = 0;
    until (mkdir "$d/audit.state.$w.tmp") {
        die "mkdir: $!" if ++$tries > 100;
        sleep 0.01;
    }
}
my $stuck_re = qr/\[error\].*audit state file "\Q$d\E\/audit\.state\.\d+\.tmp" cannot be written; "\Q$d\E\/audit\.state" keeps an older key \(21: Is a directory\)/;
my ($end, $log) = (time + 15, '');
while (time < $end) {
    $log = $t->error_log;
    last if $log =~ $stuck_re;
    sleep 0.2;
}
like($log, $stuck_re, 'a state that cannot be written is logged, naming both files and why');
my ($stuck) = state();
sleep 2.5;
is((state())[0], $stuck, 'the state file keeps the epoch it had, an epoch later');
my $n_stuck = () = records('audit.log');
get('/while-stuck');
sleep 0.2;
is(scalar(() = records('audit.log')), $n_stuck + 1, 'records go on meanwhile');
rmdir "$d/audit.state.$_.tmp" for @workers;
ok(defined next_epoch($stuck), 'the next epoch is saved once the way is clear');
like($t->read_file('debug.log'), qr/run task #\d+ in thread pool "default"/,
    'written and synced in nginx\'s thread pool, off the event loop');
($rc, $out) = verify("$d/audit.key.offline", "$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'and the chain is whole across it') or diag($out);

# a thief steals the current key (the state file at this moment) and
# rewrites: an earlier epoch is caught, the current one only by anchors

get("/three/$_") for 1 .. 3;
sleep 0.2;
$t->stop_nginx;

my ($se, $sk) = state();
my $stolen = pack('H*', $sk);
my @lines = split /(?<=\n)/, $t->read_file('audit.log');
my $json = JSON::PP->new;

sub seal {
    my ($rec, $key) = @_;
    my ($body) = $rec =~ /\A(.*),"mac":"[0-9a-f]{64}"\}\n\z/s or die "not a record: $rec";
    return "$body,\"mac\":\"" . hmac_sha256_hex($body, $key) . "\"}\n";
}

sub mac_of { ($_[0] =~ /"mac":"([0-9a-f]{64})"\}\n\z/)[0] }

# re-chains lines $from.. with the stolen key, as a forger would
# ($relabel: into the stolen key's epoch, the first with a forged close)
sub rechain {
    my ($l, $from, $relabel) = @_;
    my @out = @$l;
    for my $i ($from .. $#out) {
        $out[$i] =~ s/"prev":"[0-9a-f]{64}"/"prev":"${\ mac_of($out[$i - 1])}"/;
        if ($relabel) {
            my $close = $i == $from
                ? ',"close":"' . hmac_sha256_hex('sekisho-audit-close', $stolen) . '"' : '';
            $out[$i] =~ s/"epoch":\d+(,"close":"[0-9a-f]{64}")?/"epoch":$se$close/;
        }
        $out[$i] = seal($out[$i], $stolen);
    }
    return @out;
}

my @earlier = grep { $json->decode($lines[$_])->{epoch} < $se } 1 .. $#lines;
my @current = grep { $json->decode($lines[$_])->{epoch} == $se
                     && !exists $json->decode($lines[$_])->{close} } 1 .. $#lines;
ok(@earlier && @current, 'the file has records of earlier epochs and of the current one')
    or diag("epochs: " . join(',', map { $json->decode($_)->{epoch} } @lines));

# (a) an earlier record edited, sealed and re-chained with the stolen key
my @f = @lines;
my $i = $earlier[0];
$f[$i] =~ s/"\@timestamp":"[^"]*"/"\@timestamp":"2026-01-01T00:00:00.000+00:00"/ or die;
@f = rechain(\@f, $i, 0);
$t->write_file('forged.log', join '', @f);
($rc, $out) = verify("$d/audit.key.offline", "$d/audit.log.1", "$d/forged.log");
is($rc, 1, 'a record of an earlier epoch rewritten with the stolen key: verify fails');
like($out, qr/FAIL .*forged\.log:${\ ($i + 1)}: the MAC does not match/, 'at the rewritten record');

# (b) the same, moved into the stolen key's epoch (with a close forged
# under the stolen key): the change of epoch has no valid close
@f = @lines;
$f[$i] =~ s/"\@timestamp":"[^"]*"/"\@timestamp":"2026-01-01T00:00:00.000+00:00"/ or die;
@f = rechain(\@f, $i, 1);
$t->write_file('forged.log', join '', @f);
($rc, $out) = verify("$d/audit.key.offline", "$d/audit.log.1", "$d/forged.log");
is($rc, 1, 'relabelled to the current epoch and re-chained: verify fails');
like($out, qr/FAIL .*forged\.log:${\ ($i + 1)}: the epoch changes from \d+ to $se without the close/,
    'at the rewritten record: no valid close of its real epoch');

# (c) a record of the current epoch rewritten and re-chained: the chain
# alone cannot tell (the thief has this epoch's key)
@f = @lines;
my $j = $current[0];
$f[$j] =~ s/"\@timestamp":"[^"]*"/"\@timestamp":"2026-01-01T00:00:00.000+00:00"/ or die;
@f = rechain(\@f, $j, 0);
$t->write_file('forged.log', join '', @f);
($rc, $out) = verify("$d/audit.key.offline", "$d/audit.log.1", "$d/forged.log");
is($rc, 0, 'a rewrite inside the current epoch passes the chain (what anchors are for)')
    or diag($out);

# keys of several states seen: none left in the last state file
my $last = $t->read_file('audit.state');
unlike($last, qr/$k1|$k2/, 'the last state file holds none of the earlier keys');

# a damaged state file: nginx -t fails and names it
$t->write_file('audit.state', "sekisho-audit-state 1\nepoch 12\n");
my ($trc, $tout) = $t->nginx_test;
isnt($trc, 0, 'a damaged state file: nginx -t fails');
like($tout, qr/audit state file ".*audit\.state" is damaged/, 'naming it');

# restored by the auditor: the key of the last record's epoch
my $last_epoch = (records('audit.log'))[-1]{epoch};
$out = `$tool key --key-file $d/audit.key.offline --epoch $last_epoch --out $d/audit.state 2>&1`;
is($? >> 8, 0, 'the auditor writes the key of the last epoch as the state') or diag($out);
$t->run;
get('/after-restore');
sleep 0.2;
$t->stop_nginx;
($rc, $out) = verify("$d/audit.key.offline", "$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'the chain goes on from a restored state') or diag($out);

# the state lost: the initial key put back, the key derived up to the
# log's last epoch
unlink "$d/audit.state" or die;
rename "$d/audit.key.offline", "$d/audit.key" or die;
$t->run;
get('/after-reseed');
sleep 0.2;
$t->stop_nginx;
($rc, $out) = verify("$d/audit.key", "$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'the chain goes on from the initial key, past the epochs the log reached')
    or diag($out);
my ($after) = state();
cmp_ok($after, '>', $last_epoch, 'in a later epoch than the log had');

$t->done;
