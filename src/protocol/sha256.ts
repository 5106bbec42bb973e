/**
 * SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104) for the collector's proof of the session's key
 * (collectorProof.ts): a few hundred bytes hashed once per connection, by the preload and the
 * collector alike.
 *
 * Workaround for what Node's crypto costs to load: `require('node:crypto')` is ≈ 30 M instructions,
 * 14% of a short traced program's start (bench/guard.mjs `startup-http`), paid by every process
 * that connects, and a fixed cost `nettrace run` keeps out of its start (cliStartup.test.mjs);
 * this costs ≈ 0.1 M. Checked against Node's crypto in test/unit/collectorProof.test.mjs.
 */

/** The round constants and the initial hash: the first 32 bits of the fractional parts of the cube (square) roots of the first 64 (8) primes. */
let K: Uint32Array | undefined;
let H0: Uint32Array | undefined;

function constants(): [Uint32Array, Uint32Array] {
  if (K !== undefined && H0 !== undefined) return [K, H0];
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  const frac32 = (x: number): number => Math.floor((x - Math.floor(x)) * 0x100000000) >>> 0;
  K = Uint32Array.from(primes, (p) => frac32(Math.cbrt(p)));
  H0 = Uint32Array.from(primes.slice(0, 8), (p) => frac32(Math.sqrt(p)));
  return [K, H0];
}

const ror = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  const [k, h0] = constants();
  const len = data.length;
  const blocks = (len + 9 + 63) >> 6;
  const buf = new Uint8Array(blocks * 64);
  buf.set(data);
  buf[len] = 0x80;
  const view = new DataView(buf.buffer);
  const bits = len * 8;
  view.setUint32(buf.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(buf.length - 4, bits >>> 0);
  const h = Uint32Array.from(h0);
  const w = new Uint32Array(64);
  for (let off = 0; off < buf.length; off += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(off + 4 * t);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      w[t] = w[t - 16] + (ror(a, 7) ^ ror(a, 18) ^ (a >>> 3)) + w[t - 7] + (ror(b, 17) ^ ror(b, 19) ^ (b >>> 10));
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + k[t] + w[t]) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]);
  return out;
}

/** HMAC-SHA256 of `message` under `key` (a key over 64 bytes is hashed first, as RFC 2104 says). */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k0 = new Uint8Array(64);
  k0.set(key.length > 64 ? sha256(key) : key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = k0[i] ^ 0x36;
    outer[i] = k0[i] ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sha256(inner), 64);
  return sha256(outer);
}
