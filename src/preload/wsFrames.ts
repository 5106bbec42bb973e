/**
 * Counting WebSocket messages and payload bytes in a byte stream of RFC 6455 frames, one
 * direction of a connection, however the stream is cut into chunks. Only frame headers are
 * read (at most 14 bytes per frame); payloads are skipped by length, never copied.
 */

/** One direction's parse state and counts. */
export interface FrameCounter {
  /** Complete data messages (text or binary; a fragmented message counts once, at its last frame). */
  messages: number;
  /** Payload bytes of data frames (as on the wire: compressed under permessage-deflate). */
  bytes: number;
  /** Payload bytes of the current frame still to come. */
  need: number;
  /** The current frame is a data frame (text, binary or continuation). */
  data: boolean;
  /** A frame header split across chunks, so far. */
  header?: number[];
}

/** A fresh counter. */
export function frameCounter(): FrameCounter {
  return { messages: 0, bytes: 0, need: 0, data: false };
}

/** Opcodes 0 (continuation), 1 (text) and 2 (binary) carry data. */
const MAX_DATA_OPCODE = 2;

/** Feeds one chunk of the stream. */
export function countFrames(c: FrameCounter, chunk: Uint8Array): void {
  let i = 0;
  const n = chunk.length;
  while (i < n) {
    if (c.need > 0) {
      const take = Math.min(c.need, n - i);
      if (c.data) c.bytes += take;
      c.need -= take;
      i += take;
      continue;
    }
    const h = c.header ?? (c.header = []);
    h.push(chunk[i++]);
    if (h.length < 2) continue;
    const len7 = h[1] & 0x7f;
    const size = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
    if (h.length < size) continue;
    let len = len7;
    if (len7 === 126) len = (h[2] << 8) | h[3];
    else if (len7 === 127) {
      len = 0;
      for (let k = 2; k < 10; k++) len = len * 256 + h[k];
    }
    const opcode = h[0] & 0x0f;
    c.data = opcode <= MAX_DATA_OPCODE;
    if (c.data && (h[0] & 0x80) !== 0) c.messages++;
    c.need = len;
    c.header = undefined;
  }
}
