// https-proxy-agent with node:https: HTTPS requests through an HTTP proxy's CONNECT tunnel (the
// agent writes the CONNECT itself on a net socket, then TLS takes the socket over). A refused
// proxy, and the request's own `timeout` option. Each case's request is made on the line marked
// `@line <case>`.
import https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { body, httpsBase, runCases } from './_run.mjs';

const agent = new HttpsProxyAgent(process.env.NT_PROXY);
const refusedAgent = new HttpsProxyAgent(process.env.NT_PROXY_REFUSED);

/** Ends `req` (with `data`), reads the response; a `timeout` event destroys the request. */
function done(req, data) {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let len = 0;
      res.on('data', (d) => (len += d.length));
      res.on('end', () => resolve({ status: res.statusCode, len }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(data);
  });
}

await runCases({
  get: () => done(https.request(`${httpsBase}/get/ok?size=321`, { agent })), // @line get
  post: () =>
    done(https.request(`${httpsBase}/post/echo`, { agent, method: 'POST', headers: { 'content-type': 'application/json' } }), body), // @line post
  refused: () => done(https.request(`${httpsBase}/refused/ok`, { agent: refusedAgent })), // @line refused
  timeout: () => done(https.request(`${httpsBase}/timeout/stall/ok`, { agent, timeout: 300 })), // @line timeout
});
