/**
 * The route a request belongs to, for the summary by route and the comparison of two traces
 * (summary.ts, compare.ts): its host, method and route template. A served request whose
 * framework named its route (`incomingRequests[].route`: Express, Fastify) keeps that template;
 * any other path gets the one src/trace/contract/routeTemplate.ts infers (the same the rules made
 * from a request use). Pure and free of Node APIs: the panel bundles it.
 */
import { inferRoute, type RouteTemplate } from '../contract/routeTemplate';

/** The host of a URL as a route group names it: `hostname[:port]`, the port left out when it is the scheme's default. */
export function hostOf(url: string): string {
  const m = /^([a-z][\w+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url);
  if (!m) return '';
  const scheme = m[1].toLowerCase();
  const host = m[2].toLowerCase();
  if ((scheme === 'http' || scheme === 'ws') && host.endsWith(':80')) return host.slice(0, -3);
  if ((scheme === 'https' || scheme === 'wss') && host.endsWith(':443')) return host.slice(0, -4);
  return host;
}

/** A request's place in the summary: host, method and route template. */
export interface RouteKey extends RouteTemplate {
  host: string;
  method: string;
}

/**
 * The route of a request: `route` when the framework named it (a served request's `route`),
 * else the one inferred from `url`'s path. A method or URL that is not text (a damaged record the
 * panel holds) reads as empty.
 */
export function routeKeyOf(method: string, url: string, route?: string): RouteKey {
  const u = typeof url === 'string' ? url : '';
  const template = typeof route === 'string' && route !== '' ? { route, inferred: false } : inferRoute(u);
  return { host: hostOf(u), method: typeof method === 'string' ? method.toUpperCase() : '', ...template };
}

/** The one text of a route key: `GET api.example.com/users/:id` (the key summary groups and the diff match by). */
export function routeLabel(key: Pick<RouteKey, 'host' | 'method' | 'route'>): string {
  return `${key.method} ${key.host}${key.route}`;
}
