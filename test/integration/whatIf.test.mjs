// covers: src/preload/rules/whatIfSocket.ts, src/preload/http/httpWhatIf.ts,
//   src/preload/undici/undiciWhatIf.ts
// needs: the build (dist/core.cjs)
// What-if rules (issue 51, docs/rules.md "What-if actions"): the program cannot tell a faked
// failure from a real one. For each implemented fail kind and client (http, fetch, userland
// undici) on each Node version, apps/whatif.cjs runs once against a real failure (a closed port,
// a `.invalid` name that the resolver answers NXDOMAIN) and once, traced with the what-if rule,
// against a healthy server: what it observed (error class, name, code, errno, syscall, message,
// address, port and hostname with ports and host names masked, own properties, cause chain, events
// order) must be equal; the healthy server must not have received the request, and the trace must
// say what was done (`whatIf`) and count it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { nodeBinaries, run, apps, root, runTraced } from './harness.mjs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));

let server;
let healthyPort;
let closedPort;
let served = 0;
before(async () => {
  server = createServer((req, res) => {
    served++;
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  healthyPort = server.address().port;
  const tmp = createServer();
  await new Promise((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = tmp.address().port;
  await new Promise((r) => tmp.close(r));
});
after(() => server.close());

/** The observation with ports and the given host names masked. */
function masked(line, hosts) {
  const text = hosts.reduce((s, h) => s.split(h).join('<host>'), line.replace(/(?<=[\w\]]):\d{2,5}\b/g, ':<port>'));
  return JSON.parse(text, (k, v) => (k === 'port' && typeof v === 'number' ? '<port>' : v));
}

const KINDS = {
  refused: { real: () => `http://127.0.0.1:${closedPort}/x`, fake: () => `http://127.0.0.1:${healthyPort}/x` },
  'dns-notfound': { real: () => `http://nettrace-nope.invalid:${healthyPort}/x`, fake: () => `http://localhost:${healthyPort}/x` },
};
const HOSTS = ['nettrace-nope.invalid', 'localhost'];

for (const { label, bin } of nodeBinaries()) {
  for (const client of ['http', 'fetch', 'undici']) {
    for (const [kind, urls] of Object.entries(KINDS)) {
      test(`${label}, ${client}: fail ${kind} is observed as the real failure`, async () => {
        const env = { NT_CLIENT: client, NODE_PATH: join(root, 'node_modules') };
        const real = await run(bin, [join(apps, 'whatif.cjs')], { env: { ...env, NT_URL: urls.real() } });
        assert.equal(real.code, 0, real.stderr);
        const before = served;
        const fake = await runTraced(bin, 'whatif.cjs', {
          env: { ...env, NT_URL: urls.fake() },
          cliArgs: ['--rule', `down: fail fail=${kind} limit=1 path == "/x"`],
        });
        assert.equal(fake.code, 0, fake.stderr);
        assert.match(fake.stderr, /1 request, 1 failed, .*; 1 changed by what-if rules/, "the run's summary counts it");
        const seen = masked(fake.stdout.trim().split('\n').pop(), HOSTS);
        const truth = masked(real.stdout.trim().split('\n').pop(), HOSTS);
        assert.ok(truth.error, `the real run failed: ${real.stdout}`);
        assert.deepEqual(seen, truth);
        assert.equal(served, before, 'the healthy server received no request');
        const recs = fake.trace.httpRequests;
        assert.equal(recs.length, 1);
        assert.deepEqual(recs[0].whatIf, { rule: 'down', action: 'fail', kind });
        assert.equal(
          recs[0].reqError?.code ?? recs[0].reqError?.cause?.code,
          kind === 'refused' ? 'ECONNREFUSED' : 'ENOTFOUND',
          JSON.stringify(recs[0]),
        );
        const rule = fake.trace.traceRules.rules.find((r) => r.id === 'down');
        assert.equal(rule.acted, 1);
        assert.deepEqual(rule.fail, { kind });
        // Honest and visible: no phase of the network's, a diagnosis, show's tag, the HAR's comment.
        const t = core.enrichTrace(fake.trace).httpRequests[0];
        assert.deepEqual([t.timings.dns, t.timings.connect, t.timings.ssl, t.timings.send], [-1, -1, -1, -1], JSON.stringify(t.timings));
        assert.match(t.diagnosis, /^What if: rule "down" made this request fail \((connection refused|host name not found)\)/);
        assert.match(core.renderTrace(fake.trace, { color: false, width: 140 }), /\[what-if fail\] http:/);
        const entry = core.toHar(fake.trace).log.entries[0];
        assert.match(entry.comment, /^What if: rule "down"/);
        assert.deepEqual(entry._whatIf, recs[0].whatIf);
      });
    }
  }
}
