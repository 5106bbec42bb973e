/**
 * How a traced process knows its collector is the one that started it (docs/security.md, "How a
 * traced process knows its collector"): the collector makes a random key for its session and puts
 * it in the preload's configuration (PreloadConfig.collectorKey). On each connection the preload's
 * first and only bytes before the proof are a ChallengeMessage with a fresh random nonce; the
 * collector's first line is a ProofMessage, HMAC-SHA256(key, nonce ‖ PROOF_CONTEXT). The preload
 * sends nothing else and reads nothing else until that line proved the key, so whoever holds only
 * the socket's path (a folder made again after the run ended, a Windows pipe's name) gets the
 * nonce and nothing more.
 *
 * Both ends compute the proof here (proofFor, with ./sha256.ts: no Node crypto to load); each
 * draws its random bytes itself (src/collector/collectorProof.ts, src/preload/transport/collectorProof.ts).
 */

import { hmacSha256 } from './sha256';

/** Bytes of the session's key (hex in PreloadConfig.collectorKey) and of a challenge's nonce. */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 32;

/** What the HMAC covers after the nonce: a proof for another purpose or version never passes. */
export const PROOF_CONTEXT = 'nettrace collector proof v1';

/** The preload's first line on a connection: the nonce (hex), nothing else. */
export interface ChallengeMessage {
  type: 'challenge';
  nonce: string;
}

/** The collector's first line on a connection: HMAC-SHA256(key, nonce ‖ PROOF_CONTEXT), hex. */
export interface ProofMessage {
  type: 'proof';
  proof: string;
}

/** Longest first line the preload reads while it waits for the proof (a proof line is 97 bytes). */
export const MAX_PROOF_LINE = 128;

const HEX = /^[0-9a-f]+$/;

/** Whether `v` is `bytes` bytes in lowercase hex (a key, a nonce, a proof). */
export function isHex(v: unknown, bytes: number): v is string {
  return typeof v === 'string' && v.length === 2 * bytes && HEX.test(v);
}

/** The challenge line (with its newline) for a nonce in hex. */
export function challengeLine(nonceHex: string): string {
  return `{"type":"challenge","nonce":"${nonceHex}"}\n`;
}

/** The proof line (with its newline) for an HMAC in hex: exactly these bytes, compared whole. */
export function proofLine(proofHex: string): string {
  return `{"type":"proof","proof":"${proofHex}"}\n`;
}

/** The bytes the HMAC covers for a nonce given in bytes: the nonce, then PROOF_CONTEXT (UTF-8, all ASCII). */
export function proofInput(nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(nonce.length + PROOF_CONTEXT.length);
  out.set(nonce, 0);
  for (let i = 0; i < PROOF_CONTEXT.length; i++) out[nonce.length + i] = PROOF_CONTEXT.charCodeAt(i);
  return out;
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}

/** Hex (as isHex accepts) as bytes. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** HMAC-SHA256(key, nonce ‖ PROOF_CONTEXT) in hex, for a key and a nonce in hex: the proof. */
export function proofFor(keyHex: string, nonceHex: string): string {
  return toHex(hmacSha256(fromHex(keyHex), proofInput(fromHex(nonceHex))));
}

/** Whether `a` and `b` hold the same bytes, in a time that depends on their length only. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * The nonce (hex) of a line that is a challenge (the bytes before its newline), else undefined.
 * Read by the collector and a debug terminal's router on a connection's first line.
 */
export function challengeNonce(line: string): string | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  const m = msg as Partial<ChallengeMessage> | null;
  return m !== null && typeof m === 'object' && m.type === 'challenge' && isHex(m.nonce, NONCE_BYTES) ? m.nonce : undefined;
}
