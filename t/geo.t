#!/usr/bin/perl

# The domestic-only geo gate through real HTTP: countries, IPv4, IPv6,
# IPv4-mapped IPv6, realip and spoofing, explicit lists, unknown
# addresses, dry run, the refusal page, error_page and the variables.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;

$t->mmdb('country.mmdb', {
    '192.0.2.0/24'    => 'JP',
    '198.51.100.0/24' => 'US',
    '10.0.0.0/8'      => 'US',
    '127.0.0.0/8'     => 'CN',
    '2001:db8:1::/48' => 'JP',
    '2001:db8:2::/48' => 'KR',
    '::1/128'         => 'JP',
});

my $up = $t->start_upstream;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_geoip_db %%TESTDIR%%/country.mmdb;

    log_format gate '$remote_addr $sekisho_country $sekisho_decision '
                    '$sekisho_reason $status $request_uri';

    # behind a trusted proxy: X-Forwarded-For from loopback counts
    server {
        listen 127.0.0.1:%%PORT_0%%;
        listen [::1]:%%PORT_0%%;

        access_log %%TESTDIR%%/gate.log gate;

        set_real_ip_from 127.0.0.1;
        set_real_ip_from ::1;
        real_ip_header X-Forwarded-For;

        sekisho on;

        add_header X-Gate "$sekisho_country|$sekisho_decision|$sekisho_reason"
                   always;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /lists/ {
            sekisho_geo_allow 198.51.100.7 2001:db8:2::/64;
            sekisho_geo_deny 192.0.2.66 2001:db8:1::bad;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /korea/ {
            sekisho_geo_countries kr JP;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /unknown-allowed/ {
            sekisho_geo_unknown allow;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /dry/ {
            sekisho_geo_dry_run on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /open/ {
            sekisho off;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /custom/ {
            error_page 403 /refused.html;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /refused.html {
            internal;
            return 403 "custom refusal: $sekisho_reason\n";
        }
    }

    # no realip: the connection's own address is judged
    server {
        listen 127.0.0.1:%%PORT_1%%;
        listen [::1]:%%PORT_1%%;

        sekisho on;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

$t->run;

my $p = $t->port(0);

sub from {
    my ($addr, $uri, %o) = @_;
    return http_get($uri || '/', port => $p,
        headers => { 'X-Forwarded-For' => $addr, %{ $o{headers} || {} } },
        %o);
}

# countries

my $r = from('192.0.2.10', '/hello?x=1');
is(http_status($r), 200, 'Japanese IPv4 address let in');
like(http_body($r), qr{^GET /hello\?x=1 HTTP}m, 'request reached the upstream');
is(http_header($r, 'X-Gate'), 'JP|allow|geo_country', 'variables: JP allow');

my $before = $t->upstream_requests;
$r = from('198.51.100.20', '/secret');
is(http_status($r), 403, 'foreign IPv4 address refused with 403');
is(http_header($r, 'X-Gate'), 'US|deny|geo_foreign', 'variables: US deny');
like(http_header($r, 'Content-Type'), qr{^text/html; charset=utf-8},
    'refusal page is UTF-8 HTML');
is(http_header($r, 'Cache-Control'), 'no-store', 'refusal is not cacheable');
like(http_body($r), qr/日本国外からのアクセスはご利用いただけません/,
    'refusal page says it in Japanese');
like(http_body($r), qr/Access from outside Japan is not available/,
    'refusal page says it in English');
like(http_body($r), qr/Reference: [0-9a-f]{32}/, 'refusal page has a reference');
is($t->upstream_requests, $before, 'refused request never reached upstream');

$r = from('203.0.113.5');
is(http_status($r), 403, 'address not in the database refused');
is(http_header($r, 'X-Gate'), '|deny|geo_unknown', 'variables: unknown');

$r = from('203.0.113.5', '/unknown-allowed/');
is(http_status($r), 200, 'unknown address let in under "unknown allow"');
is(http_header($r, 'X-Gate'), '|allow|geo_unknown', 'reason still unknown');

$r = from('198.51.100.20', '/unknown-allowed/');
is(http_status($r), 403, '"unknown allow" still refuses a known foreign one');

# IPv6 and IPv4-mapped IPv6

$r = from('2001:db8:1::5');
is(http_status($r), 200, 'Japanese IPv6 address let in');
is(http_header($r, 'X-Gate'), 'JP|allow|geo_country', 'variables: IPv6 JP');

$r = from('2001:db8:2::5');
is(http_status($r), 403, 'foreign IPv6 address refused');
is(http_header($r, 'X-Gate'), 'KR|deny|geo_foreign', 'variables: IPv6 KR');

$r = from('::ffff:192.0.2.10');
is(http_status($r), 200, 'IPv4-mapped Japanese address let in');
is(http_header($r, 'X-Gate'), 'JP|allow|geo_country', 'mapped address placed');

$r = from('::ffff:198.51.100.20');
is(http_status($r), 403, 'IPv4-mapped foreign address refused');

$r = from('::ffff:192.0.2.66', '/lists/');
is(http_status($r), 403, 'IPv4-mapped address matches an IPv4 deny entry');

# a worker keeps the country of each data record and of each address
# it has looked up: asked again, interleaved, every address still gets
# its own (t/geo-reload.t: and a new file starts afresh)

my @placed = (['192.0.2.10', 'JP'], ['198.51.100.20', 'US'],
    ['10.1.2.3', 'US'], ['203.0.113.5', ''], ['2001:db8:2::5', 'KR'],
    ['::ffff:192.0.2.11', 'JP'], ['2001:db8:1::5', 'JP']);
my @wrong;
for my $round (1 .. 3) {
    for my $i (0 .. $#placed) {
        my ($addr, $cc) = @{ $placed[($i * $round) % @placed] };
        my $got = (split /\|/, http_header(from($addr), 'X-Gate') // '')[0];
        push @wrong, "$addr: '" . ($got // '') . "'" if ($got // '') ne $cc;
    }
}
is("@wrong", '', 'countries asked again, interleaved, stay each record\'s own');

# realip and spoofing

$r = http_get('/', port => $t->port(1),
    headers => { 'X-Forwarded-For' => '192.0.2.10' });
is(http_status($r), 403,
    'without realip, a client\'s own X-Forwarded-For changes nothing');

$r = http_get('/', port => $t->port(1), host => '::1');
is(http_status($r), 200, 'real IPv6 connection from a Japanese address');

$r = http_get('/', port => $p, host => '::1',
    headers => { 'X-Forwarded-For' => '198.51.100.20' });
is(http_status($r), 403, 'trusted IPv6 proxy\'s X-Forwarded-For counts');

$r = from('192.0.2.10, 198.51.100.20');
is(http_status($r), 403, 'the last address of X-Forwarded-For is judged');

# explicit lists: deny beats allow beats country

$r = from('198.51.100.7', '/lists/');
is(http_status($r), 200, 'allow-listed foreign address let in');
is(http_header($r, 'X-Gate'), 'US|allow|geo_allowlist', 'reason allowlist');

$r = from('192.0.2.66', '/lists/');
is(http_status($r), 403, 'deny-listed Japanese address refused');
is(http_header($r, 'X-Gate'), 'JP|deny|geo_denylist', 'reason denylist');

$r = from('192.0.2.67', '/lists/');
is(http_status($r), 200, 'neighbour of a deny-listed address let in');

$r = from('2001:db8:2::9', '/lists/');
is(http_status($r), 200, 'allow-listed IPv6 network let in');

$r = from('2001:db8:2:1::9', '/lists/');
is(http_status($r), 403, 'address outside the allow-listed /64 refused');

$r = from('2001:db8:1::bad', '/lists/');
is(http_status($r), 403, 'deny-listed IPv6 address refused');

# country list per location

$r = from('2001:db8:2::5', '/korea/');
is(http_status($r), 200, 'country list of the location used');
$r = from('198.51.100.20', '/korea/');
is(http_status($r), 403, 'country not in the location\'s list refused');

# dry run and off

$before = $t->upstream_requests;
$r = from('198.51.100.20', '/dry/');
is(http_status($r), 200, 'dry run lets a foreign address through');
is(http_header($r, 'X-Gate'), 'US|dryrun-deny|geo_foreign',
    'dry run records what it would have done');
is($t->upstream_requests, $before + 1, 'dry run request reached upstream');

$r = from('198.51.100.20', '/open/');
is(http_status($r), 200, '"sekisho off" lets everything through');
is(http_header($r, 'X-Gate'), 'US|allow|geo_off', 'reason geo_off');

# error_page replaces the built-in page

$before = $t->upstream_requests;
$r = from('198.51.100.20', '/custom/');
is(http_status($r), 403, 'error_page: still 403');
like(http_body($r), qr/^custom refusal: geo_foreign$/m,
    'error_page replaces the built-in page and sees the reason');
is($t->upstream_requests, $before, 'error_page refusal never reached upstream');

$r = from('198.51.100.20', '/secret', method => 'HEAD');
is(http_status($r), 403, 'HEAD refused too');
is(http_body($r), '', 'HEAD refusal has no body');

# POST body of a refused request is discarded, connection stays sane
$r = http("POST / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.20\r\n"
    . "Content-Length: 5\r\n\r\nhello"
    . "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.10\r\n"
    . "Connection: close\r\n\r\n", port => $p);
like($r, qr{^HTTP/1\.1 403 .*HTTP/1\.1 200 }s,
    'refused POST body discarded, next keepalive request served');

# the access log

$t->stop;

my $log = $t->read_file('gate.log');
like($log, qr{^198\.51\.100\.20 US deny geo_foreign 403 /secret$}m,
    'access log: refusal with country, decision and reason');
like($log, qr{^192\.0\.2\.10 JP allow geo_country 200 /hello\?x=1$}m,
    'access log: allowed request');
like($t->error_log, qr/sekisho: refused 198\.51\.100\.20, reason: geo_foreign, country: US/,
    'error log names the refusal at info level');

$t->done;
