#!/usr/bin/perl

# Both database layouts: MaxMind's country.iso_code and the top-level
# country_code of the ip-location-db packages; an explicit lookup path;
# an IPv4-only database asked about an IPv6 client.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my %nets = (
    '192.0.2.0/24'    => 'JP',
    '198.51.100.0/24' => 'US',
    '2001:db8:1::/48' => 'JP',
);

my @cases = (
    [ 'MaxMind layout (country.iso_code)', '', sub {
        $_[0]->mmdb('country.mmdb', \%nets) } ],
    [ 'ip-location-db layout (country_code)', '', sub {
        $_[0]->mmdb('country.mmdb', \%nets, layout => 'country_code') } ],
    [ 'explicit path=registered_country.iso_code',
      'path=registered_country.iso_code', sub {
        $_[0]->mmdb('country.mmdb', {
            map { $_ => { registered_country => { iso_code => $nets{$_} },
                          country => { iso_code => 'ZZ' } } } keys %nets
        }, types => { registered_country => 'map' }) } ],
);

for my $case (@cases) {
    my ($name, $param, $make) = @$case;

    my $t = Sekisho::Test->new;
    $make->($t);
    $t->start_upstream;

    $t->write_config(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb $param;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        sekisho on;
        add_header X-Country \$sekisho_country always;
        location / { proxy_pass http://127.0.0.1:%%PORT_upstream%%; }
    }
}
EOF
    $t->run;

    my $r = http_get('/', port => $t->port(0),
        headers => { 'X-Forwarded-For' => '192.0.2.1' });
    is(http_status($r), 200, "$name: Japanese IPv4 let in");
    is(http_header($r, 'X-Country'), 'JP', "$name: country read");

    $r = http_get('/', port => $t->port(0),
        headers => { 'X-Forwarded-For' => '2001:db8:1::1' });
    is(http_status($r), 200, "$name: Japanese IPv6 let in");

    $r = http_get('/', port => $t->port(0),
        headers => { 'X-Forwarded-For' => '198.51.100.1' });
    is(http_status($r), 403, "$name: foreign refused");
    is(http_header($r, 'X-Country'), 'US', "$name: foreign country read");

    $t->done_quiet;
}

# An IPv4-only database cannot place an IPv6 client: unknown, refused.

my $t = Sekisho::Test->new;
$t->mmdb('v4.mmdb', { '192.0.2.0/24' => 'JP' }, ip_version => 4);
$t->start_upstream;
$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/v4.mmdb;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        sekisho on;
        add_header X-Reason $sekisho_reason always;
        location / { proxy_pass http://127.0.0.1:%%PORT_upstream%%; }
    }
}
EOF
$t->run;

my $r = http_get('/', port => $t->port(0),
    headers => { 'X-Forwarded-For' => '192.0.2.1' });
is(http_status($r), 200, 'IPv4-only database: Japanese IPv4 let in');

$r = http_get('/', port => $t->port(0),
    headers => { 'X-Forwarded-For' => '2001:db8:1::1' });
is(http_status($r), 403, 'IPv4-only database: IPv6 client refused');
is(http_header($r, 'X-Reason'), 'geo_unknown', 'as unknown, not as an error');
unlike($t->error_log, qr/\[error\]/, 'and without an error line');

$t->done;
