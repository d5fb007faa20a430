// The load engine's public API: start or run load, and the Timeline / WriteLedger it produces.

export { startLoad, runLoad } from './engine.js';
export { validateLoadOptions, toSettings, DEFAULTS as LOAD_DEFAULTS } from './options.js';
export { isLoopbackHost } from '../util/remote-target.js';
export { Timeline, isSuccessStatus } from './timeline.js';
export type { TimelineBucket, TimelineWindow, TimelineJSON, TimelineBucketJSON, EncodedLatency } from './timeline.js';
export { WriteLedger, classifyWrite, parseId, checkWrites, newRunId, RUN_ID_PATTERN } from './ledger.js';
export type { WriteRecord, WriteOutcome, WriteLedgerJSON, LedgerCounts, WriteAnswer, SetCheck } from './ledger.js';
export { parseMix, validateMix, formatMix, MixSelector, MIX_KINDS } from './mix.js';
export { RateSchedule, rateStages, parseRate, MAX_RATE } from './schedule.js';
export { Backoff, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { errorCodeOf, isTlsErrorCode } from './error-code.js';
export { HistogramCell, newHistogram, encodeHistogram, decodeHistogram, summarizeHistogram } from './histogram.js';
export { loadResultToJSON, loadResultFromJSON } from './result-json.js';
export type { LoadResultJSON } from './result-json.js';
export { formatResult, formatResultLine, formatTick } from './render.js';
export { progressListener, plainProgressListener, isInteractive } from './progress.js';
export { Workload } from './workload.js';
export type { PlannedRequest } from './workload.js';
export type * from './types.js';
