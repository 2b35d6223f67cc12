#!/usr/bin/perl

# Signed submissions, session key rotation and the absolute session
# lifetime, through real HTTP: a body with a detached CMS signature by
# a JPKI signing certificate reaches the upstream with the signer's
# identity; an altered body or signature, a missing one, the wrong
# certificate, a revoked one or SHA-1 are refused with their reasons.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(decode_base64 encode_base64);
use Time::HiRes qw(sleep);
use Sekisho::Test;
use Sekisho::JPKI;

my $t = Sekisho::Test->new;
my $pki = test_pki($t);
my $d = $t->dir;

$t->start_redis;
$t->start_upstream;
$t->write_file('old.key', "old-session-key-0123456789abcdef0123456\n");
$t->write_file('new.key', "new-session-key-0123456789abcdef0123456\n");
chmod 0600, "$d/old.key", "$d/new.key";

my $config = <<'EOF';
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;

    sekisho_jpki_auth_ca %%TESTDIR%%/pki/auth-ca.pem;
    sekisho_jpki_sign_ca %%TESTDIR%%/pki/sign-ca.pem;
    sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca.crl.pem
                     %%TESTDIR%%/pki/sign-ca.crl.pem;

    sekisho_session_key KEYS;
    sekisho_session_cookie sid secure=off;
    sekisho_session_lifetime 5s;

    sekisho_audit_log %%TESTDIR%%/audit.jsonl;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        client_body_buffer_size 1k;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }

        location /app/ {
            sekisho_jpki_require on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /submit {
            sekisho_jpki_signed_body on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /metrics { sekisho_metrics; }

        # internal redirects: each location is checked by its own rules
        location /redir/ {
            sekisho_jpki_require on;
            root %%TESTDIR%%/nothing;
            try_files $uri /submit;
        }

        location /sredir/ {
            sekisho_jpki_signed_body on;
            root %%TESTDIR%%/nothing;
            try_files $uri /app/;
        }
    }
}
EOF

(my $conf = $config) =~ s/KEYS/%%TESTDIR%%\/old.key/;
$t->write_config($conf);
$t->run;

my $port = $t->port(0);

sub submit {
    my ($body, $sig, %h) = @_;
    $h{'X-JPKI-Signature'} = $sig if defined $sig;
    return http_post('/submit', $body, port => $port,
        type => 'application/json', headers => \%h);
}

sub reason_of { json_field(http_body($_[0]), 'error') }

# signed submissions

my $form = '{"application":"転入届","from":"大阪市","to":"東京都千代田区"}';
my $sig = cms_sign("$pki/alice-sign.pem", "$pki/alice-sign.key", $form);

my $r = submit($form, $sig);
is(http_status($r), 200, 'a signed application reaches the upstream');
my $seen = http_body($r);
like($seen, qr/\Q$form\E/, 'with its body intact');
like($seen, qr/^X-Sekisho-JPKI-Signer-Name: (%[0-9A-F]{2})+\r?$/mi,
    'the signer\'s name, percent-encoded UTF-8');
sub header_text {
    my ($name) = @_;
    my ($v) = $seen =~ /^\Q$name\E: (\S+)/mi;
    ($v //= '') =~ s/%([0-9A-F]{2})/chr(hex($1))/ge;
    return $v;
}

# alice as scripts/test/jpki-test-pki makes her
is(header_text('X-Sekisho-JPKI-Signer-Name'), '山田 花子',
    'the name is the one in the certificate');
is(header_text('X-Sekisho-JPKI-Signer-Sex'), '2', 'the sex code');
is(header_text('X-Sekisho-JPKI-Signer-Birth-Date'), '319850401',
    'the birth date (EYYYYMMDD)');
is(header_text('X-Sekisho-JPKI-Signer-Address'), '東京都千代田区霞が関1-1-1',
    'the address');
like($seen, qr/^X-Sekisho-JPKI-Signer-Serial: [0-9A-F]+\r?$/mi,
    'the signing certificate\'s serial');

my $big = '{"attachment":"' . ('x' x 5000) . '"}';
$r = submit($big, cms_sign("$pki/bob-sign.pem", "$pki/bob-sign.key", $big));
is(http_status($r), 200, 'a body larger than the buffer (in a file) too');

(my $altered = $form) =~ s/大阪市/京都市/;
$r = submit($altered, $sig, Accept => 'application/json');
is(http_status($r), 403, 'an altered body: 403');
is(reason_of($r), 'jpki_bad_signature', 'an altered body: jpki_bad_signature');

my $der = decode_base64($sig);
my $flipped = $der;
substr($flipped, length($der) - 10, 1) ^= "\x01";
$r = submit($form, encode_base64($flipped, ''), Accept => 'application/json');
is(http_status($r), 403, 'an altered signature value: 403');
is(reason_of($r), 'jpki_bad_signature', 'altered signature: jpki_bad_signature');

$r = submit($form, undef, Accept => 'application/json');
is(http_status($r), 400, 'no signature: 400');
is(reason_of($r), 'jpki_unsigned', 'no signature: jpki_unsigned');

$r = submit($form, 'bm90IGEgQ01T', Accept => 'application/json');
is(http_status($r), 400, 'not CMS: 400');
is(reason_of($r), 'jpki_bad_cms', 'not CMS: jpki_bad_cms');

$r = submit($form, cms_sign("$pki/alice-auth.pem", "$pki/alice-auth.key",
    $form), Accept => 'application/json');
is(reason_of($r), 'jpki_wrong_certificate',
    'signed with the auth certificate: jpki_wrong_certificate');

$r = submit($form, cms_sign("$pki/revoked-sign.pem", "$pki/revoked-sign.key",
    $form), Accept => 'application/json');
is(reason_of($r), 'jpki_revoked', 'a revoked signing certificate');

$r = submit($form, cms_sign("$pki/expired-sign.pem", "$pki/expired-sign.key",
    $form), Accept => 'application/json');
is(reason_of($r), 'jpki_validity', 'an expired signing certificate');

$r = submit($form, cms_sign("$pki/alice-sign.pem", "$pki/alice-sign.key",
    $form, 'sha1'), Accept => 'application/json');
is(reason_of($r), 'jpki_bad_algorithm', 'a SHA-1 signature');

$r = submit($altered, $sig);
like(http_body($r), qr/署名/, 'browsers get the bilingual page');

my $audit = $t->read_file('audit.jsonl');
like($audit, qr/"event.reason":"jpki_signed_body"[^\n]*"tls\.client\.x509\.serial_number":"[0-9A-F]+"/,
    'audit: a signed submission with the signer\'s serial');
like($audit, qr/"event.reason":"jpki_bad_signature"[^\n]*"url.path":"\/submit"/,
    'audit: a refused one');

my $m = http_body(http_get('/metrics', port => $port));
like($m, qr/^sekisho_jpki_verifications_total\{use="signed_body",result="ok"\} 2$/m,
    'metrics: two signed bodies verified');
like($m, qr/^sekisho_jpki_verifications_total\{use="signed_body",result="jpki_bad_signature"\} 3$/m,
    'metrics: three bad signatures');

# session key rotation: the previous key still opens sessions

$r = card_login($port, cert => "$pki/alice-auth.pem",
    key => "$pki/alice-auth.key");
my $old_cookie = session_cookie($r);
ok($old_cookie, 'a session under the old key');

($conf = $config) =~ s/KEYS/%%TESTDIR%%\/new.key %%TESTDIR%%\/old.key/;
$t->write_config($conf);
$t->reload;

$r = http_get('/app/', port => $port, headers => { Cookie => "sid=$old_cookie" });
is(http_status($r), 200, 'after rotation the old key\'s session still works');
my $new_cookie = session_cookie($r);
ok($new_cookie && $new_cookie ne $old_cookie,
    'and is re-issued under the new key');

($conf = $config) =~ s/KEYS/%%TESTDIR%%\/new.key/;
$t->write_config($conf);
$t->reload;

$r = http_get('/app/', port => $port,
    headers => { Cookie => "sid=$old_cookie", Accept => 'application/json' });
is(reason_of($r), 'session_invalid', 'once the old key is gone, so is it');
$r = http_get('/app/', port => $port, headers => { Cookie => "sid=$new_cookie" });
is(http_status($r), 200, 'the re-issued one lives on');

# an internal redirect does not skip the next location's checks

$r = card_login($port, cert => "$pki/bob-auth.pem", key => "$pki/bob-auth.key");
my $bob = session_cookie($r);
$r = http_post('/redir/x', $form, port => $port, type => 'application/json',
    headers => { Cookie => "sid=$bob", Accept => 'application/json' });
is(reason_of($r), 'jpki_unsigned',
    'a session, then a redirect to a signed-body location: the body is checked');
$r = http_post('/redir/x', $form, port => $port, type => 'application/json',
    headers => { Cookie => "sid=$bob", 'X-JPKI-Signature' => $sig });
is(http_status($r), 200, 'and a signed one passes both');
is(scalar(() = http_body($r) =~ /^X-Sekisho-JPKI-Serial:/mig), 1,
    'with the identity headers sent once');
$r = http_post('/sredir/x', $form, port => $port, type => 'application/json',
    headers => { 'X-JPKI-Signature' => $sig, Accept => 'application/json' });
is(reason_of($r), 'session_missing',
    'a signed body, then a redirect to a session location: no session, 401');

# the absolute lifetime (5 s here) ends even an active session
my $status = 0;
my $reason = '';
for my $i (1 .. 6) {
    sleep 1;
    $r = http_get('/app/', port => $port,
        headers => { Cookie => "sid=$new_cookie", Accept => 'application/json' });
    $status = http_status($r);
    $reason = reason_of($r) // '';
    last if $status != 200;
}
is($reason, 'session_expired', 'after its lifetime a session expires');

$t->done;
