// superagent (http.request underneath; `await` starts the request from its `then`). Each case's
// request is made on the line marked `@line <case>`.
import superagent from 'superagent';
import { base, body, refused, runCases } from './_run.mjs';

await runCases({
  get: async () => {
    const r = await superagent.get(`${base}/get/ok?size=321`); // @line get
    return { status: r.status, len: r.text.length };
  },
  post: async () => {
    const r = await superagent.post(`${base}/post/echo`).set('content-type', 'application/json').send(body); // @line post
    return { status: r.status, received: r.body.received };
  },
  redirect: async () => {
    const r = await superagent.get(`${base}/redirect/redir/ok?size=12`); // @line redirect
    return { status: r.status, len: r.text.length };
  },
  refused: async () => {
    await superagent.get(`${refused}/refused/ok`); // @line refused
  },
  timeout: async () => {
    await superagent.get(`${base}/timeout/stall/ok`).timeout({ response: 300 }); // @line timeout
  },
  retry: async () => {
    const r = await superagent.get(`${base}/retry/flaky/ok?size=5`).retry(2); // @line retry
    return { status: r.status };
  },
});
