// Failure and slowness scenarios for the diagnosis test, one after another against servers the
// test started (addresses in NT_DIAG). Each request's path is /diag/<scenario>. Prints, per
// scenario, what the program saw.
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { Agent, ProxyAgent, request } from 'undici';

const d = JSON.parse(process.env.NT_DIAG);

/** A GET with http/https; resolves with the status or the error code, never rejects. */
function get(mod, url, opts = {}) {
  return new Promise((resolve) => {
    const onResponse = (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode));
      res.on('error', (e) => resolve(e.code || e.name));
    };
    const req = typeof url === 'string' ? mod.get(url, opts, onResponse) : mod.get({ ...url, ...opts }, onResponse);
    req.on('error', (e) => resolve(e.code || e.name));
  });
}

/** An undici request; resolves with the status or the error code. */
async function undiciGet(url, dispatcher) {
  try {
    const res = await request(url, { dispatcher });
    await res.body.text();
    return res.statusCode;
  } catch (e) {
    return e.code || e.name;
  } finally {
    await dispatcher.close().catch(() => {});
  }
}

/** One HTTP/2 stream on its own session; resolves with the status or the error code. */
function h2get(path) {
  return new Promise((resolve) => {
    const session = http2.connect(d.h2);
    session.on('error', () => {});
    const stream = session.request({ ':path': path });
    let status;
    stream.on('response', (h) => (status = h[':status']));
    stream.resume();
    stream.on('end', () => resolve(status));
    stream.on('error', (e) => resolve(e.code));
    stream.on('close', () => {
      session.close();
      resolve(status ?? 'closed');
    });
    stream.end();
  });
}

/** A lookup answering with fixed IPv4 addresses, in order. */
const fixedLookup = (addresses) => (host, options, cb) => {
  if (options && options.all)
    cb(
      null,
      addresses.map((address) => ({ address, family: 4 })),
    );
  else cb(null, addresses[0], 4);
};

const scenarios = {
  refused: () => get(http, `${d.refused}/diag/refused`),
  'all-refused': () =>
    get(http, {
      host: 'multi.test',
      port: d.refusedPort,
      path: '/diag/all-refused',
      lookup: fixedLookup(['127.0.0.2', '127.0.0.3']),
      autoSelectFamily: true,
    }),
  dns: () => get(http, 'http://nonexistent.invalid/diag/dns'),
  'connect-timeout': () => undiciGet(`http://127.0.0.1:${d.blackholePort}/diag/connect-timeout`, new Agent({ connect: { timeout: 300 } })),
  expired: () => get(https, `https://localhost:${d.tls.expired}/diag/expired`),
  wronghost: () => get(https, `https://localhost:${d.tls.wronghost}/diag/wronghost`),
  untrusted: () => get(https, `https://localhost:${d.tls.untrusted}/diag/untrusted`),
  'plain-http': () => get(https, `https://localhost:${d.tls.plain}/diag/plain-http`),
  'tls-timeout': () => get(https, `https://localhost:${d.tls.timeout}/diag/tls-timeout`, { signal: AbortSignal.timeout(300) }),
  'first-byte-timeout': () => get(http, `${d.stall}/diag/first-byte-timeout`, { signal: AbortSignal.timeout(300) }),
  'reset-mid-body': () => get(http, `${d.reset}/diag/reset-mid-body`),
  hangup: () => get(http, `${d.hangup}/diag/hangup`),
  'hangup-fetch': () =>
    fetch(`${d.hangup}/diag/hangup-fetch`).then(
      (res) => res.status,
      (e) => e.cause?.code ?? e.name,
    ),
  503: () => get(http, `${d.http}/diag/503?status=503`),
  404: () => get(http, `${d.http}/diag/404?status=404`),
  'slow-first-byte': () => get(http, `${d.http}/diag/slow-first-byte?delay=600`),
  'slow-download': () => get(http, `${d.http}/diag/slow-download?trickle=12`),
  'slow-tls': () => get(https, `https://localhost:${d.slowTlsPort}/diag/slow-tls`),
  // The first address drops SYNs (a full accept queue); happy eyeballs moves on to the second.
  'slow-connect': () =>
    get(http, {
      host: 'multi.test',
      port: d.blackholePort,
      path: '/diag/slow-connect',
      lookup: fixedLookup(['127.0.0.1', '127.0.0.2']),
      autoSelectFamily: true,
      autoSelectFamilyAttemptTimeout: 500,
    }),
  goaway: () => h2get('/diag/goaway'),
  'rst-stream': () => h2get('/diag/rst-stream'),
  'proxy-refused': () => undiciGet(`https://localhost:${d.tls.good}/diag/proxy-refused`, new ProxyAgent(d.proxy403)),
  'abort-by-program': () => {
    // Aborted on an event of the program's (not from a timer's callback, which would make it the
    // program's own timeout): here an Immediate that a timer schedules.
    const ac = new AbortController();
    setTimeout(() => setImmediate(() => ac.abort()), 150);
    return get(http, `${d.stall}/diag/abort-by-program`, { signal: ac.signal });
  },
};

const seen = {};
for (const [name, run] of Object.entries(scenarios)) seen[name] = await run();
console.log(JSON.stringify(seen));
