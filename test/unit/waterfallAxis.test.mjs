// covers: webview/waterfall.ts, webview/model.ts
// The readable waterfall's DOM-free parts (webview/waterfall.ts, webview/model.ts): nice tick
// steps and labels, debugger pauses collapsed to fixed gaps, zoom and pan in active time, the
// minimum bar width, the phase hover, and the time-range filter composed with the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-wf-unit-'));
const out = await build({
  absWorkingDir: root,
  stdin: { contents: "export * from './webview/waterfall';\nexport * from './webview/model';", resolveDir: root, loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
});
writeFileSync(join(tmp, 'wf.mjs'), out.outputFiles[0].text);
const w = await import(pathToFileURL(join(tmp, 'wf.mjs')).href);
rmSync(tmp, { recursive: true, force: true });

const req = (id, f = {}) => ({
  traceID: id,
  pid: 1,
  client: 'fetch',
  reqMethod: 'GET',
  reqURL: `https://api.test/${id}`,
  reqHeaders: [],
  ...f,
});
const done = (id, start, ms, extra = {}) =>
  req(id, {
    reqStartAt: start,
    reqSentAt: start + 1,
    respRecvAt: start + ms - 1,
    respDoneAt: start + ms,
    respStatusCode: 200,
    timings: { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 1, wait: ms - 2, receive: 1 },
    ...extra,
  });

test('nice steps are 1/2/5 × 10^n ms and labels read as times', () => {
  assert.equal(w.niceStep(0.7), 1);
  assert.equal(w.niceStep(3), 5);
  assert.equal(w.niceStep(120), 200);
  assert.equal(w.niceStep(250), 500);
  assert.equal(w.niceStep(1000), 1000);
  assert.equal(w.niceStep(1001), 2000);
  assert.equal(w.formatAxisTime(0, 250), '0 ms');
  assert.equal(w.formatAxisTime(250, 250), '250 ms');
  assert.equal(w.formatAxisTime(1500, 500), '1.5 s');
  assert.equal(w.formatAxisTime(2000, 1000), '2 s');
  assert.equal(w.formatAxisTime(4350, 50), '4.35 s');
  assert.equal(w.formatAxisTime(4300, 50), '4.3 s');
  assert.equal(w.formatAxisTime(1000.5, 0.5), '1.0005 s');
  assert.equal(w.formatAxisTime(1.5, 0.5), '1.5 ms');
});

test('ticks of a plain axis: nice steps, spaced, labelled, inside the width', () => {
  const tl = new w.Timeline({ begin: 0, end: 1000 });
  const s = tl.scale(null, 500);
  const ticks = s.ticks(90, 56);
  assert.deepEqual(
    ticks.map((t) => t.label),
    ['0 ms', '200 ms', '400 ms', '600 ms', '800 ms', '1 s'],
  );
  assert.equal(ticks[1].x, 100);
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].x - ticks[i - 1].x >= 56);
  // A wider axis gets finer steps.
  assert.equal(tl.scale(null, 1280).ticks(90, 56)[1].label, '100 ms');
});

test('a debugger pause collapses to a fixed gap; bars across it span it', () => {
  // Requests at 0–100 ms and 5100–5200 ms; the program was paused from 100 to 5100 ms.
  const pauses = [{ beginAt: 100, endAt: 5100, reason: 'breakpoint' }];
  const axis = { begin: 0, end: 5200 };
  const gaps = w.collapsiblePauses(pauses, axis, [0, 5100]);
  assert.deepEqual(gaps, [{ begin: 100, end: 5100 }]);
  const tl = new w.Timeline(axis, gaps);
  assert.equal(tl.active(5200), 200);
  const s = tl.scale(null, 200 + w.GAP_PX);
  assert.equal(s.k, 1); // 200 active ms on 200 px: the 5 s pause takes only GAP_PX
  assert.equal(s.x(100), 100);
  assert.equal(s.x(5100), 100 + w.GAP_PX);
  assert.equal(s.time(50), 50);
  assert.equal(s.time(100 + w.GAP_PX + 50), 5150);
  const [gap] = s.gapBoxes();
  assert.deepEqual({ x: gap.x, width: gap.width }, { x: 100, width: w.GAP_PX });
  // No tick inside the gap; the labels after it are trace times.
  const ticks = s.ticks(40, 30);
  assert.ok(
    ticks.every((t) => t.t <= 100 || t.t >= 5100),
    JSON.stringify(ticks),
  );
  assert.ok(ticks.some((t) => t.t > 5100));
  // A request in flight across the pause is drawn across the gap.
  const across = s.bar([{ phase: 'wait', start: 50, end: 5150 }]);
  assert.deepEqual(across, [{ phase: 'wait', x: 50, width: 100 + w.GAP_PX }]);
  // Without the pause the same request would take 98% of the width.
  const flat = new w.Timeline(axis).scale(null, 214).bar([{ phase: 'wait', start: 50, end: 5150 }]);
  assert.ok(flat[0].width > 200);
});

test('a pause in which a request began stays to scale; open pauses end now; overlapping ones merge', () => {
  const axis = { begin: 0, end: 10_000 };
  assert.deepEqual(w.collapsiblePauses([{ beginAt: 100, endAt: 2000 }], axis, [0, 500, 3000]), []);
  assert.deepEqual(
    w.collapsiblePauses(
      [
        { beginAt: 100, endAt: 2000 },
        { beginAt: 1500, endAt: 2500 },
      ],
      axis,
      [0, 3000],
    ),
    [{ begin: 100, end: 2500 }],
  );
  assert.deepEqual(w.collapsiblePauses([{ beginAt: 9000 }], axis, [0], 9500), [{ begin: 9000, end: 9500 }]);
  // Clipped to the axis.
  assert.deepEqual(w.collapsiblePauses([{ beginAt: -50, endAt: 20 }], { begin: 10, end: 100 }, [10]), [{ begin: 10, end: 20 }]);
});

test('zoom and pan in active time: around the pointer, clamped, never inside a pause', () => {
  const tl = new w.Timeline({ begin: 0, end: 1000 });
  const z = tl.zoom(null, 2, 250);
  assert.deepEqual(z, { begin: 125, end: 625 });
  assert.equal(tl.zoom(z, 0.5, 250), null, 'zooming out to the whole axis is "fit"');
  assert.deepEqual(tl.pan(z, 1000), { begin: 500, end: 1000 });
  assert.deepEqual(tl.pan(z, -1000), { begin: 0, end: 500 });
  const labels = (r) =>
    tl
      .scale(r, 500)
      .ticks()
      .map((t) => t.label);
  assert.notDeepEqual(labels(null), labels(tl.zoom(null, 8, 500)), 'zooming changes the tick labels');
  // With a gap: a window edge that falls at the gap takes the side that hides it.
  const gapped = new w.Timeline({ begin: 0, end: 5200 }, [{ begin: 100, end: 5100 }]);
  const left = gapped.zoom(null, 2, 0);
  assert.deepEqual(left, { begin: 0, end: 100 });
  const right = gapped.zoom(null, 2, 5200);
  assert.deepEqual(right, { begin: 5100, end: 5200 });
  assert.equal(gapped.scale(left, 300).gapBoxes().length, 0);
});

test('a 1 ms request on a 10 s axis is at least MIN_BAR_PX wide, in its longest phase', () => {
  const s = new w.Timeline({ begin: 0, end: 10_000 }).scale(null, 300);
  const boxes = s.bar([
    { phase: 'send', start: 5000, end: 5000.1 },
    { phase: 'wait', start: 5000.1, end: 5000.9 },
    { phase: 'receive', start: 5000.9, end: 5001 },
  ]);
  const total = boxes[boxes.length - 1].x + boxes[boxes.length - 1].width - boxes[0].x;
  assert.ok(Math.abs(total - w.MIN_BAR_PX) < 1e-9, String(total));
  assert.ok(boxes.find((b) => b.phase === 'wait').width > 2);
  // Outside the window: clipped away.
  assert.deepEqual(
    new w.Timeline({ begin: 0, end: 10_000 }).scale({ begin: 0, end: 100 }, 300).bar([{ phase: 'wait', start: 200, end: 300 }]),
    [],
  );
});

test('the hover lists each phase the request spent time in, TLS apart from TCP connect', () => {
  const r = req('a', {
    reqStartAt: 10,
    respDoneAt: 70,
    respStatusCode: 200,
    timings: { blocked: 0.5, dns: 5, connect: 30, ssl: 20, send: 0.5, wait: 22, receive: 2 },
  });
  const lines = w.phaseSummary({ req: r, start: 10 });
  assert.deepEqual(
    lines.map((l) => [l.phase, l.ms]),
    [
      ['blocked', 0.5],
      ['dns', 5],
      ['connect', 10],
      ['ssl', 20],
      ['send', 0.5],
      ['wait', 22],
      ['receive', 2],
    ],
  );
  assert.equal(lines[3].label, 'TLS handshake');
  assert.equal(w.formatSpan(4200), '4.20 s');
});

test('the time-range filter composes with the other filters and resets with them', () => {
  const m = new w.TraceModel();
  m.reset(
    {
      description: 't',
      traceBeginAt: new Date(0).toISOString(),
      httpRequests: [
        done('r1', 0, 50),
        done('r2', 100, 50, { respStatusCode: 404 }),
        done('r3', 5100, 50),
        req('r4', { reqStartAt: 5300 }),
      ],
      dials: [],
      tcpConns: [],
      tlsTunnels: [],
      debuggerPauses: [{ beginAt: 160, endAt: 5090 }, { bogus: true }],
    },
    false,
  );
  assert.equal(m.debuggerPauses.length, 1, 'malformed pauses are dropped');
  assert.deepEqual(m.timeline().gaps, [{ begin: 160, end: 5090 }]);
  const ids = () => m.view.map((r) => r.req.traceID);
  m.setFilter({ ...w.NO_FILTER, timeRange: { begin: 40, end: 120 } });
  assert.deepEqual(ids(), ['r1', 'r2']);
  m.setFilter({ ...w.NO_FILTER, timeRange: { begin: 40, end: 120 }, classes: ['4xx'] });
  assert.deepEqual(ids(), ['r2']);
  m.setFilter({ ...w.NO_FILTER, timeRange: { begin: 40, end: 120 }, text: 'r1' });
  assert.deepEqual(ids(), ['r1']);
  // A pending request runs on: it overlaps any later range.
  m.setFilter({ ...w.NO_FILTER, timeRange: { begin: 9000, end: 9100 } });
  assert.deepEqual(ids(), ['r4']);
  m.setFilter({ ...w.NO_FILTER, timeRange: null });
  assert.deepEqual(ids(), ['r1', 'r2', 'r3', 'r4']);
  // Pauses streamed in an update replace the list.
  m.apply({ debuggerPauses: [] });
  assert.deepEqual(m.timeline().gaps, []);
});
