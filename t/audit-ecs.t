#!/usr/bin/perl

# The audit records in the Elastic Common Schema, from real requests of
# every kind (country refusals and passes, a dry run, password logins,
# a lockout, card logins good, refused and revoked, sessions, a logout,
# signed submissions, the gateway's start): every field outside
# "sekisho.*" (and the chain's seq, prev, mac, epoch, close) must be a field of
# ECS's own list (ecs_flat.yml, read from ../shared, never copied here)
# with a value its type takes, the categorisation fields among ECS's
# allowed values; and each record names the data it was decided with:
# the country database's build time, the CRL's number and issuer.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Math::BigInt;
use POSIX qw(strftime);
use Socket qw(inet_pton AF_INET AF_INET6);
use Test::More;
use Time::HiRes qw(sleep);
use Sekisho::Test;
use Sekisho::JPKI;

my $top = Sekisho::Test::top();
# ECS's list as Elastic generates it (see its PROVENANCE.md there)
my $ecs_file = $ENV{SEKISHO_ECS_FLAT}
    // "$top/../shared/data/real/elastic-ecs/ecs_flat.yml";

plan skip_all => "ECS's field list is not here ($ecs_file; SEKISHO_ECS_FLAT names it)"
    unless -f $ecs_file;

require YAML::XS;
my $ecs = YAML::XS::LoadFile($ecs_file);
cmp_ok(scalar keys %$ecs, '>', 1000, 'ECS field list read (' . scalar(keys %$ecs) . ' fields)');

my $t = Sekisho::Test->new(workers => 2);
my $pki = test_pki($t);
my $d = $t->dir;

$t->mmdb('country.mmdb', { '192.0.2.0/24' => 'JP', '198.51.100.0/24' => 'US' });
$t->start_redis;
$t->start_upstream;
$t->write_file('audit.key', "audit-ecs-key-0123456789abc\n");
$t->write_file('redis.key', "redis-key-0123456789abcdef\n");
$t->write_file('session.key', "session-key-0123456789abcdef0123456789\n");
chmod 0600, map { "$d/$_" } qw(audit.key redis.key session.key);

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    sekisho_geoip_db %%TESTDIR%%/country.mmdb;
    sekisho_redis 127.0.0.1:%%PORT_redis%% timeout=1s;
    sekisho_redis_key_file %%TESTDIR%%/redis.key;

    sekisho_jpki_auth_ca %%TESTDIR%%/pki/auth-ca.pem;
    sekisho_jpki_sign_ca %%TESTDIR%%/pki/sign-ca.pem;
    sekisho_jpki_crl %%TESTDIR%%/pki/auth-ca.crl.pem
                     %%TESTDIR%%/pki/sign-ca.crl.pem;
    sekisho_session_key %%TESTDIR%%/session.key;
    sekisho_session_cookie sid secure=off;

    sekisho_audit_log %%TESTDIR%%/audit.log key=%%TESTDIR%%/audit.key
                      events=all;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /page/ {
            sekisho on;
            sekisho_geo_deny 192.0.2.66;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /dry/ {
            sekisho on;
            sekisho_geo_dry_run on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /login {
            sekisho on;
            sekisho_login_account form:user;
            sekisho_lockout account attempts=2 window=1h lock=1h;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /open/ {
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location = /jpki/challenge { sekisho_jpki_challenge; }
        location = /jpki/login { sekisho_jpki_login; }
        location = /jpki/logout { sekisho_jpki_logout; }

        location /app/ {
            sekisho_jpki_require on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }

        location /submit {
            sekisho_jpki_signed_body on;
            proxy_pass http://127.0.0.1:%%PORT_upstream%%;
        }
    }
}
EOF
$t->run;

my $p = $t->port(0);

sub get { http_get($_[0], port => $p, headers => { 'X-Forwarded-For' => $_[1],
    'User-Agent' => 'ecs-test/1.0', %{ $_[2] || {} } }) }
sub login { http_post('/login', $_[0], port => $p,
    headers => { 'X-Forwarded-For' => '192.0.2.5' }) }
sub card { card_login($p, cert => "$pki/$_[0].pem", key => "$pki/$_[1].key",
    headers => { 'X-Forwarded-For' => '192.0.2.7' }) }
sub submit {
    my ($body, $sig) = @_;
    return http_post('/submit', $body, port => $p, type => 'application/json',
        headers => { 'X-Forwarded-For' => '192.0.2.8',
                     (defined $sig ? ('X-JPKI-Signature' => $sig) : ()) });
}

# every kind of request the gateway records

my %status;
$status{geo_foreign} = http_status(get('/page/x', '198.51.100.9'));
$status{geo_country} = http_status(get('/page/x', '192.0.2.9'));
$status{geo_unknown} = http_status(get('/page/x', '203.0.113.9'));
$status{geo_denylist} = http_status(get('/page/x', '192.0.2.66'));
$status{dry_run} = http_status(get('/dry/x', '198.51.100.10'));
$status{request} = http_status(get('/open/x', '192.0.2.9'));
$status{login_failed} = http_status(login('user=alice&password=bad'));
$status{login_ok} = http_status(login('user=alice&password=wonderland'));
login('user=bob&password=bad') for 1 .. 2;
$status{account_locked} = http_status(login('user=bob&password=builder'));
$status{login_no_account} = http_status(login('password=x'));

my $r = card('alice-auth', 'alice-auth');
$status{jpki_login_ok} = http_status($r);
my $cookie = session_cookie($r);
$status{jpki_bad_signature} = http_status(card('alice-auth', 'bob-auth'));
$status{jpki_revoked} = http_status(card('revoked-auth', 'revoked-auth'));
$status{session_ok} = http_status(get('/app/x', '192.0.2.7', { Cookie => "sid=$cookie" }));
$status{session_missing} = http_status(get('/app/x', '192.0.2.7'));
$status{session_invalid} = http_status(get('/app/x', '192.0.2.7', { Cookie => 'sid=forged' }));

my $form = '{"application":"転入届"}';
$status{jpki_signed_body} = http_status(submit($form,
    cms_sign("$pki/alice-sign.pem", "$pki/alice-sign.key", $form)));
$status{jpki_unsigned} = http_status(submit($form));
$status{jpki_logout} = http_status(http_post('/jpki/logout', '', port => $p,
    headers => { Cookie => "sid=$cookie", 'X-Forwarded-For' => '192.0.2.7' }));

is(join(' ', map { "$_=$status{$_}" } sort keys %status),
    'account_locked=429 dry_run=200 geo_country=200 geo_denylist=403 '
    . 'geo_foreign=403 geo_unknown=403 jpki_bad_signature=401 jpki_login_ok=200 '
    . 'jpki_logout=200 jpki_revoked=401 jpki_signed_body=200 jpki_unsigned=400 '
    . 'login_failed=401 login_no_account=400 login_ok=200 request=200 '
    . 'session_invalid=401 session_missing=401 session_ok=200',
    'every request answered as its kind is');

sleep 0.3;
my $log = $t->read_file('audit.log');
my @lines = split /\n/, $log;

###############################################################################
# the records: flat objects with dotted names

my $str = qr/"(?:[^"\\\x00-\x1f]|\\(?:["\\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;
my $num = qr/-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
my $json = JSON::PP->new;

my (@R, %raw_type, %values);
for my $line (@lines) {
    ok(0, "a record is a flat object of strings and numbers: $line"), next
        unless $line =~ /\A\{$str:(?:$str|$num)(?:,$str:(?:$str|$num))*\}\z/;
    my $rec = $json->decode($line);
    push @R, $rec;
    while ($line =~ /($str):($str|$num)/g) {
        my ($k, $v) = ($json->decode($1), $2);
        $raw_type{$k}{ $v =~ /^"/ ? 'string' : $v =~ /^-?\d+$/ ? 'integer' : 'number' }++;
        $values{$k}{ $rec->{$k} }++;
    }
}
is(scalar @R, scalar @lines, 'every line is a flat JSON object (dotted names, no nesting)');

my ($rc, $out) = (0, '');
$out = `$top/scripts/admin/sekisho-audit verify --key-file $d/audit.key $d/audit.log 2>&1`;
is($? >> 8, 0, 'the chain verifies') or diag($out);

# the first record of each reason
my %reason;
$reason{ $_->{'event.reason'} // $_->{'event.action'} } //= $_ for @R;
my @want = qw(audit_start geo_foreign geo_country geo_unknown geo_denylist geo_off
    login_failed login_ok account_locked login_no_account jpki_login_ok
    jpki_bad_signature jpki_revoked session_ok session_missing session_invalid
    jpki_signed_body jpki_unsigned jpki_logout);
is(join(' ', grep { !$reason{$_} } @want), '', 'a record of every kind: ' . join(' ', @want));
my %action = map { ($_->{'event.action'} => 1) } @R;
is(join(' ', sort keys %action),
    'audit_start card_login card_logout country_check password_login request '
    . 'session_check signed_submission', 'event.action: every step the gateway takes');
my ($dry) = grep { ($_->{'sekisho.decision'} // '') eq 'dryrun-deny' } @R;
ok($dry, 'a dry-run refusal among them');
is($dry && "$dry->{'event.type'} $dry->{'event.outcome'}", 'allowed failure',
    'a dry run: let through (event.type allowed), a failure of the rule (event.outcome)');

###############################################################################
# every field outside sekisho.* is an ECS field, its value of its type

# the chain's own fields (audit_chain.c), not event data
my %chain = map { $_ => 1 } qw(seq prev mac epoch close);

my %fits = (
    keyword => ['string'], constant_keyword => ['string'], wildcard => ['string'],
    match_only_text => ['string'], text => ['string'], ip => ['string'],
    date => ['string'], long => ['integer'], integer => ['integer'],
    short => ['integer'], byte => ['integer'], unsigned_long => ['integer'],
    float => ['integer', 'number'], double => ['integer', 'number'],
    scaled_float => ['integer', 'number'], boolean => [],
);

my @ecs_fields = grep { !/^sekisho\./ && !$chain{$_} } sort keys %raw_type;
cmp_ok(scalar @ecs_fields, '>=', 20, scalar(@ecs_fields) . ' ECS fields written');

sub valid_date {
    my ($v) = @_;
    return $v =~ /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\z/;
}

for my $f (@ecs_fields) {
    my $def = $ecs->{$f};
    ok($def, "$f is an ECS field") or next;
    my $type = $def->{type};
    my @got = sort keys %{ $raw_type{$f} };
    my %ok = map { $_ => 1 } @{ $fits{$type} || [] };
    ok($fits{$type} && @got && !grep({ !$ok{$_} } @got),
        "$f: ECS type $type takes the JSON " . join('/', @got) . ' written');

    my @vals = keys %{ $values{$f} };
    if ($type eq 'date') {
        is(join(' ', grep { !valid_date($_) } @vals), '', "$f: every value a date");
    } elsif ($type eq 'ip') {
        is(join(' ', grep { !inet_pton(AF_INET, $_) && !inet_pton(AF_INET6, $_) } @vals), '',
            "$f: every value an address");
    }
    if ($def->{allowed_values}) {
        my %allowed = map { $_->{name} => 1 } @{ $def->{allowed_values} };
        is(join(' ', grep { !$allowed{$_} } sort @vals), '', "$f: every value among ECS's allowed values");
    }
}

# event.type among the types ECS expects of the record's event.category
my %expected;
for (@{ $ecs->{'event.category'}{allowed_values} }) {
    $expected{ $_->{name} } = { map { $_ => 1 } @{ $_->{expected_event_types} || [] } };
}
my @odd = map { "$_->{'event.category'}/$_->{'event.type'}" }
    grep { !$expected{ $_->{'event.category'} }{ $_->{'event.type'} } } @R;
is("@odd", '', 'every event.type is one ECS expects of its event.category');
is(scalar(grep { !defined $_->{'ecs.version'} } @R), 0, 'every record says its ecs.version');

# only the chain's fields and sekisho.* are outside ECS
my @other = grep { !$ecs->{$_} && !/^sekisho\./ && !$chain{$_} } sort keys %raw_type;
is("@other", '', 'no other field outside ECS and sekisho.*');

###############################################################################
# what each decision was made with

my $build = do {
    require MaxMind::DB::Reader;
    MaxMind::DB::Reader->new(file => "$d/country.mmdb")->metadata->build_epoch;
};
my $built = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $build);
is($reason{geo_foreign}{'sekisho.geoip.build'}, $built,
    "a country refusal names the database's build time ($built, MMDB build_epoch)");
is($reason{geo_unknown}{'sekisho.geoip.build'}, $built, 'so does an address it could not place');
is($reason{geo_country}{'sekisho.geoip.build'}, $built, 'and a pass');
ok(!defined $reason{jpki_logout}{'sekisho.geoip.build'}, 'a request the gate did not see names none');

my ($crlnum) = openssl_out('crl', '-in', "$pki/auth-ca.crl.pem", '-noout', '-crlnumber')
    =~ /crlNumber=(?:0x)?([0-9A-Fa-f]+)/;
my $crl_dec = Math::BigInt->from_hex($crlnum)->bstr;
my ($issuer) = openssl_out('x509', '-in', "$pki/auth-ca.pem", '-noout', '-subject',
    '-nameopt', 'RFC2253') =~ /^subject=(.*?)\s*$/m;
my ($alice) = openssl_out('x509', '-in', "$pki/alice-auth.pem", '-noout', '-serial') =~ /serial=(\S+)/;
my ($enddate) = openssl_out('x509', '-in', "$pki/alice-auth.pem", '-noout', '-enddate') =~ /notAfter=(.*?)\s*$/;

my $ok = $reason{jpki_login_ok};
is($ok->{'tls.client.x509.serial_number'}, uc $alice, 'a card login: the certificate serial');
is($ok->{'tls.client.x509.issuer.distinguished_name'}, $issuer, 'its issuer (RFC 2253)');
like($ok->{'tls.client.x509.not_after'} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    "its expiry ($enddate)");
is($ok->{'sekisho.jpki.revocation'}, 'good', 'revocation: good');
is($ok->{'sekisho.jpki.crl.number'}, $crl_dec, "checked against CRL number $crl_dec (openssl: 0x$crlnum)");
is($ok->{'sekisho.jpki.crl.issuer'}, $issuer, "of the issuer $issuer");
ok(valid_date($ok->{'sekisho.jpki.crl.this_update'} // ''), 'and its thisUpdate');
my $rev = $reason{jpki_revoked};
is($rev->{'sekisho.jpki.revocation'}, 'revoked', 'a revoked card');
is($rev->{'sekisho.jpki.crl.number'}, $crl_dec, 'the CRL that lists it');
my ($sign_num) = openssl_out('crl', '-in', "$pki/sign-ca.crl.pem", '-noout', '-crlnumber')
    =~ /crlNumber=(?:0x)?([0-9A-Fa-f]+)/;
is($reason{jpki_signed_body}{'sekisho.jpki.crl.number'}, Math::BigInt->from_hex($sign_num)->bstr,
    'a signed submission: the signing CA\'s CRL');
is($reason{login_failed}{'user.name'}, 'alice', 'a password login: user.name');
like($reason{session_ok}{'sekisho.session.id'} // '', qr/^[A-Za-z0-9_-]{22}$/, 'a session: its id');
is($reason{geo_foreign}{'event.type'}, 'denied', 'a refusal by country: event.type denied');
is($reason{geo_country}{'event.type'}, 'allowed', 'a pass: allowed');

$t->done;
