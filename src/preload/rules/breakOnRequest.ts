/**
 * The `break` action of the trace rules (docs/rules.md, "break"): under a debugger, a request a
 * break rule acts on pauses the program synchronously in the hook that saw it start, before the
 * request leaves. The pause is a `debugger;` statement in a small script compiled here, whose
 * name (script URL and function name) reads `Net Trace: paused on GET https://host/path (rule
 * 'orders')` and whose parameters (method, url, rule, condition, client, hint) show in the
 * debugger's Variables view. The frames under it are the preload's and Node's; the extension adds
 * the preload bundle to js-debug's `skipFiles` (launchConfig.ts), so the program's own line is
 * the first frame not deemphasized.
 *
 * With no debugger this does nothing: no script is compiled, the request goes on, and the rule's
 * `acted` count is given back (releaseBreak), so a limit counts pauses. A failure turns the break
 * action off in this thread with one warning; nothing ever throws into the program.
 */

import type { RequestStartView, StartDecision } from '../../rules';
import { releaseBreak } from './preloadRules';
import { redactedQueryNames, type SecretNames } from '../../trace/contract/redact';
import { redactUrl } from '../../trace/contract/redactUrl';
import { FLUSH_NOW_SYMBOL } from '../../protocol/preload';
import type { Tracer } from '../tracer';

/** What the pause needs to say about a request. */
interface PauseText {
  method: string;
  url: string;
  ruleName: string;
  ruleId: string;
  condition: string;
  client: string;
}

/** The function a pause calls: its body is the `debugger;` statement. */
type PauseFn = (method: string, url: string, rule: string, condition: string, client: string, hint: string) => void;

/** Most pause scripts kept (one per distinct label); past it, one generic script serves all. */
export const MAX_PAUSE_SCRIPTS = 64;
/** The longest URL written into a label (the full one is in the `url` variable). */
const MAX_LABEL_URL = 160;
const HINT =
  'Net Trace paused this request before it is sent: continue (F5) to send it. The line of your program that made it is further down the call stack.';

/** Off after a failure (compiling or calling the pause script): one warning, then nothing. */
let disabled = false;
const scripts = new Map<string, PauseFn>();
let generic: PauseFn | undefined;
let redactNames: SecretNames | undefined;
/** node:inspector's url(), or null when this Node has no inspector; undefined before the first look. */
let inspectorUrl: (() => string | undefined) | null | undefined;
let inWorker: boolean | undefined;

/**
 * Pauses in the debugger for a decision that names a break rule, if a debugger can be attached to
 * this thread; else gives the rule's `acted` count back. Call synchronously in the hook where the
 * request starts (the program's frame is then a few frames down). Never throws.
 */
export function breakOnRequest(t: Tracer, d: StartDecision, view: RequestStartView): void {
  const rule = d.breakRule;
  if (rule === null) return;
  try {
    if (disabled || !debuggerMayListen()) {
      releaseBreak(d);
      return;
    }
    const text: PauseText = {
      method: String(view.method).toUpperCase(),
      url: safeUrl(view),
      ruleName: rule.name || rule.id,
      ruleId: rule.id,
      condition: rule.condition,
      client: String(view.client),
    };
    const fn = pauseFunction(text);
    flushBeforePause();
    fn(
      text.method,
      text.url,
      text.ruleName === text.ruleId ? text.ruleId : `${text.ruleName} (${text.ruleId})`,
      text.condition,
      text.client,
      HINT,
    );
  } catch (err) {
    disabled = true;
    try {
      releaseBreak(d);
      t.warn(`nettrace: the break action is off in pid ${process.pid}: ${String((err as Error)?.message ?? err)}`);
    } catch {
      // The transport never throws.
    }
  }
}

/** How many pause scripts were compiled in this thread (for tests: bounded by MAX_PAUSE_SCRIPTS + 1). */
export function pauseScriptCount(): number {
  return scripts.size + (generic === undefined ? 0 : 1);
}

/**
 * True when a debugger can be listening to this thread: the inspector is open (`node:inspector`
 * url() is set by `--inspect*`, by inspector.open(), and by js-debug's bootloader, which opens it
 * in every process it debugs). In a worker thread url() is always undefined (Node opens no server
 * for a worker; a debugger reaches it through its parent's session), so there a debugger is assumed
 * when the process was started for one (an --inspect flag, or js-debug's VSCODE_INSPECTOR_OPTIONS).
 */
function debuggerMayListen(): boolean {
  if (inspectorUrl === undefined) {
    try {
      const inspector = require('node:inspector') as typeof import('node:inspector');
      inspectorUrl = typeof inspector.url === 'function' ? inspector.url : null;
    } catch {
      // Node built without the inspector: no debugger can attach.
      inspectorUrl = null;
    }
    try {
      inWorker = !(require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread;
    } catch {
      inWorker = false;
    }
  }
  if (inspectorUrl === null) return false;
  if (inspectorUrl() !== undefined) return true;
  return (
    inWorker === true && (process.env.VSCODE_INSPECTOR_OPTIONS !== undefined || process.execArgv.some((a) => a.startsWith('--inspect')))
  );
}

/** The request's URL with credentials taken out: userinfo dropped, secret query values redacted. */
export function safeUrl(view: RequestStartView): string {
  let url = view.url;
  if (url === undefined) {
    const host = view.host.includes(':') ? `[${view.host}]` : view.host;
    const dflt = view.scheme === 'https' || view.scheme === 'wss' ? 443 : 80;
    url = `${view.scheme}://${host}${view.port === dflt ? '' : `:${view.port}`}${view.target}`;
  }
  const scheme = url.indexOf('://');
  if (scheme > 0) {
    const authEnd = url.slice(scheme + 3).search(/[/?#]/);
    const authority = authEnd === -1 ? url.slice(scheme + 3) : url.slice(scheme + 3, scheme + 3 + authEnd);
    const at = authority.lastIndexOf('@');
    if (at !== -1) url = url.slice(0, scheme + 3) + authority.slice(at + 1) + url.slice(scheme + 3 + authority.length);
  }
  redactNames ??= redactedQueryNames();
  return redactUrl(url, redactNames);
}

/** The label a pause shows: `Net Trace: paused on GET https://host/path (rule 'orders')`. */
export function pauseLabel(method: string, url: string, ruleName: string): string {
  const shown = url.length > MAX_LABEL_URL ? `${url.slice(0, MAX_LABEL_URL - 1)}…` : url;
  // One line: a label is a script URL and a function name.
  return `Net Trace: paused on ${method} ${shown} (rule '${ruleName}')`.replace(/[\u0000-\u001f\u2028\u2029]/g, ' ');
}

/** The pause function for a request: compiled once per label, at most MAX_PAUSE_SCRIPTS of them. */
function pauseFunction(text: PauseText): PauseFn {
  const label = pauseLabel(text.method, text.url, text.ruleName);
  let fn = scripts.get(label);
  if (fn !== undefined) return fn;
  if (scripts.size >= MAX_PAUSE_SCRIPTS) {
    // Each script stays in the debugger's list of sources: past the cap, one for every request.
    generic ??= compile('Net Trace: paused on a request (see the url and rule variables)');
    return generic;
  }
  fn = compile(label);
  scripts.set(label, fn);
  return fn;
}

/**
 * Compiles the pause script named `label`. Its one function is the value of an object property
 * named by the label (a string literal), so V8 gives the function that name: the debugger's call
 * stack shows the label as the top frame's name, and the script's URL is the label too (its
 * slashes written as ∕).
 */
function compile(label: string): PauseFn {
  const vm = require('node:vm') as typeof import('node:vm');
  const key = JSON.stringify(label);
  const source = [
    `// ${label}`,
    '// A Net Trace `break` rule matched a request that is about to be sent. Nothing has left yet.',
    "// Continue (F5) to send it as normal. Your program's line that made it is further down the",
    "// call stack (the frames between are Net Trace's and Node's; js-debug skips them).",
    `({ ${key}: function (method, url, rule, condition, client, hint) {`,
    '  debugger; // Net Trace: continue to send the request',
    `} })[${key}]`,
    '',
  ].join('\n');
  // The debugger titles a script's tab with its URL's last `/` segment: with every `/` of the label
  // written as U+2215 (∕) in the file name, the tab reads the whole label, not a tail of the URL.
  const fn = new vm.Script(source, { filename: label.replace(/\//g, '\u2215') }).runInThisContext() as unknown;
  if (typeof fn !== 'function') throw new Error('the pause script did not compile to a function');
  return fn as PauseFn;
}

/**
 * Sends what the preload holds before the program stops: while paused its flush timer cannot run
 * (the same entry point the extension evaluates on any pause, src/extension/pauseFlush.ts).
 */
function flushBeforePause(): void {
  try {
    const flush = (globalThis as Record<symbol, unknown>)[Symbol.for(FLUSH_NOW_SYMBOL)];
    if (typeof flush === 'function') flush();
  } catch {
    // Not flushed: the records leave after the pause.
  }
}
