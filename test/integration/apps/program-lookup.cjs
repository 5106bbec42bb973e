// A program with its own caching `lookup` function, as npm's agents have: five requests to a host
// name, each on a new connection, through an http Agent's `lookup`, a request's own `lookup`
// option and userland undici's `connect.lookup`. Only the first asks Node's resolver; the others
// are answered from the cache. A sixth request's function asks the resolver a tick later; a
// seventh's refuses the name itself. Prints how often each happened, as the program counted.
const dns = require('node:dns');
const http = require('node:http');
const { Agent, request } = require('undici');

const cache = new Map();
let lookups = 0;
let resolverCalls = 0;
function cachedLookup(hostname, options, callback) {
  if (typeof options === 'function') [callback, options] = [options, {}];
  if (typeof options === 'number') options = { family: options };
  lookups++;
  const key = `${hostname} ${options.all ? 'all' : 'one'}`;
  const hit = cache.get(key);
  if (hit) return process.nextTick(callback, null, ...hit);
  resolverCalls++;
  dns.lookup(hostname, options, (err, ...result) => {
    if (!err) cache.set(key, result);
    callback(err, ...result);
  });
}

// A function that asks Node's resolver a tick later (after awaiting something of its own).
function deferredLookup(hostname, options, callback) {
  lookups++;
  resolverCalls++;
  setImmediate(() => dns.lookup(hostname, options, callback));
}

// A function that refuses a name itself (a block list), asking no resolver.
function blockedLookup(hostname, options, callback) {
  lookups++;
  const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
  process.nextTick(callback, err);
}

function get(url, options) {
  return new Promise((resolve, reject) => {
    http
      .get(url, options, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
server.listen(0, '127.0.0.1', async () => {
  const base = `http://localhost:${server.address().port}`;
  const agent = new http.Agent({ lookup: cachedLookup, family: 4 });
  const statuses = [];
  for (const n of [1, 2, 3]) statuses.push(await get(`${base}/agent/${n}`, { agent }));
  statuses.push(await get(`${base}/option/4`, { agent: false, lookup: cachedLookup, family: 4 }));
  const dispatcher = new Agent({ connect: { lookup: cachedLookup, family: 4 } });
  const res = await request(`${base}/undici/5`, { dispatcher });
  await res.body.text();
  statuses.push(res.statusCode);
  await dispatcher.close();
  statuses.push(await get(`${base}/deferred/6`, { agent: false, lookup: deferredLookup, family: 4 }));
  const blocked = await get(`http://blocked.test:${server.address().port}/blocked/7`, { agent: false, lookup: blockedLookup }).catch(
    (e) => e.code,
  );
  agent.destroy();
  server.close();
  console.log(JSON.stringify({ statuses, blocked, lookups, resolverCalls }));
});
