/**
 * A fetch() call as the trace rules see it at the call (FetchCallView), and the URL of its input:
 * shared by the global fetch's wrapper (undiciFetch.ts) and the calls fetch refuses at a bad port
 * (badPort.ts), the global one's and userland undici's.
 */

import type { HttpClientKind } from '../../trace/contract/types';
import type { RequestStartView } from '../../rules';
import { viewFromUrl } from '../rules/ruleHooks';

/** The URL text of a fetch() input (a string, a URL or a Request), as the program gave it. */
export function rawUrl(input: unknown): string | undefined {
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as { url?: unknown } | null)?.url;
  return typeof raw === 'string' ? raw : undefined;
}

/**
 * The URL text fetchUrl parsed last, and its answer: a program mostly fetches the same URLs over
 * and over (polling, one API endpoint), and a string compare is much less than a URL parse.
 */
let lastRaw: string | undefined;
let lastHref: string | undefined;

/** The URL string a fetch() input resolves to, or undefined when it is not a plain absolute URL. */
export function fetchUrl(input: unknown): string | undefined {
  const raw = rawUrl(input);
  if (raw === undefined) return undefined;
  if (raw === lastRaw) return lastHref;
  let href: string | undefined;
  try {
    href = new URL(raw).href;
  } catch {
    href = undefined;
  }
  lastRaw = raw;
  lastHref = href;
  return href;
}

/** The methods fetch() upper-cases (the Fetch standard's "normalize a method"). */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * The rules' view of a fetch(input, init) call: the method and headers the program gave (undici
 * adds its own later, e.g. `user-agent`: when an enabled rule reads a header, only the break rules
 * are decided on this view, and the rest at `undici:request:create`). Read lazily, as the http
 * hook's view: the URL is parsed, and split into its parts, only when a rule reads one of them
 * (`skip true` or `method == "POST"` parse nothing), and the header lookup is made only when a
 * rule reads a header. `url`: the URL when the caller had to parse it already.
 */
export class FetchCallView implements RequestStartView {
  declare private readonly input: unknown;
  declare private readonly init: { method?: unknown; headers?: unknown } | null | undefined;
  declare private methodValue: string | undefined;
  declare private urlValue: string | undefined;
  declare private partsValue: RequestStartView | undefined;
  declare private headerFn: ((lowerName: string) => string | undefined) | null | undefined;

  constructor(input: unknown, init: unknown, url: string | undefined) {
    this.input = input;
    this.init = init as FetchCallView['init'];
    this.methodValue = undefined;
    this.urlValue = url;
    this.partsValue = undefined;
    this.headerFn = undefined;
  }

  get client(): HttpClientKind {
    return 'fetch';
  }

  get method(): string {
    if (this.methodValue === undefined) {
      const r = this.input as { method?: unknown } | null;
      const raw = String(this.init?.method ?? (typeof this.input === 'object' ? r?.method : undefined) ?? 'GET');
      // As fetch normalizes it (the Fetch standard upper-cases these six only), so the view reads
      // the method undici's request will have.
      const upper = raw.toUpperCase();
      this.methodValue = NORMALIZED_METHODS.has(upper) ? upper : raw;
    }
    return this.methodValue;
  }

  get url(): string {
    return (this.urlValue ??= fetchUrl(this.input) ?? '');
  }

  /** The URL if a rule made it parsed, else undefined. */
  get parsedUrl(): string | undefined {
    return this.urlValue;
  }

  private get parts(): RequestStartView | undefined {
    return (this.partsValue ??= viewFromUrl('', this.url, 'fetch', undefined));
  }

  get scheme(): string {
    return this.parts?.scheme ?? '';
  }

  get host(): string {
    return this.parts?.host ?? '';
  }

  get port(): number {
    return this.parts?.port ?? 0;
  }

  get target(): string {
    return this.parts?.target ?? '/';
  }

  get header(): ((lowerName: string) => string | undefined) | undefined {
    if (this.headerFn === undefined) {
      const r = this.input as { headers?: unknown } | null;
      const headers = this.init?.headers ?? (typeof this.input === 'object' ? r?.headers : undefined);
      this.headerFn = headers == null ? null : headerLookup(headers);
    }
    return this.headerFn ?? undefined;
  }
}

/** A header lookup (lower-case name) into fetch's HeadersInit: a Headers, [name, value] pairs or a record. */
function headerLookup(h: unknown): (lowerName: string) => string | undefined {
  if (typeof (h as { get?: unknown }).get === 'function') return (n) => (h as { get(n: string): string | null }).get(n) ?? undefined;
  if (Array.isArray(h)) {
    return (n) => {
      const values = h.filter((p) => Array.isArray(p) && String(p[0]).toLowerCase() === n).map((p) => String(p[1]));
      return values.length > 0 ? values.join(', ') : undefined;
    };
  }
  return (n) => {
    for (const k of Object.keys(h as object)) if (k.toLowerCase() === n) return String((h as Record<string, unknown>)[k]);
    return undefined;
  };
}
