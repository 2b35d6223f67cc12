#!/usr/bin/perl

# The card tool's way out of an office (issue 14): sekisho-card logs in
# to the gateway through an HTTP proxy named by http_proxy or
# https_proxy (Debian's tinyproxy on loopback), straight past it for
# the hosts no_proxy names; over TLS with --cacert, an unknown CA
# refused as before; HTTP/2 when the gateway offers it; the challenge's
# redirects followed, the login's never.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;
use Sekisho::Card;
use Sekisho::JPKI;

for my $need (qw(pcscd openssl tinyproxy)) {
    plan skip_all => "$need not installed (scripts/deps)"
        unless grep { -x "$_/$need" } split /:/, $ENV{PATH};
}
plan skip_all => 'vsmartcard-vpcd not installed (scripts/deps)'
    unless -f '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

my $t = Sekisho::Test->new;
my $d = $t->dir;
my $pki = test_pki($t);

sub card { Sekisho::Card::card($t, @_) }

my $auth_pin = $t->write_file('auth.pin', "1234\n");
chmod 0600, $auth_pin;

$t->start_redis;
$t->start_upstream;
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
$t->write_file('redis.key', "redis-key-0123456789abcdef\n");
chmod 0600, "$d/session.key", "$d/redis.key";

# the gateway's certificate, from no authority the system knows
my ($req_rc, undef, $req_err) = Sekisho::Card::run_cmd($t, ['openssl',
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout',
    "$d/tls.key", '-out', "$d/tls.pem", '-days', '1', '-subj',
    '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
die "openssl req failed:\n$req_err" if $req_rc;
chmod 0600, "$d/tls.key";

# HTTP/2 on the TLS port: "http2 on" from nginx 1.25.1, "listen ... http2"
# before (Debian 12 has 1.22)
my ($nv) = `/usr/sbin/nginx -v 2>&1` =~ m{nginx/(\d+\.\d+\.\d+)};
my $new_h2 = sprintf('%03d%03d%03d', split /\./, $nv // '0.0.0')
    ge '001025001';
my $h2_listen = $new_h2 ? '' : ' http2';
my $h2_on = $new_h2 ? 'http2 on;' : '';

my $login_conf = <<'EOF';
            sekisho_jpki_login;
            sekisho_lockout ip attempts=20;
EOF

my $GATEWAY = Sekisho::Card::gateway_http();

$t->write_config(<<"EOF");
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    log_format proto '\$request_method \$uri \$server_protocol \$status';

$GATEWAY

    server {
        listen 127.0.0.1:%%PORT_0%%;
        listen 127.0.0.1:%%PORT_tls%% ssl$h2_listen;
        $h2_on

        ssl_certificate %%TESTDIR%%/tls.pem;
        ssl_certificate_key %%TESTDIR%%/tls.key;

        access_log %%TESTDIR%%/proto.log proto;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login {
$login_conf
        }

        # a challenge that moved: a GET, followed
        location = /old/challenge { return 301 /jpki/challenge; }
        location = /old/login {
$login_conf
        }

        # from https down to http, and round in a circle: not followed
        location = /down/challenge {
            return 302 http://127.0.0.1:%%PORT_0%%/jpki/challenge;
        }
        location = /loop/challenge { return 302 /loop/challenge; }

        # a login that moved: a POST, never followed
        location = /moved/login { return 308 /jpki/login; }

        location /app/ {
            sekisho_jpki_require on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

$t->run;

my $port = $t->port(0);
my $tls_port = $t->port('tls');
my $plain = "http://127.0.0.1:$port/jpki/login";
my $tls = "https://127.0.0.1:$tls_port/jpki/login";

# CONNECT reaches the gateway's TLS port alone
my $pp = Sekisho::Card::start_proxy($t, connect_ports => [$tls_port]);
my $proxy = "http://127.0.0.1:$pp";

Sekisho::Card::start_pcscd($t);
Sekisho::Card::start_card($t, who => 'alice', pki => $pki,
    auth_pin => '1234', sign_pin => 'ABC123');

my %serial;
for my $line (split /\n/, $t->read_file('pki/people.txt')) {
    $serial{$1} = $2 if $line =~ /^(\S+)\.pem\s.*serial=([0-9A-F]+)/;
}
my $alice = $serial{'alice-auth'};

sub logins {
    my $audit = -f "$d/audit.jsonl" ? $t->read_file('audit.jsonl') : '';
    return scalar(() = $audit =~ /"event.reason":"jpki_login_ok"/g);
}

sub proxied { Sekisho::Card::proxy_requests($t) }

my $ok = 0;

###############################################################################
# plain HTTP through http_proxy: the proxy forwards each request

my ($rc, $out, $err) = card('login', $plain, '--pin-file', $auth_pin,
    { env => { http_proxy => $proxy } });
is($rc, 0, 'http_proxy: the login goes through the proxy') or diag($err);
$ok++ unless $rc;
like($out, qr/"serial":"$alice"/, 'http_proxy: the gateway knows the card');
like(proxied(), qr{^GET http://127\.0\.0\.1:$port/jpki/challenge }m,
    'http_proxy: the proxy carried the challenge');
like(proxied(), qr{^POST http://127\.0\.0\.1:$port/jpki/login }m,
    'http_proxy: and the login');

###############################################################################
# TLS through https_proxy: a CONNECT tunnel, HTTP/2 inside it

($rc, $out, $err) = card('-v', 'login', $tls, '--pin-file', $auth_pin,
    '--cacert', "$d/tls.pem", '--cookie-jar', "$d/jar",
    { env => { https_proxy => $proxy } });
is($rc, 0, 'https_proxy: the login goes through a CONNECT tunnel')
    or diag($err);
$ok++ unless $rc;
like($out, qr/"serial":"$alice"/, 'https_proxy: the gateway knows the card');
like(proxied(), qr/^CONNECT 127\.0\.0\.1:$tls_port /m,
    'https_proxy: the proxy opened the tunnel');
unlike(proxied(), qr{https://}, 'https_proxy: the proxy saw no request');
like($t->read_file('proto.log'), qr{^POST /jpki/login HTTP/2\.0 200$}m,
    'the gateway offers HTTP/2 over TLS: the login used it');
like($err, qr{^< HTTP/2 200$}m, '-v shows the HTTP version');

my ($sid) = $t->read_file('jar') =~ /\tsid\t(\S+)/;
ok($sid, 'https_proxy: the session cookie is in the jar');
$sid //= 'no cookie';
unlike($out . $err, qr/\Q$sid\E|1234/,
    '-v prints neither the cookie\'s value nor the PIN');
is((stat "$d/jar")[2] & 07777, 0600, 'the jar is mode 0600');

my $r = http_get('/app/page', port => $port,
    headers => { Cookie => "sid=$sid" });
like(http_body($r), qr/^X-Sekisho-JPKI-Serial: $alice\r?$/mi,
    'the session from behind the proxy opens the application');

###############################################################################
# the certificate: the system's CA store by default, --cacert alone

my $before = logins();

($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
    { env => { https_proxy => $proxy } });
is($rc, 13, 'a CA the system does not know: exit code 13');
my $untrusted = 'sekisho-card: challenge: TLS: the certificate of '
    . "127.0.0.1:$tls_port is not trusted: ";
like($err, qr/^\Q$untrusted\E.* \(see --cacert\)$/m,
    'a CA the system does not know: refused, as before');

($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
    '--cacert', "$pki/auth-ca.pem", { env => { https_proxy => $proxy } });
is($rc, 13, '--cacert with another CA: exit code 13');
like($err, qr/not trusted/, '--cacert with another CA: not trusted');

($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
    '--cacert', "$d/no-such.pem");
is($rc, 13, '--cacert with a missing file: exit code 13');
like($err, qr/TLS: cannot load the CA certificates from \Q$d\E\/no-such\.pem/,
    '--cacert with a missing file: says so');

is(logins(), $before, 'no login past a refused certificate');

###############################################################################
# no_proxy: straight to the gateway

my $dead = "http://127.0.0.1:" . $t->port('closed');

($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
    '--cacert', "$d/tls.pem", { env => { https_proxy => $dead } });
is($rc, 13, 'a proxy that is down: exit code 13');
my $refused = "sekisho-card: challenge: cannot connect to 127.0.0.1:$tls_port: "
    . 'Connection refused (Failed to connect to 127.0.0.1 port '
    . $t->port('closed') . ' ';
like($err, qr/^\Q$refused\E/m,
    'a proxy that is down: cannot connect, and libcurl\'s words say where');

($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
    '--cacert', "$d/tls.pem",
    { env => { https_proxy => $dead, no_proxy => '127.0.0.1' } });
is($rc, 0, 'no_proxy=127.0.0.1: past the dead proxy, straight in')
    or diag($err);
$ok++ unless $rc;

my $tunnels = () = proxied() =~ /^CONNECT /mg;
($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
    '--cacert', "$d/tls.pem",
    { env => { https_proxy => $proxy, NO_PROXY => 'localhost,127.0.0.1' } });
is($rc, 0, 'NO_PROXY with a list: login') or diag($err);
$ok++ unless $rc;
is(scalar(() = proxied() =~ /^CONNECT /mg), $tunnels,
    'NO_PROXY: the proxy saw no new tunnel');

# the proxy's own refusal: CONNECT reaches the TLS port alone
($rc, $out, $err) = card('login', "https://127.0.0.1:$port/jpki/login",
    '--pin-file', $auth_pin, { env => { https_proxy => $proxy } });
is($rc, 13, 'the proxy refuses the tunnel: exit code 13');
like($err, qr/the proxy refused a tunnel to 127\.0\.0\.1:$port: HTTP 403/,
    'the proxy refuses the tunnel: says so, with its status');

###############################################################################
# redirects: the challenge's GET follows, the login's POST does not

($rc, $out, $err) = card('login', "http://127.0.0.1:$port/old/login",
    '--pin-file', $auth_pin);
is($rc, 0, 'a challenge moved with 301: followed, login') or diag($err);
$ok++ unless $rc;
like($t->read_file('proto.log'), qr{^GET /old/challenge HTTP/1\.1 301$}m,
    'the gateway answered 301 to the old challenge URL');

($rc, $out, $err) = card('login', "https://127.0.0.1:$tls_port/down/login",
    '--pin-file', $auth_pin, '--cacert', "$d/tls.pem");
is($rc, 13, 'a challenge sent from https down to http: exit code 13');
like($err, qr/127\.0\.0\.1:$tls_port redirects where the tool does not follow/,
    'a challenge sent from https down to http: not followed');

($rc, $out, $err) = card('login', "http://127.0.0.1:$port/loop/login",
    '--pin-file', $auth_pin);
is($rc, 13, 'a challenge redirected in a circle: exit code 13');
like($err, qr/127\.0\.0\.1:$port redirects too many times/,
    'a challenge redirected in a circle: says so');

$before = logins();
($rc, $out, $err) = card('login', "http://127.0.0.1:$port/moved/login",
    '--challenge-url', "http://127.0.0.1:$port/jpki/challenge",
    '--pin-file', $auth_pin);
is($rc, 12, 'a login moved with 308: refused, exit code 12');
like($err, qr/login refused: HTTP 308/, 'a login moved: the status');
like($err, qr{redirects to http://127\.0\.0\.1:$port/jpki/login \(not followed},
    'a login moved: the target named, not followed');
is(logins(), $before, 'a login moved: the signed answer was not sent on');
is((split /\n/, $t->read_file('proto.log'))[-1],
    'POST /moved/login HTTP/1.1 308', 'a login moved: nothing followed');

is(logins(), $ok, "the gateway saw exactly the $ok logins");

$t->done;
