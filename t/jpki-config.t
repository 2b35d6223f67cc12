#!/usr/bin/perl

# JPKI configuration mistakes make "nginx -t" fail and name what is
# wrong: missing authorities, keys and Redis, files that are not what
# they claim, CRLs of nobody we trust, bad parameters.

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

$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
$t->write_file('short.key', "0123456789abcdef\n");
$t->write_file('junk.pem', "not a certificate\n");
chmod 0600, map { "$d/$_" } qw(session.key short.key);

my $redis = 'sekisho_redis 127.0.0.1:6390;';
my $auth = "sekisho_jpki_auth_ca $pki/bundle-auth-ca.pem;";
my $sign = "sekisho_jpki_sign_ca $pki/sign-ca.pem;";
my $key = "sekisho_session_key $d/session.key;";
my $crl = "sekisho_jpki_crl $pki/auth-ca.crl.pem $pki/sign-ca.crl.pem;";

sub check {
    my ($http, $loc) = @_;
    return $t->try_config($http, "location /jpki/ { $loc }");
}

my ($rc, $out) = check("$redis $auth $sign $key $crl "
    . 'sekisho_jpki_revocation best_effort; sekisho_session_idle 10m; '
    . 'sekisho_session_lifetime 4h; sekisho_session_cookie s secure=off;',
    'location = /jpki/challenge { sekisho_jpki_challenge ttl=60s; } '
    . 'location = /jpki/login { sekisho_jpki_login; } '
    . 'location = /jpki/logout { sekisho_jpki_logout; } '
    . 'location /jpki/app { sekisho_jpki_require on; '
    . 'sekisho_jpki_signed_body on; }');
is($rc, 0, 'a full JPKI configuration passes nginx -t') or diag($out);

($rc, $out) = check("$redis $auth $key "
    . "sekisho_jpki_crl $pki/auth-ca-stale.crl.pem;",
    'sekisho_jpki_login;');
is($rc, 0, 'a stale CRL is accepted at start') or diag($out);
like($out, qr/auth-ca-stale\.crl\.pem" is past its next update/,
    'but warned about');

$t->config_errors(\&check,
    [ "$auth $key", 'sekisho_jpki_login;',
        qr/"sekisho_jpki_login" and "sekisho_jpki_logout" require "sekisho_redis"/,
        'login without Redis' ],
    [ "$redis $key", 'sekisho_jpki_login;',
        qr/"sekisho_jpki_login" requires "sekisho_jpki_auth_ca"/,
        'login without the auth CA' ],
    [ "$redis $auth", 'sekisho_jpki_login;',
        qr/require "sekisho_session_key"/, 'login without a session key' ],
    [ "$redis", 'sekisho_jpki_require on;',
        qr/require "sekisho_session_key"/, 'require without a session key' ],
    [ "$key", 'sekisho_jpki_require on;',
        qr/"sekisho_jpki_require" requires "sekisho_redis"/,
        'require without Redis' ],
    [ "$redis $auth", 'sekisho_jpki_signed_body on;',
        qr/"sekisho_jpki_signed_body" requires "sekisho_jpki_sign_ca"/,
        'signed bodies without the sign CA' ],
    [ "$auth sekisho_jpki_revocation require;", '',
        qr/"sekisho_jpki_revocation" other than "off" requires "sekisho_jpki_crl"/,
        'revocation required without a CRL' ],
    [ "sekisho_jpki_revocation sometimes;", '',
        qr/invalid value "sometimes" in "sekisho_jpki_revocation" directive, it must be "require", "best_effort" or "off"/,
        'unknown revocation policy' ],
    [ "sekisho_jpki_auth_ca $d/none.pem;", '',
        qr/"sekisho_jpki_auth_ca": cannot open ".*none\.pem"/,
        'CA file missing' ],
    [ "sekisho_jpki_auth_ca $d/junk.pem;", '',
        qr/"sekisho_jpki_auth_ca": no PEM certificate in ".*junk\.pem"/,
        'CA file without a certificate' ],
    [ "sekisho_jpki_auth_ca $pki/alice-auth.pem;", '',
        qr/holds a certificate that is not a CA certificate/,
        'an end-user certificate as CA' ],
    [ "$auth $auth", '', qr/"sekisho_jpki_auth_ca" directive is duplicate/,
        'duplicate auth CA' ],
    [ "$auth sekisho_jpki_crl $pki/sign-ca.crl.pem;", '',
        qr/"sekisho_jpki_crl": ".*sign-ca\.crl\.pem" is not signed by any/,
        'a CRL of an authority not configured' ],
    [ "$auth sekisho_jpki_crl $d/junk.pem;", '',
        qr/"sekisho_jpki_crl": ".*junk\.pem" is not a CRL/, 'not a CRL' ],
    [ "$auth sekisho_jpki_crl $d/none.crl;", '',
        qr/"sekisho_jpki_crl": cannot read ".*none\.crl"/, 'CRL missing' ],
    [ "sekisho_session_key $d/short.key;", '',
        qr/secret file ".*short\.key" must hold at least 32 bytes/,
        'session key too short' ],
    [ "sekisho_session_key $d/none.key;", '',
        qr/cannot read secret file ".*none\.key"/, 'session key missing' ],
    [ 'sekisho_session_cookie "a;b";', '',
        qr/invalid cookie name "a;b" in "sekisho_session_cookie"/,
        'bad cookie name' ],
    [ 'sekisho_session_cookie s secure=no;', '',
        qr/invalid parameter "secure=no" in "sekisho_session_cookie" directive/,
        'bad cookie parameter' ],
    [ 'sekisho_session_idle forever;', '',
        qr/"sekisho_session_idle" directive invalid value/, 'bad idle time' ],
    [ "$redis $key", 'sekisho_jpki_challenge ttl=0;',
        qr/invalid parameter "ttl=0" in "sekisho_jpki_challenge" directive/,
        'zero challenge ttl' ],
    [ "$redis $key", 'sekisho_jpki_challenge lifetime=3;',
        qr/invalid parameter "lifetime=3" in "sekisho_jpki_challenge"/,
        'unknown challenge parameter' ],
    [ "$redis $auth $key", 'sekisho_jpki_login; sekisho_jpki_logout;',
        qr/"sekisho_jpki_logout" directive is duplicate/,
        'two endpoints in one location' ],
    [ "sekisho_jpki_require on;", '',
        qr/"sekisho_jpki_require" directive is not allowed here|require "sekisho_session_key"/,
        'require at server level without a key' ],
);

$t->done;
