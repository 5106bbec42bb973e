// The program `nettrace demo` traces: a small "app" that makes a mix of requests with http,
// https and fetch against the demo's local servers (URLs in NETTRACE_DEMO_URLS), several of which
// fail on purpose. It catches its own errors and exits 0.
import http from 'node:http';
import https from 'node:https';

const urls = JSON.parse(process.env.NETTRACE_DEMO_URLS ?? '{}');
const verbose = !!process.env.NETTRACE_DEMO_VERBOSE;

/** GET with the http/https module; resolves with status and body size, rejects on error. */
function get(mod, url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = mod.get(url, options, (res) => {
      let size = 0;
      res.on('data', (chunk) => (size += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, size }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
  });
}

async function step(name, fn) {
  try {
    const result = await fn();
    if (verbose) console.log(`${name}: ok`, result ?? '');
  } catch (err) {
    if (verbose) console.log(`${name}: ${err.code ?? err.cause?.code ?? err.name}`);
  }
}

async function loadUsers() {
  const res = await fetch(`${urls.http}/api/users`, { headers: { accept: 'application/json' } });
  return (await res.json()).length;
}

async function createUser() {
  const res = await fetch(`${urls.http}/api/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer demo-secret' },
    body: JSON.stringify({ name: 'Ada', email: 'ada@example.test' }),
  });
  return res.status;
}

async function checkStatusHttps() {
  return get(https, `${urls.https}/api/status`);
}

async function checkStatusFetchHttps() {
  const res = await fetch(`${urls.https}/api/status`);
  return (await res.json()).secure;
}

async function pageThroughUsers() {
  // Two requests on one keep-alive Agent: the second reuses the first one's connection.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await get(http, `${urls.http}/api/users?page=1`, { agent });
    await get(http, `${urls.http}/api/users?page=2`, { agent });
  } finally {
    agent.destroy();
  }
}

async function followRedirects() {
  const res = await fetch(`${urls.http}/r/3`);
  return res.url;
}

async function slowReport() {
  const res = await fetch(`${urls.http}/api/slow`);
  return res.status;
}

async function refused() {
  return get(http, `${urls.refused}/health`);
}

async function dnsFailure() {
  await fetch('http://nonexistent.invalid/api');
}

async function stalledServer() {
  await fetch(`${urls.stall}/api/stuck`, { signal: AbortSignal.timeout(300) });
}

async function resetMidBody() {
  return get(http, `${urls.reset}/download/big.bin`);
}

async function unavailable() {
  const res = await fetch(`${urls.http}/unavailable`);
  await res.text();
  return res.status;
}

await step('load users (fetch)', loadUsers);
await step('create user (fetch POST)', createUser);
await step('status (https)', checkStatusHttps);
await step('status (fetch over TLS)', checkStatusFetchHttps);
await step('page through users (keep-alive)', pageThroughUsers);
await step('redirect chain (fetch)', followRedirects);
await step('slow report', slowReport);
await step('connection refused', refused);
await step('DNS failure', dnsFailure);
await step('stalled server (300 ms timeout)', stalledServer);
await step('reset mid-body', resetMidBody);
await step('503', unavailable);
process.exitCode = 0;
