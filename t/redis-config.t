#!/usr/bin/perl

# "sekisho_redis" with Sentinel or Redis Cluster: mistakes make
# "nginx -t" fail and name what is wrong; good forms pass.  Nothing is
# connected to: nginx -t opens no connection.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;
my $d = $t->dir;

$t->write_file('lockout.key', "0123456789abcdef0123\n");
$t->write_file('redis.pass', "data-pw\n");
$t->write_file('sentinel.pass', "sentinel-pw\n");
$t->write_file('empty.pass', "");
chmod 0600, map { "$d/$_" } qw(lockout.key redis.pass sentinel.pass
    empty.pass);

my $key = "sekisho_redis_key_file $d/lockout.key;";
my $s3 = 'sentinel=127.0.0.1:26379,127.0.0.1:26380,[::1]:26381';

sub check {
    my ($redis) = @_;
    return $t->try_config("sekisho_redis $redis; $key",
        'location /login { sekisho_login_account form:user; return 200; }');
}

for my $good (
    [ "$s3 master=mymaster", 'three Sentinels and a master' ],
    [ "sentinel=localhost master=mymaster password_file=$d/redis.pass "
        . "sentinel_password_file=$d/sentinel.pass db=2 timeout=300ms",
        'a Sentinel by name (resolved now), default port, passwords, db' ],
    [ 'cluster=127.0.0.1:7000,127.0.0.1:7001 timeout=1s prefix=gw:',
        'a cluster of two seeds' ],
    [ "cluster=127.0.0.1:7000 password_file=$d/redis.pass",
        'a cluster with a password' ],
    [ '127.0.0.1:6379 db=1', 'one server, as before' ],
) {
    my ($rc, $out) = check($good->[0]);
    is($rc, 0, "$good->[1]: nginx -t passes") or diag($out);
}

$t->config_errors(\&check,
    [ "$s3", qr/"sekisho_redis" directive needs "master=" with "sentinel="/,
        'sentinel without master' ],
    [ '127.0.0.1:6379 master=mymaster',
        qr/"sekisho_redis" directive takes "master=" only with "sentinel="/,
        'master without sentinel' ],
    [ "$s3 master=m cluster=127.0.0.1:7000",
        qr/"sekisho_redis" directive takes only one of an address, "sentinel=" and "cluster="/,
        'both cluster and sentinel' ],
    [ '127.0.0.1:6379 cluster=127.0.0.1:7000',
        qr/"sekisho_redis" directive takes only one of an address/,
        'an address and a cluster' ],
    [ 'db=1', qr/"sekisho_redis" directive needs an address, "sentinel=" or "cluster="/,
        'nothing to connect to' ],
    [ "$s3 master=m colour=blue",
        qr/invalid parameter "colour=blue" in "sekisho_redis" directive/,
        'unknown parameter' ],
    [ 'replicas=127.0.0.1:6380',
        qr/invalid parameter "replicas=127\.0\.0\.1:6380" in "sekisho_redis" directive/,
        'unknown parameter in first place' ],
    [ 'sentinel= master=m',
        qr/invalid Sentinel list "" in "sekisho_redis" directive/,
        'empty Sentinel list' ],
    [ 'sentinel=127.0.0.1:26379,,127.0.0.1:26380 master=m',
        qr/invalid Sentinel list "127\.0\.0\.1:26379,,127\.0\.0\.1:26380" in "sekisho_redis" directive/,
        'empty item in the Sentinel list' ],
    [ 'sentinel=127.0.0.1:26379, master=m',
        qr/invalid Sentinel list .* in "sekisho_redis" directive/,
        'trailing comma' ],
    [ 'cluster=', qr/invalid Redis Cluster list "" in "sekisho_redis" directive/,
        'empty cluster list' ],
    [ 'sentinel=127.0.0.1:99999 master=m',
        qr/invalid Sentinel address "127\.0\.0\.1:99999" in "sekisho_redis" directive/,
        'bad Sentinel port' ],
    [ 'cluster=127.0.0.1',
        qr/invalid Redis Cluster address "127\.0\.0\.1" in "sekisho_redis" directive/,
        'cluster seed without a port' ],
    [ 'sentinel=no-such-host.invalid master=m',
        qr/invalid Sentinel address "no-such-host\.invalid" in "sekisho_redis" directive/,
        'Sentinel name that does not resolve' ],
    [ join(',', map { "127.0.0.1:" . (7000 + $_) } 0 .. 16) =~ s/^/cluster=/r,
        qr/invalid Redis Cluster list .* more than 16 addresses/,
        'more than 16 seeds' ],
    [ "$s3 master=", qr/invalid parameter "master=" in "sekisho_redis" directive/,
        'empty master name' ],
    [ 'cluster=127.0.0.1:7000 db=3',
        qr/"sekisho_redis" directive takes no "db=" with "cluster=": Redis Cluster has db 0 only/,
        'cluster with a db' ],
    [ "127.0.0.1:6379 sentinel_password_file=$d/sentinel.pass",
        qr/"sekisho_redis" directive takes "sentinel_password_file=" only with "sentinel="/,
        'Sentinel password without Sentinels' ],
    [ "$s3 master=m sentinel_password_file=$d/none.pass",
        qr/cannot read secret file ".*none\.pass"/,
        'Sentinel password file missing' ],
    [ "$s3 master=m sentinel_password_file=$d/empty.pass",
        qr/secret file ".*empty\.pass"|invalid parameter "sentinel_password_file=/,
        'Sentinel password file empty' ],
    [ '127.0.0.1:6379,127.0.0.1:6380',
        qr/invalid Redis address "127\.0\.0\.1:6379,127\.0\.0\.1:6380" in "sekisho_redis" directive/,
        'a list where one address goes' ],
);

my ($rc, $out) = check("$s3 master=m password_file=$d/redis.pass "
    . "sentinel_password_file=$d/sentinel.pass");
unlike($out, qr/data-pw|sentinel-pw/, 'the passwords are never printed');

$t->done;
