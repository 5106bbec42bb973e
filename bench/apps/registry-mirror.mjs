// A local npm registry for one lockfile (bench/npm-ci.mjs), run in its own process so its cost
// never mixes with npm's: `node registry-mirror.mjs LOCKFILE CACACHE_DIR`. Every package of the
// lockfile is served from the tarball npm's cache holds for its integrity (CACACHE_DIR/content-v2,
// checked against the integrity before serving: a wrong one stops the server with a message), at
// the path of its `resolved` URL (npm's `replace-registry-host` sends requests for
// registry.npmjs.org to the registry it is given); each package name has a metadata document
// (packument) listing the lockfile's versions, their `dist.tarball` rewritten to this server.
// Nothing else is served (404). When npm's cache lacks some tarballs, prints
// {"missing":[name@version…]} and exits with 3. Otherwise prints
// {"port":N,"packages":N,"tarballs":N,"bytes":N} once listening; on each line "count" of its stdin
// prints the requests seen so far, {"count":N,"tarballs":N,"packuments":N,"other":N,"bytes":N},
// and "reset" zeroes them. Exits on SIGTERM or when its stdin closes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [lockPath, cacache] = process.argv.slice(2);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));

/** The path in npm's content-addressed cache of the content with this integrity (its first hash). */
function cachePath(dir, integrity) {
  const [algo, b64] = integrity.split(/\s+/)[0].split('-');
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return { algo, b64, file: join(dir, 'content-v2', algo, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)) };
}

const tarballs = new Map(); // URL path → bytes
const packuments = new Map(); // name → { name, versions }
const missing = []; // name@version of the tarballs npm's cache does not hold
let bytesTotal = 0;
let port = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key || entry.link || !entry.resolved) continue;
  const path = new URL(entry.resolved).pathname;
  const name = decodeURIComponent(path.slice(1, path.indexOf('/-/')));
  if (!tarballs.has(path)) {
    const { algo, b64, file } = cachePath(cacache, entry.integrity);
    let bytes;
    try {
      bytes = readFileSync(file);
    } catch {
      missing.push(`${name}@${entry.version}`);
      continue;
    }
    if (createHash(algo).update(bytes).digest('base64') !== b64) {
      process.stderr.write(`registry-mirror: ${file} does not match the integrity of ${name}@${entry.version}\n`);
      process.exit(2);
    }
    tarballs.set(path, bytes);
    bytesTotal += bytes.length;
  }
  const doc = packuments.get(name) ?? { name, 'dist-tags': {}, versions: {} };
  // A registry's version document: the package.json fields the lockfile keeps, and where to get it.
  const meta = { name, version: entry.version };
  for (const k of ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu']) {
    if (entry[k]) meta[k] = entry[k];
  }
  doc.versions[entry.version] = { ...meta, dist: { integrity: entry.integrity, tarballPath: path } };
  doc['dist-tags'].latest = entry.version;
  packuments.set(name, doc);
}

if (missing.length) {
  // The bench adds them to npm's cache (`npm cache add`) and starts this server again.
  process.stdout.write(JSON.stringify({ missing }) + '\n');
  process.exit(3);
}

let count = 0;
let tarballCount = 0;
let packumentCount = 0;
let other = 0;
let bytesSent = 0;
const server = createServer((req, res) => {
  count++;
  req.resume();
  const path = req.url.split('?')[0];
  let body;
  let type = 'application/octet-stream';
  if (req.method === 'GET' && tarballs.has(path)) {
    tarballCount++;
    body = tarballs.get(path);
  } else {
    const doc = req.method === 'GET' && packuments.get(decodeURIComponent(path.slice(1)));
    if (doc) {
      packumentCount++;
      const versions = {};
      for (const [v, meta] of Object.entries(doc.versions)) {
        const { tarballPath, integrity } = meta.dist;
        versions[v] = { ...meta, dist: { integrity, tarball: `http://127.0.0.1:${port}${tarballPath}` } };
      }
      body = Buffer.from(JSON.stringify({ ...doc, versions }));
      type = 'application/json';
    } else {
      other++;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Not found"}');
      return;
    }
  }
  bytesSent += body.length;
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  process.stdout.write(JSON.stringify({ port, packages: packuments.size, tarballs: tarballs.size, bytes: bytesTotal }) + '\n');
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'count')
    process.stdout.write(JSON.stringify({ count, tarballs: tarballCount, packuments: packumentCount, other, bytes: bytesSent }) + '\n');
  if (line === 'reset') {
    count = tarballCount = packumentCount = other = bytesSent = 0;
    server.closeIdleConnections?.();
    process.stdout.write(JSON.stringify({ reset: true }) + '\n');
  }
});
const stop = () => {
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
