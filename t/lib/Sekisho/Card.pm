package Sekisho::Card;

# The card side of the harness: a private pcscd with the vpcd reader,
# the virtual My Number card (scripts/card/sekisho-card-emu), the test
# JPKI authority (scripts/test/jpki-test-pki, built once and cached),
# the applicant's tool (sekisho-card), and an office's HTTP proxy
# (Debian's tinyproxy).  Functions take the Sekisho::Test
# object; what they start is stopped with it.
#
#   my $t = Sekisho::Test->new;
#   my $pki = Sekisho::Card::jpki_pki($t);
#   Sekisho::Card::start_pcscd($t);
#   Sekisho::Card::start_card($t, who => 'alice', pki => $pki);
#   my ($rc, $out, $err) = Sekisho::Card::card($t, 'status');
#
# pcscd 1.9.9 always binds /run/pcscd/pcscd.comm unless systemd hands
# it its socket, so the socket is made here, in the test directory,
# and passed the way systemd does (fd 3, LISTEN_FDS, LISTEN_PID): a
# pcscd of the machine, or of another test, is never touched.  Clients
# find it through PCSCLITE_CSOCK_NAME, which is set in %ENV.

use strict;
use warnings;

use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep);

use Sekisho::Test;

my $TOP = Sekisho::Test::top();

my $VPCD = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

our $READER = 'Virtual PCD 00 00';

###############################################################################
# Tools

# The path of sekisho-card or sekisho-card-emu, built (or rebuilt when a
# source is newer) with scripts/card/build; the sanitizer build when the
# test runs under SEKISHO_ASAN.
sub tool {
    my ($t, $name) = @_;

    my $asan = ref $t && $t->{asan};
    my $bin = $asan ? "$TOP/build/asan/$name" : "$TOP/build/$name";

    build($asan ? '--asan' : '', $bin);

    return $bin;
}

# Runs scripts/card/build [flag] unless $bin is newer than every source.
sub build {
    my ($flag, $bin) = @_;

    my @src = (glob("$TOP/scripts/card/*.[ch]"), "$TOP/scripts/card/build");
    my $stale = !-x $bin;
    if (!$stale) {
        my $m = (stat $bin)[9];
        $stale = grep { (stat $_)[9] > $m } @src;
    }
    return unless $stale;

    my $out = `$TOP/scripts/card/build $flag 2>&1`;
    die "scripts/card/build $flag failed:\n$out" if $?;
}

# The environment for the tools: the sanitizers report into the test
# directory, where Sekisho::Test's check_logs() looks.
sub tool_env {
    my ($t) = @_;
    return () unless $t->{asan};
    return (
        ASAN_OPTIONS  => "detect_leaks=1:log_path=$t->{dir}/asan",
        UBSAN_OPTIONS => "print_stacktrace=1:log_path=$t->{dir}/ubsan",
    );
}

# Runs sekisho-card with arguments (never a PIN: PINs go in files or on
# standard input): (exit code, stdout, stderr).  Options: stdin =>
# text, env => { NAME => value } (proxies only from there).
sub card {
    my ($t, @args) = @_;
    my %opts = ref $args[-1] eq 'HASH' ? %{ pop @args } : ();
    return run_cmd($t, [tool($t, 'sekisho-card'), @args], %opts);
}

# Runs any command: (exit code, stdout, stderr).
sub run_cmd {
    my ($t, $cmd, %opts) = @_;

    my $d = $t->{dir};
    my ($in, $out, $err) = map { "$d/.run-$$-$_" } qw(in out err);

    open my $fh, '>', $in or die "$in: $!\n";
    binmode $fh;
    print $fh $opts{stdin} if defined $opts{stdin};
    close $fh;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        # the tests' servers are on loopback: a proxy of the machine's
        # environment is not theirs (a test that wants one names it)
        delete @ENV{qw(http_proxy https_proxy HTTPS_PROXY all_proxy
            ALL_PROXY no_proxy NO_PROXY)};
        my %env = (tool_env($t), %{ $opts{env} || {} });
        @ENV{ keys %env } = values %env;
        open STDIN, '<', $in;
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec @$cmd;
        exit 127;
    }

    waitpid($pid, 0);
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;

    my @r = ($rc, $t->read_file($out), $t->read_file($err));
    unlink $in, $out, $err;

    return @r;
}

###############################################################################
# The test authority

# Builds the test JPKI authority once per version of
# scripts/test/jpki-test-pki (its modification time) under
# build/test-pki/, and returns the directory.  Tests only read it.  It
# is built aside and renamed into place, so concurrent test files see
# it whole or not at all.
# The http-level directives of a gateway for card logins, as the card
# tests run it: Redis, the test authority's CAs and CRLs (pki/ under the
# test directory), sessions and the audit log; the caller writes
# session.key and redis.key.
sub gateway_http {
    return <<'END';
    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_redis_key_file %%TESTDIR%%/redis.key;
    sekisho_jpki_auth_ca %%TESTDIR%%/pki/bundle-auth-ca.pem;
    sekisho_jpki_sign_ca %%TESTDIR%%/pki/sign-ca.pem;
    sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca.crl.pem
                     %%TESTDIR%%/pki/sign-ca.crl.pem;
    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;
    sekisho_audit_log %%TESTDIR%%/audit.jsonl;
END
}

sub jpki_pki {
    my ($t) = @_;

    my $script = "$TOP/scripts/test/jpki-test-pki";
    my $mtime = (stat $script)[9] or die "$script: $!\n";
    my $base = "$TOP/build/test-pki";
    my $dir = "$base/$mtime";

    return $dir if -f "$dir/README";

    make_path($base);
    my $tmp = tempdir("build-XXXXXX", DIR => $base);
    my $out = `$script $tmp/pki 2>&1`;
    die "scripts/test/jpki-test-pki failed:\n$out" if $?;

    # another test may have finished first: keep its copy
    if (!rename("$tmp/pki", $dir) && !-f "$dir/README") {
        die "cannot rename $tmp/pki to $dir: $!\n";
    }

    system('rm', '-rf', $tmp);

    return $dir;
}

###############################################################################
# pcscd

# A TCP port free on every address for vpcd, and the one after it: vpcd
# listens on 0.0.0.0 (it has no option for an address) for its two
# slots, port and port + 1.
sub vpcd_port {
    my ($t) = @_;

    for my $i (0 .. 50) {
        my $p = $t->port("vpcd$i");
        next if $p >= 65535;
        my @s = map {
            IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $_,
                Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        } ($p, $p + 1);
        my $free = $s[0] && $s[1];
        close $_ for grep { $_ } @s;
        return $p if $free;
    }

    die "no free port pair for vpcd\n";
}

# Starts pcscd in the foreground with its own reader.conf.d holding only
# the vpcd reader, on its own socket; waits until the reader is seen.
# Returns the vpcd port.  Options: port (to start again on the same).
sub start_pcscd {
    my ($t, %opts) = @_;

    my $d = $t->{dir};
    my $port = $opts{port} || $t->{vpcd_port} || vpcd_port($t);
    my $sock = "$d/pcscd.comm";

    die "$VPCD missing: install vsmartcard-vpcd (scripts/deps)\n"
        unless -f $VPCD;

    make_path("$d/reader.conf.d");
    $t->write_file('reader.conf.d/vpcd', <<"EOF");
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$port
LIBPATH      $VPCD
CHANNELID    $port
EOF

    # pcscd 2.x (Debian 13) asks polkit, over the D-Bus system bus, whether
    # a client may connect, and refuses every client when it cannot ask
    # (no system bus in a container or a chroot).  This pcscd is the
    # test's own, on a socket in the test directory: polkit guards the
    # machine's pcscd, not this one.  1.9 (Debian 12) has no polkit.
    my @polkit = `pcscd --help 2>&1` =~ /--disable-polkit/
        ? ('--disable-polkit') : ();

    unlink $sock;
    my $listen = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $sock,
        Listen => 16) or die "pcscd socket $sock: $!\n";

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        # as systemd passes a socket: fd 3, not closed on exec
        my $fd = fileno($listen);
        POSIX::dup2($fd, 3) or exit 127 if $fd != 3;
        open(my $fd3, '<&=', 3) or exit 127;
        fcntl($fd3, F_SETFD, fcntl($fd3, F_GETFD, 0) & ~FD_CLOEXEC);
        $ENV{LISTEN_FDS} = 1;
        $ENV{LISTEN_PID} = $$;
        delete $ENV{LISTEN_FDNAMES};
        open STDOUT, '>>', "$d/pcscd.log";
        open STDERR, '>>', "$d/pcscd.log";
        exec 'pcscd', '--foreground', '--config', "$d/reader.conf.d",
            @polkit;
        exit 127;
    }

    close $listen;

    push @{ $t->{pids} }, $pid;
    $t->{pcscd_pid} = $pid;
    $t->{vpcd_port} = $port;
    $ENV{PCSCLITE_CSOCK_NAME} = $sock;

    for (1 .. 100) {
        my ($rc, $out) = card($t, 'readers');
        return $port if $rc == 0 && $out =~ /\Q$READER\E/;
        die "pcscd exited:\n" . $t->read_file('pcscd.log')
            if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }

    die "pcscd shows no vpcd reader:\n" . $t->read_file('pcscd.log');
}

sub stop_pcscd {
    my ($t) = @_;
    my $pid = delete $t->{pcscd_pid} or return;
    _stop($t, $pid);
}

###############################################################################
# An office's HTTP proxy

# Starts Debian's tinyproxy in the foreground on a free loopback port,
# with its own configuration in the test directory; every request it
# gets (CONNECT included) is a line of proxy.log.  Options:
# connect_ports => [ports] (the only ports CONNECT may reach; default:
# any).  Returns the port; it is stopped by its pid with the test.
sub start_proxy {
    my ($t, %opts) = @_;

    my $d = $t->{dir};
    my $port = $t->port('proxy');

    my $conf = <<"EOF";
Port $port
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 30
MaxClients 16
LogFile "$d/proxy.log"
LogLevel Connect
PidFile "$d/proxy.pid"
DisableViaHeader Yes
EOF
    $conf .= "ConnectPort $_\n" for @{ $opts{connect_ports} || [] };
    $t->write_file('proxy.conf', $conf);

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>>', "$d/proxy.out";
        open STDERR, '>>', "$d/proxy.out";
        exec 'tinyproxy', '-d', '-c', "$d/proxy.conf";
        exit 127;
    }

    push @{ $t->{pids} }, $pid;

    $t->wait_port($port)
        or die "tinyproxy did not start:\n" . $t->read_file('proxy.out');

    return $port;
}

# The requests the proxy has had, one a line: "CONNECT host:port
# HTTP/1.1", or "GET http://host:port/path HTTP/1.1".
sub proxy_requests {
    my ($t) = @_;
    return '' unless -f "$t->{dir}/proxy.log";
    my $log = $t->read_file('proxy.log');
    return join '',
        map { "$_\n" } $log =~ /: Request \(file descriptor \d+\): (.*)$/mg;
}

###############################################################################
# The virtual card

# Starts the emulator as a card in the vpcd reader and waits until PC/SC
# sees the card.  Options:
#   who => 'alice', pki => dir    the card's keys and certificates
#   auth_pin => '1234', sign_pin => 'ABC123'   the card's PINs (a 0600
#                                 file, never argv)
#   state => file                 keep the retry counters across restarts
#   no_jpki => 1, t0 => 1, token => 'JPKIAPICCTOKEN', atr => hex,
#   remove_after => N, verbose => 1, absent => 1 (not waited for),
#   args => [...]                 more emulator options
# Returns the emulator's pid; its log is card-emu.log in the test dir.
sub start_card {
    my ($t, %opts) = @_;

    my $d = $t->{dir};
    my $pki = $opts{pki} || jpki_pki($t);
    my $who = $opts{who} || 'alice';
    my $port = $t->{vpcd_port} or die "start_pcscd first\n";

    stop_card($t) if $t->{card_pid};

    my $pins = "$d/card-pins";
    $t->write_file('card-pins', ($opts{auth_pin} // '1234') . "\n"
        . ($opts{sign_pin} // 'ABC123') . "\n");
    chmod 0600, $pins;

    my @args = ('--card', "$pki/$who", '--pin-file', $pins,
        '--host', '127.0.0.1', '--port', $port);
    push @args, '--state', $opts{state} if $opts{state};
    push @args, '--no-jpki' if $opts{no_jpki};
    push @args, '--t0' if $opts{t0};
    push @args, '--token', $opts{token} if defined $opts{token};
    push @args, '--atr', $opts{atr} if $opts{atr};
    push @args, '--remove-after', $opts{remove_after} if $opts{remove_after};
    push @args, '--absent' if $opts{absent};
    push @args, '-v' if $opts{verbose};
    push @args, @{ $opts{args} || [] };

    my $emu = tool($t, 'sekisho-card-emu');

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        my %env = tool_env($t);
        @ENV{ keys %env } = values %env;
        open STDOUT, '>>', "$d/card-emu.log";
        open STDERR, '>>', "$d/card-emu.log";
        exec $emu, @args;
        exit 127;
    }

    push @{ $t->{pids} }, $pid;
    $t->{card_pid} = $pid;

    return $pid if $opts{absent} || $opts{nowait};

    wait_card($t, 1)
        or die "the virtual card did not come up:\n"
            . $t->read_file('card-emu.log');

    return $pid;
}

# Stops the emulator (the card leaves the reader) and waits until PC/SC
# sees the reader empty.
sub stop_card {
    my ($t) = @_;
    my $pid = delete $t->{card_pid} or return;
    _stop($t, $pid);
    wait_card($t, 0);
}

# Pulls the card out (SIGUSR1), or puts it back: the emulator keeps
# running, with its PIN counters.
sub remove_card {
    my ($t) = @_;
    kill 'USR1', $t->{card_pid} or return 0;
    return wait_card($t, 0);
}

sub insert_card {
    my ($t) = @_;
    kill 'USR1', $t->{card_pid} or return 0;
    return wait_card($t, 1);
}

# Whether the vpcd reader holds a card, as PC/SC tells.
sub card_present {
    my ($t) = @_;
    my ($rc, $out) = card($t, 'readers');
    return $out =~ /^0: \Q$READER\E \(card present\)/m ? 1 : 0;
}

sub wait_card {
    my ($t, $present) = @_;
    for (1 .. 100) {
        return 1 if card_present($t) == $present;
        sleep 0.05;
    }
    return 0;
}

sub _stop {
    my ($t, $pid) = @_;
    kill 'TERM', $pid;
    for (1 .. 100) {
        last if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    if (kill 0, $pid) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    $t->{pids} = [ grep { $_ != $pid } @{ $t->{pids} } ];
}

1;
