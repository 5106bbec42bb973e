// covers: src/replay/dates.ts
// Dates in replayed answers moved by the time since the recording (src/replay/dates.ts): Date,
// Expires, Last-Modified, a Retry-After date and Set-Cookie's Expires=; read in the forms HTTP
// allows, written as IMF-fixdate; what does not parse stays as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replay } from './replayHelpers.mjs';

const DAY = 86_400_000;

test('HTTP dates parse in IMF-fixdate, RFC 850, asctime and the cookie form, and are written as IMF-fixdate', () => {
  const at = Date.UTC(1994, 10, 6, 8, 49, 37);
  for (const text of [
    'Sun, 06 Nov 1994 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 GMT',
    'Sun Nov  6 08:49:37 1994',
    'Sun, 06-Nov-1994 08:49:37 GMT',
    'sun, 6 nov 1994 08:49:37 gmt',
  ]) {
    assert.equal(replay.parseHttpDate(text), at, text);
  }
  assert.equal(replay.formatHttpDate(at), 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(replay.formatHttpDate(at + 999), 'Sun, 06 Nov 1994 08:49:37 GMT', 'HTTP dates are whole seconds');
  assert.equal(replay.parseHttpDate('Fri, 06-Dec-19 20:53:26 GMT'), Date.UTC(2019, 11, 6, 20, 53, 26), 'two-digit years below 70 are 20xx');
  for (const bad of [
    '0',
    '-1',
    '',
    'tomorrow',
    'Mon, 31 Jun 2026 10:00:00 GMT',
    'Mon, 01 Foo 2026 10:00:00 GMT',
    'Mon, 01 Jan 2026 25:00:00 GMT',
    '1700000000',
  ]) {
    assert.equal(replay.parseHttpDate(bad), undefined, `"${bad}" is not a date`);
  }
});

test('shiftDates moves Date, Expires, Last-Modified, a Retry-After date and each Set-Cookie Expires=, and nothing else', () => {
  const headers = [
    ['Date', 'Fri, 20 Nov 2026 09:00:00 GMT'],
    ['content-type', 'application/json'],
    ['expires', 'Fri, 20 Nov 2026 10:00:00 GMT'],
    ['Last-Modified', 'Thursday, 19-Nov-26 09:00:00 GMT'],
    ['retry-after', 'Fri, 20 Nov 2026 09:02:00 GMT'],
    ['x-generated-at', 'Fri, 20 Nov 2026 09:00:00 GMT'],
    ['set-cookie', 'session=s-1; Path=/; Expires=Sat, 21 Nov 2026 09:00:00 GMT; HttpOnly'],
    ['set-cookie', 'theme=dark; expires=Sat, 21-Nov-2026 09:00:00 GMT'],
    ['set-cookie', 'plain=1; Max-Age=3600'],
  ];
  const moved = replay.shiftDates(headers, 10 * DAY + 1500);
  assert.deepEqual(moved, [
    ['Date', 'Mon, 30 Nov 2026 09:00:01 GMT'],
    ['content-type', 'application/json'],
    ['expires', 'Mon, 30 Nov 2026 10:00:01 GMT'],
    ['Last-Modified', 'Sun, 29 Nov 2026 09:00:01 GMT'],
    ['retry-after', 'Mon, 30 Nov 2026 09:02:01 GMT'],
    ['x-generated-at', 'Fri, 20 Nov 2026 09:00:00 GMT'],
    ['set-cookie', 'session=s-1; Path=/; Expires=Tue, 01 Dec 2026 09:00:01 GMT; HttpOnly'],
    ['set-cookie', 'theme=dark; expires=Tue, 01 Dec 2026 09:00:01 GMT'],
    ['set-cookie', 'plain=1; Max-Age=3600'],
  ]);
  assert.equal(headers[0][1], 'Fri, 20 Nov 2026 09:00:00 GMT', 'the recorded headers are not changed in place');
});

test('values that do not parse stay as they are; no shift gives the same list', () => {
  const headers = [
    ['expires', '0'],
    ['Expires', '-1'],
    ['retry-after', '120'],
    ['date', 'garbage'],
    ['set-cookie', 'a=1; Expires=never'],
    ['last-modified', 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ];
  const moved = replay.shiftDates(headers, DAY);
  assert.deepEqual(moved, headers, 'nothing parsed, or the year would pass 9999');
  assert.equal(replay.shiftDates(headers, 0), headers);
  assert.deepEqual(replay.shiftDates([['date', 'Fri, 20 Nov 2026 09:00:00 GMT']], -DAY), [['date', 'Thu, 19 Nov 2026 09:00:00 GMT']]);
});
