#!/usr/bin/perl

# The shape of src/ (docs/ARCHITECTURE.md), checked on what the compiler
# made of it: which file of the module calls which, read from the
# symbols of the object files of the build under test.  No two files
# reach each other in a loop, however long; no call is left unresolved;
# each file stays readable in one sitting.  A failure names the loop
# and the functions that make it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Sekisho::Test;

my $top = Sekisho::Test::top();
my $asan = $ENV{SEKISHO_ASAN};
my $objs = $asan ? "$top/build/asan/objs/addon/src" : "$top/build/objs/addon/src";
my $so = $asan ? "$top/build/asan/ngx_http_sekisho_module.so"
               : "$top/build/ngx_http_sekisho_module.so";

# the longest a file of src/ may grow (docs/ARCHITECTURE.md)
my $MAX_LINES = 1200;

my @c = sort glob "$top/src/ngx_http_sekisho_*.c";
ok(@c > 10, 'the sources of the module are found') or BAIL_OUT('no src/');

# every source is built: the object files are the build's own
my @o = map { my $n = $_; $n =~ s{.*/}{}; $n =~ s/\.c$/.o/; "$objs/$n" } @c;
my @missing = grep { !-f } @o;
is("@missing", '', 'every source of src/ has its object in the build')
    or BAIL_OUT("build the module first (scripts/build)");

# who defines and who uses each global symbol
my (%def, %use);
for my $o (@o) {
    my ($f) = $o =~ m{ngx_http_sekisho_(\w+)\.o$};
    open my $nm, '-|', 'nm', $o or die "nm: $!";
    while (<$nm>) {
        my ($type, $sym) = /^\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$/ or next;
        if ($type eq 'U') {
            $use{$f}{$sym} = 1;
        } elsif ($type =~ /[TDBRC]/) {
            $def{$sym} = $f;
        }
    }
    close $nm;
}

my %edge;
for my $f (keys %use) {
    for my $sym (keys %{ $use{$f} }) {
        my $g = $def{$sym};
        next if !defined $g || $g eq $f;
        push @{ $edge{$f}{$g} }, $sym =~ s/^ngx_http_sekisho_//r;
    }
}

ok(scalar(keys %edge) > 10, 'the files call one another (the graph is read)');

# strongly connected components (Tarjan): a component of more than one
# file is a loop
my ($n, %idx, %low, @stack, %on, @loops) = (0);
my $visit;
$visit = sub {
    my ($v) = @_;
    $idx{$v} = $low{$v} = $n++;
    push @stack, $v;
    $on{$v} = 1;
    for my $w (sort keys %{ $edge{$v} || {} }) {
        if (!defined $idx{$w}) {
            $visit->($w);
            $low{$v} = $low{$w} if $low{$w} < $low{$v};
        } elsif ($on{$w}) {
            $low{$v} = $idx{$w} if $idx{$w} < $low{$v};
        }
    }
    if ($low{$v} == $idx{$v}) {
        my @comp;
        while (1) {
            my $w = pop @stack;
            $on{$w} = 0;
            push @comp, $w;
            last if $w eq $v;
        }
        push @loops, [sort @comp] if @comp > 1;
    }
};
$visit->($_) for grep { !defined $idx{$_} } sort keys %edge;

my @why;
for my $loop (@loops) {
    my %in = map { $_ => 1 } @$loop;
    for my $f (@$loop) {
        for my $g (sort grep { $in{$_} } keys %{ $edge{$f} || {} }) {
            push @why, "  $f -> $g: @{ $edge{$f}{$g} }";
        }
    }
}
is(scalar @loops, 0, 'no two files of src/ call each other in a loop')
    or diag(join "\n", 'loops: ' . join('; ', map { "@$_" } @loops), @why);

# the module itself (top) is called by no one; the ground floor calls no one
# of the module but the configuration's index
ok(!grep({ $edge{$_}{module} } keys %edge), 'no file calls into module.c');
is(join(' ', sort keys %{ $edge{ctx} || {} }), 'conf',
   'the request record (ctx.c) uses only the configuration index');
is(join(' ', sort keys %{ $edge{text} || {} }), '',
   'the pure helpers (text.c) use no other file');

# a call left unresolved would only fail when nginx loads the module
open my $nm, '-|', 'nm', '-u', $so or die "nm: $!";
my @undef = grep { /ngx_http_sekisho_/ } map { (split)[-1] } <$nm>;
close $nm;
is("@undef", '', 'the module resolves every call of its own');

# readable in one sitting
my @long;
for my $f (@c) {
    open my $fh, '<', $f or die "$f: $!";
    my $lines = () = <$fh>;
    push @long, ($f =~ s{.*/}{}r) . " ($lines lines)" if $lines > $MAX_LINES;
}
is("@long", '', "no file of src/ over $MAX_LINES lines");

# each file of src/ is built: config names every source and header
my $config = Sekisho::Test->read_file("$top/config");
my @unlisted = grep { my $b = $_ =~ s{.*/}{}r; index($config, "src/$b") < 0 }
               (@c, glob "$top/src/ngx_http_sekisho_*.h");
is("@unlisted", '', 'config lists every file of src/');

done_testing;
