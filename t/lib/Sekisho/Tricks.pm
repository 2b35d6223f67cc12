package Sekisho::Tricks;

# A catalogue of ways to send a login so that an application reads a
# different account id than a naive parser of the same request would:
# the tricks an attacker uses to get past a per-account lockout that
# reads the id itself.  Each trick says which account each real
# application of t/apps CHECKS when it receives the request directly,
# as measured against those applications by t/apps.t (not as any
# documentation says).
#
#   use Sekisho::Tricks qw(tricks trick_request);
#   for my $trick (tricks()) {
#       my $raw = trick_request($trick, port => $port, prefix => '/php');
#       ... $trick->{reaches}{php} is the account PHP checks, or undef ...
#   }
#
# A trick is a hash:
#   name      what it does, for test names
#   account   the target account ('alice', 'kate' or '100')
#   password  the target's right password (sent wherever a password goes)
#   source    where the id is meant to be read: form, json, multipart,
#             arg (query string) or header
#   field     the id's field name: login_id (X-Account for header logins)
#   method, path, query, type, headers, body, charset, encoding, chunked
#             the request (see trick_request); %PASSWORD% in query,
#             headers and body stands for the password
#   reaches   { php => ..., flask => ..., express5 => ..., express4 => ... }:
#             the normalized account (UTF-8 bytes) that application checks,
#             undef when it checks none (no id, a refused body, no route)
#   note      why, where the reason is not obvious
#
# Decoys are accounts that do not exist ('decoy', 'decoy1'): a check of
# one is a wrong password that a gateway would count against it.

use strict;
use warnings;

use Exporter qw(import);
use Encode qw(decode encode encode_utf8);
use IO::Compress::Gzip qw(gzip $GzipError);
use Compress::Zlib qw(compress);
use Unicode::Normalize qw(NFKC);

our @EXPORT_OK = qw(tricks trick_request trick_names APPS);

use constant APPS => qw(php flask express5 express4);

my %PASSWORD = (alice => 'wonderland', kate => 'kitten', 100 => 'hundred');

# percent-encoded UTF-8 of a Perl character string
sub _pct {
    my ($s) = @_;
    my $b = encode_utf8($s);
    $b =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return $b;
}

sub _u8 { encode_utf8($_[0]) }

# Werkzeug (Flask's request parser and development server) reads some
# requests differently from version 3 on (measured: 2.2.2 on Debian 12,
# 3.1.3 on Debian 13): a form value's invalid UTF-8 stays percent-encoded
# text instead of becoming U+FFFD, and the server drops a header whose
# name has an underscore instead of making HTTP_X_ACCOUNT of it.  The
# version is the one the Flask application of t/apps runs with.
my $WERKZEUG3 = do {
    my $v = `/usr/bin/python3 -c 'import importlib.metadata as m; print(m.version("werkzeug"))' 2>/dev/null`
        // '';
    $v =~ /^(\d+)\./ && $1 >= 3;
};

# What Python and node make of UTF-8 bytes in a header: Latin-1
# characters, then NFKC and lower case; Python's strip() also takes a
# trailing U+0085, JavaScript's trim() does not.
sub _latin1_account {
    my ($bytes, $python) = @_;
    my $s = lc NFKC(decode('latin-1', $bytes));
    $s =~ s/\x{85}+\z// if $python;
    return encode_utf8($s);
}

# the same account for every application
sub _all { my ($a) = @_; return { map { $_ => $a } APPS } }

# a multipart body from [headers, content] parts, CRLF throughout
sub _mp {
    my ($boundary, @parts) = @_;
    my $b = '';
    for my $p (@parts) {
        my ($h, $c) = @$p;
        $b .= "--$boundary\r\n$h\r\n\r\n$c\r\n";
    }
    return $b . "--$boundary--\r\n";
}

sub _cd { qq{Content-Disposition: form-data; name="$_[0]"} }

my $B = 'SekishoBoundary7MA4YWxk';
my $MP = "multipart/form-data; boundary=$B";

my @TRICKS;

sub _add {
    my (%t) = @_;
    $t{account} ||= 'alice';
    $t{password} ||= $PASSWORD{ $t{account} };
    $t{source} ||= 'form';
    $t{field} ||= $t{source} eq 'header' ? 'X-Account' : 'login_id';
    $t{method} ||= 'POST';
    $t{path} ||= $t{source} eq 'header' ? '/hdr/login' : '/login';
    $t{type} = 'application/x-www-form-urlencoded'
        if !exists $t{type} && $t{source} eq 'form';
    $t{type} = 'application/json' if !exists $t{type} && $t{source} eq 'json';
    $t{type} = $MP if !exists $t{type} && $t{source} eq 'multipart';
    die "trick $t{name}: reaches for every application\n"
        if grep { !exists $t{reaches}{$_} } APPS;
    push @TRICKS, \%t;
}

###############################################################################
# plain logins: every application reads them alike

_add(name => 'plain form login', body => 'login_id=alice&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'plain JSON login', source => 'json',
    body => '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => _all('alice'));

_add(name => 'plain multipart login', source => 'multipart',
    body => _mp($B, [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%']),
    reaches => _all('alice'));

_add(name => 'plain header login', source => 'header', type => undef,
    headers => ['X-Account' => 'alice', 'X-Password' => '%PASSWORD%'],
    reaches => _all('alice'));

_add(name => 'credentials in the query string of a GET', source => 'arg',
    method => 'GET', type => undef,
    query => 'login_id=alice&password=%PASSWORD%',
    reaches => _all('alice'));

###############################################################################
# JSON and form read as the other

_add(name => 'JSON body with a form-like decoy inside a string',
    source => 'json',
    body => '{"login_id":"alice","password":"%PASSWORD%","n":"&login_id=decoy1&"}',
    reaches => _all('alice'));

# one body, two readings: JSON says decoy1, a form says alice
my $BOTH = '{"login_id":"decoy1","n":"&login_id=alice&password=%PASSWORD%&",'
    . '"password":"%PASSWORD%"}';

_add(name => 'body valid as JSON and as a form, sent as a form',
    body => $BOTH, reaches => _all('alice'));

_add(name => 'nested JSON decoy before the id', source => 'json',
    body => '{"user":{"login_id":"decoy"},"login_id":"alice","password":"%PASSWORD%"}',
    reaches => _all('alice'));

_add(name => 'a field whose name ends in login_id before the id',
    body => 'xlogin_id=decoy&login_id=alice&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'form body sent as text/plain', type => 'text/plain',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => _all(undef));

_add(name => 'body valid as JSON and as a form, sent as JSON',
    source => 'json', body => $BOTH, reaches => _all('decoy1'));

###############################################################################
# PHP's renaming of field names: . space [ become _, leading spaces go,
# a NUL ends the name

for my $spelling (
    ['login.id'   => 'login.id'],
    ['login+id'   => 'login+id'],
    ['login[id'   => 'login[id'],
    ['login%2Eid' => 'login%2Eid'],
    ['login%20id' => 'login%20id'],
    ['leading space' => '+login_id'],
    ['a NUL' => 'login_id%00x'],
) {
    my ($what, $name) = @$spelling;
    _add(name => "PHP reads $what as login_id (decoy in login_id first)",
        body => "login_id=decoy&$name=alice&password=%PASSWORD%",
        reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy',
            express4 => 'decoy' });
}

_add(name => 'PHP reads login.id as login_id in a multipart part',
    source => 'multipart',
    body => _mp($B, [_cd('login_id'), 'decoy'], [_cd('login.id'), 'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy',
        express4 => 'decoy' });

_add(name => 'PHP reads login.id as login_id in the query string',
    source => 'arg', method => 'GET', type => undef,
    query => 'login_id=decoy&login.id=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy',
        express4 => 'decoy' });

###############################################################################
# arrays: PHP and qs build them from brackets

_add(name => 'login_id[] as an array',
    body => 'login_id[]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => 'alice',
        express4 => 'alice' },
    note => 'String([x]) is x in JS');

_add(name => 'login_id[0] as an array',
    body => 'login_id[0]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => 'alice',
        express4 => 'alice' });

_add(name => 'login_id[x] as a map',
    body => 'login_id[x]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef,
        express5 => '[object object]', express4 => '[object object]' });

_add(name => 'login_id[25], past the array limit of plain qs',
    body => 'login_id[25]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => 'alice',
        express4 => 'alice' },
    note => 'qs alone makes {"25": x} of it, but body-parser raises '
        . "qs's arrayLimit to 100: a sparse array, compacted to [x]");

_add(name => 'login_id[150], past the array limit of body-parser',
    body => 'login_id[150]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef,
        express5 => '[object object]', express4 => '[object object]' });

_add(name => 'login_id%5B%5D as an array',
    body => 'login_id%5B%5D=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => 'alice',
        express4 => 'alice' });

_add(name => 'login_id[] after a plain decoy',
    body => 'login_id=decoy&login_id[]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy,alice',
        express4 => 'decoy,alice' });

_add(name => "qs splits login_id[a=b]=alice at ']='",
    body => 'login_id[a=b]=alice&password=%PASSWORD%',
    reaches => { php => undef, flask => undef,
        express5 => '[object object]', express4 => '[object object]' },
    note => 'qs: {"a=b": x}; PHP cuts at the first = and makes login_id_a '
        . 'of the unclosed bracket');

_add(name => 'login_id[] in the query string',
    source => 'arg', method => 'GET', type => undef,
    query => 'login_id[]=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => undef,
        express4 => 'alice' },
    note => "Express 5 parses query strings with node's querystring: "
        . 'login_id[] is a name of its own');

_add(name => 'the field given twice in a form',
    body => 'login_id=decoy&login_id=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy,alice',
        express4 => 'decoy,alice' });

_add(name => 'an empty second login_id',
    body => 'login_id=alice&login_id=&password=%PASSWORD%',
    reaches => { php => undef, flask => 'alice', express5 => 'alice,',
        express4 => 'alice,' },
    note => 'PHP keeps the last (empty), Flask the first, qs both');

_add(name => 'the field given twice in the query string',
    source => 'arg', method => 'GET', type => undef,
    query => 'login_id=decoy&login_id=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy,alice',
        express4 => 'decoy,alice' });

###############################################################################
# separators and encodings inside a form

_add(name => "';' is no separator",
    body => 'login_id=decoy;login_id=alice&password=%PASSWORD%',
    reaches => _all('decoy;login_id=alice'));

_add(name => 'percent-encoded letters in the id',
    body => 'login_id=%61l%69ce&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'percent-encoded field name',
    body => 'login%5Fid=alice&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'invalid UTF-8 after the id',
    body => 'login_id=alice%FF&password=%PASSWORD%',
    reaches => { php => undef,
        flask => $WERKZEUG3 ? 'alice%ff' : "alice\xef\xbf\xbd",
        express5 => 'alice%ff', express4 => 'alice%ff' },
    note => "PHP's Normalizer refuses it; Werkzeug 2 puts U+FFFD; qs and "
        . 'Werkzeug 3 keep the text they cannot decode');

###############################################################################
# JSON

_add(name => 'escaped JSON key login\u005fid', source => 'json',
    body => '{"login\u005fid":"alice","password":"%PASSWORD%"}',
    reaches => _all('alice'));

_add(name => 'escaped JSON key after a plain decoy', source => 'json',
    body => '{"login_id":"decoy","login\u005fid":"alice","password":"%PASSWORD%"}',
    reaches => _all('alice'));

_add(name => 'duplicate JSON keys', source => 'json',
    body => '{"login_id":"decoy","login_id":"alice","password":"%PASSWORD%"}',
    reaches => _all('alice'));

_add(name => 'escaped JSON value al\u0069ce', source => 'json',
    body => '{"login_id":"al\u0069ce","password":"%PASSWORD%"}',
    reaches => _all('alice'));

_add(name => 'JSON array as the value', source => 'json',
    body => '{"login_id":["alice","decoy"],"password":"%PASSWORD%"}',
    reaches => { php => 'alice', flask => 'alice', express5 => 'alice,decoy',
        express4 => 'alice,decoy' });

_add(name => 'JSON object as the value', source => 'json',
    body => '{"login_id":{"a":"alice"},"password":"%PASSWORD%"}',
    reaches => { php => 'alice', flask => undef,
        express5 => '[object object]', express4 => '[object object]' });

for my $n ('100', '1e2', '1E2', '100.0', '100.00', '1.0e2', '100e0',
    '99.99999999999999999') {
    _add(name => "JSON number $n", source => 'json', account => '100',
        body => qq({"login_id":$n,"password":"%PASSWORD%"}),
        reaches => { php => '100', express5 => '100', express4 => '100',
            flask => $n =~ /[.eE]/ ? '100.0' : '100' },
        $n =~ /[.eE]/ ? (note => 'str() of a Python float keeps ".0"') : ());
}

_add(name => 'JSON null as the id, the id in the query string',
    source => 'json', query => 'login_id=alice',
    body => '{"login_id":null,"password":"%PASSWORD%"}',
    reaches => { php => undef, flask => undef, express5 => 'alice',
        express4 => 'alice' },
    note => "?? passes over null as over a missing member");

_add(name => 'JSON string "100"', source => 'json', account => '100',
    body => '{"login_id":"100","password":"%PASSWORD%"}',
    reaches => _all('100'));

_add(name => 'NaN in JSON', source => 'json',
    body => '{"login_id":"alice","password":"%PASSWORD%","n":NaN}',
    reaches => { php => undef, flask => 'alice', express5 => undef,
        express4 => undef },
    note => "Python's json accepts NaN and Infinity");

_add(name => 'text after the JSON value', source => 'json',
    body => '{"login_id":"alice","password":"%PASSWORD%"} x',
    reaches => _all(undef));

_add(name => 'JSON array body', source => 'json',
    body => '[{"login_id":"alice","password":"%PASSWORD%"}]',
    reaches => _all(undef));

_add(name => 'BOM before the JSON', source => 'json',
    body => "\xef\xbb\xbf" . '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => { php => undef, flask => 'alice', express5 => 'alice',
        express4 => 'alice' });

_add(name => 'JSON in UTF-16 with a charset', source => 'json',
    type => 'application/json; charset=utf-16le', charset => 'UTF-16LE',
    body => '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => { php => undef, flask => 'alice', express5 => 'alice',
        express4 => 'alice' },
    note => 'Python detects UTF-16 from the bytes; body-parser decodes the charset');

###############################################################################
# Content-Type: case, parameters, +json, given twice

_add(name => 'JSON as Application/JSON', source => 'json',
    type => 'Application/JSON',
    body => '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => { php => undef, flask => 'alice', express5 => 'alice',
        express4 => 'alice' },
    note => 'the PHP app tells JSON as Laravel does, case-sensitively, '
        . 'and PHP parses no form from it either');

_add(name => 'JSON as application/vnd.api+json', source => 'json',
    type => 'application/vnd.api+json',
    body => '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => { php => 'alice', flask => 'alice', express5 => undef,
        express4 => undef },
    note => 'express.json() takes application/json only');

_add(name => 'JSON as text/json', source => 'json', type => 'text/json',
    body => '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => { php => 'alice', flask => undef, express5 => undef,
        express4 => undef });

_add(name => 'form as Application/X-WWW-Form-Urlencoded',
    type => 'Application/X-WWW-Form-Urlencoded',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'form with charset=iso-8859-1',
    type => 'application/x-www-form-urlencoded; charset=iso-8859-1',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'alice', express5 => 'alice',
        express4 => undef },
    note => 'body-parser 1 answers 415 to any charset but UTF-8');

_add(name => 'lower-case header names', type => undef,
    headers => ['content-type' => 'application/x-www-form-urlencoded'],
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'two Content-Type headers, form then JSON', type => undef,
    headers => ['Content-Type' => 'application/x-www-form-urlencoded',
        'Content-Type' => 'application/json'],
    body => $BOTH,
    reaches => { php => 'decoy1', flask => 'decoy1', express5 => 'alice',
        express4 => 'alice' },
    note => "PHP's server joins the two into one value that contains /json; "
        . "Werkzeug's server keeps the last; node keeps the first");

_add(name => 'two Content-Type headers, JSON then form', type => undef,
    source => 'json',
    headers => ['Content-Type' => 'application/json',
        'Content-Type' => 'application/x-www-form-urlencoded'],
    body => $BOTH,
    reaches => { php => 'decoy1', flask => 'alice', express5 => 'decoy1',
        express4 => 'decoy1' });

###############################################################################
# Unicode in the id: every application normalizes (NFKC, trim, lower
# case), each with its own idea of white space

my %SPACE = (
    'U+3000 ideographic space' => "\x{3000}",
    'U+00A0 no-break space'    => "\x{a0}",
    'U+2003 em space'          => "\x{2003}",
    'U+2028 line separator'    => "\x{2028}",
    'a tab'                    => "\t",
);
for my $what (sort keys %SPACE) {
    for my $where ('after', 'before') {
        my $id = $where eq 'after' ? "alice$SPACE{$what}" : "$SPACE{$what}alice";
        _add(name => "$what $where the id",
            body => 'login_id=' . _pct($id) . '&password=%PASSWORD%',
            reaches => _all('alice'));
    }
}

for my $where ('after', 'before') {
    my $id = $where eq 'after' ? "alice\x{feff}" : "\x{feff}alice";
    _add(name => "U+FEFF zero-width no-break space $where the id",
        body => 'login_id=' . _pct($id) . '&password=%PASSWORD%',
        reaches => { php => _u8($id), flask => _u8($id), express5 => 'alice',
            express4 => 'alice' },
        note => "only JavaScript's trim() takes U+FEFF for white space");
}

_add(name => 'U+0085 next line after the id',
    body => 'login_id=' . _pct("alice\x{85}") . '&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'alice',
        express5 => _u8("alice\x{85}"), express4 => _u8("alice\x{85}") },
    note => "JavaScript's trim() does not take U+0085");

_add(name => 'U+001F unit separator after the id',
    body => 'login_id=alice%1F&password=%PASSWORD%',
    reaches => { php => "alice\x1f", flask => 'alice', express5 => "alice\x1f",
        express4 => "alice\x1f" },
    note => "Python's str.strip() takes U+001C..U+001F for white space");

_add(name => 'U+200B zero-width space after the id',
    body => 'login_id=' . _pct("alice\x{200b}") . '&password=%PASSWORD%',
    reaches => _all(_u8("alice\x{200b}")));

my $FULLWIDTH = "\x{ff41}\x{ff4c}\x{ff49}\x{ff43}\x{ff45}";

_add(name => 'full-width alice (U+FF41...)',
    body => 'login_id=' . _pct($FULLWIDTH)
        . '&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'mathematical bold alice',
    body => 'login_id='
        . _pct("\x{1d41a}\x{1d425}\x{1d422}\x{1d41c}\x{1d41e}")
        . '&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'circled alice (U+24D0...)',
    body => 'login_id=' . _pct("\x{24d0}\x{24db}\x{24d8}\x{24d2}\x{24d4}")
        . '&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'ALICE in capitals', body => 'login_id=ALICE&password=%PASSWORD%',
    reaches => _all('alice'));

_add(name => 'KELVIN SIGN in Kate', account => 'kate',
    body => 'login_id=' . _pct("\x{212a}ate") . '&password=%PASSWORD%',
    reaches => _all('kate'));

_add(name => 'full-width id in JSON escapes', source => 'json',
    body => '{"login_id":"\uff41\uff4c\uff49\uff43\uff45","password":"%PASSWORD%"}',
    reaches => _all('alice'));

###############################################################################
# cookies: PHP's $_REQUEST holds them when request_order says "C" (or no
# php.ini sets it, as in many container images); the PHP app runs so,
# a cookie overriding the body

_add(name => 'a cookie of the field overrides a decoy in the body',
    headers => ['Cookie' => 'login_id=alice'],
    body => 'login_id=decoy&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy',
        express4 => 'decoy' },
    note => 'request_order GPC: C last');

_add(name => 'the id in a cookie only',
    headers => ['Cookie' => 'sid=1; login_id=alice'],
    body => 'password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => undef,
        express4 => undef });

_add(name => 'a cookie named as PHP renames the field',
    headers => ['Cookie' => 'login.id=alice'],
    body => 'login_id=decoy&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy',
        express4 => 'decoy' });

_add(name => 'a cookie with the id percent-encoded (PHP decodes it)',
    headers => ['Cookie' => 'login_id=%61lice'],
    body => 'password=%PASSWORD%',
    reaches => { php => 'alice', flask => undef, express5 => undef,
        express4 => undef });

_add(name => 'a GET of the login page with a cookie and the password',
    method => 'GET', query => 'password=%PASSWORD%',
    headers => ['Cookie' => 'login_id=alice'],
    reaches => { php => 'alice', flask => undef, express5 => undef,
        express4 => undef });

###############################################################################
# query string and body together

_add(name => 'id in the query string, decoy in the body',
    query => 'login_id=alice',
    body => 'login_id=decoy&password=%PASSWORD%',
    reaches => { php => 'decoy', flask => 'alice', express5 => 'decoy',
        express4 => 'decoy' },
    note => 'Flask request.values puts the query string first');

_add(name => 'decoy in the query string, id in the body',
    query => 'login_id=decoy',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => { php => 'alice', flask => 'decoy', express5 => 'alice',
        express4 => 'alice' });

_add(name => 'id in the query string of a JSON login without one',
    source => 'json', query => 'login_id=alice',
    body => '{"password":"%PASSWORD%"}',
    reaches => { php => undef, flask => undef, express5 => 'alice',
        express4 => 'alice' },
    note => 'the Express app falls back to req.query');

_add(name => 'GET with a form body and a decoy in the query string',
    method => 'GET', query => 'login_id=decoy&password=%PASSWORD%',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => { php => 'decoy', flask => 'decoy', express5 => 'alice',
        express4 => 'alice' },
    note => 'PHP fills $_POST for POST only; Werkzeug 2 leaves the form '
        . 'out of request.values on GET; body-parser reads any method');

_add(name => 'PUT with a form body',
    method => 'PUT', body => 'login_id=alice&password=%PASSWORD%',
    reaches => { php => undef, flask => undef, express5 => 'alice',
        express4 => 'alice' },
    note => 'Flask answers 405');

###############################################################################
# PHP's max_input_vars: variables past 1000 are dropped

_add(name => 'id past max_input_vars, a decoy first as login.id',
    body => 'password=%PASSWORD%&login.id=decoy&'
        . join('', map { "j$_=&" } 1 .. 1000) . 'login_id=alice',
    reaches => { php => 'decoy', flask => 'alice', express5 => undef,
        express4 => undef },
    note => 'body-parser answers 413 past 1000 parameters');

###############################################################################
# body encodings

_add(name => 'gzip-encoded form body', encoding => 'gzip',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => { php => undef, flask => undef, express5 => 'alice',
        express4 => 'alice' },
    note => 'body-parser inflates');

_add(name => 'deflate-encoded form body', encoding => 'deflate',
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => { php => undef, flask => undef, express5 => 'alice',
        express4 => 'alice' });

_add(name => 'gzip-encoded JSON body', source => 'json', encoding => 'gzip',
    body => '{"login_id":"alice","password":"%PASSWORD%"}',
    reaches => { php => undef, flask => undef, express5 => 'alice',
        express4 => 'alice' });

_add(name => 'chunked form body', chunked => 1,
    body => 'login_id=alice&password=%PASSWORD%',
    reaches => _all('alice'));

###############################################################################
# routing

for my $path ('/LOGIN', '/Login', '/login/', '/log%69n') {
    _add(name => "path $path", path => $path,
        body => 'login_id=alice&password=%PASSWORD%',
        reaches => {
            php      => 'alice',
            flask    => $path eq '/log%69n' ? 'alice' : undef,
            express5 => $path eq '/log%69n' ? undef : 'alice',
            express4 => $path eq '/log%69n' ? undef : 'alice',
        });
}

###############################################################################
# header logins

_add(name => 'X-Account given twice', source => 'header', type => undef,
    headers => ['X-Account' => 'decoy', 'X-Account' => 'alice',
        'X-Password' => '%PASSWORD%'],
    reaches => { php => 'decoy, alice', flask => 'decoy,alice',
        express5 => 'decoy, alice', express4 => 'decoy, alice' });

_add(name => 'X_Account with an underscore', source => 'header', type => undef,
    headers => ['X_Account' => 'alice', 'X-Password' => '%PASSWORD%'],
    reaches => { php => 'alice', flask => $WERKZEUG3 ? undef : 'alice',
        express5 => undef, express4 => undef },
    note => "PHP's and Werkzeug 2's servers both make HTTP_X_ACCOUNT of it; "
        . "Werkzeug 3's drops it");

_add(name => 'X_Account after a decoy X-Account', source => 'header',
    type => undef,
    headers => ['X-Account' => 'decoy', 'X_Account' => 'alice',
        'X-Password' => '%PASSWORD%'],
    reaches => { php => 'alice', flask => $WERKZEUG3 ? 'decoy' : 'decoy,alice',
        express5 => 'decoy', express4 => 'decoy' },
    note => "PHP's server overwrites, Werkzeug 2's joins with a comma, "
        . "Werkzeug 3's drops the underscore one");

_add(name => 'x-account in lower case', source => 'header', type => undef,
    headers => ['x-account' => 'alice', 'x-password' => '%PASSWORD%'],
    reaches => _all('alice'));

_add(name => 'full-width id in a header, raw UTF-8', source => 'header',
    type => undef,
    headers => ['X-Account' => _u8($FULLWIDTH), 'X-Password' => '%PASSWORD%'],
    reaches => { php => 'alice', flask => _latin1_account(_u8($FULLWIDTH), 1),
        express5 => _latin1_account(_u8($FULLWIDTH)),
        express4 => _latin1_account(_u8($FULLWIDTH)) },
    note => 'Python and node read header bytes as Latin-1');

###############################################################################
# multipart

_add(name => 'multipart with a decoy part and decoy text',
    source => 'multipart',
    body => _mp($B, [_cd('login_id2'), 'decoy'],
        [_cd('note'), "--x$B\r\n" . _cd('login_id') . "\r\n\r\ndecoy1"],
        [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%']),
    reaches => _all('alice'));

_add(name => 'multipart boundary text inside a value, then a decoy',
    source => 'multipart',
    body => _mp($B,
        [_cd('note'), "--$B-x\r\n" . _cd('login_id') . "\r\n\r\ndecoy"],
        [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'alice', flask => 'alice', express5 => undef,
        express4 => undef },
    note => 'busboy takes CRLF--boundary for a delimiter whatever follows '
        . 'and refuses the rest');

_add(name => "multipart name*=UTF-8''login_id beside a decoy name",
    source => 'multipart',
    body => _mp($B,
        [qq{Content-Disposition: form-data; name="decoy"; name*=UTF-8''login_id},
            'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => { php => undef, flask => 'alice', express5 => undef,
        express4 => undef },
    note => 'Werkzeug honours RFC 2231 name*');

_add(name => 'multipart quoted name login%5Fid after a decoy',
    source => 'multipart',
    body => _mp($B, [_cd('login_id'), 'decoy'], [_cd('login%5Fid'), 'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => _all('decoy'));

_add(name => 'multipart duplicate parts', source => 'multipart',
    body => _mp($B, [_cd('login_id'), 'decoy'], [_cd('login_id'), 'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'alice', flask => 'decoy', express5 => 'decoy,alice',
        express4 => 'decoy,alice' });

_add(name => 'multipart id in a file part, decoy after', source => 'multipart',
    body => _mp($B,
        [qq{Content-Disposition: form-data; name="login_id"; filename="a.txt"\r\n}
            . 'Content-Type: text/plain', 'alice'],
        [_cd('login_id'), 'decoy'], [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'decoy', flask => 'decoy', express5 => undef,
        express4 => undef },
    note => 'multer().none() refuses any file');

_add(name => 'multipart base64 Content-Transfer-Encoding',
    source => 'multipart',
    body => _mp($B,
        [_cd('login_id') . "\r\nContent-Transfer-Encoding: base64", 'YWxpY2U='],
        [_cd('password'), '%PASSWORD%']),
    reaches => _all('ywxpy2u='));

(my $lf = _mp($B, [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%']))
    =~ s/\r\n/\n/g;
_add(name => 'multipart with bare LF line endings', source => 'multipart',
    body => $lf,
    reaches => { php => 'alice', flask => 'alice', express5 => undef,
        express4 => undef });

_add(name => 'multipart boundary inside the preamble', source => 'multipart',
    body => "x--$B\r\n" . _cd('login_id') . "\r\n\r\ndecoy\r\n"
        . _mp($B, [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'alice', flask => 'decoy', express5 => 'alice',
        express4 => 'alice' },
    note => "Werkzeug finds the boundary after any text in the preamble");

_add(name => 'multipart part after the close delimiter', source => 'multipart',
    body => _mp($B, [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%'])
        . "--$B\r\n" . _cd('login_id') . "\r\n\r\ndecoy\r\n--$B--\r\n",
    reaches => { php => 'decoy', flask => 'alice', express5 => 'alice',
        express4 => 'alice' },
    note => 'PHP reads on past the close delimiter');

_add(name => 'multipart boundary parameter given twice',
    source => 'multipart',
    type => "multipart/form-data; boundary=A$B; boundary=B$B",
    body => _mp("B$B", [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%'])
        . _mp("A$B", [_cd('login_id'), 'decoy'], [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'decoy', flask => 'alice', express5 => 'decoy',
        express4 => 'decoy' },
    note => 'PHP and busboy take the first boundary, Werkzeug the last');

_add(name => 'multipart name given twice in one part', source => 'multipart',
    body => _mp($B,
        [qq{Content-Disposition: form-data; name="decoy"; name="login_id"},
            'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => { php => 'alice', flask => 'alice', express5 => undef,
        express4 => undef },
    note => 'PHP and Werkzeug take the last name, busboy the first');

_add(name => 'multipart unquoted name', source => 'multipart',
    body => _mp($B, ['Content-Disposition: form-data; name=login_id', 'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => _all('alice'));

_add(name => 'multipart header names in lower case', source => 'multipart',
    body => _mp($B, [qq{content-disposition: form-data; name="login_id"}, 'alice'],
        [_cd('password'), '%PASSWORD%']),
    reaches => _all('alice'));

_add(name => 'multipart quoted boundary', source => 'multipart',
    type => qq{multipart/form-data; boundary="$B"},
    body => _mp($B, [_cd('login_id'), 'alice'], [_cd('password'), '%PASSWORD%']),
    reaches => _all('alice'));

###############################################################################

sub tricks { @TRICKS }

sub trick_names { map { $_->{name} } @TRICKS }

# The raw HTTP request of a trick: trick_request($trick, port => P,
# prefix => '/app', password => '...').  The port goes into Host (no
# port: Host: localhost), the prefix before the path; the password is
# the trick's own unless given.
sub trick_request {
    my ($t, %c) = @_;

    my $pw = defined $c{password} ? $c{password} : $t->{password};
    my $sub = sub {
        my ($s) = @_;
        return undef unless defined $s;
        (my $r = $s) =~ s/%PASSWORD%/$pw/g;
        return $r;
    };

    my $target = ($c{prefix} || '') . $t->{path};
    $target .= '?' . $sub->($t->{query}) if defined $t->{query};

    my @h = (Host => $c{port} ? "127.0.0.1:$c{port}" : 'localhost',
        Connection => 'close');
    push @h, 'Content-Type' => $t->{type} if defined $t->{type};
    my @extra = @{ $t->{headers} || [] };
    while (my ($k, $v) = splice @extra, 0, 2) {
        push @h, $k => $sub->($v);
    }

    my $body = $sub->($t->{body});
    $body = encode($t->{charset}, $body) if defined $body && $t->{charset};
    if (defined $body && $t->{encoding}) {
        if ($t->{encoding} eq 'gzip') {
            my $z;
            gzip(\$body => \$z) or die "gzip: $GzipError\n";
            $body = $z;
        } elsif ($t->{encoding} eq 'deflate') {
            $body = compress($body);
        } else {
            die "trick $t->{name}: no encoding $t->{encoding}\n";
        }
        push @h, 'Content-Encoding' => $t->{encoding};
    }

    if (defined $body && $t->{chunked}) {
        push @h, 'Transfer-Encoding' => 'chunked';
        my $c = '';
        for (my $i = 0; $i < length $body; $i += 7) {
            my $piece = substr($body, $i, 7);
            $c .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
        }
        $body = "${c}0\r\n\r\n";
    } elsif (defined $body) {
        push @h, 'Content-Length' => length $body;
    }

    my $req = "$t->{method} $target HTTP/1.1\r\n";
    while (my ($k, $v) = splice @h, 0, 2) {
        $req .= "$k: $v\r\n";
    }
    return $req . "\r\n" . (defined $body ? $body : '');
}

1;
