#!/usr/bin/perl

# The configuration an operator copies (conf.d/sekisho.conf.example)
# and the demo's (conf.d/demo.conf) pass nginx -t with the module, and
# every other file under conf.d/ is checked by a test of its own.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;
use Sekisho::JPKI;

my $t = Sekisho::Test->new;
my $top = Sekisho::Test::top();
my $db = $t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP' });

# the production example, with its paths pointed at the test directory
# and TLS replaced by a loopback port (no certificate here)
my $ex = $t->read_file("$top/conf.d/sekisho.conf.example");
$ex =~ s{/var/lib/GeoIP/GeoIP2-Country\.mmdb}{$db};
$ex =~ s{listen 443 ssl http2;}{listen 127.0.0.1:%%PORT_0%%;};
$ex =~ s{^\s*ssl_certificate.*$}{}mg;
$ex =~ s{/var/log/nginx/}{%%TESTDIR%%/}g;
$ex =~ s{/etc/nginx/sekisho/}{%%TESTDIR%%/}g;
$ex =~ s{/var/lib/sekisho/crl}{%%TESTDIR%%/pki/crl}g;
$ex =~ s{/var/lib/sekisho/audit/}{%%TESTDIR%%/}g;
$t->write_file($_, "secret-for-the-example-test-32-bytes-long")
    for qw(redis.pass lockout.key audit.key session.key);
chmod 0600, map { $t->dir . "/$_" } qw(redis.pass lockout.key audit.key session.key);

# the test authority stands in for J-LIS
my $pki = test_pki($t);
$t->write_file($_->[0], $t->read_file("pki/$_->[1]")) for
    [ 'jpki-auth-ca.pem', 'bundle-auth-ca.pem' ],
    [ 'jpki-sign-ca.pem', 'sign-ca.pem' ];

$t->write_config(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
$ex
}
EOF

my ($rc, $out) = $t->nginx_test;
is($rc, 0, 'conf.d/sekisho.conf.example passes nginx -t') or diag($out);

# the demo configuration, rendered as scripts/demo does
my $demo = $t->read_file("$top/conf.d/demo.conf");
$t->write_file('lockout.key', 'k' x 32);
chmod 0600, $t->dir . '/lockout.key';
my %v = (MODULE => $t->module, DIR => $t->dir, GEOIP => $db,
         PORT => $t->port(1), UPSTREAM_PORT => $t->port(2),
         REDIS_PORT => $t->port(3));
$demo =~ s/@(\w+)@/$v{$1}/g;
$demo = "user root;\n$demo" if $> == 0;
$t->{config} = $t->write_file('demo.conf', $demo);

($rc, $out) = $t->nginx_test;
is($rc, 0, 'conf.d/demo.conf passes nginx -t') or diag($out);
unlike($demo, qr/@\w+@/, 'every placeholder of the demo is filled');

# the SOC's files are loaded by their own tools' tests
# (t/soc-rules.t, t/soc-grafana.t, t/soc-rsyslog.t): each file under
# conf.d/ must be named by some test
my %named;
for my $test (glob("$top/t/*.t")) {
    my $text = $t->read_file($test);
    $named{$1} = 1 while $text =~ m{\b(conf\.d/[\w./-]+\w)}g;
}
my @files = map { s{^\Q$top\E/}{}r }
    split /\n/, `find $top/conf.d -type f | sort`;
cmp_ok(scalar @files, '>=', 5, scalar(@files) . ' files under conf.d/');
is(join(', ', grep { !$named{$_} } @files), '',
    'every file under conf.d/ is checked by a test');

$t->done;
