#!/usr/bin/perl

# Lockout configuration mistakes make "nginx -t" fail and name what is
# wrong.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;
my $d = $t->dir;

$t->write_file('good.key', "0123456789abcdef0123\n");
$t->write_file('short.key', "0123456789\n");
$t->write_file('redis.pass', "pw\n");
chmod 0600, map { "$d/$_" } qw(good.key short.key redis.pass);

my $redis = 'sekisho_redis 127.0.0.1:6390;';
my $key = "sekisho_redis_key_file $d/good.key;";

# the parts given go into a location
sub check {
    my ($http, $loc) = @_;
    return $t->try_config($http, "location /login { $loc return 200; }");
}

my ($rc, $out) = check("$redis $key",
    'sekisho_login_account form:user; sekisho_lockout ip attempts=10;');
is($rc, 0, 'a good login location passes nginx -t') or diag($out);

my @bad = (
    [ $key, 'sekisho_login_account form:user;',
        qr/"sekisho_login_account" requires "sekisho_redis"/,
        'login without Redis' ],
    [ $redis, 'sekisho_login_account form:user;',
        qr/"sekisho_login_account" requires "sekisho_redis_key_file"/,
        'login without the HMAC key' ],
    [ "$redis sekisho_redis_key_file $d/short.key;", '',
        qr/secret file ".*short\.key" must hold at least 16 bytes/,
        'HMAC key too short' ],
    [ "$redis sekisho_redis_key_file $d/none.key;", '',
        qr/cannot read secret file ".*none\.key"/, 'HMAC key missing' ],
    [ "sekisho_redis 127.0.0.1:6390 password_file=$d/none.pass; $key", '',
        qr/cannot read secret file ".*none\.pass"/, 'password file missing' ],
    [ "sekisho_redis 127.0.0.1:6390 db=x; $key", '',
        qr/invalid parameter "db=x" in "sekisho_redis"/, 'bad db' ],
    [ "sekisho_redis 127.0.0.1:6390 timeout=0; $key", '',
        qr/invalid parameter "timeout=0" in "sekisho_redis"/, 'zero timeout' ],
    [ "sekisho_redis 127.0.0.1:6390 \"prefix={x}\"; $key", "",
        qr/invalid parameter "prefix=\{x\}" in "sekisho_redis"/,
        'prefix with a hash tag' ],
    [ "sekisho_redis 127.0.0.1:99999; $key", '',
        qr/invalid Redis address "127\.0\.0\.1:99999" in "sekisho_redis"/,
        'bad port' ],
    [ "$redis $redis $key", '',
        qr/"sekisho_redis" directive is duplicate/, 'duplicate Redis' ],
    [ "$redis $key", 'sekisho_login_account cookie:user;',
        qr/invalid account source "cookie:user" in "sekisho_login_account"/,
        'unknown account source' ],
    [ "$redis $key", 'sekisho_login_account "regex:user=\w+";',
        qr/must have a capture group for the account id/,
        'regex without a capture group' ],
    [ "$redis $key", 'sekisho_login_account "regex:user=(\w+";',
        qr/invalid regex in "sekisho_login_account"/, 'invalid regex' ],
    [ "$redis $key", 'sekisho_lockout user attempts=3;',
        qr/invalid parameter "user" in "sekisho_lockout"/, 'unknown limit kind' ],
    [ "$redis $key", 'sekisho_lockout account attempts=0;',
        qr/invalid parameter "attempts=0" in "sekisho_lockout"/,
        'zero attempts' ],
    [ "$redis $key", 'sekisho_lockout account window=soon;',
        qr/invalid parameter "window=soon" in "sekisho_lockout"/, 'bad window' ],
    [ "$redis $key", 'sekisho_lockout account lock=1x;',
        qr/invalid parameter "lock=1x" in "sekisho_lockout"/, 'bad lock time' ],
    [ "$redis $key", 'sekisho_login_failure status=99;',
        qr/invalid parameter "status=99" in "sekisho_login_failure"/,
        'bad failure status' ],
    [ "$redis $key", 'sekisho_login_failure header=;',
        qr/invalid parameter "header=" in "sekisho_login_failure"/,
        'empty failure header' ],
    [ "$redis $key", 'sekisho_redis_failure maybe;',
        qr/invalid value "maybe" in "sekisho_redis_failure" directive, it must be "closed" or "open"/,
        'bad failure policy' ],
    [ "$redis $key sekisho_login_account form:user;", '',
        qr/"sekisho_login_account" directive is not allowed here/,
        'login account outside a location' ],
    [ "$redis $key", 'sekisho_login_account form:user header:X-User;',
        qr/"header:X-User" in "sekisho_login_account" directive cannot be combined with another source/,
        'a body source with a header source' ],
    [ "$redis $key", 'sekisho_login_account arg:user json:user;',
        qr/"json:user" in "sekisho_login_account" directive cannot be combined/,
        'an argument source with a body source' ],
    [ "$redis $key", 'sekisho_login_account form:user form:login;',
        qr/"form:" given twice in "sekisho_login_account" directive/,
        'two form fields' ],
    [ "$redis $key", 'sekisho_login_account form:user.name;',
        qr/invalid account field "form:user.name" in "sekisho_login_account" directive, a name is 1 to 64 letters, digits, "_" or "-"/,
        'a field name PHP cannot read' ],
    [ "$redis $key", 'sekisho_login_account json:;',
        qr/invalid account field "json:" in "sekisho_login_account"/,
        'an empty field name' ],
    [ "$redis $key", 'sekisho_login_account ids=ascii;',
        qr/"sekisho_login_account" directive names no account source/,
        'no source at all' ],
    [ "$redis $key", 'sekisho_login_account form:user ids=latin1;',
        qr/invalid parameter "ids=latin1" in "sekisho_login_account" directive, it must be "ids=unicode" or "ids=ascii"/,
        'a bad ids= value' ],
);

$t->config_errors(\&check, @bad);

($rc, $out) = check("$redis $key",
    'sekisho_login_account form:user json:loginId multipart:user ids=ascii;');
is($rc, 0, 'form:, json: and multipart: together, with ids=ascii')
    or diag($out);

($rc, $out) = check("$redis $key", 'sekisho_lockout account off;');
is($rc, 0, '"sekisho_lockout account off" is valid') or diag($out);

chmod 0644, "$d/good.key";
($rc, $out) = check("$redis $key", '');
like($out, qr/\[warn\].*secret file ".*good\.key" can be read by other users/,
    'a key file others can read is warned about');
unlike($out, qr/0123456789abcdef/, 'the key itself is never printed');

$t->done;
