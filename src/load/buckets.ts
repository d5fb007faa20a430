// The Timeline's parts: what one bucket holds, the plain-data views of buckets and windows, their JSON, and the
// merge of a span of buckets into one window. Kept apart from the Timeline class so each stays small.

import { HistogramCell, newHistogram, summarizeHistogram } from './histogram.js';
import type { LatencySummary } from './types.js';
/** A response counts as a success when its status is 2xx or 3xx. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

/**
 * The outcome counts every view of requests shares. Every intended request has one outcome: a response (a success
 * or a failed status), an error (by code; `timedOut` of them hit their deadline, code ETIMEDOUT; `late` of them could
 * not be put on the wire within the late bound, code LATE), or dropped (never sent: the in-flight bound was hit).
 * `sent` counts the ones the driver dispatched, whatever became of them.
 */
export interface OutcomeCounts {
  /** Requests that left (paced: dispatched; a dropped request is not sent). */
  sent: number;
  responses: number;
  /** 2xx and 3xx responses. */
  successes: number;
  /** Requests that failed without a response (connection refused, reset, TLS, timed out …). */
  errors: number;
  /** Of the errors: no answer by the request's deadline (code ETIMEDOUT). */
  timedOut: number;
  /**
   * Of the errors (paced driver): not on the wire within the late bound of its intended time (code LATE). It never
   * reached the server: sending it later would move it out of whatever the server was doing at its intended time.
   */
  late: number;
  /** Never sent because the in-flight bound was hit; a failure in every ratio. */
  dropped: number;
}

export interface BucketState extends OutcomeCounts {
  statuses: Map<number, number>;
  errorCodes: Map<string, number>;
  latency: HistogramCell;
  uncorrected: HistogramCell | null;
  /** Paced driver: intended send time → the request's bytes written to its socket (late ones at the moment they were given up). */
  wireLag: HistogramCell;
}

/** Counts of one bucket, as plain data. */
export interface TimelineBucket extends OutcomeCounts {
  index: number;
  startMs: number;
  statuses: Record<string, number>;
  errorCodes: Record<string, number>;
}

/** Several buckets merged: a second, the whole run, or any span. */
export interface TimelineWindow extends OutcomeCounts {
  startMs: number;
  endMs: number;
  /** Requests with a known outcome: responses + errors + dropped (after a run, every intended request). */
  outcomes: number;
  statuses: Record<string, number>;
  errorCodes: Record<string, number>;
  /** successes / outcomes: timed-out and dropped requests are failures; null when nothing has an outcome. */
  successRatio: number | null;
  /** Requests sent per second over the window. */
  rate: number;
  latency: LatencySummary;
  uncorrected: LatencySummary | null;
  /** Paced driver: intended send time → on the wire, ms (count 0 for the closed driver). */
  wireLag: LatencySummary;
}

export interface EncodedLatency {
  /** Percentiles in ms, for readers that do not want to decode. */
  summary: LatencySummary;
  /** HdrHistogram V2 compressed, base64; values in microseconds. */
  hdr: string;
}

export interface TimelineBucketJSON extends Omit<TimelineBucket, 'index' | 'timedOut' | 'late'> {
  /** Absent in journals written before timeouts were counted apart. */
  timedOut?: number;
  /** Absent in journals written before late requests were counted apart (and when 0). */
  late?: number;
  latency: EncodedLatency | null;
  uncorrected?: EncodedLatency | null;
  /** Absent when the bucket recorded no wire lag (closed driver, older journals). */
  wireLag?: EncodedLatency | null;
}

export interface TimelineJSON {
  version: 1;
  bucketMs: number;
  startedAt: string;
  /** Whether buckets carry a second, uncorrected latency histogram (paced driver). */
  uncorrected: boolean;
  buckets: TimelineBucketJSON[];
}

export interface TimelineInit {
  bucketMs: number;
  /** Wall clock of t = 0, epoch ms. */
  startedAt: number;
  /** Keep a second histogram: answered requests only, latency from the actual send (no censored timeouts). */
  uncorrected?: boolean;
}

export function emptyBucket(uncorrected: boolean): BucketState {
  return {
    sent: 0,
    responses: 0,
    successes: 0,
    errors: 0,
    timedOut: 0,
    late: 0,
    dropped: 0,
    statuses: new Map(),
    errorCodes: new Map(),
    latency: new HistogramCell(),
    uncorrected: uncorrected ? new HistogramCell() : null,
    wireLag: new HistogramCell(),
  };
}

export function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export function toRecord<K extends string | number>(map: Map<K, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) out[String(k)] = v;
  return out;
}

export function encodeCell(cell: HistogramCell): EncodedLatency | null {
  const hdr = cell.toEncoded();
  if (hdr === null) return null;
  return { summary: summarizeHistogram(cell.view()), hdr };
}

export function mergeBuckets(
  buckets: BucketState[],
  first: number,
  endExclusive: number,
  bucketMs: number,
  hasUncorrected: boolean,
  startMs: number,
  endMs: number,
): TimelineWindow {
  let sent = 0;
  let responses = 0;
  let successes = 0;
  let errors = 0;
  let timedOut = 0;
  let late = 0;
  let dropped = 0;
  const statuses = new Map<number, number>();
  const errorCodes = new Map<string, number>();
  const latency = newHistogram();
  const uncorrected = hasUncorrected ? newHistogram() : null;
  const wireLag = newHistogram();
  for (let i = first; i < endExclusive; i++) {
    const b = buckets[i] as BucketState;
    sent += b.sent;
    responses += b.responses;
    successes += b.successes;
    errors += b.errors;
    timedOut += b.timedOut;
    late += b.late;
    dropped += b.dropped;
    for (const [k, v] of b.statuses) bump(statuses, k, v);
    for (const [k, v] of b.errorCodes) bump(errorCodes, k, v);
    b.latency.addTo(latency);
    if (uncorrected) b.uncorrected?.addTo(uncorrected);
    if (b.wireLag.count > 0) b.wireLag.addTo(wireLag);
  }
  const outcomes = responses + errors + dropped;
  const spanMs = Math.max(0, Math.min(endMs, endExclusive * bucketMs) - startMs);
  const out: TimelineWindow = {
    startMs,
    endMs,
    sent,
    responses,
    successes,
    errors,
    timedOut,
    late,
    dropped,
    outcomes,
    statuses: toRecord(statuses),
    errorCodes: toRecord(errorCodes),
    successRatio: outcomes === 0 ? null : successes / outcomes,
    rate: spanMs > 0 ? (sent * 1000) / spanMs : 0,
    latency: summarizeHistogram(latency),
    uncorrected: uncorrected ? summarizeHistogram(uncorrected) : null,
    wireLag: summarizeHistogram(wireLag),
  };
  latency.destroy();
  uncorrected?.destroy();
  wireLag.destroy();
  return out;
}
