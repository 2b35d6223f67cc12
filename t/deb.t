#!/usr/bin/perl

# The Debian packages of make deb in a fresh root of the machine's own
# release (Debian 12, or Debian 13: make test-debian13 runs this file in
# its Debian 13 root, where make deb builds trixie's packages): apt-get
# installs them with their dependencies from the machine's mirror,
# Debian's own nginx starts from /etc/nginx/nginx.conf with the module
# enabled by its package and the example configuration included, a
# request passes the gate and a foreign one is refused, the tools run,
# and apt-get purge leaves nothing of the packages behind.
#
# The root is debootstrap's minbase, made once and kept as a tarball
# under /var/cache/sekisho (pkg-debian12-minbase.tar, or 13), unpacked
# afresh for every run; the packages apt-get downloads are kept beside
# it (pkg-debian12-apt/) so that a second run fetches nothing again.
# Root only (chroot, debootstrap); not with the sanitizer build (the
# packages are the release build).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Fcntl qw(:flock);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Test::More;
use Sekisho::Test;

# the harness's reader of a whole file (empty if it cannot be read)
sub read_file { Sekisho::Test->read_file(@_) }
use Sekisho::Card;
use Sekisho::JPKI;

plan skip_all => 'the packages are the release build' if $ENV{SEKISHO_ASAN};
plan skip_all => 'root only (chroot, debootstrap)' if $> != 0;
plan skip_all => 'debootstrap is missing (scripts/deps installs it)'
    unless -x '/usr/sbin/debootstrap';

# the packages are built for the machine's release, and installed there
my %release = (bookworm => 12, trixie => 13);
my ($suite) = read_file('/etc/os-release') =~ /^VERSION_CODENAME=(\w+)$/m;
plan skip_all => 'the packages are built for the machine: Debian 12 or 13 only'
    unless $suite && $release{$suite};

my $top = Sekisho::Test::top();
my $cache = '/var/cache/sekisho';
my $debian = "debian$release{$suite}";
my $tarball = "$cache/pkg-$debian-minbase.tar";
my $archives = "$cache/pkg-$debian-apt";
my @pkgs = qw(libnginx-mod-http-sekisho sekisho-tools sekisho-card);

my $t = Sekisho::Test->new;

###############################################################################
# the packages: build/deb when newer than their sources, else make deb

my @debs = packages();
is(scalar(@debs), 3, 'make deb made the three packages')
    or BAIL_OUT('no packages');
my $lintian = read_file("$top/build/deb/lintian.txt");
ok(-e "$top/build/deb/lintian.txt" && $lintian !~ /^E: /m,
    'lintian checked them and reports no error') or diag($lintian);

###############################################################################
# a fresh root from the cached minbase tarball

make_path($cache);
open my $lock, '>', "$cache/pkg-$debian.lock" or die "lock: $!";
flock($lock, LOCK_EX) or die "flock: $!";
make_tarball() unless -s $tarball;
flock($lock, LOCK_UN);

my $root = tempdir("pkg-$debian-run.XXXXXX", DIR => $cache);
END { remove_root() }

run_ok("unpack the cached root", 'tar', '-C', $root, '-xf', $tarball);

# the module reads its copy of the country database through /proc/self/fd
run_ok('mount /proc in the root', 'mount', '-t', 'proc', 'proc', "$root/proc");

# no service of an installed package starts in the root (nginx would
# take port 80 of the machine): the test starts what it needs itself
write_root('/usr/sbin/policy-rc.d', "#!/bin/sh\nexit 101\n", 0755);

make_path($archives);
copy($_, "$root/var/cache/apt/archives/") for glob("$archives/*.deb");

make_path("$root/tmp/sekisho-debs");
copy($_, "$root/tmp/sekisho-debs/") or die "copy $_: $!" for @debs;
my @in_root = map { m{([^/]+)$}; "/tmp/sekisho-debs/$1" } @debs;

in_root_ok('apt-get update', 'apt-get', 'update', '-q');
in_root_ok('apt-get install of the three packages (and man-db)',
    'apt-get', 'install', '-y', '-q', '--no-install-recommends',
    @in_root, 'man-db');

for my $deb (glob("$root/var/cache/apt/archives/*.deb")) {
    my ($name) = $deb =~ m{([^/]+)$};
    copy($deb, "$archives/$name") unless -e "$archives/$name";
}

ok(-f "$root/usr/lib/nginx/modules/ngx_http_sekisho_module.so",
    'the module is in /usr/lib/nginx/modules');
is(readlink("$root/etc/nginx/modules-enabled/50-mod-http-sekisho.conf"),
    '/usr/share/nginx/modules-available/mod-http-sekisho.conf',
    'the module is enabled by its link in /etc/nginx/modules-enabled');
like(read_file("$root/usr/share/nginx/modules-available/mod-http-sekisho.conf"),
    qr{^load_module modules/ngx_http_sekisho_module\.so;$}m,
    'mod-http-sekisho.conf loads it');
ok(-f "$root/usr/share/doc/sekisho-tools/examples/sekisho.conf.example",
    'the example configuration is in /usr/share/doc/sekisho-tools/examples');
ok(-f "$root/usr/share/doc/sekisho-tools/examples/$_",
    "the SOC's $_ is among the examples")
    for qw(prometheus/sekisho-rules.yml grafana/sekisho-dashboard.json
           rsyslog/sekisho.conf);

###############################################################################
# Debian's nginx with the example configuration, adapted to loopback

my $port = $t->port(0);
my $app = $t->start_upstream('app');
my $secret = 'secret-for-the-package-test-32-bytes-long';
my $redis = $t->start_redis(password => $secret);
my $syslog = $t->port(1);

# 127.0.0.1 is in Japan for this test, 127.0.0.2 in the United States
my $db = $t->mmdb('country.mmdb',
    { '127.0.0.1/32' => 'JP', '127.0.0.2/32' => 'US' });

my $etc = '/etc/nginx/sekisho';
make_path("$root$etc");
chmod 0700, "$root$etc";
write_root("$etc/$_", "$secret\n", 0600)
    for qw(redis.pass lockout.key audit.key session.key);
write_root("$etc/country.mmdb", read_file($db), 0644);

# the audit key's state directory of the example, made by the package:
# the workers (www-data) replace the state file, no one else reads it
my ($rc, $out) = in_root('stat', '-c', '%a %U %G', '/var/lib/sekisho/audit',
    '/var/lib/sekisho/crl');
is($out, "700 www-data www-data\n755 root root\n",
    'the package made /var/lib/sekisho/audit (0700 www-data) and crl');

# the test authority stands in for J-LIS, as in t/conf-examples.t
my $pki = test_pki($t);
write_root("$etc/jpki-auth-ca.pem", read_file("$pki/bundle-auth-ca.pem"), 0644);
write_root("$etc/jpki-sign-ca.pem", read_file("$pki/sign-ca.pem"), 0644);
for my $crl (glob("$pki/crl/*")) {
    my ($name) = $crl =~ m{([^/]+)$};
    write_root("/var/lib/sekisho/crl/$name", read_file($crl), 0644);
}

my $ex = read_file(
    "$root/usr/share/doc/sekisho-tools/examples/sekisho.conf.example");
$ex =~ s{/var/lib/GeoIP/GeoIP2-Country\.mmdb}{$etc/country.mmdb};
$ex =~ s{listen 443 ssl http2;}{listen 127.0.0.1:$port;};
$ex =~ s{^\s*ssl_certificate.*$}{}mg;
$ex =~ s{sekisho_redis 10\.0\.0\.20:6379}{sekisho_redis 127.0.0.1:$redis};
$ex =~ s{server 10\.0\.0\.10:8080;}{server 127.0.0.1:$app;};
$ex =~ s{server=10\.0\.0\.30:514}{server=127.0.0.1:$syslog};
like($ex, qr/listen 127\.0\.0\.1:$port;/, 'the example is adapted to loopback');
unlike($ex, qr/10\.0\.0\.(10|20|30):/, 'no address of the example is left');
write_root('/etc/nginx/conf.d/sekisho.conf', $ex, 0644);

# Debian's default site listens on port 80 of the machine
unlink "$root/etc/nginx/sites-enabled/default";

in_root_ok('nginx -t with the example', '/usr/sbin/nginx', '-t', '-q');

my $nginx = fork;
die "fork: $!" unless defined $nginx;
if ($nginx == 0) {
    open STDOUT, '>>', $t->dir . '/nginx.out';
    open STDERR, '>>', $t->dir . '/nginx.out';
    exec 'chroot', $root, '/usr/sbin/nginx', '-g', 'daemon off;';
    die "exec chroot: $!";
}
$t->{nginx} = $nginx;    # stopped by the harness (QUIT) if the test dies
ok($t->wait_port($port), "Debian's nginx listens on 127.0.0.1:$port");

my $r = http_get('/', port => $port);
is(http_status($r), 200, 'a Japanese address passes the gate')
    or diag($r);
is($t->upstream_requests('app'), 1, 'and reaches the application');

$r = http_get('/', port => $port, local => '127.0.0.2');
is(http_status($r), 403, 'a foreign address is refused with 403');
is($t->upstream_requests('app'), 1, 'and never reaches the application');

is(http_status(http_get('/healthz', port => $port)), 200,
    'the health check answers');

###############################################################################
# the tools inside the root

($rc, $out) = in_root('sekisho-admin', '--help');
ok($rc == 0 && $out =~ /status <account>/, 'sekisho-admin --help')
    or diag($out);
($rc, $out) = in_root('sekisho-audit', '--help');
ok($rc == 0 && $out =~ /sekisho-audit verify/, 'sekisho-audit --help')
    or diag($out);
($rc, $out) = in_root('man', '-w', 'sekisho-admin');
is($out, "/usr/share/man/man1/sekisho-admin.1.gz\n", 'man -w sekisho-admin');
($rc, $out) = in_root('man', '-w', 'sekisho-audit');
is($out, "/usr/share/man/man1/sekisho-audit.1.gz\n", 'man -w sekisho-audit');

# sekisho-admin finds the installed sekisho-account-id
($rc, $out) = in_root('sekisho-admin', '--redis', "127.0.0.1:$redis",
    '--password-file', "$etc/redis.pass", '--key-file', "$etc/lockout.key",
    'status', "\xef\xbc\xa1lice");
ok($rc == 0 && $out =~ /^account alice: not locked/m,
    'sekisho-admin status normalises the id with the installed helper')
    or diag($out);

($rc, $out) = in_root('sekisho-audit', 'verify', '--key-file',
    "$etc/audit.key", '/var/log/nginx/sekisho-audit.log');
is($rc, 0, 'sekisho-audit verify: the audit log of the requests is intact')
    or diag($out);

($rc, $out) = in_root('sekisho-card', '--help');
ok($rc == 0 && $out =~ /usage: sekisho-card/,
    'sekisho-card runs (its libraries are installed)') or diag($out);

###############################################################################
# stop, then purge

$t->stop_nginx;
ok(!kill(0, $nginx), 'nginx stopped');
my $log = read_file("$root/var/log/nginx/error.log");
$t->write_file('error.log', $log);
unlike($log, qr/\[emerg\]|\[alert\]|exited on signal/,
    'no alert in nginx\'s error log') or diag($log);

ok(-s "$root/var/lib/sekisho/audit/audit.state",
    'the gateway kept its audit key\'s state there');

in_root_ok('apt-get purge of the three packages',
    'apt-get', 'purge', '-y', '-q', @pkgs);

my @left = grep { -e $_ || -l $_ } map { "$root$_" }
    '/usr/lib/nginx/modules/ngx_http_sekisho_module.so',
    '/usr/share/nginx/modules-available/mod-http-sekisho.conf',
    '/etc/nginx/modules-enabled/50-mod-http-sekisho.conf',
    '/etc/nginx/modules-enabled/50-mod-http-sekisho.conf.removed',
    '/usr/libexec/sekisho', '/usr/share/doc/sekisho-tools',
    '/usr/share/doc/sekisho-card',
    '/usr/share/doc/libnginx-mod-http-sekisho',
    '/var/lib/sekisho/audit',
    glob("$root/usr/bin/sekisho-* $root/usr/share/man/man1/sekisho-*");
is("@left", '', 'nothing of the packages is left after the purge (nor the audit key\'s state)');
ok(glob("$root/var/lib/sekisho/crl/*"), 'the CRLs the administrator put there are kept');

($rc, $out) = in_root('dpkg-query', '-W', '-f',
    '${db:Status-Abbrev}${Package}\n', @pkgs);
is(join('', grep { !/no packages found matching/ } split /^/, $out), '',
    'dpkg knows none of them any more');

$t->done;


###############################################################################


sub write_root {
    my ($path, $content, $mode) = @_;
    my $f = "$root$path";
    open my $fh, '>', $f or die "write $f: $!";
    binmode $fh;
    print $fh $content;
    close $fh;
    chmod $mode, $f;
}

# (exit status, stdout and stderr together) of a command
sub capture {
    my ($cmd, %env) = @_;
    my ($rc, $out, $err) = Sekisho::Card::run_cmd($t, $cmd, env => \%env);
    return ($rc, $out . $err);
}

sub run_ok {
    my ($name, @cmd) = @_;
    my ($rc, $out) = capture([@cmd]);
    is($rc, 0, $name) or diag($out);
}

sub in_root {
    my (@cmd) = @_;
    return capture(['chroot', $root, @cmd],
        PATH => '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL => 'C',
        DEBIAN_FRONTEND => 'noninteractive');
}

sub in_root_ok {
    my ($name, @cmd) = @_;
    my ($rc, $out) = in_root(@cmd);
    is($rc, 0, $name) or diag($out);
}

# build/deb's packages when newer than their sources, else make deb's
sub packages {
    my @found = map { glob("$top/build/deb/${_}_*.deb") } @pkgs;
    my ($changes) = glob("$top/build/deb/sekisho_*.changes");

    # what goes into them: every tracked file but the tests and the docs
    my $newest = 0;
    for my $f (grep { !m{^(t|docs)/|\.md$} }
        split /\0/, `git -C '$top' ls-files -z`)
    {
        my $m = (stat "$top/$f")[9] or next;
        $newest = $m if $m > $newest;
    }

    if (@found != 3 || !$changes || (stat $changes)[9] < $newest) {
        my ($rc, $out) = capture(["$top/scripts/deb"]);
        is($rc, 0, 'make deb') or diag($out);
        @found = map { glob("$top/build/deb/${_}_*.deb") } @pkgs;
    }

    return @found;
}

# The Debian archive, or its security archive, as the machine's apt
# names it (one-line "deb URI suite" and deb822 "URIs:" entries, as
# scripts/test-debian13 reads them); deb.debian.org when none is found.
sub mirror_of {
    my ($want) = @_;
    my @uris;

    for my $f ('/etc/apt/sources.list',
        glob('/etc/apt/sources.list.d/*.{list,sources}'))
    {
        push @uris, read_file($f)
            =~ m{^(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)}mg;
    }
    my ($uri) = grep { m{/\Q$want\E/?$} } @uris;
    $uri //= "http://deb.debian.org/$want";
    $uri =~ s{/$}{};
    return $uri;
}

# debootstrap's minbase of the machine's release from the machine's
# mirror, with the suites an installed system has (updates, security),
# packed into $tarball
sub make_tarball {
    my $mirror = mirror_of('debian');
    my $security = mirror_of('debian-security');

    my $dir = tempdir("pkg-$debian-bootstrap.XXXXXX", DIR => $cache,
        CLEANUP => 1);
    diag("making $tarball with debootstrap $suite from $mirror"
        . " (a few minutes, once)");
    my ($rc, $out) = capture(['debootstrap', '--variant=minbase',
        $suite, "$dir/root", $mirror]);
    die "debootstrap failed:\n$out" if $rc;

    open my $fh, '>', "$dir/root/etc/apt/sources.list" or die "sources: $!";
    print $fh "deb $mirror $suite main\n",
        "deb $mirror $suite-updates main\n",
        "deb $security $suite-security main\n";
    close $fh;
    remove_tree(glob("$dir/root/var/cache/apt/archives/*.deb"));

    ($rc, $out) = capture(['tar', '-C', "$dir/root", '-cf', "$tarball.new",
        '.']);
    die "tar failed:\n$out" if $rc;
    rename "$tarball.new", $tarball or die "rename $tarball: $!";
}

# /proc unmounted, the root is removed whole (and left in place if
# anything is still mounted in it)
sub remove_root {
    return unless $root && -d $root && $$ == $t->{owner};
    $t->stop_nginx if $t;
    system('umount', "$root/proc")
        if read_file('/proc/mounts') =~ m{ \Q$root\E/proc };
    my $mounts = read_file('/proc/mounts');
    if ($mounts =~ m{ \Q$root\E[/ ]}) {
        diag("$root has a mount; left in place");
        return;
    }
    remove_tree($root) unless $ENV{SEKISHO_TEST_KEEP};
}
