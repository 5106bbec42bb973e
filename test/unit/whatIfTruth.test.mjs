// covers: src/rules/, src/preload/rules/bodyFile.ts, src/preload/http/httpWhatIfReset.ts,
//   src/trace/derive/timings.ts, src/preload/undici/undiciWhatIfHead.ts, src/trace/derive/labels.ts
// What-if rules that must not say more than they did (issues 61 and 62): a respond bodyFile that
// cannot be a body (src/rules/whatIfActions.ts bodyFileProblem, src/preload/rules/bodyFile.ts); a reset
// after N body bytes that acts only on responses going past N (src/preload/http/httpWhatIfReset.ts,
// the engine's releaseWhatIf); the time and connection of a request answered in the server's
// place (src/trace/derive/timings.ts, labels.ts); fetch's answered head as one header block
// (src/preload/undici/undiciWhatIfHead.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export { ChunkedEnd, resetHttpAfter } from './src/preload/http/httpWhatIfReset';",
  "export { readBodyFile, loadBodyFiles, respondBody } from './src/preload/rules/bodyFile';",
  "export { headerViews, rawHeaders } from './src/preload/undici/undiciWhatIfHead';",
  "export { bodyFileProblem, MAX_BODY } from './src/rules/whatIfActions';",
  "export { connectionState } from './src/trace/derive/labels';",
  "export { computeTimings } from './src/trace/derive/timings';",
  "export { validateRules, RuleEngine, releaseWhatIf } from './src/rules';",
]);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-whatif-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('bodyFile: a regular file of at most 1 MiB is read whole; anything else is refused with its reason', () => {
  assert.equal(m.MAX_BODY, 1024 * 1024);
  const cap = Buffer.alloc(m.MAX_BODY, 7);
  writeFileSync(join(dir, 'cap'), cap);
  writeFileSync(join(dir, 'over'), Buffer.alloc(m.MAX_BODY + 1));
  writeFileSync(join(dir, 'small'), 'hi');
  symlinkSync(join(dir, 'small'), join(dir, 'link'));
  mkdirSync(join(dir, 'dir'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  assert.ok(m.readBodyFile(join(dir, 'cap')).equals(cap));
  const reason = (name) => {
    try {
      m.readBodyFile(join(dir, name));
    } catch (e) {
      return e.message;
    }
    return 'read';
  };
  assert.equal(reason('over'), 'is 1048577 bytes, over the 1048576 bytes (1 MiB) a body may have');
  assert.match(reason('link'), /^is a symbolic link/);
  assert.equal(reason('dir'), 'is a directory, not a file');
  assert.equal(reason('fifo'), 'is a FIFO (a named pipe), not a regular file', 'opened without blocking, checked on the descriptor');
  assert.equal(reason('missing'), 'does not exist');
  assert.equal(
    m.bodyFileProblem({ isFile: () => false, isDirectory: () => false, isFIFO: () => false, size: 0 }),
    'is not a regular file (a device or a socket)',
  );
});

test('loadBodyFiles: a rule whose file cannot be its body is disabled, with a warning naming it; the others keep their bodies', () => {
  const rules = m.validateRules([
    { id: 'ok', condition: 'true', action: 'respond', enabled: true, respond: { status: 200, bodyFile: join(dir, 'small') } },
    { id: 'fifo', condition: 'true', action: 'respond', enabled: true, respond: { status: 200, bodyFile: join(dir, 'fifo') } },
    { id: 'inline', condition: 'true', action: 'respond', enabled: true, respond: { status: 201, body: 'x' } },
  ]);
  const warnings = [];
  const out = m.loadBodyFiles(rules, (w) => warnings.push(w));
  assert.deepEqual(
    out.map((r) => [r.id, r.enabled]),
    [
      ['ok', true],
      ['fifo', false],
      ['inline', true],
    ],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^what-if rule "fifo" is refused and acts on no request: its bodyFile ".*fifo" is a FIFO/);
  assert.equal(m.respondBody(out[0].respond).toString(), 'hi');
  assert.equal(m.respondBody(out[2].respond).toString(), 'x');
  // The engine's copies of a rule share its parameters: the body is found from the decision's rule.
  const e = new m.RuleEngine(out, { process: { pid: 1, threadId: 0, command: 'x' } });
  const d = e.start({ method: 'GET', scheme: 'http', host: 'h', port: 80, target: '/', client: 'http' });
  assert.equal(d.whatIf.id, 'ok');
  assert.equal(m.respondBody(d.whatIf.respond).toString(), 'hi');
});

/** Runs resetHttpAfter over raw reads; returns what went through, whether it cut, and what it decided. */
function reset(n, reads, method = 'GET') {
  const pushed = [];
  const seen = { cut: 0, decided: [] };
  const step = m.resetHttpAfter(n, method, {
    push: (c) => pushed.push(c === null ? null : c.toString('latin1')),
    cut: () => seen.cut++,
    decided: (acted) => seen.decided.push(acted),
  });
  for (const r of reads) step(r === null ? null : Buffer.from(r, 'latin1'));
  return { text: pushed.filter((c) => c !== null).join(''), ended: pushed.includes(null), ...seen };
}

test('reset after N body bytes: a response that ends within N goes through as sent and the rule did not act', () => {
  const head = (h) => `HTTP/1.1 200 OK\r\n${h}\r\n\r\n`;
  // Content-Length shorter than N, and exactly N: whole, not acted.
  for (const len of [40, 100]) {
    const msg = head(`Content-Length: ${len}`) + 'a'.repeat(len);
    const r = reset(100, [msg.slice(0, 10), msg.slice(10)]);
    assert.deepEqual([r.text, r.cut, r.decided], [msg, 0, [false]], `length ${len}`);
  }
  // Longer than N: N body bytes, then the cut.
  const long = head('Content-Length: 300') + 'a'.repeat(300);
  const r = reset(100, [long]);
  assert.deepEqual([r.text, r.cut, r.decided], [head('Content-Length: 300') + 'a'.repeat(100), 1, [true]]);
  // Chunked: its framing counts; a body that ends (last chunk and CRLF) within N is whole.
  const chunked = head('Transfer-Encoding: chunked') + '14\r\n' + 'b'.repeat(20) + '\r\n0\r\nX-T: 1\r\n\r\n';
  const c = reset(
    100,
    [...chunked].map((ch) => ch),
  );
  assert.deepEqual([c.text, c.cut, c.decided], [chunked, 0, [false]], 'byte by byte, trailers included');
  const bigChunked = head('Transfer-Encoding: chunked') + 'c8\r\n' + 'b'.repeat(200) + '\r\n0\r\n\r\n';
  const bc = reset(100, [bigChunked]);
  assert.deepEqual([bc.cut, bc.decided, bc.text.length], [1, [true], head('Transfer-Encoding: chunked').length + 100]);
  // No body: HEAD, 204, 304 — never acted (N = 0 too).
  assert.deepEqual(reset(0, [head('Content-Length: 50')], 'HEAD').decided, [false]);
  assert.deepEqual(reset(0, ['HTTP/1.1 204 No Content\r\n\r\n']).decided, [false]);
  // An interim 100 Continue is passed over: the final response's body is counted.
  const cont = 'HTTP/1.1 100 Continue\r\n\r\n' + head('Content-Length: 5') + 'hello';
  assert.deepEqual(reset(10, [cont]).decided, [false]);
  assert.deepEqual(reset(3, [cont]).decided, [true]);
  // A body until the connection's end: the end within N is the response's own.
  const close = head('Connection: close') + 'z'.repeat(30);
  const cl = reset(100, [close, null]);
  assert.deepEqual([cl.text, cl.ended, cl.cut, cl.decided], [close, true, 0, [false]]);
  // An early close of a response with a length: the server's, not the rule's.
  const early = reset(100, [head('Content-Length: 300') + 'a'.repeat(10), null]);
  assert.deepEqual([early.ended, early.cut, early.decided], [true, 0, [false]]);
});

test('ChunkedEnd: the end of a chunked body, with extensions and trailers, across any split', () => {
  const body = '5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nA: b\r\nC: d\r\n\r\n';
  for (let cut = 0; cut <= body.length; cut++) {
    const e = new m.ChunkedEnd();
    const first = e.feed(Buffer.from(body.slice(0, cut)));
    const second = first >= 0 ? -2 : e.feed(Buffer.from(body.slice(cut) + 'NEXT'));
    const end = first >= 0 ? first : cut + second;
    assert.equal(end, body.length, `split at ${cut}`);
  }
  assert.equal(new m.ChunkedEnd().feed(Buffer.from('5\r\nhel')), -1, 'goes on');
});

test('releaseWhatIf: a what-if rule that did not act gives its count (and limit) back', () => {
  const rules = m.validateRules([
    { id: 'cut', condition: 'true', action: 'fail', enabled: true, limit: 1, fail: { kind: 'reset', afterBytes: 10 } },
  ]);
  const e = new m.RuleEngine(rules, { process: { pid: 1, threadId: 0, command: 'x' } });
  const view = { method: 'GET', scheme: 'http', host: 'h', port: 80, target: '/', client: 'http' };
  const d = e.start(view);
  assert.equal(d.whatIf?.id, 'cut');
  assert.equal(e.start(view).whatIf, null, 'the limit is held while it may act');
  m.releaseWhatIf(d);
  m.releaseWhatIf(d);
  assert.deepEqual(
    e.counters().map((c) => [c.matched, c.acted, c.limitReached]),
    [[2, 0, false]],
    'matched twice, acted on none (once given back, not twice)',
  );
  assert.equal(e.start(view).whatIf?.id, 'cut', 'the next request gets it');
});

test("a request answered in the server's place: its time is blocked, none is send, and it shows no connection", () => {
  const whatIf = { rule: 'r', action: 'respond', status: 200 };
  const request = {
    traceID: 'r1',
    pid: 1,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: 'http://h/',
    reqStartAt: 0,
    reqSentAt: 12,
    respRecvAt: 12,
    respDoneAt: 13,
    whatIf,
  };
  assert.deepEqual(m.computeTimings({ request }), { blocked: 12, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 1 });
  // A refusal on a socket Node had given it, kept alive or new, or none: the same state each time.
  const refused = { rule: 'r', action: 'fail', kind: 'refused' };
  const err = { phase: 'connect', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' };
  const base = { traceID: 'r', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://h/', reqError: err, whatIf: refused };
  const states = [
    m.connectionState({ ...base, reusedConn: true, tcpConn: 'c1' }, { traceID: 'c1', pid: 1, connected: true }),
    m.connectionState({ ...base, reusedConn: false, tcpConn: 'c2' }, { traceID: 'c2', pid: 1, connected: false, whatIf: true }),
    m.connectionState({ ...base, dial: 'd3' }),
    m.connectionState({ ...base }),
  ];
  assert.deepEqual(states, [undefined, undefined, undefined, undefined]);
  // A real refusal still says it failed; a rule answering on the program's own real connection shows it.
  assert.equal(m.connectionState({ ...base, whatIf: undefined, dial: 'd' }), 'failed');
  assert.equal(
    m.connectionState(
      { ...base, whatIf, reqError: undefined, respStatusCode: 200, tcpConn: 'c4' },
      { traceID: 'c4', pid: 1, connected: true },
    ),
    'new',
  );
});

test("fetch's answered head: the header pairs are views of one header block, as undici's parser gives them", () => {
  const raw = m.rawHeaders({ 'Retry-After': '1', 'X-Two': ['a', 'b'] }, 0);
  assert.deepEqual(
    raw.map((b) => b.toString('latin1')),
    ['Retry-After', '1', 'X-Two', 'a', 'X-Two', 'b', 'content-length', '0'],
  );
  const block = Buffer.from(raw[0].buffer, raw[0].byteOffset, raw.at(-1).byteOffset + raw.at(-1).length - raw[0].byteOffset);
  assert.equal(block.toString('latin1'), 'Retry-After: 1\r\nX-Two: a\r\nX-Two: b\r\ncontent-length: 0');
  for (const b of raw) assert.equal(b.buffer, raw[0].buffer);
});
