// undici's ProxyAgent with undici's fetch: HTTPS requests through an HTTP proxy's CONNECT tunnel.
// A redirect fetch follows, a refused proxy, and undici's own headersTimeout. Each case's request
// is made on the line marked `@line <case>`.
import { fetch, ProxyAgent } from 'undici';
import { body, httpsBase, runCases } from './_run.mjs';

const proxy = new ProxyAgent(process.env.NT_PROXY);
const refusedProxy = new ProxyAgent(process.env.NT_PROXY_REFUSED);
const impatient = new ProxyAgent({ uri: process.env.NT_PROXY, headersTimeout: 300 });

await runCases({
  get: async () => {
    const r = await fetch(`${httpsBase}/get/ok?size=321`, { dispatcher: proxy }); // @line get
    return { status: r.status, len: (await r.text()).length };
  },
  post: async () => {
    const init = { dispatcher: proxy, method: 'POST', body, headers: { 'content-type': 'application/json' } };
    const r = await fetch(`${httpsBase}/post/echo`, init); // @line post
    return { status: r.status, received: (await r.json()).received };
  },
  redirect: async () => {
    const r = await fetch(`${httpsBase}/redirect/redir/ok?size=12`, { dispatcher: proxy }); // @line redirect
    return { status: r.status, len: (await r.text()).length };
  },
  refused: async () => {
    await fetch(`${httpsBase}/refused/ok`, { dispatcher: refusedProxy }); // @line refused
  },
  timeout: async () => {
    await fetch(`${httpsBase}/timeout/stall/ok`, { dispatcher: impatient }); // @line timeout
  },
});
await Promise.all([proxy.close(), refusedProxy.close(), impatient.close()]);
