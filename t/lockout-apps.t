#!/usr/bin/perl

# The lockout against the applications it protects.  Real login
# applications (PHP's built-in server, Flask, Express 5 and 4) and the
# sample upstream sit behind the gateway, configured as the example
# configuration guards a login route.  Each account is locked by five
# wrong passwords; then every trick of Sekisho::Tricks (each one shown
# by t/apps.t to make some framework read another account than a naive
# parser) is sent with the right password.  None may give a locked
# account a single password check at any application, and none may
# log in.  Every check an application makes on the way is of the very
# account the gateway counted: X-Sekisho-Login-Account says which.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;
use Sekisho::Apps;
use Sekisho::Tricks qw(tricks trick_request);

my @APPS = (app_names(), 'sample');

my $t = Sekisho::Test->new;

$t->start_redis;
$t->write_file('lockout.key', "apps-test-key-0123456789abcdef\n");
chmod 0600, $t->dir . '/lockout.key';

my %app_port = map { $_ => start_app($t, $_) } @APPS;

# the login location of the example configuration, as an operator
# copies it, with the applications' field name
my ($example) = $t->read_file(
    Sekisho::Test::top() . '/conf.d/sekisho.conf.example')
    =~ m{^(    location ~\* \^/login/\?\$ \{.*?^    \})$}ms;
die "no login location in conf.d/sekisho.conf.example\n" unless $example;
$example =~ s/:user\b/:login_id/g;

my $servers = '';
for my $app (@APPS) {
    (my $login = $example) =~ s{proxy_pass http://intake_app;}
        {proxy_pass http://127.0.0.1:$app_port{$app};};

    $servers .= <<"EOF";
    server {
        listen 127.0.0.1:%%PORT_gw_$app%%;

        # the worst case: headers with "_" reach the application
        underscores_in_headers on;
        client_max_body_size 64k;

        add_header X-Reason \$sekisho_reason always;

        sekisho_lockout account attempts=5 window=1h lock=1h;

        # conf.d/sekisho.conf.example's
$login

        location ~* ^/hdr/login/?\$ {
            sekisho_login_account header:X-Account;
            proxy_pass http://127.0.0.1:$app_port{$app};
        }

        location / {
            proxy_pass http://127.0.0.1:$app_port{$app};
        }
    }

EOF
}

$t->write_config(<<"EOF");
%%TEST_GLOBALS%%

http {
    %%TEST_GLOBALS_HTTP%%

    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=2s;
    sekisho_redis_key_file %%TESTDIR%%/lockout.key;
    sekisho_audit_log %%TESTDIR%%/audit.log;

$servers
    server {
        listen 127.0.0.1:%%PORT_metrics%%;
        location = /metrics { sekisho_metrics; }
    }
}
EOF

$t->run;

# an account as the tests name it: printable ASCII, the rest %XX
sub show {
    my ($a) = @_;
    (my $s = $a) =~ s/([^\x21-\x7e])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub unescape {
    my ($s) = @_;
    return undef unless defined $s;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub login {
    my ($app, $body, %o) = @_;
    return http(Sekisho::Test::post_request($o{path} || '/login', $body,
        type => $o{type}), port => $t->port("gw_$app"));
}

# five wrong passwords lock each account the tricks aim at; the lock is
# the gateway's, one for every server of it

for my $account (qw(alice kate 100)) {
    my @status = map {
        http_status(login('php', "login_id=$account&password=wrong$_"))
    } 1 .. 5;
    is_deeply(\@status, [(401) x 5],
        "five wrong passwords for $account reach the application");
    is(app_checks($t, 'php', $account), 5,
        "the application checked $account five times");

    for my $app (@APPS) {
        my $r = login($app, "login_id=$account&password=wrong");
        is(http_status($r), 429, "$app: then $account is locked (429)");
    }
}

my %locked = map { $_ => 1 } qw(alice kate 100);

# every trick, to every application, through the gateway

my %answers;

for my $trick (tricks()) {
    my $account = $trick->{account};
    next unless $locked{$account};

    for my $app (@APPS) {
        my @before = app_log_lines($t, $app);
        my $checks = app_checks($t, $app, $account);

        my $r = http(trick_request($trick, port => $t->port("gw_$app")),
            port => $t->port("gw_$app"));
        my $status = http_status($r);
        $answers{$status}++;

        my @lines = app_log_lines($t, $app);
        my @new = @lines[scalar @before .. $#lines];

        is(app_checks($t, $app, $account) - $checks, 0,
            "$app, $trick->{name}: no password check of the locked "
            . "$account (answer $status)");

        isnt($status, 200, "$app, $trick->{name}: not logged in");

        # whatever the application did check, the gateway counted
        for my $c (@new) {
            is(unescape($c->{header}), $c->{account},
                "$app, $trick->{name}: the application checked '"
                . show($c->{account}) . "', the account the gateway "
                . "counted");
        }
    }
}

note(join ', ', map { "$_: $answers{$_}" } sort keys %answers);

# the refusals say why, in the answer

my $r = login('express5', '{"login_id":"alice","password":"wonderland"}',
    type => 'text/plain');
is(http_status($r), 415, 'a login body of a type the location does not take: 415');
is(http_header($r, 'X-Reason'), 'login_bad_content_type',
    'reason login_bad_content_type');
like(http_body($r), qr/login_bad_content_type/, 'the page names the reason');

$r = login('express5', 'login_id=bob&login.id=alice&password=builder');
is(http_status($r), 400, 'the account field in two spellings: 400');
is(http_header($r, 'X-Reason'), 'login_bad_body', 'reason login_bad_body');

$r = login('express5', "login_id=bob%FF&password=builder");
is(http_status($r), 400, 'an id that is not UTF-8: 400');
is(http_header($r, 'X-Reason'), 'login_bad_account',
    'reason login_bad_account');

$r = login('express5', '{"login_id":1e2,"password":"hundred"}',
    type => 'application/json');
is(http_status($r), 400, 'a JSON number not written as a plain integer: 400');

# an honest applicant of every spelling is counted as one account, and
# the application checks the account the gateway counted

for my $app (@APPS) {
    my @before = app_log_lines($t, $app);

    $r = login($app, "login_id=%20Bob%E3%80%80&password=builder");
    is(http_status($r), $app eq 'sample' ? 401 : 200,
        "$app: an id with spaces and capitals logs in where the "
        . "application trims");

    $r = login($app, '{"login_id":"\uFF42\uFF4F\uFF42","password":"builder"}',
        type => 'application/json');
    is(http_status($r), $app eq 'sample' ? 401 : 200,
        "$app: a full-width id logs in where the application folds it");

    my @lines = app_log_lines($t, $app);
    my @new = @lines[scalar @before .. $#lines];
    is(scalar(grep { defined $_->{header} && unescape($_->{header}) eq 'bob' }
        @new), scalar @new,
        "$app: each check carried X-Sekisho-Login-Account: bob");
}

# the refusals are counted for the SOC and recorded for the auditor

my $metrics = http_body(http_get('/metrics', port => $t->port('metrics')));
my ($refused) = $metrics =~ /^sekisho_logins_total\{outcome="refused"\} (\d+)$/m;
cmp_ok($refused // 0, '>', 100,
    "sekisho_logins_total{outcome=\"refused\"} counts the refused tricks "
    . "($refused)");
for my $reason (qw(login_bad_body login_bad_content_type login_bad_account)) {
    like($metrics,
        qr/^sekisho_requests_total\{decision="deny",reason="$reason"\} [1-9]/m,
        "the metrics count $reason");
}

$t->stop;
my $audit = $t->read_file('audit.log');
for my $reason (qw(login_bad_body login_bad_content_type login_bad_account)) {
    like($audit, qr/"event\.reason":"$reason"/, "the audit log records $reason");
}

$t->done;
