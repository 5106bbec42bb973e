// covers: src/preload/message/wsFrames.ts, src/preload/message/progress.ts
// The clients suite, WebSockets and server-sent events: `ws`, undici's WebSocket, Node's global
// WebSocket (22+) and the `eventsource` package, each driven for real by a small app
// (apps/clients/) against the recording server of clientServers.mjs, on every Node version
// available. An upgrade must show its 101 and a response time; a followed redirect is no failure;
// a handshake timeout is a timeout; each request names the program's line as its initiator.
import { after, before } from 'node:test';
import { sseEvents, startClientServers } from './clientServers.mjs';
import { clientTest, nodesWithMajor } from './clientsCheck.mjs';
import { nodeBinaries } from './harness.mjs';
import { REFUSED } from './clientsCases.mjs';

let http;
before(async () => {
  http = await startClientServers();
});
after(() => http.close());
const servers = () => ({ http });
const nodes = nodesWithMajor(nodeBinaries);

const WS_GET = { name: 'get', program: 'ok', statuses: [101], upgrade: true, saw: { echoed: 'hello', code: 1000 } };
clientTest({
  client: 'ws',
  app: 'ws.mjs',
  servers,
  nodes,
  cases: [
    WS_GET,
    { name: 'redirect', program: 'ok', statuses: [302, 101], redirect: true, upgrade: true, saw: { echoed: 'hello' } },
    REFUSED,
    { name: 'timeout', program: 'error', statuses: [null], error: { phase: 'response', timedOut: true } },
  ],
});
clientTest({
  client: 'undici WebSocket',
  app: 'websocket.mjs',
  servers,
  nodes,
  env: () => ({ NT_WS: 'undici' }),
  cases: [WS_GET, REFUSED],
});
clientTest({
  client: 'global WebSocket',
  app: 'websocket.mjs',
  servers,
  nodes,
  env: () => ({ NT_WS: 'global' }),
  skip: (n) => (n.major < 22 ? 'Node 20 has no global WebSocket (unflagged from Node 22)' : undefined),
  cases: [WS_GET, REFUSED],
});
clientTest({
  client: 'EventSource',
  app: 'eventsource.mjs',
  servers,
  nodes,
  cases: [
    { name: 'get', program: 'ok', statuses: [200], saw: { events: sseEvents }, events: sseEvents.length },
    { name: 'redirect', program: 'ok', statuses: [302, 200], redirect: true, saw: { events: sseEvents }, events: sseEvents.length },
    REFUSED,
  ],
});
