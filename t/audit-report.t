#!/usr/bin/perl

# The auditor's report: sekisho-audit report on an audit log written
# here in Perl, record by record, in the module's format and chain (no
# nginx needed).  Checks the figures on the page against the generated
# records, the chain status (verified, broken at a line, no key), that
# nothing from the log reaches the page unescaped, that the page refers
# to nothing outside itself, the CSV (rows, quoting, formula guard);
# then renders the page in headless Chromium and counts the bars drawn.

use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256_hex sha256_hex);
use File::Temp qw(tempdir);
use POSIX qw(floor);
use Test::More;
use Time::Local qw(timegm);
use Encode ();
use Sekisho::Test;

my $t = Sekisho::Test->new;
my $top = Sekisho::Test::top();
my $d = $t->dir;
my $tool = "$top/scripts/admin/sekisho-audit";

my $KEY = 'report-test-key-0123456789';
$t->write_file('audit.key', "$KEY\n");

my $EVIL_ID = '<script>alert(1)</script>"quotes"';
my $EVIL_UA = "Mozilla/5.0 <script>alert(1)</script> \"quotes\" \x1b[31m";
my $EVIL_PATH = '/apply/<img src=x onerror=alert(2)>';

###############################################################################
# the log: records in the module's field order, JSON-escaped as the
# module does ('"', '\' and control characters), chained and sealed

my $OFF = 9 * 3600;
our $BASE = timegm(0, 0, 9, 24, 10, 2026) - $OFF;     # 2026-11-24T09:00:00+09:00

sub ts {
    my ($sec, $ms) = @_;
    my @g = gmtime($BASE + $OFF + $sec);
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02d.%03d+09:00',
        $g[5] + 1900, $g[4] + 1, $g[3], $g[2] + 0, $g[1], $g[0], $ms // 0;
}

sub jstr {
    my ($s) = @_;
    $s =~ s/(["\\])/\\$1/g;
    $s =~ s/([\x00-\x1f\x7f])/sprintf '\\u%04x', ord $1/ge;
    return qq("$s");
}

my @events;     # [seconds from 09:00, { fields }]
my $rid = 0;

sub request {
    my ($sec, %f) = @_;
    push @events, [$sec, {
        'request.id' => sprintf('%032x', ++$rid),
        'http.request.method' => 'GET', 'url.path' => '/apply/form',
        'user_agent.original' => 'Mozilla/5.0 (X11; Linux x86_64) test/1.0',
        %f,
    }];
}

sub refusal {
    my ($sec, $ip, $cc, $reason, %f) = @_;
    request($sec, 'source.ip' => $ip, (defined $cc ? ('source.geo.country_iso_code' => $cc) : ()),
        'event.action' => $reason, 'event.outcome' => 'failure', decision => 'deny',
        'http.response.status_code' => 403, %f);
}

sub login {
    my ($sec, $ip, $id, $action, %f) = @_;
    my %how = (
        login_ok          => ['success', 'allow', 200, '200'],
        login_failed      => ['failure', 'allow', 401, '401'],
        login_error       => ['unknown', 'allow', 502, '502'],
        account_locked    => ['failure', 'deny', 429, undef],
        redis_unavailable => ['unknown', 'deny', 503, undef],
    );
    my ($outcome, $decision, $status, $up) = @{ $how{$action} };
    request($sec, 'source.ip' => $ip, 'source.geo.country_iso_code' => 'JP',
        'event.action' => $action, 'event.outcome' => $outcome, decision => $decision,
        'http.request.method' => 'POST', 'url.path' => '/login',
        'http.response.status_code' => $status,
        (defined $up ? ('sekisho.upstream.status_code' => $up) : ()),
        'user.id' => $id, %f);
}

# refusals from several countries and addresses, 09:00 to 14:20
refusal(300 + $_ * 1140, '198.51.100.7', 'US', 'geo_foreign') for 0 .. 11;
refusal(7200 + $_ * 600, '198.51.100.8', 'US', 'geo_foreign') for 0 .. 2;
refusal(3000 + $_ * 1500, '203.0.113.5', 'CN', 'geo_foreign') for 0 .. 6;
refusal(10000 + $_ * 900, '203.0.113.77', 'KR', 'geo_foreign',
    'user_agent.original' => '=SUM(1+1)') for 0 .. 3;
refusal(15000 + $_ * 200, '2001:db8::5', 'DE', 'geo_foreign',
    decision => 'dryrun-deny', 'http.response.status_code' => 200) for 0 .. 1;
refusal(4000 + $_ * 3000, '100.64.0.9', undef, 'geo_unknown') for 0 .. 2;
refusal(8000 + $_ * 60, '192.0.2.66', 'JP', 'geo_denylist') for 0 .. 1;
refusal(12345, '203.0.113.5', 'CN', 'geo_foreign', 'url.path' => $EVIL_PATH,
    'user_agent.original' => $EVIL_UA);

# allowed (events=all)
request(600 + $_ * 1700, 'source.ip' => '192.0.2.10', 'source.geo.country_iso_code' => 'JP',
    'event.action' => 'geo_country', 'event.outcome' => 'success', decision => 'allow',
    'http.response.status_code' => 200, 'sekisho.upstream.status_code' => '200') for 0 .. 9;

# logins: successes, bob's five wrong passwords and the lock, an account
# id and a user agent an attacker chose, a formula in an account id
login(1000 + $_ * 2500, '192.0.2.5', 'alice', 'login_ok') for 0 .. 2;
login(5000 + $_ * 120, '192.0.2.5', 'bob', 'login_failed') for 0 .. 4;
login(5700, '192.0.2.5', 'bob', 'account_locked');
login(9100, '192.0.2.6', 'bob', 'account_locked');
login(9200, '192.0.2.6', 'bob', 'account_locked');
login(11000, '192.0.2.9', $EVIL_ID, 'login_failed', 'user_agent.original' => $EVIL_UA);
login(11060, '192.0.2.9', $EVIL_ID, 'account_locked', 'user_agent.original' => $EVIL_UA);
login(11500, '192.0.2.9', '-2+3', 'login_failed');
login(11600, '192.0.2.9', '@admin', 'login_failed');
login(13000, '192.0.2.5', 'carol', 'login_error');
login(13100, '192.0.2.5', 'carol', 'redis_unavailable');

# an action this version does not know: the report must carry on
request(14000, 'source.ip' => '192.0.2.5', 'source.geo.country_iso_code' => 'JP',
    'event.action' => 'jpki_bad_signature', 'event.outcome' => 'failure', decision => 'deny',
    'http.request.method' => 'POST', 'url.path' => '/jpki/login',
    'http.response.status_code' => 403);

# a forged action with a terminal escape in it (a MAC does not stop a
# line being shown): text in the page, never markup in an attribute
# or in the SVG
my $FORGED = "forged_\x1b[0m";
refusal(14100, '198.51.100.99', 'US', $FORGED);

@events = sort { $a->[0] <=> $b->[0] } @events;

# the gateway starts first, and restarts at 12:00
unshift @events, [0, { 'event.action' => 'audit_start', 'sekisho.audit.chain' => 'new' }];
my ($restart) = grep { $events[$_][0] >= 3 * 3600 } 0 .. $#events;
splice @events, $restart, 0,
    [3 * 3600, { 'event.action' => 'audit_start', 'sekisho.audit.chain' => 'resumed' }];

my @ORDER = ('request.id', 'source.ip', 'source.geo.country_iso_code', 'event.action',
    'event.outcome', 'decision', 'http.request.method', 'url.path',
    'http.response.status_code', 'sekisho.upstream.status_code', 'user.id',
    'user_agent.original', 'sekisho.audit.chain');

# the names the module writes now (ECS), from the names the test keeps
# (those of the records before them, which "old" writes)
my %ECS = ('request.id' => 'http.request.id', 'event.action' => 'event.reason',
    decision => 'sekisho.decision', 'user.id' => 'user.name');

sub step {
    my ($r) = @_;
    return ($r->{'url.path'} // '') eq '/login' ? 'password_login'
         : $r->{'event.action'} =~ /^jpki_/ ? 'card_login' : 'country_check';
}

# the records as the test knows them, and the log's text
sub write_log {
    my ($key, $format) = @_;
    my $old = ($format // '') eq 'old';
    my ($prev, $seq, $text, @recs) = ('0' x 64, 0, '');
    for my $e (@events) {
        my ($sec, $f) = @$e;
        my %r = (%$f, '@timestamp' => ts($sec, $seq * 7 % 1000), node => 'gw1');
        my $start = $r{'event.action'} eq 'audit_start';
        my $body = '{"@timestamp":' . jstr($r{'@timestamp'});
        if ($old) {
            $body .= ',"node":"gw1"';
        } else {
            $body .= ',"ecs.version":"8.11.0","event.kind":"event","event.action":'
                . jstr($start ? 'audit_start' : step(\%r)) . ',"host.name":"gw1"';
        }
        for my $k (grep { exists $r{$_} } @ORDER) {
            next if !$old && $start && $k eq 'event.action';
            $body .= ',' . jstr($old ? $k : $ECS{$k} // $k) . ':'
                . ($k eq 'http.response.status_code' || (!$old && $k =~ /status_code/)
                   ? $r{$k} : jstr($r{$k}));
        }
        $body .= ',"seq":' . ++$seq . ',"prev":"' . $prev . '"';
        my $mac = defined $key ? hmac_sha256_hex($body, $key) : sha256_hex($body);
        $text .= "$body,\"mac\":\"$mac\"}\n";
        $prev = $mac;
        push @recs, { %r, seq => $seq, _t => $BASE + $sec };
    }
    return ($text, @recs);
}

my ($log, @R) = write_log($KEY);
# two files, as after a rotation
my @lines = split /(?<=\n)/, $log;
my $cut = int(@lines / 2);
$t->write_file('audit.log.1', join '', @lines[0 .. $cut - 1]);
$t->write_file('audit.log', join '', @lines[$cut .. $#lines]);

# like(), without printing the whole page when it fails
sub has {
    my ($text, $re, $name) = @_;
    ok($text =~ $re, $name) or diag("no match for $re");
}

sub hasnt {
    my ($text, $re, $name) = @_;
    my @m = $text =~ /(.{0,60}$re.{0,60})/s;
    ok(!@m, $name) or diag("found: $m[0]");
}

sub run_tool {
    my (@args) = @_;
    my $out = `$tool @args 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = run_tool('verify', "--key-file $d/audit.key", "$d/audit.log.1", "$d/audit.log");
is($rc, 0, 'the generated log verifies with sekisho-audit verify') or diag($out);

###############################################################################
# what the page must say, from the records

my %n;
$n{records} = @R;
$n{refusals} = grep { ($_->{decision} // '') eq 'deny' } @R;
$n{allowed} = grep { ($_->{decision} // '') eq 'allow' } @R;
$n{dryrun} = grep { ($_->{decision} // '') eq 'dryrun-deny' } @R;
my @refused = grep { ($_->{decision} // '') =~ /^(deny|dryrun-deny)$/ } @R;
my @logins = grep { ($_->{'url.path'} // '') eq '/login' } @R;
$n{logins} = @logins;
for my $outcome (qw(success failure unknown)) {
    $n{"login-$outcome"} = grep { $_->{'event.outcome'} eq $outcome } @logins;
}
$n{starts} = grep { $_->{'event.action'} eq 'audit_start' } @R;
my %locked = map { ($_->{'user.id'} => 1) } grep { $_->{'event.action'} eq 'account_locked' } @R;
$n{'accounts-locked'} = keys %locked;
$n{jpki} = grep { $_->{'event.action'} =~ /^jpki_login/ } @R;

my (%by_reason, %by_cc, %by_ip);
for (@refused) {
    $by_reason{ $_->{'event.action'} }++;
    $by_cc{ $_->{'source.geo.country_iso_code'} // '' }++;
    $by_ip{ $_->{'source.ip'} }++;
}

# refusals (deny) per hour, 09:00+09:00 to the last record's hour
my $h0 = floor(($R[0]{_t} + $OFF) / 3600);
my $h1 = floor(($R[-1]{_t} + $OFF) / 3600);
my @per_hour = (0) x ($h1 - $h0 + 1);
$per_hour[ floor(($_->{_t} + $OFF) / 3600) - $h0 ]++
    for grep { $_->{decision} eq 'deny' } @refused;

cmp_ok(scalar @per_hour, '>=', 5, 'the log spans several hours');
cmp_ok(scalar keys %by_cc, '>=', 4, 'refusals from several countries');

###############################################################################
# the report

my $html_file = "$d/report.html";
my $csv_file = "$d/report.csv";
($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/audit.log.1", "$d/audit.log",
    "--html $html_file", "--csv $csv_file", "--title 'Test <b>title</b>'");
is($rc, 0, 'report exits 0') or diag($out);
like($out, qr/\Areport: \Q$html_file\E and \Q$csv_file\E: $n{records} records, chain VERIFIED\n\z/,
    'and says only that it wrote both files, and the chain verified (no warning)');

my $html = $t->read_file($html_file);
utf8::decode($html);

has($html, qr{<div class="chain ok" id="chain"><div class="status">検証済み VERIFIED</div>},
    'the page says VERIFIED');
has($html, qr{id="chain-records">$n{records}<}, 'with the number of records checked');
has($html, qr{HMAC-SHA256, 鍵ファイル / key file <code>\Q$d\E/audit.key</code>}, 'and the key used');
hasnt($html, qr/BROKEN/, 'and not BROKEN');

has($html, qr{id="period-first"><span class="ts">\Q$R[0]{'@timestamp'}\E<},
    'the period starts with the first record');
has($html, qr{id="period-last"><span class="ts">\Q$R[-1]{'@timestamp'}\E<},
    'and ends with the last');
my $in_old = $cut;
has($html, qr{<code>\Q$d\E/audit.log.1</code></td><td class="num">$in_old</td><td class="num">$in_old</td>},
    'the first file and its records');
my $in_new = @lines - $cut;
has($html, qr{<code>\Q$d\E/audit.log</code></td><td class="num">$in_new</td><td class="num">$in_new</td>},
    'the second file and its records');

for my $k (qw(records refusals allowed dryrun logins login-success login-failure login-unknown
              accounts-locked starts jpki)) {
    has($html, qr{id="n-$k">$n{$k}<}, "total $k: $n{$k}");
}
is($n{jpki}, 0, 'no JPKI login in this log');
has($html, qr{id="jpki-count">0<}, 'JPKI logins: 0');

for my $reason (grep { $_ ne $FORGED } sort keys %by_reason) {
    my $deny = grep { $_->{'event.action'} eq $reason && $_->{decision} eq 'deny' } @refused;
    my $dry = $by_reason{$reason} - $deny;
    has($html, qr{<tr data-key="$reason"><td><code>$reason</code></td><td>[^<]*</td><td class="num">$deny</td><td class="num">$dry</td>},
        "refusals for $reason: $deny, dry-run $dry");
}
has($html, qr{<tr data-key="forged_\\u001b\[0m"><td><code>forged_<span class="ctl">\\u001b</span>\[0m</code></td><td>未知の種別 / unknown action</td><td class="num">1</td>},
    'an action with a control character: shown as \\u001b, in an attribute without markup');
hasnt($html, qr{="[^"]*<span}, 'no markup inside any attribute');
has(svg($html, 'chart-reasons'), qr{<text class="label" [^>]*>forged_\\u001b\[0m 未知の種別</text>},
    'nor inside the SVG');
has($html, qr{<tr data-key="jpki_bad_signature"><td><code>jpki_bad_signature</code></td><td>署名の検証に失敗 / signature does not verify</td>},
    'a JPKI reason with its own label');

for my $cc (grep { length } sort keys %by_cc) {
    my $deny = grep { ($_->{'source.geo.country_iso_code'} // '') eq $cc && $_->{decision} eq 'deny' } @refused;
    has($html, qr{<tr data-key="$cc"><td><code>$cc</code></td><td class="num">$deny</td>},
        "refusals from $cc: $deny");
}
has($html, qr{<tr data-key=""><td><code>\(なし / none\)</code></td><td class="num">$by_cc{''}</td>},
    "refusals without a country: $by_cc{''}");

my @top = sort { $by_ip{$b} <=> $by_ip{$a} || $a cmp $b } keys %by_ip;
has($html, qr{<tr data-key="\Q$top[0]\E"><td class="num">1</td><td><code>\Q$top[0]\E</code></td><td><code>US</code></td><td class="num">$by_ip{$top[0]}</td><td class="num">0</td>},
    "the address refused most: $top[0], $by_ip{$top[0]} times");
my $addr_rows = () = ($html =~ m{<table class="data" id="table-addresses">(.*?)</table>}s)[0] =~ /<tr data-key=/g;
is($addr_rows, scalar @top, 'one row per refused address');

my $bob = grep { $_->{'event.action'} eq 'account_locked' && $_->{'user.id'} eq 'bob' } @R;
my ($bob_first) = map { $_->{'@timestamp'} } grep { $_->{'event.action'} eq 'account_locked' && $_->{'user.id'} eq 'bob' } @R;
has($html, qr{<tr><td><code>bob</code></td><td><span class="ts">\Q$bob_first\E</span></td><td>.*?</td><td><code>192\.0\.2\.6 ×2, 192\.0\.2\.5</code></td><td class="num">$bob</td></tr>},
    "bob locked: first refused at $bob_first, from two addresses, $bob times");

my $starts = () = ($html =~ m{<table class="data" id="table-starts">(.*?)</table>}s)[0] =~ /<tr><td>/g;
is($starts, $n{starts}, 'every gateway start listed');
has($html, qr{<code>resumed</code> \(前のチェーンを継続 / chain resumed\)}, 'with how its chain went on');

# nothing from the log unescaped, nothing from outside the page

hasnt($html, qr/<script/i, 'no <script anywhere on the page');
has($html, qr{<code>&lt;script&gt;alert\(1\)&lt;/script&gt;&quot;quotes&quot;</code>},
    'the account id is shown, escaped');
has($html, qr{Mozilla/5\.0 &lt;script&gt;alert\(1\)&lt;/script&gt; &quot;quotes&quot; <span class="ctl">\\u001b</span>\[31m},
    'the user agent is shown, escaped, its control character visible');
hasnt($html, qr/\x1b/, 'no raw control character');
hasnt($html, qr/<img/i, 'no <img');
has($html, qr{<title>Test &lt;b&gt;title&lt;/b&gt;</title>}, 'the title is escaped');
hasnt($html, qr{https?://}i, 'no http:// or https:// anywhere');
hasnt($html, qr{\bsrc\s*=}i, 'no src= attribute');
my @hrefs = $html =~ /\bhref\s*=\s*"([^"]*)"/gi;
ok(@hrefs, 'the page has its own links');
is(join(' ', grep { !/^#[a-z]+$/ } @hrefs), '', 'and every href is an anchor on the page');
hasnt($html, qr/\burl\s*\(|\@import|\@font-face/i, 'no url(), @import or @font-face in the CSS');
has($html, qr{<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">},
    'a policy that forbids loading anything and any script');

# the SVG as written

sub svg {
    my ($text, $id) = @_;
    return ($text =~ m{(<svg id="$id".*?</svg>)}s)[0] // '';
}

sub bars {
    my ($svg, $class) = @_;
    $class //= 'bar';
    return () = $svg =~ /<rect class="$class"/g;
}

is(bars(svg($html, 'chart-reasons')), scalar keys %by_reason, 'one bar per reason');
is(bars(svg($html, 'chart-countries')), scalar keys %by_cc, 'one bar per country');
is(bars(svg($html, 'chart-time')), scalar @per_hour, 'one bar per hour');
is(join(',', svg($html, 'chart-time') =~ /<rect class="bar" [^>]*data-value="(\d+)"/g),
    join(',', @per_hour), 'each hour with its refusals');
is(bars(svg($html, 'chart-reasons'), 'bar-dry'), 1, 'dry-run refusals drawn on one reason');
has(svg($html, 'chart-time'), qr{時刻 / time \(Asia/Tokyo, UTC\+09:00\), 1時間ごと / per hour},
    'the time axis is labelled, in the default zone');
has(svg($html, 'chart-time'), qr{拒否件数 / refusals}, 'and the count axis');

# CSV

my $csv = $t->read_file($csv_file);
utf8::decode($csv);

# RFC 4180: rows of fields, quoted fields may hold commas, quotes and newlines
sub parse_csv {
    my ($text) = @_;
    my (@rows, @row, $f);
    pos($text) = 0;
    while (pos($text) < length $text) {
        if ($text =~ /\G"((?:[^"]|"")*)"/gc) {
            ($f = $1) =~ s/""/"/g;
        } else {
            $text =~ /\G([^,"\r\n]*)/gc;
            $f = $1;
        }
        push @row, $f;
        if ($text =~ /\G,/gc) {
            next;
        } elsif ($text =~ /\G\r\n/gc) {
            push @rows, [@row];
            @row = ();
        } else {
            die 'bad CSV at ' . pos($text) . ': ' . substr($text, pos($text), 40) . "\n";
        }
    }
    return @rows;
}

my @rows = eval { parse_csv($csv) };
is($@, '', 'the CSV parses as RFC 4180');
is(scalar @rows, @R + 1, 'one header row and one row per record (' . scalar(@R) . ')');
is(scalar(grep { @$_ == @{ $rows[0] } } @rows), scalar @rows, 'every row has every column');
my %col;
@col{ @{ $rows[0] } } = 0 .. $#{ $rows[0] };
is($rows[1][ $col{'event.action'} ], 'audit_start', 'the first record first');
is($rows[2][ $col{'event.reason'} ], $R[1]{'event.action'}, 'with its reason in event.reason');
is($rows[-1][ $col{seq} ], scalar @R, 'the last record last');
my ($evil) = grep { $_->[ $col{'user.name'} ] eq $EVIL_ID } @rows;
ok($evil, 'a cell with quotes comes back as it was');
is($evil && $evil->[ $col{'user_agent.original'} ], $EVIL_UA, 'the user agent too');
is(scalar(grep { $_->[ $col{'user_agent.original'} ] eq "'=SUM(1+1)" } @rows), 4,
    'a formula gets a quote before it');
is(scalar(grep { $_->[ $col{'user.name'} ] eq "'-2+3" } @rows), 1, 'a cell starting with -');
is(scalar(grep { $_->[ $col{'user.name'} ] eq "'\@admin" } @rows), 1, 'a cell starting with @');
is(scalar(grep { $_->[ $col{'user.name'} ] =~ /^[=+\-\@]/ } @rows), 0, 'no cell starts a formula');
has($csv, qr{,"<script>alert\(1\)</script>""quotes""",}, 'quotes doubled inside a quoted cell');

# the reader in Perl alone (without Cpanel::JSON::XS) reads the same
{
    local $ENV{SEKISHO_AUDIT_PURE_PERL} = 1;
    ($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/audit.log.1", "$d/audit.log",
        "--html $d/perl.html", "--csv $d/perl.csv");
    is($rc, 0, 'SEKISHO_AUDIT_PURE_PERL=1: report written') or diag($out);
    ok($t->read_file('perl.csv') eq $t->read_file('report.csv'),
        'the same CSV, byte for byte, from the reader in Perl');
    my ($pp) = $t->read_file('perl.html') =~ m{(<section id="totals">.*)<footer>}s;
    my ($xs) = $t->read_file('report.html') =~ m{(<section id="totals">.*)<footer>}s;
    ok(defined $pp && $pp eq $xs, 'and the same page from its totals to its footer');
}

###############################################################################
# tampering, a missing key, a log without a key

my @edit = @lines;
my $victim = 20;
$edit[$victim - 1] =~ s/"http.response.status_code":(\d+)/"http.response.status_code":299/ or die;
$t->write_file('tampered.log', join '', @edit);
($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/tampered.log", "--html $d/tampered.html");
is($rc, 0, 'a broken chain still gives a report') or diag($out);
my $th = $t->read_file("$d/tampered.html");
utf8::decode($th);
has($th, qr{<div class="status">改ざん・破損を検出 BROKEN</div>}, 'which says BROKEN');
has($th, qr{<code id="chain-where">\Q$d\E/tampered\.log:$victim</code>: <strong>the MAC does not match},
    "at line $victim, with the reason");
my $before = $victim - 1;
has($th, qr{The $before records before it verified}, 'and how much verified before it');
my ($vrc, $vout) = run_tool('verify', "--key-file $d/audit.key", "$d/tampered.log");
like($vout, qr{FAIL \Q$d\E/tampered\.log:$victim: the MAC does not match}, 'where verify says it is');
has($th, qr{id="n-records">$n{records}<}, 'every record still counted');

$t->write_file('deleted.log', join '', @lines[0 .. 9], @lines[11 .. $#lines]);
($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/deleted.log", "--html $d/deleted.html");
my $dh = $t->read_file("$d/deleted.html");
utf8::decode($dh);
has($dh, qr{BROKEN.*?<code id="chain-where">\Q$d\E/deleted\.log:11</code>: <strong>&quot;prev&quot; is not the MAC}s,
    'a deleted record: BROKEN at the line after the gap');

($rc, $out) = run_tool('report', "$d/audit.log.1", "--html $d/nokey.html");
is($rc, 0, 'a keyed log without --key-file: report written');
has($t->read_file("$d/nokey.html"), qr{class="chain unverified".*NOT VERIFIED.*--key-file}s,
    'the page asks for the key rather than calling it tampered');

my ($plain) = write_log(undef);
$t->write_file('plain.log', $plain);
($rc, $out) = run_tool('report', "$d/plain.log", "--html $d/plain.html");
is($rc, 0, 'a log without a key: report written') or diag($out);
my $ph = $t->read_file("$d/plain.html");
utf8::decode($ph);
has($ph, qr{検証済み VERIFIED.*no key given: verified without a key \(SHA-256\)}s,
    'VERIFIED, without a key');

($rc, $out) = run_tool('report', "$d/audit.log");
is($rc, 2, 'no --html: usage, exit 2');
($rc, $out) = run_tool('report', "--html $d/x.html");
is($rc, 2, 'no file: usage, exit 2');
($rc, $out) = run_tool('report', "$d/missing.log", "--html $d/x.html");
is($rc, 1, 'a missing file: exit 1');
like($out, qr/missing\.log: not a readable file/, 'with the file named');
($rc, $out) = run_tool('report', "--key-file $d/nokey.key", "$d/audit.log", "--html $d/x.html");
is($rc, 1, 'a missing key file: exit 1');
($rc, $out) = run_tool('report', "$d/audit.log", "--html $d/no/such/dir/x.html");
is($rc, 1, 'an unwritable output: exit 1');

###############################################################################
# every reason the module can write has its own label (a reason added
# to src/ngx_http_sekisho_reason.c without one fails here)

my $reason_c = $t->read_file("$top/src/ngx_http_sekisho_reason.c");
my ($names) = $reason_c =~ /ngx_http_sekisho_reason_names\[\] = \{(.*?)\};/s;
my @module_reasons = $names =~ /ngx_string\("([a-z_]+)"\)/g;
cmp_ok(scalar @module_reasons, '>=', 39, 'the reasons read from reason.c (' . scalar(@module_reasons) . ')');
{
    my @save = @events;
    @events = ([0, { 'event.action' => 'audit_start', 'sekisho.audit.chain' => 'new' }]);
    my $i = 0;
    refusal(60 + $i++, '198.51.100.7', 'US', $_) for @module_reasons;
    my ($all) = write_log($KEY);
    @events = @save;
    $t->write_file('reasons.log', $all);
    ($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/reasons.log", "--html $d/reasons.html");
    is($rc, 0, 'a report of every reason') or diag($out);
    my $rh = $t->read_file("$d/reasons.html");
    utf8::decode($rh);
    my ($table) = $rh =~ m{<table class="data" id="table-actions">(.*?)</table>}s;
    my %label = ($table // '') =~ m{<tr data-key="([a-z_]+)"><td><code>[a-z_]+</code></td><td>([^<]*)</td>}g;
    my @missing = grep { !defined $label{$_} || $label{$_} =~ /unknown action/ } @module_reasons;
    is("@missing", '', 'every reason of the module has a label of its own');
    my @bilingual = grep { ($label{$_} // '') =~ m{\A\S.*[\x{3040}-\x{30ff}\x{4e00}-\x{9fff}].* / [ -~]+\z} }
        @module_reasons;
    is(scalar @bilingual, scalar @module_reasons, 'each in Japanese and English');
    for my $r (qw(session_missing jpki_revoked jpki_crl_stale)) {
        diag("$r: " . Encode::encode('UTF-8', $label{$r} // '(none)')) if $ENV{SEKISHO_TEST_VERBOSE};
    }
}

###############################################################################
# times in the auditor's zone, daylight saving time included

{
    # New York leaves daylight saving time at 2026-11-01 06:00 UTC
    my @save = @events;
    my $base = $BASE;
    $BASE = timegm(0, 0, 4, 1, 10, 2026);                 # 04:00 UTC
    @events = ([0, { 'event.action' => 'audit_start', 'sekisho.audit.chain' => 'new' }]);
    refusal($_ * 1200, '198.51.100.7', 'US', 'geo_foreign') for 1 .. 12;   # to 08:00 UTC
    my ($ny) = write_log($KEY);
    @events = @save;
    $BASE = $base;
    $t->write_file('dst.log', $ny);

    ($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/dst.log", "--html $d/dst.html",
        '--tz America/New_York');
    is($rc, 0, '--tz America/New_York') or diag($out);
    my $nh = $t->read_file("$d/dst.html");
    utf8::decode($nh);
    has($nh, qr{id="period-first"><span class="ts">2026-11-01T00:00:00\.000-04:00<},
        'the first record in New York time, daylight saving (EDT, -04:00)');
    has($nh, qr{id="period-last"><span class="ts">2026-11-01T03:00:00\.\d{3}-05:00<},
        'the last in standard time (EST, -05:00), not a fixed offset');
    has($nh, qr{<span id="zone">America/New_York</span>}, 'the page names the zone');
    has(svg($nh, 'chart-time'), qr{時刻 / time \(America/New_York, UTC-04:00/UTC-05:00\)},
        'the time axis names both offsets');
    # 04:00-08:00 UTC is 00:00, 01:00 (EDT), 01:00 (EST), 02:00 and 03:00
    # on the clock: the repeated hour is one bucket of two hours
    my @labels = svg($nh, 'chart-time') =~ /<rect class="bar" [^>]*data-value="(\d+)"><title>2026-11-01 (\d\d:\d\d)/g;
    my %per = reverse @labels;
    is(join(',', map { "$_=$per{$_}" } sort keys %per), '00:00=2,01:00=6,02:00=3,03:00=1',
        'refusals per hour of the clock: the repeated hour holds both');

    ($rc, $out) = run_tool('report', "$d/dst.log", "--key-file $d/audit.key", "--html $d/utc.html",
        '--tz UTC');
    has($t->read_file("$d/utc.html"), qr{id="period-first"><span class="ts">2026-11-01T04:00:00\.000\+00:00<},
        '--tz UTC');

    ($rc, $out) = run_tool('report', "$d/dst.log", "--html $d/x.html", '--tz Mars/Olympus_Mons');
    is($rc, 2, 'an unknown zone: usage, exit 2');
    like($out, qr{--tz Mars/Olympus_Mons: not a time zone}, 'naming it');
}

###############################################################################
# a log of the version before the ECS names reads the same

{
    my ($old_log) = write_log($KEY, 'old');
    unlike($old_log, qr/"ecs\.version"|"event\.reason"/, 'an old-format log');
    $t->write_file('old.log', $old_log);
    ($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/old.log", "--html $d/old.html",
        "--csv $d/old.csv");
    is($rc, 0, 'report of an old log') or diag($out);
    my $oh = $t->read_file("$d/old.html");
    utf8::decode($oh);
    for my $k (qw(records refusals allowed dryrun logins login-failure accounts-locked starts)) {
        has($oh, qr{id="n-$k">$n{$k}<}, "old log: total $k: $n{$k}");
    }
    has($oh, qr{<tr><td><code>bob</code></td>}, 'old log: user.id read as user.name');
    my @orows = parse_csv($t->read_file("$d/old.csv"));
    my %ocol;
    @ocol{ @{ $orows[0] } } = 0 .. $#{ $orows[0] };
    is(scalar(grep { $_->[ $ocol{'user.name'} ] eq 'bob' } @orows), 8, 'old log: the CSV under the new names');
}

###############################################################################
# the page in a browser

my $chromium = $ENV{SEKISHO_CHROMIUM} // '/usr/bin/chromium';

SKIP: {
    skip "chromium is not installed ($chromium; scripts/deps installs it): "
        . 'the page was not rendered', 19 unless -x $chromium;

    my @browser = ($chromium, qw(--headless --no-sandbox --disable-gpu --disable-quic
        --no-first-run --disable-background-networking --disable-component-update
        --disable-sync));

    my $browse = sub {
        my (@args) = @_;
        my $profile = tempdir('chromium-XXXXXX', TMPDIR => 1, CLEANUP => 1);
        my $cmd = join ' ', 'timeout 120', @browser, "--user-data-dir=$profile", @args,
            "2>$d/chromium.err";
        my $o = `$cmd`;
        diag("chromium exit $?: " . $t->read_file('chromium.err')) if $?;
        return $o;
    };

    my $ja = `fc-list :lang=ja family 2>/dev/null`;
    ok($ja =~ /\S/, 'a font with Japanese glyphs is installed (fonts-noto-cjk)')
        or diag('without one the Japanese headings are drawn as boxes');

    my $dom = $browse->('--dump-dom', "file://$html_file");
    utf8::decode($dom);
    has($dom, qr{<h1>Test &lt;b&gt;title&lt;/b&gt;</h1>}, 'chromium loaded the page');

    my $reasons = svg($dom, 'chart-reasons');
    is(bars($reasons), scalar keys %by_reason, 'drawn: one bar per reason');
    is(bars(svg($dom, 'chart-countries')), scalar keys %by_cc, 'drawn: one bar per country');
    is(bars(svg($dom, 'chart-time')), scalar @per_hour, 'drawn: one bar per hour');

    # the longest bar is the reason refused most, and no bar is empty
    my @w = $reasons =~ /<rect class="bar" [^>]*width="([\d.]+)"[^>]*data-key="([^"]*)"/g;
    my %width = reverse @w;
    my ($most) = sort { $by_reason{$b} <=> $by_reason{$a} } keys %by_reason;
    is((sort { $width{$b} <=> $width{$a} } keys %width)[0], $most, "the longest bar is $most");
    is(scalar(grep { $width{$_} > 0 } keys %width), scalar keys %by_reason, 'every bar has a width');
    hasnt($dom, qr/<script/i, 'no script in the rendered page either');

    my $png = "$d/report.png";
    $browse->("--screenshot=$png", '--window-size=1200,3000', "file://$html_file");
    ok(-s $png && -s $png > 50_000, 'the screenshot is written and not blank (' . (-s $png // 0) . ' bytes)');
    my $head = $t->read_file($png);
    my ($w, $h) = unpack 'NN', substr($head, 16, 8);
    is("$w x $h", '1200 x 3000', 'a PNG of the window size');

    # the page printed to PDF by the tool (Chromium's headless print)
    my $pdf = "$d/report.pdf";
    ($rc, $out) = run_tool('report', "--key-file $d/audit.key", "$d/audit.log.1", "$d/audit.log",
        "--html $d/print.html", "--pdf $pdf");
    is($rc, 0, '--pdf: report written') or diag($out);
    like($out, qr/\Qand $pdf\E: $n{records} records, chain VERIFIED/, 'and says so');
    my $magic = -f $pdf ? substr($t->read_file($pdf), 0, 5) : '';
    is($magic, '%PDF-', 'a PDF file');
    my $text = `pdftotext -enc UTF-8 '$pdf' - 2>&1`;
    utf8::decode($text);
    like($text, qr/signature does not verify/, 'its text has a reason\'s English label (pdftotext)');
    like($text, qr/署名の検証に失敗/, 'and its Japanese label');
    like($text, qr/VERIFIED/, 'and the chain status');
    ok(!glob("$d/report.pdf.tmp*"), 'no temporary file left');

    local $ENV{SEKISHO_CHROMIUM} = '/nonexistent/chromium';
    ($rc, $out) = run_tool('report', "$d/audit.log", "--html $d/x.html", "--pdf $d/x.pdf");
    is($rc, 1, 'no browser: exit 1');
    like($out, qr{/nonexistent/chromium not found}, 'naming it');

    if ($ENV{SEKISHO_TEST_KEEP}) {
        diag("screenshot: $png");
    }
}

done_testing();
