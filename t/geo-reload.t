#!/usr/bin/perl

# The country database is watched by every worker and swapped in when
# its file changes, without an nginx reload and without dropping
# requests; a replacement that cannot be used keeps the old one.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use Sekisho::Test;

# two workers: each must pick the new file up on its own
my $t = Sekisho::Test->new(workers => 2);

my $db = $t->mmdb('country.mmdb', {
    '192.0.2.0/24'    => 'JP',
    '198.51.100.0/24' => 'US',
});

$t->start_upstream;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_geoip_db %%TESTDIR%%/country.mmdb reload=1s;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        sekisho on;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF

$t->run;

my $p = $t->port(0);

sub status_of {
    my ($addr) = @_;
    return http_status(http_get('/', port => $p,
        headers => { 'X-Forwarded-For' => $addr }));
}

# every status of 20 requests (new connections, so both workers answer)
sub all_status {
    my ($addr) = @_;
    my %seen;
    $seen{ status_of($addr) }++ for 1 .. 20;
    return join ',', sort keys %seen;
}

# polls until every answer is the wanted one, at most $limit seconds
sub wait_for {
    my ($addr, $want, $limit) = @_;
    my $end = time + $limit;
    while (time < $end) {
        return 1 if all_status($addr) eq $want;
        sleep 0.2;
    }
    return 0;
}

is(all_status('198.51.100.20'), '403', 'foreign address refused by first file');

# Requests keep flowing while the file is replaced: none may fail.

my $statuses = $t->dir . '/statuses';
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    open my $fh, '>', $statuses or exit 1;
    my $end = time + 3.5;
    while (time < $end) {
        print $fh status_of('198.51.100.20'), "\n";
    }
    close $fh;
    POSIX::_exit(0);
}

sleep 0.5;

$t->mmdb('country.mmdb', {
    '192.0.2.0/24'    => 'JP',
    '198.51.100.0/24' => 'JP',
});

waitpid($pid, 0);

my @s = split /\n/, $t->read_file($statuses);
cmp_ok(scalar @s, '>', 20, 'requests were sent during the swap');
is(join(',', grep { $_ != 200 && $_ != 403 } @s), '',
    'no request failed while the database was swapped');
is($s[-1], 200, 'the last requests already used the new file');

ok(wait_for('198.51.100.20', '200', 5),
    'new file picked up by every worker without an nginx reload');
like($t->error_log, qr/sekisho: geoip database ".*country\.mmdb" reloaded/,
    'reload logged');

# A corrupt replacement keeps the database in use.

$t->write_file('country.mmdb.new', "garbage\n" x 1000);
rename $t->dir . '/country.mmdb.new', $db or die;

sleep 2.5;

is(all_status('198.51.100.20'), '200', 'corrupt file: old database in use');
is(all_status('192.0.2.10'), '200', 'corrupt file: Japanese still let in');

my @rejected = $t->error_log
    =~ /\[error\].*geoip database "\Q$db\E" was replaced by a file that cannot be used/g;
cmp_ok(scalar @rejected, '>=', 1, 'corrupt replacement logged as an error');
cmp_ok(scalar @rejected, '<=', 2,
    'once per worker, not once per check');

# A good file again.

$t->mmdb('country.mmdb', {
    '192.0.2.0/24'    => 'JP',
    '198.51.100.0/24' => 'US',
});

ok(wait_for('198.51.100.20', '403', 5), 'good file after a bad one is used');

# A file truncated in place under the workers: they kept a private copy,
# so nothing crashes and the last good database stays in use.

open my $fh, '+<', $db or die "$db: $!";
truncate $fh, 100;
close $fh;

sleep 2.5;

is(all_status('198.51.100.20'), '403', 'truncated in place: still deciding');
is(all_status('192.0.2.10'), '200', 'truncated in place: Japanese let in');

# The file removed: old database stays, the problem is logged.

unlink $db;
sleep 2.5;

is(all_status('192.0.2.10'), '200', 'file removed: old database in use');
like($t->error_log, qr/geoip database "\Q$db\E" cannot be checked for changes/,
    'removed file logged');

$t->done;
