/**
 * The words Net Trace uses for each phase of a request's time and each state of its connection:
 * one table, one column per place a word stands, so the CLI, the summary and `diff`, the diagnosis
 * sentences, the OpenTelemetry spans and the panel call a thing the same. Pure and free of Node
 * APIs: the panel bundles it.
 */

import type { Phase } from './timings';
import type { ConnectionState } from './labels';

/** The words for one phase of a request's time (the HAR phases: timings.ts). */
export interface PhaseWords {
  /** One word for a column or a legend: the CLI's waterfall, the summary's and `diff`'s phases ("queued", "tls"). */
  word: string;
  /** The panel's legend, Timing tab and tooltip ("Queued", "TLS handshake"). */
  label: string;
  /** What the phase is, in a sentence ("the TLS handshake took 640 ms more", "of which 640 ms TLS handshake"). */
  name: string;
  /** What the request was doing then, in a sentence ("of 480 ms waiting, the event loop was blocked for 350 ms"). */
  doing: string;
  /** The name of its OpenTelemetry child span (src/otlp/mapping.ts; a queued request has none). */
  span: string;
}

/** Each phase's words (see PhaseWords). */
export const PHASE_WORDS: Record<Phase, PhaseWords> = {
  blocked: { word: 'queued', label: 'Queued', name: 'wait for a free connection', doing: 'before the connection began', span: 'queued' },
  dns: { word: 'dns', label: 'DNS lookup', name: 'DNS lookup', doing: 'resolving the name', span: 'dns lookup' },
  connect: { word: 'connect', label: 'TCP connect', name: 'TCP connect', doing: 'connecting', span: 'tcp connect' },
  ssl: { word: 'tls', label: 'TLS handshake', name: 'TLS handshake', doing: 'in the TLS handshake', span: 'tls handshake' },
  send: { word: 'send', label: 'Request sent', name: 'request upload', doing: 'sending the request', span: 'send' },
  wait: {
    word: 'wait',
    label: 'Waiting (TTFB)',
    name: "server's first-byte wait",
    doing: 'waiting',
    span: 'wait',
  },
  receive: {
    word: 'receive',
    label: 'Content download',
    name: 'response body download',
    doing: 'receiving the body',
    span: 'receive',
  },
};

/** Short words for a connection state: the list's and the CLI's Conn column. */
export const CONNECTION_WORDS: Record<ConnectionState, string> = {
  reused: 'reused',
  new: 'new',
  failed: 'failed',
  connecting: 'opening',
};
