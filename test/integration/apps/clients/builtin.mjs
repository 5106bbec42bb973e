// Node's own clients: node:http, node:https, the global fetch (the undici bundled in Node: 6 on
// Node 20 and 22, 7 on 24, 8 on 26) read whole and streamed, and userland undici's request. Each
// case's request is made on the line marked `@line <case>`.
import http from 'node:http';
import https from 'node:https';
import { base, body, httpsBase, runCases } from './_run.mjs';

/** Reads a node:http response to its end: what the program saw. */
const read = (req, payload) =>
  new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let len = 0;
      res.on('data', (d) => (len += d.length));
      res.on('end', () => resolve({ status: res.statusCode, len }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
const post = { method: 'POST', headers: { 'content-type': 'application/json' } };

await runCases({
  'http-get': () => read(http.get(`${base}/http-get/ok?size=1000`)), // @line http-get
  'http-post': () => read(http.request(`${base}/http-post/echo`, post), body), // @line http-post
  'https-get': () => read(https.get(`${httpsBase}/https-get/ok?size=1234`)), // @line https-get
  // The global fetch first: importing userland undici (below) makes its Agent the global
  // dispatcher when none is set yet, and fetch would then run on it.
  'fetch-get': async () => {
    const r = await fetch(`${base}/fetch-get/ok?size=1000`); // @line fetch-get
    return { status: r.status, len: (await r.text()).length };
  },
  'fetch-post': async () => {
    const r = await fetch(`${base}/fetch-post/echo`, { ...post, body }); // @line fetch-post
    return { status: r.status, received: (await r.json()).received };
  },
  'fetch-stream': async () => {
    const r = await fetch(`${base}/fetch-stream/ok?size=300000`); // @line fetch-stream
    const reader = r.body.getReader();
    let len = 0;
    for (let c = await reader.read(); !c.done; c = await reader.read()) len += c.value.length;
    return { status: r.status, len };
  },
  'undici-request': async () => {
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent();
    const r = await request(`${base}/undici-request/ok?size=654`, { dispatcher }); // @line undici-request
    const len = (await r.body.text()).length;
    await dispatcher.close();
    return { status: r.statusCode, len };
  },
});
