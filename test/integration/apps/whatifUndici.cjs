// What a program observes of one fetch() or undici.request() (issue 51: the program cannot tell a
// faked failure from a real one). NT_CLIENT (fetch, undici) requests NT_URL and prints one JSON
// line: the error (class, name, code, errno, syscall, message, address, port, hostname, own
// property names, cause chain; a certificate error's reason, host and certificate fields), or the status, status text, headers, body and what streaming the
// body gave (bytes before an error, the error); and when the headers and the end came (ms after
// the call; headersEpoch: on the machine's clock), with each chunk's arrival for a rate. NT_TIMEOUT_MS: an AbortSignal.timeout on the
// request. NT_HEADERS_TIMEOUT_MS (undici): its own headersTimeout. NT_AGENT_HEADERS_TIMEOUT_MS: the
// request goes through an undici Agent with that headersTimeout (the `dispatcher` of fetch() and
// undici.request()), and prints whether the error is undici's errors.HeadersTimeoutError. whatIfUndici.test.mjs runs it
// against a real failure and against a healthy server with a what-if rule.
'use strict';
const client = process.env.NT_CLIENT;
const url = process.env.NT_URL;
const timeoutMs = Number(process.env.NT_TIMEOUT_MS) || 0;
const headersTimeout = Number(process.env.NT_HEADERS_TIMEOUT_MS) || undefined;
const agentTimeout = Number(process.env.NT_AGENT_HEADERS_TIMEOUT_MS) || undefined;
const dispatcher = agentTimeout ? new (require('undici').Agent)({ headersTimeout: agentTimeout }) : undefined;
/** Whether `e` (or its cause) is undici's HeadersTimeoutError by its `instanceof` (undefined without an Agent). */
const isHeadersTimeout = (e) =>
  dispatcher ? [e, e && e.cause].some((x) => x instanceof require('undici').errors.HeadersTimeoutError) : undefined;

const { errorView } = require('./errorView.cjs');

/** A certificate error's own fields in the cause chain (wrong host: reason, host, the certificate's fields). */
function tlsView(e) {
  for (let c = e, i = 0; c && typeof c === 'object' && i < 5; c = c.cause, i++) {
    if (c.reason !== undefined || c.cert !== undefined)
      return { reason: c.reason, host: c.host, cert: c.cert && typeof c.cert === 'object' ? Object.keys(c.cert).sort() : c.cert };
  }
  return undefined;
}

// The event loop's lag meanwhile (a delay is measured within ±5 ms plus it).
// lagMs: since the start; callLagMs: from the request's call to its headers.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const lag = monitorEventLoopDelay({ resolution: 1 });
const callLag = monitorEventLoopDelay({ resolution: 1 });
lag.enable();
callLag.enable();
const t0 = performance.now();
const ms = () => Math.round((performance.now() - t0) * 10) / 10;
const msOf = (h) => Math.round(h.max / 1e5) / 10;
function print(o) {
  process.stdout.write(JSON.stringify({ ...o, lagMs: msOf(lag) }) + '\n');
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
/** Requests `u` with the client and prints what the program observed; `calledEpoch`: the call, on the machine's clock. */
function observe(u) {
  callLag.reset();
  const calledEpoch = performance.timeOrigin + performance.now();
  if (client === 'fetch') {
    return fetch(u, { signal, dispatcher }).then(
      async (res) => {
        const headersAt = ms();
        const headersEpoch = performance.timeOrigin + performance.now();
        const callLagMs = msOf(callLag);
        const body = await readBody(res.body);
        print({
          calledEpoch,
          headersEpoch,
          callLagMs,
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
      (e) => print({ calledEpoch, error: errorView(e), tls: tlsView(e), headersTimeout: isHeadersTimeout(e), at: ms() }),
    );
  }
  if (client === 'undici') {
    return require('undici')
      .request(u, { signal, headersTimeout, dispatcher })
      .then(
        async (res) => {
          const headersAt = ms();
          const headersEpoch = performance.timeOrigin + performance.now();
          const callLagMs = msOf(callLag);
          const body = await readBody(res.body);
          print({
            calledEpoch,
            headersEpoch,
            callLagMs,
            status: res.statusCode,
            headers: res.headers,
            trailers: res.trailers,
            headersAt,
            body,
          });
        },
        (e) => print({ calledEpoch, error: errorView(e), tls: tlsView(e), headersTimeout: isHeadersTimeout(e), at: ms() }),
      );
  }
  throw new Error(`NT_CLIENT: ${client}`);
}

// NT_COMPARE: requested (and printed) before NT_URL, one after the other (a delay is measured against it).
warm
  .then(() => (process.env.NT_COMPARE ? observe(process.env.NT_COMPARE) : undefined))
  .then(() => observe(url))
  .finally(() => {
    lag.disable();
    callLag.disable();
  });
