// axios (its Node adapter: http.request through follow-redirects): each case's request is made on
// the line marked `@line <case>`, the line the trace must name as the initiator.
import axios from 'axios';
import { base, body, refused, runCases } from './_run.mjs';

await runCases({
  get: async () => {
    const r = await axios.get(`${base}/get/ok?size=321`); // @line get
    return { status: r.status, len: r.data.length };
  },
  post: async () => {
    const r = await axios.post(`${base}/post/echo`, body, { headers: { 'content-type': 'application/json' } }); // @line post
    return { status: r.status, received: r.data.received };
  },
  redirect: async () => {
    const r = await axios.get(`${base}/redirect/redir/ok?size=12`); // @line redirect
    return { status: r.status, len: r.data.length };
  },
  refused: async () => {
    await axios.get(`${refused}/refused/ok`); // @line refused
  },
  timeout: async () => {
    await axios.get(`${base}/timeout/stall/ok`, { timeout: 300 }); // @line timeout
  },
});
