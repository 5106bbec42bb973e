// What a program observes of one http2 request (issue 51: the program cannot tell a faked failure
// from a real one): http2.connect(NT_URL), session.request(:path and query of NT_URL), and one
// JSON line of the session's and the stream's events in order, their errors (class, name, code,
// errno, syscall, message, own property names, cause), the response headers, body (one over 4 KiB
// by its start and length; bodyBytes: what the program got) and the stream's rstCode;
// calledEpoch, headersEpoch, firstDataEpoch and endEpoch: when request() was called, the response
// came, its body's first chunk and its end, on the machine's clock. NT_WARM: a first request on
// the session (so the measured one finds it connected). NT_TIMEOUT_MS: an AbortSignal.timeout on
// the request. whatIfHttp2.test.mjs runs it against a real failure and against a healthy server
// with a what-if rule.
'use strict';
const http2 = require('node:http2');
const url = new URL(process.env.NT_URL);

function errorView(e, depth = 0) {
  if (e === undefined || e === null || depth > 4) return e;
  if (typeof e !== 'object') return { value: String(e) };
  return {
    class: e.constructor && e.constructor.name,
    name: e.name,
    message: e.message,
    code: e.code,
    errno: e.errno,
    syscall: e.syscall,
    address: e.address,
    port: e.port,
    own: Object.getOwnPropertyNames(e).filter((n) => n !== 'stack'),
    cause: errorView(e.cause, depth + 1),
  };
}

// The event loop's lag meanwhile (a delay is measured within ±5 ms plus it).
const lag = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
lag.enable();
const events = [];
const out = { events };
const session = http2.connect(url.origin);
for (const ev of ['connect', 'error', 'close', 'goaway'])
  session.on(ev, (e) => {
    events.push(`session ${ev}`);
    if (ev === 'error') out.sessionError = errorView(e);
  });

function measured() {
  out.calledEpoch = performance.timeOrigin + performance.now();
  const timeoutMs = Number(process.env.NT_TIMEOUT_MS) || 0;
  const req = session.request({ ':path': url.pathname + url.search }, timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {});
  for (const ev of ['response', 'end', 'finish', 'close', 'error', 'aborted'])
    req.on(ev, (x) => {
      events.push(`stream ${ev}`);
      if (ev === 'error') out.error = errorView(x);
      if (ev === 'response') {
        out.headersEpoch = performance.timeOrigin + performance.now();
        out.headers = Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'date'));
      }
      if (ev === 'close') {
        out.rstCode = req.rstCode;
        setImmediate(() => {
          session.close();
          out.lagMs = Math.round(lag.max / 1e5) / 10;
          lag.disable();
          process.stdout.write(JSON.stringify(out) + '\n');
        });
      }
    });
  let body = '';
  out.bodyBytes = 0;
  req.setEncoding('utf8');
  req.on('data', (c) => {
    out.firstDataEpoch ??= performance.timeOrigin + performance.now();
    out.bodyBytes += Buffer.byteLength(c);
    if (body.length < 4096) body += c;
  });
  req.on('end', () => {
    out.endEpoch = performance.timeOrigin + performance.now();
    out.body = out.bodyBytes > 4096 ? `${body.slice(0, 64)}… (${out.bodyBytes} bytes)` : body;
  });
}

if (process.env.NT_WARM) {
  const w = session.request({ ':path': '/warm' });
  w.resume();
  w.on('close', () => {
    events.length = 0;
    measured();
  });
} else measured();
