#!/usr/bin/perl

# Password-attempt limits and lockout through real HTTP and a real
# redis-server: lock after N failures, Retry-After, unlock after the
# lock time, success resets, the per-address limit, concurrency, the
# account sources, the body reaching the upstream intact, and what is
# stored in Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(sleep);
use Sekisho::Test;

my $t = Sekisho::Test->new;

$t->start_redis;
$t->start_upstream;
$t->write_file('lockout.key', "test-key-0123456789abcdef\n");
chmod 0600, $t->dir . '/lockout.key';

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    log_format login '$remote_addr $sekisho_account $sekisho_decision '
                     '$sekisho_reason $sekisho_attempts_left $status';

    server {
        listen 127.0.0.1:%%PORT_0%%;

        access_log %%TESTDIR%%/login.log login;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        client_max_body_size 2k;
        underscores_in_headers on;

        add_header X-Left $sekisho_attempts_left always;
        add_header X-Reason $sekisho_reason always;

        sekisho_lockout account attempts=3 window=1m lock=3s;

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /api/login {
            sekisho_login_account json:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /hdr/login {
            sekisho_login_account header:X-Account;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /arg/login {
            sekisho_login_account arg:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /rx/login {
            sekisho_login_account "regex:<user>([^<]*)</user>";
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /mp/login {
            sekisho_login_account form:user multipart:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /ascii/login {
            sekisho_login_account form:user ids=ascii;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /var/login {
            sekisho_login_account $http_x_user_id;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /soft/login-soft {
            sekisho_login_account form:user;
            sekisho_login_failure header=X-Login-Result:failed;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /gone/login {
            sekisho_login_account form:user;
            proxy_ignore_client_abort on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        # a failure is sent on by error_page (an internal redirect)
        # into a second login location with rules of its own
        location = /redir/login {
            sekisho_login_account form:user;
            proxy_intercept_errors on;
            error_page 401 = /second/login;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /second/login {
            sekisho_login_account form:user;
            sekisho_lockout account attempts=10 window=1m lock=1m;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /named/login {
            sekisho_login_account form:user;
            proxy_intercept_errors on;
            error_page 401 = @sorry;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        # the application cannot be reached: nginx's 502, shown as 200
        location = /down/login {
            sekisho_login_account form:user;
            error_page 502 = @sorry;
            proxy_pass http://127.0.0.1:1;
        }

        location @sorry {
            return 200 "please try again\n";
        }

        location = /spray/login {
            sekisho_login_account form:user;
            sekisho_lockout ip attempts=4 window=1m lock=1m;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

$t->run;

my $p = $t->port(0);
my $ip = 1;

# every scenario uses its own client address, so limits do not mix
sub login {
    my ($user, $pass, %o) = @_;
    my $uri = $o{uri} || '/login';
    my $body = $o{body} // "user=$user&password=$pass";
    return http_post($uri, $body, port => $p, type => $o{type},
        headers => { 'X-Forwarded-For' => $o{from} || "192.0.2.$ip",
                     %{ $o{headers} || {} } });
}

# lock after N failures

my $before = $t->upstream_requests;
my $r = login('alice', 'wrong');
is(http_status($r), 401, 'wrong password: the upstream says 401');
is(http_header($r, 'X-Left'), 2, 'two attempts left');
is(http_header($r, 'X-Reason'), 'login_failed', 'reason login_failed');

is(http_status(login('alice', 'wrong')), 401, 'second failure');
$r = login('alice', 'wrong');
is(http_status($r), 401, 'third failure still reaches the upstream');
is(http_header($r, 'X-Left'), 0, 'no attempt left');
is($t->upstream_requests, $before + 3, 'three password checks upstream');

$r = login('alice', 'wonderland');
is(http_status($r), 429, 'locked: even the right password gets 429');
is(http_header($r, 'X-Reason'), 'account_locked', 'reason account_locked');
my $retry = http_header($r, 'Retry-After');
ok(defined $retry && $retry >= 1 && $retry <= 3, "Retry-After ($retry) within the lock");
like(http_body($r), qr/ロックされています/, 'locked page in Japanese');
like(http_body($r), qr/contact the office/, 'locked page in English');
like(http_body($r), qr/You can try again in about 0 h 1 min/,
    'locked page shows the time left');
is($t->upstream_requests, $before + 3, 'locked attempt never reached upstream');

# Retry-After counts down
sleep 1.1;
my $retry2 = http_header(login('alice', 'wonderland'), 'Retry-After');
cmp_ok($retry2, '<', $retry, "Retry-After counts down ($retry -> $retry2)");

# no enumeration: an unknown account locks the same way
my $ghost;
$ghost = login('nobody-here', 'x') for 1 .. 3;
is(http_status($ghost), 401, 'unknown account: the upstream says 401');
$ghost = login('nobody-here', 'x');
is(http_status($ghost), 429, 'unknown account locked the same way');
my ($known, $unknown) = map { my $b = http_body($_); $b =~ s/Reference: \w+//; $b }
    (login('alice', 'x'), $ghost);
is($unknown, $known, 'the same page for a known and an unknown account');

# unlock after the lock time
sleep 3.2;
$r = login('alice', 'wonderland');
is(http_status($r), 200, 'lock expired: the right password logs in');
is(http_header($r, 'X-Reason'), 'login_ok', 'reason login_ok');

# success resets the account's failures
$ip++;
login('bob', 'wrong') for 1 .. 2;
is(http_status(login('bob', 'builder')), 200, 'success after two failures');
login('bob', 'wrong') for 1 .. 2;
is(http_status(login('bob', 'builder')), 200,
    'success cleared the failures: two more do not lock');

# account ids are normalised: case and surrounding spaces share a limit
$ip++;
login('Carol', 'x');
login('%20carol', 'x');
login('CAROL', 'x');
is(http_status(login('carol', 'singer')), 429,
    'case and spaces of the account id share one limit');

# the address limit across many accounts (password spraying)
$ip++;
for my $n (1 .. 4) {
    is(http_status(login("user$n", 'guess', uri => '/spray/login')), 401,
        "spraying: account $n checked");
}
$r = login('user5', 'guess', uri => '/spray/login');
is(http_status($r), 429, 'fifth account from the same address refused');
is(http_header($r, 'X-Reason'), 'ip_locked', 'reason ip_locked');
is(http_status(login('user6', 'guess', uri => '/spray/login',
    from => '192.0.2.200')), 401, 'another address is not affected');

# concurrency: 50 simultaneous wrong attempts, at most 3 upstream checks
$ip++;
$before = $t->upstream_requests;
my @reqs = map {
    Sekisho::Test::post_request('/login', 'user=dave&password=wrong',
        headers => { 'X-Forwarded-For' => "192.0.2.$ip", 'X-Delay' => '0.5' })
} 1 .. 50;
my @replies = http_parallel(\@reqs, port => $p);
my %codes;
$codes{ http_status($_) }++ for @replies;
is($t->upstream_requests - $before, 3,
    '50 simultaneous wrong attempts: exactly 3 reached the upstream');
is($codes{401} // 0, 3, '3 answered 401 by the upstream');
is($codes{429} // 0, 47, 'the other 47 refused with 429');

# the client goes away before the answer: the outcome is recorded
# anyway when the upstream still answers (proxy_ignore_client_abort on),
# and the attempt is refunded when the upstream is cut off too

sub hang_up {
    my ($uri, $user) = @_;
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $p)
        or die "connect: $@";
    print $s Sekisho::Test::post_request($uri, "user=$user&password=wrong",
        headers => { 'X-Forwarded-For' => "192.0.2.$ip", 'X-Delay' => '0.3' });
    sleep 0.1;
    close $s;
}

$ip++;
hang_up('/gone/login', 'hank') for 1 .. 3;
sleep 0.6;
is(http_status(login('hank', 'x', uri => '/gone/login')), 429,
    'client gone, upstream still answered: failures counted, account locked');

hang_up('/login', 'ivan') for 1 .. 3;
sleep 0.6;
is(http_status(login('ivan', 'x')), 401,
    'client gone, upstream cut off: attempts refunded, not locked');

# account sources and the body reaching the upstream intact

$ip++;
my $json = '{"user": "erin", "password": "p\u00e4ss", "note": [1, {"a": null}]}';
$r = login(undef, undef, uri => '/api/login', body => $json,
    type => 'application/json');
is(http_status($r), 401, 'JSON login checked by the upstream');
like(http_body($r), qr/\Q$json\E$/, 'JSON body reached the upstream intact');

my $form = 'user=erin&password=a%26b%3Dc+d&x=' . ('y' x 1200);
$r = login(undef, undef, body => $form);
like(http_body($r), qr/\Q$form\E$/, 'long form body reached the upstream intact');

$r = http_post('/hdr/login', 'password=x', port => $p,
    headers => { 'X-Account' => 'frank', 'X-Forwarded-For' => "192.0.2.$ip" });
is(http_header($r, 'X-Left'), 2, 'header: source counted');

$r = http_post('/arg/login?user=frank&z=1', 'password=x', port => $p,
    headers => { 'X-Forwarded-For' => "192.0.2.$ip" });
is(http_header($r, 'X-Left'), 1, 'arg: the same account, one more failure');

$r = http_post('/rx/login', '<login><user>Frank</user></login>', port => $p,
    type => 'application/xml',
    headers => { 'X-Forwarded-For' => "192.0.2.$ip" });
is(http_header($r, 'X-Left'), 0, 'regex: the same account again');

$r = http_post('/var/login', '', port => $p,
    headers => { 'X-User-Id' => 'frank', 'X-Forwarded-For' => "192.0.2.$ip" });
is(http_status($r), 429, 'variable: the same account, now locked');

# the upstream's header says the password was wrong
$ip++;
$r = login('gina', 'wrong', uri => '/soft/login-soft');
is(http_status($r), 200, 'failure header: upstream answers 200');
is(http_header($r, 'X-Reason'), 'login_failed', 'but the header counts it');
is(http_header($r, 'X-Left'), 2, 'as a failure');

# one request is one attempt, also through an internal redirect into
# another login location: reserved and settled by the first one's rules
# (attempts=3), not counted again by the second's (attempts=10)
$ip++;
$before = $t->upstream_requests;
$r = login('hana', 'wrong', uri => '/redir/login');
is(http_status($r), 200,
    'redirect: the client is shown the second location\'s page, a 200');
is($t->upstream_requests, $before + 2,
    'redirect: both locations asked the upstream');
is(http_header($r, 'X-Left'), 2,
    'redirect: one attempt counted, by the first location\'s limit');
is(http_header($r, 'X-Reason'), 'login_failed', 'redirect: login_failed');

login('hana', 'wrong', uri => '/redir/login') for 1 .. 2;
$r = login('hana', 'wonderland', uri => '/redir/login');
is(http_status($r), 429,
    'redirect: locked after three requests, the first location\'s limit');
is(http_header($r, 'X-Reason'), 'account_locked', 'redirect: account_locked');

$r = login('hana', 'wonderland', uri => '/second/login');
is(http_status($r), 429,
    'redirect: the account is locked in the second location too');

# the same into a named location that answers a failure with a 200 page
$ip++;
$r = login('iris', 'wrong', uri => '/named/login');
is(http_status($r), 200, 'named location: the client is shown a 200 page');
is(http_header($r, 'X-Reason'), 'login_failed',
    'named location: the application\'s 401 settled the attempt');
is(http_header($r, 'X-Left'), 2, 'named location: one attempt counted');
login('iris', 'wrong', uri => '/named/login') for 1 .. 2;
is(http_status(login('iris', 'wonderland', uri => '/named/login')), 429,
    'named location: locked after three');

# an application that could not be asked, behind a 200 page, neither
# clears the failures (a success would) nor adds one
$ip++;
login('jun', 'wrong') for 1 .. 2;
$r = login('jun', 'wrong', uri => '/down/login');
is(http_status($r), 200, 'unreachable application: a 200 page instead of 502');
is(http_header($r, 'X-Reason'), 'login_error',
    'unreachable application: login_error, not a success');
$r = login('jun', 'wrong');
is(http_header($r, 'X-Left'), 0,
    'unreachable application: the two failures before still count');

# bad input

$ip++;
$r = login(undef, undef, body => 'password=nouser');
is(http_status($r), 400, 'no account id: 400');
is(http_header($r, 'X-Reason'), 'login_no_account', 'reason login_no_account');
like(http_body($r), qr/could not be processed/, 'bilingual 400 page');

$r = login(undef, undef, uri => '/api/login', body => '{"user": "x",',
    type => 'application/json');
is(http_status($r), 400, 'malformed JSON: 400');
is(http_header($r, 'X-Reason'), 'login_bad_body', 'reason login_bad_body');

$r = login(undef, undef, body => 'user=decoy&user=alice&password=x');
is(http_status($r), 400, 'account field given twice: 400');

$r = login(undef, undef, body => 'user=%zz&password=x');
is(http_status($r), 400, 'bad percent-encoding: 400');

$r = login(undef, undef, body => 'user=' . ('a' x 300) . '&password=x');
is(http_status($r), 400, 'overlong account id: 400');

$r = login(undef, undef, body => 'user=a&password=' . ('x' x 3000));
is(http_status($r), 413, 'body over client_max_body_size: 413');

$r = http_get('/login', port => $t->port(0),
    headers => { 'X-Forwarded-For' => "192.0.2.$ip" });
is(http_status($r), 200, 'GET of a login location (the page) passes');
unlike(http_header($r, 'X-Reason'), qr/login|locked/,
    'and is not a login attempt');

$r = http_get('/elsewhere', port => $p);
is(http_status($r), 200, 'other locations untouched');

# one reading of the request: the media type decides the parser, the
# field once in every spelling, the query string read with the body

sub raw_login {
    my ($head, $body) = @_;
    my $req = "$head\r\nHost: localhost\r\nConnection: close\r\n"
        . "X-Forwarded-For: 192.0.2.$ip\r\n";
    $req .= "Content-Length: " . length($body) . "\r\n" if defined $body;
    return http($req . "\r\n" . ($body // ''), port => $p);
}

$ip++;
$before = $t->upstream_requests;

$r = login(undef, undef, body => '{"user":"alice","password":"wonderland",'
    . '"n":"&user=decoy1&"}', type => 'application/json');
is(http_status($r), 415, 'a JSON body at a form location: 415');
is(http_header($r, 'X-Reason'), 'login_bad_content_type',
    'reason login_bad_content_type');
like(http_body($r), qr/Reason: login_bad_content_type/,
    'the page says the reason');

$r = login(undef, undef, uri => '/api/login',
    body => '{"user":"decoy","x":"&user=alice&password=wonderland&"}');
is(http_status($r), 415, 'a form body at a JSON location: 415');

$r = login(undef, undef, body => 'user=alice&password=wonderland',
    type => 'text/plain');
is(http_status($r), 415, 'text/plain at a form location: 415');

$r = login(undef, undef, body => 'user=alice&password=wonderland',
    type => 'application/x-www-form-urlencoded; charset=iso-8859-1');
is(http_status($r), 415, 'a form in another charset: 415');

$r = raw_login("POST /login HTTP/1.1", 'user=alice&password=wonderland');
is(http_status($r), 415, 'a body without a Content-Type: 415');

$r = raw_login("POST /login HTTP/1.1\r\n"
    . "Content-Type: application/x-www-form-urlencoded\r\n"
    . "Content-Encoding: gzip", 'user=alice&password=wonderland');
is(http_status($r), 415, 'a login body with a Content-Encoding: 415');
is(http_header($r, 'X-Reason'), 'login_bad_content_type',
    'reason login_bad_content_type');

$r = raw_login("POST /login HTTP/1.1\r\n"
    . "Content-Type: application/x-www-form-urlencoded\r\n"
    . "Content-Type: application/json", 'user=alice&password=wonderland');
is(http_status($r), 400, 'two Content-Type headers: 400');
is(http_header($r, 'X-Reason'), 'login_bad_content_type',
    'reason login_bad_content_type');

$r = login(undef, undef, body => 'user=decoy&us.er=x&password=wonderland');
is(http_status($r), 401, 'us.er is not "user" to anyone: decoy is checked');

$r = login(undef, undef, body => 'user=decoy&user[]=alice&password=wonderland');
is(http_status($r), 400, 'the field again as an array: 400');
is(http_header($r, 'X-Reason'), 'login_bad_body', 'reason login_bad_body');

$r = login(undef, undef, uri => '/login?user=alice',
    body => 'user=decoy&password=wonderland');
is(http_status($r), 400, 'the field in the query string and in the body: 400');

$r = login(undef, undef, uri => '/login?user=lena',
    body => 'password=wrong');
is(http_header($r, 'X-Left'), 2,
    'the field in the query string of a POST alone: counted');

is($t->upstream_requests, $before + 2,
    'none of the refused requests reached the upstream');

# a cookie of the field's name (PHP's $_REQUEST may read it): the same
# account as the body is an applicant's remembered id, another is refused
$r = login('lena', 'wrong', headers => { Cookie => 'sid=1; user=Lena' });
is(http_header($r, 'X-Left'), 1, 'a cookie naming the same account: counted');
$r = login('lena', 'wrong', headers => { Cookie => 'user=zed' });
is(http_status($r), 400, 'a cookie naming another account: 400');
is(http_header($r, 'X-Reason'), 'login_bad_body', 'reason login_bad_body');

# credentials in the query string of a GET: an attempt, but the page's
# 200 says nothing about a password and clears nothing
$ip++;
login('mona', 'wrong') for 1 .. 2;
$r = raw_login("GET /login?user=Mona&password=wonderland HTTP/1.1");
is(http_status($r), 200, 'a GET with the id in its query reaches the page');
is(http_header($r, 'X-Left'), 0, 'and is counted while it runs');
$r = login('mona', 'wrong');
is(http_header($r, 'X-Left'), 0,
    'its 200 cleared nothing: the third failure is the last');
$r = raw_login("GET /login?user=mona HTTP/1.1");
is(http_status($r), 429, 'a GET with a locked id in its query: 429');

# headers and arguments given twice, in any spelling
$ip++;
$r = raw_login("POST /hdr/login HTTP/1.1\r\nX-Account: decoy\r\n"
    . "X-Account: alice");
is(http_status($r), 400, 'the account header twice: 400');
$r = raw_login("POST /hdr/login HTTP/1.1\r\nX-Account: decoy\r\n"
    . "X_Account: alice");
is(http_status($r), 400, 'the account header twice, once as X_Account: 400');
$r = raw_login("POST /hdr/login HTTP/1.1\r\nX_Account: nina");
is(http_header($r, 'X-Left'), 2, 'X_Account alone is the account header');
$r = raw_login("POST /arg/login?user=decoy&user%5B%5D=alice HTTP/1.1");
is(http_status($r), 400, 'the account argument twice: 400');

# multipart, and ids=ascii
$ip++;
my $mp = "--B\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\n"
    . "Olga\r\n--B\r\nContent-Disposition: form-data; name=\"password\"\r\n"
    . "\r\nwrong\r\n--B--\r\n";
$r = login(undef, undef, uri => '/mp/login', body => $mp,
    type => 'multipart/form-data; boundary=B');
is(http_header($r, 'X-Left'), 2, 'multipart: the part counted');
$r = login('olga', 'wrong', uri => '/mp/login');
is(http_header($r, 'X-Left'), 1, 'as the same account as the form');
($mp = $mp) =~ s/--B--/--B\r\nContent-Disposition: form-data; name="user"\r\n\r\nx\r\n--B--/;
$r = login(undef, undef, uri => '/mp/login', body => $mp,
    type => 'multipart/form-data; boundary=B');
is(http_status($r), 400, 'multipart: the part twice: 400');

$r = login('al%C3%A9', 'x', uri => '/ascii/login');
is(http_status($r), 400, 'ids=ascii: a letter outside ASCII: 400');
is(http_header($r, 'X-Reason'), 'login_bad_account', 'reason login_bad_account');
$r = login('%EF%BD%90%EF%BD%81%EF%BD%95%EF%BD%8C', 'x', uri => '/ascii/login');
is(http_header($r, 'X-Left'), 2, 'ids=ascii: a full-width id is ASCII once folded');

$r = login('ali%C3', 'x');
is(http_status($r), 400, 'an id that is not UTF-8: 400');
is(http_header($r, 'X-Reason'), 'login_bad_account', 'reason login_bad_account');

# the application is told the account counted; a client cannot say it
$ip++;
$r = login('Quinn%E3%80%80', 'x',
    headers => { 'X-Sekisho-Login-Account' => 'alice' });
like(http_body($r), qr/^X-Sekisho-Login-Account: quinn\r?$/m,
    'X-Sekisho-Login-Account: the normalised id reaches the application');
unlike(http_body($r), qr/X-Sekisho-Login-Account: alice/,
    'a client\'s own X-Sekisho-Login-Account never does');
$r = login('%E5%B1%B1%E7%94%B0', 'x');
like(http_body($r), qr/^X-Sekisho-Login-Account: %E5%B1%B1%E7%94%B0\r?$/m,
    'a non-ASCII id percent-encoded in the header');

# what Redis holds: keyed hashes only

my $keys = $t->redis('KEYS', '*');
cmp_ok(scalar @$keys, '>', 0, 'Redis holds lockout keys');
is(join(',', grep { !/^sekisho:\{lockout\}:[ai]:[0-9a-f]{64}:[fpl]$/ } @$keys),
    '', 'every key is prefix, hash tag, kind and a hex HMAC');
is(join(',', grep { /alice|bob|carol|192\.0\.2/i } @$keys), '',
    'no account id or address in any key');

# the access log

$t->stop;
my $log = $t->read_file('login.log');
like($log, qr/^192\.0\.2\.1 alice allow login_failed 2 401$/m,
    'access log: account as sent, reason and attempts left');
like($log, qr/^192\.0\.2\.1 alice deny account_locked 0 429$/m,
    'access log: the lockout');

$t->done;
