// covers: src/preload/initiator/stackCapture.ts
// The preload's initiator capture: the stack budget that decides which requests get their stack,
// and the raw key that lets a stack seen before skip formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export * from './src/preload/initiator/stackCapture';"]);
const rm = bundleTs(["export * from './src/preload/initiator/runtimeMaps';"]);

test('initiator "all" captures every stack, "off" none (counted)', () => {
  const all = new m.StackBudget('all', 0);
  for (let i = 0; i < 1000; i++) {
    assert.equal(all.allow(i * 0.001), true);
    all.charge(5);
  }
  assert.equal(all.skipped, 0);
  const off = new m.StackBudget('off', 0);
  for (let i = 0; i < 10; i++) assert.equal(off.allow(i), false);
  assert.equal(off.skipped, 10);
});

test('initiator "sampled": the first requests always, then 1% of the elapsed time', () => {
  const b = new m.StackBudget('sampled', 1000);
  // A burst far over budget (each capture "takes" 1 ms): the first ALWAYS_CAPTURED still get theirs.
  for (let i = 0; i < m.ALWAYS_CAPTURED; i++) {
    assert.equal(b.allow(1000), true, `request ${i}`);
    b.charge(1);
  }
  assert.equal(b.skipped, 0);
  // Then the bucket: full (1% of a 200 ms window = 2 ms), spent by two 1 ms captures.
  assert.equal(b.allow(1000), true);
  b.charge(1);
  assert.equal(b.allow(1000), true);
  b.charge(1.5);
  assert.equal(b.allow(1000), false);
  assert.equal(b.allow(1010), false, '10 ms later: 0.1 ms of credit, still 0.4 ms in debt');
  assert.equal(b.allow(1060), true, '50 ms later: 0.5 ms earned in all, back in credit');
  assert.equal(b.skipped, 2);
  // A long pause refills only up to the window's worth: 2 ms, whatever the pause.
  b.charge(0.1);
  assert.equal(b.allow(100000), true);
  b.charge(2.05);
  assert.equal(b.allow(100000), false);
  assert.equal(b.skipped, 3);
});

test('at a steady rate, capture time stays near 1% of the elapsed time', () => {
  const b = new m.StackBudget('sampled', 0);
  const costMs = 0.01; // 10 µs per capture
  let spent = 0;
  let captured = 0;
  const n = 200000;
  const gapMs = 0.05; // 20,000 requests a second for 10 s
  for (let i = 0; i < n; i++) {
    if (b.allow(i * gapMs)) {
      b.charge(costMs);
      spent += costMs;
      captured++;
    }
  }
  const elapsed = n * gapMs;
  assert.ok(spent / elapsed <= 0.0105 + (m.ALWAYS_CAPTURED * costMs) / elapsed, `share ${spent / elapsed}`);
  assert.ok(spent / elapsed >= 0.0095, `share ${spent / elapsed}`);
  assert.equal(captured + b.skipped, n);
});

function here() {
  return m.captureStack(here);
}

test('rawStackKey: one key per call site, formatted frames point at the caller', () => {
  const keys = [];
  for (let i = 0; i < 2; i++) keys.push(m.rawStackKey(m.callSites(here()), 10, '/nonexistent/preload.cjs'));
  const other = m.rawStackKey(m.callSites(here()), 10, '/nonexistent/preload.cjs');
  assert.equal(keys[0], keys[1], 'the same site twice');
  assert.notEqual(other, keys[0], 'another site');
  const init = m.formatSites(m.callSites(here()), 10, '/nonexistent/preload.cjs');
  assert.match(init.frames[0].file, /initiator\.test\.mjs$/);
  assert.equal(m.callSites(m.NO_STACK), undefined, 'a stack not captured has no call sites');
});

test('time spent reading stacks later is charged too, and puts the budget in debt', () => {
  const b = new m.StackBudget('sampled', 0);
  for (let i = 0; i < m.ALWAYS_CAPTURED; i++) {
    assert.equal(b.allow(0), true);
    assert.equal(b.lastFree, true, 'the first ones are free (their later costs are not charged)');
  }
  assert.equal(b.allow(0), true);
  assert.equal(b.lastFree, false);
  b.charge(0.1);
  // Reading its frames took 10 ms: no stack until elapsed time pays that back at 1%.
  b.chargeLater(10);
  assert.equal(b.allow(1), false);
  assert.equal(b.allow(500), false, 'at 1% of 500 ms, 5 ms of the debt repaid');
  assert.equal(b.allow(1200), true);
});

// ---- the program's frame, however deep; async frames; in-memory source maps ------------------

const vm = await import('node:vm');
const { createRequire } = await import('node:module');
const fs = await import('node:fs');
const os = await import('node:os');
const path = await import('node:path');
const OWN = '/nonexistent/preload.cjs';

/** A call site as V8 gives one, with the calls made to it counted in `asked`. */
function fakeSite(file, pos, asked = { positions: 0 }, fn = 'f') {
  return {
    getFileName: () => file,
    getScriptNameOrSourceURL: () => file,
    getPosition: () => (asked.positions++, pos),
    getLineNumber: () => pos,
    getColumnNumber: () => 1,
    getFunctionName: () => fn,
    getMethodName: () => null,
    getTypeName: () => null,
    isAsync: () => false,
  };
}

test('rawStackKey: scripts by number, not by name, and no two scripts alike', () => {
  const site = (file, pos) => fakeSite(file, pos);
  const long = (name) => `/home/someone/projects/${'deep/'.repeat(30)}node_modules/${name}/dist/index.js`;
  const a = m.rawStackKey([site(long('a'), 10), site(long('b'), 20), site('/app/test.ts', 5)], 10, OWN);
  const b = m.rawStackKey([site(long('b'), 10), site(long('a'), 20), site('/app/test.ts', 5)], 10, OWN);
  assert.notEqual(a, b, 'the same positions in other scripts');
  assert.equal(m.rawStackKey([site(long('a'), 10), site(long('b'), 20), site('/app/test.ts', 5)], 10, OWN), a, 'the same sites again');
  assert.ok(a.length < 40, `a key of ${a.length} characters for three frames (the names are ${long('a').length} long)`);
});

test('rawStackKey: the frames formatSites keeps, and no position asked of the others', () => {
  const lib = (i) => `/app/node_modules/lib${i}/index.js`;
  // Twelve library frames, the program's, Node's, then the runner's (a library's) below.
  const stack = (program, runner, asked) => [
    ...Array.from({ length: 12 }, (_, i) => fakeSite(lib(i), 100 + i, asked)),
    fakeSite('/app/test.ts', program, asked),
    fakeSite('node:internal/process/task_queues', 95, asked),
    fakeSite('/app/node_modules/runner/run.js', runner, asked),
  ];
  const asked = { positions: 0 };
  const key = m.rawStackKey(stack(5, 700, asked), 10, OWN);
  // formatSites keeps the program's frame and the first nine libraries' (ten in all).
  assert.equal(asked.positions, 10, "positions of the kept frames only: not Node's, nor the libraries' past the tenth frame kept");
  const other = { positions: 0 };
  assert.equal(m.rawStackKey(stack(5, 900, other), 10, OWN), key, 'another runner line, past what is kept: the same key');
  assert.deepEqual(
    m.formatSites(stack(5, 900, other), 10, OWN),
    m.formatSites(stack(5, 700, other), 10, OWN),
    'and the same formatted stack',
  );
  assert.notEqual(m.rawStackKey(stack(6, 700, other), 10, OWN), key, "another line of the program's: another key");
  const moved = stack(5, 700, other);
  moved[8] = fakeSite(lib(8), 999, other);
  assert.notEqual(m.rawStackKey(moved, 10, OWN), key, 'another line of a kept library frame: another key');
  const init = m.formatSites(stack(5, 700, other), 10, OWN);
  assert.equal(init.frames.length, 10);
  assert.equal(init.frames[0].file, '/app/test.ts');
  // An `await` as the program's first frame is told in the key, as formatSites tells it.
  const awaited = stack(5, 700, other);
  awaited[12] = { ...awaited[12], isAsync: () => true };
  assert.notEqual(m.rawStackKey(awaited, 10, OWN), key, 'an await frame of the program: another key');
  assert.equal(m.formatSites(awaited, 10, OWN).async, true);
});

test('isProgramFile: the program only (not node:, node_modules, the preload, or nameless code)', () => {
  assert.equal(m.isProgramFile('/app/src/users.js', OWN), true);
  assert.equal(m.isProgramFile('file:///app/src/users.mjs', OWN), true);
  assert.equal(m.isProgramFile('C:\\app\\users.js', OWN), true);
  assert.equal(m.isProgramFile('/app/node_modules/axios/index.js', OWN), false);
  assert.equal(m.isProgramFile('file:///app/node_modules/got/dist/source/index.js', OWN), false);
  assert.equal(m.isProgramFile('C:\\app\\node_modules\\axios\\index.js', OWN), false);
  assert.equal(m.isProgramFile('node:internal/http', OWN), false);
  assert.equal(m.isProgramFile(OWN, OWN), false);
  assert.equal(m.isProgramFile('<anonymous>', OWN), false);
  assert.equal(m.isProgramFile(undefined, OWN), false);
});

// A "library" 30 frames deep (its code compiled under a node_modules path) that calls back.
const deepLibrary = vm.runInThisContext('(function deep(n, fn, a, b, c) { return n === 0 ? fn(a, b, c) : deep(n - 1, fn, a, b, c); })', {
  filename: '/virtual/node_modules/deep-lib/index.js',
});

test('captureStack: the program frame below 30 library frames is found (deep capture only when needed)', () => {
  const shallow = deepLibrary(30, m.captureStack, undefined, 12);
  assert.equal(m.hasProgramFrame(shallow, OWN), false, 'the first 12 frames are all the library');
  const deep = deepLibrary(30, m.captureStack, undefined, 12, OWN);
  assert.equal(m.hasProgramFrame(deep, OWN), true);
  assert.equal(deep.noProgram, undefined);
  const init = m.formatSites(m.callSites(deep), 10, OWN);
  assert.match(init.frames[0].file, /initiator\.test\.mjs$/, 'the program frame comes first');
  assert.equal(init.frames[0].library, undefined);
  assert.ok(
    init.frames.slice(1).every((f) => f.library),
    'then the library frames',
  );
  // Called from the program directly: one capture, 12 frames at most.
  const direct = m.captureStack(undefined, 12, OWN);
  assert.ok(m.callSites(direct).length <= 12);
});

test('captureStack: the program 13 library frames down (axios through follow-redirects) in one capture of 16 frames at most', () => {
  const h = deepLibrary(12, m.captureStack, undefined, undefined, OWN);
  const sites = m.callSites(h);
  assert.equal(m.isProgramFile(sites[13].getFileName(), OWN), true, 'the 14th frame is the program’s');
  assert.ok(sites.length <= 16, `${sites.length} frames: captured again, deep`);
});

test('captureStack: a stack with no program frame at all is marked (and not an error)', () => {
  const only = vm.runInThisContext('(function lib(capture, own, done) { done(capture(undefined, 12, own)); })', {
    filename: '/virtual/node_modules/x/index.js',
  });
  // Run from a timer whose callback is the library: no program frame on the stack.
  return new Promise((resolve) => {
    setTimeout(only, 0, m.captureStack, OWN, (h) => {
      assert.equal(h.noProgram, true);
      const init = m.formatSites(m.callSites(h), 10, OWN);
      assert.ok(
        init.frames.every((f) => f.library),
        'library frames only',
      );
      resolve();
    });
  });
});

test("formatSites: an await frame as the program's first frame makes the initiator async", () => {
  const site = (file, line, isAsync = false) => ({
    getFileName: () => file,
    getLineNumber: () => line,
    getColumnNumber: () => 3,
    getFunctionName: () => 'f',
    getMethodName: () => null,
    getTypeName: () => null,
    isAsync: () => isAsync,
  });
  const awaited = m.formatSites(
    [site('/app/node_modules/ky/index.js', 1), site('node:internal/x', 2), site('/app/main.js', 7, true), site('/app/main.js', 20, true)],
    10,
    OWN,
  );
  assert.equal(awaited.async, true);
  assert.equal(awaited.frames[0].line, 7);
  const direct = m.formatSites([site('/app/main.js', 7), site('/app/main.js', 20, true)], 10, OWN);
  assert.equal(direct.async, undefined, 'only the first program frame decides');
  assert.notEqual(m.stackKey(awaited), m.stackKey({ frames: awaited.frames }), "async is part of a stack's identity");
});

test('RuntimeSourceMaps: a map Node holds in memory maps the frame (generated position kept); no map, no change', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nettrace-sm-'));
  try {
    // Generated line 1 column 0 ← original.ts line 5 column 2 (0-based: 4, 2): "AAIE".
    const map = { version: 3, sources: ['original.ts'], names: [], mappings: 'AAIE' };
    const file = path.join(dir, 'gen.js');
    fs.writeFileSync(
      file,
      `module.exports = 1;\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`,
    );
    const plain = path.join(dir, 'plain.js');
    fs.writeFileSync(plain, 'module.exports = 2;\n');
    const prev = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(true);
    try {
      const req = createRequire(import.meta.url);
      req(file);
      req(plain);
    } finally {
      process.setSourceMapsEnabled(prev ?? false);
    }
    const maps = new rm.RuntimeSourceMaps();
    const mapped = maps.map({ file, line: 1, column: 1, function: 'f' });
    assert.equal(mapped.file, path.join(dir, 'original.ts'));
    assert.equal(mapped.line, 5);
    assert.equal(mapped.column, 3);
    assert.deepEqual(mapped.generated, { file, line: 1, column: 1 });
    const same = { file: plain, line: 1, column: 1 };
    assert.equal(maps.map(same), same, 'a file without a map is left as it is');
    assert.equal(maps.map(same), same, 'also the second time (cached)');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the package of an entry script inside node_modules: npm, scoped, pnpm, nested; none outside (issue 49 item 11)', (t) => {
  t.after(() => m.setProgramEntry(undefined));
  assert.equal(m.entryPackageRoot('/usr/lib/node_modules/npm/bin/npm-cli.js'), '/usr/lib/node_modules/npm/');
  assert.equal(m.entryPackageRoot('/w/node_modules/@scope/cli/bin/x.mjs'), '/w/node_modules/@scope/cli/');
  assert.equal(
    m.entryPackageRoot('/w/node_modules/.pnpm/some-cli@1.0.0/node_modules/some-cli/dist/x.js'),
    '/w/node_modules/.pnpm/some-cli@1.0.0/node_modules/some-cli/',
  );
  assert.equal(m.entryPackageRoot('/w/node_modules/a/node_modules/b/x.js'), '/w/node_modules/a/node_modules/b/');
  assert.equal(m.entryPackageRoot('C:\\w\\node_modules\\cli\\bin\\x.js'), 'C:\\w\\node_modules\\cli\\');
  assert.equal(m.entryPackageRoot('/w/app/index.js'), undefined);
  assert.equal(m.entryPackageRoot('/w/node_modules/.bin/x'), undefined);
  // A test runner's bin or worker runs the program's files: its own frames are a library's (issue 62).
  assert.equal(m.entryPackageRoot('/w/node_modules/tinypool/dist/entry/process.js'), undefined);
  assert.equal(m.entryPackageRoot('/w/node_modules/jest-worker/build/processChild.js'), undefined);
  assert.equal(m.entryPackageRoot('/w/node_modules/vitest/vitest.mjs'), undefined);
  assert.equal(m.entryPackageRoot('/w/node_modules/@playwright/test/cli.js'), undefined);
  assert.equal(m.entryPackageRoot('/w/node_modules/vitest-cli/x.js'), '/w/node_modules/vitest-cli/');

  m.setProgramEntry('/w/node_modules/some-cli/bin/x.js');
  assert.equal(m.isLibraryFile('/w/node_modules/some-cli/lib/run.js'), false, 'the program’s package');
  assert.equal(m.isLibraryFile('file:///w/node_modules/some-cli/lib/run.mjs'), false, 'as an ES module names it');
  assert.equal(m.isLibraryFile('/w/node_modules/some-cli/node_modules/dep/index.js'), true, 'its own dependency');
  assert.equal(m.isLibraryFile('/w/node_modules/axios/lib/axios.js'), true);
  assert.equal(m.isLibraryFile('/w/node_modules/some-cli-other/x.js'), true, 'a package whose name starts the same');
  assert.equal(m.isProgramFile('/w/node_modules/some-cli/lib/run.js', '/preload.cjs'), true);
  m.setProgramEntry('/w/app/index.js');
  assert.equal(m.isLibraryFile('/w/node_modules/some-cli/lib/run.js'), true);
  assert.equal(m.isLibraryFile('/w/app/index.js'), false);
});

test("a frame Node has no map for is placed where the program's stack formatter puts it (test runners, issue 62)", (t) => {
  const prev = Error.prepareStackTrace;
  t.after(() => (Error.prepareStackTrace = prev));
  const OWN_FILE = '/nonexistent/preload.cjs';
  const real = (() => {
    const h = {};
    Error.captureStackTrace(h);
    return m.callSites(h)[0];
  })();
  const raw = { file: real.getFileName(), line: real.getLineNumber(), column: real.getColumnNumber() };
  const maps = new rm.RuntimeSourceMaps();
  // A source-map-support style formatter: each site rewritten, written as V8 writes a CallSite.
  const moved = (file, dl) => (error, sites) =>
    `${error}` +
    sites
      .map((s) => {
        const loc = `${file ?? s.getFileName()}:${s.getLineNumber() + dl}:${s.getColumnNumber() + 1}`;
        const fn = s.getFunctionName();
        return `\n    at ${fn ? `${fn} (${loc})` : loc}`;
      })
      .join('');
  Error.prepareStackTrace = moved(undefined, 4);
  const f = maps.map({ ...raw }, real);
  assert.deepEqual([f.file, f.line, f.column], [raw.file, raw.line + 4, raw.column + 1]);
  assert.deepEqual(f.generated, raw);
  // A path with " (" in it, inside a function's parentheses.
  Error.prepareStackTrace = moved('/w/My tests (copy)/a.test.ts', 2);
  const p = maps.map({ ...raw }, real);
  assert.deepEqual([p.file, p.line], ['/w/My tests (copy)/a.test.ts', raw.line + 2]);
  // Library frames are not handed to it; neither is a frame without its site.
  assert.equal(maps.map({ ...raw }).generated, undefined);
  for (const [what, format] of [
    ['no formatter', undefined],
    ["Node's own", prev],
    [
      'one that throws',
      () => {
        throw new Error('no');
      },
    ],
    ['one that returns the sites', (_e, s) => s],
    ['one without an at line', () => 'Error: x'],
    ['one that moves nothing', moved(undefined, 0)],
  ]) {
    Error.prepareStackTrace = format;
    const same = { ...raw };
    const r = rm.formatterFrame(same, real);
    if (what === 'one that moves nothing') assert.equal(r.line, raw.line, what);
    else assert.equal(r, same, `${what}: the frame as it was`);
  }
  // formatSites hands the program's frames to it.
  Error.prepareStackTrace = moved(undefined, 10);
  const init = m.formatSites([real], 10, OWN_FILE, maps);
  assert.equal(init.frames[0].line, raw.line + 10);
});

test('the SDKs whose calls are carried: by the name a require gives, or the CommonJS main an import passes (issue 62)', () => {
  const sp = bundleTs(["export * from './src/preload/initiator/sdkPackages';"]);
  for (const name of ['stripe', '@anthropic-ai/sdk', '@aws-sdk/lib-storage', '@octokit/rest', 'octokit', 'http2-wrapper'])
    assert.equal(sp.sdkPackageOf(name), name);
  // got's HTTP/2 agent, which got 12+ (an ES module) imports: its CommonJS main.
  assert.equal(sp.sdkPackageOf('/w/node_modules/got/node_modules/http2-wrapper/source/index.js'), 'http2-wrapper');
  assert.equal(sp.sdkPackageOf('/w/node_modules/@aws-sdk/lib-storage/dist-cjs/index.js'), '@aws-sdk/lib-storage');
  assert.equal(sp.sdkPackageOf('C:\\w\\node_modules\\stripe\\cjs\\stripe.cjs.node.js'), 'stripe');
  assert.equal(sp.sdkPackageOf('/w/node_modules/@anthropic-ai/sdk/index.js'), '@anthropic-ai/sdk');
  for (const other of [
    'stripe-mock',
    './stripe',
    '/w/node_modules/stripe/esm/stripe.esm.node.js',
    '/w/node_modules/@aws-sdk/client-s3/dist-cjs/index.js',
    'http',
  ])
    assert.equal(sp.sdkPackageOf(other), undefined, other);
});

test("a stack that is not a request's (an SDK call) is taken within the budget, never counted as skipped", () => {
  const b = new m.StackBudget('sampled', 0);
  for (let i = 0; i < m.ALWAYS_CAPTURED; i++) assert.equal(b.allowOther(0), true);
  assert.equal(b.allow(0), true, 'the first requests are still the free ones');
  for (let i = 0; i < m.ALWAYS_CAPTURED; i++) b.allow(0);
  b.charge(100);
  assert.equal(b.allowOther(0), false, 'over budget');
  assert.equal(b.skipped, 0);
  assert.equal(new m.StackBudget('off', 0).allowOther(0), false);
});
