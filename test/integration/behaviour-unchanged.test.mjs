// covers: src/preload/
// needs: the build (dist/preload.cjs)
// Node's own semantics are untouched by tracing: small programs (test/integration/apps/unchanged)
// print what a program can observe — listeners on client sockets, own properties of requests,
// the functions a tracer replaces (every property), util.promisify(http2.connect), the modules
// loaded before the program's first require, stack frames while a module loads, 'exit'
// listeners, keep-alive agents, 1xx events, trailers, AbortSignal, active resources, exit timing,
// warnings, a server's requests and responses (server.cjs) — as one JSON line; each runs untraced
// and under `nettrace run` on every Node version the suite has, and the two must be equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBin } from '../../scripts/nodes.mjs';
import { apps, nodeBinaries, run, runTraced } from './harness.mjs';

/** The harness's Node versions, and 26 when installed (the current LTS). */
function binaries() {
  const list = nodeBinaries();
  const bin26 = nodeBin('26');
  if (existsSync(bin26) && !list.some((b) => b.bin === bin26)) list.push({ label: 'node 26', bin: bin26 });
  return list;
}

/** The program's "RESULT {...}" line, parsed. */
function resultOf(res, what) {
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(
    line,
    `${what}: no RESULT line (exit ${res.code}${res.signal ? `, ${res.signal}` : ''})\nstdout: ${res.stdout}\nstderr: ${res.stderr}`,
  );
  return JSON.parse(line.slice('RESULT '.length));
}

/** Runs `app` untraced and traced; returns both results. */
async function both(bin, app) {
  const plain = await run(bin, [join(apps, 'unchanged', app)]);
  const traced = await runTraced(bin, join('unchanged', app));
  const a = resultOf(plain, `${app} untraced`);
  const b = resultOf(traced, `${app} traced`);
  assert.equal(traced.code, plain.code, `${app}: exit code traced ${traced.code}, untraced ${plain.code}\n${traced.stderr}`);
  assert.ok(traced.trace, `${app}: the traced run left no trace\n${traced.stderr}`);
  return { plain: a, traced: b, trace: traced.trace };
}

/** Every key of the untraced result equals the traced one (one assertion per key, named). */
function assertSame(plain, traced, what) {
  const keys = new Set([...Object.keys(plain), ...Object.keys(traced)]);
  const diffs = [];
  for (const k of keys) {
    try {
      assert.deepStrictEqual(traced[k], plain[k]);
    } catch {
      diffs.push(`${k}:\n  untraced ${JSON.stringify(plain[k])}\n  traced   ${JSON.stringify(traced[k])}`);
    }
  }
  assert.equal(diffs.length, 0, `${what}: traced differs from untraced in\n${diffs.join('\n')}`);
}

for (const { label, bin } of binaries()) {
  /** load.cjs's results, once per version (two tests read them). */
  let loaded;
  const load = () => (loaded ??= both(bin, 'load.cjs'));

  test(`${label}: loader frames, exit listeners, util.promisify(http2.connect) and replaced functions are as untraced`, async () => {
    const { plain, traced } = await load();
    assert.match(plain.promisify.success, /^resolved: ClientHttp2Session$/);
    assert.equal(plain.promisify.failure, 'rejected: ECONNREFUSED');
    // One wrapper of Module._load at most: one frame of the tracer's own (the preload's body, which
    // the loader dist/preload.cjs runs from V8's code cache); Node's frames keep their names.
    const own = traced.loadFrames.filter((f) => /@ other:preload(-body)?\.cjs$/.test(f));
    assert.ok(own.length <= 1, `more than one tracer frame while a module loads: ${traced.loadFrames.join(' | ')}`);
    const { loadedAtStart: _a, ...p } = plain;
    const { loadedAtStart: _b, ...t } = traced;
    assertSame(p, { ...t, loadFrames: traced.loadFrames.filter((f) => !own.includes(f)) }, `${label} load.cjs`);
  });

  test(`${label}: the tracer loads no networking module before the program's first require`, async () => {
    const { plain, traced } = await load();
    assert.deepEqual(plain.loadedAtStart, []);
    assert.deepEqual(traced.loadedAtStart, plain.loadedAtStart);
  });

  test(`${label}: client sockets, requests, agents and process behave as untraced`, async () => {
    const { plain, traced, trace } = await both(bin, 'net.cjs');
    assertSame(plain, traced, `${label} net.cjs`);
    // The traced run did trace: its requests are in the trace.
    assert.ok(trace.httpRequests.length >= 10, `only ${trace.httpRequests.length} requests traced`);
  });

  test(`${label}: a server's requests, responses, listeners and Express route are as untraced`, async () => {
    const { plain, traced, trace } = await both(bin, 'server.cjs');
    assert.equal(plain.express.route, '/users/:id');
    assert.match(plain.uncaught.first, /server\.cjs/);
    assertSame(plain, traced, `${label} server.cjs`);
    // The traced run did record its incoming requests.
    assert.equal(trace.incomingRequests.length, 4);
  });
}
