#!/usr/bin/python3
"""A real Flask login application for Sekisho's tests.

It reads a login the way Flask code commonly does: request.get_json()
when request.is_json, else request.values (query string and form,
multipart included), request.headers for the header login.  Werkzeug
parses the request, so its quirks are the real ones.  Run it with
Debian's Flask:

    /usr/bin/python3 t/apps/flask/app.py PORT LOG

Every password check appends one line to LOG:
    check <account, percent-encoded> <ok|fail> <X-Sekisho-Login-Account or ->
It locks nothing: the gateway in front does.
"""

import hmac
import logging
import sys
import threading
import unicodedata
import urllib.parse

from flask import Flask, request

ACCOUNTS = {
    'alice': 'wonderland',
    'bob': 'builder',
    'carol': 'singer',
    'kate': 'kitten',
    '100': 'hundred',
}

app = Flask(__name__)
log_path = None
log_lock = threading.Lock()


def field_string(v):
    """A field as a string: the first element of a list, numbers as
    str() gives them; anything else is no value."""
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, (int, float)):
        v = str(v)
    return v if isinstance(v, str) else None


def normalize_account(v):
    if v is None:
        return None
    return unicodedata.normalize('NFKC', v).strip().lower()


def log_check(account, ok):
    enc = urllib.parse.quote(account.encode('utf-8', 'surrogateescape'),
                             safe='@')
    # WSGI gives header values as latin-1: back to the bytes received
    hdr = request.headers.get('X-Sekisho-Login-Account', '-')
    line = ('check %s %s ' % (enc, 'ok' if ok else 'fail')).encode() \
        + hdr.encode('latin-1', 'replace') + b'\n'
    with log_lock, open(log_path, 'ab') as f:
        f.write(line)
        f.flush()


def login(account, password):
    account = normalize_account(field_string(account))
    password = field_string(password)

    if not account or not password:
        return 'login_id and password are required\n', 400

    ok = account in ACCOUNTS and hmac.compare_digest(
        ACCOUNTS[account].encode(), password.encode('utf-8', 'surrogateescape'))
    log_check(account, ok)

    if ok:
        return 'welcome %s\n' % account, 200
    return 'wrong account or password\n', 401


@app.route('/login', methods=['GET', 'POST'])
def form_login():
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            data = {}
        return login(data.get('login_id'), data.get('password'))
    return login(request.values.get('login_id'),
                 request.values.get('password'))


@app.route('/hdr/login', methods=['GET', 'POST'])
def header_login():
    return login(request.headers.get('X-Account'),
                 request.headers.get('X-Password'))


def main():
    global log_path
    port = int(sys.argv[1])
    log_path = sys.argv[2]
    logging.getLogger('werkzeug').setLevel(logging.ERROR)
    app.run(host='127.0.0.1', port=port, threaded=True, debug=False,
            use_reloader=False)


if __name__ == '__main__':
    main()
