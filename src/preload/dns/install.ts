/**
 * Starts the in-process resolver (src/preload/dns/resolver.ts, loaded only when first needed):
 * at startup when the DNS trace is on for every dial (`dnsTrace`), or on the first dial that a
 * `details` rule with `dnsTrace` asks to trace (perRequest.ts).
 */
import type { Tracer } from '../tracer';

let failed = false;

/** The tracer's resolver, created on first use; undefined when it could not be (warned once). */
export function ensureResolver(t: Tracer): Tracer['resolver'] {
  if (t.resolver || failed) return t.resolver;
  try {
    const { createResolver } = require('./resolver') as typeof import('./resolver');
    const { isResolverSocket } = require('./sockets') as typeof import('./sockets');
    const resolver = createResolver(
      { nameservers: t.config.dnsServers },
      {
        udpConn: (id, f) => t.record('udpConns', id, { ...f }),
        tcpConn: (id, f) => t.record('tcpConns', id, { ...f }),
        dnsQuery: (id, f) => t.record('dnsQueries', id, { ...f }),
        warning: (m) => t.warn(m),
      },
      (prefix) => t.id(prefix),
    );
    t.resolver = { lookup: (dialId) => resolver.lookup(dialId), flush: () => resolver.flush(), isOwn: isResolverSocket };
  } catch (err) {
    failed = true;
    t.warn(`nettrace: the DNS trace is off in pid ${process.pid}: ${(err as Error)?.message ?? err}`);
  }
  return t.resolver;
}
