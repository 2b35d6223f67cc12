#!/usr/bin/perl
#
# Tests for geoip/build-mmdb: runs the script on the hand-written fixtures in
# t/fixtures/geoip/ and reads the databases back with MaxMind::DB::Reader.
# Also unit-tests the line parsers by loading the script with `do`.
# Independent of the nginx harness in t/lib.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Spec;
use File::Temp qw(tempdir);
use FindBin;
use Test::More;

BEGIN {
    for my $module (qw(MaxMind::DB::Writer::Tree MaxMind::DB::Reader)) {
        plan skip_all => "$module is not installed"
            unless eval "no warnings 'deprecated'; require $module; 1";
    }
}

my $ROOT     = abs_path("$FindBin::Bin/..");
my $SCRIPT   = "$ROOT/geoip/build-mmdb";
my $FIXTURES = "$ROOT/t/fixtures/geoip";
my $TMP      = tempdir( 'geoip-build-XXXXXX', TMPDIR => 1, CLEANUP => 1 );

my %FIX = map { $_ => "$FIXTURES/$_" }
    qw(delegated-sample.txt delegated-extended-sample.txt delegated-bad.txt
    ranges.csv extra.txt);

umask 022;    # so that the mode of the written file is predictable

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Run build-mmdb with @args; returns { status, stdout, stderr }.
my $run_count = 0;

sub run_build {
    my (@args) = @_;
    $run_count++;
    my $out = "$TMP/run$run_count.stdout";
    my $err = "$TMP/run$run_count.stderr";
    my $pid = fork // die "fork: $!";
    if ( $pid == 0 ) {
        open STDOUT, '>', $out or die "stdout: $!";
        open STDERR, '>', $err or die "stderr: $!";
        exec $^X, $SCRIPT, @args or die "exec: $!";
    }
    waitpid $pid, 0;
    my $status = $? & 127 ? 128 + ( $? & 127 ) : $? >> 8;
    return { status => $status, stdout => slurp($out), stderr => slurp($err) };
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# The country of $ip in $db ("JP"), or undef if the address is not found.
sub country_of {
    my ( $reader, $ip ) = @_;
    my $record = $reader->record_for_address($ip);
    return $record ? $record->{country}{iso_code} : undef;
}

# Check a list of [ip => expected country or undef] against a database.
sub lookups_ok {
    my ( $reader, $label, @cases ) = @_;
    for my $case (@cases) {
        my ( $ip, $want ) = @{$case};
        is country_of( $reader, $ip ), $want,
            "$label: $ip -> " . ( $want // 'not found' );
    }
}

# Parse the report printed on stdout into a structure.
sub parse_report {
    my ($text) = @_;
    my ( %report, $section );
    for my $line ( split /\n/, $text ) {
        if ( $line =~ /\A(Input|Extra): (.*)\z/ ) {
            $section = $report{ lc $1 }{$2} = {};
        }
        elsif ( $line =~ /\ACountries/ ) {
            $section = $report{countries} = {};
        }
        elsif ( $line =~ /\AExtra allow-list entries/ ) {
            $section = $report{extra_countries} = {};
        }
        elsif ( $line =~ /\ANetworks written: (\d+)\z/ ) {
            $report{networks} = $1;
        }
        elsif ( $line =~ /\AOutput: (.*) \((\d+) bytes\)\z/ ) {
            @report{qw(output size)} = ( $1, $2 );
        }
        elsif ( $line =~ /\A  ([A-Z]{2}): (.*)\z/ ) {
            $section->{$1} = { map { split /=/ } split ' ', $2 };
        }
        elsif ( $line =~ /\A  ([a-z ]+): (.*)\z/ ) {
            my ( $key, $value ) = ( $1, $2 );
            $section->{$key}
                = $value =~ /=/ ? { map { split /=/ } split ' ', $value } : $value;
        }
    }
    return \%report;
}

# ---------------------------------------------------------------------------
# 1. Line parsers, called directly
# ---------------------------------------------------------------------------

subtest 'parsers' => sub {
    {
        local @ARGV;
        my $loaded = do $SCRIPT;
        ok $loaded, 'build-mmdb loads as a module' or diag $@ || $!;
    }
    my $d   = \&Sekisho::BuildMMDB::parse_delegated_line;
    my $csv = \&Sekisho::BuildMMDB::parse_csv_line;
    my $ex  = \&Sekisho::BuildMMDB::parse_extra_line;

    is_deeply $d->("apnic|JP|ipv4|58.0.0.100|300|20050419|assigned\r\n"),
        {
        type      => 'record', cc => 'JP', kind => 'ipv4-range',
        first     => '58.0.0.100', last => '58.0.1.143', addresses => 300,
        },
        'delegated ipv4, unaligned start, count 300, CRLF';
    is_deeply $d->('apnic|jp|ipv6|2001:0240:0::|32|20000306|allocated|A9|x'),
        {
        type    => 'record', cc => 'JP', kind => 'ipv6-prefix',
        network => '2001:240::/32', first => '2001:240::', prefix => 32,
        },
        'delegated ipv6, extended with extensions, lower-case cc, canonicalised';
    is_deeply $d->('apnic|JP|ipv4|255.255.255.0|256|20110412|allocated')->{last},
        '255.255.255.255', 'ipv4 range may end at the last address';

    my %reason = (
        '#  CONDITIONS OF USE'                          => 'comment',
        "   \n"                                         => 'blank',
        '2|apnic|20190912|62210|19830613|20190911|+1000' => 'version',
        'apnic|*|ipv4|*|43156|summary'                  => 'summary',
        'apnic|JP|asn|173|1|20020801|allocated'         => 'asn',
        'apnic||ipv4|1.0.0.0|256||available'            => 'status',
        'apnic|ZZ|ipv4|1.0.6.0|512||reserved|'          => 'status',
        'apnic||ipv4|1.0.4.0|1024|20110412|allocated'   => 'no-country',
    );
    for my $line ( sort keys %reason ) {
        is $d->($line)->{reason}, $reason{$line}, "delegated '$line' -> $reason{$line}";
    }
    is $d->('2|apnic|20190912|62210|19830613|20190911|+1000')->{serial},
        '20190912', 'version line: serial';

    my %bad = (
        'apnic|JP|ipv4|1.0.300.0|256|20110412|allocated'     => qr/start address/,
        'apnic|JP|ipv4|01.0.16.0|256|20110412|allocated'     => qr/start address/,
        'apnic|JP|ipv4|1.0.32.0|0|20110412|allocated'        => qr/count is 0/,
        'apnic|JP|ipv4|255.255.255.0|257|20110412|allocated' => qr/runs past/,
        'apnic|JP|ipv4|0.0.0.0|4294967297|20110412|allocated' => qr/runs past/,
        'apnic|JP|ipv4|1.0.0.0|-1|20110412|allocated'        => qr/address count/,
        'apnic|JP|ipv6|2001:240::|129|20000306|allocated'    => qr/prefix length/,
        'apnic|JP|ipv6|1.0.0.0|32|20000306|allocated'        => qr/IPv6 start/,
        'apnic|JP|ipv6|2001:240::1|32|20000306|allocated'    => qr/bits set/,
        'apnic|JP|ipx|1.0.33.0|256|20110412|allocated'       => qr/unknown type/,
        'apnic|JP|ipv4|1.0.34.0|256'                         => qr/found 5/,
        'apnic|J1|ipv4|1.0.35.0|256|20110412|allocated'      => qr/country code/,
        'apnic|JP|ipv4|1.0.36.0|256|20110412|bogus'          => qr/unknown status/,
    );
    for my $line ( sort keys %bad ) {
        my $r = $d->($line);
        is $r->{type}, 'error', "delegated malformed: $line";
        like $r->{error} // '', $bad{$line}, '... with the right reason';
    }
    ok $d->('apnic|JP|ipv4|0.0.0.0|4294967296|20110412|allocated')->{type} eq 'record',
        'ipv4 count 2^32 from 0.0.0.0 is accepted';

    is_deeply $csv->( q{"14.0.0.0" , '14.0.3.231',"jp"}, 1 ),
        {
        type  => 'record', cc => 'JP', kind => 'ipv4-range',
        first => '14.0.0.0', last => '14.0.3.231', addresses => 1000,
        },
        'csv ipv4 range with quotes';
    is_deeply $csv->( '2404:1a8::1,2404:1A8::100,JP', 0 ),
        {
        type  => 'record', cc => 'JP', kind => 'ipv6-range',
        first => '2404:1a8::1', last => '2404:1a8::100',
        },
        'csv ipv6 range';
    is $csv->( 'first,last,country', 1 )->{reason}, 'header', 'csv header on the first data line';
    is $csv->( 'first,last,country', 0 )->{type}, 'error', 'csv header later is malformed';
    is $csv->( '1.0.0.0,1.0.0.255,', 0 )->{reason}, 'no-country', 'csv empty country skipped';
    for my $line ( '1.0.0.9,1.0.0.1,JP', '2404::2,2404::1,JP', '1.0.0.0,2404::1,JP',
        '2404::1,1.0.0.0,JP', '1.0.0.0,1.0.0.255', '1.0.0.0,1.0.0.255,JP,x',
        '1.0.0.0,1.0.0.256,JP', '1.0.0.0,1.0.0.255,JPN' )
    {
        is $csv->( $line, 0 )->{type}, 'error', "csv malformed: $line";
    }

    is_deeply $ex->( '8.8.8.0/24 jp # comment', 'KR' ),
        {
        type  => 'record', cc => 'JP', kind => 'ipv4-network',
        network => '8.8.8.0/24', first => '8.8.8.0', addresses => 256,
        },
        'extra CIDR with country and trailing comment';
    is $ex->( '45.77.1.1', 'KR' )->{network}, '45.77.1.1/32', 'extra bare address is a host';
    is $ex->( '45.77.1.1', 'KR' )->{cc},      'KR', 'extra without country gets the default';
    is $ex->( '2001:4860:4860::/48', 'JP' )->{network}, '2001:4860:4860::/48', 'extra IPv6';
    like $ex->( '45.77.1.1', undef )->{error}, qr/no country code/,
        'extra without country and without default is an error';
    like $ex->( '8.8.8.1/24 JP', 'JP' )->{error}, qr/host bits.*8\.8\.8\.0\/24/,
        'extra with host bits set is an error naming the network';
    is $ex->( '8.8.8.0/33 JP', 'JP' )->{type}, 'error', 'extra /33';
    is $ex->( '8.8.8.0/24 JP extra', 'JP' )->{type}, 'error', 'extra with 3 fields';
};

# ---------------------------------------------------------------------------
# 2. Default build (JP only) from every fixture
# ---------------------------------------------------------------------------

my $jp_db = "$TMP/jp.mmdb";
my $run   = run_build(
    '--input', $FIX{'delegated-sample.txt'},
    '--input', $FIX{'delegated-extended-sample.txt'},
    '--input', $FIX{'ranges.csv'},
    '--extra', $FIX{'extra.txt'},
    '--output', $jp_db,
);
is $run->{status}, 0, 'default build exits 0' or diag $run->{stderr};
is $run->{stderr}, '', 'default build prints nothing on stderr';
ok -s $jp_db, 'database written';
is( ( stat $jp_db )[2] & 07777, 0644, 'database is readable by everyone (0666 & ~umask)' );

my $reader = MaxMind::DB::Reader->new( file => $jp_db );

subtest 'metadata and record layout' => sub {
    my $md = $reader->metadata;
    is $md->database_type, 'Sekisho-Country', 'database_type';
    is $md->ip_version,  6,  'ip_version';
    is $md->record_size, 24, 'record_size';
    is_deeply $reader->record_for_address('1.0.16.1'), { country => { iso_code => 'JP' } },
        'record is exactly {country => {iso_code => JP}}';
};

subtest 'delegated IPv4 ranges' => sub {
    lookups_ok(
        $reader, 'power of two',
        [ '1.0.16.0'   => 'JP' ], [ '1.0.31.255' => 'JP' ], [ '1.0.32.0' => undef ],
        [ '1.0.15.255' => undef ],
        [ '133.0.0.1'  => 'JP' ], [ '133.0.255.255' => 'JP' ], [ '133.1.0.0' => undef ],
    );
    lookups_ok(
        $reader, 'count 768',
        [ '27.120.0.0' => 'JP' ], [ '27.120.2.255' => 'JP' ], [ '27.120.3.0' => undef ],
    );
    lookups_ok(
        $reader, 'count 1000',
        [ '43.224.16.0' => 'JP' ], [ '43.224.19.231' => 'JP' ], [ '43.224.19.232' => undef ],
    );
    lookups_ok(
        $reader, 'unaligned start 58.0.0.100 + 300',
        [ '58.0.0.99'  => undef ], [ '58.0.0.100' => 'JP' ],
        [ '58.0.1.143' => 'JP' ],  [ '58.0.1.144' => undef ],
    );
    lookups_ok(
        $reader, 'extended format',
        [ '1.0.64.0'  => 'JP' ],  [ '1.0.127.255' => 'JP' ], [ '1.0.128.0' => undef ],
        [ '36.2.5.255' => 'JP' ], [ '36.2.6.0' => undef ],
        [ '49.212.255.255' => 'JP' ],
    );
    lookups_ok(
        $reader, 'IPv4-mapped and 6to4 aliases',
        [ '::ffff:1.0.16.1' => 'JP' ], [ '2002:3a00:0064::' => 'JP' ],
    );
};

subtest 'delegated IPv6 prefixes' => sub {
    lookups_ok(
        $reader, '/32',
        [ '2001:240::1' => 'JP' ], [ '2001:240:ffff:ffff:ffff:ffff:ffff:ffff' => 'JP' ],
        [ '2001:241::'  => undef ], [ '2001:23f:ffff:ffff:ffff:ffff:ffff:ffff' => undef ],
    );
    lookups_ok(
        $reader, '/48',
        [ '2400:2000:0:ffff::1' => 'JP' ], [ '2400:2000:1::' => undef ],
    );
    lookups_ok( $reader, '/22 (extended)',
        [ '2400:4000::1' => 'JP' ], [ '2400:43ff:ffff::1' => 'JP' ], [ '2400:4400::' => undef ] );
};

subtest 'country filter drops other countries' => sub {
    lookups_ok(
        $reader, 'not JP',
        [ '1.11.0.1' => undef ], [ '8.8.9.1' => undef ], [ '1.0.1.1' => undef ],
        [ '2001:220::1' => undef ], [ '2001:4860::1' => undef ], [ '1.0.8.1' => undef ],
        [ '8.8.4.4' => undef ], [ '175.45.176.1' => undef ], [ '2001:4400::1' => undef ],
    );
    lookups_ok(
        $reader, 'skipped status / no country',
        [ '1.0.0.1' => undef ], [ '1.0.2.1' => undef ], [ '1.0.4.1' => undef ],
        [ '1.0.5.1' => undef ], [ '2400:1000::1' => undef ],
    );
};

subtest 'CSV ranges' => sub {
    lookups_ok(
        $reader, 'csv',
        [ '14.0.0.0' => 'JP' ], [ '14.0.3.231' => 'JP' ], [ '14.0.3.232' => undef ],
        [ '60.32.0.9' => undef ], [ '60.32.0.10' => 'JP' ], [ '60.32.0.20' => 'JP' ],
        [ '60.32.0.21' => undef ],
        [ '2404:7a80:1234::1' => 'JP' ], [ '2404:7a81::' => undef ],
        [ '2404:1a8::' => undef ], [ '2404:1a8::1' => 'JP' ], [ '2404:1a8::100' => 'JP' ],
        [ '2404:1a8::101' => undef ],
    );
};

subtest 'extra allow-list' => sub {
    lookups_ok(
        $reader, 'extra',
        [ '8.8.8.8' => 'JP' ], [ '45.76.0.1' => 'JP' ], [ '45.76.15.255' => 'JP' ],
        [ '45.76.16.0' => undef ], [ '45.77.1.1' => 'JP' ], [ '45.77.1.2' => undef ],
        [ '2001:4860:4860::8888' => 'JP' ],
    );
};

subtest 'reported counts match the fixtures' => sub {
    my $r = parse_report( $run->{stdout} );

    my $s = $r->{input}{ $FIX{'delegated-sample.txt'} };
    ok $s, 'report has delegated-sample.txt' or return;
    like $s->{format}, qr/\Adelegated \(registry apnic, serial 20190912\)\z/, 'format';
    is $s->{'lines read'}, 45, 'lines read';
    is_deeply $s->{ignored},
        { comment => 21, blank => 1, version => 1, summary => 3, header => 0 }, 'ignored';
    is $s->{'records kept'}, 7, 'kept: 5 JP ipv4 + 2 JP ipv6';
    is_deeply $s->{'records skipped'},
        { asn => 3, status => 3, 'no-country' => 1, filtered => 5 }, 'skipped by reason';
    is $s->{malformed}, 0, 'malformed';

    my $e = $r->{input}{ $FIX{'delegated-extended-sample.txt'} };
    is $e->{'records kept'}, 4, 'extended: kept';
    is_deeply $e->{'records skipped'},
        { asn => 1, status => 3, 'no-country' => 0, filtered => 2 }, 'extended: skipped';

    my $c = $r->{input}{ $FIX{'ranges.csv'} };
    is $c->{format}, 'csv', 'csv detected';
    is $c->{'lines read'}, 11, 'csv: lines read';
    is $c->{ignored}{header}, 1, 'csv: header';
    is $c->{'records kept'}, 4, 'csv: kept';
    is $c->{'records skipped'}{filtered}, 3, 'csv: filtered US, US, KP';

    # 4096+65536+768+1000+300 (sample) + 16384+1536+65536 (extended)
    # + 1000+11 (csv)
    is_deeply $r->{countries},
        {
        JP => {
            'ipv4-ranges' => 10, 'ipv4-addresses' => 156167,
            'ipv6-prefixes' => 3, 'ipv6-ranges' => 2,
        },
        },
        'per-country totals';
    is $r->{extra}{ $FIX{'extra.txt'} }{entries}, 4, 'extra entries';
    is_deeply $r->{extra_countries},
        { JP => { 'ipv4-networks' => 3, 'ipv4-addresses' => 256 + 4096 + 1, 'ipv6-networks' => 1 } },
        'extra totals';
    cmp_ok $r->{networks}, '>=', 15, 'networks written';
    is $r->{output}, $jp_db, 'output path';
    is $r->{size}, -s $jp_db, 'output size';
};

# ---------------------------------------------------------------------------
# 3. Country selection
# ---------------------------------------------------------------------------

subtest '--countries all keeps every country; extra overrides' => sub {
    my $db  = "$TMP/all.mmdb";
    my $res = run_build(
        '--countries', 'all',
        '-i', $FIX{'delegated-sample.txt'}, '-i', $FIX{'delegated-extended-sample.txt'},
        '-i', $FIX{'ranges.csv'},
        '-e', "$FIXTURES/extra.txt", '-o', $db,
    );
    is $res->{status}, 1, 'extra line without country and --countries all: exit 1';
    like $res->{stderr}, qr/extra\.txt:4: malformed: no country code/, '... names the line';
    ok !-e $db, '... and writes nothing';

    # Same without the country-less lines of extra.txt.
    my $extra = "$TMP/extra-with-cc.txt";
    open my $fh, '>', $extra or die $!;
    print {$fh} "8.8.8.0/24 JP\n2001:4860:4860::/48 JP\n";
    close $fh;
    $res = run_build(
        '--countries', 'all',
        '-i', $FIX{'delegated-sample.txt'}, '-i', $FIX{'delegated-extended-sample.txt'},
        '-i', $FIX{'ranges.csv'}, '-e', $extra, '-o', $db,
    );
    is $res->{status}, 0, 'exit 0' or diag $res->{stderr};
    my $all = MaxMind::DB::Reader->new( file => $db );
    lookups_ok(
        $all, 'all',
        [ '1.0.16.1' => 'JP' ], [ '1.11.0.1' => 'KR' ], [ '1.0.1.1' => 'CN' ],
        [ '8.8.9.1' => 'US' ], [ '8.8.8.8' => 'JP' ],    # extra wins over US
        [ '8.8.7.255' => undef ], [ '8.8.10.0' => undef ],
        [ '2001:220::1' => 'KR' ], [ '2001:4860::1' => 'US' ],
        [ '2001:4860:4860::8888' => 'JP' ], [ '2001:4400::1' => 'AU' ],
        [ '175.45.176.1' => 'KP' ], [ '8.8.4.4' => 'US' ], [ '1.0.8.1' => 'CN' ],
        [ '1.0.0.1' => undef ],
    );
    my $r = parse_report( $res->{stdout} );
    is_deeply [ sort keys %{ $r->{countries} } ], [qw(AU CN JP KP KR US)], 'countries reported';
    is $r->{countries}{US}{'ipv4-addresses'}, 512 + 256, 'US addresses';
    is $r->{countries}{KR}{'ipv6-prefixes'}, 1, 'KR ipv6 prefixes';
    is $r->{input}{ $FIX{'delegated-sample.txt'} }{'records skipped'}{filtered}, 0,
        'nothing filtered';
};

subtest '--countries jp,kr (lower case)' => sub {
    my $db  = "$TMP/jpkr.mmdb";
    my $res = run_build( '-c', 'jp,kr', '-i', $FIX{'delegated-sample.txt'}, '-o', $db );
    is $res->{status}, 0, 'exit 0' or diag $res->{stderr};
    my $r = MaxMind::DB::Reader->new( file => $db );
    lookups_ok( $r, 'jp,kr', [ '1.11.0.1' => 'KR' ], [ '1.0.16.1' => 'JP' ],
        [ '8.8.8.8' => undef ], [ '2001:220::1' => 'KR' ] );
    like $res->{stdout}, qr/^  KR: ipv4-ranges=1 ipv4-addresses=65536 ipv6-prefixes=1 /m,
        'KR reported';
};

subtest 'extra without country uses the first --countries entry' => sub {
    my $db  = "$TMP/kr-first.mmdb";
    my $res = run_build( '-c', 'KR,JP', '-i', $FIX{'delegated-sample.txt'},
        '-e', $FIX{'extra.txt'}, '-o', $db );
    is $res->{status}, 0, 'exit 0' or diag $res->{stderr};
    my $r = MaxMind::DB::Reader->new( file => $db );
    lookups_ok( $r, 'default KR', [ '45.76.0.1' => 'KR' ], [ '45.77.1.1' => 'KR' ],
        [ '8.8.8.8' => 'JP' ] );
};

subtest 'invalid country codes are usage errors' => sub {
    for my $bad ( 'JPN', 'J1', '1', 'xx,?' ) {
        my $res = run_build( '-c', $bad, '-i', $FIX{'delegated-sample.txt'},
            '-o', "$TMP/never.mmdb" );
        is $res->{status}, 2, "--countries '$bad': exit 2";
        like $res->{stderr}, qr/invalid country code/, '... with a message';
    }
    ok !-e "$TMP/never.mmdb", 'nothing written';
};

# ---------------------------------------------------------------------------
# 4. Malformed input
# ---------------------------------------------------------------------------

subtest 'malformed lines are reported with line numbers' => sub {
    my $db  = "$TMP/bad.mmdb";
    my $res = run_build( '-i', $FIX{'delegated-bad.txt'}, '-o', $db );
    is $res->{status}, 0, 'exit 0 without --strict' or diag $res->{stderr};
    my @lines = $res->{stderr} =~ /delegated-bad\.txt:(\d+): malformed: /g;
    is_deeply \@lines, [ 5 .. 15 ], 'lines 5-15 reported, in order';
    like $res->{stderr}, qr/:5: malformed: invalid IPv4 start address '1\.0\.300\.0'/, 'bad address';
    like $res->{stderr}, qr/:6: malformed: IPv4 address count is 0/,             'count 0';
    like $res->{stderr}, qr/:7: malformed: .*runs past 255\.255\.255\.255/,        'overflow';
    like $res->{stderr}, qr/:8: malformed: invalid IPv6 prefix length '129'/,     'prefix > 128';
    like $res->{stderr}, qr/:9: malformed: unknown type 'ipx'/,                  'unknown type';
    like $res->{stderr}, qr/:10: malformed: expected at least 7 .*found 5/,       'field count';
    my $r = parse_report( $res->{stdout} );
    my $s = $r->{input}{ $FIX{'delegated-bad.txt'} };
    is $s->{malformed}, 11, 'report: 11 malformed';
    is $s->{'records kept'}, 2, 'report: 2 kept';
    my $rd = MaxMind::DB::Reader->new( file => $db );
    lookups_ok( $rd, 'good lines kept', [ '1.0.16.1' => 'JP' ], [ '1.0.64.1' => 'JP' ],
        [ '1.0.32.1' => undef ], [ '1.0.33.1' => undef ] );

    my $strict_db = "$TMP/strict.mmdb";
    $res = run_build( '--strict', '-i', $FIX{'delegated-bad.txt'}, '-o', $strict_db );
    is $res->{status}, 1, '--strict: exit 1';
    like $res->{stderr}, qr/11 malformed line\(s\) and --strict/, '--strict: says why';
    ok !-e $strict_db, '--strict: nothing written';

    $res = run_build( '--strict', '-i', $FIX{'delegated-sample.txt'}, '-o', $strict_db );
    is $res->{status}, 0, '--strict on clean input: exit 0';
};

subtest 'errors and usage' => sub {
    my $res = run_build( '-i', $FIX{'delegated-sample.txt'} );
    is $res->{status}, 2, 'no --output: exit 2';
    like $res->{stderr}, qr/--output is required/, '... message';

    $res = run_build( '-o', "$TMP/x.mmdb" );
    is $res->{status}, 2, 'no input: exit 2';

    $res = run_build( '--bogus', '-i', $FIX{'delegated-sample.txt'}, '-o', "$TMP/x.mmdb" );
    is $res->{status}, 2, 'unknown option: exit 2';

    $res = run_build( '-f', 'json', '-i', $FIX{'delegated-sample.txt'}, '-o', "$TMP/x.mmdb" );
    is $res->{status}, 2, 'bad --format: exit 2';

    $res = run_build( $FIX{'delegated-sample.txt'}, '-o', "$TMP/x.mmdb" );
    is $res->{status}, 2, 'stray argument: exit 2';

    $res = run_build('--help');
    is $res->{status}, 0, '--help: exit 0';
    like $res->{stdout}, qr/--countries.*--keep-reserved/s, '--help: prints the options';

    $res = run_build( '-i', "$TMP/does-not-exist", '-o', "$TMP/x.mmdb" );
    is $res->{status}, 1, 'missing input: exit 1';
    like $res->{stderr}, qr/cannot open .*does-not-exist/, '... message';

    $res = run_build( '-i', $FIX{'delegated-sample.txt'}, '-o', "$TMP/no/such/dir/x.mmdb" );
    is $res->{status}, 1, 'missing output directory: exit 1';

    $res = run_build( '-c', 'FR', '-i', $FIX{'delegated-sample.txt'}, '-o', "$TMP/x.mmdb" );
    is $res->{status}, 1, 'nothing to write: exit 1';
    like $res->{stderr}, qr/no networks to write/, '... message';
    ok !-e "$TMP/x.mmdb", 'nothing written';

    $res = run_build( '-f', 'csv', '-i', $FIX{'delegated-sample.txt'}, '-o', "$TMP/x.mmdb" );
    is $res->{status}, 1, '--format csv on a delegated file: nothing kept, exit 1';
    like $res->{stderr}, qr/delegated-sample\.txt:18: malformed: expected 3 comma-separated fields/, '... lines reported';

    $res = run_build( '-q', '-i', $FIX{'delegated-sample.txt'}, '-o', "$TMP/q.mmdb" );
    is $res->{status}, 0,  '--quiet: exit 0';
    is $res->{stdout}, '', '--quiet: no report';
};

# ---------------------------------------------------------------------------
# 5. Reserved networks, exact network count, atomic replacement
# ---------------------------------------------------------------------------

subtest 'reserved networks are dropped unless --keep-reserved' => sub {
    my $csv = "$TMP/reserved.csv";
    open my $fh, '>', $csv or die $!;
    print {$fh} "192.0.2.0,192.0.2.255,JP\n1.0.16.0,1.0.16.255,JP\n";
    close $fh;
    my $extra = "$TMP/reserved-extra.txt";
    open $fh, '>', $extra or die $!;
    print {$fh} "198.51.100.0/24 JP\n";
    close $fh;

    my $res = run_build( '-i', $csv, '-e', $extra, '-o', "$TMP/r1.mmdb" );
    is $res->{status}, 0, 'default: exit 0' or diag $res->{stderr};
    like $res->{stderr}, qr/reserved-extra\.txt:1: 198\.51\.100\.0\/24 is not in the output/,
        'default: dropped extra entry is reported';
    my $r1 = MaxMind::DB::Reader->new( file => "$TMP/r1.mmdb" );
    lookups_ok( $r1, 'default', [ '192.0.2.1' => undef ], [ '198.51.100.1' => undef ],
        [ '1.0.16.1' => 'JP' ] );

    $res = run_build( '--keep-reserved', '-i', $csv, '-e', $extra, '-o', "$TMP/r2.mmdb" );
    is $res->{status}, 0, '--keep-reserved: exit 0';
    is $res->{stderr}, '', '--keep-reserved: no warning';
    my $r2 = MaxMind::DB::Reader->new( file => "$TMP/r2.mmdb" );
    lookups_ok( $r2, '--keep-reserved', [ '192.0.2.1' => 'JP' ], [ '198.51.100.1' => 'JP' ] );
};

subtest 'records the MMDB writer refuses count as malformed' => sub {
    my $csv = "$TMP/aliased.csv";
    open my $fh, '>', $csv or die $!;
    print {$fh} "2002::,2002::ff,JP\n1.0.16.0,1.0.16.255,JP\n";
    close $fh;
    my $res = run_build( '-i', $csv, '-o', "$TMP/aliased.mmdb" );
    is $res->{status}, 0, 'exit 0';
    like $res->{stderr},
        qr/\A\Q$csv\E:1: rejected by the MMDB writer: Attempted to insert into an aliased network[^\n]*\)\n\z/,
        'reported with file:line, without Perl\'s location suffix';
    my $s = parse_report( $res->{stdout} )->{input}{$csv};
    is $s->{malformed}, 1, 'counted as malformed';
    is $s->{'records kept'}, 1, 'the other record is kept';

    my $empty = "$TMP/empty.txt";
    open $fh, '>', $empty or die $!;
    close $fh;
    $res = run_build( '-i', $empty, '-o', "$TMP/empty.mmdb" );
    is $res->{status}, 1, 'empty input: exit 1';
    like $res->{stderr}, qr/cannot tell its format/, '... format cannot be detected';
};

subtest 'networks written: minimal CIDR blocks' => sub {
    # 1.0.16.0/24 is one block; 27.120.0.0 + 768 is /23 + /24.
    my $csv = "$TMP/blocks.csv";
    open my $fh, '>', $csv or die $!;
    print {$fh} "1.0.16.0,1.0.16.255,JP\n27.120.0.0,27.120.2.255,JP\n";
    close $fh;
    my $res = run_build( '-i', $csv, '-o', "$TMP/blocks.mmdb" );
    is $res->{status}, 0, 'exit 0';
    is parse_report( $res->{stdout} )->{networks}, 3, '3 networks written';
};

subtest 'output is replaced atomically' => sub {
    my $dir = tempdir( DIR => $TMP );
    my $db  = "$dir/country.mmdb";
    open my $fh, '>', $db or die $!;
    print {$fh} "old contents\n";
    close $fh;
    my $old_inode = ( stat $db )[1];
    my $res = run_build( '-q', '-i', $FIX{'delegated-sample.txt'}, '-o', $db );
    is $res->{status}, 0, 'exit 0';
    isnt( ( stat $db )[1], $old_inode, 'a new file was renamed into place' );
    ok eval { MaxMind::DB::Reader->new( file => $db ) }, 'the new file is a database';
    opendir my $dh, $dir or die $!;
    is_deeply [ sort grep { !/\A\.\.?\z/ } readdir $dh ], ['country.mmdb'],
        'no temporary file left behind';

    # A failed build leaves the old database alone.
    my $before = slurp($db);
    $res = run_build( '--strict', '-q', '-i', $FIX{'delegated-bad.txt'}, '-o', $db );
    is $res->{status}, 1, 'failing build: exit 1';
    is slurp($db), $before, 'failing build: old database untouched';
};

# ---------------------------------------------------------------------------
# 6. The real APNIC file, when it is there (the repository does not ship it)
# ---------------------------------------------------------------------------

my ($apnic) = grep { -f }
    ( $ENV{SEKISHO_APNIC_DELEGATED} // (),
    File::Spec->catfile( $ROOT, File::Spec->updir, 'shared', 'data',
        'delegated-apnic-20190912.txt' ) );

SKIP: {
    skip 'no delegated-apnic-20190912.txt next to the repository', 1 unless $apnic;

    subtest 'real APNIC delegated file' => sub {
        # Find the first JP IPv4 and IPv6 and the first CN IPv4 records
        # independently of the script.
        my ( $jp4, $jp6, $cn4 );
        open my $fh, '<', $apnic or die "$apnic: $!";
        while (<$fh>) {
            my @f = split /\|/;
            next unless @f >= 7 && $f[1] =~ /\A[A-Z]{2}\z/;
            $jp4 //= $f[3] if $f[1] eq 'JP' && $f[2] eq 'ipv4';
            $jp6 //= $f[3] if $f[1] eq 'JP' && $f[2] eq 'ipv6';
            $cn4 //= $f[3] if $f[1] eq 'CN' && $f[2] eq 'ipv4';
        }
        close $fh;

        my $db  = "$TMP/apnic-jp.mmdb";
        my $res = run_build( '--strict', '-i', $apnic, '-o', $db );
        is $res->{status}, 0, 'exit 0 with --strict' or diag $res->{stderr};
        my $r = parse_report( $res->{stdout} );
        my $s = $r->{input}{$apnic};
        like $s->{format}, qr/serial 20190912/, 'serial read from the version line';
        is $s->{malformed}, 0, 'no malformed lines';
        is $r->{countries}{JP}{'ipv4-addresses'}, 204338688, 'JP IPv4 addresses';
        is $r->{countries}{JP}{'ipv4-ranges'},    4284,      'JP IPv4 records';
        is $r->{countries}{JP}{'ipv6-prefixes'},  600,       'JP IPv6 records';
        is_deeply [ keys %{ $r->{countries} } ], ['JP'], 'only JP';

        my $rd = MaxMind::DB::Reader->new( file => $db );
        lookups_ok( $rd, 'APNIC', [ $jp4 => 'JP' ], [ $jp6 => 'JP' ], [ $cn4 => undef ],
            [ '133.242.0.1' => 'JP' ], [ '8.8.8.8' => undef ] );
    };
}

done_testing;
