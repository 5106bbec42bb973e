// covers: src/extension/statusView.ts
// The status bar item's logic (src/extension/statusView.ts): shown while a session records, it
// counts the trace the panel shows (live or not), else the running session, and is redrawn in the
// same turn as the store event that feeds the panel — no timer of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { bundleTs } from '../lib/bundleTs.mjs';

const s = bundleTs(["export * from './src/extension/statusView';"]);

/** A store with fixed entries; `n` requests each, a third of them failed. */
function fakeStore(entries) {
  const store = new EventEmitter();
  store.entries = entries;
  store.live = () => entries.filter((e) => e.origin === 'current');
  store.get = (key) => entries.find((e) => e.key === key);
  store.counts = (e) => ({ requests: e.n, failed: Math.floor(e.n / 3) });
  return store;
}
const entry = (key, origin, n, t) => ({ key, origin, n, label: key, createdAt: new Date(t) });

test("statusView: the panel's trace when the panel is open, else the newest running session", () => {
  const store = fakeStore([entry('s1', 'current', 0, 1), entry('s2', 'current', 2, 2), entry('old', 'earlier', 4, 0)]);
  // The panel shows an earlier session: the item says what the panel lists (the bug: "0 requests"
  // from the new session while the panel listed 4).
  let v = s.statusView(store, { isOpen: true, traceKey: 'old' });
  assert.equal(v.text, '$(pulse) Net Trace: 4 requests, 1 failed');
  assert.equal(v.traceKey, 'old');
  assert.match(v.tooltip, /^old \(ended\) \(2 sessions recording\)/);
  v = s.statusView(store, { isOpen: true, traceKey: 's1' });
  assert.equal(v.text, '$(pulse) Net Trace: 0 requests');
  // Panel closed: the session the panel would show, else the newest.
  assert.equal(s.statusView(store, { isOpen: false, traceKey: 's1' }).traceKey, 's1');
  assert.equal(s.statusView(store, { isOpen: false, traceKey: 'old' }).traceKey, 's2');
  assert.equal(s.statusView(store, { isOpen: false, traceKey: undefined }).text, '$(pulse) Net Trace: 2 requests');
  // Nothing recording: hidden, panel or not.
  assert.equal(s.statusView(fakeStore([entry('old', 'earlier', 4, 0)]), { isOpen: false, traceKey: 'old' }), undefined);
  assert.equal(s.statusView(fakeStore([entry('old', 'earlier', 4, 0)]), { isOpen: true, traceKey: 'old' }), undefined);
  assert.equal(
    s.statusView(fakeStore([entry('one', 'current', 1, 0)]), { isOpen: true, traceKey: 'one' }).text,
    '$(pulse) Net Trace: 1 request',
  );
});

test("watchStatus: redrawn synchronously on the store events and the panel's trace switch", () => {
  const a = entry('a', 'current', 0, 1);
  const b = entry('b', 'current', 0, 2);
  const store = fakeStore([a, b]);
  const panel = { isOpen: true, traceKey: 'a' };
  const panelListeners = new Set();
  let text = '';
  let counted;
  const update = () => {
    const v = s.statusView(store, panel);
    counted = v?.traceKey;
    text = v?.text ?? '';
  };
  const stop = s.watchStatus(
    store,
    (l) => (panelListeners.add(l), { dispose: () => panelListeners.delete(l) }),
    update,
    () => counted,
  );
  update();
  assert.equal(text, '$(pulse) Net Trace: 0 requests');
  // The same 'change' event that streams the requests to the panel: counted before emit returns.
  a.n = 4;
  store.emit('change', a, ['r1', 'r2', 'r3', 'r4'], []);
  assert.equal(text, '$(pulse) Net Trace: 4 requests, 1 failed');
  // A change of a trace the item does not count does not redraw it.
  let calls = 0;
  const counting = () => (calls++, update());
  const stop2 = s.watchStatus(
    store,
    () => ({ dispose() {} }),
    counting,
    () => counted,
  );
  store.emit('change', b, ['x'], []);
  assert.equal(calls, 0);
  stop2();
  // The panel switches trace: redrawn at once.
  b.n = 7;
  panel.traceKey = 'b';
  for (const l of panelListeners) l();
  assert.equal(text, '$(pulse) Net Trace: 7 requests, 2 failed');
  for (const ev of ['list', 'cleared', 'ended', 'started']) {
    b.n++;
    store.emit(ev, b);
    assert.equal(text, `$(pulse) Net Trace: ${b.n} requests, ${Math.floor(b.n / 3)} failed`, ev);
  }
  stop();
  assert.equal(store.listenerCount('change'), 0);
  assert.equal(panelListeners.size, 0);
});
