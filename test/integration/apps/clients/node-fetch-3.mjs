// node-fetch 3 (http.request underneath); its timeout is an AbortSignal.timeout. Each case's
// request is made on the line marked `@line <case>`.
import fetch from 'node-fetch';
import { base, body, refused, runCases } from './_run.mjs';

await runCases({
  get: async () => {
    const r = await fetch(`${base}/get/ok?size=321`); // @line get
    return { status: r.status, len: (await r.text()).length };
  },
  post: async () => {
    const r = await fetch(`${base}/post/echo`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }); // @line post
    return { status: r.status, received: (await r.json()).received };
  },
  redirect: async () => {
    const r = await fetch(`${base}/redirect/redir/ok?size=12`); // @line redirect
    return { status: r.status, len: (await r.text()).length };
  },
  refused: async () => {
    await fetch(`${refused}/refused/ok`); // @line refused
  },
  timeout: async () => {
    await fetch(`${base}/timeout/stall/ok`, { signal: AbortSignal.timeout(300) }); // @line timeout
  },
});
