#!/usr/bin/perl

# The real login applications of t/apps (PHP, Flask, Express 5 and
# Express 4) on their own, without nginx or the gateway: a right password
# lets in, a wrong one is refused and nothing is ever locked, one log line
# per password check with the normalized account and the gateway's
# header as received; and every trick of Sekisho::Tricks, sent straight
# to every application, makes it check exactly the account the catalogue
# says (or none).  This is what makes the catalogue a record of the real
# frameworks rather than of what their documentation says.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;
use Sekisho::Apps;
use Sekisho::Tricks qw(tricks trick_request);

my $t = Sekisho::Test->new;

my %port = map { $_ => start_app($t, $_) } app_names();

# an account as the tests name it: printable ASCII, the rest %XX
sub show {
    my ($a) = @_;
    return 'no account' unless defined $a;
    (my $s = $a) =~ s/([^\x21-\x7e])/sprintf('%%%02X', ord $1)/ge;
    return "'$s'";
}

# the lines an application logs while one request is answered
sub checks_of {
    my ($app, $request) = @_;
    my $before = () = app_log_lines($t, $app);
    my $reply = http($request, port => $port{$app});
    my @lines = app_log_lines($t, $app);
    return ($reply, @lines[$before .. $#lines]);
}

sub form {
    my ($path, $body, %h) = @_;
    return Sekisho::Test::post_request($path, $body, headers => \%h);
}

###############################################################################
# each application on its own

for my $app (app_names()) {
    my ($r, @c) = checks_of($app,
        form('/login', 'login_id=alice&password=wonderland'));
    is(http_status($r), 200, "$app: the right password is let in");
    like(http_body($r), qr/welcome alice/, "$app: the answer names the account");
    is_deeply([map { $_->{raw} } @c], ['check alice ok -'],
        "$app: one log line: the account, ok, no gateway header");

    ($r, @c) = checks_of($app,
        form('/login', 'login_id=alice&password=wrong'));
    is(http_status($r), 401, "$app: a wrong password is refused with 401");
    is_deeply([map { $_->{raw} } @c], ['check alice fail -'],
        "$app: the refusal is logged as fail");

    my @status = map {
        http_status((checks_of($app,
            form('/login', "login_id=bob&password=wrong$_")))[0])
    } 1 .. 6;
    ($r) = checks_of($app, form('/login', 'login_id=bob&password=builder'));
    is_deeply([@status, http_status($r)], [(401) x 6, 200],
        "$app: six wrong passwords lock nothing");

    ($r, @c) = checks_of($app, form('/login', 'login_id=alice'));
    is(http_status($r), 400, "$app: no password is 400");
    is(scalar @c, 0, "$app: no password is no check");

    ($r, @c) = checks_of($app, form('/login', 'password=wonderland'));
    is(http_status($r), 400, "$app: no id is 400");
    is(scalar @c, 0, "$app: no id is no check");

    ($r, @c) = checks_of($app,
        form('/login', 'login_id=%20Zo%C3%AB%20&password=x',
            'X-Sekisho-Login-Account' => "zo\xc3\xab tag"));
    is_deeply([map { $_->{raw} } @c], ["check zo%C3%AB fail zo\xc3\xab tag"],
        "$app: the account normalized and percent-encoded, the header raw");
    is_deeply([map { [$_->{account}, $_->{result}, $_->{header}] } @c],
        [["zo\xc3\xab", 'fail', "zo\xc3\xab tag"]],
        "$app: app_log_lines decodes the line");

    ($r, @c) = checks_of($app, "GET /hdr/login HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\nX-Account: Carol\r\nX-Password: singer\r\n\r\n");
    is(http_status($r), 200, "$app: the header login lets in the right password");
    is_deeply([map { $_->{raw} } @c], ['check carol ok -'],
        "$app: the header login is logged");

    ($r, @c) = checks_of($app,
        form('/elsewhere', 'login_id=alice&password=wonderland'));
    is(http_status($r), 404, "$app: another path is not found");
    is(scalar @c, 0, "$app: another path checks nothing");

    is(app_checks($t, $app, 'alice'), 2, "$app: app_checks counts alice's checks");
}

###############################################################################
# the catalogue against the real applications

my %seen;
my @dup = grep { $seen{$_->{name}}++ } tricks();
is_deeply([map { $_->{name} } @dup], [], 'trick names are unique');

for my $trick (tricks()) {
    for my $app (app_names()) {
        my $want = $trick->{reaches}{$app};
        my ($r, @c) = checks_of($app,
            trick_request($trick, port => $port{$app}));
        my $status = http_status($r);

        my %got = (
            checks => [map { "$_->{account} $_->{result}" } @c],
            status => $status >= 400 && $status != 401 ? 'refused' : $status,
        );
        my %expect = defined $want ? (
            checks => [$want . ($want eq $trick->{account} ? ' ok' : ' fail')],
            status => $want eq $trick->{account} ? 200 : 401,
        ) : (checks => [], status => 'refused');

        is_deeply(\%got, \%expect,
            "$app: $trick->{name}: checks " . show($want))
            or diag("answer: " . (split /\r\n/, $r // '')[0]);
    }
}

$t->stop;
done_testing();
