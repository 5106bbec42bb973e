// got's calls, each request with the program's line (test/integration/initiator-got.test.mjs):
// GOT_DIR names the folder whose node_modules/got the program loads (got 11 by `require`, later
// got by `import`), BASE an HTTPS server speaking HTTP/1.1 and HTTP/2 whose CA is in CA.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.GOT_DIR;
const main = join(dir, 'node_modules', 'got', 'dist', 'source', 'index.js');
const cjs = JSON.parse(readFileSync(join(dir, 'node_modules', 'got', 'package.json'), 'utf8')).type !== 'module';
const mod = cjs ? createRequire(join(dir, 'x.js'))('got') : await import(pathToFileURL(main).href);
const got = mod.default ?? mod;
const base = process.env.BASE;
const options = { https: { certificateAuthority: readFileSync(process.env.CA) }, retry: { limit: 0 } };

const first = () => got(`${base}/g/first`, options).text(); // @line first
const second = () => got(`${base}/g/second`, options).text(); // @line second
const viaGet = () => got.get(`${base}/g/get`, options).text(); // @line get
const h2a = (n) => got(`${base}/g/h2a-${n}`, { ...options, http2: true }).text(); // @line h2a
const h2b = (n) => got(`${base}/g/h2b-${n}`, { ...options, http2: true }).text(); // @line h2b
const retry = { limit: 1, statusCodes: [503], calculateDelay: ({ computedValue }) => (computedValue ? 10 : 0) };
const retried = () => got(`${base}/g/flaky`, { ...options, retry }).text(); // @line retried
const ended = (stream) =>
  new Promise((resolve, reject) =>
    stream
      .on('data', () => {})
      .on('end', resolve)
      .on('error', reject),
  );
const streamed = () => ended(got.stream(`${base}/g/stream`, options)); // @line stream

await first();
await second();
await Promise.all([viaGet(), second()]);
// Asked for together while the first HTTP/2 session connects: http2-wrapper queues the others.
await Promise.all([h2a(1), h2b(1), h2a(2), h2b(2)]);
await retried();
await streamed();
console.log('done');
process.exit(0);
