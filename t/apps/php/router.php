<?php
// A real PHP login application for Sekisho's tests, as plain PHP code
// reads a login: $_REQUEST for forms and multipart, the decoded body
// for JSON, $_SERVER for headers.  PHP itself parses the request (php-cli's
// built-in server, the ini as installed), so its renaming of field names,
// its arrays and its max_input_vars are the real ones.
//
//   php -d sekisho.log=LOG -S 127.0.0.1:PORT t/apps/php/router.php
//
// Every password check appends one line to LOG:
//   check <account, percent-encoded> <ok|fail> <X-Sekisho-Login-Account or ->
// It locks nothing: the gateway in front does.

const ACCOUNTS = [
    'alice' => 'wonderland',
    'bob'   => 'builder',
    'carol' => 'singer',
    'kate'  => 'kitten',
    '100'   => 'hundred',
];

// A field as a string, the way PHP code commonly takes one: the first
// element of an array, scalars cast; anything else is no value.
function field_string($v)
{
    if (is_array($v)) {
        $v = reset($v);
    }
    if ($v === null || !is_scalar($v)) {
        return null;
    }
    return (string) $v;
}

function normalize_account($id)
{
    if ($id === null) {
        return null;
    }
    $id = Normalizer::normalize($id, Normalizer::FORM_KC);
    if ($id === false) {            // not UTF-8
        return null;
    }
    $id = preg_replace('/^[\s\p{Z}]+|[\s\p{Z}]+$/u', '', $id);
    if ($id === null) {
        return null;
    }
    return mb_strtolower($id, 'UTF-8');
}

function log_check($account, $ok)
{
    $enc = preg_replace_callback('/[^A-Za-z0-9._~@-]/',
        fn($m) => sprintf('%%%02X', ord($m[0])), $account);
    $hdr = $_SERVER['HTTP_X_SEKISHO_LOGIN_ACCOUNT'] ?? '-';
    file_put_contents(get_cfg_var('sekisho.log'),
        "check $enc " . ($ok ? 'ok' : 'fail') . " $hdr\n",
        FILE_APPEND | LOCK_EX);
}

function answer($status, $text)
{
    http_response_code($status);
    header('Content-Type: text/plain');
    echo "$text\n";
    return true;
}

function login($id, $password)
{
    $account = normalize_account(field_string($id));
    $password = field_string($password);

    if ($account === null || $account === '' || $password === null
        || $password === '') {
        return answer(400, 'login_id and password are required');
    }

    $ok = isset(ACCOUNTS[$account])
        && hash_equals(ACCOUNTS[$account], $password);
    log_check($account, $ok);

    return $ok ? answer(200, "welcome $account")
               : answer(401, 'wrong account or password');
}

// the path as a front controller routes it: decoded, case-insensitive
$path = strtolower(rawurldecode(explode('?', $_SERVER['REQUEST_URI'], 2)[0]));

if ($path === '/login' || $path === '/login/') {
    // JSON as Laravel's Request::isJson() tells it
    $type = $_SERVER['CONTENT_TYPE'] ?? '';
    if (str_contains($type, '/json') || str_contains($type, '+json')) {
        $data = json_decode(file_get_contents('php://input'), true);
        if (!is_array($data)) {
            $data = [];
        }
        return login($data['login_id'] ?? null, $data['password'] ?? null);
    }
    return login($_REQUEST['login_id'] ?? null, $_REQUEST['password'] ?? null);
}

if ($path === '/hdr/login') {
    return login($_SERVER['HTTP_X_ACCOUNT'] ?? null,
        $_SERVER['HTTP_X_PASSWORD'] ?? null);
}

return answer(404, 'not found');
