#!/usr/bin/perl

# The real J-LIS material of ../shared/data/real: the six JPKI CA
# certificates (authentication and signing, generations 2015, 2019,
# 2023) load; a real user-authentication certificate read off a My
# Number card chains to J-LIS's 2015 authentication CA with the clock at
# 2020-06-01 (libfaketime around nginx) and fails only at the signature
# (we hold no card), its real SHA-1 card signature is refused as SHA-1,
# and its distribution point (Tsukuba-shi) is read as J-LIS writes it;
# at today's date it is refused for its validity.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use MIME::Base64 qw(encode_base64);
use Test::More;
use Sekisho::Test;
use Sekisho::JPKI;

my $real = Sekisho::Test::top() . '/../shared/data/real';
my $faketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

plan skip_all => "no $real (the real JPKI data of ../shared)"
    unless -d "$real/my-number-myna";
plan skip_all => "libfaketime is missing (Debian package faketime)"
    unless -f $faketime;

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

sub pem_of {
    my ($file) = @_;
    return $file =~ /\.pem$/ ? slurp($file)
        : openssl_out('x509', '-inform', 'DER', '-in', $file);
}

my %auth = (
    '2015' => "$real/Hitachi-ImmutableStorage/authca01.cer",
    '2019' => "$real/Hitachi-ImmutableStorage/authca02.cer",
    '2023' => "$real/jpki-myna/auth_ca_2023.pem",
);
my %sign = (
    '2015' => "$real/nunnun-jpki-local-signer/jpki-signca01.cer",
    '2019' => "$real/nunnun-jpki-local-signer/jpki-signca02.cer",
    '2023' => "$real/nunnun-jpki-local-signer/jpki-signca03.cer",
);

my $cert = slurp("$real/my-number-myna/auth-cert-myna.cer");
my $sig256 = slurp("$real/my-number-myna/auth-message1-sha256rsapkcs.sig");
my $sig1 = slurp("$real/my-number-myna/auth-message1-sha1rsapkcs.sig");

# a gateway of the real CAs, at a given time (undef: now)
sub gateway {
    my ($when, $revocation) = @_;

    my $t = Sekisho::Test->new;
    $t->{env} = {
        LD_PRELOAD                    => $faketime,
        FAKETIME                      => "\@$when",
        FAKETIME_DONT_FAKE_MONOTONIC  => 1,
    } if $when;

    # nginx gives its workers only the variables "env" names
    my $env = $when ? "env FAKETIME;\nenv FAKETIME_DONT_FAKE_MONOTONIC;\n" : '';

    $t->write_file('auth-ca.pem', join '', map { pem_of($auth{$_}) } sort keys %auth);
    $t->write_file('sign-ca.pem', join '', map { pem_of($sign{$_}) } sort keys %sign);
    $t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
    chmod 0600, $t->dir . '/session.key';
    mkdir $t->dir . '/crl';

    $t->start_redis;
    $t->write_config(<<"END");
%%TEST_GLOBALS%%
$env
http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_jpki_auth_ca %%TESTDIR%%/auth-ca.pem;
    sekisho_jpki_sign_ca %%TESTDIR%%/sign-ca.pem;
    sekisho_jpki_crl_dir %%TESTDIR%%/crl;
    sekisho_jpki_revocation $revocation;
    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }
    }
}
END
    $t->run;
    return $t;
}

# the real certificate with a real card signature (not over our challenge)
sub real_login {
    my ($t, $sig) = @_;
    my $port = $t->port(0);
    my $challenge = get_challenge($port);
    my $body = '{"challenge":"' . $challenge . '","certificate":"'
        . encode_base64($cert, '') . '","signature":"'
        . encode_base64($sig, '') . '"}';
    my $r = http_post('/jpki/login', $body, port => $port,
        type => 'application/json');
    return json_field(http_body($r), 'error') // http_status($r);
}

# today: the six CAs load; the card's certificate expired in 2024

my $t = gateway(undef, 'best_effort');
like($t->error_log, qr/CRLs: no CRL file found/,
    'the six real CAs pass nginx -t (no CRL yet: said)');
is(real_login($t, $sig256), 'jpki_validity',
    'today, the real certificate is refused for its validity (2019-2024)');
$t->done_quiet;

# 2020-06-01: the chain to J-LIS's 2015 CA holds; the signature is ours
# to check, and it was made over another message

$t = gateway('2020-06-01 00:00:00', 'best_effort');
is(real_login($t, $sig256), 'jpki_bad_signature',
    '2020: the real certificate chains to authca01 and fails only at the '
    . 'signature');
is(real_login($t, $sig1), 'jpki_bad_algorithm',
    '2020: its real SHA-1 card signature is refused as SHA-1');
$t->done_quiet;

# 2020-06-01 under "require", with no CRL of Tsukuba-shi: its point is
# read from the real certificate and named

$t = gateway('2020-06-01 00:00:00', 'require');
is(real_login($t, $sig256), 'jpki_crl_stale',
    '2020, require, no CRL: jpki_crl_stale');
like($t->error_log,
    qr/no current CRL covers the distribution point "CN=Tsukuba-shi CRLDP,OU=Ibaraki-ken,OU=CRL Distribution Points,OU=JPKI for user authentication,O=JPKI,C=JP"/,
    'the log names the real distribution point, Tsukuba-shi');

$t->done;
