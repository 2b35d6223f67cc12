#!/usr/bin/perl

# JPKI card login through real HTTP, real Redis and certificates of the
# test authority: the challenge, every reason a login is refused, the
# session that follows (identity headers, idle limit, logout), client
# X-Sekisho-* headers removed, CRLs re-read when they change, failed
# logins counted per address, alerts, and the audit record and
# variables of each attempt.  Signatures are made with OpenSSL as the
# card makes them; t/card-login.t does the same with the virtual card.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use Time::HiRes qw(sleep);
use Sekisho::Test;
use Sekisho::JPKI;

my $t = Sekisho::Test->new(workers => 2);
my $pki = test_pki($t);
my $d = $t->dir;

$t->start_redis;
$t->start_upstream;
$t->write_file('redis.key', "redis-key-0123456789abcdef\n");
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
$t->write_file('audit.key', "audit-key-0123456789abcdef\n");
chmod 0600, "$d/redis.key", "$d/session.key", "$d/audit.key";

# a look-alike authority, and a certificate of the real one with the
# wrong key usage
system("cd '$d' && openssl req -x509 -newkey rsa:2048 -nodes -days 30 "
    . "-subj '/C=JP/CN=FAKE' -keyout fake.key -out fake.pem 2>/dev/null "
    . "&& openssl req -new -newkey rsa:2048 -nodes -subj '/C=JP/CN=KU' "
    . "-keyout ku.key -out ku.csr 2>/dev/null "
    . "&& printf 'keyUsage=critical,keyEncipherment\\n' > ku.ext "
    . "&& openssl x509 -req -in ku.csr -CA pki/auth-ca.pem "
    . "-CAkey pki/auth-ca.key -set_serial 4242 -days 30 -extfile ku.ext "
    . "-out ku.pem 2>/dev/null") == 0 or die "openssl failed";

# the CRL file the gateway watches, replaced during the test
copy("$pki/auth-ca.crl.pem", "$d/auth.crl.pem") or die;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_redis_key_file %%TESTDIR%%/redis.key;

    sekisho_jpki_auth_ca %%TESTDIR%%/pki/bundle-auth-ca.pem;
    sekisho_jpki_sign_ca %%TESTDIR%%/pki/sign-ca.pem;
    sekisho_jpki_crl %%TESTDIR%%/auth.crl.pem %%TESTDIR%%/pki/auth-ca-2.crl.pem
                     %%TESTDIR%%/pki/sign-ca.crl.pem;

    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;
    sekisho_session_idle 4s;
    sekisho_session_lifetime 1h;

    sekisho_audit_log %%TESTDIR%%/audit.jsonl events=all
                      key=%%TESTDIR%%/audit.key;
    sekisho_alert redis stream=sekisho:alerts;
    sekisho_alert_jpki_burst 5 1m;

    log_format jpki '$sekisho_reason $sekisho_jpki_serial '
                    '$sekisho_jpki_status $sekisho_session $status';

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        access_log %%TESTDIR%%/jpki.log jpki;
        underscores_in_headers on;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/short { sekisho_jpki_challenge ttl=1s; }
        location = /jpki/logout { sekisho_jpki_logout; }

        location = /jpki/login {
            sekisho_jpki_login;
            sekisho_lockout ip attempts=12 window=1m lock=1m;
        }

        location /app/ {
            sekisho_jpki_require on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /open/ {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /metrics { sekisho_metrics; }
    }

    # a named site: the Host a card signed must be this one
    server {
        listen 127.0.0.1:%%PORT_1%%;
        server_name intake.example.jp;

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }

        location = /other/login {
            sekisho_jpki_login;
            sekisho_jpki_host www.example.jp:8443;
        }
    }
}
EOF

$t->run;

my $port = $t->port(0);
my %who;
for my $line (split /\n/, $t->read_file('pki/people.txt')) {
    $who{$1} = $2 if $line =~ /^(\S+)\.pem\s.*serial=([0-9A-F]+)/;
}

sub login_as {
    my ($name, %o) = @_;
    return card_login($port, cert => "$pki/$name.pem",
        key => "$pki/$name.key", %o);
}

sub reason_of { json_field(http_body($_[0]), 'error') }

sub app {
    my ($cookie, %h) = @_;
    $h{Cookie} = "sid=$cookie" if defined $cookie;
    return http_get('/app/x', port => $port, headers => \%h);
}

# the challenge

my $r = http_get('/jpki/challenge', port => $port);
my $c = json_field(http_body($r), 'challenge');
is(http_status($r), 200, 'challenge: 200');
like($c, qr/^[A-Za-z0-9_-]{43}$/, 'challenge: 32 bytes in base64url');
like(http_body($r), qr/"expires_in":120\b/, 'challenge: expires in 120 s');
is(http_header($r, 'Cache-Control'), 'no-store', 'challenge: not cached');
my $ttl = $t->redis('PTTL', "sekisho:{jpki}:c:$c");
ok($ttl > 100000 && $ttl <= 120000, "challenge: kept in Redis ($ttl ms)");
isnt(get_challenge($port), $c, 'challenge: a new one each time');
is(http_status(http_post('/jpki/challenge', '', port => $port)), 405,
    'challenge: only GET');

# a good login

$r = login_as('alice-auth', challenge => $c);
is(http_status($r), 200, 'alice logs in with her auth certificate');
my $body = http_body($r);
is(json_field($body, 'serial'), $who{'alice-auth'}, 'login: serial answered');
is(json_field($body, 'revocation'), 'good', 'login: CRL checked, good');
like(json_field($body, 'not_after') // '',
    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'login: expiry answered');
my $alice = session_cookie($r);
ok($alice, 'login: session cookie issued');
my ($set) = $r =~ /^(Set-Cookie:[^\r\n]*)/mi;
$set //= '';
like($set, qr/HttpOnly/, 'cookie: HttpOnly');
like($set, qr/SameSite=Strict/, 'cookie: SameSite=Strict');
unlike($set, qr/Secure/, 'cookie: Secure turned off for plain HTTP');
is($t->redis('EXISTS', "sekisho:{jpki}:c:$c"), 0, 'login: challenge spent');

$r = login_as('alice-auth', challenge => $c);
is(http_status($r), 401, 'reused challenge refused');
is(reason_of($r), 'jpki_challenge', 'reused challenge: reason jpki_challenge');

$r = login_as('alice-auth', challenge => 'A' x 43);
is(reason_of($r), 'jpki_challenge', 'unknown challenge: jpki_challenge');

$c = get_challenge($port, '/jpki/short');
sleep 1.5;
$r = login_as('alice-auth', challenge => $c);
is(reason_of($r), 'jpki_challenge', 'expired challenge: jpki_challenge');

$r = login_as('carol-auth');
is(http_status($r), 200, 'carol, of the second CA generation, logs in');
is(json_field(http_body($r), 'serial'), $who{'carol-auth'}, 'carol: serial');

# every refusal has its reason

my %refused = (
    'not a certificate' => [400, 'jpki_bad_certificate',
        der => 'not a certificate', key => "$pki/alice-auth.key"],
    'issued by another CA' => [401, 'jpki_untrusted',
        cert => "$d/fake.pem", key => "$d/fake.key"],
    'expired certificate' => [401, 'jpki_validity',
        cert => "$pki/expired-auth.pem", key => "$pki/expired-auth.key"],
    'wrong key usage' => [401, 'jpki_key_usage',
        cert => "$d/ku.pem", key => "$d/ku.key"],
    'signing certificate for login' => [401, 'jpki_wrong_certificate',
        cert => "$pki/alice-sign.pem", key => "$pki/alice-sign.key"],
    'revoked certificate' => [401, 'jpki_revoked',
        cert => "$pki/revoked-auth.pem", key => "$pki/revoked-auth.key"],
    'SHA-1 signature' => [401, 'jpki_bad_algorithm',
        cert => "$pki/alice-auth.pem", key => "$pki/alice-auth.key",
        md => 'sha1'],
    'signature by another key' => [401, 'jpki_bad_signature',
        cert => "$pki/alice-auth.pem", key => "$pki/bob-auth.key"],
    'signature made for another site' => [401, 'jpki_bad_signature',
        cert => "$pki/alice-auth.pem", key => "$pki/alice-auth.key",
        host => 'other.example'],
    'signature not base64' => [400, 'jpki_bad_request',
        cert => "$pki/alice-auth.pem", key => "$pki/alice-auth.key"],
);

for my $case (sort keys %refused) {
    my ($status, $reason, %o) = @{ $refused{$case} };
    my $b = login_body(challenge => get_challenge($port), %o);
    $b =~ s/"signature":"[^"]*"/"signature":"%%%"/
        if $case eq 'signature not base64';
    $r = http_post('/jpki/login', $b, port => $port,
        type => 'application/json',
        headers => { 'X-Forwarded-For' => '192.0.2.10' });
    is(http_status($r), $status, "$case: $status");
    is(reason_of($r), $reason, "$case: reason $reason");
    ok(!session_cookie($r), "$case: no session");
}

$r = http_post('/jpki/login', '{"challenge": "x"', port => $port,
    type => 'application/json');
is(http_status($r), 400, 'malformed JSON: 400');
is(reason_of($r), 'jpki_bad_request', 'malformed JSON: jpki_bad_request');
is(http_status(http_get('/jpki/login', port => $port)), 405,
    'login: only POST');

# the site a card signed for

my $named = $t->port(1);
$r = card_login($named, cert => "$pki/alice-auth.pem",
    key => "$pki/alice-auth.key", host => 'intake.example.jp',
    host_header => 'intake.example.jp');
is(http_status($r), 200, 'signed for the server\'s name: logged in');
$r = card_login($named, cert => "$pki/alice-auth.pem",
    key => "$pki/alice-auth.key", host => "intake.example.jp:$named",
    host_header => "intake.example.jp:$named");
is(http_status($r), 200, 'with a port too');
$r = card_login($named, cert => "$pki/alice-auth.pem",
    key => "$pki/alice-auth.key", host => 'evil.example',
    host_header => 'evil.example');
is(reason_of($r), 'jpki_wrong_host',
    'signed for another site and replayed with its Host: jpki_wrong_host');
$r = card_login($named, cert => "$pki/alice-auth.pem",
    key => "$pki/alice-auth.key", host => 'www.example.jp:8443',
    host_header => 'www.example.jp:8443', path => '/other/login');
is(http_status($r), 200, 'sekisho_jpki_host names the accepted Host');
$r = card_login($named, cert => "$pki/alice-auth.pem",
    key => "$pki/alice-auth.key", host => 'intake.example.jp',
    host_header => 'intake.example.jp', path => '/other/login');
is(reason_of($r), 'jpki_wrong_host', 'and only it');
like($t->error_log, qr/"sekisho_jpki_login" in a server without an exact "server_name"/,
    'nginx warns of a login location that accepts any Host');

# the session (a fresh one: the logins above can take longer than the
# 4 s idle limit under the sanitizers on a loaded machine)

$alice = session_cookie(login_as('alice-auth'));
$r = app($alice);
is(http_status($r), 200, 'session: the upstream is reached');
$body = http_body($r);
like($body, qr/^X-Sekisho-JPKI-Serial: $who{'alice-auth'}\r?$/mi,
    'upstream sees the serial');
like($body, qr/^X-Sekisho-JPKI-Revocation: good\r?$/mi,
    'upstream sees the revocation result');
like($body, qr/^X-Sekisho-JPKI-Issuer: [^\r\n]*O=JPKI TEST/mi,
    'upstream sees the issuer');
like($body, qr/^X-Sekisho-JPKI-Not-After: \d{4}-\d\d-\d\dT/mi,
    'upstream sees the expiry');
like($body, qr/^X-Sekisho-Session: [A-Za-z0-9_-]{22}\r?$/mi,
    'upstream sees the session id');

$r = app($alice, 'X-Sekisho-JPKI-Serial' => 'FORGED',
    'x-sekisho-jpki-issuer' => 'FORGED');
$body = http_body($r);
unlike($body, qr/FORGED/, 'client X-Sekisho-* headers never reach it');
is(scalar(() = $body =~ /^X-Sekisho-JPKI-Serial:/mig), 1,
    'only one serial header');

$r = http_get('/open/x', port => $port,
    headers => { 'X-Sekisho-Session' => 'FORGED' });
unlike(http_body($r), qr/FORGED/, 'stripped also where no session is needed');
$r = http_get('/open/x', port => $port,
    headers => { 'X_Sekisho_JPKI_Serial' => 'FORGED' });
unlike(http_body($r), qr/FORGED/, 'and when spelt with underscores');

$r = app(undef);
is(http_status($r), 401, 'no session: 401');
like(http_body($r), qr{/jpki/login}, 'the page names the login path');
like(http_body($r), qr/ログイン/, 'the page is bilingual');
$r = app(undef, Accept => 'application/json');
is(reason_of($r), 'session_missing', 'JSON for API clients');
like(http_body($r), qr{"login":"/jpki/login"}, 'JSON names the login path');

(my $forged = $alice) =~ s/^(s1\.)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
$r = app($forged, Accept => 'application/json');
is(reason_of($r), 'session_invalid', 'a changed cookie: session_invalid');
like($r, qr/^Set-Cookie: sid=;/mi, 'and it is removed');

# an idle limit of 4 s; activity after half of it renews the cookie
$alice = session_cookie(login_as('alice-auth'));
sleep 2.2;
$r = app($alice);
is(http_status($r), 200, 'session used after 2 s');
my $renewed = session_cookie($r);
ok($renewed && $renewed ne $alice, 'activity renews the cookie');
sleep 2.2;
$r = app($alice, Accept => 'application/json');
is(reason_of($r), 'session_idle', 'the old cookie is idle after 4 s');
$r = app($renewed);
is(http_status($r), 200, 'the renewed one is not');

# logout, seen by both workers
$r = http_post('/jpki/logout', '', port => $port,
    headers => { Cookie => "sid=$renewed" });
is(http_status($r), 200, 'logout: 200');
like(http_body($r), qr/"logged_out":true/, 'logout: done');
like($r, qr/^Set-Cookie: sid=;[^\r\n]*Max-Age=0/mi, 'logout: cookie removed');
is($t->redis('ZCARD', 'sekisho:{jpki}:revoked'), 1, 'logout: listed in Redis');
sleep 1.5;
my @after = map { reason_of(app($renewed, Accept => 'application/json')) }
    1 .. 6;
is_deeply(\@after, [('session_revoked') x 6],
    'a logged-out session is refused by every worker');

# a logout on another gateway reaches this one through Redis
$r = login_as('bob-auth');
my $bob = session_cookie($r) // '';
my ($bob_sid) = $bob =~ /^s1\.([^.]+)/;
is(http_status(app($bob)), 200, 'bob has a session');
$t->redis('ZADD', 'sekisho:{jpki}:revoked', int(time() * 1000), $bob_sid // 'x');
sleep 1.5;
@after = map { reason_of(app($bob, Accept => 'application/json')) } 1 .. 4;
is_deeply(\@after, [('session_revoked') x 4],
    'a logout by another gateway is honoured within seconds');

# CRLs are re-read when they change (worker 0 rebuilds the index, every
# worker maps it on its own one-second timer: within a few seconds).  The
# wanted answer must come eight times in a row, so that every worker has
# taken the new index before the tests below go on.  Each try comes from
# an address of its own: refusals count toward the address limit.
sub within {
    my ($want) = @_;
    my ($got, $row) = ('', 0);
    for my $i (1 .. 100) {
        my $r = login_as('alice-auth',
            headers => { 'X-Forwarded-For' => "203.0.113.$i" });
        $got = http_status($r) == 200 ? 'ok' : reason_of($r) // '';
        $row = $got eq $want ? $row + 1 : 0;
        return $got if $row == 8;
        sleep 0.1;
    }
    return $got;
}

copy("$pki/auth-ca-stale.crl.pem", "$d/auth.crl.pem") or die;
utime(time + 5, time + 5, "$d/auth.crl.pem");
is(within('jpki_crl_stale'), 'jpki_crl_stale',
    'a stale CRL under require: refused');
copy("$pki/auth-ca.crl.pem", "$d/auth.crl.pem") or die;
utime(time + 10, time + 10, "$d/auth.crl.pem");
is(within('ok'), 'ok', 'a current CRL again: alice logs in');
like($t->error_log, qr/CRLs: index rebuilt in \d+ ms: .*1 files read/,
    'the re-read is logged');

# failed logins count toward the address limit (12 here)
my $status = 0;
for my $i (1 .. 12) {
    $r = login_as('alice-auth', key => "$pki/bob-auth.key",
        headers => { 'X-Forwarded-For' => '198.51.100.7' });
    $status = http_status($r);
}
is($status, 401, 'twelve bad signatures: each refused');
$r = login_as('alice-auth',
    headers => { 'X-Forwarded-For' => '198.51.100.7' });
is(http_status($r), 429, 'then even a good login from that address: 429');
$r = login_as('alice-auth',
    headers => { 'X-Forwarded-For' => '198.51.100.8' });
is(http_status($r), 200, 'another address is not affected');

# the SOC hears of a revoked certificate and of bursts
sleep 0.3;
sub flat { map { ref $_ ? flat(@$_) : $_ } @_ }
my $alerts = join ' ',
    flat($t->redis('XRANGE', 'sekisho:alerts', '-', '+'));
like($alerts, qr/jpki_revoked_certificate/, 'alert: revoked certificate');
like($alerts, qr/\Q$who{'revoked-auth'}\E/, 'alert: names the serial');
like($alerts, qr/jpki_failure_burst/, 'alert: burst of failures');

# the audit trail and the access log
my $audit = $t->read_file('audit.jsonl');
like($audit,
    qr/"event.reason":"jpki_login_ok"[^\n]*"tls\.client\.x509\.serial_number":"$who{'alice-auth'}"/,
    'audit: a login with the serial');
like($audit,
    qr/"tls\.client\.x509\.serial_number":"$who{'alice-auth'}"[^\n]*"sekisho\.jpki\.revocation":"good"/,
    'audit: and the revocation result');
like($audit, qr/"event.reason":"jpki_revoked"[^\n]*"sekisho\.jpki\.revocation":"revoked"/,
    'audit: a revoked certificate');
like($audit,
    qr/"event.reason":"session_ok"[^\n]*"sekisho\.session\.id":"[A-Za-z0-9_-]{22}"/,
    'audit: requests of a session carry its id');
my $log = $t->read_file('jpki.log');
like($log, qr/^jpki_login_ok $who{'alice-auth'} good [A-Za-z0-9_-]{22} 200$/m,
    'variables: reason, serial, status, session');
like($log, qr/^jpki_bad_signature $who{'alice-auth'} good - 401$/m,
    'variables: a failed login');

# the auditor's report shows the card logins, the chain intact
my $report = `'${\ $t->top}/scripts/admin/sekisho-audit' report --key-file '$d/audit.key' '$d/audit.jsonl' --html '$d/report.html' 2>&1`;
like($report, qr/chain VERIFIED/, 'the audit chain verifies');
my $html = $t->read_file('report.html');
like($html, qr/id="jpki-count">([1-9]\d*)</, 'the report counts the card logins');
like($html, qr/\Q$who{'alice-auth'}\E/, 'and lists alice\'s certificate');

# the SOC's counters
my $m = http_body(http_get('/metrics', port => $port));
like($m, qr/^sekisho_jpki_verifications_total\{use="login",result="ok"\} [1-9]/m,
    'metrics: verified card logins');
like($m, qr/^sekisho_jpki_verifications_total\{use="login",result="jpki_revoked"\} 1$/m,
    'metrics: a revoked certificate, once');
like($m, qr/^sekisho_jpki_verifications_total\{use="login",result="jpki_bad_signature"\} (\d+)$/m,
    'metrics: bad signatures');
like($m, qr/^sekisho_requests_total\{decision="deny",reason="session_revoked"\} [1-9]/m,
    'metrics: session refusals by reason');

# Redis down: closed by default
$r = login_as('alice-auth', headers => { 'X-Forwarded-For' => '192.0.2.99' });
my $cur = session_cookie($r);
$t->stop_redis;
$r = http_get('/jpki/challenge', port => $port);
is(http_status($r), 503, 'Redis down: no challenge, 503');
is(reason_of($r), 'redis_unavailable', 'Redis down: reason');
$r = login_as('alice-auth', challenge => 'B' x 43);
is(http_status($r), 503, 'Redis down: no login, 503');
# every half second, so that the session (idle after 4 s, its cookie
# renewed after 2) stays alive until the list of logouts, unsynced for
# 5 s, is stale
$status = 0;
for my $i (1 .. 24) {
    sleep 0.5;
    $r = app($cur, Accept => 'application/json');
    $status = http_status($r);
    diag("redis down, after ${\ ($i * 0.5)} s: $status " . (reason_of($r) // ''))
        if $ENV{TEST_VERBOSE};
    last if $status == 503;
    $cur = session_cookie($r) // $cur;
}
is($status, 503,
    'Redis down: sessions refused once the logout list is stale');

$t->done;
