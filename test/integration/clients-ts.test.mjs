// covers: src/preload/initiator/, src/collector/sourceMaps.ts
// The clients suite, TypeScript runners: a TypeScript program using fetch and axios
// (apps/clients/ts/client.mts) run through `--import tsx` (Node 20, 22, 24, 26) and through Node's own
// type stripping (22+, no flag), traced for real against the recording server. Each request must
// be what the server saw, a followed redirect no failure, and its initiator the .mts file at the
// line of the call (tsx holds the source map only in memory; type stripping keeps lines as they are).
import { after, before } from 'node:test';
import { startClientServers } from './clientServers.mjs';
import { clientTest, nodesWithMajor } from './clientsCheck.mjs';
import { nodeBinaries } from './harness.mjs';

let http;
before(async () => {
  http = await startClientServers();
});
after(() => http.close());
const servers = () => ({ http });
const nodes = nodesWithMajor(nodeBinaries);
const cases = [
  { name: 'fetch', program: 'ok', statuses: [200] },
  { name: 'axios', program: 'ok', statuses: [200] },
  { name: 'redirect', program: 'ok', statuses: [302, 200], redirect: true },
];

clientTest({ client: 'TypeScript via --import tsx', app: 'ts/client.mts', servers, nodes, cases, runtimeArgs: ['--import', 'tsx'] });
clientTest({
  client: 'TypeScript via type stripping',
  app: 'ts/client.mts',
  servers,
  nodes,
  cases,
  // Type stripping is on by default from Node 22.18 (23.6 on the 23 line).
  skip: (n) =>
    n.major < 22 ? `Node ${n.major} cannot run TypeScript without a loader (type stripping is unflagged from Node 22.18)` : undefined,
});
