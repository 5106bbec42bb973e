/**
 * The privileged helper of each debug session (by trace key), kept after the session so its
 * packet capture can still be saved (Save PCAP).
 */

import type * as vscode from 'vscode';
import { SessionHelper } from '../cli/helperSession';
import type { TraceStore } from './traceStore';

/** Ended sessions whose packet capture (the helper's spool) is kept for Save PCAP. */
const KEPT_CAPTURES = 5;

/** The helpers of this window's sessions. */
export class SessionHelpers implements vscode.Disposable {
  private readonly helpers = new Map<string, SessionHelper>();

  constructor(
    private readonly traces: TraceStore,
    private readonly root: () => string,
    private readonly log: (line: string) => void,
  ) {}

  /** The helper of a trace, if one was started (or turned off) for it. */
  get(key: string): SessionHelper | undefined {
    return this.helpers.get(key);
  }

  /** Records that the helper is off for a session, and why (Save PCAP says so). */
  off(key: string, why: string): void {
    const session = this.traces.get(key)?.session;
    if (session) this.helpers.set(key, SessionHelper.off(session, why));
  }

  /**
   * Starts the helper on the program's first process once it reports in (js-debug starts the
   * program, so it cannot wait at a gate as under `nettrace run`): connections made in the
   * moment before the helper is attached get no kernel metrics.
   */
  startFor(key: string, pcap: boolean): void {
    const entry = this.traces.get(key);
    const session = entry?.session;
    if (!session) return;
    session.once('process', (pid) => {
      if (!entry.collector) return;
      void SessionHelper.start(session, { pid, pcap, root: this.root(), allowPrompt: false, warnIfNotBuilt: false }).then((h) => {
        this.helpers.set(key, h);
        if (h.running) this.log(`${key}: helper attached to pid ${pid} (${h.authority}, ${h.link.ready?.mode})`);
        else this.log(`${key}: no helper: ${h.notRunning}`);
        // The session may have ended while the helper started.
        if (!entry.collector) void h.stop();
        this.prune();
      });
    });
  }

  /** Lets the helper of an ending session send its last readings (it lingers briefly after the program). */
  async finish(key: string, timeoutMs: number): Promise<void> {
    await Promise.resolve(this.helpers.get(key)?.finish(timeoutMs)).catch(() => {});
  }

  /** Keeps the captures of the newest ended sessions only. */
  prune(): void {
    const ended = [...this.helpers.entries()].filter(([k]) => this.traces.get(k)?.origin !== 'current');
    for (const [k, h] of ended.slice(0, Math.max(0, ended.length - KEPT_CAPTURES))) {
      h.removeSpool();
      this.helpers.delete(k);
    }
  }

  dispose(): void {
    for (const h of this.helpers.values()) {
      void h.stop();
      h.removeSpool();
    }
    this.helpers.clear();
  }
}
