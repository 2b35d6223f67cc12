#!/usr/bin/perl

# "sekisho_geoip_db ... max_age=": a country database built longer ago
# is stale.  By default the gateway keeps using it and raises one
# geoip_stale alert for the node; with stale=refuse, nginx -t fails
# naming the directive and the build date, and a stale replacement is
# refused while the database in use stays.  With MaxMind's own test
# databases (built months ago) and databases fresh from
# geoip/build-mmdb.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use IO::Select;
use IO::Socket::IP;
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

# MaxMind's own test databases, kept in ../shared/data/real
my $real = Sekisho::Test::top()
    . '/../shared/data/real/maxmind-MaxMind-DB/test-data';
plan skip_all => "MaxMind's test databases are not in $real"
    unless -r "$real/GeoIP2-Country-Test.mmdb";

my $t = Sekisho::Test->new(workers => 2);
my $d = $t->dir;
my $top = Sekisho::Test::top();

# the build date of MaxMind's file, read from its metadata
my $stale_db = "$d/maxmind.mmdb";
copy("$real/GeoIP2-Country-Test.mmdb", $stale_db) or die "copy: $!";
my ($epoch) = `mmdblookup --file $stale_db --ip 2.125.160.216 --verbose`
    =~ /Build epoch:\s+(\d+)/;
ok($epoch, "MaxMind's test database says when it was built ($epoch)");
my $built = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $epoch);
my $age_days = int((time - $epoch) / 86400);
cmp_ok($age_days, '>=', 2, "it is $age_days days old");

# a limit it passes and one it fails, whatever today's date
my $young = int($age_days / 2) . 'd';
my $old = ($age_days + 30) . 'd';

# a fresh database from the repository's own builder
sub build_fresh {
    my ($name, $cc_of_doc) = @_;
    $t->write_file("$name.csv", "first,last,country\n"
        . "192.0.2.0,192.0.2.255,$cc_of_doc\n"
        . "2001:218::,2001:218:ffff:ffff:ffff:ffff:ffff:ffff,JP\n");
    my $out = `$^X $top/geoip/build-mmdb --quiet --keep-reserved --countries all -i $d/$name.csv -o $d/$name.mmdb 2>&1`;
    die "build-mmdb: $out" if $?;
    return "$d/$name.mmdb";
}

my $fresh = build_fresh('fresh', 'JP');

# nginx -t

sub check {
    my ($args) = @_;
    return $t->try_config("sekisho_geoip_db $args;",
        'location / { sekisho on; return 204; }');
}

my ($rc, $out) = check("$stale_db max_age=$old stale=refuse");
is($rc, 0, "a database younger than max_age=$old passes") or diag($out);
unlike($out, qr/stale/, 'and says nothing of age');

($rc, $out) = check("$stale_db max_age=$young stale=refuse");
isnt($rc, 0, "stale=refuse: a database older than max_age=$young fails nginx -t");
like($out, qr/\[emerg\].*"sekisho_geoip_db" refuses "\Q$stale_db\E": it was built \Q$built\E, not within max_age=\Q$young\E \(stale=refuse\)/,
    'naming the directive, the file and the build date');

($rc, $out) = check("$stale_db max_age=$young");
is($rc, 0, 'without stale=refuse a stale database passes') or diag($out);
like($out, qr/\[warn\].*"sekisho_geoip_db" "\Q$stale_db\E" is stale: it was built \Q$built\E/,
    'with a warning naming the build date');

($rc, $out) = check("$fresh max_age=1d stale=refuse");
is($rc, 0, 'a database just built by geoip/build-mmdb passes max_age=1d')
    or diag($out);

# a build date ahead of the clock cannot show that a file is recent
SKIP: {
    skip 'faketime (Debian package faketime) not installed', 2
        unless -x '/usr/bin/faketime';
    $t->write_file('future.csv', "first,last,country\n192.0.2.0,192.0.2.255,JP\n");
    my $o = `faketime '2036-01-01 00:00:00' $^X $top/geoip/build-mmdb --quiet --keep-reserved -i $d/future.csv -o $d/future.mmdb 2>&1`;
    die "build-mmdb: $o" if $?;
    ($rc, $out) = check("$d/future.mmdb max_age=3650d stale=refuse");
    isnt($rc, 0, 'a database built in 2036 fails max_age under stale=refuse');
    like($out, qr/it was built 2036-01-01T\d\d:\d\d:\d\dZ \(in the future\), not within max_age=3650d/,
        'and the message says the date is in the future');
}

$t->config_errors(\&check,
    [ "$fresh stale=refuse",
        qr/"stale=refuse" in "sekisho_geoip_db" directive requires "max_age="/,
        'stale= without max_age=' ],
    [ "$fresh max_age=soon",
        qr/invalid parameter "max_age=soon" in "sekisho_geoip_db"/,
        'max_age not a time' ],
    [ "$fresh max_age=0",
        qr/invalid parameter "max_age=0" in "sekisho_geoip_db"/,
        'max_age of zero' ],
    [ "$fresh max_age=30d stale=ignore",
        qr/invalid parameter "stale=ignore" in "sekisho_geoip_db"/,
        'unknown stale= value' ],
);

# a running gateway: alerts to a loopback syslog socket, metrics

my $syslog = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0,
    Proto => 'udp') or die "udp: $@";
$t->{ports}{syslog} = $syslog->sockport;

sub received {
    my ($wait) = @_;
    my @m;
    my $sel = IO::Select->new($syslog);
    my $end = time + $wait;
    while ((my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        $syslog->recv(my $buf, 65535);
        push @m, $buf;
    }
    return @m;
}

my $db = "$d/country.mmdb";
$t->start_upstream;

sub start {
    my ($args, $main) = @_;
    $main //= '';
    $t->write_config(<<"EOF");
%%TEST_GLOBALS%%
$main
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db $db $args;
    sekisho_alert syslog:server=127.0.0.1:%%PORT_syslog%%,tag=geo-age;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        location / {
            sekisho on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
        location = /metrics { sekisho_metrics; }
    }
}
EOF
    $t->run;
}

my $p = $t->port(0);

sub status_of {
    return http_status(http_get('/', port => $p,
        headers => { 'X-Forwarded-For' => $_[0] }));
}

sub metric {
    my ($name) = @_;
    my $m = http_body(http_get('/metrics', port => $p));
    return $m =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

# 1. stale, alert only: in use, one alert for the node (two workers)

copy($stale_db, $db) or die;
start("reload=off max_age=$young");

my @m = received(1.5);
my @stale = grep { / geoip_stale \[/ } @m;
is(scalar @stale, 1, 'a stale database in use: one geoip_stale alert for two workers');
like($stale[0] // '',
    qr/ geoip_stale \[sekisho\@32473 event="geoip_stale" severity="warning" file="\Q$db\E" built="\Q$built\E" max_age="\Q$young\E"\] the country database in use is older than its max_age/,
    'naming the file, the build date and max_age');
is(status_of('2001:218::1'), 200, 'the stale database still lets Japan in');
is(status_of('2.125.160.216'), 403, 'and refuses Great Britain');
is(metric('sekisho_geoip_build_timestamp_seconds'), $epoch,
    'metrics: the build time of the database in use');
is(metric('sekisho_geoip_max_age_seconds'), int($age_days / 2) * 86400,
    'metrics: max_age in seconds');
like($t->error_log, qr/\[warn\].*geoip database "\Q$db\E" is stale: it was built \Q$built\E/,
    'the error log says it too');

$t->reload;
@m = received(1.5);
is(scalar(grep { / geoip_stale \[/ } @m), 0,
    'an nginx reload with the same database does not alert again');

$t->stop_nginx;

# 2. stale=refuse: a stale replacement is refused, the fresh one stays

copy($fresh, $db) or die;
my ($fresh_epoch) = `mmdblookup --file $db --ip 192.0.2.1 --verbose`
    =~ /Build epoch:\s+(\d+)/;
start("reload=1s max_age=$young stale=refuse");
received(0.5);

is(metric('sekisho_geoip_max_age_seconds'), int($age_days / 2) * 86400,
    'max_age in the metrics');
is(status_of('192.0.2.1'), 200, 'the fresh database places 192.0.2.1 in Japan');

copy($stale_db, "$db.new") or die;
rename "$db.new", $db or die;
@m = received(2.5);
my @failed = grep { / geoip_reload_failed \[/ } @m;
is(scalar @failed, 1, 'a stale replacement: one geoip_reload_failed alert');
like($failed[0] // '', qr/file="\Q$db\E" reason="stale"/,
    'with reason "stale"');
is(scalar(grep { / geoip_stale \[/ } @m), 0,
    'and no geoip_stale: the stale file is not in use');
is(status_of('192.0.2.1'), 200, 'the database in use stays');
is(metric('sekisho_geoip_build_timestamp_seconds'), $fresh_epoch,
    'metrics: still the build time of the fresh database');
is(metric('sekisho_geoip_reloads_total{result="failed"}'), 2,
    'metrics: the refusal counted by each worker');
like($t->error_log, qr/geoip database "\Q$db\E" was replaced by a file that cannot be used: it was built \Q$built\E, not within max_age=\Q$young\E \(stale=refuse\); the database already loaded stays in use/,
    'the error log names the build date');

($rc, $out) = $t->nginx_test;
isnt($rc, 0, 'with the stale file in place, nginx -t (and so a reload) fails');

# a fresh replacement is taken
my $next = build_fresh('next', 'US');
rename $next, $db or die;
my $end = time + 8;
my $st = '';
while (time < $end) {
    $st = join ',', map { status_of('192.0.2.1') } 1 .. 6;
    last if $st eq join ',', ('403') x 6;
    sleep 0.3;
}
is($st, '403,403,403,403,403,403', 'a fresh replacement is taken by both workers');
is(metric('sekisho_geoip_reloads_total{result="ok"}'), 2,
    'metrics: two workers took it');

# 3. the stale database still in use a day later (the gateway's clock
# moved on by libfaketime, from a file it reads at every call): the
# alert again, once for the node, and not again that day

my $faketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
SKIP: {
    skip 'libfaketime (Debian package faketime) not installed', 4
        unless -f $faketime;

    $t->stop_nginx;
    my $clock = $t->write_file('clock', "+0\n");
    $t->{env} = {
        LD_PRELOAD                   => $faketime,
        FAKETIME_TIMESTAMP_FILE      => $clock,
        FAKETIME_NO_CACHE            => 1,
        FAKETIME_DONT_FAKE_MONOTONIC => 1,
    };
    copy($stale_db, $db) or die;
    start("reload=1s max_age=$young",
        join '', map { "env $_;\n" } sort grep { /^FAKETIME/ }
            keys %{ $t->{env} });

    my $stale_alerts = sub { scalar grep { / geoip_stale \[/ } received($_[0]) };
    is($stale_alerts->(2), 1, 'at the start: one geoip_stale alert');
    is($stale_alerts->(2.5), 0,
        'not again the same day, though the age is checked every second');
    $t->write_file('clock', "+1d\n");
    is($stale_alerts->(3), 1, 'a day later: the alert again, once for the node');
    is($stale_alerts->(2.5), 0, 'and not again that day');
    delete $t->{env};
}

$t->done;
