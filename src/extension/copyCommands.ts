/**
 * "Copy URL", "Copy as cURL", "Copy as fetch (Node)", "Copy response body" and "Copy as HAR
 * entry" on a request: the panel's context menu (package.json `menus` "webview/context": each
 * list row carries `data-vscode-context` with the trace and request, which VS Code merges and
 * passes as the command's argument), and the Command Palette (the panel's selected request).
 *
 * The text comes from the trace (src/trace/formats/copyAs.ts, src/trace/formats/har.ts): a value the preload
 * redacted was never recorded, so it stays "<redacted>" in what is copied; when the copy lacks
 * something (redacted headers, a body not captured) an information message says what. No copied
 * command or JSON holds a control character raw (see copyAs.ts); the response body is copied as is.
 */

import * as vscode from 'vscode';
import { copyResponseBody, copyUrl, redactedHeaders, safeJson, toCurl, toFetch } from '../trace/formats/copyAs';
import { toHarEntry } from '../trace/formats/har';
import type { HttpRequest } from '../trace/contract/types';
import type { Services } from './services';
import type { TraceEntry } from './traceStore';

/** The copy commands (package.json `contributes.commands` and `menus`). */
export const COPY_COMMANDS = {
  url: 'nettrace.copyUrl',
  curl: 'nettrace.copyAsCurl',
  fetch: 'nettrace.copyAsFetch',
  body: 'nettrace.copyResponseBody',
  har: 'nettrace.copyAsHarEntry',
} as const;

type CopyKind = keyof typeof COPY_COMMANDS;

/** What a menu item passes: the merged `data-vscode-context` of the row (webview/list.ts). */
export interface CopyContext {
  traceKey?: unknown;
  traceID?: unknown;
}

const WHAT: Record<CopyKind, string> = {
  url: 'the URL',
  curl: 'as cURL',
  fetch: 'as fetch (Node)',
  body: 'the response body',
  har: 'as a HAR entry',
};

/** Registers the copy commands. */
export function registerCopyCommands(s: Services): void {
  for (const kind of Object.keys(COPY_COMMANDS) as CopyKind[]) {
    s.context.subscriptions.push(vscode.commands.registerCommand(COPY_COMMANDS[kind], (arg?: CopyContext) => copy(s, kind, arg)));
  }
}

/** The trace and request a copy acts on: the row's context, else the panel's selection. */
function target(s: Services, arg: CopyContext | undefined): { entry: TraceEntry; traceID: string } | undefined {
  if (arg && typeof arg.traceKey === 'string' && typeof arg.traceID === 'string') {
    const entry = s.traces.get(arg.traceKey);
    return entry ? { entry, traceID: arg.traceID } : undefined;
  }
  const key = s.panel.traceKey;
  const entry = s.traces.get(key);
  const traceID = s.panel.selectedRequest(key);
  return entry && traceID ? { entry, traceID } : undefined;
}

/** The request with its derived fields (a live session's without copying the whole trace). */
function findRequest(s: Services, entry: TraceEntry, traceID: string): HttpRequest | undefined {
  return entry.session?.request(traceID) ?? s.traces.fullTrace(entry).httpRequests.find((r) => r.traceID === traceID);
}

/** The text to copy and what it lacks; text undefined: nothing to copy. */
function textOf(s: Services, kind: CopyKind, entry: TraceEntry, req: HttpRequest): { text: string | undefined; missing: string[] } {
  switch (kind) {
    case 'url':
      return copyUrl(req);
    case 'curl':
      return toCurl(req);
    case 'fetch':
      return toFetch(req);
    case 'body':
      return copyResponseBody(req);
    case 'har': {
      const trace = s.traces.fullTrace(entry);
      const har = toHarEntry(trace, req.traceID, { slowThresholdMs: entry.session?.slowThresholdMs });
      return { text: har ? safeJson(har, 2) : undefined, missing: redactedHeaders(req) };
    }
  }
}

/**
 * The request a row menu command acts on: the row's (its merged `data-vscode-context`), else the
 * panel's selected request. Also used by the trace rule commands (ruleCommands.ts).
 */
export function requestTarget(s: Services, arg: CopyContext | undefined): { entry: TraceEntry; req: HttpRequest } | undefined {
  const t = target(s, arg);
  const req = t ? findRequest(s, t.entry, t.traceID) : undefined;
  return t && req ? { entry: t.entry, req } : undefined;
}

async function copy(s: Services, kind: CopyKind, arg: CopyContext | undefined): Promise<void> {
  const t = requestTarget(s, arg);
  const req = t?.req;
  if (!t || !req) {
    void vscode.window.showInformationMessage('Net Trace: select a request in the Net Trace panel first.');
    return;
  }
  const { text, missing } = textOf(s, kind, t.entry, req);
  if (text === undefined) {
    void vscode.window.showInformationMessage(`Net Trace: nothing copied: ${missing.join('; ')}.`);
    return;
  }
  await vscode.env.clipboard.writeText(text);
  s.log(`copied ${WHAT[kind]} of ${req.reqMethod} ${req.reqURL} (${t.entry.key} ${req.traceID})`);
  if (missing.length > 0) {
    void vscode.window.showInformationMessage(
      `Net Trace: copied ${WHAT[kind]}, but the trace lacks: ${missing.join('; ')}.${
        missing.some((m) => m.includes('redacted')) ? ' Redacted values were never recorded, so they stay redacted.' : ''
      }`,
    );
  }
}
