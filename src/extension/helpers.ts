/**
 * The privileged helpers of each trace (by trace key), kept after the trace so its packet capture
 * can still be saved (Save PCAP). A helper follows the forks of the pid it was attached to, so each
 * launch recording into the trace gets its own: the first process of each process tree that
 * reports in (launches that joined one trace, the services of a compound launch, are separate
 * trees). Only the first tree's helper captures packets.
 */

import type * as vscode from 'vscode';
import { SessionHelper, type SessionHelperOptions } from '../collector/helperSession';
import { descendsFrom, procParent } from '../collector/processTree';
import type { TraceStore } from './traceStore';

/** Ended sessions whose packet capture (the helper's spool) is kept for Save PCAP. */
const KEPT_CAPTURES = 5;

/** The helpers of one trace. */
interface TraceHelpers {
  /** Launches recording into the trace with the helper on: the first process of each gets a helper. */
  launches: number;
  /** The pids the helpers were started on: the roots of the process trees they follow. */
  roots: Set<number>;
  /** The helpers in the order of their roots (the first captures packets: Save PCAP saves its capture). */
  list: SessionHelper[];
}

/** The helpers of this window's sessions. */
export class SessionHelpers implements vscode.Disposable {
  private readonly byKey = new Map<string, TraceHelpers>();

  constructor(
    private readonly traces: Pick<TraceStore, 'get'>,
    private readonly root: () => string,
    private readonly log: (line: string) => void,
    /** Stand-ins for tests: the parent of a pid (default: from /proc), the helper's start. */
    private readonly replace: { parentOf?: (pid: number) => number | undefined; start?: SessionHelperOptions['start'] } = {},
  ) {}

  /** The helper of a trace whose capture Save PCAP saves (its first), if one was started (or turned off) for it. */
  get(key: string): SessionHelper | undefined {
    return this.byKey.get(key)?.list[0];
  }

  /** All the helpers of a trace (one per process tree). */
  all(key: string): readonly SessionHelper[] {
    return (this.byKey.get(key)?.list ?? []).filter((h) => h !== undefined);
  }

  /** Records that the helper is off for a session, and why (Save PCAP says so). */
  off(key: string, why: string): void {
    const session = this.traces.get(key)?.session;
    if (session) this.byKey.set(key, { launches: 0, roots: new Set(), list: [SessionHelper.off(session, why)] });
  }

  /**
   * Starts the helper on the program's first process once it reports in (js-debug starts the
   * program, so it cannot wait at a gate as under `nettrace run`): connections made in the
   * moment before the helper is attached get no kernel metrics. A launch that joins the trace
   * later (`join`) gets a helper of its own on its first process.
   */
  startFor(key: string, pcap: boolean): void {
    const entry = this.traces.get(key);
    const session = entry?.session;
    if (!entry || !session) return;
    const t: TraceHelpers = { launches: 1, roots: new Set(), list: [] };
    this.byKey.set(key, t);
    const onProcess = (pid: number, ppid: number | undefined): void => {
      if (!entry.collector) {
        session.off('process', onProcess);
        return;
      }
      // A process of a tree a helper follows already (a child), or no launch waiting for its helper.
      if (t.roots.size >= t.launches || descendsFrom(pid, ppid, t.roots, this.replace.parentOf ?? procParent)) return;
      t.roots.add(pid);
      const index = t.roots.size - 1;
      const first = index === 0;
      const extraTree = `pid ${pid} (a launch that joined this trace)`;
      void SessionHelper.start(session, {
        pid,
        // One capture per trace (Save PCAP saves one helper's spool): the first tree's.
        pcap: pcap && first,
        root: this.root(),
        allowPrompt: false,
        warnIfNotBuilt: false,
        ...(first ? {} : { extraTree }),
        ...(this.replace.start ? { start: this.replace.start } : {}),
      }).then((h) => {
        t.list[index] = h;
        if (h.running) this.log(`${key}: helper attached to pid ${pid} (${h.authority}, ${h.link.ready?.mode})`);
        else this.log(`${key}: no helper for pid ${pid}: ${h.notRunning}`);
        if (h.running && !first && pcap) {
          const firstRoot = [...t.roots][0];
          session.warn(
            `packet capture covers the processes of pid ${firstRoot} only: ${extraTree} has a helper of its own for kernel TCP metrics, but its packets are not captured (Save PCAP saves one capture per trace); run it in a trace of its own to capture them`,
          );
        }
        // The session may have ended while the helper started.
        if (!entry.collector) void h.stop();
        this.prune();
      });
    };
    session.on('process', onProcess);
  }

  /** A launch joined the trace `key`: its first process gets a helper of its own (when the trace's helper is on). */
  join(key: string): void {
    const t = this.byKey.get(key);
    if (t && t.launches > 0) t.launches++;
  }

  /** Lets the helpers of an ending session send their last readings (they linger briefly after the program). */
  async finish(key: string, timeoutMs: number): Promise<void> {
    await Promise.all(this.all(key).map((h) => Promise.resolve(h.finish(timeoutMs)).catch(() => {})));
  }

  /** Keeps the captures of the newest ended sessions only. */
  prune(): void {
    const ended = [...this.byKey.entries()].filter(([k]) => this.traces.get(k)?.origin !== 'current');
    for (const [k] of ended.slice(0, Math.max(0, ended.length - KEPT_CAPTURES))) {
      for (const h of this.all(k)) h.removeSpool();
      this.byKey.delete(k);
    }
  }

  dispose(): void {
    for (const k of this.byKey.keys())
      for (const h of this.all(k)) {
        void h.stop();
        h.removeSpool();
      }
    this.byKey.clear();
  }
}
