// Panel (webview) benchmark: renders a synthetic 10,000-request trace in headless Chromium through
// the stub host of test/webview-harness and measures, in the page with performance.now() (each
// measurement ends after the panel's render event, a forced layout and the end of that frame):
//   - time to first render of 10,000 rows           (floor: < 1 s)
//   - time to apply a text filter                     (floor: < 100 ms)
//   - time to apply a property filter (status-code:, method:, -is:, …) (floor: < 100 ms)
//   - time to select a row and show its details      (floor: < 50 ms)
//   - streaming 1,000 new requests/s for ~10 s (plus 1,000 completions/s): post→render latency
//     per 2-second window, which must not grow (no backlog).
// Prints a table, adds it to its own section of test-results/bench/runs.md and saves a screenshot to bench/panel.png.
//
//   node bench/webview.mjs [--no-write] [--seconds 10] [--rows 10000]

import { existsSync, readFileSync } from 'node:fs';
import { resultsPath, writeResults } from './lib/common.mjs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  browserUnavailable,
  buildPanel,
  launchBrowser,
  openPanel,
  postAndWait,
  servePanel,
  stash,
} from '../test/webview-harness/harness.mjs';
import { syntheticStream, syntheticTrace } from '../test/webview-harness/synthetic.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROWS = opt('--rows', 10000);
const SECONDS = opt('--seconds', 10);
const RATE = 1000;
const INTERVAL = 50;
const write = !args.includes('--no-write');

const why = browserUnavailable();
if (why) {
  console.error(`bench/webview: skipped: ${why}`);
  process.exit(0);
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');

const loadBefore = loadavg()[0];
const panel = await buildPanel();
const server = await servePanel(panel);
const browser = await launchBrowser();
const results = [];
const notes = [];
try {
  const trace = syntheticTrace(ROWS);
  const TRACES = {
    type: 'traces',
    traces: [
      { traceKey: 'cur', label: 'node app.js — 10:17:45', origin: 'current', live: true },
      { traceKey: 'prev', label: 'node app.js — 10:02:11', origin: 'earlier', live: false },
      { traceKey: 'file', label: 'nettrace-20261121.json', origin: 'file', live: false, detail: '/home/dev/app/nettrace-20261121.json' },
    ],
    activeTraceKey: 'cur',
  };

  // ---- 1. first render --------------------------------------------------------------------------
  // The host sends the snapshot as `traceJson` (a string: one flat copy per VS Code message hop,
  // see ResetMessage); the string is made before the clock starts, as the extension host would.
  // The object variant (`trace`) includes the structured clone of ~18 MB of objects in this page.
  const firstRender = async (variant) => {
    const { page, errors } = await openPanel(browser, server.url);
    await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
    if (variant === 'json') await stash(page, 'reset', { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) });
    else await stash(page, 'reset', { type: 'reset', traceKey: 'cur', live: false, trace });
    const ms = await page.evaluate(async (n) => {
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      await new Promise((resolve) => {
        const on = (e) => {
          if (e.detail.requests !== n) return;
          window.removeEventListener('nettrace-render', on);
          document.body.getBoundingClientRect();
          setTimeout(resolve, 0);
        };
        window.addEventListener('nettrace-render', on);
        window.postMessage(window.__data.reset, '*');
      });
      return performance.now() - t0;
    }, ROWS);
    const domRows = await page.evaluate(() => document.querySelectorAll('.list-rows .row').length);
    if (errors.length) notes.push(`page errors: ${errors.join('; ')}`);
    await page.close();
    return { ms, domRows };
  };
  const firsts = [];
  for (let run = 0; run < 5; run++) {
    const { ms, domRows } = await firstRender('json');
    firsts.push(ms);
    if (run === 0) notes.push(`rows in the DOM for ${ROWS.toLocaleString('en-US')} requests: ${domRows} (virtualised)`);
  }
  results.push({
    what: `first render of ${ROWS.toLocaleString('en-US')} rows, \`reset\` with \`traceJson\` (post → painted), 5 fresh panels`,
    stats: firsts,
    floor: 1000,
  });
  const firstsObj = [];
  for (let run = 0; run < 3; run++) firstsObj.push((await firstRender('object')).ms);
  results.push({
    what: `first render of ${ROWS.toLocaleString('en-US')} rows, \`reset\` with \`trace\` object (incl. structured clone), 3 fresh panels`,
    stats: firstsObj,
    floor: 1000,
  });

  // ---- 2. filter, 3. select ---------------------------------------------------------------------
  const { page, errors } = await openPanel(browser, server.url);
  await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
  await stash(page, 'reset', { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) });
  await page.evaluate(() => window.postMessage(window.__data.reset, '*'));
  await page.waitForFunction((n) => document.querySelector('.status-left')?.textContent?.startsWith(n), ROWS.toLocaleString('en-US'));

  const typeFilter = (text) =>
    page.evaluate(async (text) => {
      const input = document.querySelector('.filter-input');
      const t0 = performance.now();
      await new Promise((resolve) => {
        window.addEventListener('nettrace-render', () => (document.body.getBoundingClientRect(), setTimeout(resolve, 0)), { once: true });
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      return { ms: performance.now() - t0, shown: document.querySelectorAll('.list-rows .row:not([style*="display: none"])').length };
    }, text);
  const filters = [];
  for (const text of ['u', 'us', 'users', '404', 'api.example.test', 'post -graphql', 'ECONN', ''])
    filters.push((await typeFilter(text)).ms);
  results.push({ what: 'apply a text filter (keystroke → painted), 8 filters', stats: filters, floor: 100 });
  // The DevTools filter language (webview/filterQuery.ts): property terms, negation, several combined.
  const propertyFilters = [];
  for (const text of [
    'status-code:404',
    'status-code:404 -method:POST',
    'method:GET domain:*.example.test larger-than:10k',
    'is:failed -status-code:5xx',
    'has-response-header:set-cookie client:undici',
    '-is:reused initiator:client.ts',
    'status-code:2xx -larger-than:1k',
    '',
  ])
    propertyFilters.push((await typeFilter(text)).ms);
  results.push({ what: 'apply a property filter (keystroke → painted), 8 filters of 1–3 terms', stats: propertyFilters, floor: 100 });

  const chipMs = await page.evaluate(async () => {
    const t0 = performance.now();
    await new Promise((resolve) => {
      window.addEventListener('nettrace-render', () => (document.body.getBoundingClientRect(), setTimeout(resolve, 0)), { once: true });
      document.querySelector('.toggle').click();
    });
    const ms = performance.now() - t0;
    document.querySelector('.toggle').click();
    await new Promise((r) => setTimeout(r, 50));
    return ms;
  });
  results.push({ what: 'toggle "failed only" (click → painted)', stats: [chipMs], floor: 100 });

  const sortMs = await page.evaluate(async () => {
    const out = [];
    for (const col of ['.hcell.c-duration', '.hcell.c-duration', '.hcell.c-status', '.hcell.c-waterfall']) {
      const t0 = performance.now();
      await new Promise((resolve) => {
        window.addEventListener('nettrace-render', () => (document.body.getBoundingClientRect(), setTimeout(resolve, 0)), { once: true });
        document.querySelector(col).click();
      });
      out.push(performance.now() - t0);
    }
    return out;
  });
  results.push({ what: 'sort by a column (click → painted), 4 sorts', stats: sortMs, floor: 100 });

  const selects = await page.evaluate(async () => {
    const out = [];
    const rows = () => [...document.querySelectorAll('.list-rows .row')].filter((r) => r.style.display !== 'none');
    for (let i = 0; i < 12; i++) {
      const row = rows()[8 + (i % 10)];
      const t0 = performance.now();
      await new Promise((resolve) => {
        const on = (e) => {
          if (!e.detail.detailOpen || !e.detail.selectedId) return;
          window.removeEventListener('nettrace-render', on);
          document.body.getBoundingClientRect();
          setTimeout(resolve, 0);
        };
        window.addEventListener('nettrace-render', on);
        row.click();
      });
      out.push(performance.now() - t0);
      document.querySelectorAll('.tab')[i % 5].click();
      await new Promise((r) => setTimeout(r, 20));
    }
    return out;
  });
  results.push({ what: 'select a row and show its details (click → painted), 12 rows', stats: selects, floor: 50 });

  const keys = await page.evaluate(async () => {
    const out = [];
    const body = document.querySelector('.list-body');
    body.focus();
    for (let i = 0; i < 20; i++) {
      const key = i === 10 ? 'PageDown' : 'ArrowDown';
      const t0 = performance.now();
      await new Promise((resolve) => {
        window.addEventListener('nettrace-render', () => (document.body.getBoundingClientRect(), setTimeout(resolve, 0)), { once: true });
        body.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
      });
      out.push(performance.now() - t0);
    }
    return out;
  });
  results.push({ what: 'move selection with the keyboard (keydown → painted, detail open), 20 keys', stats: keys, floor: 50 });

  const scroll = await page.evaluate(async () => {
    const body = document.querySelector('.list-body');
    const out = [];
    for (let i = 1; i <= 20; i++) {
      const t0 = performance.now();
      await new Promise((resolve) => {
        window.addEventListener('nettrace-render', () => (document.body.getBoundingClientRect(), setTimeout(resolve, 0)), { once: true });
        body.scrollTop = (body.scrollHeight * i) / 21;
      });
      out.push(performance.now() - t0);
    }
    return out;
  });
  results.push({ what: 'scroll jump (scrollTop → painted), 20 positions', stats: scroll, floor: 50 });
  if (errors.length) notes.push(`page errors: ${errors.join('; ')}`);

  // screenshot: a failed request with its diagnosis, Timing tab
  await page.evaluate(() => {
    const body = document.querySelector('.list-body');
    body.scrollTop = 0;
  });
  await page.waitForTimeout(50);
  const shot = trace.httpRequests.find((r) => r.reqError?.phase === 'tls' && r.diagnosis) ?? trace.httpRequests[0];
  await page.evaluate((traceID) => window.postMessage({ type: 'select', traceID }, '*'), shot.traceID);
  await page.waitForTimeout(50);
  await page.evaluate(() => {
    document.querySelector('.tab[data-tab="timing"]').click();
    document.querySelector('.list-body').focus();
  });
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(here, 'panel.png') });
  await page.close();

  // ---- 4. streaming -----------------------------------------------------------------------------
  const batches = Math.round((SECONDS * 1000) / INTERVAL);
  const perBatch = Math.round((RATE * INTERVAL) / 1000);
  const steps = syntheticStream({ startAt: trace.traceEndAt + 10, batches, perBatch, intervalMs: INTERVAL });
  const live = await openPanel(browser, server.url);
  await live.page.evaluate((m) => window.postMessage(m, '*'), TRACES);
  await stash(live.page, 'steps', steps);
  // Main-thread busy time (CDP Performance.TaskDuration) over the stream: the panel's own cost,
  // independent of how much CPU other processes leave it.
  const cdp = await live.page.context().newCDPSession(live.page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  await postAndWait(
    live.page,
    { type: 'reset', traceKey: 'cur', live: true, traceJson: JSON.stringify(trace) },
    `(d) => d.requests === ${ROWS}`,
  );
  const busyBefore = await taskSeconds();
  const stream = await live.page.evaluate(
    async ({ interval, perBatch, base }) => {
      const steps = window.__data.steps;
      const postedAt = [];
      const lat = [];
      const frameGaps = [];
      let rendered = 0;
      let lastFrame = performance.now();
      const t0 = performance.now();
      const onRender = (e) => {
        const now = performance.now();
        frameGaps.push(now - lastFrame);
        lastFrame = now;
        const upTo = Math.floor((e.detail.requests - base) / perBatch);
        if (upTo > rendered) {
          document.body.getBoundingClientRect();
          const from = rendered;
          rendered = upTo;
          setTimeout(() => {
            const end = performance.now();
            for (let k = from; k < upTo; k++) lat.push([postedAt[k] - t0, end - postedAt[k]]);
          }, 0);
        }
      };
      window.addEventListener('nettrace-render', onRender);
      await new Promise((resolve) => {
        let k = 0;
        const tick = () => {
          // Post every batch that is due (a slow page would show up as latency, not as fewer posts).
          while (k < steps.length && performance.now() - t0 >= k * interval) {
            const s = steps[k];
            postedAt[k] = performance.now();
            window.postMessage({ type: 'append', traceKey: 'cur', traceEndAt: s.traceEndAt, ...s.append }, '*');
            if (s.update.httpRequests.length)
              window.postMessage({ type: 'update', traceKey: 'cur', traceEndAt: s.traceEndAt, ...s.update }, '*');
            k++;
          }
          if (k < steps.length) setTimeout(tick, Math.max(0, k * interval - (performance.now() - t0)));
          else resolve();
        };
        tick();
      });
      const deadline = performance.now() + 2000;
      while (rendered < steps.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 20));
      window.removeEventListener('nettrace-render', onRender);
      return {
        lat,
        frameGaps,
        elapsed: performance.now() - t0,
        rendered,
        total: steps.length,
        rows: document.querySelector('.status-left').textContent,
      };
    },
    { interval: INTERVAL, perBatch, base: ROWS },
  );
  const busy = (await taskSeconds()) - busyBefore;
  if (live.errors.length) notes.push(`page errors (stream): ${live.errors.join('; ')}`);
  await live.page.close();

  // ---- report -----------------------------------------------------------------------------------
  const windows = [];
  for (let w = 0; w < SECONDS; w += 2) {
    const l = stream.lat.filter(([t]) => t >= w * 1000 && t < (w + 2) * 1000).map(([, d]) => d);
    windows.push({ w, n: l.length, p50: median(l), p95: pct(l, 95), max: Math.max(...l) });
  }
  const allLat = stream.lat.map(([, d]) => d);
  const firstP95 = windows[0]?.p95 ?? NaN;
  const lastP95 = windows[windows.length - 1]?.p95 ?? NaN;
  const keepsUp = stream.rendered === stream.total && lastP95 < Math.max(3 * firstP95, 100);

  const version = browser.version();
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const lines = [];
  lines.push(`### Run ${date}`, '');
  lines.push(
    `Machine: ${availableParallelism()} CPUs (nproc), ${cpu}; Node ${process.version}; Chromium ${version} (headless, /usr/bin/chromium, --disable-gpu); viewport 1280×800; load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end (other jobs share the machine, so max values are noisy).`,
  );
  lines.push(
    `Data: synthetic trace, ${ROWS.toLocaleString('en-US')} requests (${trace.dials.length} dials, ${trace.tcpConns.length} TCP connections, ${trace.tlsTunnels.length} TLS tunnels; ~${Math.round(JSON.stringify(trace).length / 1e6)} MB JSON), mixed statuses, 3% errors with diagnoses, keep-alive reuse.`,
  );
  lines.push(
    'Timing: in the page, `performance.now()` from the message/event to the end of the frame that rendered it (render event + forced layout + `setTimeout(0)` after the frame).',
    '',
  );
  lines.push('| measurement | median ms | max ms | floor | median ok | max ok |', '|---|---:|---:|---:|:--:|:--:|');
  for (const r of results) {
    const max = Math.max(...r.stats);
    const med = median(r.stats);
    lines.push(
      `| ${r.what} | ${f1(med)} | ${f1(max)} | < ${r.floor} | ${med < r.floor ? 'yes' : 'NO'} | ${max < r.floor ? 'yes' : 'no'} |`,
    );
  }
  lines.push('');
  lines.push(
    `Streaming: ${RATE} new requests/s (+ ${RATE} completions/s as \`update\`) for ${SECONDS} s, batches every ${INTERVAL} ms, on top of the ${ROWS.toLocaleString('en-US')}-row live trace; post → painted latency per batch:`,
    '',
  );
  lines.push('| window | batches | p50 ms | p95 ms | max ms |', '|---|---:|---:|---:|---:|');
  for (const w of windows) lines.push(`| ${w.w}–${w.w + 2} s | ${w.n} | ${f1(w.p50)} | ${f1(w.p95)} | ${f1(w.max)} |`);
  lines.push(`| all | ${allLat.length} | ${f1(median(allLat))} | ${f1(pct(allLat, 95))} | ${f1(Math.max(...allLat))} |`);
  lines.push('');
  lines.push(
    `Rendered ${stream.rendered}/${stream.total} batches in ${f1(stream.elapsed / 1000)} s (status bar at the end: "${stream.rows}"); render interval p50 ${f1(median(stream.frameGaps))} ms, p95 ${f1(pct(stream.frameGaps, 95))} ms, max ${f1(Math.max(...stream.frameGaps))} ms. Main thread busy ${f1(busy)} s of ${f1(stream.elapsed / 1000)} s (${Math.round((busy * 100000) / stream.elapsed)}%, CDP TaskDuration, includes the in-page poster). Keeps up (all batches rendered, last-window p95 within 3× of the first or < 100 ms): **${keepsUp ? 'yes' : 'NO'}**.`,
  );
  for (const n of notes) lines.push('', `Note: ${n}`);
  const text = lines.join('\n');
  console.log(text);
  if (write) {
    // Adds this run at the end of the panel's own section (other benchmarks share the file).
    const file = resultsPath;
    const heading = '## Panel (webview) — issue 3';
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const run = `\n${text}\n`;
    let out;
    const at = existing.indexOf(heading);
    if (at < 0) {
      const sep = existing ? (existing.endsWith('\n') ? '\n' : '\n\n') : '';
      out = `${existing}${sep}${heading}\n\nProduced by \`node bench/webview.mjs\` (stub host: test/webview-harness/). Screenshot: bench/panel.png.\n${run}`;
    } else {
      const next = existing.indexOf('\n## ', at + heading.length);
      const end = next < 0 ? existing.length : next + 1;
      const before = existing.slice(0, end).replace(/\n*$/, '\n');
      out = `${before}${run}${next < 0 ? '' : `\n${existing.slice(end)}`}`;
    }
    writeResults(out);
    console.log(`\nwritten to ${file}`);
  }
} finally {
  await browser.close();
  await server.close();
  panel.cleanup();
}
