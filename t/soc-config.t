#!/usr/bin/perl

# Audit, alert and metrics configuration mistakes make "nginx -t" fail
# and name what is wrong.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $t = Sekisho::Test->new;
my $d = $t->dir;

$t->write_file('good.key', "0123456789abcdef0123\n");
$t->write_file('other.key', "fedcba98765432100123\n");
$t->write_file('short.key', "0123\n");
chmod 0600, map { "$d/$_" } qw(good.key other.key short.key);

# the parts given go into a location
sub check {
    my ($http, $loc) = @_;
    return $t->try_config($http, "location / { $loc return 200; }");
}

my ($rc, $out) = check("sekisho_redis 127.0.0.1:6399;
       sekisho_audit_log $d/audit.log key=$d/good.key events=all;
       sekisho_alert syslog:server=127.0.0.1:5514,facility=local4,tag=gw1;
       sekisho_alert redis stream=soc maxlen=50;
       sekisho_alert_foreign_burst 20 30s;",
      "sekisho_metrics;");
is($rc, 0, 'a good configuration passes nginx -t') or diag($out);

$t->write_file('damaged.state', "sekisho-audit-state 1\nepoch x\n");
chmod 0600, "$d/damaged.state";
($rc, $out) = check("sekisho_audit_log $d/audit.log key=$d/good.key
       state=$d/audit.state epoch=1m anchor=30s;", "");
is($rc, 0, 'epochs and anchors pass nginx -t') or diag($out);
ok(!-e "$d/audit.state", 'nginx -t writes no state file');

$t->config_errors(\&check,
    [ "sekisho_audit_log $d/a.log events=some;", '',
        qr/invalid parameter "events=some" in "sekisho_audit_log"/,
        'unknown events' ],
    [ "sekisho_audit_log $d/a.log key=$d/short.key;", '',
        qr/secret file ".*short\.key" must hold at least 16 bytes/,
        'audit key too short' ],
    [ "sekisho_audit_log $d/a.log key=$d/none.key;", '',
        qr/cannot read secret file ".*none\.key"/, 'audit key missing' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key;",
      "sekisho_audit_log $d/a.log key=$d/other.key;",
        qr/"sekisho_audit_log" ".*a\.log" is used with another key elsewhere/,
        'one file, two keys' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key epoch=1m;", '',
        qr/"sekisho_audit_log" ".*a\.log": epoch= needs state=/,
        'epochs without a state file' ],
    [ "sekisho_audit_log $d/a.log state=$d/none.state;", '',
        qr/audit state file ".*none\.state" does not exist and no key= gives the initial key/,
        'no state and no initial key' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key state=$d/nodir/a.state;", '',
        qr/the directory of audit state file ".*nodir\/a\.state" is missing/,
        'the state file in a missing directory' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key state=$d/damaged.state;", '',
        qr/audit state file ".*damaged\.state" is damaged or empty/,
        'a damaged state file' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key state=$d/a.state epoch=0;", '',
        qr/invalid parameter "epoch=0" in "sekisho_audit_log"/, 'epoch=0' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key state=$d/a.state anchor=soon;", '',
        qr/invalid parameter "anchor=soon" in "sekisho_audit_log"/, 'a bad anchor=' ],
    [ "sekisho_audit_log $d/a.log key=$d/good.key state=$d/a.state;",
      "sekisho_audit_log $d/a.log key=$d/good.key state=$d/b.state;",
        qr/"sekisho_audit_log" ".*a\.log" is used with another key elsewhere/,
        'one file, two state files' ],
    [ "sekisho_alert syslog:server=;", '',
        qr/invalid parameter "syslog:server=" in "sekisho_alert"/,
        'empty syslog server' ],
    [ "sekisho_alert syslog:server=127.0.0.1:99999;", '',
        qr/invalid syslog server "127\.0\.0\.1:99999" in "sekisho_alert"/,
        'bad syslog port' ],
    [ "sekisho_alert syslog:server=127.0.0.1,facility=kitchen;", '',
        qr/invalid parameter "syslog:server=127\.0\.0\.1,facility=kitchen"/,
        'unknown facility' ],
    [ "sekisho_alert smtp:server=127.0.0.1;", '',
        qr/invalid parameter "smtp:server=127\.0\.0\.1" in "sekisho_alert"/,
        'unknown sink' ],
    [ "sekisho_alert redis;", '',
        qr/"sekisho_alert redis" requires "sekisho_redis" before it/,
        'stream without Redis' ],
    [ "sekisho_redis 127.0.0.1:6399; sekisho_alert redis maxlen=0;", '',
        qr/invalid parameter "maxlen=0" in "sekisho_alert"/, 'zero maxlen' ],
    [ "sekisho_alert_foreign_burst 0 1m;", '',
        qr/invalid value "0 1m" in "sekisho_alert_foreign_burst" directive/,
        'zero burst count' ],
    [ "sekisho_alert_foreign_burst 10 soon;", '',
        qr/invalid value "10 soon" in "sekisho_alert_foreign_burst"/,
        'bad burst window' ],
    [ "sekisho_metrics;", '',
        qr/"sekisho_metrics" directive is not allowed here/,
        'metrics outside a location' ],
);

$t->done;
