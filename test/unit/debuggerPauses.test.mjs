// covers: src/extension/pauseFlush.ts
// needs: the build (dist/core.cjs)
// Debugger pauses (the trace's `debuggerPauses`): the collector Session records them from the
// extension's DAP tracker (stopped → continued), hands them out in snapshots, saves them with the
// trace, and a saved file's list is checked on reading (a damaged entry is dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { Session, readTraceFile } = createRequire(import.meta.url)('../../dist/core.cjs');

test('a Session records stopped → continued as one pause; a second stop while stopped adds none', async () => {
  const begin = new Date('2026-01-01T00:00:00Z');
  const s = new Session({ description: 'x', beginAt: begin, sourceMaps: false, changeIntervalMs: 5 });
  const t = begin.getTime();
  let changes = 0;
  s.on('change', () => changes++);
  assert.equal(s.snapshot().debuggerPauses, undefined, 'absent when never paused');
  s.debuggerStopped('breakpoint', t + 1000);
  s.debuggerStopped('step', t + 1200); // another thread: still the same pause
  s.debuggerContinued(t + 4000);
  s.debuggerContinued(t + 4500); // a second resume closes nothing
  s.debuggerStopped(undefined, t + 5000);
  assert.deepEqual(s.snapshot().debuggerPauses, [{ beginAt: 1000, endAt: 4000, reason: 'breakpoint' }, { beginAt: 5000 }]);
  assert.equal(s.pausesVersion, 3);
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(changes >= 1, 'views hear of a pause');
  // The snapshot is a copy.
  s.snapshot().debuggerPauses[0].beginAt = -1;
  assert.equal(s.snapshot().debuggerPauses[0].beginAt, 1000);

  const dir = mkdtempSync(join(tmpdir(), 'nettrace-pauses-'));
  try {
    const file = join(dir, 't.json');
    s.debuggerContinued(t + 6000);
    await s.saveJson(file);
    assert.deepEqual(readTraceFile(file).debuggerPauses, [
      { beginAt: 1000, endAt: 4000, reason: 'breakpoint' },
      { beginAt: 5000, endAt: 6000 },
    ]);
    // A damaged list: entries without a numeric beginAt are dropped, a bad endAt is removed.
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    raw.debuggerPauses = [{ beginAt: 'x' }, { beginAt: 9, endAt: 3, pid: 1.5 }, null, { beginAt: 2, endAt: 5, reason: 7, pid: 33 }];
    writeFileSync(file, JSON.stringify(raw));
    assert.deepEqual(readTraceFile(file).debuggerPauses, [{ beginAt: 2, endAt: 5, pid: 33 }, { beginAt: 9 }]);
    raw.debuggerPauses = 'nope';
    writeFileSync(file, JSON.stringify(raw));
    assert.equal(readTraceFile(file).debuggerPauses, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    s.dispose();
  }
});

test('pauses of known processes: one open per process, closed by its own resume or the session’s', () => {
  const begin = new Date('2026-01-01T00:00:00Z');
  const s = new Session({ description: 'x', beginAt: begin, sourceMaps: false, changeIntervalMs: 1e9 });
  const t = begin.getTime();
  s.debuggerStopped('breakpoint', t + 5200, 41);
  s.debuggerStopped('step', t + 5300, 41); // the same process: still its pause
  s.debuggerStopped('breakpoint', t + 5400, 42); // another process stopped meanwhile
  s.debuggerContinued(t + 5500, 42);
  s.debuggerStopped(undefined, t + 5450); // the session's: one is open already
  assert.deepEqual(s.snapshot().debuggerPauses, [
    { beginAt: 5200, reason: 'breakpoint', pid: 41 },
    { beginAt: 5400, endAt: 5500, reason: 'breakpoint', pid: 42 },
  ]);
  s.debuggerContinued(t + 5600); // the session runs again: every open pause ends
  assert.equal(s.snapshot().debuggerPauses[0].endAt, 5600);
  s.dispose();
});

test('a session without a Net Trace marker (a JavaScript Debug Terminal’s) finds its trace by the paused process’s id', async () => {
  const { bundleTs } = await import('../lib/bundleTs.mjs');
  const m = bundleTs(["export * from './src/extension/pauseFlush';", "import * as vscodeStub from 'vscode'; export { vscodeStub };"], {
    vscodeStub: true,
  });
  const vscode = m.vscodeStub;
  const calls = [];
  const sink = {
    debuggerStopped: (reason, at, pid) => calls.push(['stopped', reason, typeof at, pid]),
    debuggerContinued: (at, pid) => calls.push(['continued', typeof at, pid]),
  };
  let opened = false;
  let evaluations = 0;
  let pidAsks = 0;
  const asked = [];
  const logs = [];
  const reg = m.registerPauseFlush(
    () => undefined,
    (l) => logs.push(l),
    {
      sinkOfPid: (pid) => (asked.push(pid), pid === 4242 || ((pid === 5151 || pid === 6161) && opened) ? sink : undefined),
    },
  );
  try {
    // js-debug's terminal sessions are `node-terminal`, one per process.
    const [factory] = vscode.debug.trackerFactories.get('node-terminal') ?? [];
    assert.ok(factory, 'a tracker for node-terminal sessions');
    let answer = '4242';
    let release;
    const session = (name) => ({
      name,
      configuration: { type: 'node-terminal', __pendingTargetId: 'x' },
      customRequest: async (command, args) => {
        if (command === 'stackTrace') return { stackFrames: [{ id: 11 }] };
        assert.equal(command, 'evaluate');
        evaluations++;
        if (args.expression === m.FLUSH_PID_EXPRESSION) pidAsks++;
        assert.equal(args.frameId, 11);
        assert.equal(args.context, 'watch');
        if (release) await new Promise((r) => (release = r));
        return { result: args.expression === m.FLUSH_PID_EXPRESSION ? answer : 'undefined' };
      },
    });
    const stopped = { type: 'event', event: 'stopped', body: { threadId: 1, reason: 'breakpoint' } };
    const tick = () => new Promise((r) => setTimeout(r, 10));

    const t = factory.createDebugAdapterTracker(session('server.ts [4242]'));
    t.onDidSendMessage(stopped);
    await tick();
    assert.deepEqual(asked, [4242]);
    assert.deepEqual(calls, [['stopped', 'breakpoint', 'number', 4242]]);
    t.onWillReceiveMessage({ type: 'request', command: 'continue' });
    assert.deepEqual(calls.at(-1), ['continued', 'undefined', 4242]);
    // Known now: the next stop goes straight to the trace (and flushes).
    t.onDidSendMessage(stopped);
    assert.deepEqual(calls.at(-1), ['stopped', 'breakpoint', 'undefined', 4242]);
    assert.equal(pidAsks, 1, 'the process is asked once; its trace is looked up at each stop (a trace ends)');
    assert.deepEqual(asked, [4242, 4242]);
    t.onExit();

    // A resume that comes before the process's answer is recorded after it, with its own time.
    calls.length = 0;
    release = () => {};
    const t2 = factory.createDebugAdapterTracker(session('client.ts [4242]'));
    t2.onDidSendMessage(stopped);
    await tick();
    t2.onWillReceiveMessage({ type: 'request', command: 'next' });
    release();
    release = undefined;
    await tick();
    assert.deepEqual(calls, [
      ['stopped', 'breakpoint', 'number', 4242],
      ['continued', 'number', 4242],
    ]);

    // A process without the preload answers 0: nothing recorded, no trace looked for, asked again at its next stop.
    calls.length = 0;
    answer = '0';
    const before = { asked: asked.length, evaluations };
    const t3 = factory.createDebugAdapterTracker(session('untraced [9]'));
    t3.onDidSendMessage(stopped);
    await tick();
    t3.onDidSendMessage(stopped);
    await tick();
    assert.deepEqual(calls, []);
    assert.equal(asked.length, before.asked);
    assert.equal(evaluations, before.evaluations + 2);

    // A terminal command's trace opens when its process's first events arrive, maybe with this
    // very flush: looked for again until it is there.
    answer = '5151';
    const t4 = factory.createDebugAdapterTracker(session('first [5151]'));
    t4.onDidSendMessage(stopped);
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(calls, []);
    opened = true;
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(calls, [['stopped', 'breakpoint', 'number', 5151]]);
    assert.ok(asked.filter((p) => p === 5151).length >= 3, 'looked for more than once');

    // A process stopped before its preload had connected (that takes the event loop): its trace
    // opens only once it runs again, and the pause is still recorded, with both its times.
    calls.length = 0;
    opened = false;
    answer = '6161';
    const t5 = factory.createDebugAdapterTracker(session('early [6161]'));
    t5.onDidSendMessage(stopped);
    await new Promise((r) => setTimeout(r, 150));
    t5.onWillReceiveMessage({ type: 'request', command: 'continue' });
    await new Promise((r) => setTimeout(r, 150));
    opened = true;
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(calls, [
      ['stopped', 'breakpoint', 'number', 6161],
      ['continued', 'number', 6161],
    ]);
    assert.deepEqual(logs, []);
  } finally {
    reg.dispose();
  }
});
