/**
 * The OpenTelemetry resource of a traced process (semantic conventions `service.*`, `process.*`,
 * `host.*`) and the parsing of `OTEL_RESOURCE_ATTRIBUTES`.
 */

import type { ProcessInfo } from '../trace/contract/types';
import { put, SCOPE, UNKNOWN_SERVICE, type Attributes, type OtlpResource } from './mapping';

/** What resourceFor() is given besides the process. */
export interface ResourceOptions {
  /** `OTEL_SERVICE_NAME`: wins over every other name. */
  serviceName?: string;
  /** The program's package.json `name`, found by the caller (I/O is not this module's). */
  packageName?: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, parsed; its `service.name` wins over the package's, the process attributes over it. */
  extra?: Attributes;
  /** The host the trace was taken on (`host.name`), when known. */
  hostName?: string;
}

/** The resource attributes of a traced process (semantic conventions `service.*`, `process.*`, `host.*`). */
export function resourceFor(p: ProcessInfo | undefined, pid: number, options: ResourceOptions = {}): OtlpResource {
  const a: Attributes = { ...options.extra };
  // As OpenTelemetry's SDKs rank them: OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES, then what is detected.
  const given = options.extra?.['service.name'];
  a['service.name'] = options.serviceName || (typeof given === 'string' && given) || options.packageName || UNKNOWN_SERVICE;
  a['process.pid'] = pid;
  if (p) {
    put(a, 'process.parent_pid', p.ppid);
    put(a, 'process.command', p.argv[0]);
    put(a, 'process.executable.path', p.argv[0]);
    a['process.runtime.name'] = 'nodejs';
    put(a, 'process.runtime.version', p.nodeVersion.replace(/^v/, ''));
    put(a, 'process.working_directory', p.cwd);
  }
  put(a, 'host.name', options.hostName);
  a['telemetry.sdk.name'] = 'nettrace';
  a['telemetry.sdk.language'] = 'nodejs';
  a['telemetry.sdk.version'] = SCOPE.version;
  return { attributes: a };
}

/**
 * `OTEL_RESOURCE_ATTRIBUTES` (`key1=value1,key2=value2`, values percent-encoded) as attributes.
 * Throws an Error naming the bad entry.
 */
export function parseResourceAttributes(text: string | undefined): Attributes {
  const out: Attributes = {};
  if (!text?.trim()) return out;
  for (const entry of text.split(',')) {
    if (!entry.trim()) continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!key) throw new Error(`OTEL_RESOURCE_ATTRIBUTES: "${entry}" is not key=value`);
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new Error(`OTEL_RESOURCE_ATTRIBUTES: the value of "${key}" is not valid percent-encoding`);
    }
    out[key] = value;
  }
  return out;
}
