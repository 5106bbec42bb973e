/**
 * The panel's only handle on its host. Inside VS Code it wraps `acquireVsCodeApi()` (which may be
 * called once per page); outside (benchmarks, tests, a plain browser) it falls back to a stub
 * that keeps state in memory and exposes posted messages on `window.__nettraceStubHost`.
 */

import type { FromWebview } from '../src/protocol/webview';

/** What VS Code's `acquireVsCodeApi()` returns. */
export interface VsCodeApi<S> {
  postMessage(message: FromWebview): void;
  getState(): S | undefined;
  setState(state: S): S;
}

declare global {
  interface Window {
    /** Posted messages and state when running without VS Code (see `stubApi`). */
    __nettraceStubHost?: { posted: FromWebview[]; state: unknown };
  }
  // Provided by VS Code inside webviews (or by a test harness before the bundle runs).
  function acquireVsCodeApi<S = unknown>(): VsCodeApi<S>;
}

/** A host API for running outside VS Code: records messages, keeps state in memory. */
export function stubApi<S>(): VsCodeApi<S> {
  const host = (window.__nettraceStubHost ??= { posted: [], state: undefined });
  return {
    postMessage(message) {
      host.posted.push(message);
      window.dispatchEvent(new CustomEvent('nettrace-post', { detail: message }));
    },
    getState: () => host.state as S | undefined,
    setState(state) {
      host.state = state;
      return state;
    },
  };
}

let api: VsCodeApi<unknown> | undefined;

/** Returns the host API (acquired once). */
export function hostApi<S>(): VsCodeApi<S> {
  if (!api) api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi<unknown>() : stubApi<unknown>();
  return api as VsCodeApi<S>;
}
