/**
 * Where spans go: an OTLP backend, through OpenTelemetry's own exporters (the wire, the
 * protobuf/JSON serializers, retries with backoff on 429/502/503/504 and network errors, honouring
 * Retry-After), or an OTLP/JSON file. What is written here is the part those exporters leave to
 * their caller (the SDK's BatchSpanProcessor, which counts nothing it loses): a bounded queue,
 * batches, few exports in flight, a deadline at the end, and the count of spans not delivered.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
type Wire = typeof import('./wire');
let wireModule: Wire | undefined;
/**
 * The exporter packages, loaded on first use: the build (scripts/build.mjs, `otlpApart`) turns
 * this require into one of dist/otlp-wire.cjs beside the bundle, so a session that does not
 * export never loads them.
 */
function wire(): Wire {
  return (wireModule ??= require('./wire') as Wire);
}
import { openPrivateSync } from '../trace/formats/privateFile';
import { shownEndpoint, type OtlpConfig } from './config';
import type { OtlpSpan } from './mapping';
import { ExportDeadlines } from './deadline';

/** What a sink did, when closed. */
export interface SinkResult {
  delivered: number;
  /** Spans not delivered: the backend refused them, failed, was too slow, or the queue was full. */
  undelivered: number;
  /** Why the first undelivered spans were lost (one sentence), when some were. */
  firstError?: string;
}

/** A destination of spans. */
export interface SpanSink {
  /** Queues spans, waiting while the queue is full (for a reader that can wait: `nettrace export`). */
  push(spans: readonly OtlpSpan[]): Promise<void>;
  /** Sends what is queued and waits for it, at most until `deadlineMs` from now; then stops. */
  close(deadlineMs?: number): Promise<SinkResult>;
}

/** What the exporter packages have in common (their OTLPExporterBase). */
interface Exporter {
  export(spans: OtlpSpan[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  /** Starts no retry any more (the sink closed): retryingGrpc. */
  stop?(): void;
}

/** Options of OtlpSink. */
export interface OtlpSinkOptions {
  /** Spans per export request (default: the configuration's). */
  batchSize?: number;
  /** Spans queued at most (default: the configuration's). */
  maxQueue?: number;
  /** Exports in flight at most (default 2). */
  concurrency?: number;
  /**
   * Consecutive failed exports after which the backend is taken for gone and the rest is counted
   * undelivered without trying (default 3): a dead backend costs three timeouts, not one per batch.
   */
  giveUpAfter?: number;
}

/** The OpenTelemetry exporter of a configuration's protocol; its HTTP requests through `deadlines`' agents. */
function exporterOf(config: OtlpConfig, deadlines: ExportDeadlines): Exporter {
  const common = { url: config.url, timeoutMillis: config.timeoutMillis, concurrencyLimit: 8 };
  const http = { ...common, headers: config.headers, httpAgentOptions: deadlines.agentFor };
  const { Metadata, GrpcExporter, JsonExporter, ProtoExporter } = wire();
  let exporter: unknown;
  if (config.protocol === 'grpc') {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(config.headers)) metadata.set(k, v);
    return retryingGrpc(new GrpcExporter({ ...common, metadata }) as unknown as Exporter, config.timeoutMillis);
  } else if (config.protocol === 'http/json') exporter = new JsonExporter(http);
  else exporter = new ProtoExporter(http);
  // Our spans are the ReadableSpan shape these exporters serialize (src/otlp/mapping.ts OtlpSpan).
  return exporter as Exporter;
}

/**
 * The gRPC status codes OTLP says to retry (CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
 * ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS).
 */
const GRPC_RETRYABLE = new Set([1, 4, 8, 10, 11, 14, 15]);

/**
 * The gRPC exporter with retries: OpenTelemetry's gRPC transport (otlp-grpc-exporter-base 0.223)
 * reports every error, UNAVAILABLE included, as final, unlike its HTTP transport, which retries
 * 429/502/503/504 and network errors with backoff. This retries the codes OTLP names, with the
 * HTTP transport's backoff (1 s, ×1.5, ±20%, at most 5 s), within the export's timeout.
 */
function retryingGrpc(inner: Exporter, timeoutMillis: number): Exporter {
  /** The retries waiting: stop() ends them at once, with the result that made them wait. */
  const waiting = new Map<NodeJS.Timeout, () => void>();
  let stopped = false;
  return {
    stop() {
      stopped = true;
      for (const [timer, giveUp] of waiting) {
        clearTimeout(timer);
        giveUp();
      }
      waiting.clear();
    },
    export(spans, done) {
      const deadline = Date.now() + timeoutMillis;
      let backoff = 1000;
      const attempt = () =>
        inner.export(spans, (result) => {
          const code = (result.error as { code?: unknown } | undefined)?.code;
          const wait = Math.min(backoff * (0.8 + Math.random() * 0.4), 5000);
          if (stopped || result.code === 0 || typeof code !== 'number' || !GRPC_RETRYABLE.has(code) || Date.now() + wait >= deadline) {
            done(result);
            return;
          }
          backoff *= 1.5;
          const timer = setTimeout(() => {
            waiting.delete(timer);
            attempt();
          }, wait);
          waiting.set(timer, () => done(result));
        });
      attempt();
    },
    shutdown: () => inner.shutdown(),
  };
}

/** One line naming why an export failed. */
function describe(err: Error | undefined, config: OtlpConfig): string {
  const e = err as (Error & { code?: number | string; data?: string }) | undefined;
  const why = !e ? 'it failed' : e.code !== undefined ? `${e.message || 'error'} (${e.code})` : e.message || String(e);
  return `spans could not be sent to ${shownEndpoint(config.url)} (${config.protocol}): ${why.split('\n')[0]}`;
}

/** Sends spans to an OTLP backend in batches; never throws at its caller for the backend's sake. */
export class OtlpSink implements SpanSink {
  private readonly exporter: Exporter;
  private readonly deadlines: ExportDeadlines;
  private readonly batchSize: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly giveUpAfter: number;
  private queue: OtlpSpan[] = [];
  private inFlight = 0;
  /** Spans of the exports in flight. */
  private inFlightCount = 0;
  private failures = 0;
  private gone = false;
  private readonly result: SinkResult = { delivered: 0, undelivered: 0 };
  private readonly waiters: (() => void)[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly config: OtlpConfig,
    options: OtlpSinkOptions = {},
  ) {
    this.deadlines = new ExportDeadlines(config.timeoutMillis);
    this.exporter = exporterOf(config, this.deadlines);
    this.batchSize = options.batchSize ?? config.batchSize;
    this.maxQueue = Math.max(this.batchSize, options.maxQueue ?? config.maxQueue);
    this.concurrency = options.concurrency ?? 2;
    this.giveUpAfter = options.giveUpAfter ?? 3;
  }

  async push(spans: readonly OtlpSpan[]): Promise<void> {
    if (this.gone) return this.lose(spans.length);
    for (const s of spans) this.queue.push(s);
    this.pump(false);
    while (this.queue.length >= this.maxQueue && !this.gone) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Queues spans without waiting (a live export, from the collector's change events): false, and
   * nothing queued, when they do not fit or the backend was given up (the caller sends them later
   * with push(), which waits). A partial batch goes out within half a second.
   */
  offer(spans: readonly OtlpSpan[]): boolean {
    if (this.gone || this.queue.length + spans.length > this.maxQueue) return false;
    for (const s of spans) this.queue.push(s);
    this.pump(false);
    if (this.queue.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.pump(true);
      }, 500);
      this.flushTimer.unref();
    }
    return true;
  }

  private flushTimer: NodeJS.Timeout | undefined;

  /** Counts spans not sent because the backend was given up (the first error says why). */
  private lose(n: number): void {
    this.result.undelivered += n;
  }

  /** Starts exports while there is room: full batches, or with `all` whatever is queued. */
  private pump(all: boolean): void {
    while (!this.gone && this.inFlight < this.concurrency && (this.queue.length >= this.batchSize || (all && this.queue.length > 0))) {
      const batch = this.queue.splice(0, this.batchSize);
      this.inFlight++;
      this.inFlightCount += batch.length;
      const done = new Promise<void>((resolve) => {
        try {
          this.exporter.export(batch, (res) => {
            this.finish(batch.length, res.code === 0 ? undefined : (res.error ?? new Error('export failed')));
            resolve();
          });
        } catch (err) {
          this.finish(batch.length, err as Error);
          resolve();
        }
      });
      this.pending.add(done);
      void done.then(() => {
        this.pending.delete(done);
        this.pump(all);
      });
    }
    if (this.gone) {
      this.lose(this.queue.length);
      this.queue = [];
    }
    if (this.queue.length < this.maxQueue || this.gone) for (const w of this.waiters.splice(0)) w();
  }

  private finish(n: number, error: Error | undefined): void {
    this.inFlight--;
    this.inFlightCount -= n;
    if (!error) {
      this.failures = 0;
      this.result.delivered += n;
      return;
    }
    this.result.undelivered += n;
    this.result.firstError ??= describe(error, this.config);
    if (++this.failures >= this.giveUpAfter) this.gone = true;
  }

  async close(deadlineMs = this.config.timeoutMillis): Promise<SinkResult> {
    clearTimeout(this.flushTimer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
    const drained = (async () => {
      for (;;) {
        this.pump(true);
        if (this.pending.size === 0) return 'done' as const;
        await Promise.race([...this.pending]);
      }
    })();
    const how = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    // Nothing of the export may hold the program's exit: open requests and kept sockets are closed.
    const what = this.deadlines.abort(deadlineMs);
    this.exporter.stop?.();
    if (how === 'late') {
      // What is still queued or in flight is not waited for: it counts as undelivered.
      this.gone = true;
      this.result.undelivered += this.queue.length + this.inFlightCount;
      this.queue = [];
      const why = what ?? `the backend did not answer within ${deadlineMs} ms`;
      this.result.firstError ??= `spans could not be sent to ${shownEndpoint(this.config.url)}: ${why}`;
      // Late answers must not count twice.
      this.finish = () => {};
    }
    void this.exporter.shutdown().catch(() => {});
    return { ...this.result };
  }
}

/**
 * Writes spans as OTLP/JSON: one ExportTraceServiceRequest per line (JSON Lines, as the
 * OpenTelemetry Collector's file exporter writes and its otlpjsonfile receiver reads), serialized
 * by OpenTelemetry's own JSON serializer; a private file (0600) as every file Net Trace saves. Throws
 * PrivateFileError when it cannot be written.
 */
export class OtlpFileSink implements SpanSink {
  private readonly out: WriteStream;
  private batch: OtlpSpan[] = [];
  private written = 0;
  private error: Error | undefined;

  constructor(
    readonly path: string,
    private readonly batchSize = 512,
  ) {
    // 0600, not through a symbolic link, ours (src/trace/formats/privateFile.ts); the path is then ignored.
    this.out = createWriteStream(path, { fd: openPrivateSync(path) });
    this.out.on('error', (err) => (this.error ??= err));
  }

  async push(spans: readonly OtlpSpan[]): Promise<void> {
    for (const s of spans) this.batch.push(s);
    if (this.batch.length >= this.batchSize) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0 || this.error) return;
    const bytes = wire().JsonTraceSerializer.serializeRequest(this.batch as never);
    this.written += this.batch.length;
    this.batch = [];
    if (!bytes) return;
    const ok = this.out.write(Buffer.concat([bytes, Buffer.from('\n')]));
    if (!ok && !this.error) await this.drained();
  }

  /** Resolves when the stream takes more, or failed (its listeners removed again either way). */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
    });
  }

  async close(): Promise<SinkResult> {
    await this.flush();
    this.out.end();
    if (!this.error) await Promise.race([once(this.out, 'finish'), once(this.out, 'error')]).catch(() => {});
    if (this.error) return { delivered: 0, undelivered: this.written, firstError: `could not write ${this.path}: ${this.error.message}` };
    return { delivered: this.written, undelivered: 0 };
  }
}
