#!/usr/bin/perl

# "sekisho_jpki_revocation best_effort" and "off" through real HTTP:
# what a stale or missing CRL means, and that the result is always
# recorded (answer, upstream header, audit).  "require" is in t/jpki.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;
use Sekisho::JPKI;

my $t = Sekisho::Test->new;
my $pki = test_pki($t);
my $d = $t->dir;

$t->start_redis;
$t->start_upstream;
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
chmod 0600, "$d/session.key";

my $config = <<'EOF';
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_jpki_auth_ca %%TESTDIR%%/pki/bundle-auth-ca.pem;
    POLICY
    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;
    sekisho_audit_log %%TESTDIR%%/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }
        location /app/ {
            sekisho_jpki_require on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

sub start {
    my ($policy) = @_;
    (my $c = $config) =~ s/POLICY/$policy/;
    $t->write_config($c);
    $t->run;
}

my $port = $t->port(0);

sub login {
    my ($who) = @_;
    return card_login($port, cert => "$pki/$who.pem", key => "$pki/$who.key");
}

# best effort: a stale CRL does not stop logins, and says so
start("sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca-stale.crl.pem;\n"
    . "    sekisho_jpki_revocation best_effort;");

my $r = login('alice-auth');
is(http_status($r), 200, 'best_effort, stale CRL: alice logs in');
is(json_field(http_body($r), 'revocation'), 'unchecked',
    'and the answer says revocation was not checked');
my $cookie = session_cookie($r);
like(http_body(http_get('/app/', port => $port,
    headers => { Cookie => "sid=$cookie" })),
    qr/^X-Sekisho-JPKI-Revocation: unchecked\r?$/mi,
    'so does the header to the upstream');

$r = login('carol-auth');
is(json_field(http_body($r), 'revocation'), 'unchecked',
    'best_effort, no CRL for the issuer at all: unchecked');

like($t->read_file('audit.jsonl'),
    qr/"event.reason":"jpki_login_ok"[^\n]*"sekisho\.jpki\.revocation":"unchecked"/,
    'the audit record says unchecked');
$t->stop_nginx;

# best effort with a current CRL still refuses a revoked certificate
start("sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca.crl.pem;\n"
    . "    sekisho_jpki_revocation best_effort;");
$r = login('revoked-auth');
is(json_field(http_body($r), 'error'), 'jpki_revoked',
    'best_effort, current CRL: a revoked certificate is refused');
is(json_field(http_body(login('alice-auth')), 'revocation'), 'good',
    'and a good one is good');
$t->stop_nginx;

# off: the CRL is not looked at
start("sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca.crl.pem;\n"
    . "    sekisho_jpki_revocation off;");
$r = login('revoked-auth');
is(http_status($r), 200, 'off: not even a listed certificate is refused');
is(json_field(http_body($r), 'revocation'), 'unchecked', 'off: unchecked');

$t->done;
