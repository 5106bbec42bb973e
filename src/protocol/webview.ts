/**
 * Messages between the extension host and the Net Trace panel (webview/).
 *
 * Transport: `webview.postMessage(msg)` (host → panel) and `acquireVsCodeApi().postMessage(msg)`
 * (panel → host). Every message is plain JSON with a `type` discriminant; records are the trace
 * model types of src/trace/contract/types.ts, unchanged (field names are the contract of docs/trace-format.md).
 *
 * Conversation:
 *   1. The panel loads, restores its own UI state, and posts `ready` (with the trace it showed
 *      before a reload, if any). It renders nothing data-related until the host answers.
 *   2. The host posts `traces` (what can be shown), then `reset` with a full snapshot of one trace.
 *   3. While that trace is live, the host streams `append` (new requests and the dials/tcpConns/
 *      tlsTunnels they reference, with the dnsQueries/udpConns of those dials) and `update`
 *      (records that changed, e.g. a response finished).
 *      Batch them: one message per ~50–100 ms, not one per record.
 *   4. The user picks another trace (`selectTrace`), clicks a stack frame (`openInitiator`),
 *      selects a request (`selected`), or runs a toolbar `command`; an editor hover link asks the
 *      panel to reveal a request with `select`.
 *   5. Trace rules (docs/rules.md): the host sends `rules` after each `reset` and when the rules or
 *      their counters change; the Rules view asks for changes with `ruleEdit`, answered by
 *      `ruleResult`. Requests a rule drops at their end leave the panel through `update.removed`.
 *
 * A trace in the `traces` list is named by its `traceKey`, which is unrelated to the `traceID`s
 * of the records inside it. Messages that carry a `traceKey` different from the trace the panel
 * currently shows are ignored by the panel (they are stale after a `selectTrace`).
 */

import type { DebuggerPause, Dial, HttpRequest, TcpConn, TlsTunnel, TraceStats, UdpConn } from '../trace/contract/types';
import type { DnsQuery } from '../trace/contract/dnsMessages';
import type { IncomingRequest } from '../trace/contract/incoming';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** Where an entry of the trace list comes from (used to group the trace selector). */
export type TraceOrigin = 'current' | 'earlier' | 'file';

/** One trace the panel can show. */
export interface TraceListItem {
  /** Identifies the trace in later messages (not a record traceID). */
  traceKey: string;
  /** Human label, e.g. "node app.js — 10:17:45" or a file name. */
  label: string;
  /** The current debug session's trace, earlier sessions, or a trace file the user opened. */
  origin: TraceOrigin;
  /** True while the trace is still being recorded (the panel expects `append`/`update`). */
  live: boolean;
  /** Optional secondary text (e.g. the file path or "42 requests"). */
  detail?: string;
  /** A finished or opened trace: whether it holds what a replay needs (recorded with `record`); absent when not known yet (a saved run not read). */
  recorded?: boolean;
}

/**
 * The records of a trace the panel needs: every request plus the dials, TCP connections and TLS
 * tunnels that requests reference (by `dial`, `tcpConn`, `tlsTunnel`, `proxy.tunnel`), the TLS
 * tunnels to a proxy on those connections (`forProxy`), and the DNS message records of those
 * dials (`dnsQueries` by `fromDial`, with the `udpConns`/`tcpConns` they went over). The DNS
 * kinds are optional: a host that does not send them leaves the DNS tab with the lookups only.
 */
export interface TraceSnapshot {
  description: string;
  /** ISO-8601 wall-clock start; every `...At` number is milliseconds since this. */
  traceBeginAt: string;
  traceEndAt?: number;
  httpRequests: HttpRequest[];
  dials: Dial[];
  tcpConns: TcpConn[];
  tlsTunnels: TlsTunnel[];
  udpConns?: UdpConn[];
  dnsQueries?: DnsQuery[];
  /** Requests the traced programs served (the outgoing requests' `causedBy`). */
  incomingRequests?: IncomingRequest[];
  /** When the program was stopped in the debugger (the waterfall collapses these spans). */
  debuggerPauses?: DebuggerPause[];
  stats?: TraceStats;
  /** The session's slow-request threshold in ms (the filter's `is:slow`); absent: 1000. */
  slowThresholdMs?: number;
}

/** A batch of records for `append`/`update`; each record replaces the one with its traceID. */
export interface RecordBatch {
  httpRequests?: HttpRequest[];
  dials?: Dial[];
  tcpConns?: TcpConn[];
  tlsTunnels?: TlsTunnel[];
  udpConns?: UdpConn[];
  dnsQueries?: DnsQuery[];
  incomingRequests?: IncomingRequest[];
  /**
   * Not a record kind: the trace's whole `debuggerPauses` list, sent when it changed (a `stopped`
   * or `continued` of the debug session); it replaces the panel's.
   */
  debuggerPauses?: DebuggerPause[];
}

/** The colour theme kind; mirrors VS Code's `ColorThemeKind`. */
export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

/** A trace rule's action (src/rules RuleAction; the protocol layer does not import src/rules). */
export type RuleActionName = 'trace' | 'skip' | 'details' | 'break' | 'mark' | 'fail' | 'delay' | 'throttle' | 'respond' | 'override';

/** What a `details` rule captures (src/rules DetailKind). */
export type RuleDetailName = 'bodies' | 'sockTrace' | 'dnsTrace';

/**
 * Where a rule shown in the Rules view comes from: `workspace` (added from the panel, a row's
 * menu or the Command Palette: kept in the workspace and given to every next session),
 * `launch` (launch.json's `rules` or the `nettrace.rules` setting: an edit lasts for this session),
 * `saved` (the rule set saved in a trace that is not recording: read only).
 */
export type RuleOrigin = 'workspace' | 'launch' | 'saved';

/** One trace rule as the Rules view shows it, with its counters (added up over the session's processes). */
export interface RuleRow {
  id: string;
  name: string;
  condition: string;
  action: RuleActionName;
  limit: number | null;
  /** `"session"`: `limit` counts over all of the session's processes together (absent: per process). */
  limitPer?: 'session';
  enabled: boolean;
  tag?: string;
  details?: RuleDetailName[];
  /** `fail` (what-if): how the requests fail (docs/rules.md "What-if actions"). */
  fail?: { kind: 'refused' | 'reset' | 'dns-notfound' | 'tls' | 'timeout' | 'status' };
  matched: number;
  acted: number;
  /** It reached its limit in at least one process or thread (per session: all of them together). */
  limitReached: boolean;
  origin: RuleOrigin;
}

/** A rule as the Rules view's form sends it (validated by the host: src/rules validateRule). */
export interface RuleDraft {
  id?: string;
  name?: string;
  condition: string;
  action: RuleActionName;
  limit?: number | null;
  enabled?: boolean;
  tag?: string;
  details?: RuleDetailName[];
}

/** Why a rule was refused: the property at fault and, for a condition, where (src/rules errors). */
export interface RuleProblem {
  message: string;
  /** The property at fault (`condition`, `limit`, `id`, …). */
  field: string;
  /** Condition errors: the problem alone, its 0-based offset and 1-based column, and the caret excerpt. */
  reason?: string;
  offset?: number;
  column?: number;
  excerpt?: string;
}

/** The toolbar commands the panel can ask the host to run. */
export type PanelCommand = 'save' | 'exportHar' | 'savePcap' | 'openTrace' | 'clear' | 'compareWith' | 'replayRun' | 'recordNext';

// ---------------------------------------------------------------------------------------------
// Extension → webview
// ---------------------------------------------------------------------------------------------

/** The list of traces available for the trace selector (sent whenever it changes). */
export interface TracesMessage {
  type: 'traces';
  traces: TraceListItem[];
  /** The trace the host is about to show (its `reset` follows); defaults to the panel's current. */
  activeTraceKey?: string;
  /** Why the last Node debug session was not traced (nettrace.traceNodeSessions), for the empty state; none once one was. */
  notTraced?: string;
  /** Why what-if rules are off in this window (an untrusted workspace): the panel's banner says it (webview/whatIfBanner.ts). */
  whatIfOff?: string;
  /** The toolbar's "Record the next run for replay" is on: each launch started records what a replay needs (docs/replay.md). */
  recordNext?: boolean;
}

/**
 * Replace everything the panel shows with a full snapshot of one trace. Exactly one of `trace` and
 * `traceJson` is set. Prefer `traceJson` (`JSON.stringify(snapshot)`) beyond a few hundred
 * requests: VS Code JSON-encodes a message from the extension host, decodes it in the workbench,
 * then structured-clones the object graph into the webview's outer and inner frames; a string
 * crosses those hops as one flat copy and the panel parses it once (10,000 requests ≈ 18 MB:
 * ~100 ms to parse versus ~150–300 ms per clone of the objects).
 */
export interface ResetMessage {
  type: 'reset';
  traceKey: string;
  /** Whether more records will stream in (same as the list item's `live`). */
  live: boolean;
  trace?: TraceSnapshot;
  /** The snapshot as a JSON string (see above). */
  traceJson?: string;
}

/** New requests (and the records they reference) of a live trace. */
export interface AppendMessage extends RecordBatch {
  type: 'append';
  traceKey: string;
  /** The trace's current end time (ms since traceBeginAt), to extend the waterfall axis. */
  traceEndAt?: number;
}

/** Records of the shown trace that changed (e.g. response arrived); each replaces its old version. */
export interface UpdateMessage extends RecordBatch {
  type: 'update';
  traceKey: string;
  traceEndAt?: number;
  /** Set when recording stopped (the session ended): the panel leaves live mode. */
  live?: boolean;
  stats?: TraceStats;
  /**
   * Requests no longer in the trace (their traceIDs): a trace rule decided at their end not to
   * keep them (docs/rules.md, "what is kept"). The panel removes their rows.
   */
  removed?: string[];
}

/** Select and reveal a request, e.g. from an editor hover link. */
export interface SelectMessage {
  type: 'select';
  /** Record traceID of an `httpRequests` entry. */
  traceID: string;
  /** The trace holding it; if it is not the shown one, the host must send its `reset` first. */
  traceKey?: string;
  /** Open the detail view (default true). */
  openDetail?: boolean;
}

/** The colour theme changed. Optional: the panel also follows VS Code's body classes by itself. */
export interface ThemeMessage {
  type: 'theme';
  kind: ThemeKind;
}

/**
 * The trace rules for the Rules view, sent after each `reset` and whenever they or their counters
 * change. For a trace that is recording, the session's rules (editable: each change goes to every
 * process of the session at once); otherwise the workspace's rules (editable: they apply from the
 * next session) and, read only, the rules saved in the shown trace.
 */
export interface RulesMessage {
  type: 'rules';
  /** The trace these rules are for (the shown one), if any. */
  traceKey?: string;
  /** `session`: the rows are the live session's; `workspace`: the workspace's, for the next session. */
  scope: 'session' | 'workspace';
  defaultAction: 'trace' | 'skip';
  rules: RuleRow[];
  /** Not recording: the rules saved in the shown trace (`traceRules`), read only. */
  saved?: RuleRow[];
  /** Open the Rules view and show this rule (just added from a row's menu or the palette). */
  reveal?: string;
  /**
   * How to show the `reveal` rule: `open` the Rules view on it (asked for: "Show Rules", "Show in
   * the Rules View"; the default), or, for a rule just made, only a `line` above the list naming it
   * when the panel has no room for the view beside the list and the detail (webview/rulesLine.ts).
   */
  revealAs?: 'open' | 'line';
}

/** The answer to a `ruleEdit`: done, or refused with the problem (nothing changed then). */
export interface RuleResultMessage {
  type: 'ruleResult';
  requestId: number;
  ok: boolean;
  problem?: RuleProblem;
  /** The id of the rule created or changed. */
  id?: string;
}

/** One route of a comparison ("Compare With…"), as `nettrace diff` judges it (src/trace/derive/compare.ts). */
export interface CompareRoute {
  label: string;
  countA: number;
  countB: number;
  /** p95 of the total in the baseline and in the shown trace, ms. */
  p95A?: number;
  p95B?: number;
  notable: boolean;
  tooFew: boolean;
  /** Where the time moved and why, for a notable change. */
  sentence?: string;
  /** The route's host in the baseline when its origin was paired with the shown trace's by their routes (`paired`). */
  pairedFrom?: string;
}

/** The shown trace compared with a baseline (another session or a file): the routes, notable first. */
export interface CompareMessage {
  type: 'compare';
  traceKey: string;
  /** The baseline's name (a session's label, a file's name). */
  baseline: string;
  routes: CompareRoute[];
  added: { label: string; count: number }[];
  gone: { label: string; count: number }[];
  /**
   * Origins of the baseline (`a`) and of the shown trace (`b`) on one host and different ports
   * taken as one service because their routes match (`common` routes in both): a server on a
   * random port in each run. Their routes are compared as one's.
   */
  paired?: { a: string; b: string; common: number }[];
  /** Requests on routes past the summary's cap (src/trace/derive/summary.ts MAX_ROUTES) in the baseline and the shown trace: not compared. */
  otherRoutes?: { a: number; b: number };
}

/** Every message the host sends to the panel. */
export type ToWebview =
  | TracesMessage
  | ResetMessage
  | AppendMessage
  | UpdateMessage
  | SelectMessage
  | ThemeMessage
  | RulesMessage
  | RuleResultMessage
  | CompareMessage;

// ---------------------------------------------------------------------------------------------
// Webview → extension
// ---------------------------------------------------------------------------------------------

/** The panel has loaded and listens; the host answers with `traces` then `reset`. */
export interface ReadyMessage {
  type: 'ready';
  /** The trace the panel showed before it was reloaded (from its saved state), if any. */
  traceKey?: string;
}

/** The user picked a trace in the selector; the host answers with `reset`. */
export interface SelectTraceMessage {
  type: 'selectTrace';
  traceKey: string;
}

/** Open a source location of a request's initiator in an editor (1-based line and column). */
export interface OpenInitiatorMessage {
  type: 'openInitiator';
  file: string;
  line: number;
  column: number;
}

/** The user selected a request (the host may highlight its initiator line). */
export interface SelectedMessage {
  type: 'selected';
  traceKey: string;
  /** Record traceID of the request, or null when the selection was cleared. */
  traceID: string | null;
}

/** Run a toolbar command on the shown trace. */
export interface CommandMessage {
  type: 'command';
  command: PanelCommand;
  traceKey?: string;
}

/**
 * The panel's UI state that outlives the panel (filter text and toggles, sort, columns, detail
 * layout): the host keeps it per workspace and hands it to the next panel of this workspace in
 * its HTML shell (`data-state` on `#app`). Sent when it changed; never the trace or selection.
 */
export interface SaveStateMessage {
  type: 'saveState';
  state: Record<string, unknown>;
}

/**
 * A change the Rules view asks for; the host answers with `ruleResult` (and, when it was made, a
 * new `rules`). `scope` is the one of the `rules` message the view shows.
 */
export interface RuleEditMessage {
  type: 'ruleEdit';
  requestId: number;
  traceKey?: string;
  scope: 'session' | 'workspace';
  op: 'create' | 'update' | 'setEnabled' | 'delete' | 'move';
  /** The rule changed (update, setEnabled, delete, move). */
  id?: string;
  /** create: the new rule; update: its new properties (the id stays). */
  rule?: RuleDraft;
  enabled?: boolean;
  /** move: the new position. */
  index?: number;
}

/** Every message the panel sends to the host. */
export type FromWebview =
  ReadyMessage | SelectTraceMessage | OpenInitiatorMessage | SelectedMessage | CommandMessage | SaveStateMessage | RuleEditMessage;

/** Type guard for messages arriving in the panel (window `message` events may carry anything). */
export function isToWebview(data: unknown): data is ToWebview {
  if (typeof data !== 'object' || data === null) return false;
  const t = (data as { type?: unknown }).type;
  return (
    t === 'traces' ||
    t === 'reset' ||
    t === 'append' ||
    t === 'update' ||
    t === 'select' ||
    t === 'theme' ||
    t === 'rules' ||
    t === 'ruleResult' ||
    t === 'compare'
  );
}
