/**
 * The what-if commands of a request row's menu (docs/rules.md, "What-if from the panel"):
 *   - "Make Requests Like This Fail…", "Slow Requests Like This Down…": a quick pick of the
 *     failure (or the delay / throttle), then of the limit ("only the next one", "the next three",
 *     "every time"); the rule (src/rules/whatIfFromRequest.ts) is added like the other row menu
 *     rules (the workspace and every live session, ruleService.ts) and shown in the Rules view;
 *   - "Answer Requests Like This With…": the recorded response as an editable document
 *     (httpDocument.ts, in the `nettrace-what-if:` file system below); saving it makes or updates
 *     the `respond` rule;
 *   - "Send Again" / "Send Again with Changes…": the request sent again from inside the process
 *     that made it (src/collector/sendAgain.ts), optionally edited in a request document first;
 *     refused in an untrusted workspace, and told which credentials stayed at their origin.
 */

import * as vscode from 'vscode';
import { matchedNoun, validateRule, type WhatIfAction } from '../rules';
import { WHAT_IF_LIMITS, whatIfRuleFromRequest } from '../rules/whatIfFromRequest';
import type { HttpRequest } from '../trace/contract/types';
import { FAIL_WORDS } from '../trace/diagnosis/whatIfText';
import { requestTarget, type CopyContext } from './copyCommands';
import { answerDocument, originOf, parseAnswerDocument, parseRequestDocument, requestDocument, type RequestEdit } from './httpDocument';
import type { RuleService } from './ruleService';
import type { Services } from './services';
import type { TraceEntry } from './traceStore';
import { sendAgainOffReason } from './whatIfTrust';
import { columnBesidePanel } from './panel';

/** The what-if commands (package.json `contributes.commands` and the row menu). */
export const WHAT_IF_COMMANDS = {
  fail: 'nettrace.failRequestsLikeThis',
  slow: 'nettrace.slowRequestsLikeThis',
  answer: 'nettrace.answerRequestsLikeThis',
  sendAgain: 'nettrace.sendAgain',
  sendAgainEdited: 'nettrace.sendAgainWithChanges',
} as const;

/** The scheme of the editable what-if documents. */
export const WHAT_IF_SCHEME = 'nettrace-what-if';

/** One choice of a what-if quick pick: the rule's parameter and the words for its name. */
interface Choice extends vscode.QuickPickItem {
  action: WhatIfAction;
  spec?: unknown;
  words: string;
  /** Asks for the parameter (a status, a duration, a rate) first. */
  ask?: () => Promise<{ spec: unknown; words: string } | undefined>;
  /** Only for requests over TLS (https, wss): a TLS failure has no handshake to fail on a plain one. */
  tlsOnly?: true;
}

/** True for a request over TLS (an `https:` or `wss:` URL): the only ones a TLS failure can act on. */
export function overTls(url: string | undefined): boolean {
  return /^(https|wss):/i.test(url ?? '');
}

const askNumber = async (prompt: string, value: string, min: number, max: number): Promise<number | undefined> => {
  const text = await vscode.window.showInputBox({
    prompt,
    value,
    ignoreFocusOut: true,
    validateInput: (v) =>
      /^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max ? undefined : `A whole number from ${min} to ${max}`,
  });
  return text === undefined ? undefined : Number(text.trim());
};

/** The failures "Make Requests Like This Fail…" offers. */
function failChoices(): Choice[] {
  return [
    {
      label: 'Connection refused',
      description: 'ECONNREFUSED, as a closed port',
      action: 'fail',
      spec: { kind: 'refused' },
      words: FAIL_WORDS.refused!,
    },
    {
      label: 'Connection reset',
      description: 'ECONNRESET before the response',
      action: 'fail',
      spec: { kind: 'reset', at: 'before-response' },
      words: FAIL_WORDS.reset!,
    },
    {
      label: 'DNS name not found',
      description: 'ENOTFOUND, as an NXDOMAIN',
      action: 'fail',
      spec: { kind: 'dns-notfound' },
      words: FAIL_WORDS['dns-notfound']!,
    },
    {
      label: 'TLS: certificate expired',
      description: 'CERT_HAS_EXPIRED',
      action: 'fail',
      spec: { kind: 'tls', tls: 'expired' },
      words: 'certificate expired',
      tlsOnly: true,
    },
    {
      label: 'TLS: certificate for another host',
      description: 'ERR_TLS_CERT_ALTNAME_INVALID',
      action: 'fail',
      spec: { kind: 'tls', tls: 'wrong-host' },
      words: 'wrong host certificate',
      tlsOnly: true,
    },
    {
      label: 'Timeout',
      description: "no answer: the program's own timeout or abort ends it",
      action: 'fail',
      spec: { kind: 'timeout' },
      words: 'no answer',
    },
    {
      label: 'HTTP status…',
      description: 'e.g. 503 with Retry-After',
      action: 'fail',
      words: 'status',
      ask: async () => {
        const status = await askNumber('The status the server answers (e.g. 503, 429, 500)', '503', 100, 599);
        if (status === undefined) return undefined;
        const headers: Record<string, string> = status === 503 || status === 429 ? { 'Retry-After': '120' } : {};
        return { spec: { kind: 'status', status, headers, body: '' }, words: String(status) };
      },
    },
  ];
}

/** The delays and throttles "Slow Requests Like This Down…" offers. */
function slowChoices(): Choice[] {
  const delay = (phase: 'connect' | 'first-byte', label: string): Choice => ({
    label,
    action: 'delay',
    words: 'delay',
    ask: async () => {
      const ms = await askNumber(
        `How long to wait ${phase === 'connect' ? 'before the connection' : "before the response's first byte"}, in ms`,
        '2000',
        1,
        600_000,
      );
      return ms === undefined
        ? undefined
        : { spec: { phase, ms }, words: `${ms} ms ${phase === 'connect' ? 'before connecting' : 'before the first byte'}` };
    },
  });
  return [
    {
      label: 'Slow 3G',
      description: 'the response body at 50,000 bytes/s',
      action: 'throttle',
      spec: { rate: 'slow 3G' },
      words: 'slow 3G',
    },
    {
      label: 'Fast 4G',
      description: 'the response body at 1,125,000 bytes/s',
      action: 'throttle',
      spec: { rate: 'fast 4G' },
      words: 'fast 4G',
    },
    {
      label: 'Custom rate…',
      description: 'bytes per second',
      action: 'throttle',
      words: 'throttle',
      ask: async () => {
        const rate = await askNumber('The response body at most this many bytes a second', '10000', 1, 1_000_000_000);
        return rate === undefined ? undefined : { spec: { rate }, words: `${rate} B/s` };
      },
    },
    delay('first-byte', 'Delay the response…'),
    delay('connect', 'Delay the connection…'),
  ];
}

/** The problem a rule of this action and parameter has today (e.g. a kind not implemented yet), if any. */
function problemOf(action: WhatIfAction, spec: unknown): string | undefined {
  try {
    validateRule({ id: 'x', condition: 'true', action, [action]: spec });
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^rule "x": /, '');
  }
}

async function pickLimit(what: string): Promise<number | null | undefined> {
  const picked = await vscode.window.showQuickPick(
    WHAT_IF_LIMITS.map((l) => ({ label: l.label, description: l.description, limit: l.limit })),
    {
      title: `Net Trace: ${what} — how many?`,
      placeHolder: "Counted over all of the session's processes together: the rule turns itself off after that many calls",
      ignoreFocusOut: true,
    },
  );
  return picked === undefined ? undefined : picked.limit;
}

/** Adds the rule and says so (the Rules view opens on it). */
function addRule(s: Services, rules: RuleService, input: Record<string, unknown>, traceKey: string): void {
  try {
    const rule = rules.apply({ op: 'create', rule: input }, traceKey)!;
    s.panel.revealRules(rule.id);
    const live = s.traces.live().length > 0;
    const limit =
      rule.limit === null
        ? ''
        : ` for the next ${rule.limit === 1 ? 'request' : `${rule.limit} requests`}${rule.limitPer === 'session' ? " (the session's processes together; then it turns off)" : ' of each process'}`;
    const tls = matchedNoun(rule) === 'TLS request' ? ' It acts on requests over TLS (https) only.' : '';
    // When it acts comes first: VS Code cuts a notification after a line or two, and a rule's
    // name (its method and URL) is long.
    void vscode.window.showInformationMessage(
      `Net Trace: ${live ? 'acts now in the running program' : 'acts from the next session'} — ` +
        `what-if rule "${rule.name}" is on${limit}. Turn it off in the Rules view.${tls}`,
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`Net Trace: the what-if rule was not added: ${(err as Error).message}`);
  }
}

/**
 * The choices that can act on `req`: a TLS failure only for a request over TLS. Also says what was
 * left out and why (the picker's placeholder), or undefined.
 */
export function choicesFor<C extends { tlsOnly?: true }>(req: { reqURL?: string }, all: C[]): { choices: C[]; leftOut?: string } {
  if (overTls(req.reqURL) || !all.some((c) => c.tlsOnly)) return { choices: all };
  return {
    choices: all.filter((c) => !c.tlsOnly),
    leftOut: 'No TLS failures: this request is plain (no TLS handshake to fail); they are offered for https requests',
  };
}

async function pickAndAdd(s: Services, rules: RuleService, arg: CopyContext | undefined, title: string, all: Choice[]): Promise<void> {
  const t = requestTarget(s, arg);
  if (!t) return void vscode.window.showInformationMessage('Net Trace: select a request in the Net Trace panel first.');
  const { choices, leftOut } = choicesFor(t.req, all);
  for (const c of choices) {
    const problem = c.spec !== undefined ? problemOf(c.action, c.spec) : undefined;
    if (problem) c.detail = `$(circle-slash) not available yet: ${problem}`;
  }
  const picked = await vscode.window.showQuickPick(choices, {
    title: `Net Trace: ${title} — ${t.req.reqMethod} ${t.req.reqURL}`,
    ...(leftOut !== undefined ? { placeHolder: leftOut } : {}),
    matchOnDescription: true,
    // These pickers open from the panel's context menu, and the workbench gives the webview its
    // focus back when that menu closes through the webview's frames, asynchronously: under load it
    // lands after the picker opened, which would close it (seen in CI). Escape still closes them.
    ignoreFocusOut: true,
  });
  if (!picked) return;
  const made = picked.ask ? await picked.ask() : { spec: picked.spec, words: picked.words };
  if (!made) return;
  const limit = await pickLimit(title);
  if (limit === undefined) return;
  const input = whatIfRuleFromRequest(t.req, picked.action, made.spec, limit, made.words, rules.takenIds());
  if (!input) return void vscode.window.showInformationMessage(`Net Trace: no rule can be made from this request's URL (${t.req.reqURL}).`);
  addRule(s, rules, input, t.entry.key);
}

/**
 * Opens a what-if document in the editor group beside the panel (columnBesidePanel), so the panel
 * stays in view, as wide as it was, while the document is edited.
 */
async function showBeside(s: Services, uri: vscode.Uri): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: false, viewColumn: columnBesidePanel(s.panel.viewColumn) });
}

/** An open what-if document: what saving it does. */
interface OpenDoc {
  text: Uint8Array;
  save(text: string): Promise<void>;
}

/**
 * The `nettrace-what-if:` documents: in memory, one per answer or request being edited. Saving
 * one runs its `save` (a failure is shown, and the document stays dirty-free but unchanged in the rule).
 */
class WhatIfDocuments implements vscode.FileSystemProvider {
  private readonly docs = new Map<string, OpenDoc>();
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  open(path: string, text: string, save: (text: string) => Promise<void>): vscode.Uri {
    this.docs.set(path, { text: new TextEncoder().encode(text), save });
    return vscode.Uri.from({ scheme: WHAT_IF_SCHEME, path });
  }
  watch(): vscode.Disposable {
    return new vscode.Disposable(() => {});
  }
  stat(uri: vscode.Uri): vscode.FileStat {
    const d = this.docs.get(uri.path);
    if (!d) throw vscode.FileSystemError.FileNotFound(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: Date.now(), size: d.text.length };
  }
  readDirectory(): [string, vscode.FileType][] {
    return [];
  }
  createDirectory(): void {}
  readFile(uri: vscode.Uri): Uint8Array {
    const d = this.docs.get(uri.path);
    if (!d) throw vscode.FileSystemError.FileNotFound(uri);
    return d.text;
  }
  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const d = this.docs.get(uri.path);
    if (!d) throw vscode.FileSystemError.NoPermissions('Net Trace: this document is no longer open for a rule or request');
    d.text = content;
    await d.save(new TextDecoder().decode(content));
  }
  delete(uri: vscode.Uri): void {
    this.docs.delete(uri.path);
  }
  rename(): void {
    throw vscode.FileSystemError.NoPermissions('Net Trace: what-if documents cannot be renamed');
  }
}

/** "Answer Requests Like This With…": the answer document; each save makes or updates the `respond` rule. */
async function answerLikeThis(s: Services, rules: RuleService, docs: WhatIfDocuments, arg: CopyContext | undefined): Promise<void> {
  const t = requestTarget(s, arg);
  if (!t) return void vscode.window.showInformationMessage('Net Trace: select a request in the Net Trace panel first.');
  const limit = await pickLimit('Answer Requests Like This');
  if (limit === undefined) return;
  const draft = whatIfRuleFromRequest(t.req, 'respond', {}, limit, 'edited answer', rules.takenIds());
  if (!draft) return void vscode.window.showInformationMessage(`Net Trace: no rule can be made from this request's URL (${t.req.reqURL}).`);
  const id = String(draft.id);
  const traceKey = t.entry.key;
  const uri = docs.open(`/answers/${id}.http`, answerDocument(t.req, id), async (text) => {
    let spec;
    try {
      spec = parseAnswerDocument(text);
    } catch (err) {
      void vscode.window.showErrorMessage(`Net Trace: the answer was not saved: ${(err as Error).message}`);
      throw err;
    }
    const there = rules.rulesOf(traceKey).rules.some((r) => r.id === id);
    try {
      // A changed answer replaces the rule (its counters start again, as for any changed action).
      if (there) rules.apply({ op: 'delete', id }, traceKey);
      const rule = rules.apply(
        {
          op: 'create',
          rule: { ...draft, name: `${String(draft.name).replace(/\(edited answer\)$/, '')}(${spec.status})`, respond: spec },
        },
        traceKey,
      )!;
      s.panel.revealRules(rule.id, false);
      void vscode.window.showInformationMessage(`Net Trace: requests like this one now get ${spec.status} (what-if rule "${rule.name}").`);
    } catch (err) {
      void vscode.window.showErrorMessage(`Net Trace: the answer was not saved: ${(err as Error).message}`);
      throw err;
    }
  });
  await showBeside(s, uri);
}

/**
 * What the user is told when headers were left out of a request sent to another origin:
 * `Net Trace: sent again to https://b.example without Authorization, Cookie: …`.
 */
export function leftOutText(names: readonly string[], to: string, from: string): string {
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
  return (
    `Net Trace: sent again to ${originOf(to)} without ${list}: ${names.length === 1 ? 'its value is' : 'their values are'} the program's credentials for ${originOf(from)}, ` +
    'and Send Again fills them in only for the same scheme, host and port. Type a value in Send Again with Changes… to send one there.'
  );
}

/** Sends a request again and says what became of it; the panel selects the new request. */
async function sendAgainNow(s: Services, entry: TraceEntry, req: HttpRequest, edit?: RequestEdit): Promise<void> {
  const off = sendAgainOffReason();
  if (off) return void vscode.window.showWarningMessage(off);
  const session = entry.session;
  if (!session || !entry.collector) {
    void vscode.window.showWarningMessage(
      `Net Trace: "${req.reqMethod} ${req.reqURL}" cannot be sent again: the process that made it (pid ${req.pid}) has ended. Send Again sends from inside the running program.`,
    );
    return;
  }
  if (!['http', 'https', 'http2', 'fetch', 'undici'].includes(req.client)) {
    void vscode.window.showInformationMessage(
      `Net Trace: Send Again works for requests made with http/https (axios, got, node-fetch, …), fetch, undici and http2; this one was made with ${req.client}.`,
    );
    return;
  }
  let edits;
  if (edit) {
    edits = {
      method: edit.method,
      headers: edit.headers,
      ...(edit.url !== req.reqURL ? { url: edit.url } : {}),
      ...(edit.body !== undefined ? { body: edit.body } : {}),
    };
  }
  const r = await session.sendAgain.send(req.traceID, edits);
  if (!r.ok) {
    const msg = `Net Trace: "${req.reqMethod} ${req.reqURL}" was not sent again: ${r.reason}.`;
    void (r.ended ? vscode.window.showWarningMessage(msg) : vscode.window.showErrorMessage(msg));
    return;
  }
  s.log(`sent again ${req.reqMethod} ${req.reqURL} (${entry.key} ${req.traceID}${r.traceID ? ` → ${r.traceID}` : ''})`);
  if (r.leftOut && r.leftOut.length > 0) {
    const text = leftOutText(r.leftOut, edit?.url ?? req.reqURL, req.reqURL);
    s.log(text);
    void vscode.window.showWarningMessage(text);
  }
  if (r.traceID) {
    const id = r.traceID;
    // The new request's record arrives with the process's next batch.
    setTimeout(() => s.panel.select(entry.key, id), 300);
  }
}

/** Registers the what-if commands and the document file system. */
export function registerWhatIfCommands(s: Services, rules: RuleService): void {
  const docs = new WhatIfDocuments();
  const sub = s.context.subscriptions;
  sub.push(
    vscode.workspace.registerFileSystemProvider(WHAT_IF_SCHEME, docs, { isCaseSensitive: true }),
    vscode.commands.registerCommand(WHAT_IF_COMMANDS.fail, (arg?: CopyContext) =>
      pickAndAdd(s, rules, arg, 'Make Requests Like This Fail', failChoices()),
    ),
    vscode.commands.registerCommand(WHAT_IF_COMMANDS.slow, (arg?: CopyContext) =>
      pickAndAdd(s, rules, arg, 'Slow Requests Like This Down', slowChoices()),
    ),
    vscode.commands.registerCommand(WHAT_IF_COMMANDS.answer, (arg?: CopyContext) => answerLikeThis(s, rules, docs, arg)),
    vscode.commands.registerCommand(WHAT_IF_COMMANDS.sendAgain, (arg?: CopyContext) => {
      const t = requestTarget(s, arg);
      if (!t) return void vscode.window.showInformationMessage('Net Trace: select a request in the Net Trace panel first.');
      return sendAgainNow(s, t.entry, t.req);
    }),
    vscode.commands.registerCommand(WHAT_IF_COMMANDS.sendAgainEdited, async (arg?: CopyContext) => {
      const off = sendAgainOffReason();
      if (off) return void vscode.window.showWarningMessage(off);
      const t = requestTarget(s, arg);
      if (!t) return void vscode.window.showInformationMessage('Net Trace: select a request in the Net Trace panel first.');
      const uri = docs.open(`/send-again/${t.req.traceID}.http`, requestDocument(t.req), async (text) => {
        let edit: RequestEdit;
        try {
          edit = parseRequestDocument(text);
        } catch (err) {
          void vscode.window.showErrorMessage(`Net Trace: not sent: ${(err as Error).message}`);
          throw err;
        }
        await sendAgainNow(s, t.entry, t.req, edit);
      });
      await showBeside(s, uri);
    }),
  );
}
