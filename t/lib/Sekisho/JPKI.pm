package Sekisho::JPKI;

# What a card and its software do, done with OpenSSL from the test PKI
# (scripts/test/jpki-test-pki): login signatures over the documented
# message, CMS signatures over bodies, and certificates of every kind
# a gateway must refuse.  For tests of the gateway without a card.

use strict;
use warnings;

use Exporter qw(import);
use File::Temp qw(tempfile);
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::Piece;
use Sekisho::Test;
use Sekisho::Card;

our @EXPORT = qw(test_pki openssl_out pem_der login_body login_message
    get_challenge card_login session_cookie b64 cms_sign json_field
    crl_time);

# the test authority, built once (t/lib/Sekisho/Card.pm caches it),
# seen as <test dir>/pki; tests only read it
sub test_pki {
    my ($t) = @_;
    my $dir = $t->dir . '/pki';
    return $dir if -e $dir;
    symlink(Sekisho::Card::jpki_pki($t), $dir) or die "symlink $dir: $!";
    return $dir;
}

sub openssl_out {
    my (@args) = @_;
    open(my $fh, '-|', 'openssl', @args) or die "openssl: $!";
    binmode $fh;
    local $/;
    my $out = <$fh>;
    close $fh;
    return $out;
}

# a CRL's lastUpdate or nextUpdate ("lastupdate", "nextupdate") as
# openssl reads it, in seconds since the epoch
sub crl_time {
    my ($file, $which) = @_;
    my $s = openssl_out('crl', '-noout', "-$which", '-in', $file);
    $s =~ s/^\w+=//;
    $s =~ s/\s+GMT\s*$//;
    $s =~ s/\s+/ /g;
    return Time::Piece->strptime($s, '%b %d %H:%M:%S %Y')->epoch;
}

sub pem_der {
    my ($pem_file) = @_;
    return openssl_out('x509', '-in', $pem_file, '-outform', 'DER');
}

sub b64 { my $s = encode_base64($_[0], ''); return $s }

sub login_message {
    my ($host, $challenge) = @_;
    return "sekisho-jpki-login:v1\n$host\n$challenge";
}

# a signature as the card makes it: PKCS#1 v1.5 over a DigestInfo
sub sign_with {
    my ($key, $data, $md) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh $data;
    close $fh;
    return openssl_out('dgst', '-' . ($md || 'sha256'), '-sign', $key, $file);
}

sub json_field {
    my ($json, $name) = @_;
    return $json =~ /"\Q$name\E"\s*:\s*"([^"]*)"/ ? $1 : undef;
}

sub get_challenge {
    my ($port, $path) = @_;
    my $r = http_get($path || '/jpki/challenge', port => $port);
    return json_field(http_body($r), 'challenge');
}

sub login_body {
    my (%o) = @_;
    my $der = defined $o{der} ? $o{der} : pem_der($o{cert});
    my $sig = defined $o{signature} ? $o{signature}
        : sign_with($o{key}, login_message($o{host} || 'localhost',
                                           $o{challenge}), $o{md});
    return sprintf('{"challenge":"%s","certificate":"%s","signature":"%s"}',
        $o{challenge}, b64($der), b64($sig));
}

# a whole login: challenge, signature, POST; returns the reply
sub card_login {
    my ($port, %o) = @_;
    $o{challenge} = get_challenge($port) unless defined $o{challenge};
    my $body = login_body(%o);
    if ($o{host_header}) {
        # another Host than the harness's "localhost"
        return http("POST " . ($o{path} || '/jpki/login') . " HTTP/1.1\r\n"
            . "Host: $o{host_header}\r\nConnection: close\r\n"
            . "Content-Type: application/json\r\n"
            . "Content-Length: " . length($body) . "\r\n\r\n$body",
            port => $port);
    }
    return http_post($o{path} || '/jpki/login', $body, port => $port,
        type => 'application/json', headers => $o{headers} || {});
}

sub session_cookie {
    my ($reply, $name) = @_;
    $name ||= 'sid';
    return $reply =~ /^Set-Cookie:\s*\Q$name\E=([^;\r\n]*)/mi ? $1 : undef;
}

# a detached CMS signature over data, base64 DER, as X-JPKI-Signature
sub cms_sign {
    my ($cert, $key, $data, $md) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh $data;
    close $fh;
    my $der = openssl_out('cms', '-sign', '-binary', '-in', $file,
        '-signer', $cert, '-inkey', $key, '-outform', 'DER',
        '-md', $md || 'sha256');
    return b64($der);
}

1;
