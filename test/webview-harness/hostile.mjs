// The hostile-string scenario: a trace whose URL, method, header names/values, redirect target,
// certificate subject/issuer, DNS names and messages, bodies, socket errors, error messages, diagnosis, stack frames and trace label
// are markup that would run script if it reached the DOM as HTML. Renders it, visits every tab of
// both hostile requests, streams one more hostile request, and reports what happened.

import { HOSTILE, hostileTrace } from './synthetic.mjs';
import { openPanel } from './harness.mjs';

/**
 * Runs the scenario in a new page of `browser` at `url` (a servePanel URL). Returns
 * { pwned, control, foreignElements, missing, errors, posted }: `pwned` is window.__pwned (must stay
 * undefined), `foreignElements` counts img/svg/iframe/object elements and scripts other than the
 * bundle, `missing` lists hostile strings that were not visible as literal text, `control` is 1
 * when an innerHTML of the same markup ran script in this page (expected without CSP only).
 */
export async function runHostileScenario(browser, url) {
  const { page, errors } = await openPanel(browser, url);
  try {
    const [img, script] = HOSTILE;
    const trace = hostileTrace();
    await page.evaluate((m) => window.postMessage(m, '*'), {
      type: 'traces',
      traces: [
        { traceKey: 'evil', label: `evil ${img}`, origin: 'current', live: true, detail: script },
        { traceKey: 'file', label: script, origin: 'file', live: false },
      ],
      activeTraceKey: 'evil',
    });
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'reset', traceKey: 'evil', live: true, trace });
    await page.waitForFunction(() => document.querySelectorAll('.list-rows .row').length > 0);
    const seen = new Set();
    const collect = async () => {
      const text = await page.evaluate(
        () => document.body.innerText + '\n' + [...document.querySelectorAll('[title]')].map((e) => e.getAttribute('title')).join('\n'),
      );
      seen.add(text);
    };
    for (const id of ['req-hostile-2', 'req-hostile']) {
      await page.evaluate((traceID) => window.postMessage({ type: 'select', traceID }, '*'), id);
      await page.waitForFunction((traceID) => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === traceID), id);
      for (const tab of ['timing', 'headers', 'body', 'connection', 'dns', 'tls', 'initiator']) {
        await page.click(`.tab[data-tab="${tab}"]`);
        await page.waitForTimeout(30);
        await collect();
      }
    }
    // Clicking the hostile stack frame must only post a message.
    await page.click('.frames .link');
    // The streaming path and the filter box see hostile strings too.
    const streamed = { ...trace.httpRequests[0], traceID: 'req-hostile-3', reqURL: `https://evil.test/stream/${script}` };
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'append', traceKey: 'evil', httpRequests: [streamed] });
    await page.fill('.filter-input', img);
    await page.waitForTimeout(50);
    await page.fill('.filter-input', '');
    await page.waitForTimeout(50);
    await collect();
    const all = [...seen].join('\n');
    const missing = HOSTILE.filter((s) => !all.includes(s));
    // Control: the same markup through innerHTML does run when no CSP blocks it, so a pass above
    // means the panel's own DOM code is inert (and with the CSP, that the CSP holds too).
    const control = await page.evaluate(async () => {
      const d = document.createElement('div');
      d.innerHTML = '<img src="x" onerror="window.__control=1">';
      await new Promise((r) => setTimeout(r, 200));
      return window.__control;
    });
    const result = await page.evaluate(() => ({
      pwned: window.__pwned,
      foreignElements: document.querySelectorAll('img, svg, iframe, object, embed, body script:not([src$="webview.js"])').length,
      posted: window.__host.posted,
    }));
    return { ...result, control, missing, errors };
  } finally {
    await page.close();
  }
}
