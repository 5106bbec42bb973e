/**
 * The privileged helpers of each trace (by trace key), kept after the trace so its packet capture
 * can still be saved (Save PCAP). A helper follows the forks of the pid it was attached to, so each
 * launch recording into the trace gets its own: the first process of each process tree that
 * reports in (launches that joined one trace, the services of a compound launch, are separate
 * trees). Only the first tree's helper captures packets.
 */

import type * as vscode from 'vscode';
import { SessionHelper, type SessionHelperOptions } from '../collector/helperSession';
import { descendsFrom, procLaunch, procParent } from '../collector/processTree';
import type { TraceStore } from './traceStore';

/** Ended sessions whose packet capture (the helper's spool) is kept for Save PCAP. */
const KEPT_CAPTURES = 5;

/** The helpers of one trace. */
interface TraceHelpers {
  /** Launches recording into the trace with the helper on: the first process of each gets a helper. */
  launches: number;
  /** The pids the helpers were started on: the roots of the process trees they follow. */
  roots: Set<number>;
  /** Each launch's name (LAUNCH_ENV) → the pid its helper was started on (undefined until then). */
  byLaunch: Map<string, number | undefined>;
  /** The helpers in the order of their roots (the first captures packets: Save PCAP saves its capture). */
  list: SessionHelper[];
}

/** The name of the `n`th launch of the trace `key` (LAUNCH_ENV). */
function launchName(key: string, n: number): string {
  return `${key}#${n}`;
}

/** The helpers of this window's sessions. */
export class SessionHelpers implements vscode.Disposable {
  private readonly byKey = new Map<string, TraceHelpers>();

  constructor(
    private readonly traces: Pick<TraceStore, 'get'>,
    private readonly root: () => string,
    private readonly log: (line: string) => void,
    /** Stand-ins for tests: a pid's parent and its launch (default: from /proc), the helper's start. */
    private readonly replace: {
      parentOf?: (pid: number) => number | undefined;
      launchOf?: (pid: number) => string | undefined;
      start?: SessionHelperOptions['start'];
    } = {},
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
    if (session) this.byKey.set(key, { launches: 0, roots: new Set(), byLaunch: new Map(), list: [SessionHelper.off(session, why)] });
  }

  /**
   * Starts the helper on the program's first process once it reports in (js-debug starts the
   * program, so it cannot wait at a gate as under `nettrace run`): connections made in the
   * moment before the helper is attached get no kernel metrics. A launch that joins the trace
   * later (`join`) gets a helper of its own on its first process. Returns the name of this first
   * launch, for its environment (LAUNCH_ENV); a process that has none (an attach's, or one whose
   * environment cannot be read) counts as the next launch waiting for its helper, unless it
   * descends from a process a helper follows.
   */
  startFor(key: string, pcap: boolean): string | undefined {
    const entry = this.traces.get(key);
    const session = entry?.session;
    if (!entry || !session) return undefined;
    const t: TraceHelpers = { launches: 1, roots: new Set(), byLaunch: new Map([[launchName(key, 1), undefined]]), list: [] };
    this.byKey.set(key, t);
    const onProcess = (pid: number, ppid: number | undefined): void => {
      if (!entry.collector) {
        session.off('process', onProcess);
        return;
      }
      // A process of a tree a helper follows already (a child).
      if (descendsFrom(pid, ppid, t.roots, this.replace.parentOf ?? procParent)) return;
      const launch = (this.replace.launchOf ?? procLaunch)(pid);
      if (launch !== undefined && t.byLaunch.has(launch)) {
        // Its launch has its helper already (this is another process of it, e.g. a sibling spawned by npm).
        if (t.byLaunch.get(launch) !== undefined) return;
        t.byLaunch.set(launch, pid);
      } else if (t.roots.size >= t.launches) return;
      t.roots.add(pid);
      this.startOn(key, t, pid, pcap);
    };
    session.on('process', onProcess);
    return launchName(key, 1);
  }

  /** Starts a helper on `pid`, the root of a process tree of the trace `key` (the first tree's captures packets). */
  private startOn(key: string, t: TraceHelpers, pid: number, pcap: boolean): void {
    const entry = this.traces.get(key);
    const session = entry?.session;
    if (!entry || !session) return;
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
  }

  /**
   * A launch joined the trace `key`: its first process gets a helper of its own (when the trace's
   * helper is on). Returns the launch's name for its environment (LAUNCH_ENV), undefined when off.
   */
  join(key: string): string | undefined {
    const t = this.byKey.get(key);
    if (!t || t.launches === 0) return undefined;
    const name = launchName(key, ++t.launches);
    t.byLaunch.set(name, undefined);
    return name;
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
