/**
 * The response heads a what-if rule hands to undici's Request in the connection's place
 * (undiciWhatIf.ts): the status line's reason and the raw header pairs, as undici's parser gives
 * them, laid out as the bytes of one header block ("Name: value" lines joined by CRLF) of which
 * each name and value is a view, as the parser's are views of the bytes it read. The hooks read
 * such a list as that block (src/preload/headerCapture.ts byteBlock), so the trace records
 * exactly the headers the program got.
 */
import type { OverrideSpec } from '../../rules/whatIfActions';

/** The status line's reason undici reads from a server: Node's own text for the code. */
export function reasonOf(status: number): string {
  const http = require('node:http') as typeof import('node:http');
  return http.STATUS_CODES[status] ?? '';
}

/** Header pairs as the views of one header block's bytes (Latin-1, as a parser reads them): name, value, … */
export function headerViews(pairs: ReadonlyArray<readonly [string | Buffer, string | Buffer]>): Buffer[] {
  const bytes = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
  const parts = pairs.map(([k, v]) => [bytes(k), bytes(v)] as const);
  let size = 0;
  for (const [k, v] of parts) size += k.length + 2 + v.length + 2;
  const block = Buffer.alloc(size);
  const out: Buffer[] = [];
  let at = 0;
  for (const [k, v] of parts) {
    k.copy(block, at);
    out.push(block.subarray(at, at + k.length));
    at += k.length;
    block.write(': ', at, 'latin1');
    at += 2;
    v.copy(block, at);
    out.push(block.subarray(at, at + v.length));
    at += v.length;
    block.write('\r\n', at, 'latin1');
    at += 2;
  }
  return out;
}

/** Raw header pairs of an answer in the server's place, plus `content-length` when the rule gives none (what a server sends for a body it holds whole). */
export function rawHeaders(headers: Record<string, string | string[]>, bodyLen: number | undefined): Buffer[] {
  const pairs: Array<[string, string]> = [];
  let hasLength = false;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'content-length') hasLength = true;
    for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
  }
  if (!hasLength && bodyLen !== undefined) pairs.push(['content-length', String(bodyLen)]);
  return headerViews(pairs);
}

/** The status line and raw headers an override rule makes of the real ones. */
export function overridden(
  o: OverrideSpec,
  status: number,
  raw: Buffer[],
  reason: string,
  body: Buffer | undefined,
): { st: number; hs: Buffer[]; reason: string } {
  const st = o.status ?? status;
  const change = new Map<string, string | null>();
  for (const [k, v] of Object.entries(o.headers ?? {})) change.set(k.toLowerCase(), v);
  if (body !== undefined) change.set('content-length', String(body.length));
  const pairs: Array<[string | Buffer, string | Buffer]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (body !== undefined && name === 'transfer-encoding') continue;
    if (!change.has(name)) pairs.push([raw[i], raw[i + 1]]);
    else {
      const v = change.get(name);
      if (v !== null && v !== undefined) pairs.push([raw[i], v]);
      change.delete(name);
    }
  }
  for (const [k, v] of change) if (v !== null) pairs.push([k, v]);
  return { st, hs: headerViews(pairs), reason: o.status !== undefined && o.status !== status ? reasonOf(st) : reason };
}
