/**
 * Dates in replayed answers moved by the time since the recording (as mitmproxy's server replay
 * refreshes them), so a cache, a cookie or a clock-skew check sees them as fresh as they were when
 * recorded: `Date`, `Expires`, `Last-Modified`, a `Retry-After` given as a date, and the `Expires=`
 * of each `Set-Cookie`. An HTTP date is read in the three forms RFC 9110 §5.6.7 asks a recipient to
 * accept (IMF-fixdate, RFC 850, asctime) and the cookie form of RFC 6265 (`Wed, 21-Oct-2037 …`),
 * and written as IMF-fixdate; a value that does not parse (`0`, `-1`, a year past 9999) is left as
 * it is. `--replay-dates keep` turns this off (docs/replay.md, "Time").
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** IMF-fixdate, RFC 850 and the cookie form: a day, a month name and a year, with spaces or dashes between. */
const DMY =
  /^\s*(?:[A-Za-z]{3,9},?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[a-z]*[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\s*(?:GMT|UTC|UT|Z|[+-]0000))?\s*$/i;
/** asctime: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME = /^\s*[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})\s*$/;

/** The epoch ms of an HTTP date (see the file comment), or undefined. */
export function parseHttpDate(value: string): number | undefined {
  let day: number, month: number, year: number, h: number, m: number, s: number;
  const a = DMY.exec(value);
  if (a) {
    [day, month, year, h, m, s] = [
      Number(a[1]),
      MONTHS.indexOf(a[2].toLowerCase()),
      Number(a[3]),
      Number(a[4]),
      Number(a[5]),
      Number(a[6]),
    ];
    // Two-digit years as RFC 6265 §5.1.1 reads them.
    if (a[3].length === 2) year += year < 70 ? 2000 : 1900;
    else if (a[3].length === 3) return undefined;
  } else {
    const b = ASCTIME.exec(value);
    if (!b) return undefined;
    [month, day, h, m, s, year] = [
      MONTHS.indexOf(b[1].toLowerCase()),
      Number(b[2]),
      Number(b[3]),
      Number(b[4]),
      Number(b[5]),
      Number(b[6]),
    ];
  }
  if (month < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 || year < 1601) return undefined;
  const ms = Date.UTC(year, month, day, h, m, Math.min(s, 59));
  // Day 31 of a 30-day month rolls over: not a date.
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of epoch ms, or undefined outside years 1601–9999. */
export function formatHttpDate(ms: number): string | undefined {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  if (!Number.isFinite(ms) || y < 1601 || y > 9999) return undefined;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTH_NAMES[d.getUTCMonth()]} ${y} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

/** `value` (an HTTP date) moved by `ms`, or as it is when it does not parse. */
export function shiftHttpDate(value: string, ms: number): string {
  const at = parseHttpDate(value);
  if (at === undefined) return value;
  return formatHttpDate(at + ms) ?? value;
}

const DATE_HEADERS = new Set(['date', 'expires', 'last-modified', 'retry-after']);
const COOKIE_EXPIRES = /(;\s*expires\s*=\s*)([^;]*)/gi;

/**
 * Header pairs with their dates moved by `ms` (see the file comment): a new list when something
 * moved, the same list otherwise. `Retry-After` in seconds, and a cookie's `Max-Age`, are relative
 * already and stay.
 */
export function shiftDates(headers: ReadonlyArray<[string, string]>, ms: number): Array<[string, string]> {
  if (ms === 0 || !Number.isFinite(ms)) return headers as Array<[string, string]>;
  let out: Array<[string, string]> | undefined;
  headers.forEach(([name, value], i) => {
    const lower = name.toLowerCase();
    let next = value;
    if (DATE_HEADERS.has(lower)) next = shiftHttpDate(value, ms);
    else if (lower === 'set-cookie')
      next = value.replace(COOKIE_EXPIRES, (_, lead: string, date: string) => lead + shiftHttpDate(date, ms));
    if (next !== value) {
      out ??= headers.slice() as Array<[string, string]>;
      out[i] = [name, next];
    }
  });
  return out ?? (headers as Array<[string, string]>);
}
