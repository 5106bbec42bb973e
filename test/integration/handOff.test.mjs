// covers: src/preload/handOff.ts
// Workers killed the moment they report (issue 65's real-suite bench found vitest traces short of
// requests): a forked worker process SIGTERMed and a worker thread terminate()d right after they
// hand their result to the parent, as test runners' pools do. Every request each one completed
// is in the trace, ended, none lost and none counted as dropped (src/preload/handOff.ts), on
// every Node of the harness. The forked workers keep Node's `process.send` before they load `http`, as
// vitest's does (src/preload/sendWatch.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeBinaries, runTraced } from './harness.mjs';

const N = 60;

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a worker killed as soon as it reports has every request it completed in the trace`, async () => {
    const res = await runTraced(bin, 'handoff.cjs', { env: { NT_N: String(N) } });
    assert.equal(res.code, 0, res.stderr);
    const seen = JSON.parse(res.stdout.trim().split('\n').at(-1));
    assert.deepEqual(seen, { fork: N, esmFork: N, thread: N }, 'each worker read every response (test setup)');
    const t = res.trace;
    const main = t.processes.find((p) => !t.processes.some((q) => q.pid === p.ppid && q !== p)) ?? t.processes[0];
    const ended = (r) => r.respDoneAt !== undefined && !r.incomplete;
    const forkPids = [...new Set(t.httpRequests.filter((r) => r.pid !== main.pid).map((r) => r.pid))];
    const byPid = (pid) => t.httpRequests.filter((r) => r.pid === pid && r.reqURL.includes('/r/'));
    // The CommonJS fork first, then the ES module one (their processes in the order they started).
    const forkProcs = t.processes.filter((p) => forkPids.includes(p.pid));
    assert.equal(forkProcs.length, 2, JSON.stringify(t.processes.map((p) => [p.pid, p.ppid, p.argv ?? p.command])));
    const [fork, esmFork] = forkProcs.map((p) => byPid(p.pid));
    const thread = t.httpRequests.filter((r) => r.pid === main.pid && r.threadId !== 0 && r.reqURL.includes('/r/'));
    assert.equal(
      fork.filter(ended).length,
      N,
      `the forked worker's requests, ended: ${fork.filter(ended).length} of ${N} (${fork.length} records)`,
    );
    assert.equal(
      esmFork.filter(ended).length,
      N,
      `the ES module fork's requests, ended: ${esmFork.filter(ended).length} of ${N} (${esmFork.length} records)`,
    );
    assert.equal(
      thread.filter(ended).length,
      N,
      `the worker thread's requests, ended: ${thread.filter(ended).length} of ${N} (${thread.length} records)`,
    );
  });
}
