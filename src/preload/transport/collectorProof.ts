/**
 * The preload's check that the collector it connected to holds the session's key
 * (src/protocol/collectorProof.ts; docs/security.md, "How a traced process knows its collector"):
 * the challenge it writes first, with a fresh nonce from the system's random source, and the
 * reading of the collector's first line, which must be the proof for that nonce, compared in
 * constant time. Until it passes, the transport (transport.ts) writes nothing else and hands
 * nothing the collector sends to the rules, Send Again or a replay; a collector that fails it is
 * treated as gone. Read as the bytes arrive, or synchronously, without blocking, where the event
 * loop will not turn again (the exit, a paused debuggee: awaitProofSync).
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { challengeLine, MAX_PROOF_LINE, NONCE_BYTES, proofFor, proofLine, sameBytes } from '../../protocol/collectorProof';

/** Bound when the preload loads, before the program can replace them. */
const fsFns = { open: openSync, read: readSync, close: closeSync };
const perfNow = performance.now.bind(performance);
const wait = Atomics.wait;

/**
 * NONCE_BYTES from the system's random source: /dev/urandom where there is one (no module to
 * load), else Node's crypto (Windows, a sandbox without /dev).
 */
export function randomNonce(): Buffer {
  try {
    const fd = fsFns.open('/dev/urandom', 'r');
    try {
      const out = Buffer.alloc(NONCE_BYTES);
      if (fsFns.read(fd, out, 0, NONCE_BYTES, null) === NONCE_BYTES) return out;
    } finally {
      fsFns.close(fd);
    }
  } catch {
    // No /dev/urandom here.
  }
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(NONCE_BYTES);
}

/** What a CollectorProof made of the bytes so far: more needed, a failed proof, or the bytes after a good one. */
export type ProofResult = 'wait' | 'bad' | Buffer;

/** One connection's challenge and the check of the collector's answer. */
export class CollectorProof {
  /** The line to write first (the nonce), before anything else. */
  readonly challenge: Buffer;
  /** The proof line the collector must send back, byte for byte. */
  private readonly expect: Buffer;
  /** What came so far, before the proof line's end. */
  private got: Buffer = Buffer.alloc(0);

  constructor(keyHex: string, nonce: Buffer = randomNonce()) {
    const nonceHex = nonce.toString('hex');
    this.challenge = Buffer.from(challengeLine(nonceHex), 'latin1');
    this.expect = Buffer.from(proofLine(proofFor(keyHex, nonceHex)), 'latin1');
  }

  /** Reads bytes from the collector: 'wait' for more, 'bad', or what followed the proof line (often nothing). */
  feed(chunk: Buffer): ProofResult {
    const all = this.got.length === 0 ? chunk : Buffer.concat([this.got, chunk]);
    const nl = all.indexOf(10);
    if (nl < 0) {
      if (all.length >= MAX_PROOF_LINE) return 'bad';
      this.got = Buffer.from(all);
      return 'wait';
    }
    this.got = Buffer.alloc(0);
    return sameBytes(all.subarray(0, nl + 1), this.expect) ? all.subarray(nl + 1) : 'bad';
  }
}

/**
 * Reads the collector's answer from the non-blocking descriptor `fd` without the event loop, for
 * at most `budgetMs`, and, past `stallMs`, only while `mayRead()` says the collector can still
 * answer (not stopped, not gone): sleeps 1 ms between reads, never blocks on the descriptor.
 * 'wait' when no answer came in time; 'bad' on a wrong one, the connection's end or an error.
 */
export function awaitProofSync(fd: number, proof: CollectorProof, budgetMs: number, stallMs: number, mayRead: () => boolean): ProofResult {
  if (fd < 0) return 'wait';
  const start = perfNow();
  const buf = Buffer.alloc(MAX_PROOF_LINE);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let checked = false;
  for (;;) {
    let n = -1;
    try {
      n = fsFns.read(fd, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') return 'bad';
    }
    if (n === 0) return 'bad';
    if (n > 0) {
      const r = proof.feed(Buffer.from(buf.subarray(0, n)));
      if (r !== 'wait') return r;
      continue;
    }
    const t = perfNow() - start;
    if (t >= budgetMs) return 'wait';
    if (t >= stallMs && !checked) {
      if (!mayRead()) return 'wait';
      checked = true;
    }
    wait(sleeper, 0, 0, 1);
  }
}
