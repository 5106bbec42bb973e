// What a program sees before and while it loads modules, and of the functions a tracer might
// replace: printed as one JSON line ("RESULT {...}"), to be compared traced and untraced.
'use strict';
const out = {};
// Before the program's first require: which networking modules are loaded, and the 'exit' listeners.
const NET_MODULES = ['net', 'tls', 'dns', '_http_common', '_http_client', '_http_agent', 'http', 'https', 'http2', 'dgram'];
out.loadedAtStart = NET_MODULES.filter((m) => process.moduleLoadList.includes(`NativeModule ${m}`));
out.exitListeners = process.listenerCount('exit');
out.processEvents = process
  .eventNames()
  .filter((e) => typeof e === 'string')
  .sort();

const path = require('node:path');
const util = require('node:util');
const Module = require('node:module');

// Stack frames while a module loads: the frames between the program and the module's body.
const here = __filename;
const frameNames = (stack) =>
  stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .map((l) => ({ name: /^(.*?) \(/.exec(l)?.[1] ?? '(anonymous)', file: /\(?([^()]*?):\d+:\d+\)?$/.exec(l)?.[1] ?? l }));
global.__captured = undefined;
require(path.join(__dirname, 'stack-probe.cjs'));
const frames = frameNames(global.__captured);
const loaderFrames = [];
for (const f of frames) {
  if (f.file === here) break;
  loaderFrames.push(f);
}
// The frames from the module's body down to the program's require: names and where they are.
// (The test allows one frame of the tracer's own `Module._load` among them.)
out.loadFrames = loaderFrames.map(
  (f) =>
    `${f.name} @ ${f.file.startsWith('node:') ? f.file : f.file.endsWith('stack-probe.cjs') ? 'probe' : 'other:' + path.basename(f.file)}`,
);

/** Everything a program can read of a function, in a comparable form. */
function describeFn(fn) {
  if (typeof fn !== 'function') return { type: typeof fn };
  const keys = Reflect.ownKeys(fn)
    .map((k) => (typeof k === 'symbol' ? `@@${k.description}` : k))
    .sort();
  const props = {};
  for (const k of Reflect.ownKeys(fn)) {
    const d = Object.getOwnPropertyDescriptor(fn, k);
    const v = d.value;
    props[typeof k === 'symbol' ? `@@${k.description}` : k] = {
      writable: d.writable,
      enumerable: d.enumerable,
      configurable: d.configurable,
      accessor: 'get' in d,
      value:
        typeof v === 'function' ? `function ${v.name}` : v && typeof v === 'object' ? `object with ${Reflect.ownKeys(v).length} keys` : v,
    };
  }
  return {
    name: fn.name,
    length: fn.length,
    keys,
    props,
    proto: Object.getPrototypeOf(fn) === Function.prototype ? 'Function.prototype' : 'other',
    promisifyCustom: typeof fn[util.promisify.custom],
    prototypeKeys: fn.prototype ? Reflect.ownKeys(fn.prototype).map(String).sort() : null,
  };
}
function describeProp(obj, key) {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (!d) return { own: false, inherited: describeFn(obj[key]) };
  return { own: true, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable, fn: describeFn(d.value) };
}

const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');
const http2 = require('node:http2');
const dns = require('node:dns');
out.functions = {
  'http.request': describeProp(http, 'request'),
  'http.get': describeProp(http, 'get'),
  'https.request': describeProp(https, 'request'),
  'https.get': describeProp(https, 'get'),
  'net.connect': describeProp(net, 'connect'),
  'net.createConnection': describeProp(net, 'createConnection'),
  'net.Socket.prototype.connect': describeProp(net.Socket.prototype, 'connect'),
  'tls.connect': describeProp(tls, 'connect'),
  'http2.connect': describeProp(http2, 'connect'),
  'dns.lookup': describeProp(dns, 'lookup'),
  'Module._load': describeProp(Module, '_load'),
  // Inherited from Readable; the tracer defines its own on IncomingMessage.prototype: compared as the program reaches it.
  'http.IncomingMessage.prototype.push': describeFn(http.IncomingMessage.prototype.push),
  'http.IncomingMessage.prototype._destroy': describeProp(http.IncomingMessage.prototype, '_destroy'),
  'http.ClientRequest.prototype.destroy': describeProp(http.ClientRequest.prototype, 'destroy'),
  'http.ClientRequest.prototype': Object.keys(http.ClientRequest.prototype).sort(),
  'http.IncomingMessage.prototype': Object.keys(http.IncomingMessage.prototype).sort(),
  'process.emit': describeFn(process.emit),
  'process.reallyExit': describeProp(process, 'reallyExit'),
};

// util.promisify(http2.connect): success resolves with the session; failure rejects with the error.
async function promisified() {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const res = {};
  const connect = util.promisify(http2.connect);
  try {
    const session = await connect(`http://127.0.0.1:${port}`);
    res.success = `resolved: ${session && session.constructor.name}`;
    res.sessionRequest = describeFn(Object.getPrototypeOf(session).request);
    // A stream's and its session's listeners, as the program sees them.
    const events = (e) =>
      Object.fromEntries(
        e
          .eventNames()
          .filter((n) => typeof n === 'string')
          .map((n) => [n, e.listenerCount(n)]),
      );
    await new Promise((resolve) => {
      const stream = session.request({ ':path': '/' });
      stream.on('response', () => {
        res.streamAtResponse = events(stream);
        res.sessionAtResponse = events(session);
      });
      stream.resume();
      stream.on('end', resolve);
    });
    session.close();
  } catch (err) {
    res.success = `rejected: ${err && err.constructor && err.constructor.name}`;
  }
  server.close();
  // A port where nothing listens.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const dead = probe.address().port;
  await new Promise((r) => probe.close(r));
  try {
    const s = await connect(`http://127.0.0.1:${dead}`);
    res.failure = `resolved: ${typeof s}`;
    s.destroy();
  } catch (err) {
    res.failure = `rejected: ${err.code}`;
  }
  return res;
}

promisified().then((p) => {
  out.promisify = p;
  out.exitListenersAtEnd = process.listenerCount('exit');
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
});
