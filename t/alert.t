#!/usr/bin/perl

# SOC alerts: RFC 5424 syslog on a loopback UDP socket and entries in a
# Redis Stream, one alert per cause (no storms): lockouts, a burst of
# refusals from one network, Redis down and back, a refused database
# file, audit records that cannot be written.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);
use Sekisho::Test;

my $t = Sekisho::Test->new(workers => 2);
my $d = $t->dir;

my $syslog = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0,
    Proto => 'udp') or die "udp: $@";
$t->{ports}{syslog} = $syslog->sockport;

my $db = $t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP',
    '198.51.100.0/24' => 'US', '2001:db8:9::/48' => 'US' });
$t->start_redis;
$t->start_upstream;
$t->write_file('lockout.key', "alert-test-key-0123456789\n");
chmod 0600, "$d/lockout.key";

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb reload=1s;
    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=300ms;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;

    sekisho_alert syslog:server=127.0.0.1:%%PORT_syslog%%,facility=local4,tag=sekisho-test;
    sekisho_alert redis stream=soc:alerts maxlen=1000;
    sekisho_alert_foreign_burst 5 1m;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        sekisho_lockout account attempts=2 window=1h lock=1h;
        sekisho_lockout ip attempts=10 window=1h lock=1h;

        location / {
            sekisho on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /login {
            sekisho_login_account form:user;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /metrics { sekisho_metrics; }
        location /lost/ {
            sekisho_audit_log /dev/full;
            sekisho on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

my $p = $t->port(0);

# every syslog message that arrives within $wait seconds
sub received {
    my ($wait) = @_;
    my @m;
    my $sel = IO::Select->new($syslog);
    my $end = time + ($wait // 1);
    while ((my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        $syslog->recv(my $buf, 65535);
        push @m, $buf;
    }
    return @m;
}

sub login { http_post('/login', "user=$_[0]&password=$_[1]", port => $p,
    headers => { 'X-Forwarded-For' => $_[2] || '192.0.2.20' }) }

received(0.3);   # nothing before

# an account locked

login('alice', 'bad') for 1 .. 2;
my @m = received(1);
my @locked = grep { / account_locked \[/ } @m;
is(scalar @locked, 1, 'one alert for a locked account');
like($locked[0] // '',
    qr/^<164>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ sekisho-test \d+ account_locked \[sekisho\@32473 event="account_locked" severity="warning" account_hash="[0-9a-f]{16}" last_address="192\.0\.2\.20"\] an account was locked/,
    'RFC 5424: PRI of local4.warning, timestamp, host, tag, procid, msgid, structured data');
unlike($locked[0] // '', qr/alice/, 'the account id itself is not sent');

# an address locked (password spraying over many accounts)

login("spray$_", 'bad', '192.0.2.77') for 1 .. 10;
@m = received(1);
my @ip = grep { / ip_locked \[/ } @m;
is(scalar @ip, 1, 'one alert for a locked address');
like($ip[0] // '', qr/ip_locked \[sekisho\@32473 event="ip_locked" severity="warning" address="192\.0\.2\.77"\]/,
    'naming the address');

# a burst of refusals from one /24: one alert, not one per request

http_get('/x', port => $p, headers => { 'X-Forwarded-For' => "198.51.100.$_" })
    for 1 .. 20;
@m = received(1);
my @burst = grep { / foreign_burst \[/ } @m;
is(scalar @burst, 1, '20 refusals from one /24 raise one alert');
like($burst[0] // '', qr/network="198\.51\.100\.0\/24" last_address="198\.51\.100\.6" refusals="6"/,
    'naming the network, the address that crossed the threshold and the count');

http_get('/x', port => $p, headers => { 'X-Forwarded-For' => "2001:db8:9:$_\::1" })
    for 1 .. 6;
@m = received(1);
like(join('', @m), qr/foreign_burst .*network="2001:db8:9::\/48"/,
    'IPv6 refusals are counted per /48');

# the Redis Stream

my $entries = $t->redis('XRANGE', 'soc:alerts', '-', '+');
my %events;
for my $e (@$entries) {
    my %f = @{ $e->[1] };
    $events{ $f{event} }++;
}
is($events{account_locked}, 1, 'the stream has the lockout');
is($events{ip_locked}, 1, 'the address lockout');
is($events{foreign_burst}, 2, 'and the two bursts');
my %first = @{ $entries->[0][1] };
is($first{severity}, 'warning', 'with its severity');
like($first{time}, qr/^\d{4}-\d\d-\d\dT/, 'its time');
ok(length $first{node}, 'and the node');

# Redis down, then back: one alert each, from the whole node

my $redis_port = $t->port('redis');
$t->stop_redis;
login('bob', 'x') for 1 .. 4;
@m = received(1);
is(scalar(grep { / redis_unavailable \[/ } @m), 1,
    'Redis down: one redis_unavailable alert for the node');
like(http_get('/metrics', port => $p), qr/^sekisho_redis_up 0$/m,
    'and the gauge sekisho_redis_up is 0');
like(join('', @m), qr/<163>1 .* redis_unavailable \[sekisho\@32473 event="redis_unavailable" severity="error" redis="127\.0\.0\.1:\d+"\]/,
    'at severity error');

$t->start_redis(port => $redis_port);
my $end = time + 8;
my @rec;
while (time < $end) {
    login('carol', 'x');
    push @rec, grep { / redis_recovered \[/ } received(0.3);
    last if @rec;
}
is(scalar @rec, 1, 'Redis back: one redis_recovered alert');
like(http_get('/metrics', port => $p), qr/^sekisho_redis_up 1$/m,
    'and the gauge is 1 again');

# a replacement database that cannot be used: one alert, not per worker

$t->write_file('country.mmdb.new', "not a database\n" x 50);
rename "$d/country.mmdb.new", $db or die;
@m = received(2.5);
is(scalar(grep { / geoip_reload_failed \[/ } @m), 1,
    'a refused database file: one alert for both workers');

# audit records that cannot be written

http_get("/lost/$_", port => $p, headers => { 'X-Forwarded-For' => '198.51.100.99' })
    for 1 .. 5;
@m = received(1);
is(scalar(grep { / audit_write_failed \[/ } @m), 1,
    'lost audit records: one alert');
like(join('', @m), qr/<162>1 .* audit_write_failed .*file="\/dev\/full"/,
    'at severity critical, naming the file');

my $metrics = $t->redis('PING');   # Redis still fine after all this
is($metrics, 'PONG', 'Redis answers');

$t->done;
