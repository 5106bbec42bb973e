/**
 * Replay (docs/replay.md): the pure core the collector, the CLI and the extension share. A
 * recording (a trace recorded with `--record`, or a HAR with content) read into a replay table; the
 * matcher that finds each replayed request's recorded answer, and the divergence of one it does
 * not find; the dates of an answer moved by the time since the recording. No Node built-ins, no
 * `vscode`: it runs wherever plain JavaScript does.
 */

export type { RecordedBodyState, ReplayCall, ReplayTable, ReplayWarning } from './types';
export { ReplayInputError } from './types';
export { readReplayTable, parseReplayTable } from './table';
export { tableFromTrace } from './fromTrace';
export { tableFromHar } from './fromHar';
export { contentCodings, looksEncoded } from './harBody';
export { ReplayMatcher, type ReplayMatch, type MatchCounts } from './matcher';
export type { MatchOptions, ReplayRequest, HeadersLike } from './prepared';
export { MAX_DIFFERENCES, type Divergence } from './divergence';
export { MAX_VALUE_CHARS } from './bodyDiff';
export { ignoredFields } from './body';
export { parseHttpDate, formatHttpDate, shiftHttpDate, shiftDates } from './dates';
export { urlParts, type UrlParts } from './url';
export { fromBase64, toBase64 } from './bytes';
