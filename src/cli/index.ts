/**
 * The vscode-free API the tests load from dist/core.cjs: the collector's public API and the CLI's
 * text rendering of a trace (which belongs to the CLI, the only code that prints traces).
 */

export * from '../collector/index';
export {
  renderTrace,
  writeTrace,
  renderSummary,
  shouldUseColor,
  frameFile,
  initiatorLine,
  statusLabel,
  phaseLine,
  PHASE_CHARS,
  type RenderOptions,
} from './render';
export { sanitize } from './text';
export { formatBytes } from '../trace/diagnosis/sentence';
// OpenTelemetry export: the pure mapping and the configuration (the exporters stay in dist/cli.cjs).
export { requestSpans, traceparentOf, urlFull, stableId, hrTime, RedirectMemory } from '../otlp/mapping';
export { resourceFor, parseResourceAttributes } from '../otlp/resource';
export { incomingSpan, incomingContextsOf, IncomingContexts } from '../otlp/serverSpans';
export { kernelFacts, requestKernelEvents } from '../trace/derive/kernel';
export { icmpText, isBenignDrop, kernelStory, retransmittedSegments } from '../trace/diagnosis/kernelStory';
export { resolveOtlpConfig, OtlpConfigError } from '../otlp/config';
export { diagnoseIncoming, incomingBreakdown, callLabel } from '../trace/diagnosis/incomingDiagnosis';
export { renderIncoming } from './renderIncoming';
export { cutMiddle, escapeJsonForTerminal } from './text';
export { normalizeRequests } from '../trace/formats/normalize';
export { renderRouteSummary } from './summary';
export { renderDiff } from './diff';
export { RUN_TABLE_ROWS, showCommandFor } from './show';
export { linkServed } from '../trace/derive/incomingLinks';
// The summary by route and the comparison of two traces (issue 53).
export { routeKeyOf, routeLabel, hostOf } from '../trace/derive/routes';
export { inferRoute, isValueSegment, pathOf, ID_PLACEHOLDER } from '../trace/contract/routeTemplate';
export { percentileOfSorted, percentilesOfSorted, sortedCopy } from '../trace/derive/percentiles';
export { SampleRows, SampleBudget, seededRandom, MAX_ROWS_PER_GROUP, ROW_BUDGET } from '../trace/derive/sampleRows';
export { SummaryBuilder, summarize, errorKind, statusClass, MEASURES, MAX_ROUTES, OTHER_ROUTES } from '../trace/derive/summary';
export { compareRoutes, pairOrigins, ALPHA, MIN_SAMPLE, PAIR_MIN_OVERLAP } from '../trace/derive/compare';
export { mannWhitney, fisherExact, logGamma, erfc } from '../trace/derive/significance';
export { compareMessage } from '../trace/derive/compare';
export { toCompareMessage } from '../trace/derive/compare';
export { compareWithBaseline, summarizeFile, summarizeLoaded } from '../trace/summaryStream';
export { enrichInPlace, YIELD_EVERY } from '../trace/formats/readTrace';
// Replay (issue 64): the recording's table, the matcher, divergences and dates (src/replay/).
export * as replay from '../replay/index';
export {
  replaySentence,
  replayTag,
  unheldCount,
  replayCountsOf,
  replayCountsText,
  unmatchedWords,
  answeredWithoutNetwork,
} from '../trace/diagnosis/replayText';
export { replayLines } from './replayLines';
export { fixReplayMark, normalizeReplayRun } from '../trace/formats/replayNormalize';
