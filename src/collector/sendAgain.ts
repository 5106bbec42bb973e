/**
 * Send Again (docs/rules.md, "Send Again"): the collector's side. The panel asks for a recorded
 * request to be sent again; the collector finds the preload connection that recorded it and its
 * local id there (src/trace/builder/recordOrigin.ts), writes a SendAgainMessage to that preload
 * (the same socket the rule sets go down), and waits for its SentAgainMessage. The new request is
 * recorded like any other; its record's `repeatOf` names the one it repeats (the preload sends it
 * as a reference field). Nothing of the request's secret headers passes here: the preload holds
 * them, and the edits carry REDACTED for "as the program sent it" (to the request's origin only:
 * the preload decides, and names the headers it left out for another origin).
 */
import type { SendAgainMessage, SentAgainMessage } from '../protocol/preload';
import type { TraceBuilder } from '../trace/builder/builder';
import { localIdOf, traceIdOf } from '../trace/builder/recordOrigin';
import type { RulesController } from './rules';

/**
 * What became of a Send Again. `leftOut`: the headers the preload left out because the URL is of
 * another origin than the request's (SentAgainMessage.leftOut).
 */
export type SendAgainResult = { ok: true; traceID?: string; leftOut?: string[] } | { ok: false; reason: string; ended?: boolean };

/** At most this many names of left-out headers are passed on: header names (HTTP tokens) of at most 100 characters. */
const MAX_LEFT_OUT = 32;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** The user's changes to the request (SendAgainMessage.edits). */
export type SendAgainEdits = NonNullable<SendAgainMessage['edits']>;

interface Ask {
  connection: number;
  resolve(r: SendAgainResult): void;
  timer: NodeJS.Timeout;
}

/** The Send Again asks of one session. */
export class SendAgainLink {
  private readonly asks = new Map<number, Ask>();
  private next = 1;

  constructor(
    private readonly builder: TraceBuilder,
    private readonly rules: RulesController,
  ) {}

  /**
   * Asks the process that made request `traceID` to send it again (with `edits`). Resolves when it
   * answers, or with a plain reason: the process has ended, or did not answer in `timeoutMs`.
   */
  send(traceID: string, edits?: SendAgainEdits, timeoutMs = 10_000): Promise<SendAgainResult> {
    const origin = localIdOf(this.builder, 'httpRequests', traceID);
    if (!origin) return Promise.resolve({ ok: false, reason: 'this trace does not know which process made the request' });
    const peer = this.rules.peerOf(origin.connection);
    if (!peer) return Promise.resolve({ ok: false, ended: true, reason: 'the process that made it has ended (or stopped being traced)' });
    const ask = this.next++;
    const msg: SendAgainMessage = { type: 'sendAgain', ask, id: origin.localId };
    if (edits) msg.edits = edits;
    return new Promise<SendAgainResult>((resolve) => {
      const timer = setTimeout(() => {
        this.asks.delete(ask);
        resolve({ ok: false, reason: `the process did not answer within ${Math.round(timeoutMs / 1000)} s (paused in the debugger?)` });
      }, timeoutMs);
      timer.unref?.();
      this.asks.set(ask, { connection: origin.connection, resolve, timer });
      try {
        peer.write(JSON.stringify(msg) + '\n');
      } catch (err) {
        this.settle(ask, { ok: false, ended: true, reason: `the process's connection failed: ${(err as Error).message}` });
      }
    });
  }

  /** A preload's SentAgainMessage. */
  answer(connection: number, m: SentAgainMessage): void {
    const a = this.asks.get(m.ask);
    if (!a || a.connection !== connection) return;
    if (typeof m.error === 'string') this.settle(m.ask, { ok: false, reason: m.error.slice(0, 300) });
    else {
      // From the process: header names only, bounded (the extension shows them).
      const leftOut = Array.isArray(m.leftOut)
        ? m.leftOut.slice(0, MAX_LEFT_OUT).filter((n): n is string => typeof n === 'string' && HEADER_NAME.test(n))
        : [];
      this.settle(m.ask, {
        ok: true,
        traceID: typeof m.id === 'string' ? traceIdOf(this.builder, connection, 'httpRequests', m.id) : undefined,
        ...(leftOut.length > 0 ? { leftOut } : {}),
      });
    }
  }

  /** A connection closed: its open asks end with that reason. */
  closed(connection: number): void {
    for (const [ask, a] of this.asks) {
      if (a.connection === connection) this.settle(ask, { ok: false, ended: true, reason: 'the process that made it has ended' });
    }
  }

  private settle(ask: number, r: SendAgainResult): void {
    const a = this.asks.get(ask);
    if (!a) return;
    this.asks.delete(ask);
    clearTimeout(a.timer);
    a.resolve(r);
  }
}
