#!/usr/bin/perl

# Configuration mistakes make "nginx -t" fail and name what is wrong.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;

my $good = $t->mmdb('good.mmdb', { '192.0.2.0/24' => 'JP' });

# a database whose records carry no country code anywhere
$t->mmdb('nocountry.mmdb', { '192.0.2.0/24' => { city => 'Tokyo' } },
    layout => 'none', types => { city => 'utf8_string' });

$t->write_file('garbage.mmdb', "this is not a MaxMind database\n" x 100);

# a real database cut in half: its metadata section is gone
my $bytes = $t->read_file($good);
$t->write_file('truncated.mmdb', substr($bytes, 0, int(length($bytes) / 2)));

# a real database with its search tree overwritten
my $broken = $bytes;
substr($broken, 0, 64) = "\xff" x 64;
$t->write_file('corrupt-tree.mmdb', $broken);

$t->write_file('empty.mmdb', '');

sub check { $t->try_config(@_) }

my ($rc, $out);

($rc, $out) = check("sekisho_geoip_db %%TESTDIR%%/good.mmdb;", 'sekisho on;');
is($rc, 0, 'a good database passes nginx -t') or diag($out);

my $d = $t->dir;

for my $case (
    [ 'missing.mmdb',      qr/open\(\) failed/,        'missing file' ],
    [ 'garbage.mmdb',      qr/not a valid MaxMind DB/, 'garbage file' ],
    [ 'truncated.mmdb',    qr/not a valid MaxMind DB/, 'truncated file' ],
    [ 'corrupt-tree.mmdb', qr/search tree|data record|MaxMind/,
                                                       'corrupt search tree' ],
    [ 'empty.mmdb',        qr/not a regular non-empty file/, 'empty file' ],
    [ 'nocountry.mmdb',    qr/no record has a two-letter country code/,
                                                       'no country data' ],
) {
    my ($file, $why, $name) = @$case;
    ($rc, $out) = check("sekisho_geoip_db %%TESTDIR%%/$file;", 'sekisho on;');
    isnt($rc, 0, "$name: nginx -t fails");
    like($out, qr/\[emerg\].*"sekisho_geoip_db" cannot use "\Q$d\E\/$file"/,
        "$name: the message names the directive and the file");
    like($out, $why, "$name: the message says why");
}

my @bad = (
    [ '', 'sekisho on;',
        qr/"sekisho on" requires "sekisho_geoip_db"/, 'gate without database' ],
    [ "sekisho_geoip_db $good reload=soon;", '',
        qr/invalid parameter "reload=soon" in "sekisho_geoip_db"/,
        'bad reload time' ],
    [ "sekisho_geoip_db $good path=country..iso_code;", '',
        qr/invalid lookup path "path=country\.\.iso_code"/, 'bad lookup path' ],
    [ "sekisho_geoip_db $good path=registered_country.iso_code;", '',
        qr/no record has a two-letter country code at the configured path/,
        'lookup path absent from the database' ],
    [ "sekisho_geoip_db $good cache=on;", '',
        qr/invalid parameter "cache=on"/, 'unknown parameter' ],
    [ "sekisho_geoip_db $good; sekisho_geoip_db $good;", '',
        qr/"sekisho_geoip_db" directive is duplicate/, 'duplicate database' ],
    [ "sekisho_geoip_db $good;", 'sekisho_geo_countries JPN;',
        qr/invalid country code "JPN" in "sekisho_geo_countries"/,
        'three-letter country code' ],
    [ "sekisho_geoip_db $good;", 'sekisho_geo_countries J1;',
        qr/invalid country code "J1"/, 'country code with a digit' ],
    [ "sekisho_geoip_db $good;", 'sekisho_geo_allow 192.0.2.0/33;',
        qr/invalid address or network "192\.0\.2\.0\/33" in "sekisho_geo_allow"/,
        'bad allow network' ],
    [ "sekisho_geoip_db $good;", 'sekisho_geo_deny tokyo;',
        qr/invalid address or network "tokyo" in "sekisho_geo_deny"/,
        'bad deny address' ],
    [ "sekisho_geoip_db $good;", 'sekisho_geo_unknown maybe;',
        qr/invalid value "maybe" in "sekisho_geo_unknown"/,
        'bad unknown policy' ],
    [ "sekisho_geoip_db $good;", 'sekisho_geo_dry_run yes;',
        qr/invalid value "yes" in "sekisho_geo_dry_run"/, 'bad dry run flag' ],
    [ '', "sekisho_geoip_db $good;",
        qr/"sekisho_geoip_db" directive is not allowed here/,
        'database inside a server block' ],
);

$t->config_errors(\&check, @bad);

($rc, $out) = check("sekisho_geoip_db $good reload=off;",
    'sekisho on; sekisho_geo_allow 192.0.2.1/24;');
is($rc, 0, 'host bits in a network only warn');
like($out, qr/\[warn\].*low address bits of 192\.0\.2\.1\/24 are meaningless/,
    'host bits warning names the network');

$t->done;
