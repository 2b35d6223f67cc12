#!/usr/bin/perl

# End to end with the card: pcscd with the virtual reader, the virtual
# My Number card, Redis, nginx with the module and an upstream.
# sekisho-card logs in through the gateway; the upstream sees the
# card's identity; a wrong PIN counts down and blocks without a login;
# logout ends the session; an application signed on the card is
# accepted, and refused once altered.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;
use Sekisho::Card;
use Sekisho::JPKI;

for my $need (qw(pcscd openssl curl)) {
    plan skip_all => "$need not installed (scripts/deps)"
        unless grep { -x "$_/$need" } split /:/, $ENV{PATH};
}

my $t = Sekisho::Test->new;
my $d = $t->dir;
my $pki = test_pki($t);

sub card { Sekisho::Card::card($t, @_) }

sub pin_file {
    my ($name, $pin) = @_;
    my $f = $t->write_file($name, "$pin\n");
    chmod 0600, $f;
    return $f;
}

my $auth_pin = pin_file('auth.pin', '1234');
my $sign_pin = pin_file('sign.pin', 'ABC123');
my $bad_pin = pin_file('bad.pin', '4321');

$t->start_redis;
$t->start_upstream;
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
$t->write_file('redis.key', "redis-key-0123456789abcdef\n");
chmod 0600, "$d/session.key", "$d/redis.key";

my $GATEWAY = Sekisho::Card::gateway_http();

$t->write_config(<<"EOF");
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

$GATEWAY

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login {
            sekisho_jpki_login;
            sekisho_lockout ip attempts=10;
        }
        location = /jpki/logout { sekisho_jpki_logout; }

        location /app/ {
            sekisho_jpki_require on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /app/submit {
            sekisho_jpki_require on;
            sekisho_jpki_signed_body on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

$t->run;
my $port = $t->port(0);
my $base = "http://127.0.0.1:$port";

my %serial;
for my $line (split /\n/, $t->read_file('pki/people.txt')) {
    $serial{$1} = $2 if $line =~ /^(\S+)\.pem\s.*serial=([0-9A-F]+)/;
}

Sekisho::Card::start_pcscd($t);
Sekisho::Card::start_card($t, who => 'alice', pki => $pki,
    auth_pin => '1234', sign_pin => 'ABC123');

# a card login through the gateway

my ($rc, $out, $err) = card('login', "$base/jpki/login", '--pin-file',
    $auth_pin, '--cookie-jar', "$d/jar");
is($rc, 0, 'sekisho-card logs in through the gateway') or diag($err);
like($out, qr/"serial":"$serial{'alice-auth'}"/,
    'the gateway answers with the card\'s serial');
like($out, qr/"revocation":"good"/, 'checked against the CRL');
unlike($out . $err, qr/1234/, 'the PIN is never printed');

my $jar = $t->read_file('jar');
my ($cookie) = $jar =~ /\tsid\t(\S+)/;
ok($cookie, 'the session cookie is in the jar');

my $r = http_get('/app/page', port => $port,
    headers => { Cookie => "sid=" . ($cookie // '') });
is(http_status($r), 200, 'the session opens the application');
like(http_body($r), qr/^X-Sekisho-JPKI-Serial: $serial{'alice-auth'}\r?$/mi,
    'the upstream sees the card\'s serial');
like(http_body($r), qr/^X-Sekisho-JPKI-Revocation: good\r?$/mi,
    'and the revocation result');

my $curl = `curl -s -b '$d/jar' '$base/app/page'`;
like($curl, qr/X-Sekisho-JPKI-Serial: $serial{'alice-auth'}/i,
    'curl with the cookie jar works too');

# a signed application, made on the card

my $form = '{"application":"転入届","to":"東京都千代田区"}';
$t->write_file('form.json', $form);
($rc, $out, $err) = card('sign', 'sign', '--cms', '--in', "$d/form.json",
    '--pin-file', $sign_pin);
is($rc, 0, 'the card signs the application (sign PIN)') or diag($err);
(my $sig = $out) =~ s/\s+//g;

$r = http_post('/app/submit', $form, port => $port,
    type => 'application/json',
    headers => { Cookie => "sid=$cookie", 'X-JPKI-Signature' => $sig });
is(http_status($r), 200, 'the signed application is accepted');
like(http_body($r), qr/^X-Sekisho-JPKI-Signer-Name: %E5%B1%B1%E7%94%B0/mi,
    'the upstream sees the signer\'s name (山田...)');
like(http_body($r), qr/^X-Sekisho-JPKI-Serial: $serial{'alice-auth'}/mi,
    'and the session\'s card');

(my $altered = $form) =~ s/千代田区/港区/;
$r = http_post('/app/submit', $altered, port => $port,
    type => 'application/json', headers => { Cookie => "sid=$cookie",
    'X-JPKI-Signature' => $sig, Accept => 'application/json' });
is(http_status($r), 403, 'an altered application is refused');
like(http_body($r), qr/"error":"jpki_bad_signature"/, 'as a bad signature');

# logout

$r = http_post('/jpki/logout', '', port => $port,
    headers => { Cookie => "sid=$cookie" });
like(http_body($r), qr/"logged_out":true/, 'logout');
$r = http_get('/app/page', port => $port,
    headers => { Cookie => "sid=$cookie", Accept => 'application/json' });
like(http_body($r), qr/"error":"session_revoked"/,
    'the session is over after logout');

# a wrong PIN counts down on the card and blocks it; no login follows

($rc, $out, $err) = card('login', "$base/jpki/login", '--pin-file', $bad_pin);
is($rc, 7, 'wrong PIN: exit code 7');
like($err, qr/2 tries? left/i, 'wrong PIN: two tries left');
($rc, $out, $err) = card('login', "$base/jpki/login", '--pin-file', $bad_pin);
like($err, qr/1 tr(y|ies) left/i, 'wrong PIN again: one try left');
($rc, $out, $err) = card('status');
like($out, qr/^auth PIN: 1 of 3 tries left$/m,
    'status shows one try left');
($rc, $out, $err) = card('status');
like($out, qr/^auth PIN: 1 of 3 tries left$/m, 'and spends none');
($rc, $out, $err) = card('login', "$base/jpki/login", '--pin-file', $bad_pin);
ok($rc == 8 || $rc == 7, "third wrong PIN: refused (exit $rc)");
($rc, $out, $err) = card('status');
like($out, qr/^auth PIN: (0 of 3 tries left|blocked)/mi,
    'now the auth PIN is blocked');
($rc, $out, $err) = card('login', "$base/jpki/login", '--pin-file', $auth_pin);
is($rc, 8, 'even the right PIN is refused by a blocked card');
like($err, qr/blocked/i, 'and the tool says the PIN is blocked');

my $audit = $t->read_file('audit.jsonl');
is(scalar(() = $audit =~ /"event.reason":"jpki_login_ok"/g), 1,
    'the gateway saw exactly one card login');

$t->done;
