package Sekisho::Test;

# The test harness: per test file, a private directory, free loopback
# ports, Debian's nginx with the built module, the echo upstream, small
# MaxMind databases, and plain HTTP over sockets.  Everything started is
# stopped when the test object goes away, also when a test dies.
#
#   my $t = Sekisho::Test->new;
#   $t->mmdb('geo.mmdb', { '192.0.2.0/24' => 'JP' });
#   $t->write_config(<<'EOF');
#   %%TEST_GLOBALS%%
#   http {
#       %%TEST_GLOBALS_HTTP%%
#       server { listen 127.0.0.1:%%PORT_0%%; ... }
#   }
#   EOF
#   $t->run;
#   like(http_get('/', port => $t->port(0)), qr/200/, 'let in');
#   $t->done;

use strict;
use warnings;

use Exporter qw(import);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Socket qw(SOMAXCONN);
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT = qw(http http_get http_post http_parallel http_status http_body
    http_header);

my $TOP = File::Spec->rel2abs(
    File::Spec->catdir((File::Spec->splitpath(__FILE__))[1], '..', '..', '..'));

my @LIVE;

sub top { $TOP }

sub new {
    my ($class, %opts) = @_;

    my $keep = $ENV{SEKISHO_TEST_KEEP} ? 1 : 0;
    my $dir = tempdir('sekisho-t-XXXXXX', TMPDIR => 1, CLEANUP => !$keep);

    # workers run as root here, but keep the directory reachable anyway
    chmod 0755, $dir;

    my $self = bless {
        dir       => $dir,
        ports     => {},
        used      => {},
        pids      => [],
        nginx     => undef,
        owner     => $$,
        asan      => $ENV{SEKISHO_ASAN} ? 1 : 0,
        %opts,
    }, $class;

    push @LIVE, $self;
    diag("test directory $dir kept") if $keep;

    return $self;
}

sub dir { $_[0]{dir} }

sub module {
    my ($self) = @_;
    return $ENV{SEKISHO_MODULE} if $ENV{SEKISHO_MODULE};
    return $self->{asan}
        ? "$TOP/build/asan/ngx_http_sekisho_module.so"
        : "$TOP/build/ngx_http_sekisho_module.so";
}

# A free TCP port on loopback, the same number for the same index.
sub port {
    my ($self, $n) = @_;

    return $self->{ports}{$n} if exists $self->{ports}{$n};

    for (1 .. 100) {
        my $s = IO::Socket::IP->new(
            LocalHost => '127.0.0.1', LocalPort => 0, Listen => 1,
            ReuseAddr => 1) or next;
        my $p = $s->sockport;
        close $s;
        next if $self->{used}{$p}++;
        return $self->{ports}{$n} = $p;
    }

    die "no free port on 127.0.0.1\n";
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = "$self->{dir}/$name";
    my (undef, $d) = File::Spec->splitpath($path);
    make_path($d) if $d && !-d $d;
    open my $fh, '>', $path or die "write $path: $!\n";
    binmode $fh;
    print $fh $content;
    close $fh;
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '<', $path or return '';
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c;
}

# Writes a country database with MaxMind::DB::Writer.  Networks map to
# a country code (or to a whole record, given as a hash with its key
# types in "types"); the layout is MaxMind's (country.iso_code) or the
# ip-location-db one (top-level country_code).  Reserved networks are
# kept and IPv4 is not aliased into ::ffff:0:0/96, so tests see exactly
# what they wrote.  The file is written beside and renamed into place,
# as an operator's update would be.
sub mmdb {
    my ($self, $name, $nets, %opts) = @_;

    {
        # Debian 13's writer warns that it is deprecated when loaded
        no warnings 'deprecated';
        require MaxMind::DB::Writer::Tree;
    }

    my $layout = $opts{layout} || 'geoip2';
    my %types = $layout eq 'geoip2'
        ? (country => 'map', iso_code => 'utf8_string')
        : (country_code => 'utf8_string');
    %types = (%types, %{ $opts{types} || {} });

    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => $opts{ip_version} || 6,
        record_size              => 24,
        database_type            => 'Sekisho-Test-Country',
        languages                => ['en'],
        description              => { en => 'Sekisho test database' },
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => 0,
        map_key_type_callback    => sub { $types{ $_[0] } },
    );

    for my $net (sort keys %$nets) {
        my $cc = $nets->{$net};
        my $data = ref $cc ? $cc : $layout eq 'geoip2'
            ? { country => { iso_code => $cc } }
            : { country_code => $cc };
        $tree->insert_network($net, $data);
    }

    my $path = "$self->{dir}/$name";
    open my $fh, '>', "$path.new" or die "write $path.new: $!\n";
    binmode $fh;
    $tree->write_tree($fh);
    close $fh;
    rename "$path.new", $path or die "rename $path: $!\n";

    return $path;
}

# Starts a throwaway redis-server on a loopback port with its own
# directory; a password, if any, goes into its config file, not argv.
sub start_redis {
    my ($self, %opts) = @_;

    my $port = $opts{port} || $self->port('redis');
    $self->{redis_password} = $opts{password};

    my $conf = "save \"\"\nappendonly no\nenable-debug-command local\n";
    $conf .= "requirepass $opts{password}\n" if defined $opts{password};
    $conf .= "unixsocket $self->{dir}/redis/redis.sock\nunixsocketperm 700\n"
        if $opts{unix};

    $self->{redis_pid} = $self->_spawn_redis('redis', $port, $conf);
    $self->{redis_port} = $port;

    $self->_redis_pong($port, $opts{password}) or die "redis-server does not answer PING\n";
    return $port;
}

# redis-server (or with sentinel => 1 a Sentinel) in a directory of its
# own, configured by a file it may rewrite; returns its pid.
sub _spawn_redis {
    my ($self, $name, $port, $conf, %opts) = @_;

    my $dir = "$self->{dir}/$name";
    make_path($dir);

    $self->write_file("$name/redis.conf", "port $port\nbind 127.0.0.1\n"
        . "dir $dir\nlogfile $dir/redis.log\ndaemonize no\n" . $conf);

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/stdout.log";
        open STDERR, '>>', "$dir/stdout.log";
        exec 'redis-server', "$dir/redis.conf",
            $opts{sentinel} ? ('--sentinel') : ();
        die "exec redis-server: $!\n";
    }

    $self->wait_port($port) or die "redis-server $name did not start\n";
    return $pid;
}

sub _redis_pong {
    my ($self, $port, $password) = @_;
    for (1 .. 50) {
        my $r = eval { redis_call($port, $password, 0, 'PING') };
        return 1 if defined $r && $r eq 'PONG';
        sleep 0.05;
    }
    return 0;
}

# More Redis servers for one test (a primary and its replicas, a
# cluster's nodes, Sentinels): each by name, on the free port
# port("redis_NAME") (%%PORT_redis_NAME%% in a configuration), with
# configuration lines of its own ("conf"); the password goes into the
# file.  Stopped with the test, or by stop_redis_node().
sub start_redis_node {
    my ($self, $name, %opts) = @_;

    my $port = $opts{port} || $self->port("redis_$name");
    my $conf = $opts{sentinel} ? '' : "save \"\"\nappendonly no\n";
    $conf .= "requirepass $opts{password}\n" if defined $opts{password};
    $conf .= $opts{conf} || '';

    my $pid = $self->_spawn_redis("redis_$name", $port, $conf,
        sentinel => $opts{sentinel});
    $self->{nodes}{$name} = { pid => $pid, port => $port,
        password => $opts{password} };

    $self->_redis_pong($port, $opts{password})
        or die "redis $name does not answer PING\n";
    return $port;
}

# A Sentinel set on loopback: the primary "p", its replicas "r1" and
# "r2", and three Sentinels "s1" to "s3" that watch it as "mymaster"
# (quorum 2); the data nodes and the Sentinels each have their password.
# Returns the primary's port.
sub start_sentinel_set {
    my ($self, %opts) = @_;
    my $pw = $opts{password};
    my $p = $self->port('redis_p');

    for my $n (qw(p r1 r2)) {
        $self->start_redis_node($n, password => $pw,
            conf => "masterauth $pw\n"
                . ($n eq 'p' ? '' : "replicaof 127.0.0.1 $p\n"));
    }

    for my $s (qw(s1 s2 s3)) {
        $self->start_redis_node($s, sentinel => 1,
            password => $opts{sentinel_password},
            conf => "sentinel monitor mymaster 127.0.0.1 $p 2\n"
                . "sentinel auth-pass mymaster $pw\n"
                . "sentinel sentinel-pass $opts{sentinel_password}\n"
                . "sentinel down-after-milliseconds mymaster "
                . ($opts{down_after} || 1000) . "\n"
                . "sentinel failover-timeout mymaster "
                . ($opts{failover_timeout} || 4000) . "\n");
    }

    return $p;
}

# One command to a named node (see redis() for the reply).
sub redis_node {
    my ($self, $name, @cmd) = @_;
    my $n = $self->{nodes}{$name} or die "no redis node $name\n";
    return redis_call($n->{port}, $n->{password}, 0, @cmd);
}

# Stops a named node: TERM, or the signal given (KILL: a crash).
sub stop_redis_node {
    my ($self, $name, $sig) = @_;
    my $n = $self->{nodes}{$name} or return;
    my $pid = delete $n->{pid} or return;
    kill $sig || 'TERM', $pid;
    waitpid($pid, 0);
}

sub stop_redis {
    my ($self) = @_;
    my $pid = delete $self->{redis_pid} or return;
    kill 'TERM', $pid;
    waitpid($pid, 0);
}

# One command to the test's Redis; the reply as a Perl value (an array
# reference for arrays, a string "ERR ..." prefixed with "-" for errors).
sub redis {
    my ($self, @cmd) = @_;
    return redis_call($self->{redis_port}, $self->{redis_password},
        $self->{redis_db}, @cmd);
}

# The same to any port: AUTH and SELECT first when given.
sub redis_call {
    my ($port, $password, $db, @cmd) = @_;

    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1',
        PeerPort => $port, Timeout => 5)
        or die "redis: connect: $@\n";

    my @all = (defined $password ? (['AUTH', $password]) : (),
        $db ? (['SELECT', $db]) : (), [@cmd]);

    my $reply;
    for my $c (@all) {
        print $s '*' . scalar(@$c) . "\r\n"
            . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c);
        $reply = _resp($s);
    }

    close $s;
    return $reply;
}

sub _resp {
    my ($s) = @_;
    my $line = <$s>;
    die "redis: connection closed\n" unless defined $line;
    $line =~ s/\r\n$//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    return "-$v" if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        read($s, $buf, $v + 2);
        return substr($buf, 0, $v);
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { _resp($s) } 1 .. $v ];
    }
    die "redis: bad reply '$line'\n";
}

# Starts the echo upstream; returns its port.
sub start_upstream {
    my ($self, $n) = @_;
    $n = 'upstream' unless defined $n;

    my $port = $self->port($n);
    my $log = "$self->{dir}/upstream-$n.log";
    open my $fh, '>', $log or die "$log: $!\n";
    close $fh;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        exec $^X, "$TOP/scripts/test/sample-upstream", $port, $log;
        die "exec sample-upstream: $!\n";
    }

    push @{ $self->{pids} }, $pid;
    $self->{upstream_log}{$n} = $log;
    $self->wait_port($port) or die "echo upstream did not start\n";

    return $port;
}

# Requests the echo upstream has received so far.
sub upstream_requests {
    my ($self, $n) = @_;
    $n = 'upstream' unless defined $n;
    my $c = $self->read_file($self->{upstream_log}{$n});
    return scalar(() = $c =~ /\n/g);
}

sub globals {
    my ($self) = @_;
    my $module = $self->module;
    my $user = $> == 0 ? "user root;\n" : '';
    my $workers = $self->{workers} || 1;

    return <<"EOF";
load_module $module;
${user}daemon off;
master_process on;
worker_processes $workers;
pid $self->{dir}/nginx.pid;
error_log $self->{dir}/error.log info;
events { worker_connections 1024; }
EOF
}

sub globals_http {
    my ($self) = @_;
    my $d = $self->{dir};

    return <<"EOF";
access_log $d/access.log;
client_body_temp_path $d/client_body_temp;
proxy_temp_path $d/proxy_temp;
fastcgi_temp_path $d/fastcgi_temp;
uwsgi_temp_path $d/uwsgi_temp;
scgi_temp_path $d/scgi_temp;
EOF
}

sub write_config {
    my ($self, $conf, $name) = @_;
    $name ||= 'nginx.conf';

    $conf =~ s/%%TEST_GLOBALS%%/$self->globals/ge;
    $conf =~ s/%%TEST_GLOBALS_HTTP%%/$self->globals_http/ge;
    $conf =~ s/%%TESTDIR%%/$self->{dir}/g;
    $conf =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;

    $self->{config} = $self->write_file($name, $conf);
    return $self->{config};
}

# nginx's environment: the sanitizers' libraries with the ASan build,
# and a test's own (e.g. libfaketime's) from $t->{env}.  A test's own
# library is preloaded before ASan's: libfaketime after ASan deadlocks
# in its constructor (even /bin/true never ends), so ASan is told not
# to insist on coming first.
sub env_asan {
    my ($self) = @_;
    my %env = %{ $self->{env} || {} };

    return %env unless $self->{asan};

    my $asan = `gcc -print-file-name=libasan.so`;
    my $ubsan = `gcc -print-file-name=libubsan.so`;
    chomp($asan, $ubsan);
    my $order = $env{LD_PRELOAD} ? 'verify_asan_link_order=0:' : '';
    return (
        %env,
        LD_PRELOAD    => join(':', $env{LD_PRELOAD} || (), "$asan:$ubsan"),
        ASAN_OPTIONS  => "${order}detect_leaks=0:fast_unwind_on_malloc=0:log_path=$self->{dir}/asan",
        UBSAN_OPTIONS => "print_stacktrace=1:log_path=$self->{dir}/ubsan",
    );
}

# nginx -t on the current configuration: (exit status, output).
sub nginx_test {
    my ($self) = @_;
    my %env = $self->env_asan;
    my ($out, $pid, $fh) = ('');

    # a child that never ends must fail the test, not stall the run:
    # nginx -t gets a minute, then KILL
    $pid = open $fh, '-|';
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        @ENV{ keys %env } = values %env;
        open STDERR, '>&', \*STDOUT;
        exec '/usr/sbin/nginx', '-t', '-p', "$self->{dir}/",
            '-c', $self->{config}, '-e', "$self->{dir}/error-t.log";
        die "exec nginx: $!\n";
    }

    eval {
        local $SIG{ALRM} = sub { die "deadline\n" };
        alarm 60;
        local $/;
        $out = <$fh>;
        alarm 0;
    };
    if ($@) {
        kill 'KILL', $pid;
        close $fh;
        return (255, "nginx -t did not end within 60 s\n$out");
    }
    close $fh;
    return ($? >> 8, $out);
}

# Writes a configuration of one server on a loopback port, with the
# given http-level and server-level text, and runs nginx -t on it:
# (exit status, output).
sub try_config {
    my ($self, $http, $server) = @_;
    $server = '' unless defined $server;
    $self->write_config(<<"END");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    $http
    server {
        listen 127.0.0.1:%%PORT_0%%;
        $server
    }
}
END
    return $self->nginx_test;
}

# Configuration mistakes: each case is [config parts..., qr/message/,
# name]; $build runs nginx -t on a configuration made from the parts,
# as try_config() does.  Every case must make nginx -t fail with the
# message.
sub config_errors {
    my ($self, $build, @cases) = @_;

    for my $case (@cases) {
        my @parts = @$case;
        my $name = pop @parts;
        my $why = pop @parts;
        my ($rc, $out) = $build->(@parts);
        isnt($rc, 0, "$name: nginx -t fails");
        like($out, $why, "$name: the message says so");
    }
}

# Starts nginx and waits until every port of the configuration answers.
sub run {
    my ($self) = @_;

    my ($rc, $out) = $self->nginx_test;
    die "nginx -t failed:\n$out" if $rc;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        my %env = $self->env_asan;
        @ENV{ keys %env } = values %env;
        open STDOUT, '>>', "$self->{dir}/stderr.log";
        open STDERR, '>>', "$self->{dir}/stderr.log";
        exec '/usr/sbin/nginx', '-p', "$self->{dir}/", '-c', $self->{config},
            '-e', "$self->{dir}/error.log";
        die "exec nginx: $!\n";
    }

    $self->{nginx} = $pid;

    my $conf = $self->read_file($self->{config});
    my @listen = $conf =~ /^\s*listen\s+(\S+?)[\s;]/mg;

    for my $l (@listen) {
        next if $l =~ /^unix:/;
        my ($host, $port) = $l =~ /^\[?([^\]]*?)\]?:(\d+)$/;
        next unless $port;
        $self->wait_port($port, $host)
            or die "nginx did not listen on $l:\n"
                . $self->read_file('error.log');
    }

    return $self;
}

# nginx -s reload: HUP, then wait until the new workers are up (the old
# ones say "gracefully shutting down")
sub reload {
    my ($self) = @_;
    my $before = () = $self->error_log =~ /start worker process/g;
    kill 'HUP', $self->{nginx};
    for (1 .. 100) {
        my $now = () = $self->error_log =~ /start worker process/g;
        last if $now > $before;
        sleep 0.05;
    }
    sleep 0.2;
}

sub wait_port {
    my ($self, $port, $host) = @_;
    $host ||= '127.0.0.1';

    for (1 .. 100) {
        my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port);
        if ($s) { close $s; return 1; }
        sleep 0.05;
    }

    return 0;
}

# Sends SIGHUP-free reopen-free graceful stop and waits for the master.
sub stop_nginx {
    my ($self) = @_;
    my $pid = delete $self->{nginx} or return;

    kill 'QUIT', $pid;
    for (1 .. 200) {
        if (waitpid($pid, WNOHANG) == $pid) {
            # a master killed by a signal (a crash on reload, say)
            push @{ $self->{crashes} }, "nginx master exited on signal "
                . ($? & 127) if $? & 127;
            return;
        }
        sleep 0.05;
    }

    push @{ $self->{crashes} }, 'nginx master did not stop on QUIT';
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

sub stop {
    my ($self) = @_;

    # a process forked by a test must not stop what its parent started
    return unless $self->{owner} == $$;

    $self->stop_nginx;
    $self->stop_redis;
    $self->stop_redis_node($_) for sort keys %{ $self->{nodes} || {} };

    for my $pid (@{ $self->{pids} }) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
    $self->{pids} = [];
}

sub error_log { $_[0]->read_file('error.log') }

# Ends the file: stops everything, then checks that no worker crashed
# and no sanitizer complained.
sub done {
    my ($self) = @_;

    $self->stop;
    $self->check_logs;

    done_testing();
}

sub check_logs {
    my ($self) = @_;

    my $log = $self->error_log;
    my @bad = grep { /\[(alert|emerg)\]|exited on signal|AddressSanitizer|runtime error/ }
        split /\n/, $log;

    my $san = '';
    for my $f (glob("$self->{dir}/asan.* $self->{dir}/ubsan.*")) {
        $san .= $self->read_file($f);
    }

    is(join("\n", @bad, @{ $self->{crashes} || [] }, $san ? ($san) : ()), '',
        'no crash, alert or sanitizer report in the logs');
}

# The same, for one of several instances in a file.
sub done_quiet {
    my ($self) = @_;
    $self->stop;
    $self->check_logs;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop;
}

END {
    local $?;
    $_->stop for grep { defined } @LIVE;
}

for my $sig (qw(INT TERM)) {
    $SIG{$sig} = sub { $_->stop for grep { defined } @LIVE; exit 1 };
}

# A watchdog: a test file that hangs (a child that never answers) is
# stopped after SEKISHO_TEST_DEADLINE seconds (15 minutes) with its
# servers, so that one hang fails one file instead of the whole run.
my $WATCHDOG;
# Not for "perl -c" (no END block runs to stop it then); and it ends
# when the test file does, so that it never signals a reused pid.
if ((my $deadline = $ENV{SEKISHO_TEST_DEADLINE} || 900) && !$^C) {
    my $parent = $$;
    $WATCHDOG = fork;
    if (defined $WATCHDOG && $WATCHDOG == 0) {
        # prove reads the test's output to its end: let go of it
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        $SIG{$_} = 'DEFAULT' for qw(INT TERM);
        my $end = time + $deadline;
        while (time < $end) {
            sleep 1;
            POSIX::_exit(0) if getppid() != $parent;
        }
        kill 'USR1', $parent;
        POSIX::_exit(0);
    }
    $SIG{USR1} = sub {
        diag("this test file ran past its deadline of $deadline s");
        $_->stop for grep { defined } @LIVE;
        exit 1;
    };
}

END {
    kill 'KILL', $WATCHDOG if $WATCHDOG;
}

###############################################################################
# HTTP over plain sockets, so that tests control every byte and the peer
# address (127.0.0.1 or ::1).

sub http {
    my ($request, %opts) = @_;

    my $host = $opts{host} || '127.0.0.1';
    my $port = $opts{port} or die "http: no port\n";

    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port,
        $opts{local} ? (LocalHost => $opts{local}) : (), Timeout => 5)
        or return undef;

    local $SIG{ALRM} = sub { die "timeout\n" };
    my $reply = '';
    eval {
        alarm($opts{timeout} || 10);
        print $s $request;
        while (1) {
            my $n = sysread($s, $reply, 65536, length $reply);
            last unless $n;
        }
        alarm 0;
    };
    alarm 0;
    close $s;

    return $reply;
}

# http_get('/path', port => P, host => '::1', headers => { 'X-Forwarded-For' => ... })
# (local => '127.0.0.2': the client's own address)
sub http_get {
    my ($uri, %opts) = @_;
    my $method = $opts{method} || 'GET';
    my $h = $opts{headers} || {};
    my $req = "$method $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    $req .= "$_: $h->{$_}\r\n" for sort keys %$h;
    $req .= "\r\n";
    return http($req, %opts);
}

# http_post('/login', 'user=a&password=b', port => P, type => 'application/json')
sub http_post {
    my ($uri, $body, %opts) = @_;
    return http(post_request($uri, $body, %opts), %opts);
}

sub post_request {
    my ($uri, $body, %opts) = @_;
    my $h = $opts{headers} || {};
    my $type = $opts{type} || 'application/x-www-form-urlencoded';
    my $req = "POST $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Content-Type: $type\r\nContent-Length: " . length($body) . "\r\n";
    $req .= "$_: $h->{$_}\r\n" for sort keys %$h;
    return "$req\r\n$body";
}

# Sends every request at once on its own connection, then reads all the
# answers: for tests of what happens under concurrency.
sub http_parallel {
    my ($requests, %opts) = @_;

    my @socks = map {
        IO::Socket::IP->new(PeerHost => $opts{host} || '127.0.0.1',
            PeerPort => $opts{port}, Timeout => 5)
    } @$requests;

    for my $i (0 .. $#socks) {
        print { $socks[$i] } $requests->[$i] if $socks[$i];
    }

    my @replies;
    for my $s (@socks) {
        my $reply = '';
        if ($s) {
            local $SIG{ALRM} = sub { die "timeout\n" };
            eval {
                alarm($opts{timeout} || 20);
                1 while sysread($s, $reply, 65536, length $reply);
                alarm 0;
            };
            alarm 0;
            close $s;
        }
        push @replies, $reply;
    }

    return @replies;
}

sub http_status {
    my ($r) = @_;
    return 0 unless defined $r && $r =~ m{^HTTP/1\.[01] (\d{3})};
    return $1 + 0;
}

sub http_body {
    my ($r) = @_;
    return '' unless defined $r;
    my (undef, $b) = split /\r\n\r\n/, $r, 2;
    return defined $b ? $b : '';
}

sub http_header {
    my ($r, $name) = @_;
    return undef unless defined $r;
    my ($head) = split /\r\n\r\n/, $r, 2;
    return $head =~ /^\Q$name\E:\s*([^\r\n]*)/mi ? $1 : undef;
}

1;
