/**
 * What a consent prompt shows of a what-if rule a repository ships (docs/security.md, "What a
 * consent prompt shows"): the launch configuration's prompt and the workspace settings' warning
 * (src/extension/launchWhatIf.ts, settingsGuard.ts) name each rule with its whole effect — the
 * status, every header, the body's size or the file it is read from, the delay or rate, how many
 * requests — and their first line calls out, in plain words, what could take the program's data
 * elsewhere or read the user's files: a `Location` to another host than the one the rule's
 * condition requires (a program that follows it sends its request there), and a `bodyFile` read
 * from disk. Pure and vscode-free (test/unit/whatIfConsent.test.mjs). Text from the rule is user
 * input from a file someone else wrote: controls, bidi and invisible characters are shown escaped,
 * long values cut, and a host is shown as the URL parser reads it (punycode for a look-alike).
 */
import { parseCondition } from './condition';
import { requiredHosts } from './compile';
import { validateRule, type Rule } from './rule';
import { describeWhatIf, isWhatIf, rateOf, type WhatIfAction } from './whatIfActions';

/** Characters shown escaped: C0 and C1 controls, DEL, bidi controls and marks, zero-width and invisible characters. */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** A value from the rule as the prompt shows it: hidden characters escaped (`\u202e`), at most `max` characters. */
export function plainText(value: unknown, max = 200): string {
  const s = String(value).replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A host that cannot be a request's: what a Location read against it resolves to when it names none. */
const NO_HOST = 'request.nettrace.invalid';

/**
 * Where a `Location` value sends the program: its host as the URL parser reads it (lower case,
 * punycode; with the port when it names one) and its hostname, or undefined when it stays on the
 * request's own origin (`/path`, `?q`, `page`). A scheme-relative value (`//evil.example`, and
 * `/\evil.example`, which URL parsers read alike) names a host.
 */
export function locationHost(location: string): { host: string; hostname: string } | undefined {
  try {
    const u = new URL(location, `http://${NO_HOST}/`);
    if (u.hostname === NO_HOST) return undefined;
    return u.host === '' ? { host: plainText(location, 80), hostname: '' } : { host: u.host, hostname: u.hostname };
  } catch {
    return undefined;
  }
}

/** The hosts a rule's condition requires of a request (lower case), or null: any host. */
function hostsOf(condition: string): string[] | null {
  try {
    return requiredHosts(parseCondition(condition));
  } catch {
    return null;
  }
}

const FAIL_EFFECT: Readonly<Record<string, string>> = {
  refused: 'the request fails: connection refused (ECONNREFUSED); the server is not contacted',
  'dns-notfound': 'the request fails: host name not found (ENOTFOUND); the server is not contacted',
  timeout: "the server never answers: the request hangs until the program's own timeout or abort",
};

/** A status in words: a redirect says what a client that follows it does. */
function statusWords(status: number): string {
  if (status === 307 || status === 308) return `status ${status} (a redirect that keeps the method and body)`;
  if (status >= 300 && status < 400) return `status ${status} (a redirect)`;
  return `status ${status}`;
}

function bytes(text: string): string {
  const n = new TextEncoder().encode(text).length;
  return `${n.toLocaleString('en-US')} byte${n === 1 ? '' : 's'}`;
}

/** The headers of an answer in words, every one (a removed one as "removed"). */
function headerWords(headers: Record<string, string | null> | undefined): string | undefined {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return undefined;
  return `headers ${entries.map(([n, v]) => (v === null ? `${plainText(n, 80)} removed` : `${plainText(n, 80)}: ${plainText(v)}`)).join(', ')}`;
}

/** An answer (respond, fail status, override) in words: status, headers, body or file. */
function answerWords(a: {
  status?: number;
  headers?: Record<string, string | null>;
  body?: string;
  bodyFile?: string;
  replaces?: boolean;
}): string {
  const parts: string[] = [];
  if (a.status !== undefined) parts.push(statusWords(a.status));
  const h = headerWords(a.headers);
  if (h) parts.push(h);
  if (a.bodyFile !== undefined)
    parts.push(`the body read from the file "${plainText(a.bodyFile)}" on disk (relative paths from the program's working directory)`);
  else if (a.body !== undefined) parts.push(`${a.replaces ? 'the body replaced by ' : 'a body of '}${bytes(a.body)}`);
  else if (!a.replaces) parts.push('no body');
  return parts.join(', ');
}

/** What a valid what-if rule does, in words (no limit, no callouts). */
function effectOf(r: Rule): string {
  const action = r.action as WhatIfAction;
  switch (action) {
    case 'fail': {
      const f = r.fail!;
      if (f.kind === 'reset')
        return f.at === 'mid-body'
          ? `the connection is reset after ${f.afterBytes ?? 0} bytes of the response body (ECONNRESET)`
          : 'the connection is reset before the response (ECONNRESET)';
      if (f.kind === 'tls')
        return `the request fails: the server's certificate is ${f.tls === 'expired' ? 'expired (CERT_HAS_EXPIRED)' : 'for another host (ERR_TLS_CERT_ALTNAME_INVALID)'}`;
      if (f.kind === 'status') return `answers in the server's place, which is not contacted: ${answerWords(f)}`;
      return FAIL_EFFECT[f.kind] ?? `the request fails (${f.kind})`;
    }
    case 'delay': {
      const d = r.delay!;
      const wait = d.maxMs !== undefined ? `between ${d.ms} and ${d.maxMs} ms` : `${d.ms} ms`;
      return `waits ${wait} ${d.phase === 'connect' ? 'before connecting' : "before the response's first byte"}`;
    }
    case 'throttle':
      return `gives the response body at most ${rateOf(r.throttle!).toLocaleString('en-US')} bytes a second`;
    case 'respond':
      return `answers in the server's place, which is not contacted: ${answerWords(r.respond!)}`;
    default:
      return `changes the server's real answer: ${answerWords({ ...r.override!, replaces: true })}`;
  }
}

/** The answer a rule gives or changes (status, headers, body file), if any. */
function answerOf(r: Rule): { status?: number; headers?: Record<string, string | null>; bodyFile?: string } | undefined {
  if (r.action === 'respond') return r.respond;
  if (r.action === 'override') return r.override;
  if (r.action === 'fail' && r.fail?.kind === 'status') return r.fail;
  return undefined;
}

/**
 * What the first line of a prompt must call out for one rule: a `Location` to another host than
 * the one its condition requires (any host, when it requires none), a file read from disk.
 */
export function whatIfCallouts(rule: unknown): string[] {
  let r: Rule;
  try {
    r = validateRule(rule);
  } catch {
    return [];
  }
  const a = answerOf(r);
  if (a === undefined) return [];
  const out: string[] = [];
  const id = `rule "${plainText(r.id, 80)}"`;
  const location = Object.entries(a.headers ?? {}).find(([n]) => n.toLowerCase() === 'location')?.[1];
  const to = typeof location === 'string' ? locationHost(location) : undefined;
  const hosts = hostsOf(r.condition);
  if (to !== undefined && !(hosts !== null && hosts.length > 0 && hosts.every((h) => h === to.hostname))) {
    const status = a.status;
    const host = to.host;
    out.push(
      status === 307 || status === 308
        ? `${id} redirects to another host, ${host}: a program that follows it sends the same request there, its body (a password, a token) included`
        : status !== undefined && status >= 300 && status < 400
          ? `${id} redirects to another host, ${host}: a program that follows it sends its next request there`
          : `${id} answers with a Location to another host, ${host}`,
    );
  }
  if (a.bodyFile !== undefined)
    out.push(`${id} reads the file "${plainText(a.bodyFile)}" from disk and gives it to the program as a response body`);
  return out;
}

/**
 * One rule in words, as a prompt lists it: `"login": respond 307 when path == "/login" — answers
 * in the server's place, which is not contacted: status 307 (a redirect that keeps the method and
 * body), headers Location: https://evil.example/c, no body; every matching request (no limit)`.
 * The part before " — " is the rule's id, action and condition; a rule that is not valid is shown
 * by its id, action and condition, and says so (the session refuses it).
 */
export function whatIfRuleWords(rule: unknown): string {
  const raw = (rule !== null && typeof rule === 'object' ? rule : {}) as Record<string, unknown>;
  let r: Rule;
  try {
    r = validateRule(rule);
  } catch (err) {
    return `"${plainText(raw.id, 80)}": ${plainText(raw.action, 40)} when ${plainText(raw.condition)} — not a valid rule (${plainText((err as Error).message)}): the session refuses it`;
  }
  if (!isWhatIf(r.action)) return `"${plainText(r.id, 80)}": ${r.action} when ${plainText(r.condition)}`;
  const limit =
    r.limit === null
      ? 'every matching request (no limit)'
      : `the first ${r.limit === 1 ? 'matching request' : `${r.limit} matching requests`} ${r.limitPer === 'session' ? "of the session's processes together" : 'of each process'}`;
  return `"${plainText(r.id, 80)}": ${plainText(describeWhatIf(r.action, r), 80)} when ${plainText(r.condition)} — ${effectOf(r)}; ${limit}`;
}

/**
 * The first line of a prompt about `rules`: `${where} a what-if rule that changes what the program
 * receives (failures, delays, answers in the server's place)`, then — when any rule sends the
 * program elsewhere or reads a file — `. Look before allowing: rule "login" redirects to another
 * host, …`. `where`: "this launch configuration has", "this workspace's settings (nettrace.rules) hold".
 */
export function whatIfConsentLine(where: string, rules: readonly unknown[]): string {
  const n = rules.length;
  const callouts = rules.flatMap(whatIfCallouts);
  return (
    `${where} ${n === 1 ? 'a what-if rule' : `${n} what-if rules`} that change${n === 1 ? 's' : ''} what the program receives (failures, delays, answers in the server's place)` +
    (callouts.length > 0 ? `. Look before allowing: ${callouts.join('; ')}` : '')
  );
}
