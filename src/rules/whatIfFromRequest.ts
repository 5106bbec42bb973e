/**
 * What-if rules made from one recorded request (the panel's row menu: "Make Requests Like This
 * Fail…", "Slow Requests Like This Down…", "Answer Requests Like This With…"). The condition is
 * the one "Break on Requests Like This" uses (fromRequest.ts: method, host, explicit port, path
 * shape); the rule is enabled (the user asked for it on the spot) with the limit chosen: "only the
 * next one" (1), "the next three" (3) — counted over the session's processes together — or
 * "every time" (no limit).
 */
import { isValueSegment } from '../trace/contract/routeTemplate';
import { conditionFromRequest, uniqueId, urlParts, type RequestLike } from './fromRequest';
import type { WhatIfAction } from './whatIfActions';

/**
 * The limits the menu offers, as the quick pick names them and says what they count: a limit
 * counts the requests of the whole session (`limitPer` "session": all its processes and threads
 * together), so "The next three" is the next three calls, whichever process makes them; once used
 * up, the rule turns itself off (the extension's RuleService).
 */
export const WHAT_IF_LIMITS: ReadonlyArray<{ label: string; limit: number | null; description: string }> = [
  { label: 'Only the next one', limit: 1, description: "the next matching call, of any of the session's processes; then it turns off" },
  {
    label: 'The next three',
    limit: 3,
    description: "the next 3 matching calls in all, the session's processes together; then it turns off",
  },
  { label: 'Every time', limit: null, description: 'every matching call, until you turn it off (it stays on for later sessions)' },
];

/** Words for a rule's name: "connection refused", "slow 3G", "503". */
export type WhatIfWords = string;

/** The verb of a rule's name per action. */
const VERB: Record<WhatIfAction, string> = {
  fail: 'Fail',
  delay: 'Delay',
  throttle: 'Throttle',
  respond: 'Answer',
  override: 'Override',
};

/**
 * The rule (as a rule object, validated where it is added) that applies `action` with `spec` to
 * requests like `req`, enabled, with `limit`. Undefined when the request's URL cannot be read.
 * `words` says what it does, for the name ("Fail GET api.example.com/v1/users/* (connection refused)").
 */
export function whatIfRuleFromRequest(
  req: RequestLike,
  action: WhatIfAction,
  spec: unknown,
  limit: number | null,
  words: WhatIfWords,
  taken: ReadonlySet<string> = new Set(),
): Record<string, unknown> | undefined {
  const condition = conditionFromRequest('break', req);
  const parts = urlParts(req.reqURL ?? '');
  if (condition === undefined || !parts) return undefined;
  const hostPort = parts.port !== undefined ? `${parts.host}:${parts.port}` : parts.host;
  const path = parts.path
    .split('/')
    .map((s) => (isValueSegment(s) ? '*' : s))
    .join('/');
  const method = (req.reqMethod ?? '').trim().toUpperCase();
  const shape = `${method ? `${method} ` : ''}${hostPort}${path}`;
  const name = `${VERB[action]} ${shape} (${words})`;
  return {
    id: uniqueId(`${action}-${shape}`, taken),
    name: name.length > 200 ? `${name.slice(0, 199)}…` : name,
    condition,
    action,
    [action]: spec,
    limit,
    ...(limit !== null ? { limitPer: 'session' } : {}),
    enabled: true,
  };
}
