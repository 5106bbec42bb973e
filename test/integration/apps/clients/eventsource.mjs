// Server-sent events with the `eventsource` package (global fetch, i.e. undici, underneath): a
// stream of three events that then ends, the same behind a redirect, and a refused connection.
// Each case's request is made on the line marked `@line <case>`.
import { EventSource } from 'eventsource';
import { base, refused, runCases } from './_run.mjs';

/** Collects the events until the stream ends (the `error` event), then closes (no reconnect). */
function collect(es) {
  return new Promise((resolve, reject) => {
    const events = [];
    es.onmessage = (e) => events.push(e.data);
    es.onerror = () => {
      // eventsource 4 arms its reconnect timer just after dispatching `error`: close right after.
      setImmediate(() => es.close());
      if (events.length === 0) reject(new Error('EventSource error before any event'));
      else resolve({ events });
    };
  });
}

await runCases({
  get: () => collect(new EventSource(`${base}/get/sse`)), // @line get
  redirect: () => collect(new EventSource(`${base}/redirect/redir/sse`)), // @line redirect
  refused: () => collect(new EventSource(`${refused}/refused/sse`)), // @line refused
});
