#!/usr/bin/perl
# The C unit tests of the card side (scripts/card/test_*.c), built with
# AddressSanitizer and UBSan by scripts/card/build --unit; each binary's
# TAP becomes a subtest here, so that prove -r t/ runs them.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Sekisho::Test;
use Sekisho::Card;

my $top = Sekisho::Test::top();
my @src = sort glob("$top/scripts/card/test_*.c");

plan skip_all => 'no unit tests in scripts/card' unless @src;

for my $src (@src) {
    my ($name) = $src =~ m{/(test_\w+)\.c$};
    my $bin = "$top/build/card-unit/$name";

    Sekisho::Card::build('--unit', $bin);

    local $ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=0';
    local $ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1';

    my $out = `$bin 2>&1`;
    my $rc = $?;

    subtest $name => sub {
        my ($plan, $n) = (undef, 0);
        for (split /\n/, $out) {
            if (/^(not )?ok \d+ - (.*)$/) {
                ok(!$1, $2);
                $n++;
            } elsif (/^1\.\.(\d+)$/) {
                $plan = $1;
            } elsif (/^#/) {
                diag($_);
            } elsif (/\S/) {
                # a sanitizer report or a crash
                diag($_);
            }
        }
        is($rc, 0, "$name exits 0");
        is($n, $plan, "$name ran its whole plan");
    };
}

done_testing();
