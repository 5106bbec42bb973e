// What a program observes of one fetch() or undici.request() (issue 51: the program cannot tell a
// faked failure from a real one). NT_CLIENT (fetch, undici) requests NT_URL and prints one JSON
// line: the error (class, name, code, errno, syscall, message, address, port, hostname, own
// property names, cause chain), or the status, status text, headers, body and what streaming the
// body gave (bytes before an error, the error); and when the headers and the end came (ms after
// the call; headersEpoch: on the machine's clock), with each chunk's arrival for a rate. NT_TIMEOUT_MS: an AbortSignal.timeout on the
// request. NT_HEADERS_TIMEOUT_MS (undici): its own headersTimeout. whatIfUndici.test.mjs runs it
// against a real failure and against a healthy server with a what-if rule.
'use strict';
const client = process.env.NT_CLIENT;
const url = process.env.NT_URL;
const timeoutMs = Number(process.env.NT_TIMEOUT_MS) || 0;
const headersTimeout = Number(process.env.NT_HEADERS_TIMEOUT_MS) || undefined;

const { errorView } = require('./errorView.cjs');

// The event loop's lag meanwhile (a delay is measured within ±5 ms plus it).
const lag = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
lag.enable();
const t0 = performance.now();
const ms = () => Math.round((performance.now() - t0) * 10) / 10;
function print(o) {
  lag.disable();
  process.stdout.write(JSON.stringify({ ...o, lagMs: Math.round(lag.max / 1e5) / 10 }) + '\n');
}

/** Reads a body (an async iterable of chunks): bytes, text (when short), error, chunk times. */
async function readBody(body) {
  const chunks = [];
  const arrivals = [];
  let bytes = 0;
  let error;
  try {
    for await (const c of body) {
      bytes += c.length;
      arrivals.push([ms(), bytes]);
      chunks.push(Buffer.from(c));
    }
  } catch (e) {
    error = errorView(e);
  }
  const all = Buffer.concat(chunks);
  return { bytes, text: bytes <= 4096 ? all.toString('utf8') : undefined, error, arrivals, end: ms() };
}

const signal = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
// NT_WARM_URL: requested first, so the measured request finds the client's code compiled and a connection open.
const warm = process.env.NT_WARM_URL
  ? client === 'fetch'
    ? fetch(process.env.NT_WARM_URL).then((r) => r.text())
    : require('undici')
        .request(process.env.NT_WARM_URL)
        .then((r) => r.body.text())
  : Promise.resolve();
if (client === 'fetch') {
  warm
    .then(() => fetch(url, { signal }))
    .then(
      async (res) => {
        const headersAt = ms();
        const headersEpoch = performance.timeOrigin + performance.now();
        const body = await readBody(res.body);
        print({
          headersEpoch,
          status: res.status,
          statusText: res.statusText,
          headers: [...res.headers],
          url: res.url,
          type: res.type,
          redirected: res.redirected,
          headersAt,
          body,
        });
      },
      (e) => print({ error: errorView(e), at: ms() }),
    );
} else if (client === 'undici') {
  warm
    .then(() => require('undici').request(url, { signal, headersTimeout }))
    .then(
      async (res) => {
        const headersAt = ms();
        const headersEpoch = performance.timeOrigin + performance.now();
        const body = await readBody(res.body);
        print({ headersEpoch, status: res.statusCode, headers: res.headers, trailers: res.trailers, headersAt, body });
      },
      (e) => print({ error: errorView(e), at: ms() }),
    );
} else {
  throw new Error(`NT_CLIENT: ${client}`);
}
