#!/usr/bin/perl

# Clients on a UNIX socket (a local proxy in front of nginx) have no
# address any country database knows: "unknown", refused by default.
# "sekisho_geo_allow unix:" lets them in as nginx's "allow unix:" does,
# "sekisho_geo_deny unix:" refuses them whatever else is allowed, and a
# "unix:" entry never matches a client on TCP.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;

# 127.0.0.1 is foreign here, so that the TCP side would be refused
$t->mmdb('country.mmdb', { '127.0.0.0/8' => 'US', '192.0.2.0/24' => 'JP' });
$t->write_file('www/ok.txt', "through\n");

my $d = $t->dir;

$t->write_config(<<"END");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_geoip_db %%TESTDIR%%/country.mmdb;
    root %%TESTDIR%%/www;

    server {
        listen unix:%%TESTDIR%%/gate.sock;
        listen 127.0.0.1:%%PORT_0%%;

        sekisho on;

        location /default/ { alias %%TESTDIR%%/www/; }

        location /allow/ {
            alias %%TESTDIR%%/www/;
            sekisho_geo_allow unix:;
        }

        location /deny/ {
            alias %%TESTDIR%%/www/;
            sekisho_geo_allow unix: 127.0.0.1;
            sekisho_geo_deny unix:;
        }

        location /mixed/ {
            alias %%TESTDIR%%/www/;
            sekisho_geo_allow 192.0.2.1 unix:;
        }
    }
}
END
$t->run;

for (1 .. 100) { last if -S "$d/gate.sock"; select(undef, undef, undef, 0.05) }
ok(-S "$d/gate.sock", 'nginx listens on the UNIX socket');

# a request over the UNIX socket
sub unix_get {
    my ($uri) = @_;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => "$d/gate.sock")
        or return '';
    print $s "GET $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    local $/;
    my $r = <$s>;
    close $s;
    return defined $r ? $r : '';
}

my $r = unix_get('/default/ok.txt');
is(http_status($r), 403, 'a UNIX-socket client is refused by default');

$r = unix_get('/allow/ok.txt');
is(http_status($r), 200, 'sekisho_geo_allow unix: lets a UNIX-socket client in');
like(http_body($r), qr/through/, 'and the request is served');

$r = unix_get('/deny/ok.txt');
is(http_status($r), 403, 'sekisho_geo_deny unix: refuses it, allow or not');

$r = unix_get('/mixed/ok.txt');
is(http_status($r), 200, 'unix: among addresses in one directive');

# the TCP side: a "unix:" entry is not an address
$r = http_get('/allow/ok.txt', port => $t->port(0));
is(http_status($r), 403, 'unix: does not let a TCP client in (127.0.0.1 is US)');

$r = http_get('/deny/ok.txt', port => $t->port(0));
is(http_status($r), 200, 'a TCP address in the allow list still counts beside unix:');

# the refusals are told apart in the error log
like($t->error_log, qr/refused unix:, reason: geo_unknown/,
    'the log names the UNIX-socket client and the reason');
like($t->error_log, qr/refused unix:, reason: geo_denylist/,
    'and the deny list');

# what nginx -t says of a near miss
my $c = Sekisho::Test->new;
$c->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP' });
my ($rc, $out) = $c->try_config("sekisho_geoip_db %%TESTDIR%%/country.mmdb;",
    'sekisho_geo_allow unix:/x;');
isnt($rc, 0, '"unix:/x" is not "unix:": nginx -t fails');
like($out, qr/invalid address or network "unix:\/x" in "sekisho_geo_allow"/,
    'naming the value and the directive');
$c->done_quiet;

$t->done_quiet;
done_testing;
