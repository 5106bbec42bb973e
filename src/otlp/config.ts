/**
 * Where and how spans are sent, as OpenTelemetry users configure it: the standard
 * `OTEL_EXPORTER_OTLP_*` environment variables, with `--otlp URL` (or the `nettrace.otlp`
 * setting) for the endpoint. docs/opentelemetry.md lists what each one does.
 */

import { urlFull, type Attributes } from './mapping';
import { parseResourceAttributes } from './resource';

/** The OTLP wire protocols (OTEL_EXPORTER_OTLP_PROTOCOL). */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** The protocols, default first. */
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

/** A resolved exporter configuration. */
export interface OtlpConfig {
  protocol: OtlpProtocol;
  /** The URL spans are sent to (HTTP: with its `/v1/traces` path). */
  url: string;
  /** Extra request headers (HTTP) or metadata (gRPC): OTEL_EXPORTER_OTLP_HEADERS. */
  headers: Record<string, string>;
  /** How long one export may take, retries included (OTEL_EXPORTER_OTLP_TIMEOUT, default 10 s). */
  timeoutMillis: number;
  /** Spans per export request (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512). */
  batchSize: number;
  /** Spans waiting at most (OTEL_BSP_MAX_QUEUE_SIZE, default 4096). */
  maxQueue: number;
  /** OTEL_SERVICE_NAME. */
  serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes: Attributes;
}

/** A configuration value is wrong; the message names it and says what is expected. */
export class OtlpConfigError extends Error {
  override readonly name = 'OtlpConfigError';
}

/** The default endpoints (a local OpenTelemetry Collector). */
const DEFAULT_HTTP = 'http://localhost:4318';
const DEFAULT_GRPC = 'http://localhost:4317';

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** `key1=value1,key2=value2` (values percent-encoded), as OTEL_EXPORTER_OTLP_HEADERS is written. */
export function parseHeaders(text: string | undefined, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const entry of text.split(',')) {
    if (!entry.trim()) continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!key) throw new OtlpConfigError(`${name}: "${entry.trim()}" is not key=value`);
    try {
      out[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new OtlpConfigError(`${name}: the value of "${key}" is not valid percent-encoding`);
    }
  }
  return out;
}

/**
 * An endpoint as it may be shown (warnings, stderr, logs): its credentials redacted as in any URL
 * of a trace (`http://REDACTED:REDACTED@host/`, `?api-key=<redacted>`: urlFull).
 */
export function shownEndpoint(url: string): string {
  return urlFull(url);
}

function checkUrl(url: string, from: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OtlpConfigError(`${from}: "${shownEndpoint(url)}" is not a URL (e.g. http://localhost:4318)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new OtlpConfigError(`${from}: "${shownEndpoint(url)}" is not an http:// or https:// URL`);
  }
  return u;
}

/** An endpoint without a path gets the signal's path (`/v1/traces`) on HTTP; one with a path is used as it is. */
function withTracesPath(url: string, from: string, protocol: OtlpProtocol): string {
  const u = checkUrl(url, from);
  if (protocol === 'grpc') return url;
  if (u.pathname !== '/' && u.pathname !== '') return url;
  // The path goes before a query or fragment (`http://host:4318?key=x` → `http://host:4318/v1/traces?key=x`).
  const rest = url.search(/[?#]/);
  const head = rest < 0 ? url : url.slice(0, rest);
  return `${head.replace(/\/+$/, '')}/v1/traces${rest < 0 ? '' : url.slice(rest)}`;
}

/**
 * Resolves the exporter's configuration. `url`: `--otlp URL` (or the setting), which wins over
 * the environment; an endpoint without a path gets `/v1/traces` (HTTP). Without one:
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT plus
 * `/v1/traces` (HTTP), else a local collector. Throws OtlpConfigError.
 */
export function resolveOtlpConfig(env: NodeJS.ProcessEnv, url?: string): OtlpConfig {
  const protoFrom = nonEmpty(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (nonEmpty(env, protoFrom) ?? 'http/protobuf') as OtlpProtocol;
  if (!OTLP_PROTOCOLS.includes(protocol)) {
    throw new OtlpConfigError(`${protoFrom}: "${protocol}" is not one of ${OTLP_PROTOCOLS.join(', ')}`);
  }
  let resolved: string;
  const traces = nonEmpty(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const generic = nonEmpty(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (url) resolved = withTracesPath(url, '--otlp', protocol);
  else if (traces) {
    checkUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
    resolved = traces;
  } else if (generic) {
    checkUrl(generic, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    resolved = protocol === 'grpc' ? generic : `${generic.replace(/\/+$/, '')}/v1/traces`;
  } else resolved = protocol === 'grpc' ? DEFAULT_GRPC : `${DEFAULT_HTTP}/v1/traces`;
  const headers = {
    ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const timeoutFrom = nonEmpty(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT')
    ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'
    : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const timeoutText = nonEmpty(env, timeoutFrom);
  const timeoutMillis = timeoutText === undefined ? 10_000 : Number(timeoutText);
  if (!Number.isFinite(timeoutMillis) || timeoutMillis <= 0) {
    throw new OtlpConfigError(`${timeoutFrom}: "${timeoutText}" is not a number of milliseconds > 0`);
  }
  const batchSize = positiveInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512);
  const maxQueue = Math.max(batchSize, positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 4096));
  return { protocol, url: resolved, headers, timeoutMillis, batchSize, maxQueue, ...resourceFromEnv(env) };
}

/** A whole number > 0 from the environment, or `fallback` when unset. Throws OtlpConfigError. */
function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = nonEmpty(env, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new OtlpConfigError(`${name}: "${text}" is not a whole number > 0`);
  return n;
}

/** OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (also for an OTLP/JSON file). Throws OtlpConfigError. */
export function resourceFromEnv(env: NodeJS.ProcessEnv): Pick<OtlpConfig, 'serviceName' | 'resourceAttributes'> {
  try {
    return { serviceName: nonEmpty(env, 'OTEL_SERVICE_NAME'), resourceAttributes: parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES) };
  } catch (err) {
    throw new OtlpConfigError((err as Error).message);
  }
}
