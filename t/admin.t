#!/usr/bin/perl

# scripts/admin/sekisho-admin against the gateway's own Redis state: status,
# unlock, unlock-ip and list-locked, with the same key scheme.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256_hex);
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;
my $top = Sekisho::Test::top();

$t->start_redis(password => 'admin-test-pw');
$t->start_upstream;
$t->write_file('lockout.key', "admin-test-key-0123456789\n");
$t->write_file('redis.pass', "admin-test-pw\n");
chmod 0600, map { $t->dir . "/$_" } qw(lockout.key redis.pass);

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_redis 127.0.0.1:%%PORT_redis%% password_file=%%TESTDIR%%/redis.pass;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        sekisho_lockout account attempts=2 window=1h lock=24h;
        sekisho_lockout ip attempts=3 window=1h lock=24h;
        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

sub login {
    my ($user, $pass, $from) = @_;
    return http_status(http_post('/login', "user=$user&password=$pass",
        port => $t->port(0), headers => { 'X-Forwarded-For' => $from }));
}

sub admin {
    my @args = @_;
    my $d = $t->dir;
    my $cmd = join ' ', "$top/scripts/admin/sekisho-admin",
        '--redis', '127.0.0.1:' . $t->port('redis'),
        '--password-file', "$d/redis.pass", '--key-file', "$d/lockout.key",
        map { "'$_'" } @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

login('alice', 'bad', '192.0.2.1') for 1 .. 2;
is(login('alice', 'wonderland', '192.0.2.1'), 429, 'alice locked (24 h)');

my ($rc, $out) = admin('status', 'Alice');
is($rc, 0, 'status exits 0');
like($out, qr/account alice: LOCKED, opens again in 2[34] h/,
    'status shows the lock and the time left');

($rc, $out) = admin('list-locked');
my $hash = hmac_sha256_hex('a:alice', 'admin-test-key-0123456789');
like($out, qr/^account\s+$hash\s+opens again in/m,
    'list-locked shows the account by its keyed hash');
like($out, qr/^1 locked/m, 'list-locked counts');

($rc, $out) = admin('unlock', 'alice');
is($rc, 0, 'unlock exits 0');
like($out, qr/account alice: unlocked \(the lock had 2[34] h/, 'unlock says what it did');
is(login('alice', 'wonderland', '192.0.2.1'), 200, 'alice logs in after unlock');

($rc, $out) = admin('status', 'alice');
like($out, qr/account alice: not locked/, 'status after unlock');

($rc, $out) = admin('unlock', 'nobody');
like($out, qr/account nobody: was not locked; 0 failure\(s\) cleared/,
    'unlock of an account that is not locked says so');

# the same counter for every spelling of an account, by the gateway's
# own normaliser (Unicode white space, NFKC, case folding)
login('%E2%84%AAate', 'bad', '192.0.2.2') for 1 .. 2;     # KELVIN SIGN
is(login('kate', 'kitten', '192.0.2.2'), 429,
    'kate locked by logins as "\x{212A}ate"');

($rc, $out) = admin('status', "\xef\xbc\xab\xef\xbc\xa1\xef\xbc\xb4\xef\xbc\xa5");
like($out, qr/account kate: LOCKED/,
    'status of the full-width spelling finds the lock');

($rc, $out) = admin('unlock', "kate\xe3\x80\x80");
like($out, qr/account kate: unlocked/,
    'unlock of "kate" with a trailing U+3000 lifts it');
is(login('kate', 'kitten', '192.0.2.2'), 200, 'kate logs in after unlock');

($rc, $out) = admin('status', "ali\xffce");
isnt($rc, 0, 'an id the gateway refuses (not UTF-8) fails');
like($out, qr/the gateway would refuse this account id/, 'and says why');

# the address limit
login("u$_", 'bad', '2001:db8:5::7') for 1 .. 3;
is(login('bob', 'builder', '2001:db8:5::99'), 429,
    'address locked, also for another host of its /64');

($rc, $out) = admin('status-ip', '2001:db8:5::1234');
like($out, qr/address 2001:db8:5::1234: LOCKED/, 'status-ip by any address of the /64');

($rc, $out) = admin('unlock-ip', '2001:db8:5::7');
like($out, qr/address 2001:db8:5::7: unlocked/, 'unlock-ip says what it did');
is(login('bob', 'builder', '2001:db8:5::99'), 200, 'address unlocked');

($rc, $out) = admin('unlock-ip', 'not-an-address');
isnt($rc, 0, 'a bad address fails');
like($out, qr/not an IP address/, 'and says why');

($rc, $out) = admin('frobnicate');
is($rc, 2, 'unknown action: usage, exit 2');

$t->done;
