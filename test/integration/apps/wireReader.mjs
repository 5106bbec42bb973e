// A raw reader of the preload → collector wire (src/protocol/preload.ts, src/protocol/events.ts),
// independent of the collector's own parser, for tests that stand in for a collector: JSON lines,
// and the two framed messages whose header line is followed by `len` raw bytes — a blob, and an
// events frame carrying `n` record events. An events frame is handed on as
// `{ type: 'events', n, len }` (its events are counted, not decoded); a blob as its header. A
// framed message is handed on only once its whole body arrived: a frame the pipe took in part
// (a collector that stopped reading mid-frame) reaches no collector, and the preload counts its
// events as dropped.
export class WireReader {
  #buf = Buffer.alloc(0);
  /** Bytes still to skip: the body of the frame whose header was read last. */
  #skip = 0;
  /** That frame's header, handed on once its body is complete. */
  #frame = undefined;

  /** The messages completed by `chunk`, in order. Throws on a line that is not JSON. */
  push(chunk) {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out = [];
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, this.#buf.length);
        this.#buf = this.#buf.subarray(n);
        this.#skip -= n;
        if (this.#skip > 0) break;
      }
      if (this.#frame !== undefined) {
        out.push(this.#frame);
        this.#frame = undefined;
      }
      const nl = this.#buf.indexOf(10);
      if (nl < 0) break;
      const m = JSON.parse(this.#buf.subarray(0, nl).toString('utf8'));
      this.#buf = this.#buf.subarray(nl + 1);
      if ((m.type === 'events' || m.type === 'blob') && typeof m.len === 'number' && m.len > 0) {
        this.#skip = m.len;
        this.#frame = m;
      } else out.push(m);
    }
    return out;
  }
}

/** How many of the preload's messages `m` stands for: an events frame counts its events. */
export const messageCount = (m) => (m.type === 'events' ? m.n : 1);
