/**
 * `fail reset` after N bytes of the response body on http/https (docs/rules.md "What-if actions"):
 * the rule acts only on a response that goes on past those N bytes. One that ends within them (a
 * 232-byte answer under a rule for 1,000 bytes) reaches the program as the server sent it, and the
 * rule did not act: no `whatIf` mark, not counted (whatIfMarks.ts markActed / notActed).
 *
 * Where the response ends is read from its own framing, as Node's parser reads it: interim `1xx`
 * heads are passed over; no body for HEAD, 204 and 304; a chunked body ends with its last chunk
 * and trailers; else `Content-Length`; else the connection's end. The N bytes are the body's bytes
 * as sent (a chunked body's framing counts).
 */

/** Calls made by resetHttpAfter as the response goes by. */
export interface ResetHooks {
  /** Pushes a chunk (null: the end) to the socket's readable side, as the real push would. */
  push(chunk: Buffer | null): void;
  /** The connection is reset now (after the N bytes were pushed). */
  cut(): void;
  /** The rule acted (true: it cut the response) or not (the response ended within N bytes). Called once. */
  decided(acted: boolean): void;
}

/** How the body of a response ends. */
type Framing = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked'; chunks: ChunkedEnd } | { kind: 'close' };

/** The end of a chunked body, found as its bytes go by (RFC 9112 §7.1: size line, data, CRLF; a 0 chunk, trailers, CRLF). */
export class ChunkedEnd {
  private state = 0; // 0 size, 1 extension, 2 size LF, 3 data, 4 data CR, 5 data LF, 6 trailer start, 7 trailer line, 8 trailer LF, 9 final LF, 10 done, 11 malformed
  private size = 0;
  private left = 0;

  /** Feeds bytes; returns how many of them the body took up to its end (less than `b.length`: it ended there), or -1 when it goes on. */
  feed(b: Uint8Array): number {
    let i = 0;
    while (i < b.length) {
      const c = b[i];
      switch (this.state) {
        case 0: {
          const d = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
          if (d >= 0) this.size = this.size * 16 + d;
          else if (c === 59 || c === 32 || c === 9) this.state = 1;
          else if (c === 13) this.state = 2;
          else this.state = 11;
          break;
        }
        case 1:
          if (c === 13) this.state = 2;
          break;
        case 2:
          if (c !== 10) this.state = 11;
          else if (this.size === 0) this.state = 6;
          else {
            this.left = this.size;
            this.state = 3;
          }
          break;
        case 3: {
          const take = Math.min(this.left, b.length - i);
          this.left -= take;
          i += take;
          if (this.left === 0) this.state = 4;
          continue;
        }
        case 4:
          this.state = c === 13 ? 5 : 11;
          break;
        case 5:
          this.state = c === 10 ? 0 : 11;
          this.size = 0;
          break;
        case 6:
          this.state = c === 13 ? 9 : 7;
          break;
        case 7:
          if (c === 13) this.state = 8;
          break;
        case 8:
          this.state = c === 10 ? 6 : 11;
          break;
        case 9:
          this.state = c === 10 ? 10 : 11;
          if (this.state === 10) return i + 1;
          break;
        default:
          return -1;
      }
      i++;
    }
    return -1;
  }
}

/** The framing of a response's body from its head (status line and header lines). */
function framingOf(head: string, method: string): { status: number; framing: Framing } {
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(lines[0])?.[1] ?? 0);
  let length: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
    else if (name === 'content-length' && /^\d+$/.test(value)) length = Number(value);
  }
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200))
    return { status, framing: { kind: 'none' } };
  if (chunked) return { status, framing: { kind: 'chunked', chunks: new ChunkedEnd() } };
  if (length !== undefined) return { status, framing: { kind: 'length', left: length } };
  return { status, framing: { kind: 'close' } };
}

/**
 * What to do with each raw read of an http/https response (the socket's push) under a reset after
 * `n` body bytes: returns the function the socket's push wrapper calls with each chunk.
 */
export function resetHttpAfter(n: number, method: string, hooks: ResetHooks): (chunk: Buffer | null) => void {
  let head: Buffer | null = Buffer.alloc(0);
  let framing: Framing | undefined;
  let seen = 0;
  /** 0 reading, 1 passed (the rule does not act), 2 cut (nothing more goes through), 3 at N bytes of a body that ends at the connection's end. */
  let state = 0;
  const push = (c: Buffer | null): void => {
    if (c === null || c.length > 0) hooks.push(c);
  };
  const pass = (): void => {
    state = 1;
    hooks.decided(false);
  };
  const cut = (): void => {
    state = 2;
    hooks.decided(true);
    hooks.cut();
  };
  /** Body bytes (a chunk's part after the head). */
  const body = (b: Buffer): void => {
    const f = framing!;
    const room = n - seen;
    const mine = b.length <= room ? b : b.subarray(0, room);
    // The body ends within these bytes (at most N in all): the response goes through whole.
    const endsAt =
      f.kind === 'none' ? 0 : f.kind === 'length' ? (f.left <= mine.length ? f.left : -1) : f.kind === 'chunked' ? f.chunks.feed(mine) : -1;
    if (endsAt >= 0) {
      push(b);
      return pass();
    }
    if (f.kind === 'length') f.left -= mine.length;
    seen += mine.length;
    push(mine);
    if (b.length > mine.length) return cut();
    if (seen < n) return;
    if (f.kind !== 'close') return cut();
    // A body that ends at the connection's end: ended here if the end comes with these bytes.
    state = 3;
    process.nextTick(() => {
      if (state === 3) cut();
    });
  };
  return (chunk) => {
    if (state === 1) return push(chunk);
    if (state === 2) return;
    if (chunk === null) {
      // The server closed the connection within N bytes: its own end (or its own early close).
      push(null);
      return pass();
    }
    if (state === 3) return cut();
    if (head === null) return body(chunk);
    let buf: Buffer = Buffer.concat([head, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        head = buf;
        return;
      }
      const block = buf.subarray(0, end + 4);
      const rest: Buffer = buf.subarray(end + 4);
      const { status, framing: f } = framingOf(block.toString('latin1'), method);
      push(block);
      // An interim answer (100 Continue): the final head follows.
      if (status >= 100 && status < 200 && status !== 101) {
        buf = rest;
        continue;
      }
      head = null;
      framing = f;
      if (status !== 101) return body(rest);
      push(rest);
      return pass();
    }
  };
}
