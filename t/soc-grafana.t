#!/usr/bin/perl

# conf.d/grafana/sekisho-dashboard.json: valid for Grafana's own model
# of a dashboard (the Dashboard type of @grafana/schema, as a JSON
# Schema checked by Ajv: t/soc/dashboard-check.js), every PromQL
# expression parses (promtool) and names only metrics a real gateway
# exports (scraped here).  Grafana itself is not in Debian; the npm
# packages come from scripts/deps.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Sekisho::Test;
use Sekisho::JPKI;

my $top = Sekisho::Test::top();
my $file = "$top/conf.d/grafana/sekisho-dashboard.json";
my $check = "$top/t/soc/dashboard-check.js";

plan skip_all => 'node (Debian package nodejs) not installed'
    unless `sh -c 'command -v node'`;
die "t/soc/node_modules is missing: run scripts/deps\n"
    unless -d "$top/t/soc/node_modules";

my $t = Sekisho::Test->new;
my $d = $t->dir;

# Grafana's schema

my $out = `node $check $file $d/dashboard.schema.json 2>&1`;
is($? >> 8, 0, "valid for Grafana's dashboard schema") or diag($out);
like($out, qr/schema: Dashboard of \@grafana\/schema \d+\.\d+\.\d+, \d+ definitions/,
    'the schema is made from @grafana/schema');
my $schema = decode_json($t->read_file('dashboard.schema.json'));
ok($schema->{definitions}{Panel}{properties}{gridPos},
    'the schema knows panels and their grid positions');

my $json = JSON::PP->new->canonical;
my $dash = decode_json($t->read_file($file));

# the schema can fail: an unknown key, a wrong type, a missing field
for my $bad (
    [ sub { $_[0]{panels}[1]{colour} = 'red' }, 'an unknown panel key' ],
    [ sub { $_[0]{panels}[1]{gridPos}{w} = 'wide' }, 'a width not a number' ],
    [ sub { delete $_[0]{schemaVersion} }, 'no schemaVersion' ],
) {
    my $copy = decode_json($json->encode($dash));
    $bad->[0]->($copy);
    $t->write_file('bad.json', $json->encode($copy));
    $out = `node $check $d/bad.json 2>&1`;
    is($? >> 8, 1, "refused by the schema: $bad->[1]") or diag($out);
}

# the panels and their queries

my (@targets, %ids);
for my $p (@{ $dash->{panels} }) {
    $ids{ $p->{id} }++;
    for my $q (@{ $p->{targets} || [] }) {
        push @targets, { panel => $p->{title}, %$q };
    }
}
is(scalar(grep { $_ > 1 } values %ids), 0, 'panel ids are unique');
cmp_ok(scalar @targets, '>=', 15, scalar(@targets) . ' queries');
is(scalar(grep { !($_->{expr} && $_->{refId}
        && $_->{datasource}{uid} eq '${datasource}') } @targets), 0,
    'each query has an expression, a refId and the dashboard\'s data source');

# what a gateway exports: every family of a real scrape, with every
# feature the dashboard shows switched on

$t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP' });
my $pki = test_pki($t);
$t->start_redis;
$t->write_file('lockout.key', "grafana-test-key-0123456789\n");
chmod 0600, "$d/lockout.key";
$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb max_age=30d;
    sekisho_redis 127.0.0.1:%%PORT_redis%%;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    sekisho_audit_log %%TESTDIR%%/audit.log;
    sekisho_jpki_auth_ca %%TESTDIR%%/pki/bundle-auth-ca.pem;
    sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca.crl.pem;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location = /metrics { sekisho_metrics; }
    }
}
EOF
$t->run;
my $m = http_body(http_get('/metrics', port => $t->port(0)));
my %exported;
my %histogram;
for ($m =~ /^# TYPE (\w+ \w+)$/mg) {
    my ($name, $type) = split / /;
    $exported{$name} = 1;
    next unless $type eq 'histogram';
    $histogram{$name} = 1;
    @exported{ map { "$name$_" } qw(_bucket _sum _count) } = (1) x 3;
}
ok($exported{sekisho_geoip_max_age_seconds}
    && $exported{sekisho_jpki_crl_next_update_timestamp_seconds}
    && $exported{sekisho_redis_up}, 'the scrape has every family')
    or diag($m);

my @unknown;
my %used;
for my $q (@targets) {
    for my $name ($q->{expr} =~ /\b(sekisho_\w+|up)\b(?!\s*\()/g) {
        $used{$name} = 1;
        push @unknown, "$q->{panel}: $name" unless $exported{$name}
            || $name eq 'up';
    }
}
is(join(', ', @unknown), '', 'every metric named is one the module exports');
$used{$_} = $used{"${_}_bucket"} for keys %histogram;
my @unused = grep { !$used{$_} && !/_(bucket|sum|count)$/ } sort keys %exported;
is(join(', ', @unused), '', 'and every family it exports has a panel');

# every expression parses: promtool reads them as recording rules, with
# Grafana's variables given values
sub rules_of {
    my (@exprs) = @_;
    my $y = "groups:\n  - name: dashboard\n    rules:\n";
    my $i = 0;
    for my $e (@exprs) {
        (my $x = $e) =~ s/\$__rate_interval/5m/g;
        $x =~ s/\$instance/.*/g;
        $x =~ s/'/''/g;
        $y .= sprintf("      - record: dashboard_query_%d\n        expr: '%s'\n",
            $i++, $x);
    }
    return $y;
}

$t->write_file('queries.yml', rules_of(map { $_->{expr} } @targets));
$out = `/usr/bin/promtool check rules $d/queries.yml 2>&1`;
is($? >> 8, 0, 'promtool parses every expression') or diag($out);

$t->write_file('broken.yml', rules_of('sum by (kind (rate(sekisho_lockouts_total[5m]))'));
$out = `/usr/bin/promtool check rules $d/broken.yml 2>&1`;
isnt($? >> 8, 0, 'and refuses a broken one');

$t->done;
