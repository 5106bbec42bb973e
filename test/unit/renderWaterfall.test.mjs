// covers: src/cli/render.ts
// needs: the build (dist/core.cjs)
// The CLI waterfall (src/cli/render.ts): each phase a request spent time in gets at least a few
// cells, so a 60 ms HTTPS request on a new connection on a 5 s axis reads as DNS, connect, TLS and
// wait rather than one "·"; a narrow terminal gets a phase line under each request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { renderTrace, emptyTrace, PHASE_CHARS } = createRequire(import.meta.url)('../../dist/core.cjs');

const HTTPS_NEW = { blocked: 0.4, dns: 6, connect: 28, ssl: 18, send: 0.3, wait: 22, receive: 3.3 };
const REUSED = { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0.2, wait: 18, receive: 1.8 };

function trace() {
  const t = emptyTrace('node app.js');
  const req = (id, start, url, timings) => ({
    traceID: id,
    pid: 1,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: url,
    reqHeaders: [],
    reqStartAt: start,
    respStatusCode: 200,
    respDoneAt: start + 60,
    respContentLen: 100,
    dial: id === 'req-1' ? 'dial-1' : undefined,
    reusedConn: id !== 'req-1',
    timings,
  });
  t.httpRequests = [
    req('req-1', 10, 'https://api.example.test/v1/users', HTTPS_NEW),
    req('req-2', 2_000, 'https://api.example.test/v1/orders', REUSED),
    req('req-3', 5_000, 'https://api.example.test/v1/items', { ...REUSED, wait: 40 }),
  ];
  return t;
}

/** The waterfall part of a table line (after " |"). */
const bar = (line) => line.slice(line.lastIndexOf(' |') + 2);
const run = (ch, n) => ch.repeat(n);

test('a 60 ms HTTPS request on a new connection on a 5 s axis shows DNS, connect, TLS and wait cells', () => {
  const out = renderTrace(trace(), { width: 120 });
  const lines = out.split('\n');
  const first = lines.find((l) => /^\s*1 GET/.test(l));
  const cells = bar(first);
  for (const p of ['dns', 'connect', 'ssl', 'wait', 'receive']) {
    assert.ok(cells.includes(run(PHASE_CHARS[p], 2)), `${p} has at least 2 cells: "${cells}"`);
  }
  // In waterfall order, starting where the request started (the left edge).
  assert.match(cells, /^··dd+cc+ss+>>░░+██+ *$/);
  // The later requests start further right; the last one still fits in the column.
  const second = bar(lines.find((l) => /^\s*2 GET/.test(l)));
  const third = bar(lines.find((l) => /^\s*3 GET/.test(l)));
  assert.ok(second.indexOf('░') > cells.indexOf('░'));
  assert.ok(third.trimEnd().length === third.length && third.includes('██'), `"${third}"`);
  for (const l of lines) assert.ok([...l].length <= 120, `line too long: ${l}`);
  // At 120 columns every bar is legible: no phase lines.
  assert.ok(!out.includes('tls 18.0'));
});

test('a narrow terminal gets a phase line under each request, wrapped to its width', () => {
  const out = renderTrace(trace(), { width: 64 });
  const lines = out.split('\n');
  const i = lines.findIndex((l) => /^\s*1 GET/.test(l));
  const detail = lines.slice(i + 1, i + 4).join(' ');
  assert.match(detail, /d dns 6\.0 · c connect 10\.0 · s tls 18\.0/);
  assert.match(detail, /░ wait 22\.0/);
  // The phase lines wrap at the terminal's width (the table's fixed columns are wider than 64).
  const phaseLines = lines.filter((l) => / ms$| · $|·$/.test(l) && /^\s{3}\S/.test(l));
  assert.ok(phaseLines.length >= 4, phaseLines.join('\n'));
  for (const l of phaseLines) assert.ok([...l].length <= 64, `line too long (${[...l].length}): ${l}`);
});

test('with colour, the phase cells are painted and the table stays aligned', () => {
  const out = renderTrace(trace(), { width: 120, color: true });
  const first = out.split('\n').find((l) => /^\s*1 GET/.test(l));
  assert.ok(first.includes('\x1b[36md\x1b[0m') || first.includes('\x1b[36m'), 'dns coloured');
  const plain = first.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(bar(plain), /^··dd+cc+ss+>>░░+██+ *$/);
});
