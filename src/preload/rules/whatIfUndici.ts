/**
 * What-if rules for fetch (Node's bundled undici) and userland undici (issue 51, docs/rules.md
 * "What-if actions"): the undici request is driven as its connection would drive it, so fetch and
 * undici.request() build what the program receives with their own code.
 *
 * Never throws into the program: every entry point catches, warns once and lets the request go.
 */
import type { Rule } from '../../rules';
import type { Tracer } from '../tracer';
import { isIp, notFoundError, refusedError, warnOnce } from './whatIf';

interface UndiciRequestLike {
  aborted?: boolean;
  onConnect?: unknown;
  completed?: boolean;
  onError?: (err: Error) => unknown;
  onResponseError?: (err: Error) => unknown;
  onRequestStart?: unknown;
}

/**
 * An undici/fetch request a `fail` rule acts on, at `undici:request:create`: errored in the next
 * microtask (the request is then queued; undici writes no errored request) with the error its
 * connector would give, after a lookup of the name for `refused` (the real error names the address).
 * Never throws.
 */
export function failUndiciRequest(t: Tracer, req: object, rule: Rule, origin: string): void {
  const spec = rule.fail;
  if (spec === undefined) return;
  try {
    const u = new URL(origin);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    const r = req as UndiciRequestLike;
    const deliver = (err: Error) => {
      try {
        if (r.aborted === true || r.completed === true) return;
        // undici 8 (Node 26's fetch) renamed the request's onError to onResponseError.
        if (typeof r.onError === 'function') r.onError(err);
        else if (typeof r.onResponseError === 'function') r.onResponseError(err);
      } catch (e) {
        warnOnce(t, e);
      }
    };
    if (spec.kind === 'dns-notfound') queueMicrotask(() => deliver(notFoundError(host)));
    else if (isIp(host)) queueMicrotask(() => deliver(refusedError(host, port)));
    else {
      // The real error names the address the name resolved to: looked up as the connector would.
      let found: Error | undefined;
      const dns = require('node:dns') as typeof import('node:dns');
      dns.lookup(host, (err, address) => deliver((found = err ? err : refusedError(address, port))));
      // Should undici's own connect win that race, the request is failed as it would be written
      // (an error thrown by onConnect errors the request, and undici writes nothing of it).
      // (undici 8 renamed onConnect to onRequestStart.)
      const failAtConnect = () => {
        throw found ?? refusedError(host, port);
      };
      if (typeof r.onConnect === 'function') r.onConnect = failAtConnect;
      else if (typeof r.onRequestStart === 'function') r.onRequestStart = failAtConnect;
    }
  } catch (err) {
    warnOnce(t, err);
  }
}
