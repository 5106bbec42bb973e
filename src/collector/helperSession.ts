/**
 * The privileged helper for one session: start it on the debuggee's pid (or say why not), feed its
 * lines into the trace (src/collector/helperLink.ts), wait for its last lines when the program
 * ends, save its packet capture as a pcapng labelled with trace IDs, and remove the capture's
 * spool. Shared by `nettrace run` and the extension; see native/README.md for how the helper gets
 * its privileges.
 */

import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { openPrivateSync } from '../trace/formats/privateFile';
import { HelperLink, pcapLabels, setHelperStats } from './helperLink';
import type { Session } from './session';
import {
  chooseAuthorityAsync,
  prestartHelper,
  rememberedAuthority,
  removeSpool,
  startHelper,
  type EarlyHelper,
  type HelperClient,
  type HelperOptions,
} from '../helper/launch';
import { savePcap } from '../helper/pcapng';
import { forgetProbes } from '../helper/probeCache';
import { resolveHelperRoot } from '../helper/install';
import { findOnPath } from '../helper/findOnPath';
import { SETUP_HINT } from '../helper/setupHint';
import { isArrivalLine, type HelperAuthority, type HelperLine } from '../protocol/helper';
import type { PacketCapture } from '../trace/contract/types';

/** How hard to try: `auto` uses the helper when it can start, `off` never, `required` fails without it. */
export type HelperSetting = 'auto' | 'off' | 'required';

/** The reason given when the native helper has not been built. */
export const HELPER_NOT_BUILT = `the Net Trace kernel helper is not set up (native/build/nettrace-helper is missing): ${SETUP_HINT}`;

/** Options of SessionHelper.start(). */
export interface SessionHelperOptions {
  /** The debuggee's pid (the root of the traced process tree). */
  pid: number;
  /** Capture the traced connections' packets (root, sudo and pkexec only). */
  pcap?: boolean;
  /** Size cap of the capture, bytes. */
  pcapMaxBytes?: number;
  /** Kernel capture buffer per device, MiB. */
  pcapBufferMiB?: number;
  /** Checkout or install holding dist/helper.cjs and native/build (default: this bundle's ../). */
  root?: string;
  /**
   * Whether the setup's installed copy (installedHelperRoot) is used when `root` has no native
   * helper (default true; false when the user named `root`: `nettrace run --helper-root DIR`).
   */
  orInstalled?: boolean;
  /** Node binary that runs dist/helper.cjs (default: this process's, if it is Node, else `node` on PATH). */
  nodePath?: string;
  /** Whether an authority that asks for a password (pkexec) may be used (default true). */
  allowPrompt?: boolean;
  /**
   * Told how the helper will start, once that is chosen and before it starts: `nettrace run`
   * releases a program that waits for an unprivileged helper at once (it reads tcp_info by
   * sampling and sees no connection's start, so holding the program gains nothing).
   */
  onAuthority?: (authority: HelperAuthority) => void;
  /** The authority, when the caller knows it already (SessionHelper.remembered): nothing is probed or read again. */
  authority?: HelperAuthority;
  /** How long to wait for the helper's `ready` line (default 60 s: a password prompt may be up). */
  readyTimeoutMs?: number;
  /**
   * Whether a helper that is not built is worth a trace warning (default true). The extension
   * says it only when asked (Save PCAP): its packaged form ships without the native helper.
   */
  warnIfNotBuilt?: boolean;
  /**
   * Set when this helper covers a further process tree of a session that has a helper already (a
   * launch that joined the trace): names that tree, e.g. `pid 4242`. Its failure is then a
   * warning about that tree only, and `stats.helper` keeps the other helper's state.
   */
  extraTree?: string;
  /** Starts the helper (tests replace it; default src/helper startHelper). */
  start?: (options: HelperOptions) => Promise<HelperClient>;
  /** The helper, started before the program by SessionHelper.prestart(): it is given `pid`. */
  early?: EarlyHelper;
}

/** Thrown by savePcap() when there is no capture to save; the message says why and how to get one. */
export class PcapUnavailableError extends Error {
  override readonly name = 'PcapUnavailableError';
}

/** One session's helper: running, or the reason it is not. */
export class SessionHelper {
  readonly link: HelperLink;
  /** The running helper (undefined when it did not start). */
  client?: HelperClient;
  /** Why the helper is not running (undefined while it runs). */
  notRunning?: string;

  private constructor(
    readonly session: Session,
    readonly pcapRequested: boolean,
    /** The further process tree this helper covers (SessionHelperOptions.extraTree). */
    readonly extraTree?: string,
  ) {
    this.link = new HelperLink(session, { pcapRequested, send: (c) => this.client?.send(c) });
  }

  /** A session without the helper: `stats.helper.notRunning` says why; no warning. */
  static off(session: Session, reason: string, pcapRequested = false): SessionHelper {
    const h = new SessionHelper(session, pcapRequested);
    h.notRunning = reason;
    setHelperStats(session, { ...session.builder.trace.stats.helper, notRunning: reason });
    return h;
  }

  /**
   * Starts the helper on `options.pid` and resolves once it is attached (the debuggee may be
   * released then), or with the reason it could not start, which also becomes a trace warning.
   * Never rejects.
   */
  static async start(session: Session, options: SessionHelperOptions): Promise<SessionHelper> {
    const h = new SessionHelper(session, !!options.pcap, options.extraTree);
    if (process.platform !== 'linux') return h.fail(`the Net Trace helper runs on Linux only (this is ${process.platform})`);
    const helperOptions = helperOptionsOf(options);
    if (!helperOptions) return h.fail(HELPER_NOT_BUILT, options.warnIfNotBuilt !== false);
    const early = options.early;
    if (early) {
      helperOptions.authority = early.authority;
      options.onAuthority?.(early.authority);
      await h.launch(helperOptions, { ...options, start: () => early.target(options.pid) });
      return h;
    }
    // Chosen here, its probes at once (chooseAuthorityAsync), so the caller hears it first.
    helperOptions.authority =
      options.authority ??
      (await (options.allowPrompt === false ? authorityWithoutPrompt(helperOptions) : chooseAuthorityAsync(helperOptions)));
    options.onAuthority?.(helperOptions.authority);
    await h.launch(helperOptions, options);
    return h;
  }

  /** Starts the helper with the authority chosen and attaches it, or fails with the reason. */
  private async launch(helperOptions: HelperOptions, options: SessionHelperOptions): Promise<void> {
    const starting = (options.start ?? startHelper)(helperOptions);
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = options.readyTimeoutMs ?? 60_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`it was not ready within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    });
    try {
      this.attach(await Promise.race([starting, timeout]));
    } catch (err) {
      // A helper that gets ready after all is stopped again.
      starting.then(
        (c) => void c.stop(),
        () => {},
      );
      // What the probes found may have changed since they were remembered: the next start asks again.
      forgetProbes();
      this.fail(`the Net Trace helper could not start: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Starts the helper before its program, the way `authority` (SessionHelper.remembered: known
   * without probing) says, when that way needs no pid to start (launch.ts prestartHelper: root without a
   * capture, file capabilities): its eBPF programs load while the caller starts the program (issue
   * 65). Give it to start() as `early`, or cancel() it; undefined when there is none.
   */
  static prestart(options: Omit<SessionHelperOptions, 'pid'>, authority: HelperAuthority): EarlyHelper | undefined {
    const helperOptions = helperOptionsOf({ ...options, pid: 0 });
    return helperOptions ? prestartHelper(helperOptions, authority) : undefined;
  }

  /**
   * How start() would start the helper, known from remembered probes alone (launch.ts
   * rememberedAuthority), or undefined when it would have to probe or there is no helper.
   */
  static remembered(options: Omit<SessionHelperOptions, 'pid'>): HelperAuthority | undefined {
    if (process.platform !== 'linux' || options.allowPrompt === false) return undefined;
    const helperOptions = helperOptionsOf({ ...options, pid: 0 });
    return helperOptions && rememberedAuthority(helperOptions);
  }

  private fail(reason: string, warn = true): SessionHelper {
    this.notRunning = reason;
    if (this.extraTree !== undefined) {
      if (warn) this.session.warn(`kernel TCP metrics and conntrack are off for ${this.extraTree}: ${reason}`);
      return this;
    }
    if (warn) this.session.warn(`kernel TCP metrics, conntrack and packet capture are off: ${reason}`);
    setHelperStats(this.session, { ...this.session.builder.trace.stats.helper, notRunning: reason });
    return this;
  }

  /** Feeds a started helper's lines (those already read, then the rest) into the trace. */
  private attach(client: HelperClient): void {
    this.client = client;
    const seen = client.messages.slice();
    // The client keeps every line for startHelper(); from here on the link has them instead.
    client.messages.length = 0;
    for (const m of seen) this.link.apply(!isArrivalLine(m) && m.type === 'ready' && client.ready ? client.ready : m);
    client.on('message', (m: HelperLine) => {
      client.messages.length = 0;
      this.link.apply(!isArrivalLine(m) && m.type === 'ready' && client.ready ? client.ready : m);
    });
    client.on('exit', (code: number | null) => this.link.ended(code));
  }

  /** True while the helper runs. */
  get running(): boolean {
    return !!this.client && !this.link.exited;
  }

  /** How the helper got its privileges (undefined when it is not running). */
  get authority(): HelperAuthority | undefined {
    return this.client?.authority;
  }

  /**
   * After the traced program ended: waits up to `timeoutMs` for the helper to exit by itself (it
   * lingers briefly for the last connections' final readings), then stops it.
   */
  async finish(timeoutMs = 3000): Promise<void> {
    const client = this.client;
    if (!client) return;
    const exited = await Promise.race([client.exited.then(() => true), delay(timeoutMs).then(() => false)]);
    if (!exited) await this.stop();
    this.link.finish();
  }

  /** Stops the helper now (bounded: killed if it does not exit within a second). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const stopped = await Promise.race([client.stop().then(() => true), delay(1000).then(() => false)]);
    if (!stopped) client.child.kill('SIGKILL');
    this.link.finish();
  }

  /** Why Save PCAP cannot work for this session, or undefined when it can. */
  pcapUnavailable(): string | undefined {
    const why = this.link.pcapUnavailable();
    if (why) return why;
    const spool = this.link.capture?.spool;
    return spool && existsSync(spool)
      ? undefined
      : 'the packet capture of this session is gone (it is kept only while the session is listed)';
  }

  /**
   * Writes the packets of the session (or of one request's connections) to `file` (pcapng, mode
   * 0600), each commented with its connection's and requests' trace IDs, and records it as the
   * trace's `packetCapture`. Throws PcapUnavailableError with the reason when there is no capture.
   */
  savePcap(file: string, requestTraceID?: string): PacketCapture {
    const why = this.pcapUnavailable();
    if (why) throw new PcapUnavailableError(why);
    const capture = this.link.capture!;
    const builder = this.session.builder;
    if (requestTraceID !== undefined && !builder.get('httpRequests', requestTraceID)) {
      throw new PcapUnavailableError(`there is no request ${requestTraceID} in this trace`);
    }
    const saved = savePcap(capture.spool, file, openPrivateSync(file), {
      labels: pcapLabels(builder.trace),
      requestTraceID,
      // The spool already has the size cap; the saved file's longer comments must not cut it.
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
    const packetCapture: PacketCapture = {
      file: saved.file,
      interfaces: saved.interfaces,
      packets: saved.packets,
      truncated: saved.truncated || capture.truncated,
    };
    if (requestTraceID !== undefined) packetCapture.requestTraceID = requestTraceID;
    builder.trace.packetCapture = packetCapture;
    builder.touch();
    this.session.noteChange();
    return packetCapture;
  }

  /** Removes the capture's spool (a private temporary directory the helper made). */
  removeSpool(): void {
    removeSpool(this.link.capture?.spool);
  }
}

/**
 * The helper's start options for `options`: its root the given one (or this bundle's checkout),
 * else where the setup installs it; undefined when neither has the native helper.
 */
function helperOptionsOf(options: SessionHelperOptions): HelperOptions | undefined {
  const where = resolveHelperRoot(options.root, options.orInstalled !== false);
  if (!where.found) return undefined;
  return {
    pid: options.pid,
    pcap: options.pcap,
    pcapMaxBytes: options.pcapMaxBytes,
    pcapBufferMiB: options.pcapBufferMiB,
    root: where.root,
    nodePath: options.nodePath ?? defaultNodePath(),
  };
}

/** chooseAuthorityAsync(), but never one that asks for a password (pkexec). */
export async function authorityWithoutPrompt(options: HelperOptions): Promise<HelperAuthority> {
  const first = await chooseAuthorityAsync(options);
  if (first !== 'pkexec') return first;
  // Without packet capture, file capabilities come before sudo and pkexec.
  const second = await chooseAuthorityAsync({ ...options, pcap: false });
  return second === 'pkexec' ? 'unprivileged' : second;
}

/** A Node binary for dist/helper.cjs: this process's when it is Node (not an editor's Electron). */
export function defaultNodePath(): string | undefined {
  if (/^node(\.exe)?$/i.test(basename(process.execPath))) return process.execPath;
  return findOnPath('node');
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
