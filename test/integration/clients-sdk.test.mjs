// covers: src/preload/http/, src/preload/http2/, src/preload/asyncStarts.ts
// The clients suite, SDKs that bring their own HTTP stack: the AWS SDK v3 S3 client and the
// openai SDK pointed at the recording server, and @grpc/grpc-js against a gRPC server on
// loopback, on every Node version available. Same per-case checks as the other clients
// (clientsCheck.mjs); gRPC calls are matched to the server's log by their method and message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { protoFile, refusedPort, startClientServers, startGrpcServer } from './clientServers.mjs';
import { assertInitiator, Checks, clientApps, clientTest, describeReqs, markerLines, nodesWithMajor } from './clientsCheck.mjs';
import { byId, nodeBinaries, runTraced } from './harness.mjs';
import { GET, POST, REFUSED, RETRY, TIMEOUT } from './clientsCases.mjs';

let http;
let grpcServer;
let grpcRefused;
before(async () => {
  http = await startClientServers();
  grpcServer = await startGrpcServer();
  grpcRefused = await refusedPort();
});
after(async () => {
  grpcServer.close();
  await http.close();
});
const servers = () => ({ http });
const nodes = nodesWithMajor(nodeBinaries);

clientTest({ client: 'AWS SDK v3 S3', app: 'aws-s3.mjs', servers, nodes, cases: [GET, POST, REFUSED, TIMEOUT, RETRY] });
clientTest({
  client: 'openai',
  app: 'openai.mjs',
  servers,
  nodes,
  cases: [GET, POST, { name: 'redirect', program: 'ok', statuses: [307, 200], redirect: true }, REFUSED, TIMEOUT, RETRY],
});

// gRPC: each case calls one method; its HTTP/2 streams are POSTs to /nettrace.Echo/<method>.
const grpcApp = join(clientApps, 'grpc.mjs');
const grpcLines = markerLines(grpcApp);
const grpcCases = [
  { name: 'get', method: 'Ok', codes: [0] },
  { name: 'post', method: 'Big', codes: [0] },
  { name: 'timeout', method: 'Slow', codes: [null], error: { phase: 'response', timedOut: true } },
  { name: 'retry', method: 'Flaky', codes: [14, 14, 0] },
];
for (const node of nodes) {
  test(`${node.label}: @grpc/grpc-js`, async (t) => {
    const run = http.newRun(`grpc-${node.major}`);
    const { code, trace, stdout, stderr } = await runTraced(node.bin, join('clients', 'grpc.mjs'), {
      env: { NT_RUN: run, NT_PROTO: protoFile, NT_GRPC_PORT: String(grpcServer.port), NT_GRPC_REFUSED_PORT: String(grpcRefused) },
    });
    const label = `@grpc/grpc-js on ${node.label}`;
    assert.equal(code, 0, `${label}: the app exited with ${code}\n${stderr}`);
    const out = JSON.parse(stdout.trim().split('\n').at(-1));
    const calls = grpcServer.entries(run);
    const ofMethod = (m) =>
      trace.httpRequests.filter((r) => r.reqURL.endsWith(`/nettrace.Echo/${m}`) && r.reqURL.includes(`:${grpcServer.port}/`));
    for (const c of grpcCases) {
      const where = `${label}: case ${c.name}`;
      const reqs = ofMethod(c.method).sort((a, b) => (a.reqStartAt ?? 0) - (b.reqStartAt ?? 0));
      const seen = calls.filter((e) => e.text === `${run} ${c.name}`);
      const context = `\n  trace:\n    ${describeReqs(reqs)}\n  server saw: ${JSON.stringify(seen)}\n  program saw: ${JSON.stringify(out[c.name])}`;
      await t.test(c.name, () => {
        assert.equal(out[c.name].ok, !c.error, `${where}: the program's result (test setup)${context}`);
        assert.deepEqual(
          seen.map((e) => e.code),
          c.codes,
          `${where}: the server's gRPC statuses (test setup)${context}`,
        );
        const k = new Checks(where);
        k.equal(reqs.length, seen.length, `number of requests (the server saw ${seen.length} calls)`);
        for (const [i, r] of reqs.slice(0, seen.length).entries()) {
          const hop = `stream ${i + 1}`;
          k.equal(r.client, 'http2', `${hop}: client`);
          k.equal(r.reqMethod, 'POST', `${hop}: method`);
          k.equal(
            r.reqContentLen,
            seen[i].reqBytes,
            `${hop}: request length (the server received a ${seen[i].reqBytes}-byte gRPC message)`,
          );
          if (seen[i].code === null) continue;
          k.equal(r.respStatusCode, 200, `${hop}: HTTP status`);
          if (seen[i].respBytes !== null)
            k.equal(
              r.respContentLen,
              seen[i].respBytes,
              `${hop}: response length (the server sent a ${seen[i].respBytes}-byte gRPC message)`,
            );
        }
        const last = reqs.at(-1);
        // A deadline races two timers: the program's (it cancels the stream: a timeout) and the
        // server's (grpc-js ends the call with DEADLINE_EXCEEDED, a 200 whose status is in its
        // trailers-only head); a loaded machine sees either, and so does the program.
        const serverDeadline = (r) =>
          c.name === 'timeout' &&
          !r.reqError &&
          [...(r.respHeaders ?? []), ...(r.respTrailers ?? [])].some(([n, v]) => n === 'grpc-status' && v === '4');
        if (last && c.error && serverDeadline(last)) {
          k.equal(last.respStatusCode, 200, 'last stream: the server ended the call (HTTP status)');
          k.ok(
            /gRPC call with status 4 DEADLINE_EXCEEDED/.test(last.diagnosis ?? ''),
            `last stream: the diagnosis names the gRPC status (${last.diagnosis})`,
          );
        } else if (last && c.error) {
          if (!last.reqError) k.ok(false, `last stream: expected reqError ${JSON.stringify(c.error)}, trace has none`);
          else
            for (const [f, v] of Object.entries(c.error))
              k.equal(last.reqError[f], v, `last stream: reqError.${f} (reqError ${JSON.stringify(last.reqError)})`);
        } else if (last) k.ok(!last.reqError, `the last stream should have no error, trace has ${JSON.stringify(last.reqError)}`);
        k.done(context);
      });
      await t.test(`${c.name}: initiator`, () => assertInitiator(where, reqs, grpcApp, grpcLines.get(c.name)));
    }
    await t.test('streams are linked to their connection, which counts them', () => {
      const streams = trace.httpRequests.filter((r) => r.reqURL.includes(`:${grpcServer.port}/`));
      assert.ok(streams.length >= 6, `${label}: streams in the trace: ${streams.length}`);
      const conns = new Set(streams.map((r) => r.tcpConn));
      assert.ok(!conns.has(undefined), `${label}: every stream has its tcpConn:\n    ${describeReqs(streams.filter((r) => !r.tcpConn))}`);
      for (const id of conns) {
        const conn = byId(trace, 'tcpConns', id);
        assert.equal(conn.addrTuple.dstPort, grpcServer.port, `${label}: ${id} goes to the gRPC server`);
        const carried = trace.httpRequests.filter((r) => r.tcpConn === id).length;
        assert.equal(conn.requestCount, carried, `${label}: ${id} requestCount ${conn.requestCount}, it carried ${carried} streams`);
      }
    });
    await t.test('refused: the failed connect is recorded', () => {
      assert.equal(out.refused.ok, false, `${label}: the program's call to a refused port failed`);
      const attempts = trace.dials.flatMap((d) => d.connectAttempts).filter((a) => a.port === grpcRefused);
      assert.ok(
        attempts.length >= 1 && attempts.every((a) => a.error === 'ECONNREFUSED'),
        `${label}: connect attempts to the refused port: ${JSON.stringify(attempts)}`,
      );
    });
  });
}
