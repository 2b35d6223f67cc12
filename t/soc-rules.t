#!/usr/bin/perl

# conf.d/prometheus/sekisho-rules.yml: "promtool check rules" accepts
# it, and "promtool test rules" fires each alert where it should and
# nowhere else, on series scraped from a real gateway.  The test drives
# the gateway through phases (quiet, a lockout storm, a burst from
# abroad, a revoked card, failing card logins, a stale CRL, lost audit
# records, a refused and then a stale country database, Redis down,
# the gateway down), scrapes /metrics after each, and gives promtool
# each scrape as 20 one-minute samples.  Alerts are checked 3 minutes
# into each phase (what it caused) and 19 minutes in (settled).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use CPAN::Meta::YAML;
use File::Copy qw(copy);
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;
use Sekisho::JPKI;

plan skip_all => 'promtool (Debian package prometheus) not installed'
    unless -x '/usr/bin/promtool';

# MaxMind's own test databases, kept in ../shared/data/real
my $real = Sekisho::Test::top()
    . '/../shared/data/real/maxmind-MaxMind-DB/test-data';
plan skip_all => "MaxMind's test databases are not in $real"
    unless -r "$real/GeoIP2-Country-Test.mmdb";

my $top = Sekisho::Test::top();
my $rules = "$top/conf.d/prometheus/sekisho-rules.yml";

my $out = `/usr/bin/promtool check rules $rules 2>&1`;
is($? >> 8, 0, 'promtool check rules accepts sekisho-rules.yml') or diag($out);

my $t = Sekisho::Test->new;
my $d = $t->dir;
my $pki = test_pki($t);

my $db = $t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP',
    '198.51.100.0/24' => 'US', '203.0.113.0/24' => 'JP' });
$t->start_redis;
$t->start_upstream;
$t->write_file('redis.key', "redis-key-0123456789abcdef\n");
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
chmod 0600, "$d/redis.key", "$d/session.key";
copy("$pki/auth-ca.crl.pem", "$d/auth.crl.pem") or die;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb reload=1s max_age=30d;
    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=500ms;
    sekisho_redis_key_file %%TESTDIR%%/redis.key;
    sekisho_audit_log %%TESTDIR%%/audit.log;
    sekisho_alert redis stream=soc:alerts;

    sekisho_jpki_auth_ca %%TESTDIR%%/pki/bundle-auth-ca.pem;
    sekisho_jpki_crl %%TESTDIR%%/auth.crl.pem %%TESTDIR%%/pki/auth-ca-2.crl.pem;
    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;

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
        location /lost/ {
            sekisho_audit_log /dev/full;
            sekisho on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }
        location = /metrics { sekisho_metrics; }
    }
}
EOF
$t->run;

my $p = $t->port(0);

sub get { http_get($_[0], port => $p, headers => { 'X-Forwarded-For' => $_[1] }) }
sub login { http_post('/login', "user=$_[0]&password=$_[1]", port => $p,
    headers => { 'X-Forwarded-For' => '192.0.2.20' }) }
sub card { card_login($p, cert => "$pki/$_[0].pem", key => "$pki/$_[0].key",
    headers => { 'X-Forwarded-For' => $_[1] || '203.0.113.9' }, @_[2 .. $#_]) }
sub reason_of { json_field(http_body($_[0]), 'error') // 'ok' }

# every sample of a scrape: "name{labels}" => value, or undef when the
# scrape failed; and when it was taken
my @scrapes;

sub scrape {
    my ($name) = @_;
    sleep 0.3;
    my $r = http_get('/metrics', port => $p);
    my %s;
    if (http_status($r) == 200) {
        for (split /\n/, http_body($r)) {
            next if /^#/;
            $s{$1} = $2 if /^(\S+) (\S+)$/;
        }
    }
    push @scrapes, { name => $name, at => time,
        samples => %s ? \%s : undef };
    return \%s;
}

my $s;

# 0: quiet traffic
get('/x', '192.0.2.1') for 1 .. 5;
login('alice', 'wonderland');
is(http_status(card('alice-auth')), 200, 'baseline: a card login');
$s = scrape('quiet');
is($s->{sekisho_redis_up}, 1, 'quiet: Redis up');
my ($next) = sort { $a <=> $b } map { crl_time($_, 'nextupdate') }
    "$d/auth.crl.pem", "$pki/auth-ca-2.crl.pem";
is($s->{sekisho_jpki_crl_next_update_timestamp_seconds}, $next,
    "quiet: the CRLs' earliest nextUpdate, as openssl reads it");
cmp_ok(abs($s->{sekisho_jpki_crl_build_timestamp_seconds} - time), '<', 600,
    'quiet: the CRLs were read at the start');

# 1: a lockout storm, 12 accounts locked
login("user$_", 'bad') for map { ($_, $_) } 1 .. 12;
$s = scrape('lockouts');
is($s->{'sekisho_lockouts_total{kind="account"}'}, 12, 'lockouts: 12 accounts locked');

# 2: 120 refusals from abroad
get('/x', '198.51.100.' . ($_ % 250 + 1)) for 1 .. 120;
$s = scrape('foreign');
is($s->{'sekisho_requests_total{decision="deny",reason="geo_foreign"}'}, 120,
    'foreign: 120 refusals');

# 3: one revoked certificate
is(reason_of(card('revoked-auth')), 'jpki_revoked', 'revoked: refused');
scrape('revoked');

# 4: 25 card logins with a signature that does not verify
my @bad = map { reason_of(card('alice-auth', '203.0.113.10',
    signature => 'x' x 256)) } 1 .. 25;
is(scalar(grep { $_ ne 'ok' } @bad), 25, 'card failures: 25 refused');
scrape('card-failures');

# 5: the CRL gone stale: logins refused until it is renewed
copy("$pki/auth-ca-stale.crl.pem", "$d/auth.crl.pem") or die;
utime(time + 5, time + 5, "$d/auth.crl.pem");
my ($row, $got) = (0, '');
for my $i (1 .. 100) {
    $got = reason_of(card('alice-auth', "203.0.113.$i"));
    $row = $got eq 'jpki_crl_stale' ? $row + 1 : 0;
    last if $row == 3;
    sleep 0.1;
}
is($got, 'jpki_crl_stale', 'stale CRL: card logins refused');
$s = scrape('crl-stale');
is($s->{sekisho_jpki_crl_next_update_timestamp_seconds},
    crl_time("$d/auth.crl.pem", 'nextupdate'),
    "stale CRL: the gauge says its nextUpdate, in the past");

# 6: audit records lost
get("/lost/$_", '198.51.100.99') for 1 .. 3;
$s = scrape('audit-lost');
is($s->{sekisho_audit_write_errors_total}, 3, 'audit: 3 records lost');

# 7: a replacement country database that cannot be used
$t->write_file('country.mmdb.new', "not a database\n" x 50);
rename "$d/country.mmdb.new", $db or die;
sleep 2.5;
$s = scrape('geoip-refused');
is($s->{'sekisho_geoip_reloads_total{result="failed"}'}, 1,
    'geoip: the replacement refused');

# 8: a stale country database taken into use (max_age=30d)
copy("$real/GeoIP2-Country-Test.mmdb", "$db.new") or die;
my ($epoch) = `mmdblookup --file $db.new --ip 2.125.160.216 --verbose`
    =~ /Build epoch:\s+(\d+)/;
rename "$db.new", $db or die;
sleep 2.5;
$s = scrape('geoip-stale');
is($s->{sekisho_geoip_build_timestamp_seconds}, $epoch,
    "geoip: MaxMind's test database in use");
cmp_ok(time - $epoch, '>', 35 * 86400, 'built more than 35 days ago');

# 9: Redis down
$t->stop_redis;
login('bob', 'x') for 1 .. 4;
$s = scrape('redis-down');
cmp_ok($s->{'sekisho_redis_errors_total{kind="unavailable"}'}, '>', 0,
    'Redis down: commands failed as unavailable');
is($s->{sekisho_redis_up}, 0, 'Redis down: the gauge says so');

# 10: the gateway down
$t->stop_nginx;
scrape('gateway-down');
ok(!defined $scrapes[-1]{samples}, 'gateway down: the scrape fails');

# the scrapes as promtool input series: each phase 20 one-minute
# samples; promtool's clock starts at 0, so a timestamp is moved by the
# time between its scrape and the phase's start (its age is kept)
my $PHASE = 20;
my %names;
for my $sc (@scrapes) {
    $names{$_} = 1 for keys %{ $sc->{samples} || {} };
}

sub series_name {
    my ($name, $instance) = @_;
    my $l = qq{instance="$instance",job="sekisho"};
    return $name =~ /^(\w+)\{(.*)\}$/ ? "$1\{$2,$l\}" : "$name\{$l\}";
}

sub values_of {
    my ($name) = @_;
    my @v;
    for my $k (0 .. $#scrapes) {
        my $sc = $scrapes[$k];
        my $v = $sc->{samples} ? $sc->{samples}{$name} : undef;
        if (!defined $v) {
            my $was = $k && $scrapes[$k - 1]{samples}
                && defined $scrapes[$k - 1]{samples}{$name};
            push @v, ($was ? 'stale' : '_'), ('_') x ($PHASE - 1);
            next;
        }
        $v = $v - int($sc->{at}) + $k * $PHASE * 60
            if $name =~ /_timestamp_seconds$/;
        push @v, ($v) x $PHASE;
    }
    return join ' ', @v;
}

my $input = '';
for my $n (sort keys %names) {
    $input .= sprintf("      - series: '%s'\n        values: '%s'\n",
        series_name($n, 'gw1'), values_of($n));
}
# a second gateway without max_age: gw1's database age, without the
# max_age gauge (down with gw1 at the end)
$input .= sprintf("      - series: '%s'\n        values: '%s'\n",
    series_name('sekisho_geoip_build_timestamp_seconds', 'gw2'),
    values_of('sekisho_geoip_build_timestamp_seconds'));
$input .= sprintf("      - series: 'up{instance=\"gw1\",job=\"sekisho\"}'\n"
    . "        values: '%s'\n",
    join ' ', map { ($_->{samples} ? 1 : 0) x $PHASE } @scrapes);

# where each alert must fire: phase => [at 3 minutes, at 19 minutes]
my %fires = (
    SekishoGatewayDown            => { 'gateway-down' => [1, 1] },
    SekishoRedisUnavailable       => { 'redis-down' => [1, 1] },
    SekishoRedisTimeouts          => {},
    SekishoLockoutStorm           => { lockouts => [1, 0] },
    SekishoForeignBurst           => { foreign => [1, 0] },
    SekishoJPKIFailures           => { 'card-failures' => [1, 0] },
    SekishoJPKIRevokedCertificate => { revoked => [1, 0] },
    SekishoJPKICRLStale           => { 'crl-stale' => [1, 0] },
    SekishoJPKICRLExpiring        => { map { $_ => [1, 1] } qw(crl-stale
                                       audit-lost geoip-refused geoip-stale
                                       redis-down) },
    SekishoGeoIPStale             => { 'geoip-stale' => [0, 1],
                                       'redis-down' => [1, 1] },
    SekishoGeoIPOld               => { 'geoip-stale' => [0, 1],
                                       'redis-down' => [1, 1] },
    SekishoGeoIPReloadFailed      => { 'geoip-refused' => [1, 0] },
    SekishoAuditWriteErrors       => { 'audit-lost' => [1, 0] },
    SekishoAlertsFailing          => { 'redis-down' => [1, 0] },
);

my $yaml = CPAN::Meta::YAML->read($rules) or die CPAN::Meta::YAML->errstr;
my %rule = map { $_->{alert} => $_ } @{ $yaml->[0]{groups}[0]{rules} };
is_deeply([sort keys %rule], [sort keys %fires],
    'the test names every alert of the rules file');

sub expected {
    my ($alert, $instance) = @_;
    my $r = $rule{$alert};
    my %labels = (instance => $instance, job => 'sekisho',
        %{ $r->{labels} });
    $labels{use} = 'login' if $r->{expr} =~ /by \(instance, job, use\)/;
    my $y = "          - exp_labels:\n";
    $y .= qq{              $_: "$labels{$_}"\n} for sort keys %labels;
    $y .= "            exp_annotations:\n";
    for my $k (sort keys %{ $r->{annotations} }) {
        (my $v = $r->{annotations}{$k})
            =~ s/\{\{ \$labels\.(\w+) \}\}/$labels{$1}/g;
        $v =~ s/(["\\])/\\$1/g;
        $y .= qq{              $k: "$v"\n};
    }
    return $y;
}

my $tests = '';
for my $k (0 .. $#scrapes) {
    my $phase = $scrapes[$k]{name};
    for my $i (0, 1) {
        my $at = $k * $PHASE + ($i ? 19 : 3);
        for my $alert (sort keys %fires) {
            my $want = $fires{$alert}{$phase} && $fires{$alert}{$phase}[$i];
            my $inst = $alert eq 'SekishoGeoIPOld' ? 'gw2' : 'gw1';
            $tests .= "      - eval_time: ${at}m\n        alertname: $alert\n";
            $tests .= $want ? "        exp_alerts:\n" . expected($alert, $inst)
                            : "        exp_alerts: []\n";
        }
    }
}

my $test_file = $t->write_file('sekisho-rules.test.yml', <<"EOF");
rule_files:
  - $rules
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
$input
    alert_rule_test:
$tests
EOF

my $checks = () = $tests =~ /eval_time/g;
$out = `/usr/bin/promtool test rules $test_file 2>&1`;
is($? >> 8, 0, "promtool test rules: $checks checks of "
    . scalar(keys %fires) . ' alerts over ' . scalar(@scrapes)
    . ' phases pass') or diag($out);

# the checks can fail: a phase's expectation turned round is caught
(my $wrong = $t->read_file($test_file)) =~ s/(eval_time: 23m\n        alertname: SekishoLockoutStorm\n        exp_alerts:)\n(?:          .*\n)+/$1 []\n/;
isnt($wrong, $t->read_file($test_file), 'a wrong expectation written');
$t->write_file('wrong.test.yml', $wrong);
$out = `/usr/bin/promtool test rules $d/wrong.test.yml 2>&1`;
isnt($? >> 8, 0, 'promtool test rules fails on it');

$t->done;
