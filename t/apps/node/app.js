'use strict';
// A real Express login application for Sekisho's tests, in the two
// Express versions still in use, which parse the same request
// differently (Express 4: qs for query strings too, body-parser 1;
// Express 5: node's querystring for query strings, body-parser 2).
// It reads a login the way Express code commonly does: express.json(),
// express.urlencoded({ extended: true }) (qs), multer().none() for
// multipart, req.body with req.query as the fallback, req.get() for the
// header login.  Routing is Express's default: case-insensitive, a
// trailing slash optional.  body-parser inflates gzip and deflate bodies
// by default; that stays on, as in real deployments.
//
//   node t/apps/node/app.js express5|express4 PORT LOG
//
// Every password check appends one line to LOG:
//   check <account, percent-encoded> <ok|fail> <X-Sekisho-Login-Account or ->
// It locks nothing: the gateway in front does.

const fs = require('fs');
const crypto = require('crypto');
const multer = require('multer');

const [flavour, port, logPath] = process.argv.slice(2);
const express = require({ express5: 'express', express4: 'express4' }[flavour]
    || die(`usage: app.js express5|express4 PORT LOG (not "${flavour}")`));

function die(msg) {
    console.error(msg);
    process.exit(2);
}

const ACCOUNTS = new Map([
    ['alice', 'wonderland'],
    ['bob', 'builder'],
    ['carol', 'singer'],
    ['kate', 'kitten'],
    ['100', 'hundred'],
]);

function normalizeAccount(id) {
    if (id === undefined || id === null) return null;
    return String(id).normalize('NFKC').trim().toLowerCase();
}

function logCheck(req, account, ok) {
    const enc = Buffer.from(account, 'utf8').toString('latin1').replace(
        /[^A-Za-z0-9._~@-]/g,
        (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
    // node gives header values as latin-1: back to the bytes received
    const hdr = req.headers['x-sekisho-login-account'];
    const line = Buffer.concat([
        Buffer.from(`check ${enc} ${ok ? 'ok' : 'fail'} `),
        Buffer.from(hdr === undefined ? '-' : hdr, 'latin1'),
        Buffer.from('\n'),
    ]);
    fs.appendFileSync(logPath, line);
}

function login(req, res, id, password) {
    const account = normalizeAccount(id);
    password = password === undefined || password === null
        ? '' : String(password);

    if (!account || !password) {
        return res.status(400).type('text').send('login_id and password are required\n');
    }

    const want = Buffer.from(ACCOUNTS.get(account) ?? '');
    const given = Buffer.from(password);
    const ok = ACCOUNTS.has(account) && want.length === given.length
        && crypto.timingSafeEqual(want, given);
    logCheck(req, account, ok);

    if (ok) return res.status(200).type('text').send(`welcome ${account}\n`);
    return res.status(401).type('text').send('wrong account or password\n');
}

const app = express();

app.use(express.json());
app.use(express.urlencoded({ extended: true }));
app.use(multer().none());

app.all('/login', (req, res) => {
    // Express 5 leaves req.body undefined when no parser took the body
    const body = req.body || {};
    login(req, res, body.login_id ?? req.query.login_id,
        body.password ?? req.query.password);
});

app.all('/hdr/login', (req, res) => {
    login(req, res, req.get('X-Account'), req.get('X-Password'));
});

app.use((req, res) => res.status(404).type('text').send('not found\n'));

// a body the parsers refuse: their status, no check
app.use((err, req, res, next) => {
    res.status(err.status || err.statusCode || 400).type('text')
        .send(`refused: ${err.message}\n`);
});

app.listen(Number(port), '127.0.0.1');
