package Sekisho::Apps;

# The real login applications of t/apps as test upstreams: PHP's
# built-in server, Flask, Express 5 and Express 4.  Each answers
# /login (and /hdr/login) and logs one line per password check, which
# tells a test which account the application actually checked.
#
#   my $t = Sekisho::Test->new;
#   my $port = start_app($t, 'php');
#   ... requests to $port, directly or through the gateway ...
#   is(app_checks($t, 'php', 'alice'), 1, 'one check of alice');
#
# The application is stopped with everything else ($t->stop).

use strict;
use warnings;

use Exporter qw(import);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);
use Sekisho::Test;

our @EXPORT = qw(start_app app_checks app_log_lines app_log_path
    app_names);

my $TOP = Sekisho::Test::top();

my @NAMES = qw(php flask express5 express4);

# The command that runs each application on a port, logging to a file.
my %COMMAND = (
    php => sub {
        my ($port, $log) = @_;
        # cookies in $_REQUEST too, as PHP without a php.ini has it
        return ('php', '-d', "sekisho.log=$log", '-d', 'request_order=GPC',
            '-S', "127.0.0.1:$port", "$TOP/t/apps/php/router.php");
    },
    flask => sub {
        my ($port, $log) = @_;
        # Debian's Flask: /usr/bin/python3, not a python3 earlier on PATH
        return ('/usr/bin/python3', "$TOP/t/apps/flask/app.py", $port, $log);
    },
    express5 => sub {
        my ($port, $log) = @_;
        return ('node', "$TOP/t/apps/node/app.js", 'express5', $port, $log);
    },
    express4 => sub {
        my ($port, $log) = @_;
        return ('node', "$TOP/t/apps/node/app.js", 'express4', $port, $log);
    },
    # the demo's stand-in application: the first copy of a field, lc only
    sample => sub {
        my ($port, $log) = @_;
        return ($^X, "$TOP/scripts/test/sample-upstream", $port, "$log.requests",
            $log);
    },
);

sub app_names { @NAMES }

sub app_log_path {
    my ($t, $name) = @_;
    return $t->dir . "/app-$name.log";
}

# Starts the application; returns its port once it accepts connections.
sub start_app {
    my ($t, $name) = @_;

    my $command = $COMMAND{$name} or die "start_app: no application '$name'\n";

    if ($name =~ /^express/ && !-d "$TOP/t/apps/node/node_modules") {
        die "start_app: t/apps/node/node_modules is missing: run scripts/deps\n";
    }

    my $port = $t->port("app-$name");
    my $log = app_log_path($t, $name);
    my $out = $t->dir . "/app-$name.out";

    open my $fh, '>', $log or die "$log: $!\n";
    close $fh;

    my @cmd = $command->($port, $log);

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>>', $out;
        exec @cmd;
        die "exec $cmd[0]: $!\n";
    }

    push @{ $t->{pids} }, $pid;

    # the port, unless the application died first
    for (1 .. 4) {
        return $port if $t->wait_port($port);
        last if waitpid($pid, WNOHANG) == $pid;
    }

    die "application $name did not start on port $port:\n"
        . $t->read_file($out);
}

# The password checks logged so far, in order: each a hash of account
# (decoded), result ('ok' or 'fail') and header (the
# X-Sekisho-Login-Account value the application received, or undef).
sub app_log_lines {
    my ($t, $name) = @_;

    my @lines;
    for my $line (split /\n/, $t->read_file(app_log_path($t, $name))) {
        my ($check, $account, $result, $header) = split / /, $line, 4;
        next unless defined $check && $check eq 'check';
        $account =~ s/%([0-9A-F]{2})/chr hex $1/ge;
        push @lines, {
            account => $account,
            result  => $result,
            header  => !defined $header || $header eq '-' ? undef : $header,
            raw     => $line,
        };
    }

    return @lines;
}

# How many password checks of the (normalized, UTF-8 bytes) account
# the application has logged so far.
sub app_checks {
    my ($t, $name, $account) = @_;
    return scalar grep { $_->{account} eq $account } app_log_lines($t, $name);
}

1;
