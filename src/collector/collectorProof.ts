/**
 * The collector's side of src/protocol/collectorProof.ts: a session's key, the proof it answers a
 * preload's challenge with, and — for a debug terminal's router, which relays to a collector — the
 * challenge it makes itself and the check of the answer. Node's crypto (the collector's process
 * has it loaded anyway).
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { challengeLine, challengeNonce, isHex, KEY_BYTES, NONCE_BYTES, proofInput, proofLine } from '../protocol/collectorProof';

/** A new random key for a session (PreloadConfig.collectorKey), in hex. */
export function newCollectorKey(): string {
  return randomBytes(KEY_BYTES).toString('hex');
}

/** HMAC-SHA256(key, nonce ‖ PROOF_CONTEXT) in hex, for a key and a nonce in hex. */
export function proofFor(keyHex: string, nonceHex: string): string {
  return createHmac('sha256', Buffer.from(keyHex, 'hex'))
    .update(proofInput(Buffer.from(nonceHex, 'hex')))
    .digest('hex');
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
  const nonce = randomBytes(NONCE_BYTES).toString('hex');
  return { line: challengeLine(nonce), expect: Buffer.from(proofLine(proofFor(keyHex, nonce))) };
}

/** Whether `line` (with its newline) is the proof line expected, compared in constant time. */
export function provesKey(line: Buffer, expect: Buffer): boolean {
  return line.length === expect.length && timingSafeEqual(line, expect);
}

/** Whether `v` is a key in the form newCollectorKey() makes. */
export function isCollectorKey(v: unknown): v is string {
  return isHex(v, KEY_BYTES);
}
