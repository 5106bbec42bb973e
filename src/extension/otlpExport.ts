/** The end of a debug session with `otlp` (launch attribute or `nettrace.otlp`): its spans go to the backend. */

import { hostname } from 'node:os';
import type { Session } from '../collector/session';
import { OtlpConfigError, resolveOtlpConfig, shownEndpoint } from '../otlp/config';
import { sendTrace } from '../otlp/exportTrace';

/**
 * Sends an ended session's spans to `url` (the extension host's OTEL_* variables apply), before
 * the session is persisted so that what was lost is counted in its stats; `log` gets one line.
 */
export async function sendSessionSpans(session: Session, url: string, log: (line: string) => void): Promise<void> {
  try {
    const config = resolveOtlpConfig(process.env, url);
    // The session's URLs are already redacted with its own query names (the builder does it).
    const result = await sendTrace(session.snapshot(), config, { hostName: hostname() });
    log(`${result.delivered} of ${result.spans} OpenTelemetry spans sent to ${shownEndpoint(config.url)}`);
    if (result.warning) session.countUndeliveredSpans(result.undelivered, result.warning);
  } catch (err) {
    if (!(err instanceof OtlpConfigError)) throw err;
    session.warn(`no OpenTelemetry spans were sent: ${err.message}`);
    log(`no OpenTelemetry spans were sent: ${err.message}`);
  }
}
