/**
 * The trace's recording for replay (`exchanges` and `recording`: src/trace/contract/recording.ts),
 * made from the exchanges the preloads send (WireExchange, src/protocol/preload.ts: a request
 * update's `exchange` field, its bytes in the blob frame it names). Every process keeps to the
 * run's cap on its own; here the run is held to it across them: the bytes past it are cut, the
 * exchange marked `over: 'run'`, and what every cap cut is counted in `recording` (`cutExchanges`,
 * `cutBytes`) — never silently dropped.
 */

import type { WireBytes } from '../../protocol/preload';
import type { RecordedBytes, RecordedExchange } from '../contract/recording';
import { RECORD_MAX_BODY_BYTES, RECORD_MAX_RUN_BYTES } from '../contract/recording';
import type { Trace } from '../contract/types';
import { normalizeExchange } from '../formats/normalizeRecording';

/** The caps a session records with (the `record` option's; default the contract's). */
export interface RecordCaps {
  maxBodyBytes: number;
  maxRunBytes: number;
}

/** What the recording needs of the builder. */
export interface RecordingHost {
  readonly trace: Trace;
  warn(message: string): void;
}

/** Keeps the trace's `exchanges` and `recording`. */
export class RecordingBuilder {
  /** Bytes kept so far, of every process. */
  private used = 0;
  private readonly list: RecordedExchange[];

  constructor(
    private readonly host: RecordingHost,
    caps: Partial<RecordCaps>,
    recordedAt: number,
  ) {
    const trace = host.trace;
    trace.recording = {
      recordedAt,
      maxBodyBytes: caps.maxBodyBytes ?? RECORD_MAX_BODY_BYTES,
      maxRunBytes: caps.maxRunBytes ?? RECORD_MAX_RUN_BYTES,
      cutExchanges: 0,
      cutBytes: 0,
    };
    this.list = trace.exchanges = [];
  }

  /**
   * Adds the exchange a preload sent for request `traceID` (`wire`, unchecked), its bytes in
   * `data` (the blob frame it named; undefined when none came).
   */
  add(traceID: string, wire: unknown, data: Uint8Array | undefined): void {
    const w = (typeof wire === 'object' && wire !== null ? wire : {}) as Record<string, unknown>;
    const info = this.host.trace.recording!;
    let run = false;
    let cut = false;
    let bad = false;
    const bytes = (v: unknown): RecordedBytes | undefined => {
      if (v === undefined) return undefined;
      const b = v as Partial<WireBytes>;
      if (![b.at, b.kept, b.size].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
        bad = true;
        return undefined;
      }
      let kept = b.kept!;
      if (data === undefined ? kept > 0 : b.at! + kept > data.byteLength) {
        bad = true;
        kept = 0;
      }
      // The run's cap, across processes: what comes past it is cut here.
      const take = Math.min(kept, Math.max(0, info.maxRunBytes - this.used));
      if (take < kept || b.over === 'run') run = true;
      this.used += take;
      const size = Math.max(b.size!, take);
      const out: RecordedBytes = {
        base64: take === 0 ? '' : Buffer.from(data!.buffer, data!.byteOffset + b.at!, take).toString('base64'),
        size,
      };
      if (take < size) {
        out.truncated = true;
        cut = true;
        info.cutBytes += size - take;
      }
      return out;
    };
    const ex: Record<string, unknown> = { ...w, traceID, reqBody: bytes(w.reqBody), body: bytes(w.body) };
    delete ex.data;
    if (Array.isArray(w.messages)) {
      ex.messages = w.messages.map((m: unknown) =>
        typeof m === 'object' && m !== null ? { ...(m as object), data: bytes((m as { data?: unknown }).data) } : m,
      );
    }
    if (bad) this.host.warn('a recorded exchange referred to bytes that never arrived: they are left out');
    if (cut) {
      ex.over = run ? 'run' : 'body';
      info.cutExchanges++;
    } else delete ex.over;
    const checked = normalizeExchange(ex);
    if (checked === undefined) {
      this.host.warn('a recorded exchange was malformed (no valid end): left out');
      return;
    }
    this.list.push(checked);
  }
}
