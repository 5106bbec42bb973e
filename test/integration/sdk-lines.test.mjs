// covers: src/preload/initiator/sdkCalls.ts
// The program's line for SDKs that make their requests later than the program's call (issue 62,
// finding 5): Stripe (a call, a list, a retried charge), the Anthropic SDK (`messages.create`, one
// retried after a 529, `messages.stream`), Octokit's `paginate` (three pages) and lib-storage's
// multipart `Upload` (CreateMultipartUpload, two parts, Complete), against local fake APIs
// (fakeApis.mjs), on every Node installed. Loaded with `require` (apps/sdks/sdks.cjs), every
// request names the line of the call that caused it, as an `async` initiator whose first frame is
// the program's. Imported as ES modules (apps/sdks/sdks.mjs) the SDKs cannot be patched as they
// load (README, Limits): lib-storage (a CommonJS build, even there) and Octokit's first page (V8's
// `await` frames) still name the line, and no request names any other line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFakeApis } from './fakeApis.mjs';
import { apps, nodeBinaries, runTraced } from './harness.mjs';
import { markerLines, sameFile } from './clientsCheck.mjs';

let apis;
before(async () => (apis = await startFakeApis()));
after(() => apis.close());

/** Each case's requests, as the fake APIs log them (`METHOD path`), in the order they come. */
const CASES = {
  'stripe-create': ['POST /v1/customers'],
  'stripe-list': ['GET /v1/customers?limit=1'],
  'stripe-retry': ['POST /v1/charges', 'POST /v1/charges'],
  'anthropic-create': ['POST /anthropic-create/v1/messages'],
  'anthropic-retry': ['POST /anthropic-retry/v1/messages', 'POST /anthropic-retry/v1/messages'],
  'anthropic-stream': ['POST /anthropic-stream/v1/messages'],
  paginate: ['GET /repos/o/r/issues?per_page=1', 'GET /repos/o/r/issues?per_page=1&page=2', 'GET /repos/o/r/issues?per_page=1&page=3'],
  upload: [
    'POST /bucket/k?uploads=',
    'PUT /bucket/k?partNumber=1&uploadId=up1&x-id=UploadPart',
    'PUT /bucket/k?partNumber=2&uploadId=up1&x-id=UploadPart',
    'POST /bucket/k?uploadId=up1',
  ],
};

/** `METHOD path` of a traced request, as the fake APIs log it. */
const logged = (r) => {
  const u = new URL(r.reqURL);
  return `${r.reqMethod} ${u.pathname}${u.search}`;
};

/** The initiator's program frame (its first that is not a library's), or undefined. */
const programFrame = (r) => r.initiator?.frames?.find((f) => !f.library);

const where = (f) => (f ? `${f.file}:${f.line}${f.library ? ' (library)' : ''}` : 'none');

/** Runs an app traced, checks the program saw every case succeed; returns the trace's requests by case. */
async function runApp(node, app) {
  const start = apis.log.length;
  apis.reset();
  const { code, trace, stdout, stderr } = await runTraced(node.bin, join('sdks', app), { env: { NT_BASE: apis.base } });
  const label = `${app} on ${node.label}`;
  assert.equal(code, 0, `${label}: exited with ${code}\n${stderr}`);
  assert.ok(trace, `${label}: no trace\n${stderr}`);
  const out = JSON.parse(stdout.trim().split('\n').at(-1));
  for (const name of Object.keys(CASES))
    assert.equal(out[name]?.ok, true, `${label}: case ${name} failed in the program (test setup): ${JSON.stringify(out[name])}`);
  const seen = apis.log.slice(start);
  const byCase = {};
  for (const [name, expected] of Object.entries(CASES)) {
    const reqs = trace.httpRequests.filter((r) => expected.includes(logged(r)));
    assert.deepEqual(
      seen.filter((s) => expected.includes(s)).sort(),
      [...expected].sort(),
      `${label}: the APIs' log of ${name} (test setup)`,
    );
    assert.deepEqual(
      reqs.map(logged).sort(),
      [...expected].sort(),
      `${label}: the trace's requests of ${name}, the APIs answered ${expected.length}`,
    );
    byCase[name] = reqs.sort((a, b) => a.reqStartAt - b.reqStartAt);
  }
  return { label, byCase, file: join(apps, 'sdks', app) };
}

for (const node of nodeBinaries()) {
  test(`${node.label}: SDKs loaded with require: every request names the program's call`, async () => {
    const { label, byCase, file } = await runApp(node, 'sdks.cjs');
    const lines = markerLines(file);
    const problems = [];
    for (const [name, reqs] of Object.entries(byCase)) {
      for (const r of reqs) {
        const f = r.initiator?.frames?.[0];
        if (!f || f.library || !sameFile(f.file, file) || f.line !== lines.get(name))
          problems.push(`${name}: ${logged(r)}: expected ${file}:${lines.get(name)}, trace has ${where(f)}`);
        else if (r.initiator.async !== true) problems.push(`${name}: ${logged(r)}: the line is not marked async`);
      }
    }
    assert.deepEqual(problems, [], `${label}:\n  ${problems.join('\n  ')}`);
  });

  test(`${node.label}: SDKs imported as ES modules: no request names a line other than its call's`, async () => {
    const { label, byCase, file } = await runApp(node, 'sdks.mjs');
    const lines = markerLines(file);
    const problems = [];
    for (const [name, reqs] of Object.entries(byCase)) {
      reqs.forEach((r, i) => {
        const f = programFrame(r);
        const must = name === 'upload' || (name === 'paginate' && i === 0);
        if (f && (!sameFile(f.file, file) || f.line !== lines.get(name)))
          problems.push(`${name}: ${logged(r)}: names ${where(f)}, the call is at ${file}:${lines.get(name)}`);
        else if (must && !f) problems.push(`${name}: ${logged(r)}: no program line, expected ${file}:${lines.get(name)}`);
      });
    }
    assert.deepEqual(problems, [], `${label}:\n  ${problems.join('\n  ')}`);
  });
}
