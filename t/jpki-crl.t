#!/usr/bin/perl

# CRLs as J-LIS publishes them, through real HTTP: a folder of CRLs,
# one per municipality's distribution point and CA generation
# (sekisho_jpki_crl_dir), kept in one index file that every worker maps.
# A card is checked against its own city's CRL even when another
# city's is newer; a card no current CRL covers is jpki_crl_stale, the
# point named in the log; a new, changed or removed file is taken in
# within seconds, a damaged one keeps its CRL and is said once; a
# reload reads nothing again; signed bodies follow the same rules.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use Test::More;
use Time::HiRes qw(sleep);
use Sekisho::Test;
use Sekisho::JPKI;

my $t = Sekisho::Test->new(workers => 2);
my $pki = test_pki($t);
my $d = $t->dir;

$t->start_redis;
$t->start_upstream;
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
chmod 0600, "$d/session.key";

# the operator's folder, as a sync job fills it
mkdir "$d/crl" or die;
for my $f (qw(auth-ca-tsukuba.crl.pem auth-ca-mito.crl.pem
              auth-ca-2-mito.crl.pem sign-ca-tsukuba.crl.pem auth-ca.arl.pem))
{
    copy("$pki/crl/$f", "$d/crl/$f") or die "copy $f: $!";
}

# a file dropped in the way a sync job does it: written, then renamed
sub put {
    my ($from, $to) = @_;
    copy($from, "$d/crl/.$to.tmp") or die "copy $from: $!";
    rename("$d/crl/.$to.tmp", "$d/crl/$to") or die "rename: $!";
}

$t->write_file('sign-bundle.pem', $t->read_file("$pki/sign-ca.pem"));

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_jpki_auth_ca %%TESTDIR%%/pki/bundle-auth-ca.pem;
    sekisho_jpki_sign_ca %%TESTDIR%%/sign-bundle.pem;
    sekisho_jpki_crl_dir %%TESTDIR%%/crl check=300ms;
    sekisho_jpki_revocation require;
    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }
        location = /submit {
            sekisho_jpki_signed_body on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

$t->run;

my $port = $t->port(0);

sub login {
    my ($who) = @_;
    return card_login($port, cert => "$pki/$who.pem", key => "$pki/$who.key");
}

sub outcome {
    my ($r) = @_;
    return http_status($r) == 200 ? 'ok' : json_field(http_body($r), 'error');
}

# the same answer from every worker, within a few seconds
sub becomes {
    my ($who, $want) = @_;
    my $got = '';
    for (1 .. 40) {
        my @all = map { outcome(login($who)) // '' } 1 .. 4;
        $got = join ',', @all;
        return $want if !grep { $_ ne $want } @all;
        sleep 0.25;
    }
    return $got;
}

like($t->error_log,
    qr/index "[^"]*sekisho_crl\/crl\.index": 5 CRLs, 1 entries \(5 files read, 0 unchanged\)/,
    'the master indexed the folder at startup');
ok(-f "$d/sekisho_crl/crl.index",
    'the index is a file beside the client body temporary files');

# distribution points, generations

is(outcome(login('tsukuba-auth')), 'ok',
    'a Tsukuba card: good by Tsukuba\'s CRL');
my $r = login('mito-auth');
is(outcome($r), 'jpki_revoked',
    'a Mito card revoked in Mito\'s CRL, though Tsukuba\'s is newer');
is(outcome(login('mito2-auth')), 'ok',
    'a card of the second generation: Mito\'s CRL of its own generation');
is(outcome(login('alice-auth')), 'jpki_crl_stale',
    'a card naming no distribution point: no CRL covers it here');
like($t->error_log, qr/no current CRL covers .*certificate/,
    'the log says why');

# a signed body: the signing certificate by the same rules
my $body = "application=1\n";
$r = http(Sekisho::Test::post_request('/submit', $body,
    type => 'text/plain',
    headers => { 'X-JPKI-Signature' => cms_sign(
        "$pki/tsukuba-sign.pem", "$pki/tsukuba-sign.key", $body) }), port => $port);
is(http_status($r), 200, 'a body signed by a Tsukuba signing certificate');
$r = http(Sekisho::Test::post_request('/submit', $body,
    type => 'text/plain',
    headers => { 'X-JPKI-Signature' => cms_sign(
        "$pki/alice-sign.pem", "$pki/alice-sign.key", $body) }), port => $port);
is(http_status($r), 403, 'one by a certificate no CRL covers: refused')
    or diag(http_body($r));

# a complete CRL of the issuer, dropped in, covers every card

put("$pki/auth-ca.crl.pem", 'auth-ca.crl.pem');
is(becomes('alice-auth', 'ok'), 'ok',
    'a complete CRL added: the card without a point logs in, on every worker');
is(becomes('revoked-auth', 'jpki_revoked'), 'jpki_revoked',
    'and the complete CRL\'s own entries count');
like($t->error_log, qr/CRLs: index rebuilt in \d+ ms: 6 CRLs, .*1 files read, 5 unchanged/,
    'worker 0 read the new file only');

# Mito's CRL replaced by one past its next update: stale, named

put("$pki/crl/stale-mito.crl.pem", 'auth-ca-mito.crl.pem');
unlink "$d/crl/auth-ca.crl.pem";
is(becomes('mito-auth', 'jpki_crl_stale'), 'jpki_crl_stale',
    'its city\'s CRL past its next update: jpki_crl_stale');
like($t->error_log, qr/no current CRL covers .*Mito-shi CRLDP/,
    'the log names the distribution point');

# a damaged file keeps the CRL it had, and is said once

put("$pki/crl/auth-ca-mito.crl.pem", 'auth-ca-mito.crl.pem');
is(becomes('mito-auth', 'jpki_revoked'), 'jpki_revoked', 'Mito\'s CRL back');
$t->write_file('crl/.t.tmp', "-----BEGIN X509 CRL-----\nbroken\n"
    . "-----END X509 CRL-----\n");
rename("$d/crl/.t.tmp", "$d/crl/auth-ca-mito.crl.pem") or die;
sleep 2;
is(outcome(login('mito-auth')), 'jpki_revoked',
    'a damaged file: the CRL read from it before stays in use');
my @said = $t->error_log =~ /auth-ca-mito\.crl\.pem" is not a CRL[^\n]*stays in use/g;
is(scalar @said, 1, 'and that is said once, not at every look');

# a removed file takes its CRL with it

unlink "$d/crl/auth-ca-mito.crl.pem";
is(becomes('mito-auth', 'jpki_crl_stale'), 'jpki_crl_stale',
    'Mito\'s file removed: no CRL covers its cards');
is(outcome(login('tsukuba-auth')), 'ok', 'Tsukuba\'s cards are unaffected');

# a reload finds the index current: nothing is read again

put("$pki/crl/auth-ca-mito.crl.pem", 'auth-ca-mito.crl.pem');
is(becomes('mito-auth', 'jpki_revoked'), 'jpki_revoked', 'Mito\'s CRL back again');
my $before = () = $t->error_log =~ /files read/g;
$t->reload;
is(outcome(login('mito-auth')), 'jpki_revoked', 'after a reload: revoked');
my $after = () = $t->error_log =~ /files read/g;
is($after, $before, 'a reload read no CRL file again');
like($t->error_log, qr/CRLs: index "[^"]*" is current/,
    'it found the index current');

# nginx -t names a file that no configured CA signed

my $t2 = Sekisho::Test->new;
my $pki2 = test_pki($t2);
mkdir $t2->dir . '/crl';
copy("$pki2/crl/sign-ca-tsukuba.crl.pem", $t2->dir . '/crl/sign.crl.pem');
my ($rc, $out) = $t2->try_config(
    "sekisho_jpki_auth_ca ${\ $t2->dir}/pki/auth-ca.pem;\n"
    . "sekisho_jpki_crl_dir ${\ $t2->dir}/crl;",
    'location = /jpki/login { sekisho_jpki_login; }');
isnt($rc, 0, 'a folder with a CRL no configured CA signed: nginx -t fails');
like($out, qr/"sekisho_jpki_crl_dir": "[^"]*sign\.crl\.pem" is not signed by any configured CA/,
    'naming the directive and the file');

$t->done;
