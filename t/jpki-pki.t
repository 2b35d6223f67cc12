#!/usr/bin/perl
# Tests scripts/test/jpki-test-pki: the TEST JPKI-shaped authority must
# mirror the JPKI certificate profiles (docs: JPKI.md section 3) and never
# claim to be the real JPKI.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use File::Spec;
use Encode qw(decode);
use Time::Piece;
use FindBin;
use lib "$FindBin::Bin/lib";
use Sekisho::JPKI qw(crl_time);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $root   = File::Spec->rel2abs("$FindBin::Bin/..");
my $script = "$root/scripts/test/jpki-test-pki";

plan skip_all => 'openssl not available'
    unless system('openssl version >/dev/null 2>&1') == 0;

ok(-x $script, 'scripts/test/jpki-test-pki is executable');

my $tmp = tempdir('jpki-pki-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $dir = "$tmp/pki";

# run a command (list form, no shell), return (exit code, stdout+stderr)
sub run {
    my @cmd = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT) or die;
        exec(@cmd) or exit 127;
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}
sub out_of { my (undef, $o) = run(@_); return $o }

my ($rc, $out) = run($script, $dir);
is($rc, 0, 'script exits 0') or diag($out);
like($out, qr/made auth-ca\.pem/, 'script prints what it made');
like($out, qr/made alice-sign\.pem/, 'script prints leaf certificates it made');

my @people = qw(alice bob revoked expired);
my @certs  = ((map { ("$_-auth", "$_-sign") } @people), 'carol-auth');
my @cas    = qw(auth-ca auth-ca-2 sign-ca);
my @crls   = qw(auth-ca.crl.pem sign-ca.crl.pem auth-ca-2.crl.pem auth-ca-stale.crl.pem);

for my $f ((map { ("$_.pem", "$_.key") } @cas, @certs), @crls,
           'bundle-auth-ca.pem', 'README') {
    ok(-s "$dir/$f", "$f exists and is not empty");
}
for my $k (map {"$_.key"} @cas, @certs) {
    my $mode = (stat "$dir/$k")[2] & 07777;
    is(sprintf('%04o', $mode), '0600', "$k has mode 0600");
    my ($krc, $kout) = run(qw(openssl pkey -noout -text -passin pass:), '-in', "$dir/$k");
    is($krc, 0, "$k is an unencrypted private key");
    like($kout, qr/Private-Key: \(2048 bit/, "$k is RSA-2048");
}

# refuses a non-empty outdir without --force
{
    my $before = -M "$dir/auth-ca.pem";
    my ($r2, $o2) = run($script, $dir);
    isnt($r2, 0, 'script refuses a non-empty outdir');
    like($o2, qr/--force/, 'refusal mentions --force');
    is(-M "$dir/auth-ca.pem", $before, 'refusal leaves files alone');
}

# README
{
    open my $fh, '<:encoding(UTF-8)', "$dir/README" or die;
    local $/; my $readme = <$fh>;
    like($readme, qr/TEST AUTHORITY/i, 'README says TEST authority');
    like($readme, qr/NOT the real JPKI/i, 'README says not the real JPKI');
    for my $f ((map {"$_.pem"} @cas, @certs), @crls, 'bundle-auth-ca.pem') {
        (my $stem = $f) =~ s{\.\w+$}{};
        like($readme, qr/\Q$f\E|\Q$stem\E\.\*/, "README lists $f");
    }
}

# ---- helpers on openssl text output
sub text { out_of(qw(openssl x509 -noout -text -nameopt), 'utf8', '-in', "$dir/$_[0]") }
sub x509_text { out_of(qw(openssl x509 -noout -text -in), "$dir/$_[0]") }
sub ext_block {    # lines under "X509v3 <name>:" up to the next extension header
    my ($t, $name) = @_;
    return undef unless $t =~ /^(\s*)X509v3 \Q$name\E:( critical)?\s*\n((?:\1\s+.*\n)*)/m;
    my ($crit, $body) = ($2 ? 1 : 0, $3);
    $body =~ s/^\s+|\s+$//g;
    $body =~ s/\s*\n\s*/\n/g;
    return { critical => $crit, body => $body };
}
sub unescape_utf8 {    # X509_NAME_oneline escapes non-ASCII bytes as \xHH
    my $s = shift;
    $s =~ s/\\x([0-9A-Fa-f]{2})/chr hex $1/ge;
    return decode('UTF-8', $s, Encode::FB_CROAK);
}
sub field { my ($t, $re) = @_; return $t =~ $re ? $1 : undef }
sub keyid { my ($t, $name) = @_; my $b = ext_block($t, $name) or return undef; (my $v = $b->{body}) =~ s/^keyid://; return $v }
# parse one extension's DER with asn1parse; returns list of [type, value]
sub ext_asn1 {
    my ($file, $extname) = @_;
    my $p = out_of(qw(openssl asn1parse -in), "$dir/$file");
    $p =~ /:\Q$extname\E\s*\n(?:.*BOOLEAN.*\n)?\s*(\d+):d=\d+\s+hl=\d+\s+l=\s*\d+ prim: OCTET STRING/ or return ();
    my $off = $1;
    my $raw = out_of(qw(openssl asn1parse -in), "$dir/$file", '-strparse', $off);
    $raw = decode('UTF-8', $raw);
    my @r;
    for (split /\n/, $raw) {
        push @r, [$1, $2 // ''] if /prim: (\S+)\s*(?::(.*))?$/;
    }
    return @r;
}

my $JLIS = '公的個人認証サービス TEST';
my $MARK = 'Sekisho test authority - not the real JPKI';
my %ca_dn = (
    'auth-ca'   => "C=JP, O=JPKI TEST, OU=JPKI for user authentication, OU=$MARK",
    'auth-ca-2' => "C=JP, O=JPKI TEST, OU=JPKI for user authentication, OU=$MARK",
    'sign-ca'   => "C=JP, O=JPKI TEST, OU=JPKI for digital signature, OU=$MARK",
);

my (%ski, %text);
for my $ca (@cas) {
    my $t = $text{$ca} = x509_text("$ca.pem");
    my $u = text("$ca.pem");
    like($t, qr/Signature Algorithm: sha256WithRSAEncryption/, "$ca: sha256WithRSAEncryption");
    like($t, qr/Public Key Algorithm: rsaEncryption\s*\n\s*Public-Key: \(2048 bit\)/, "$ca: RSA-2048");
    like($t, qr/Exponent: 65537 /, "$ca: e=65537");
    is(field($u, qr/^\s*Subject: (.*)$/m), $ca_dn{$ca}, "$ca: subject DN has JPKI shape + TEST marker");
    is(field($u, qr/^\s*Issuer: (.*)$/m), $ca_dn{$ca}, "$ca: self-issued");
    like(field($u, qr/^\s*Subject: (.*)$/m) // '', qr/TEST/, "$ca: DN visibly says TEST");
    my $bc = ext_block($t, 'Basic Constraints');
    ok($bc && $bc->{critical}, "$ca: BasicConstraints critical");
    is($bc && $bc->{body}, 'CA:TRUE', "$ca: CA:TRUE");
    my $ku = ext_block($t, 'Key Usage');
    ok($ku && $ku->{critical}, "$ca: KeyUsage critical");
    is($ku && $ku->{body}, 'Certificate Sign, CRL Sign', "$ca: KeyUsage keyCertSign+cRLSign only");
    $ski{$ca} = keyid($t, 'Subject Key Identifier');
    like($ski{$ca} // '', qr/^(?:[0-9A-F]{2}:){19}[0-9A-F]{2}$/, "$ca: subjectKeyIdentifier present");
    my $san = ext_block($t, 'Subject Alternative Name');
    ok($san, "$ca: has subjectAltName");
    my $dn = $san ? unescape_utf8($san->{body}) : '';
    is($dn, "DirName:/C=JP/O=$JLIS", "$ca: SAN DirName C=JP, O=$JLIS");
    my @a = ext_asn1("$ca.pem", 'X509v3 Subject Alternative Name');
    ok((grep { $_->[0] eq 'UTF8STRING' && $_->[1] eq $JLIS } @a), "$ca: SAN O is a UTF8String");
    ok((grep { $_->[0] eq 'PRINTABLESTRING' && $_->[1] eq 'JP' } @a), "$ca: SAN C is PrintableString JP");
    my $cdp = ext_block($t, 'CRL Distribution Points');
    (my $ou1 = $ca_dn{$ca}) =~ s/.*OU=(JPKI for [^,]+),.*/$1/;
    like($cdp ? $cdp->{body} : '', qr/^Full Name:\nDirName:C = JP, O = JPKI TEST, OU = \Q$ou1\E, OU = \Q$MARK\E, CN = CRL Distribution Point$/,
         "$ca: CRL distribution point is a DirName");
    is(out_of(qw(openssl x509 -checkend 0 -noout -in), "$dir/$ca.pem") =~ /will not expire/ ? 1 : 0, 1, "$ca: currently valid");
}
isnt($ski{'auth-ca'}, $ski{'auth-ca-2'}, 'auth CA generations have different SKIs');
isnt(out_of(qw(openssl x509 -noout -modulus -in), "$dir/auth-ca.pem"),
     out_of(qw(openssl x509 -noout -modulus -in), "$dir/auth-ca-2.pem"), 'auth CA generations have different keys');
is(field(text('auth-ca.pem'), qr/Subject: (.*)/), field(text('auth-ca-2.pem'), qr/Subject: (.*)/), 'auth CA generations share one DN');

# bundle holds both generations, in order
{
    open my $fh, '<', "$dir/bundle-auth-ca.pem" or die; local $/; my $b = <$fh>;
    my @pems = $b =~ /(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)/sg;
    is(scalar @pems, 2, 'bundle has two certificates');
    for my $i (0, 1) {
        open my $c, '<', "$dir/" . (qw(auth-ca.pem auth-ca-2.pem))[$i] or die;
        my $pem = <$c>; $pem =~ s/\s+$//;
        is($pems[$i] // '', $pem, "bundle certificate $i is " . (qw(auth-ca auth-ca-2))[$i]);
    }
}

my %person = (
    alice   => { name => '山田 花子', sex => '2', birth => '319850401', addr => '東京都千代田区霞が関1-1-1' },
    bob     => { name => '鈴木 一郎', sex => '1', birth => '419900515', addr => '大阪府大阪市北区梅田2-2-2' },
    revoked => { name => '佐藤 次郎', sex => '1', birth => '219250310', addr => '北海道札幌市中央区北一条西3-3' },
    expired => { name => '高橋 三郎', sex => '3', birth => '520200229', addr => '福岡県福岡市博多区博多駅前4-4-4' },
);
my $O = '1.2.392.200149.8.5.5';

my (%cn, %serial);
for my $c (@certs) {
    my ($who, $kind) = split /-/, $c;
    my $issuer = $c eq 'carol-auth' ? 'auth-ca-2' : $kind eq 'auth' ? 'auth-ca' : 'sign-ca';
    my $t = x509_text("$c.pem");
    my $u = text("$c.pem");
    like($t, qr/Signature Algorithm: sha256WithRSAEncryption/, "$c: sha256WithRSAEncryption");
    like($t, qr/Public-Key: \(2048 bit\)/, "$c: RSA-2048");
    my $subj = field($u, qr/^\s*Subject: (.*)$/m) // '';
    like($subj, qr/^C=JP, CN=[0-9A-F]{32}$/, "$c: subject is C=JP, CN=<opaque id> only");
    $cn{$c} = ($subj =~ /CN=(\S+)/)[0];
    is(field($u, qr/^\s*Issuer: (.*)$/m), $ca_dn{$issuer}, "$c: issuer is $issuer DN");
    is(keyid($t, 'Authority Key Identifier'), $ski{$issuer}, "$c: AKI equals $issuer SKI");
    $serial{$c} = (out_of(qw(openssl x509 -noout -serial -in), "$dir/$c.pem") =~ /serial=(\w+)/)[0];
    my $ku  = ext_block($t, 'Key Usage');
    ok($ku && $ku->{critical}, "$c: KeyUsage critical");
    my $bc = ext_block($t, 'Basic Constraints');
    ok(!$bc || $bc->{body} eq 'CA:FALSE', "$c: not a CA");
    my $pol = ext_block($t, 'Certificate Policies');
    my $ian = ext_block($t, 'Issuer Alternative Name');
    is($ian ? unescape_utf8($ian->{body}) : '', "DirName:/C=JP/O=$JLIS", "$c: IssuerAltName DirName C=JP, O=$JLIS");
    my @ia = ext_asn1("$c.pem", 'X509v3 Issuer Alternative Name');
    ok((grep { $_->[0] eq 'UTF8STRING' && $_->[1] eq $JLIS } @ia), "$c: IAN O is a UTF8String");
    my $san = ext_block($t, 'Subject Alternative Name');
    if ($kind eq 'auth') {
        is($ku && $ku->{body}, 'Digital Signature', "$c: KeyUsage digitalSignature only");
        is($pol && $pol->{body}, 'Policy: 1.2.392.200149.8.5.1.3.30', "$c: auth policy OID");
        ok(!$san, "$c: no subjectAltName (no name or address)");
        unlike(decode('UTF-8', $t), qr/\Q$O\E/, "$c: no JPKI personal-data otherNames");
    } else {
        is($ku && $ku->{body}, 'Digital Signature, Non Repudiation', "$c: KeyUsage digitalSignature+nonRepudiation");
        is($pol && $pol->{body}, 'Policy: 1.2.392.200149.8.5.1.1.20', "$c: sign policy OID");
        ok($san, "$c: has subjectAltName");
        my $body = $san ? decode('UTF-8', $san->{body}) : '';
        # "OID::value" up to OpenSSL 3.0, "OID:value" in 3.5
        my %on = $body =~ /othername: ([\d.]+)::?(.*?)(?=, othername: |$)/g;
        my $p = $person{$who};
        my %want = ("$O.1" => $p->{name}, "$O.2" => '', "$O.3" => $p->{sex},
                    "$O.4" => $p->{birth}, "$O.5" => $p->{addr}, "$O.6" => '');
        is_deeply(\%on, \%want, "$c: otherName OIDs and decoded values");
        like($p->{birth}, qr/^[0-5]\d{8}$/, "$c: birth date is EYYYYMMDD");
        # each otherName value is a UTF8String ([0] EXPLICIT)
        my @a = ext_asn1("$c.pem", 'X509v3 Subject Alternative Name');
        my @pairs;
        for my $i (0 .. $#a - 1) {
            push @pairs, [$a[$i][1], $a[$i + 1]] if $a[$i][0] eq 'OBJECT';
        }
        is(scalar @pairs, 6, "$c: six otherName entries");
        for my $pr (@pairs) {
            my ($oid, $v) = @$pr;
            is($v->[0], 'UTF8STRING', "$c: $oid value is UTF8String");
            is($v->[1], $want{$oid}, "$c: $oid DER value");
        }
    }
    my $live = out_of(qw(openssl x509 -checkend 0 -noout -in), "$dir/$c.pem") =~ /will not expire/ ? 1 : 0;
    is($live, $who eq 'expired' ? 0 : 1, "$c: " . ($who eq 'expired' ? 'validity entirely in the past' : 'currently valid'));
    if ($who eq 'expired') {
        my $nb = field($t, qr/Not Before: (.*)$/m);
        my $na = field($t, qr/Not After : (.*)$/m);
        my $when = sub { my $s = shift // ''; $s =~ s/\s+GMT$//; $s =~ s/\s+/ /g; Time::Piece->strptime($s, '%b %d %H:%M:%S %Y')->epoch };
        ok($when->($nb) < $when->($na) && $when->($na) < time, "$c: notBefore < notAfter < now");
    }
}
my %seen; $seen{$_}++ for values %cn;
is(scalar keys %seen, scalar @certs, 'every certificate has a distinct opaque CN');

# ---- CRLs
sub crl_text { out_of(qw(openssl crl -noout -text -in), "$dir/$_[0]") }
my %crl_ca = ('auth-ca.crl.pem' => 'auth-ca', 'sign-ca.crl.pem' => 'sign-ca',
              'auth-ca-2.crl.pem' => 'auth-ca-2', 'auth-ca-stale.crl.pem' => 'auth-ca');
for my $crl (@crls) {
    my $ca = $crl_ca{$crl};
    like(out_of(qw(openssl crl -noout -CAfile), "$dir/$ca.pem", '-in', "$dir/$crl"), qr/verify OK/, "$crl: signed by $ca");
    my $t = crl_text($crl);
    like($t, qr/Signature Algorithm: sha256WithRSAEncryption/, "$crl: sha256WithRSAEncryption");
    is(keyid($t, 'Authority Key Identifier'), $ski{$ca}, "$crl: AKI equals $ca SKI");
    if ($crl eq 'auth-ca-stale.crl.pem') {
        ok(crl_time("$dir/$crl", 'nextupdate') < time, "$crl: nextUpdate in the past");
    } else {
        ok(crl_time("$dir/$crl", 'nextupdate') > time, "$crl: nextUpdate in the future");
    }
    my @rev = $t =~ /Serial Number: (\w+)/g;
    if ($ca eq 'auth-ca-2') {
        is(scalar @rev, 0, "$crl: lists nobody");
    } else {
        my $k = $ca eq 'sign-ca' ? 'sign' : 'auth';
        is_deeply(\@rev, [$serial{"revoked-$k"}], "$crl: lists exactly revoked-$k");
        like($t, qr/Key Compromise/, "$crl: reason keyCompromise");
    }
}

# ---- path validation
sub verify { my ($ca, $cert, @opt) = @_; run(qw(openssl verify), @opt, '-CAfile', "$dir/$ca", "$dir/$cert") }
for my $who (qw(alice bob)) {
    for my $k (qw(auth sign)) {
        my ($r, $o) = verify("$k-ca.pem", "$who-$k.pem");
        is($r, 0, "$who-$k verifies against $k-ca") or diag $o;
        like($o, qr/: OK$/m, "$who-$k verify says OK");
        ($r, $o) = verify("$k-ca.pem", "$who-$k.pem", '-crl_check', '-CRLfile', "$dir/$k-ca.crl.pem");
        is($r, 0, "$who-$k verifies with CRL check") or diag $o;
    }
}
for my $k (qw(auth sign)) {
    my ($r, $o) = verify("$k-ca.pem", "expired-$k.pem");
    isnt($r, 0, "expired-$k fails verification");
    like($o, qr/certificate has expired/, "expired-$k: reason is expired");
    ($r, $o) = verify("$k-ca.pem", "revoked-$k.pem");
    is($r, 0, "revoked-$k chains fine without a CRL") or diag $o;
    ($r, $o) = verify("$k-ca.pem", "revoked-$k.pem", '-crl_check', '-CRLfile', "$dir/$k-ca.crl.pem");
    isnt($r, 0, "revoked-$k fails with CRL check");
    like($o, qr/certificate revoked/, "revoked-$k: reason is revoked");
}
{
    my ($r, $o) = verify('auth-ca.pem', 'alice-auth.pem', '-crl_check', '-CRLfile', "$dir/auth-ca-stale.crl.pem");
    isnt($r, 0, 'stale CRL makes CRL-checked verification fail');
    like($o, qr/CRL has expired/, 'stale CRL detected as expired');

    ($r, $o) = verify('bundle-auth-ca.pem', 'carol-auth.pem');
    is($r, 0, 'carol-auth verifies against the auth CA bundle') or diag $o;
    ($r, $o) = verify('auth-ca-2.pem', 'carol-auth.pem');
    is($r, 0, 'carol-auth verifies against auth-ca-2') or diag $o;
    ($r, $o) = verify('auth-ca.pem', 'carol-auth.pem');
    isnt($r, 0, 'carol-auth does NOT verify against auth-ca (same DN, other key)');
    ($r, $o) = verify('bundle-auth-ca.pem', 'alice-auth.pem');
    is($r, 0, 'alice-auth verifies against the auth CA bundle') or diag $o;
    ($r, $o) = verify('auth-ca-2.pem', 'alice-auth.pem');
    isnt($r, 0, 'alice-auth does NOT verify against auth-ca-2');

    ($r, $o) = verify('sign-ca.pem', 'alice-auth.pem');
    isnt($r, 0, 'auth cert does NOT verify against the sign CA');
    ($r, $o) = verify('auth-ca.pem', 'alice-sign.pem');
    isnt($r, 0, 'sign cert does NOT verify against the auth CA');
}

# keys match their certificates
for my $c (@cas, @certs) {
    my $cm = out_of(qw(openssl x509 -noout -modulus -in), "$dir/$c.pem");
    my $km = out_of(qw(openssl rsa -noout -modulus -in), "$dir/$c.key");
    ok($cm =~ /^Modulus=[0-9A-F]+\s*$/ && $cm eq $km, "$c.key matches $c.pem");
}

done_testing();
