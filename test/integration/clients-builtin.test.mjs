// covers: src/preload/http/, src/preload/undici/
// The clients suite, Node's own clients: node:http and node:https, the global fetch (Node's
// bundled undici, whose handler API changed in undici 8 on Node 26) read whole and through
// getReader(), and userland undici's request, on every Node version available (20, 22, 24, 26).
// Each request must be what the server saw (method, status, request and response body lengths)
// and name the program's line as its initiator (clientsCheck.mjs).
import { after, before } from 'node:test';
import { caFile } from './servers.mjs';
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
const ok = (name) => ({ name, program: 'ok', statuses: [200] });

clientTest({
  client: "Node's own clients",
  app: 'builtin.mjs',
  servers,
  nodes,
  env: () => ({ NODE_EXTRA_CA_CERTS: caFile }),
  cases: ['http-get', 'http-post', 'https-get', 'fetch-get', 'fetch-post', 'fetch-stream', 'undici-request'].map(ok),
});
