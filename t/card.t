#!/usr/bin/perl
# The card side of the JPKI login (issue 4): the applicant's tool
# sekisho-card against the virtual My Number card through a private
# pcscd and vpcd, and OpenSC, an independent PC/SC client, against the
# same card.  The login is tested against a small HTTP server here
# that checks the signed message and the signature with openssl.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use Encode ();
use IO::Socket::IP;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep);

use Sekisho::Test;
use Sekisho::Card;

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

for my $need (qw(pcscd opensc-tool pkcs15-tool pkcs11-tool openssl curl)) {
    plan skip_all => "$need not installed (scripts/deps)"
        unless grep { -x "$_/$need" } split /:/, $ENV{PATH};
}
plan skip_all => 'vsmartcard-vpcd not installed (scripts/deps)'
    unless -f '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

my $t = Sekisho::Test->new;
my $d = $t->dir;
my $pki = Sekisho::Card::jpki_pki($t);

sub card { Sekisho::Card::card($t, @_) }
sub run { Sekisho::Card::run_cmd($t, [@_]) }

sub der_of {
    my ($pem) = @_;
    my ($rc, $der) = run('openssl', 'x509', '-in', $pem, '-outform', 'DER');
    return $der;
}

sub pin_file {
    my ($name, $pin) = @_;
    my $f = $t->write_file($name, "$pin\n");
    chmod 0600, $f;
    return $f;
}

my $auth_pin = pin_file('auth.pin', '1234');
my $sign_pin = pin_file('sign.pin', 'abc123');    # upper-cased by the tool
my $bad_pin = pin_file('bad.pin', '9999');
my $short_pin = pin_file('short.pin', '12');

$t->write_file('doc.txt', Encode::encode_utf8("申請書: 転入届\n"));
run('openssl', 'x509', '-in', "$pki/alice-auth.pem", '-pubkey', '-noout',
    '-out', "$d/alice-auth.pub");

###############################################################################
# No PC/SC service

{
    local $ENV{PCSCLITE_CSOCK_NAME} = "$d/no-such-pcscd.comm";
    my ($rc, $out, $err) = card('status');
    is($rc, 3, 'no pcscd: exit code 3');
    like($err, qr/PC\/SC service not running/, 'no pcscd: says so');
}

###############################################################################
# pcscd with the vpcd reader, no card yet

Sekisho::Card::start_pcscd($t);

my ($rc, $out, $err) = card('readers');
is($rc, 0, 'readers: exit 0');
like($out, qr/^0: Virtual PCD 00 00 \(no card\)$/m,
    'readers: the vpcd reader, empty');

($rc, $out, $err) = card('status');
is($rc, 5, 'no card: exit code 5');
like($err, qr/no card in any reader/, 'no card: says so');

###############################################################################
# alice's card

Sekisho::Card::start_card($t, who => 'alice', pki => $pki, verbose => 1);

($rc, $out) = card('readers');
like($out, qr/^0: Virtual PCD 00 00 \(card present\)$/m,
    'readers: card present');

($rc, $out, $err) = card('status');
is($rc, 0, 'status: exit 0');
like($out, qr/^card: My Number card \(JPKIAPICCTOKEN2\)$/m,
    'status: a My Number card');
like($out, qr/^auth PIN: 3 of 3 tries left$/m, 'status: auth PIN 3 tries');
like($out, qr/^sign PIN: 5 of 5 tries left$/m, 'status: sign PIN 5 tries');

($rc, $out, $err) = card('--reader', '1', 'status');
is($rc, 5, 'the empty second slot: no card');
($rc, $out, $err) = card('--reader', 'Nonexistent Reader', 'status');
is($rc, 4, 'an unknown reader: exit code 4');
like($err, qr/no reader "Nonexistent Reader"/, 'an unknown reader: says so');

# certificates

($rc, $out) = card('cert', 'auth');
is($rc, 0, 'cert auth: exit 0');
ok($out eq der_of("$pki/alice-auth.pem"),
    'cert auth: the DER of alice-auth.pem');

($rc, $out) = card('cert', 'auth', '--pem', '-o', "$d/auth.pem");
is($t->read_file("$d/auth.pem"), $t->read_file("$pki/alice-auth.pem"),
    'cert auth --pem -o: alice-auth.pem');

($rc, $out) = card('cert', 'auth-ca');
ok($rc == 0 && $out eq der_of("$pki/auth-ca.pem"), 'cert auth-ca');

($rc, $out, $err) = card('cert', 'sign', '--pin-stdin', { stdin => '' });
is($rc, 11, 'cert sign without a PIN: malformed, exit 11');
like($err, qr/nothing was sent to the card/, 'cert sign: no PIN sent');

($rc, $out, $err) = card('cert', 'sign', '--pin-file', $sign_pin);
is($rc, 0, 'cert sign with the sign PIN: exit 0') or diag($err);
ok($out eq der_of("$pki/alice-sign.pem"),
    'cert sign: the DER of alice-sign.pem');

($rc, $out, $err) = card('cert', 'sign', '--pin-stdin',
    { stdin => "ABC123\n" });
is($rc, 0, 'cert sign with the PIN on standard input');

# signatures

($rc, $out, $err) = card('sign', 'auth', '--in', "$d/doc.txt",
    '--pin-file', $auth_pin, '-o', "$d/doc.sig");
is($rc, 0, 'sign auth --in: exit 0') or diag($err);
is(-s "$d/doc.sig", 256, 'sign auth: 256 bytes');
($rc, $out) = run('openssl', 'dgst', '-sha256', '-verify',
    "$d/alice-auth.pub", '-signature', "$d/doc.sig", "$d/doc.txt");
like($out, qr/Verified OK/,
    'sign auth: openssl verifies it with the cert key');
$t->write_file('doc2.txt', Encode::encode_utf8("申請書: 転出届\n"));
($rc, $out) = run('openssl', 'dgst', '-sha256', '-verify',
    "$d/alice-auth.pub", '-signature', "$d/doc.sig", "$d/doc2.txt");
unlike($out, qr/Verified OK/, 'sign auth: not for another document');

my ($hrc, $hash) = run('openssl', 'dgst', '-sha256', '-r', "$d/doc.txt");
$hash = (split ' ', $hash)[0];
($rc, $out) = card('sign', 'auth', '--digest', $hash, '--base64',
    '--pin-file', $auth_pin);
is($rc, 0, 'sign auth --digest --base64: exit 0');
is(decode_base64($out), $t->read_file("$d/doc.sig"),
    'sign --digest: the same signature (PKCS#1 v1.5 is deterministic)');

($rc, $out, $err) = card('sign', 'sign', '--cms', '--in', "$d/doc.txt",
    '--pin-file', $sign_pin, '-o', "$d/doc.cms.b64");
is($rc, 0, 'sign sign --cms: exit 0') or diag($err);
$t->write_file('doc.cms', decode_base64($t->read_file("$d/doc.cms.b64")));
($rc, $out, $err) = run('openssl', 'cms', '-verify', '-binary', '-inform',
    'DER', '-in', "$d/doc.cms", '-content', "$d/doc.txt", '-CAfile',
    "$pki/sign-ca.pem", '-purpose', 'any', '-out', '/dev/null');
like($err, qr/Verification successful/,
    'sign --cms: openssl cms -verify accepts it against sign-ca.pem');
($rc, $out, $err) = run('openssl', 'cms', '-verify', '-binary', '-inform',
    'DER', '-in', "$d/doc.cms", '-content', "$d/doc2.txt", '-CAfile',
    "$pki/sign-ca.pem", '-purpose', 'any', '-out', '/dev/null');
unlike($err, qr/Verification successful/, 'sign --cms: not another content');
($rc, $out, $err) = run('openssl', 'cms', '-verify', '-binary', '-inform',
    'DER', '-in', "$d/doc.cms", '-content', "$d/doc.txt", '-CAfile',
    "$pki/auth-ca.pem", '-purpose', 'any', '-out', '/dev/null');
unlike($err, qr/Verification successful/, 'sign --cms: not the auth CA');
($rc, $out) = run('openssl', 'cms', '-cmsout', '-print', '-inform', 'DER',
    '-in', "$d/doc.cms");
like($out, qr/signingTime/, 'sign --cms: a signingTime attribute');
like($out, qr/eContent: <ABSENT>/, 'sign --cms: detached');

($rc, $out, $err) = card('sign', 'auth', '--pin-file', $auth_pin);
is($rc, 2, 'sign without --in or --digest: usage');

# the emulator's APDU log never holds a PIN

my $log = $t->read_file('card-emu.log');
like($log, qr/> 00 20 00 80 04 \*\*\*\*/, 'emulator log: VERIFY masked');
unlike($log, qr/31 32 33 34|41 42 43 31 32 33/, 'emulator log: no PIN bytes');

###############################################################################
# OpenSC, independently

{
    my $p11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

    ($rc, $out) = run('opensc-tool', '-l');
    like($out, qr/Yes\s+Virtual PCD 00 00/, 'opensc-tool -l: the card');

    ($rc, $out) = run('opensc-tool', '-r', '0', '-a', '-n');
    like($out, qr/^jpki$/m, 'opensc-tool -n: the jpki driver');

    ($rc, $out) = run('pkcs15-tool', '-D');
    like($out, qr/PKCS#15 Card \[JPKI\]/, 'pkcs15-tool -D: a JPKI card');
    like($out, qr/PIN \[User Authentication PIN\].*?min_len:4, max_len:4/s,
        'pkcs15-tool -D: the auth PIN, 4 digits');
    like($out, qr/PIN \[Digital Signature PIN\].*?min_len:6, max_len:16/s,
        'pkcs15-tool -D: the sign PIN, 6 to 16');
    is(scalar(() = $out =~ /^X\.509 Certificate \[/mg), 4,
        'pkcs15-tool -D: four certificates');

    ($rc, $out) = run('pkcs15-tool', '--list-pins');
    like($out, qr/User\ Authentication\ PIN .*? Tries\ left\s*:\ 3 .*?
                   Digital\ Signature\ PIN .*? Tries\ left\s*:\ 5/sx,
        'pkcs15-tool --list-pins: tries left 3 and 5');

    ($rc, $out) = run('pkcs15-tool', '--read-certificate', '01', '-o',
        "$d/p15-01.pem");
    ok(-s "$d/p15-01.pem"
        && der_of("$d/p15-01.pem") eq der_of("$pki/alice-auth.pem"),
        'pkcs15-tool --read-certificate 01: alice-auth');

    ($rc, $out, $err) = Sekisho::Card::run_cmd($t, ['pkcs11-tool',
        '--module', $p11, '--login', '--pin', 'env:SEKISHO_TEST_PIN',
        '--id', '01', '-s', '-m', 'SHA256-RSA-PKCS', '-i', "$d/doc.txt",
        '-o', "$d/p11.sig"], env => { SEKISHO_TEST_PIN => '1234' });
    is($rc, 0, 'pkcs11-tool signs with the auth key') or diag($err);
    ($rc, $out) = run('openssl', 'dgst', '-sha256', '-verify',
        "$d/alice-auth.pub", '-signature', "$d/p11.sig", "$d/doc.txt");
    like($out, qr/Verified OK/, 'pkcs11-tool signature: openssl verifies it');
}

###############################################################################
# login, against a small gateway stand-in

my $gw_port = $t->port('gateway');
my $gw_log = "$d/gateway.log";
my $gw_pid = start_gateway($gw_port);
my $login = "http://127.0.0.1:$gw_port/jpki/login";

($rc, $out, $err) = card('login', $login, '--pin-file', $auth_pin);
is($rc, 0, 'login: exit 0') or diag($err);
like($out, qr/^\{"ok":true,"cn":"[0-9A-F]+"\}$/m,
    'login: the gateway\'s JSON printed');
like($out, qr/^Cookie: sekisho_session=s3cr3t-[0-9a-f]+$/m,
    'login: the session cookie printed');
my $glog = $t->read_file($gw_log);
like($glog, qr/^verified host=127\.0\.0\.1:$gw_port$/m,
    'gateway: the signature verifies over sekisho-jpki-login:v1, Host, '
    . 'challenge');
like($glog, qr/^wrong-host-fails$/m,
    'gateway: the same signature fails for another Host');
like($glog, qr/^type=application\/json$/m, 'gateway: JSON posted');
like($glog, qr/^cert=alice-auth$/m, 'gateway: the auth certificate posted');

($rc, $out, $err) = card('login', $login, '--pin-file', $auth_pin,
    '--cookie-jar', "$d/jar.txt");
is($rc, 0, 'login --cookie-jar: exit 0');
unlike($out, qr/Cookie:/, 'login --cookie-jar: the cookie not printed');
is((stat "$d/jar.txt")[2] & 07777, 0600, 'cookie jar: mode 0600');
($rc, $out) = run('curl', '-s', '-b', "$d/jar.txt",
    "http://127.0.0.1:$gw_port/whoami");
like($out, qr/^cookie=sekisho_session=s3cr3t-[0-9a-f]+$/,
    'curl -b with the jar sends the session cookie');

($rc, $out, $err) = card('login', "http://127.0.0.1:$gw_port/other/login",
    '--challenge-url', "http://127.0.0.1:$gw_port/jpki/challenge",
    '--pin-file', $auth_pin);
is($rc, 0, 'login --challenge-url: exit 0') or diag($err);

($rc, $out, $err) = card('login', "http://127.0.0.1:$gw_port/refuse/login",
    '--challenge-url', "http://127.0.0.1:$gw_port/jpki/challenge",
    '--pin-file', $auth_pin);
is($rc, 12, 'login refused: exit code 12');
like($err, qr/login refused: HTTP 403/, 'login refused: the status');
like($err, qr/"error":"refused"/, 'login refused: the body');

($rc, $out, $err) = card('login', "http://127.0.0.1:$gw_port/nochal/login",
    '--pin-file', $auth_pin);
is($rc, 13, 'no challenge in the answer: exit code 13');
like($err, qr/no valid challenge/, 'no challenge: says so');

my $closed = $t->port('closed');
($rc, $out, $err) = card('login', "http://127.0.0.1:$closed/jpki/login",
    '--pin-file', $auth_pin);
is($rc, 13, 'gateway down: exit code 13');
like($err, qr/cannot connect/, 'gateway down: says so');

($rc, $out, $err) = card('login', "http://127.0.0.1:$gw_port/jpki/login",
    '--pin-file', $short_pin);
is($rc, 11, 'login with a malformed PIN: exit 11');

($rc, $out, $err) = card('login', "https://127.0.0.1:$gw_port/jpki/login",
    '--pin-file', $auth_pin, '--timeout', '1');
is($rc, 13, 'https to a plain HTTP port: exit code 13');
like($err, qr/TLS/, 'https to a plain HTTP port: a TLS error');

# over TLS: nginx (without the module) in front of the stand-in
SKIP: {
    skip 'nginx not installed', 9 unless -x '/usr/sbin/nginx';

    run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', "$d/tls.key", '-out', "$d/tls.pem", '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');

    my $user = $> == 0 ? 'user root;' : '';
    $t->write_config(<<"EOF");
$user
daemon off;
master_process on;
worker_processes 1;
pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;
events { worker_connections 64; }
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_tls%% ssl;
        ssl_certificate %%TESTDIR%%/tls.pem;
        ssl_certificate_key %%TESTDIR%%/tls.key;
        location / {
            proxy_pass http://127.0.0.1:$gw_port;
            proxy_set_header Host \$http_host;
        }
    }
}
EOF
    $t->run;

    my $tls = 'https://127.0.0.1:' . $t->port('tls') . '/jpki/login';

    ($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin);
    is($rc, 13, 'https, unknown CA: exit code 13');
    like($err, qr/not trusted/, 'https, unknown CA: the certificate refused');

    ($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
        '--cacert', "$pki/auth-ca.pem");
    is($rc, 13, 'https, another CA: refused');

    ($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
        '--cacert', "$d/tls.pem");
    is($rc, 0, 'https with --cacert: login') or diag($err);
    like($out, qr/^Cookie: sekisho_session=/m, 'https: the session cookie');
    like($t->read_file($gw_log),
        qr/^verified host=127\.0\.0\.1:${\ $t->port('tls')}$/m,
        'https: signed for the Host with the TLS port');

    ($rc, $out, $err) = card('login', $tls, '--pin-file', $auth_pin,
        '--insecure');
    is($rc, 0, 'https --insecure: login without a check');

    (my $byname = $tls) =~ s/127\.0\.0\.1/localhost/;
    ($rc, $out, $err) = card('login', $byname, '--pin-file', $auth_pin,
        '--cacert', "$d/tls.pem");
    is($rc, 13, 'https by a name the certificate lacks: refused');
    like($err, qr/not trusted.*hostname mismatch/i,
        'https by another name: hostname mismatch');

    $t->stop_nginx;
}

###############################################################################
# wrong PINs, counted and kept

Sekisho::Card::start_card($t, who => 'alice', pki => $pki,
    state => "$d/card.state");

($rc, $out, $err) = card('sign', 'auth', '--in', "$d/doc.txt",
    '--pin-file', $short_pin);
is($rc, 11, 'a 2-digit PIN: refused, exit 11');
($rc, $out) = card('status');
like($out, qr/^auth PIN: 3 of 3 tries left$/m,
    'a malformed PIN spent no try');

($rc, $out, $err) = card('sign', 'auth', '--in', "$d/doc.txt",
    '--pin-file', $bad_pin);
is($rc, 7, 'wrong auth PIN: exit code 7');
like($err, qr/wrong auth .*PIN: 2 tries left/, 'wrong PIN: 2 tries left');
($rc, $out) = card('status');
like($out, qr/^auth PIN: 2 of 3 tries left$/m, 'status: 2 tries left');
($rc, $out) = card('status');
like($out, qr/^auth PIN: 2 of 3 tries left$/m,
    'status spends no try: still 2');

($rc, $out, $err) = card('login', $login, '--pin-file', $bad_pin);
is($rc, 7, 'wrong PIN at login: exit code 7');
like($err, qr/1 try left/, 'wrong PIN: 1 try left');

($rc, $out, $err) = card('sign', 'auth', '--in', "$d/doc.txt",
    '--pin-file', $bad_pin);
is($rc, 8, 'third wrong PIN: blocked, exit code 8');
like($err, qr/blocked/, 'third wrong PIN: says blocked');

($rc, $out) = card('status');
like($out, qr/^auth PIN: blocked$/m, 'status: auth PIN blocked');
like($out, qr/^sign PIN: 5 of 5 tries left$/m, 'status: sign PIN untouched');

($rc, $out, $err) = card('sign', 'auth', '--in', "$d/doc.txt",
    '--pin-file', $auth_pin);
is($rc, 8, 'right PIN on a blocked card: exit code 8');

Sekisho::Card::start_card($t, who => 'alice', pki => $pki,
    state => "$d/card.state");
($rc, $out) = card('status');
like($out, qr/^auth PIN: blocked$/m,
    'a restarted emulator with --state: still blocked');

###############################################################################
# the card leaves

Sekisho::Card::start_card($t, who => 'alice', pki => $pki, remove_after => 3);
($rc, $out, $err) = card('cert', 'auth');
is($rc, 9, 'card pulled out mid-way: exit code 9');
like($err, qr/the card was removed/, 'card pulled out: says so');

Sekisho::Card::start_card($t, who => 'alice', pki => $pki);
ok(Sekisho::Card::remove_card($t), 'SIGUSR1 pulls the card out');
($rc, $out, $err) = card('status');
is($rc, 5, 'pulled out: no card');
ok(Sekisho::Card::insert_card($t), 'SIGUSR1 puts it back');
($rc, $out) = card('status');
like($out, qr/^auth PIN: 3 of 3 tries left$/m, 'back in: status works');

# pcscd restarts: the card connects again by itself
Sekisho::Card::stop_pcscd($t);
Sekisho::Card::start_pcscd($t);
ok(Sekisho::Card::wait_card($t, 1), 'after a pcscd restart the card is back');

###############################################################################
# other cards

Sekisho::Card::start_card($t, who => 'bob', pki => $pki, no_jpki => 1);
($rc, $out, $err) = card('status');
is($rc, 6, 'no JPKI application: exit code 6');
like($err, qr/not a JPKI card/, 'no JPKI application: says so');

Sekisho::Card::start_card($t, who => 'bob', pki => $pki,
    token => 'JPKIAPICCTOKEN');
($rc, $out) = card('status');
like($out, qr/^card: older Juki card \(JPKIAPICCTOKEN\)$/m,
    'token JPKIAPICCTOKEN: an older Juki card');

# a card over T=0: 61xx and GET RESPONSE, 6Cxx and Le again
Sekisho::Card::start_card($t, who => 'bob', pki => $pki, t0 => 1);
($rc, $out, $err) = card('-v', 'sign', 'auth', '--in', "$d/doc.txt",
    '--pin-file', $auth_pin, '-o', "$d/t0.sig");
is($rc, 0, 'T=0: sign auth') or diag($err);
like($err, qr/^< 6100 .*\n> 00 C0 00 00 00$/m, 'T=0: GET RESPONSE after 6100');
run('openssl', 'x509', '-in', "$pki/bob-auth.pem", '-pubkey', '-noout',
    '-out', "$d/bob-auth.pub");
($rc, $out) = run('openssl', 'dgst', '-sha256', '-verify', "$d/bob-auth.pub",
    '-signature', "$d/t0.sig", "$d/doc.txt");
like($out, qr/Verified OK/, 'T=0: bob\'s signature verifies');
($rc, $out) = card('cert', 'auth');
ok($rc == 0 && $out eq der_of("$pki/bob-auth.pem"), 'T=0: cert auth');

Sekisho::Card::stop_card($t);
stop_gateway($gw_pid);

$t->done;

###############################################################################
# A stand-in for the gateway's login: GET .../challenge answers a fresh
# challenge; POST .../login checks the signature over
# "sekisho-jpki-login:v1\n<Host>\n<challenge>" with openssl, and sets a
# cookie.  /refuse/login always answers 403, /nochal/challenge no
# challenge, /whoami the cookie it got.

sub start_gateway {
    my ($port) = @_;

    my $srv = IO::Socket::IP->new(LocalHost => '127.0.0.1',
        LocalPort => $port, Listen => 16, ReuseAddr => 1)
        or die "gateway: $@\n";

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid) {
        close $srv;
        push @{ $t->{pids} }, $pid;
        return $pid;
    }

    my %issued;
    open my $logf, '>>', $gw_log or die;
    $logf->autoflush(1);
    my $alice = der_of("$pki/alice-auth.pem");

    while (my $c = $srv->accept) {
        my ($head, $body) = ('', '');
        while (<$c>) {
            $head .= $_;
            last if /^\r?\n$/;
        }
        my ($method, $path) = $head =~ /^(\S+) (\S+)/;
        # a TLS handshake sent here is no request (its bytes vary)
        ($method, $path) = ('', '') unless defined $path;
        my ($len) = $head =~ /^Content-Length: (\d+)/mi;
        read($c, $body, $len) if $len;
        my ($host) = $head =~ /^Host: ([^\r\n]*)/mi;
        my ($cookie) = $head =~ /^Cookie: ([^\r\n]*)/mi;
        my ($type) = $head =~ /^Content-Type: ([^\r\n]*)/mi;

        my ($status, $json, @extra) = (404, '{"error":"not found"}');

        if ($method eq 'GET' && $path =~ m{^/(jpki|nochal)/challenge$}) {
            my $ch = encode_base64(join('', map { chr int rand 256 } 1 .. 32),
                '');
            $ch =~ tr{+/=}{-_}d;
            $issued{$ch} = 1;
            $status = 200;
            $json = $1 eq 'jpki'
                ? qq({"challenge":"$ch","expires_in":120})
                : '{"expires_in":120}';

        } elsif ($method eq 'POST' && $path eq '/refuse/login') {
            ($status, $json) = (403, '{"error":"refused"}');

        } elsif ($method eq 'POST' && $path =~ m{/login$}) {
            print $logf "type=$type\n";
            my $req = eval { decode_json($body) } || {};
            my $ch = $req->{challenge} // '';
            my $cert = decode_base64($req->{certificate} // '');
            my $sig = decode_base64($req->{signature} // '');
            print $logf "cert=alice-auth\n" if $cert eq $alice;

            my $ok = delete $issued{$ch};
            my $verify = sub {
                my ($h) = @_;
                $t->write_file('gw.msg', "sekisho-jpki-login:v1\n$h\n$ch");
                $t->write_file('gw.sig', $sig);
                $t->write_file('gw.der', $cert);
                system("openssl x509 -inform DER -in $d/gw.der -pubkey "
                    . "-noout > $d/gw.pub 2>/dev/null");
                my $cmd = "openssl dgst -sha256 -verify $d/gw.pub "
                    . "-signature $d/gw.sig $d/gw.msg 2>&1";
                my $r = `$cmd`;
                return $r =~ /Verified OK/;
            };

            if ($ok && $verify->($host)) {
                print $logf "verified host=$host\n";
                print $logf "wrong-host-fails\n"
                    unless $verify->("$host.evil.example");
                my $cmd = "openssl x509 -inform DER -in $d/gw.der -noout "
                    . '-subject -nameopt multiline';
                my $cn = `$cmd`;
                ($cn) = $cn =~ /commonName\s*=\s*(\S+)/;
                ($status, $json) = (200, qq({"ok":true,"cn":"$cn"}));
                push @extra, 'Set-Cookie: sekisho_session=s3cr3t-'
                    . sprintf('%08x', int rand 2**32)
                    . '; Path=/; HttpOnly; SameSite=Strict';
            } else {
                print $logf "refused\n";
                ($status, $json) = (403, '{"error":"bad signature"}');
            }

        } elsif ($method eq 'GET' && $path eq '/whoami') {
            ($status, $json) = (200, 'cookie=' . ($cookie // ''));
        }

        print $c "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
            . join('', map { "$_\r\n" } @extra)
            . 'Content-Length: ' . length($json) . "\r\n"
            . "Connection: close\r\n\r\n$json";
        close $c;
    }

    exit 0;
}

sub stop_gateway {
    my ($pid) = @_;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    $t->{pids} = [ grep { $_ != $pid } @{ $t->{pids} } ];
}
