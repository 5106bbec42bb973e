// What a program observes of one request (issue 51's "the program cannot tell a faked failure
// from a real one"): NT_CLIENT (http, fetch, undici) requests NT_URL and prints, as one JSON line,
// the error it got (class, name, code, errno, syscall, message, address, port, hostname, its own
// property names, the cause chain), the status and body, and the order of the request's events.
// whatIf.test.mjs runs it against a real failure and against a healthy server with a what-if rule.
'use strict';
const client = process.env.NT_CLIENT;
const url = process.env.NT_URL;

const { errorView } = require('./errorView.cjs');

function print(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

if (client === 'http') {
  const events = [];
  const req = require('node:http').get(url);
  const emit = req.emit;
  req.emit = function (ev, ...args) {
    events.push(ev);
    return emit.call(this, ev, ...args);
  };
  let error;
  req.on('error', (e) => {
    error = errorView(e);
  });
  req.on('response', (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => print({ status: res.statusCode, headers: res.headers, body, events }));
  });
  req.on('close', () => {
    if (error) setImmediate(() => print({ error, events, destroyed: req.destroyed }));
  });
} else if (client === 'fetch') {
  fetch(url).then(
    async (res) => print({ status: res.status, url: res.url, type: res.type, body: await res.text() }),
    (e) => print({ error: errorView(e) }),
  );
} else if (client === 'undici') {
  require('undici')
    .request(url)
    .then(
      async (res) => print({ status: res.statusCode, headers: res.headers, body: await res.body.text() }),
      (e) => print({ error: errorView(e) }),
    );
} else {
  throw new Error(`NT_CLIENT: ${client}`);
}
