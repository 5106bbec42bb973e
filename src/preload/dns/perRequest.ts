/**
 * The DNS trace per request (a `details` rule with `dnsTrace`, docs/rules.md): while such a rule
 * is enabled, a dial to a host name (no `lookup` of the program's own) gets a lookup that decides
 * when it runs whether to go through the in-process resolver (traced: its `dnsQueries` point at
 * the dial) or Node's `dns.lookup` (untraced, as without the rule). It asks:
 *
 * - http/https: the decision of the request whose `http.request()` made the dial. Node's Agent
 *   opens the connection, and net calls `lookup`, synchronously inside `http.request()`, before
 *   the rules have seen the request (they read the ClientRequest it returns), so the lookup waits
 *   one tick: by then the wrapper has decided (`beginDial`/`endDial` around the call).
 * - undici/fetch: undici dials after `undici:request:create` (where the rules decide), from its
 *   pool, for whichever request is queued; the lookup is traced when a request that asked for
 *   it is waiting for a connection to the dial's host and port (`waitForConnection` until the
 *   request's headers go out on a connection, or it ends).
 *
 * A reused keep-alive connection makes no lookup: the request then has no DNS messages to show.
 */
import type { ConnState, Tracer } from '../tracer';
import { ensureResolver } from './install';
import { nodeLookup } from './programLookup';

/** Whether the lookup of a dial made inside one `http.request()` is traced (set once it is decided). */
export interface DialDns {
  dns: boolean;
}

/** The dial holder of the `http.request()` being built, if any. */
let building: DialDns | undefined;
/** undici requests that asked for the DNS trace and wait for a connection, per "host:port". */
const waiting = new Map<string, number>();

/** Around `http.request()` under rules: dials made inside it follow the holder's `dns`. */
export function beginDial(): { holder: DialDns; outer: DialDns | undefined } {
  const outer = building;
  building = { dns: false };
  return { holder: building, outer };
}

/** Ends what beginDial started (restores an enclosing one). */
export function endDial(d: { outer: DialDns | undefined }): void {
  building = d.outer;
}

/**
 * An undici request that asked for the DNS trace waits for a connection to host:port; the
 * returned function ends the wait (idempotent).
 */
export function waitForConnection(host: string, port: number): () => void {
  const key = `${host}:${port}`;
  waiting.set(key, (waiting.get(key) ?? 0) + 1);
  let on = true;
  return () => {
    if (!on) return;
    on = false;
    const n = (waiting.get(key) ?? 1) - 1;
    if (n > 0) waiting.set(key, n);
    else waiting.delete(key);
  };
}

/**
 * The lookup to give a dial (see the header); called from the connect hook while a dnsTrace rule
 * is enabled. Never throws into net: a failure falls back to `dns.lookup`.
 */
export function dnsLookupFor(t: Tracer, conn: ConnState): (host: string, options: unknown, cb: Function) => void {
  const holder = building;
  const key = `${conn.host}:${conn.port}`;
  return function lookup(host: string, options: unknown, cb: Function): void {
    process.nextTick(() => {
      let traced: Function | undefined;
      try {
        const want = holder !== undefined ? holder.dns : (waiting.get(key) ?? 0) > 0;
        if (want) traced = ensureResolver(t)?.lookup(conn.dialId);
      } catch {
        traced = undefined;
      }
      if (traced) traced(host, options, cb);
      else nodeLookup()(host, options, cb);
    });
  };
}
