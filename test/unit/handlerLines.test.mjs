// covers: src/protocol/events.ts, src/collector/eventDecoder.ts,
//   src/preload/server/functionSites.ts, src/extension/handlerAnnotations.ts
// needs: the build (dist/core.cjs)
// An incoming request's handler line (issue 37): the builder turns the preload's one-frame stack
// reference into the `handler` frame, the field travels as a binary event, a damaged one in a
// saved file is dropped, and FunctionSites reads a function's own position through the inspector
// (the program's functions only: a library's, a native or Node's one has none; a bound function
// is its target's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleTs } from '../lib/bundleTs.mjs';

const { TraceBuilder, parseTraceFile } = createRequire(import.meta.url)('../../dist/core.cjs');
const wire = bundleTs(["export * from './src/protocol/events';", "export { EventDecoder } from './src/collector/eventDecoder';"]);
const sites = bundleTs(["export { FunctionSites } from './src/preload/server/functionSites';"]);

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;

test('the builder resolves `handler` to the frame of the stack message it names', () => {
  const b = new TraceBuilder({ description: 't', beginAt: new Date(BEGIN), now: () => at(999) });
  const c = b.openConnection();
  b.apply(c, { type: 'hello', pid: 7, threadId: 0, argv: [], nodeVersion: 'v22', cwd: '/', startAt: at(1) });
  const frame = {
    file: '/app/routes.ts',
    line: 12,
    column: 3,
    function: 'checkout',
    generated: { file: '/app/routes.ts', line: 2, column: 900 },
  };
  b.apply(c, { type: 'stack', id: 's1', initiator: { frames: [frame] } });
  b.apply(c, {
    type: 'record',
    kind: 'incomingRequests',
    id: 'i1',
    fields: { server: 'http', reqMethod: 'GET', reqURL: 'http://a/', reqRecvAt: at(2) },
  });
  assert.equal(b.trace.incomingRequests[0].handler, undefined);
  b.apply(c, { type: 'record', kind: 'incomingRequests', id: 'i1', fields: { handler: 's1', reqEndAt: at(3) } });
  assert.deepEqual(b.trace.incomingRequests[0].handler, frame);
  // A reference to a stack that never came leaves the field out.
  b.apply(c, {
    type: 'record',
    kind: 'incomingRequests',
    id: 'i2',
    fields: { server: 'http', reqMethod: 'GET', reqURL: 'http://a/', handler: 's9' },
  });
  assert.equal(b.trace.incomingRequests[1].handler, undefined);
});

test('`handler` travels as a binary event (an interned stack id)', () => {
  const enc = new wire.EventEncoder();
  enc.begin('incomingRequests', 'i3');
  enc.field('handler', 's4');
  assert.ok(enc.end());
  const out = new wire.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
  assert.deepEqual(out.messages[0].fields, { handler: 's4' });
});

test('a saved trace: a damaged handler is dropped, a good one kept', () => {
  const incoming = [
    { traceID: 'in-1', pid: 1, server: 'http', reqMethod: 'GET', reqURL: 'http://a/', handler: { file: '/app/a.js', line: 3, column: 1 } },
    { traceID: 'in-2', pid: 1, server: 'http', reqMethod: 'GET', reqURL: 'http://a/', handler: { file: 7, line: 'x' } },
  ];
  const text = JSON.stringify({
    formatVersion: 1,
    description: 't',
    traceBeginAt: new Date(BEGIN).toISOString(),
    processes: [],
    httpRequests: [],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    incomingRequests: incoming,
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  });
  const t = parseTraceFile(text, 'x.json');
  assert.deepEqual(t.incomingRequests[0].handler, { file: '/app/a.js', line: 3, column: 1 });
  assert.equal(t.incomingRequests[1].handler, undefined);
});

const here = fileURLToPath(import.meta.url);
// prettier-ignore
function namedHandler(req, res) { return [req, res]; } // @line named
const arrow = () => 1; // @line arrow

const lineOf = (name) =>
  readFileSync(here, 'utf8')
    .split('\n')
    .findIndex((l) => l.endsWith(`// @line ${name}`)) + 1;

test("FunctionSites: a function's own file, line and name; a bound one its target's; none for a native, Node's or a library's one", () => {
  const fs = new sites.FunctionSites('/nowhere/preload.cjs');
  assert.deepEqual(fs.site(namedHandler), { file: here, line: lineOf('named'), column: 22, function: 'namedHandler' });
  assert.deepEqual({ ...fs.site(arrow), column: 0 }, { file: here, line: lineOf('arrow'), column: 0, function: 'arrow' });
  assert.deepEqual(fs.site(namedHandler.bind(null)), fs.site(namedHandler), 'a bound function: its target');
  assert.equal(fs.site(Math.max), null, 'native');
  assert.equal(fs.site(createRequire), null, "Node's own");
  assert.equal(fs.site(createRequire(import.meta.url)('express')), null, 'a library (node_modules)');
  assert.equal(new sites.FunctionSites(here).site(namedHandler), null, "the preload's own file");
});

const lens = bundleTs(["export * from './src/extension/handlerAnnotations';"]);

test("the handlers' CodeLens: per handler line, how many incoming requests it served and their median time", () => {
  const idx = new lens.HandlerIndex('posix');
  const served = (n, extra = {}) => ({
    traceID: `in-${n}`,
    pid: 1,
    server: 'http',
    reqMethod: 'POST',
    reqURL: `http://gw/checkout/${n}?x=1`,
    route: '/checkout/:id',
    reqRecvAt: 100,
    respDoneAt: 100 + n * 10,
    respStatusCode: 200,
    handler: { file: '/app/routes.ts', line: 12, column: 5 },
    ...extra,
  });
  for (const n of [1, 2, 3, 4]) idx.upsert(served(n));
  idx.upsert(served(5, { respDoneAt: undefined, respStatusCode: undefined, incomplete: 'process exited' }));
  idx.upsert(served(6, { handler: { file: 'file:///app/routes.ts', line: 30, column: 1 }, route: undefined, reqMethod: 'GET' }));
  idx.upsert(served(7, { handler: undefined }));
  const lines = idx.lines('/app/routes.ts');
  assert.deepEqual(
    lines.map((l) => [l.line, l.served.length]),
    [
      [11, 5],
      [29, 1],
    ],
  );
  assert.equal(lens.handlerLensTitle(lines[0]), 'served 5 · median 25 ms · 1 failed · POST /checkout/:id');
  assert.equal(lens.handlerLensTitle(lines[1]), 'served 1 · median 60 ms · GET /checkout/6');
  // A request's later record moves it (its handler learnt, or changed); one without a handler leaves.
  idx.upsert(served(6, { handler: undefined }));
  assert.deepEqual(
    idx.lines('/app/routes.ts').map((l) => l.line),
    [11],
  );
  idx.upsert(served(1, { route: '/other', reqMethod: 'GET' }));
  assert.match(lens.handlerLensTitle(idx.lines('/app/routes.ts')[0]), /· 2 routes$/);
  assert.equal(lens.median([3, 1, 2]), 2);
  assert.equal(lens.median([]), undefined);
  idx.clear();
  assert.deepEqual(idx.lines('/app/routes.ts'), []);
});
