/**
 * Redirect links between requests: a request that starts at the URL a previous 3xx response of
 * the same process pointed to gets `redirectedFrom`, and inherits the program's line of the
 * request that started the chain when its own stack has none.
 */

import { inheritInitiator, programFrame } from './initiatorLine';
import type { HttpRequest } from '../contract/types';

/** Redirect targets waiting for their follow-up request, at most `max` (the oldest go first). */
export class RedirectLinks {
  /** "pid url" → traceID of the 3xx request that pointed there. */
  private readonly pending = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** Remembers where a 3xx response points so the follow-up request can be linked. */
  remember(req: HttpRequest): void {
    const status = req.respStatusCode;
    if (typeof status !== 'number' || status < 300 || status >= 400 || !req.respHeaders) return;
    const location = req.respHeaders.find((h) => String(h[0]).toLowerCase() === 'location');
    if (!location || location.length < 2 || !location[1]) return;
    let target: string;
    try {
      target = new URL(location[1], req.reqURL).href;
    } catch {
      return;
    }
    const key = `${req.pid} ${target}`;
    if (this.pending.get(key) === req.traceID) return;
    this.pending.delete(key);
    this.pending.set(key, req.traceID);
    if (this.pending.size > this.max) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
  }

  /** Sets `redirectedFrom` when a request starts at a URL a previous 3xx pointed to. */
  link(req: HttpRequest): void {
    if (req.redirectedFrom || this.pending.size === 0) return;
    let url: string;
    try {
      url = new URL(req.reqURL).href;
    } catch {
      return;
    }
    const key = `${req.pid} ${url}`;
    const from = this.pending.get(key);
    if (from && from !== req.traceID) {
      req.redirectedFrom = from;
      this.pending.delete(key);
    }
  }

  /** Forgets every pending redirect (the builder's clear()). */
  clear(): void {
    this.pending.clear();
  }
}

/**
 * A redirect a library followed is made from the library's response handler: none of the
 * program's frames is on that stack. The program's line is the one that made the first request
 * of the chain (see inheritInitiator). A hop with no stack at all (undici follows a fetch's
 * redirect inside its own dispatch) inherits it too.
 */
export function inheritRedirectInitiator(req: HttpRequest, from: HttpRequest | undefined): void {
  if (req.initiator && programFrame(req.initiator)) return;
  const inherited = inheritInitiator(req.initiator, from?.initiator);
  if (inherited) req.initiator = inherited;
}
