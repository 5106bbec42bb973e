/**
 * The ground the tracing options stand on: their modes, every default once, and the shape of an
 * option's definition. Split from options.ts so the table (optionTable.ts) and the validation
 * (options.ts) can both use it without importing each other.
 */

import type { HeaderCaptureMode } from '../trace/contract/types';
import type { InitiatorMode, RuleDefaultAction, WireDetailKind, WireRuleAction } from './preload';

/** The privileged helper: used when it can start, never, or required (`nettrace run` only). */
export type HelperMode = 'auto' | 'off' | 'required';

/** The header capture modes, default last. */
export const HEADER_MODES: readonly HeaderCaptureMode[] = ['none', 'names', 'values'];
/** The initiator modes, default first. */
export const INITIATOR_MODES: readonly InitiatorMode[] = ['sampled', 'all', 'off'];
/** What happens to a request no trace rule decides, default first (docs/rules.md). */
export const RULE_DEFAULT_ACTIONS: readonly RuleDefaultAction[] = ['trace', 'skip'];
/** The actions of a trace rule (src/rules/rule.ts RULE_ACTIONS; the protocol may not import it). */
export const RULE_ACTION_NAMES: readonly WireRuleAction[] = [
  'trace',
  'skip',
  'details',
  'break',
  'mark',
  'fail',
  'delay',
  'throttle',
  'respond',
  'override',
];
/** What a `details` rule can turn on (src/rules/rule.ts DETAIL_KINDS). */
export const RULE_DETAIL_NAMES: readonly WireDetailKind[] = ['bodies', 'sockTrace', 'dnsTrace'];
/** The helper modes a launch configuration or setting accepts (`nettrace run` also takes `required`). */
export const HELPER_MODES: readonly HelperMode[] = ['auto', 'off'];

/** Every default, once. The preload reads its own from here through withPreloadDefaults. */
export const DEFAULTS = {
  headers: 'values' as HeaderCaptureMode,
  initiator: 'sampled' as InitiatorMode,
  helper: 'auto' as HelperMode,
  slowThresholdMs: 1000,
  /** Socket operations kept per connection when sockTrace is on without a number. */
  sockTraceMaxOps: 1000,
  /** Bytes kept per body when bodies is on without a number. */
  bodyMaxBytes: 65536,
  /** Recording for replay: bytes kept per body, and per run (RECORD_MAX_BODY_BYTES, RECORD_MAX_RUN_BYTES of src/trace/contract/recording.ts). */
  recordMaxBodyBytes: 4 * 1024 * 1024,
  recordMaxRunBytes: 256 * 1024 * 1024,
  /** Events the preload holds while the collector is slow or gone (at least 100). */
  maxQueuedEvents: 10000,
  /** Stack frames kept per initiator. */
  stackDepth: 10,
} as const;

/**
 * How an option's value is written: one of `values`; true/false; a list of strings; true/false
 * or a whole number ≥ 0 (on, with that limit); a number > 0; a path; a list of trace rule objects
 * (docs/rules.md; checked here for shape only, validated by src/rules where the rules are used).
 */
export type OptionKind = 'enum' | 'boolean' | 'list' | 'flagOrCount' | 'positive' | 'path' | 'rules';

/** One option of the table. Descriptions use backticks and **bold** only (README and package.json). */
export interface OptionDef {
  /** The launch attribute and the `nettrace.*` setting name, unless `setting` names another. */
  name: string;
  kind: OptionKind;
  /** Bounds of a number (kind `positive`, always > 0): whole numbers only, at least, at most. */
  integer?: boolean;
  min?: number;
  max?: number;
  /** Valid values of an enum (launch configuration and setting). */
  values?: readonly string[];
  /** One description per value (package.json `enumDescriptions`). */
  valueDescriptions?: readonly string[];
  /** The value when nothing sets it (as written in launch.json). */
  default: string | boolean | number | readonly string[] | readonly never[];
  /** The value launch.json completion inserts, when not `default` (e.g. `true` for a recorder that is off). */
  suggest?: boolean;
  /** What it does, one or more sentences. */
  description: string;
  /** A `launch` configuration attribute. */
  launch?: boolean;
  /** A `nettrace.*` setting: true (same name) or the setting's own name. */
  setting?: boolean | string;
  /** Setting scope (package.json), when not the default `window`. */
  scope?: 'machine';
  /** The `nettrace run` flag. */
  cli?: CliFlag;
}

/** A `nettrace run` flag. */
export interface CliFlag {
  /** The flag without dashes, e.g. `sock-trace`. */
  flag: string;
  /** How its value is given: none (`--quiet`), `--x VALUE`, or only as `--x=VALUE` (bare: on). */
  value: 'none' | 'required' | 'optional';
  /** The value's placeholder in help, e.g. `MODE` or `N`. */
  arg?: string;
  /** Valid values when they differ from the launch attribute's (e.g. `required` for --helper). */
  values?: readonly string[];
  /** The flag may be given several times (`--rule A --rule B`); parseArgs keeps every value. */
  repeat?: boolean;
  /** The text of `--help` and of the README's CLI table. */
  help: string;
}
