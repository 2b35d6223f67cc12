#!/usr/bin/perl

# The audit trail: one JSON line per decided request, an HMAC chain
# shared by the workers, across log rotation, reload and restart; the
# auditor's verify tool detects deleted, edited, moved and inserted
# records.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep);
use Sekisho::Test;

my $t = Sekisho::Test->new(workers => 2);
my $top = Sekisho::Test::top();
my $d = $t->dir;

$t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP', '198.51.100.0/24' => 'US' });
$t->start_redis;
$t->start_upstream;
$t->write_file('audit.key', "audit-chain-key-0123456789\n");
$t->write_file('lockout.key', "lockout-key-0123456789ab\n");
chmod 0600, "$d/audit.key", "$d/lockout.key";

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb;
    sekisho_redis 127.0.0.1:%%PORT_redis%%;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    sekisho_audit_log %%TESTDIR%%/audit.log key=%%TESTDIR%%/audit.key;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        sekisho on;
        sekisho_lockout account attempts=2 window=1h lock=1h;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /everything/ {
            sekisho_audit_log %%TESTDIR%%/audit.log
                              key=%%TESTDIR%%/audit.key events=all;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /refusals/ {
            sekisho_audit_log %%TESTDIR%%/audit.log
                              key=%%TESTDIR%%/audit.key events=deny;
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

my $p = $t->port(0);

sub get { http_get($_[0], port => $p, headers => { 'X-Forwarded-For' => $_[1],
    'User-Agent' => 'audit-test/1.0' }) }
sub login { http_post('/login', "user=$_[0]&password=$_[1]", port => $p,
    headers => { 'X-Forwarded-For' => '192.0.2.5' }) }

sub records {
    my ($file) = @_;
    my $json = JSON::PP->new;
    return map { $json->decode($_) } split /\n/, $t->read_file($file || 'audit.log');
}

sub verify {
    my @files = @_;
    my $out = `$top/scripts/admin/sekisho-audit verify --key-file $d/audit.key @files 2>&1`;
    return ($? >> 8, $out);
}

get('/page?secret=1', '198.51.100.9');          # refused: logged
get('/page', '192.0.2.9');                      # allowed: not a decision
login('alice', 'bad');                          # login attempt: logged
login('alice', 'wonderland');                   # login ok: logged
login('bob', 'bad') for 1 .. 2;
login('bob', 'builder');                        # locked: logged
get('/everything/x', '192.0.2.9');              # events=all: logged
get('/refusals/x', '192.0.2.9');                # events=deny, allowed: not
http_post('/refusals/x', 'user=carol&password=bad', port => $p,
    headers => { 'X-Forwarded-For' => '192.0.2.5' });  # a login, not a refusal

sleep 0.2;
my @r = records();

is($r[0]{'event.action'}, 'audit_start', 'the log starts with a start record');
is($r[0]{'sekisho.audit.chain'}, 'new', 'of a new chain');
is($r[0]{prev}, '0' x 64, 'whose prev is all zeros');

my @rest = @r[1 .. $#r];
is(scalar @rest, 7, 'seven decided requests recorded, no others')
    or diag(join "\n", map { "$_->{'event.reason'} $_->{'url.path'}" } @rest);

my %by = map { ("$_->{'url.path'} $_->{'event.reason'}" => $_) } @rest;

my $foreign = $by{'/page geo_foreign'};
ok($foreign, 'the refusal is recorded');
is($foreign->{'source.ip'}, '198.51.100.9', 'source.ip');
is($foreign->{'source.geo.country_iso_code'}, 'US', 'source.geo.country_iso_code');
is($foreign->{'sekisho.decision'}, 'deny', 'sekisho.decision');
is($foreign->{'event.outcome'}, 'failure', 'event.outcome failure');
is($foreign->{'http.response.status_code'}, 403, 'http.response.status_code');
is($foreign->{'http.request.method'}, 'GET', 'http.request.method');
is($foreign->{'url.path'}, '/page', 'url.path without the query string');
is($foreign->{'user_agent.original'}, 'audit-test/1.0', 'user_agent.original');
like($foreign->{'http.request.id'}, qr/^[0-9a-f]{32}$/, 'http.request.id');
like($foreign->{'@timestamp'},
    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/,
    '@timestamp is RFC 3339 with milliseconds and offset');
ok(length $foreign->{'host.name'}, 'host.name');

# two workers write as requests end: the order of the lines is the order
# of the chain, not necessarily of the requests
my @logins = grep { $_->{'url.path'} eq '/login' } @rest;
is(join(',', sort map { "$_->{'user.name'}:$_->{'event.reason'}" } @logins),
    'alice:login_failed,alice:login_ok,bob:account_locked,bob:login_failed,'
    . 'bob:login_failed',
    'every login attempt and its outcome, with user.name');
my ($failed) = grep { $_->{'user.name'} eq 'alice'
                      && $_->{'event.reason'} eq 'login_failed' } @logins;
my ($ok) = grep { $_->{'event.reason'} eq 'login_ok' } @logins;
my ($lock) = grep { $_->{'event.reason'} eq 'account_locked' } @logins;
is($failed->{'sekisho.upstream.status_code'}, '401', 'the upstream status');
is($failed->{'event.outcome'}, 'failure', 'login_failed is a failure');
is($ok->{'event.outcome'}, 'success', 'login_ok is a success');
is($lock->{'http.response.status_code'}, 429, 'the lockout is a 429');

ok($by{'/everything/x geo_country'}, 'events=all records an allowed request');
ok(!grep({ $_->{'url.path'} eq '/refusals/x' } @rest),
    'events=deny records no allowed request, not even a login');

my @seq = map { $_->{seq} } @r;
is("@seq", join(' ', 1 .. scalar @r), 'seq counts up across both workers');

my ($rc, $out) = verify("$d/audit.log");
is($rc, 0, 'verify: the chain is intact') or diag($out);
like($out, qr/OK: 8 records in 1 file\(s\), chain intact \(HMAC-SHA256\)/,
    'verify reports the count');

# rotation: mv + reopen, the new file links to the old one

rename "$d/audit.log", "$d/audit.log.1" or die;
kill 'USR1', $t->{nginx};
sleep 0.5;
get('/after-rotation', '198.51.100.9');
sleep 0.2;

my @new = records('audit.log');
is(scalar @new, 1, 'after reopen, the new file gets the new record');
is($new[0]{prev}, (records('audit.log.1'))[-1]{mac},
    'its prev is the MAC of the last record of the rotated file');
($rc, $out) = verify("$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'verify across the rotated and the new file') or diag($out);

# reload: the chain goes on, no start record

$t->reload;
get('/after-reload', '198.51.100.9');
sleep 0.2;
@new = records('audit.log');
is(join(',', map { $_->{'event.reason'} } @new), 'geo_foreign,geo_foreign',
    'reload adds no start record');

# restart: a start record that resumes the chain

$t->stop_nginx;
$t->run;
get('/after-restart', '198.51.100.9');
sleep 0.2;
@new = records('audit.log');
is($new[2]{'event.action'}, 'audit_start', 'a restart writes a start record');
is($new[2]{'sekisho.audit.chain'}, 'resumed', 'which resumes the chain');
is($new[2]{prev}, $new[1]{mac}, 'from the last record of the file');
is($new[3]{seq}, $new[1]{seq} + 2, 'seq goes on');
($rc, $out) = verify("$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'verify after restart') or diag($out);
like($out, qr/the gateway started/, 'verify notes the restart');

# tampering

my @lines = split /(?<=\n)/, $t->read_file('audit.log.1');

sub tampered {
    my ($name, @l) = @_;
    $t->write_file('tampered.log', join '', @l);
    return verify("$d/tampered.log");
}

my @edit = @lines;
$edit[3] =~ s/"http.response.status_code":\d+/"http.response.status_code":299/ or die;
($rc, $out) = tampered('edit', @edit);
is($rc, 1, 'an edited record fails verification');
like($out, qr/FAIL .*tampered\.log:4: the MAC does not match/, 'at its line');

($rc, $out) = tampered('delete', @lines[0 .. 2, 4 .. $#lines]);
is($rc, 1, 'a deleted record fails verification');
like($out, qr/FAIL .*tampered\.log:4: "prev" is not the MAC of the record before/,
    'at the line after the gap');

($rc, $out) = tampered('swap', @lines[0 .. 2], $lines[4], $lines[3], @lines[5 .. $#lines]);
is($rc, 1, 'reordered records fail verification');

($rc, $out) = tampered('insert', @lines[0 .. 3], $lines[2], @lines[4 .. $#lines]);
is($rc, 1, 'an inserted (copied) record fails verification');
like($out, qr/tampered\.log:5:/, 'at the inserted line');

# a whole file repeated after itself: the second copy starts a new chain
($rc, $out) = tampered('repeat', @lines, @lines);
is($rc, 1, 'a file repeated after itself fails verification');
like($out, qr/a new chain starts in the middle/, 'as a chain started again');
$out = `$top/scripts/admin/sekisho-audit verify --allow-new-chain --key-file $d/audit.key $d/tampered.log`;
is($? >> 8, 0, '--allow-new-chain accepts it, for a known restart from nothing');

my $wrong = `$top/scripts/admin/sekisho-audit verify --key-file $d/lockout.key $d/audit.log.1`;
isnt($? >> 8, 0, 'the wrong key fails verification');

# search

$out = `$top/scripts/admin/sekisho-audit search --account alice $d/audit.log.1 2>/dev/null`;
is(scalar(() = $out =~ /\n/g), 2, 'search by account finds its two records');
$out = `$top/scripts/admin/sekisho-audit search --address 198.51.100.9 $d/audit.log.1 $d/audit.log 2>/dev/null`;
is(scalar(() = $out =~ /\n/g), 4, 'search by address across files');
my @all = records('audit.log.1');
my $from = $all[3]{'@timestamp'};
my $want = grep { $_->{'@timestamp'} ge $from } @all;
$out = `$top/scripts/admin/sekisho-audit search --from '$from' $d/audit.log.1 2>/dev/null`;
is(scalar(() = $out =~ /\n/g), $want, 'search by time range (from)');
$out = `$top/scripts/admin/sekisho-audit search --to '$all[0]{'@timestamp'}' $d/audit.log.1 2>/dev/null`;
my $upto = grep { $_->{'@timestamp'} le $all[0]{'@timestamp'} } @all;
is(scalar(() = $out =~ /\n/g), $upto, 'search by time range (to)');
my $rid = $foreign->{'http.request.id'};
$out = `$top/scripts/admin/sekisho-audit search --request-id $rid $d/audit.log.1 2>/dev/null`;
like($out, qr/"http.request.id":"$rid"/, 'search by request id');

$t->done;
