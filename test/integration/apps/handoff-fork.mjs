// handoff.cjs's forked worker as an ES module: it keeps Node's `process.send` first, then imports
// `http` (on Node 24+ the preload's body runs at that import, after the send was kept), makes
// NT_N requests at once to the URL it is given and reports {ok} to its parent, which kills it.
import { createRequire } from 'node:module';

const send = process.send.bind(process);
const { runRequests } = createRequire(import.meta.url)('./handoff.cjs');
const http = await import('node:http');
send({ ok: await runRequests(http.default, process.argv[2], Number(process.env.NT_N ?? 60)) });
