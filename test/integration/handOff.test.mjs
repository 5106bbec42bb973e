// covers: src/preload/handOff.ts
// Workers killed the moment they report (issue 65's real-suite bench found vitest traces short of
// requests): a forked worker process SIGTERMed and a worker thread terminate()d right after they
// hand their result to the parent, as test runners' pools do. Every request each one completed
// is in the trace, ended, none lost and none counted as dropped (src/preload/handOff.ts), on
// every Node of the harness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeBinaries, runTraced } from './harness.mjs';

const N = 60;

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a worker killed as soon as it reports has every request it completed in the trace`, async () => {
    const res = await runTraced(bin, 'handoff.cjs', { env: { NT_N: String(N) } });
    assert.equal(res.code, 0, res.stderr);
    const seen = JSON.parse(res.stdout.trim().split('\n').at(-1));
    assert.deepEqual(seen, { fork: N, thread: N }, 'each worker read every response (test setup)');
    const t = res.trace;
    const main = t.processes.find((p) => !t.processes.some((q) => q.pid === p.ppid && q !== p)) ?? t.processes[0];
    const ended = (r) => r.respDoneAt !== undefined && !r.incomplete;
    const fork = t.httpRequests.filter((r) => r.pid !== main.pid && r.reqURL.includes('/r/'));
    const thread = t.httpRequests.filter((r) => r.pid === main.pid && r.threadId !== 0 && r.reqURL.includes('/r/'));
    assert.equal(
      fork.filter(ended).length,
      N,
      `the forked worker's requests, ended: ${fork.filter(ended).length} of ${N} (${fork.length} records)`,
    );
    assert.equal(
      thread.filter(ended).length,
      N,
      `the worker thread's requests, ended: ${thread.filter(ended).length} of ${N} (${thread.length} records)`,
    );
  });
}
