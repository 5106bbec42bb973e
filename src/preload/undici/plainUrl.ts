/**
 * A cheap, one-sided answer to "does this fetch() input parse as an http(s) URL?": true only for
 * the common plain form, where the WHATWG URL parser cannot fail; false means "not known", and
 * the caller asks `URL.canParse`. The fetch() wrapper checks a call's URL before the trace rules
 * decide it when what they count cannot be taken back (see undiciFetch.ts), and `URL.canParse`
 * costs ≈ 3,200 instructions a call (ada's parser, the UTF-8 copy of the string, allocations),
 * against ≈ 500 for a URL from the origin found plain last (bench/RESULTS.md, "Trace rules in
 * the hooks — issue 16").
 *
 * Why the plain form always parses: for a special scheme the parser fails only in the authority
 * (a forbidden host code point, an IDNA label that does not decode, an IPv4 address out of range
 * or a host "ending in a number" that is not one, a port that is not a number up to 65535, an
 * empty host); after it, in the path, query and fragment, it percent-encodes whatever it meets.
 * So the form is: the scheme in any case, `//`, a host of ASCII letters, digits, `-` and `.` with
 * no empty label and no `xn--` label, whose last label starts with a letter (or a dotted-quad of
 * canonical numbers up to 255), an optional port of 1–5 digits up to 65535, then the end or one
 * of `/ \ ? #`. Anything else (spaces, userinfo, brackets, a tab, a trailing dot) is "not known".
 */
export function plainHttpUrl(raw: string): boolean {
  // A program fetches from few origins, mostly from one in a row: the scheme and authority of the
  // last plain URL, compared first, spare the scan below (a loop of charCodeAt reads costs 40–60
  // instructions a character on Node 20; indexOf ≈ 370 in all, where startsWith on a string it
  // has not seen goes a slow way, ≈ 1,300).
  const p = lastPrefix;
  if (p !== '' && raw.indexOf(p) === 0) {
    if (raw.length === p.length) return true;
    const c = raw.charCodeAt(p.length);
    if (c === 47 || c === 92 || c === 63 || c === 35) return true;
  }
  return scanned(raw);
}

/** The scheme and authority of the last URL scanned() found plain ("" before the first). */
let lastPrefix = '';

/** plainHttpUrl's answer by reading the scheme and the authority; remembers them when plain. */
function scanned(raw: string): boolean {
  const n = raw.length;
  // "http://" or "https://", any case.
  if (n < 8 || (raw.charCodeAt(0) | 0x20) !== 104 || (raw.charCodeAt(1) | 0x20) !== 116) return false;
  if ((raw.charCodeAt(2) | 0x20) !== 116 || (raw.charCodeAt(3) | 0x20) !== 112) return false;
  let i = 4;
  if ((raw.charCodeAt(i) | 0x20) === 115) i++;
  if (raw.charCodeAt(i) !== 58 || raw.charCodeAt(i + 1) !== 47 || raw.charCodeAt(i + 2) !== 47) return false;
  i += 3;
  const hostStart = i;
  let labelStart = i;
  let labels = 0;
  let allDigitLabels = 0;
  let digitsOnly = true;
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 46) {
      // ".": closes a label, which may not be empty or an IDNA one.
      if (!labelOk(raw, labelStart, i, digitsOnly)) return false;
      labels++;
      if (digitsOnly) allDigitLabels++;
      labelStart = i + 1;
      digitsOnly = true;
      continue;
    }
    if (c >= 48 && c <= 57) continue;
    const l = c | 0x20;
    if ((l >= 97 && l <= 122) || c === 45) {
      digitsOnly = false;
      continue;
    }
    break;
  }
  const hostEnd = i;
  if (hostEnd === hostStart || !labelOk(raw, labelStart, hostEnd, digitsOnly)) return false;
  labels++;
  if (digitsOnly) allDigitLabels++;
  // The last label's first character (labelStart is where the last label began).
  const first = raw.charCodeAt(labelStart);
  if (first >= 48 && first <= 57) {
    // Ends in a number: the host is read as an IPv4 address. Only the canonical dotted-quad is known to parse.
    if (labels !== 4 || allDigitLabels !== 4 || !dottedQuad(raw, hostStart, hostEnd)) return false;
  }
  if (i < n && raw.charCodeAt(i) === 58) {
    // ":port": 1–5 digits, at most 65535.
    const portStart = ++i;
    let port = 0;
    for (; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c < 48 || c > 57) break;
      port = port * 10 + (c - 48);
    }
    if (i === portStart || i - portStart > 5 || port > 65535) return false;
  }
  if (i < n) {
    const c = raw.charCodeAt(i);
    if (c !== 47 && c !== 92 && c !== 63 && c !== 35) return false;
  }
  lastPrefix = raw.slice(0, i);
  return true;
}

/** A host label from..to (exclusive): not empty, and not an IDNA label (`xn--`), which may not decode. */
function labelOk(raw: string, from: number, to: number, digitsOnly: boolean): boolean {
  if (to === from) return false;
  if (digitsOnly || to - from < 4) return true;
  return !(
    (raw.charCodeAt(from) | 0x20) === 120 &&
    (raw.charCodeAt(from + 1) | 0x20) === 110 &&
    raw.charCodeAt(from + 2) === 45 &&
    raw.charCodeAt(from + 3) === 45
  );
}

/** A host of four decimal parts, each 0 or 1–255 without a leading zero. */
function dottedQuad(raw: string, from: number, to: number): boolean {
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = from; i <= to; i++) {
    const c = i < to ? raw.charCodeAt(i) : 46;
    if (c === 46) {
      if (value > 255 || (leadingZero && digits > 1)) return false;
      value = 0;
      digits = 0;
      leadingZero = false;
      continue;
    }
    if (digits === 0) leadingZero = c === 48;
    value = value * 10 + (c - 48);
    digits++;
  }
  return true;
}
