// covers: src/trace/derive/initiatorLine.ts, src/cli/render.ts, webview/format.ts
// "The line that made the request" is the program's frame, never a library's: the shared rule
// (src/trace/derive/initiatorLine.ts) and where it shows (CLI line, webview list column), plus a followed
// redirect inheriting the program frame of its chain's first request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/trace/derive/initiatorLine';",
  "export { initiatorLine } from './src/cli/render';",
  "export { formatInitiator, initiatorFrame } from './webview/format';",
]);

const lib = (line) => ({
  file: '/app/node_modules/follow-redirects/index.js',
  line,
  column: 24,
  library: true,
  function: 'RedirectableRequest._performRequest',
});
const own = (line, fn = 'main') => ({ file: '/app/src/client.js', line, column: 9, function: fn });
const req = (initiator) => ({ traceID: 'r1', reqMethod: 'GET', reqURL: 'http://x/', initiator });

test("programFrame: the first frame that is not a library's; none when all are", () => {
  assert.equal(m.programFrame({ frames: [lib(361), own(14), own(3)] }).line, 14);
  assert.equal(m.programFrame({ frames: [lib(361), lib(518)] }), undefined);
  assert.equal(m.programFrame(undefined), undefined);
});

test('CLI: a library-only stack says so instead of pointing into the library; async says how', () => {
  assert.equal(m.initiatorLine(req({ frames: [lib(361), lib(518)] })), `initiator: ${m.NO_PROGRAM_FRAME}`);
  assert.equal(
    m.initiatorLine(req({ frames: [lib(361), own(14, 'load'), own(3)] })),
    'at load (/app/src/client.js:14:9) ← main (/app/src/client.js:3:9)',
  );
  assert.match(
    m.initiatorLine(req({ frames: [own(14, 'load'), lib(361)], async: true })),
    /^started asynchronously from load \(\/app\/src\/client\.js:14:9\)$/,
  );
});

test('webview list: no library line as the initiator', () => {
  assert.equal(m.formatInitiator(req({ frames: [lib(361), lib(518)] })), '');
  assert.equal(m.initiatorFrame(req({ frames: [lib(361), lib(518)] })), undefined);
  assert.equal(m.formatInitiator(req({ frames: [lib(361), own(14)] })), 'client.js:14');
});

test('inheritInitiator: a redirect hop made from library code takes the program frames of the request it follows', () => {
  const first = { frames: [own(14, 'load'), own(3), lib(361)] };
  const hop = { frames: [lib(361), lib(518)] };
  const got = m.inheritInitiator(hop, first);
  assert.deepEqual(
    got.frames.map((f) => f.line),
    [14, 3, 361, 518],
  );
  assert.equal(got.async, true);
  assert.equal(m.inheritInitiator({ frames: [own(20)] }, first), undefined, 'a hop with its own program frame keeps it');
  assert.equal(m.inheritInitiator(hop, { frames: [lib(1)] }), undefined, 'nothing to inherit');
});

test('CLI: frames of a hostile or hand-edited trace (null, no file) print, never throw', () => {
  assert.equal(m.initiatorLine(req({ frames: [null, 7, { line: 3, column: 1 }] })), 'at ?:3:1');
  assert.equal(m.initiatorLine(req({ frames: [{ file: 12, line: 1, column: 2, function: 'f' }] })), 'at f (?:1:2)');
});
