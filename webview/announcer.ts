/**
 * The panel's one live region (`role="status"`, polite, visually hidden): what a screen-reader
 * user would otherwise have to go and look for, said once. New failed requests as a live trace
 * grows, and the filter's result count once the filter has stopped changing. The status line
 * stays quiet (it changes with every request); the detail's diagnosis is read where it is, not
 * announced (a live region rebuilt on each selection is repeated or never spoken).
 */

import { h, setText } from './dom';
import { formatCount } from './format';

/** What the panel shows after a render, as the announcer compares it with the last one. */
export interface AnnouncerFacts {
  failed: number;
  total: number;
  shown: number;
  /** The filter's text and toggles (a change of it announces the count). */
  filterKey: string;
}

/** Milliseconds the filter must stay unchanged before its count is announced. */
const FILTER_SETTLE_MS = 700;
/** Milliseconds over which new failures are gathered into one announcement. */
const FAILURE_GATHER_MS = 1000;

/** Announces changes of the panel through one polite live region. */
export class Announcer {
  readonly el = h('div', 'visually-hidden', { role: 'status', 'aria-live': 'polite' });
  private last: AnnouncerFacts | undefined;
  private newFailures = 0;
  private failureTimer: ReturnType<typeof setTimeout> | undefined;
  private filterTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.el.setAttribute('aria-atomic', 'true');
  }

  /** A new trace (or the same one loaded again): its state is the baseline, nothing is announced. */
  reset(): void {
    this.last = undefined;
    this.newFailures = 0;
    clearTimeout(this.failureTimer);
    clearTimeout(this.filterTimer);
    this.failureTimer = this.filterTimer = undefined;
  }

  /** Called after each render with what it shows. */
  update(facts: AnnouncerFacts): void {
    const last = this.last;
    this.last = { ...facts };
    if (!last) return;
    if (facts.failed > last.failed) {
      this.newFailures += facts.failed - last.failed;
      this.failureTimer ??= setTimeout(() => {
        this.failureTimer = undefined;
        const n = this.newFailures;
        this.newFailures = 0;
        this.say(`${formatCount(n)} new failed request${n === 1 ? '' : 's'}, ${formatCount(this.last?.failed ?? n)} failed in all`);
      }, FAILURE_GATHER_MS);
    }
    if (facts.filterKey !== last.filterKey) {
      clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => {
        this.filterTimer = undefined;
        const f = this.last;
        if (!f) return;
        if (f.shown === f.total) this.say(`All ${formatCount(f.total)} requests shown`);
        else if (f.shown === 0) this.say('No requests match the filter');
        else this.say(`${formatCount(f.shown)} of ${formatCount(f.total)} requests shown`);
      }, FILTER_SETTLE_MS);
    }
  }

  /** Puts `text` in the live region (the same text twice is said twice: it is emptied first). */
  private say(text: string): void {
    setText(this.el, '');
    setTimeout(() => setText(this.el, text), 50);
  }
}
