/**
 * The collector's public API: the IPC server, the session, launch environment, source maps, the
 * helper link, and the trace functions views need. The tests load it, with the CLI's text
 * rendering, from dist/core.cjs (src/cli/index.ts).
 */

export {
  startCollector,
  LineSplitter,
  PreloadInput,
  ipcPathFor,
  maxSocketPathBytes,
  socketPathProblem,
  type Collector,
  type CollectorOptions,
} from './server';
export {
  fileKey,
  framePath,
  isWindowsAbsolute,
  pathOf,
  pathSystem,
  pathToUrl,
  urlToPath,
  type PathSystem,
} from '../trace/formats/filePath';
export { Session, type SessionOptions, type SessionEvents } from './session';
// The preload's event frames, both ways: the benchmarks replay recorded updates as the collector receives them.
export { EventDecoder } from './eventDecoder';
export { EventEncoder } from '../protocol/events';
export { writePrivate } from '../trace/formats/privateFile';
export {
  addPreloadEnv,
  buildPreloadEnv,
  envKey,
  mergeNodeOptions,
  preloadPath,
  quoteNodeOption,
  type PreloadEnvOptions,
} from './launchEnv';
export { SourceMapResolver, type SourceMapOptions } from './sourceMaps';
export { HelperLink, pcapLabels, pcapUnavailableReason, setHelperStats, type HelperLinkOptions, type PcapLabel } from './helperLink';
export { tupleKey, tcpConnFieldsFromHelper } from '../protocol/helper';
export { HelperClient } from '../helper/launch';

export { TraceBuilder } from '../trace/builder/builder';
export { roundMs } from '../trace/derive/timings';
export { type TraceBuilderOptions } from '../trace/builder/builderOptions';
export {
  computeTimings,
  totalTime,
  requestStartAt,
  requestEndAt,
  isSlow,
  phaseSegments,
  PHASES,
  type RequestContext,
  type Phase,
  type PhaseSegment,
} from '../trace/derive/timings';
export { diagnose, type DiagnosisOptions } from '../trace/diagnosis/diagnosis';
export { diagnoseLoopBlocked } from '../trace/diagnosis/loopDiagnosis';
export { isFailed, DEFAULT_SLOW_THRESHOLD_MS } from '../trace/derive/timings';
export { formatMs } from '../trace/diagnosis/sentence';
export { enrichTrace, enrichRequest, enrichIncomingIn, indexRecords, contextOf, type RecordIndex } from '../trace/enrich';
export { loopBlockedOf, loopBlocksByThread, mainStretch, validLoopBlocks } from '../trace/derive/loopBlocked';
export { toHar, type Har, type HarEntry, type HarOptions } from '../trace/formats/har';
export {
  DERIVED_INCOMING_FIELDS,
  DERIVED_REQUEST_FIELDS,
  emptyTrace,
  normalizeTraceRules,
  parseTraceFile,
  readTraceFile,
  readTraceFileAsync,
  TraceFileError,
  writeHarFile,
  writeTraceFile,
} from '../trace/formats/traceFile';
export { jsonPieces, JsonObjectScanner } from '../trace/formats/jsonStream';
export {
  forEachDerivedRequest,
  readTrace,
  readTraceAsync,
  readTraceHead,
  readTraceHeadAsync,
  type TraceHead,
} from '../trace/formats/readTrace';
export {
  DEFAULT_REDACTED_HEADERS,
  DEFAULT_REDACTED_QUERY,
  redactArgv,
  redactedQueryNames,
  SECRET_NAME_PARTS,
} from '../trace/contract/redact';
export { absoluteOrOrigin, redactUrl, withoutUserinfo } from '../trace/contract/redactUrl';
export * from '../trace/contract/types';
export * from '../protocol/preload';
export { INITIATOR_MODES } from '../protocol/optionBase';
export * from '../trace/contract/wire';
export { RulesController, type RulesControllerOptions, type RulesPeer, type RuleWithCounters } from './rules';
// Replay (issue 64): the collector's answers from a recording (./replay.ts).
export { ReplayServer, callName, type ReplaySetup, type ReplayOptions } from './replay';
