/**
 * The toolbar's host filter: a select of the trace's hosts with their request counts ("All hosts"
 * first), kept with the filter's host even when no request of it is left ("(0)").
 */

import { h } from './dom';
import type { TraceModel } from './model';

/** The select; `render` fills it again when the hosts or the chosen one changed (or when forced). */
export class HostSelect {
  readonly el = h('select', 'dropdown host-select', { title: 'Filter by host', 'aria-label': 'Host' });
  private signature = '';

  constructor(
    private readonly model: TraceModel,
    /** The filter's host ('' for all). */
    private readonly current: () => string,
    /** The user chose a host ('' for all). */
    change: (host: string) => void,
  ) {
    this.el.addEventListener('change', () => change(this.el.value));
    // Filled again as it opens: the counts of a live trace move on.
    this.el.addEventListener('focus', () => this.render(true));
    this.el.addEventListener('mousedown', () => this.render(true));
  }

  render(force: boolean): void {
    const hosts = this.model.hostList();
    const current = this.current();
    const sig = `${hosts.length}|${current}`;
    if (!force && sig === this.signature) return;
    this.signature = sig;
    const opts: HTMLOptionElement[] = [h('option', null, { value: '' }, 'All hosts')];
    if (current && !this.model.hosts.has(current)) opts.push(h('option', null, { value: current }, `${current} (0)`));
    for (const [host, n] of hosts) opts.push(h('option', null, { value: host }, `${host} (${n})`));
    this.el.replaceChildren(...opts);
    this.el.value = current;
  }
}
