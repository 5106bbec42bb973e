/**
 * The collector's side of src/protocol/collectorProof.ts: a session's key, the proof it answers a
 * preload's challenge with, and — for a debug terminal's router, which relays to a collector — the
 * challenge it makes itself and the check of the answer. Random bytes from /dev/urandom where there
 * is one: Node's crypto is loaded only where there is not (`nettrace run` keeps it out of its
 * start, test/integration/cliStartup.test.mjs).
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { challengeLine, challengeNonce, isHex, KEY_BYTES, NONCE_BYTES, proofFor, proofLine, sameBytes } from '../protocol/collectorProof';

/** `n` bytes from the system's random source, in hex. */
function randomHex(n: number): string {
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      const out = Buffer.alloc(n);
      if (readSync(fd, out, 0, n, null) === n) return out.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom here (Windows).
  }
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(n).toString('hex');
}

/** A new random key for a session (PreloadConfig.collectorKey), in hex. */
export function newCollectorKey(): string {
  return randomHex(KEY_BYTES);
}

/**
 * The proof line to answer a connection's first line with when it is a challenge (the line
 * without its newline), else undefined: a connection that sends none (a configuration written by
 * hand, without a key) is read as before.
 */
export function answerChallenge(firstLine: string, keyHex: string): string | undefined {
  const nonce = challengeNonce(firstLine);
  return nonce === undefined ? undefined : proofLine(proofFor(keyHex, nonce));
}

/** A challenge of one's own (a router to its collector): the line to send and the proof line expected back. */
export function newChallenge(keyHex: string): { line: string; expect: Buffer } {
  const nonce = randomHex(NONCE_BYTES);
  return { line: challengeLine(nonce), expect: Buffer.from(proofLine(proofFor(keyHex, nonce)), 'latin1') };
}

/** Whether `line` (with its newline) is the proof line expected, compared in constant time. */
export function provesKey(line: Buffer, expect: Buffer): boolean {
  return sameBytes(line, expect);
}

/** Whether `v` is a key in the form newCollectorKey() makes. */
export function isCollectorKey(v: unknown): v is string {
  return isHex(v, KEY_BYTES);
}
