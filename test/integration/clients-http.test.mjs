// covers: src/preload/http/, src/preload/asyncStarts.ts
// The clients suite, HTTP libraries: axios, got, node-fetch 2 and 3, superagent, needle and ky,
// each driven for real by a small app (apps/clients/) against the recording servers of
// clientServers.mjs, on every Node version available (20, 22, 24, 26). For every case the trace must
// hold what the server and the program saw: how many requests, method, URL, status, body lengths,
// errors with their phase and `timedOut`, redirects linked, and the program's own line as the
// initiator of each request (taken from the app's `// @line <case>` marker).
import { after, before } from 'node:test';
import { startClientServers } from './clientServers.mjs';
import { clientTest, nodesWithMajor } from './clientsCheck.mjs';
import { nodeBinaries } from './harness.mjs';
import { GET, POST, REDIRECT, REFUSED, RETRY, TIMEOUT } from './clientsCases.mjs';

let http;
before(async () => {
  http = await startClientServers();
});
after(() => http.close());
const servers = () => ({ http });
const nodes = nodesWithMajor(nodeBinaries);

clientTest({ client: 'axios', app: 'axios.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT] });
clientTest({ client: 'got', app: 'got.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT, RETRY] });
clientTest({ client: 'node-fetch 2', app: 'node-fetch-2.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT] });
clientTest({ client: 'node-fetch 3', app: 'node-fetch-3.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT] });
clientTest({ client: 'superagent', app: 'superagent.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT, RETRY] });
clientTest({ client: 'needle', app: 'needle.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT] });
clientTest({ client: 'ky', app: 'ky.mjs', servers, nodes, cases: [GET, POST, REDIRECT, REFUSED, TIMEOUT, RETRY] });
