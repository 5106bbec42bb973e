/**
 * The tracing options' table: names, kinds, defaults, valid values, CLI flags and descriptions, in
 * the order of `--help`, the settings and the README tables (see options.ts for who reads it).
 */

import { DEFAULTS, HEADER_MODES, HELPER_MODES, INITIATOR_MODES, RULE_DEFAULT_ACTIONS, type OptionDef } from './optionBase';
import { replayOptions } from './replayOptions';

/**
 * The redaction defaults as the descriptions name them (src/trace/contract/redact.ts has the lists, and
 * docs/trace-format.md#redaction all of them; test/unit/redactUrl.test.mjs checks both).
 */
const PATTERNS = '`token`, `secret`, `password`, `passwd`, `api-key`, `api_key`, `apikey`, `session`, `auth`, `csrf` or `jwt`';
const HEADER_DEFAULTS = `\`Authorization\`, \`Proxy-Authorization\`, \`Cookie\`, \`Set-Cookie\`, \`X-Api-Key\`, \`X-Goog-Api-Key\`, … and every name containing ${PATTERNS} (not \`WWW-Authenticate\`)`;
const QUERY_DEFAULTS = `\`key\`, \`sig\`, \`signature\`, \`pwd\`, an OAuth callback's \`code\`, the \`X-Amz-\`/\`X-Goog-\` signature parameters, … and every name containing ${PATTERNS}`;
/** How an entry of `redact`/`redactQuery` adds a pattern or keeps a name. */
const ENTRY_FORMS = '`*part*` adds a pattern (every name containing it), `!name` keeps a name the defaults redact';

/**
 * The options, in the order of `--help`, the settings and the README tables. Built by a pure call
 * so that a bundle that does not use it (dist/preload.cjs) drops it: esbuild keeps a top-level
 * literal whose template strings read properties, as they could have side effects.
 */
export const OPTIONS: readonly OptionDef[] = /* @__PURE__ */ optionTable();

function optionTable(): OptionDef[] {
  return [
    ...outputOptions(),
    ...captureOptions(),
    ...recorderOptions(),
    ...ruleOptions(),
    ...replayOptions(),
    ...helperOptions(),
    ...editorOptions(),
  ];
}

/** The output files of `nettrace run`. */
function outputOptions(): OptionDef[] {
  return [
    {
      name: 'out',
      kind: 'path',
      default: '',
      description: 'Trace file.',
      cli: {
        flag: 'out',
        value: 'required',
        arg: 'FILE',
        help: 'trace file (default `./nettrace-<timestamp>.json`), written readable only by you (0600)',
      },
    },
    {
      name: 'har',
      kind: 'path',
      default: '',
      description: 'HAR file.',
      cli: { flag: 'har', value: 'required', arg: 'FILE', help: 'also write a HAR 1.2 file (opens in browser devtools)' },
    },
    {
      name: 'otlp',
      kind: 'path',
      default: '',
      description:
        'Send the trace to an OpenTelemetry backend (an OTLP endpoint URL such as `http://localhost:4318`; empty: off) as spans when the session ends: each request a CLIENT span with its DNS, connect, TLS, send, wait and receive as child spans, each incoming request a SERVER span over its calls (see `docs/opentelemetry.md`). The standard `OTEL_EXPORTER_OTLP_*` variables, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` apply.',
      launch: true,
      setting: true,
      // Sends data off the machine / records packets unredacted: never from a workspace's settings.
      scope: 'machine',
      cli: {
        flag: 'otlp',
        value: 'optional',
        arg: 'URL',
        help: 'also send the trace as OpenTelemetry spans to an OTLP endpoint, each request as it finishes (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318); OTEL_EXPORTER_OTLP_PROTOCOL picks http/protobuf (default), http/json or grpc; spans not delivered are counted in stats.undeliveredSpans (docs/opentelemetry.md)',
      },
    },
    {
      name: 'otlpFile',
      kind: 'path',
      default: '',
      description: 'OTLP/JSON file.',
      cli: {
        flag: 'otlp-file',
        value: 'required',
        arg: 'FILE',
        help: 'also write the spans as OTLP/JSON (one export request per line, 0600)',
      },
    },
  ];
}

/** What is recorded of each request, and how it is judged. */
function captureOptions(): OptionDef[] {
  return [
    {
      name: 'headers',
      kind: 'enum',
      values: HEADER_MODES,
      valueDescriptions: [
        'Record no headers',
        'Record header names only',
        'Record names and values (secrets such as Authorization and Cookie are redacted)',
      ],
      default: DEFAULTS.headers,
      description: 'How much of each HTTP header to record: `none`, `names` or `values`.',
      launch: true,
      setting: true,
      cli: {
        flag: 'headers',
        value: 'required',
        arg: 'MODE',
        help: 'none | names | values: how much of each header to record (default values; secrets are redacted)',
      },
    },
    {
      name: 'redact',
      kind: 'list',
      default: [],
      description: `Extra header names whose values are recorded as \`<redacted>\`, besides ${HEADER_DEFAULTS}; ${ENTRY_FORMS}. The process's command-line options with these names or the query parameters' (\`--db-password=…\`, \`--token x\`) are redacted too. The setting and the launch configuration add up.`,
      launch: true,
      setting: true,
      cli: {
        flag: 'redact',
        value: 'required',
        arg: 'NAME,...',
        help: 'more header names to redact; *part* for a pattern, !name to keep one (authorization, cookie, x-api-key and names containing token, secret, password, session, auth... always are)',
      },
    },
    {
      name: 'redactQuery',
      kind: 'list',
      default: [],
      description: `Extra URL query parameter names whose values are recorded as \`<redacted>\` (in the URL, the HAR's \`queryString\`, \`Location\` headers), besides ${QUERY_DEFAULTS}; ${ENTRY_FORMS} (the setting and the launch configuration add up).`,
      launch: true,
      setting: true,
      cli: {
        flag: 'redact-query',
        value: 'required',
        arg: 'NAME,...',
        help: 'more URL query parameter names to redact; *part* for a pattern, !name to keep one (key, sig, code and names containing token, secret, password, session, auth... always are)',
      },
    },
    {
      name: 'slowThresholdMs',
      kind: 'positive',
      default: DEFAULTS.slowThresholdMs,
      description: 'Successful requests slower than this many milliseconds get a "slow" diagnosis.',
      launch: true,
      setting: true,
      cli: {
        flag: 'slow',
        value: 'required',
        arg: 'MS',
        help: `diagnose successful requests slower than this (default ${DEFAULTS.slowThresholdMs})`,
      },
    },
    {
      name: 'initiator',
      kind: 'enum',
      values: INITIATOR_MODES,
      valueDescriptions: [
        'The first 100 requests of each process or thread, then as many as fit in 1% of the program time',
        'Every request',
        'No stacks',
      ],
      default: DEFAULTS.initiator,
      description:
        "Which requests get the stack that made them (**Initiator** tab, CodeLens): `sampled` (the first 100 requests of each process or thread, then as many as fit in 1% of the program's time; the rest are counted in `stats.skippedInitiators`), `all` or `off`.",
      launch: true,
      setting: true,
      cli: {
        flag: 'initiator',
        value: 'required',
        arg: 'MODE',
        help: "sampled | all | off: which requests get the stack that made them; sampled (default): the first 100 per thread, then as many as 1% of the program's time allows (the rest are counted)",
      },
    },
  ];
}

/** The optional recorders, off by default. */
function recorderOptions(): OptionDef[] {
  return [
    {
      name: 'bodies',
      kind: 'flagOrCount',
      default: false,
      suggest: true,
      description: `Capture request and response bodies (**Body** tab: JSON pretty-printed, text, hex dump of binary): \`true\`, or the number of bytes kept per body (default ${DEFAULTS.bodyMaxBytes}). Bodies may hold secrets and are saved in the trace.`,
      launch: true,
      setting: true,
      cli: {
        flag: 'bodies',
        value: 'optional',
        arg: 'BYTES',
        help: `keep request/response bodies, up to BYTES each (default ${DEFAULTS.bodyMaxBytes}): text for textual content types, a hex preview otherwise, with a truncation flag`,
      },
    },
    ...recordOptions(),
    {
      name: 'sockTrace',
      kind: 'flagOrCount',
      default: false,
      suggest: true,
      description: `Record every read and write on traced sockets (**Connection** tab): \`true\`, or the number of operations kept per connection (default ${DEFAULTS.sockTraceMaxOps}; the rest are counted in \`droppedOps\`).`,
      launch: true,
      setting: true,
      cli: {
        flag: 'sock-trace',
        value: 'optional',
        arg: 'N',
        help: `record every socket read/write (time, length, error), up to N per connection (default ${DEFAULTS.sockTraceMaxOps}; the rest are counted in droppedOps)`,
      },
    },
    {
      name: 'dnsTrace',
      kind: 'boolean',
      default: false,
      suggest: true,
      description:
        "Resolve the names of traced connections with Net Trace's in-process resolver and record every DNS query and reply message (server, questions, answers with TTLs, rCode, timing: the **DNS** tab). Differs from getaddrinfo: no nsswitch, no mDNS.",
      launch: true,
      setting: true,
      cli: {
        flag: 'dns-trace',
        value: 'optional',
        arg: 'NS,..',
        help: "resolve with the in-process resolver and record every DNS message; NS overrides /etc/resolv.conf's nameservers (ip or ip:port)",
      },
    },
    {
      name: 'dnsServers',
      kind: 'list',
      default: [],
      description:
        'Nameservers for the DNS trace (`"ip"`, `"ip:port"`, `"[v6]:port"`) instead of `/etc/resolv.conf`; turns `dnsTrace` on unless it is `false`.',
      launch: true,
      setting: true,
    },
    {
      name: 'addTraceparent',
      kind: 'boolean',
      default: false,
      description:
        "Add a W3C `traceparent` header of Net Trace's own to the program's outgoing http, https and fetch/undici requests that carry none, so that a request another traced process serves is linked to the incoming request it became where the connection's two ends cannot be matched (through a proxy, from another machine or container). **Changes the requests the program sends**; off, nothing is added and the services linked on this machine are linked by the connection.",
      launch: true,
      setting: true,
      cli: {
        flag: 'add-traceparent',
        value: 'none',
        help: "add a W3C traceparent header of Net Trace's own to outgoing requests that have none, to link calls to the requests they became across machines and proxies (changes the requests sent; off by default)",
      },
    },
  ];
}

/** Recording a run for replay (`record` and its caps; src/trace/contract/recording.ts, docs/replay.md). */
function recordOptions(): OptionDef[] {
  const mib = (n: number) => `${n / 1048576} MiB`;
  return [
    {
      name: 'record',
      kind: 'boolean',
      default: false,
      suggest: true,
      description: `Record the run for replay (\`nettrace run --replay\`, see \`docs/replay.md\`): each request's body, and each response as the program's client received it — status, headers and trailers, the body as it came off the wire (still compressed, binary whole), when its bytes arrived — and how each exchange ended (completed, refused, reset after N bytes, DNS or TLS failure, timed out, aborted), with WebSocket messages in order, in the trace's \`exchanges\`. Capped per body and per run (\`recordMaxBody\`, \`recordMaxRun\`); what a cap cut is counted and said. **Response headers and bodies are kept unredacted and may hold secrets** (the trace is saved readable only by you, 0600); request credentials (\`Authorization\`, \`Cookie\`) are never kept.`,
      launch: true,
      setting: true,
      cli: {
        flag: 'record',
        value: 'none',
        help: 'record the run for replay: request bodies, responses as received off the wire (status, headers, trailers and bodies unredacted: they may hold secrets; request credentials are never kept), timings and how each exchange ended (docs/replay.md)',
      },
    },
    {
      name: 'recordMaxBody',
      kind: 'positive',
      integer: true,
      // A recorded exchange's bytes travel in one blob frame of up to three bodies (the collector's limits: src/collector/server.ts).
      max: 64 * 1024 * 1024,
      default: DEFAULTS.recordMaxBodyBytes,
      description: `With \`record\`: bytes kept per body (a request's, a response's, a WebSocket's messages together; default ${mib(DEFAULTS.recordMaxBodyBytes)}, at most 64 MiB); a body over it is cut, marked and counted.`,
      launch: true,
      setting: true,
      cli: {
        flag: 'record-max-body',
        value: 'required',
        arg: 'BYTES',
        help: `with --record: bytes kept per body (default ${mib(DEFAULTS.recordMaxBodyBytes)}); a longer body is cut, marked and counted`,
      },
    },
    {
      name: 'recordMaxRun',
      kind: 'positive',
      integer: true,
      default: DEFAULTS.recordMaxRunBytes,
      description: `With \`record\`: bytes of bodies kept for the whole run, every process together (default ${mib(DEFAULTS.recordMaxRunBytes)}); what comes after is cut, marked and counted.`,
      launch: true,
      setting: true,
      cli: {
        flag: 'record-max-run',
        value: 'required',
        arg: 'BYTES',
        help: `with --record: bytes of bodies kept for the whole run, all processes together (default ${mib(DEFAULTS.recordMaxRunBytes)}); what comes after is cut and counted`,
      },
    },
  ];
}

/** Trace rules: what is recorded, what is skipped, where to pause (docs/rules.md). */
function ruleOptions(): OptionDef[] {
  return [
    {
      name: 'rules',
      kind: 'rules',
      default: [],
      description:
        'Trace rules, read in order (the first `trace`/`skip` rule that matches decides): objects `{ "id", "condition", "action", "name", "limit", "enabled", "tag", "details" }` with `action` one of `trace`, `skip`, `details`, `break`, `mark` and a condition such as `host ~ "*.example.com" and method == "POST"` (see `docs/rules.md`). **A rule is off unless it says `"enabled": true`.** The launch configuration\'s rules come first, then the setting\'s (a setting rule with the id of a launch rule is left out).',
      launch: true,
      setting: true,
      cli: {
        flag: 'rule',
        value: 'required',
        arg: 'RULE',
        repeat: true,
        help: 'a trace rule, `[ID:] ACTION [limit=N[/session]] [tag=TAG] [details=KIND,...] CONDITION`, e.g. `skip host == "telemetry.example.com"`; may be repeated; read in order, before the rules of --rules; enabled (see docs/rules.md)',
      },
    },
    {
      name: 'rulesFile',
      kind: 'path',
      default: '',
      description: 'A file of trace rules.',
      cli: {
        flag: 'rules',
        value: 'required',
        arg: 'FILE',
        help: 'trace rules from a JSON file: a list of rule objects, or `{ "defaultAction": ..., "rules": [...] }` (check it with `nettrace rules check FILE`)',
      },
    },
    {
      name: 'defaultAction',
      kind: 'enum',
      values: RULE_DEFAULT_ACTIONS,
      valueDescriptions: ['Record every request no trace/skip rule decides', 'Record only the requests a trace rule matches'],
      default: RULE_DEFAULT_ACTIONS[0],
      description:
        'What happens to a request no `trace`/`skip` rule decides: `trace` records it (with no rules, every request is recorded), `skip` records only what a `trace` rule matches.',
      launch: true,
      setting: true,
      cli: {
        flag: 'default-action',
        value: 'required',
        arg: 'ACTION',
        help: 'trace | skip: what happens to requests no trace/skip rule decides (default trace; skip: record only what a trace rule matches)',
      },
    },
  ];
}

/** The privileged helper and its packet capture. */
function helperOptions(): OptionDef[] {
  return [
    {
      name: 'helper',
      kind: 'enum',
      values: HELPER_MODES,
      valueDescriptions: [
        'Use the privileged helper when it can start without a password prompt (root, sudo -n, file capabilities, else unprivileged inet_diag metrics); say why a feature is off',
        'Do not start the helper',
      ],
      default: DEFAULTS.helper,
      description:
        'The optional privileged helper (see `native/README.md`): kernel TCP metrics (RTT, retransmits, cwnd), conntrack/NAT and packet capture. `auto` uses it when it can start without a password prompt and says why a feature is off; `off` never starts it.',
      launch: true,
      setting: true,
      cli: {
        flag: 'helper',
        value: 'required',
        arg: 'MODE',
        values: ['auto', 'off', 'required'],
        help: 'auto | off | required: the privileged helper adds kernel TCP metrics (RTT, retransmits, cwnd), conntrack/NAT and packet capture; auto (the default) uses it when it can start and says why not otherwise; required fails when it cannot start with privileges (the unprivileged inet_diag fallback does not count) or, with --pcap, cannot capture',
      },
    },
    {
      name: 'pcap',
      kind: 'boolean',
      default: false,
      description:
        "Capture the traced connections' packets for **Save PCAP** when the helper runs with root (as root, or through sudo). **Not redacted:** everything sent in clear (plain-HTTP `Authorization` headers, cookies, query tokens, bodies) is in it as sent; TLS payloads stay encrypted.",
      launch: true,
      setting: true,
      // Records packets unredacted: a workspace's value is ignored by the extension's settings guard
      // (src/extension/settingsGuard.ts). Not machine-scoped: in a remote window (code-server, SSH)
      // VS Code reads a machine-scoped setting only from the remote's settings, and the user's own
      // `nettrace.pcap: true` would stop working there.
      cli: {
        flag: 'pcap',
        value: 'required',
        arg: 'FILE',
        help: "save the traced connections' packets as pcapng (0600), each packet commented with its connection's and requests' trace IDs; needs the helper as root (sudo or pkexec; see native/README.md). Not redacted: whatever is sent in clear (plain-HTTP credentials, cookies, query tokens, bodies) is in the file as sent",
      },
    },
    {
      name: 'pcapMaxBytes',
      kind: 'positive',
      integer: true,
      min: 1024,
      default: 100 * 1024 * 1024,
      description: 'Size cap of the packet capture in bytes.',
      cli: {
        flag: 'pcap-max-bytes',
        value: 'required',
        arg: 'N',
        help: 'size cap of the packet capture (default 100 MiB); a capped capture is flagged truncated',
      },
    },
    {
      name: 'pcapBufferMiB',
      kind: 'positive',
      integer: true,
      min: 1,
      max: 1024,
      default: 16,
      description: 'Kernel capture buffer per network device, MiB.',
      cli: {
        flag: 'pcap-buffer-mib',
        value: 'required',
        arg: 'N',
        help: 'kernel capture buffer per network device, MiB (default 16, 1 to 1024)',
      },
    },
    {
      name: 'helperRoot',
      kind: 'path',
      default: '',
      description:
        'Absolute path of an installed copy of the kernel helper ("Net Trace: Set Up Kernel Helper" installs one in `/usr/local/lib/nettrace` and sets this); empty: `/usr/local/lib/nettrace` when the helper is set up there.',
      setting: true,
      scope: 'machine',
      cli: {
        flag: 'helper-root',
        value: 'required',
        arg: 'DIR',
        help: "an installed copy of the helper (e.g. /usr/local/lib/nettrace from `sudo make -C native install`, whose path sudo -n / pkexec rules can name; see native/README.md) instead of this checkout's",
      },
    },
  ];
}

/** The editor only, and the CLI only. */
function editorOptions(): OptionDef[] {
  return [
    {
      name: 'openPanel',
      kind: 'boolean',
      default: true,
      description: 'Open the Net Trace panel beside the editor when a Net Trace debug session starts.',
      launch: true,
      setting: 'openPanelOnStart',
    },
    {
      name: 'traceNodeSessions',
      kind: 'enum',
      values: ['netTraceOnly', 'all'],
      valueDescriptions: [
        'Trace only sessions of a "Net Trace" launch configuration',
        "Trace every Node debug session (node, pwa-node and node-terminal launch configurations, npm scripts' Debug, test runners' Debug Test, local attach from the attach on) and every JavaScript Debug Terminal opened from then on",
      ],
      default: 'netTraceOnly',
      description:
        'Which Node debug sessions Net Trace traces. `all` injects the preload into every Node launch as a `nettrace` configuration does, with the tracing options of the `nettrace.*` settings, and into JavaScript Debug Terminals, and loads it into a local process an attach configuration attaches to (from then on); a session it cannot trace (Deno, Bun, Electron, a remote target) is launched unchanged and the status bar tooltip and the panel say why. Toggle it with **Net Trace: Trace All Node Debugging** or the status bar item.',
      setting: true,
    },
    {
      name: 'codeLens',
      kind: 'boolean',
      default: true,
      description: 'Show a CodeLens above lines that made requests in the shown trace, e.g. "GET /api/users · 200 · 124 ms · 3 calls".',
      setting: true,
    },
    {
      name: 'quiet',
      kind: 'boolean',
      default: false,
      description: 'Print only the summary line.',
      cli: { flag: 'quiet', value: 'none', help: 'print only the summary line' },
    },
  ];
}
