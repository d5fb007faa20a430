// The Timeline: fixed-width buckets from the start of load, each with counts by outcome and latency histograms.
// Whole-run figures, per-second roll-ups and the recovery probe's per-bucket ratios are all merged from buckets.

import type { Histogram } from 'hdr-histogram-js';
import { HistogramCell, newHistogram, summarizeHistogram } from './histogram.js';
import type { LatencySummary, LoadSummary } from './types.js';
import { FaultlineError } from '../errors.js';
import {
  bump,
  emptyBucket,
  encodeCell,
  mergeBuckets,
  toRecord,
  type BucketState,
  type TimelineBucket,
  type TimelineBucketJSON,
  type TimelineInit,
  type TimelineJSON,
  type TimelineWindow,
} from './buckets.js';

import { isSuccessStatus } from './buckets.js';
export { isSuccessStatus };
export type { EncodedLatency, TimelineBucket, TimelineBucketJSON, TimelineInit, TimelineJSON, TimelineWindow } from './buckets.js';

/** The error code of a request that could not be put on the wire within the late bound (paced driver). */
export const LATE_CODE = 'LATE';

/** Upper bound on buckets, so a bad clock or option can never eat all memory. */
const MAX_BUCKETS = 2_000_000;

export class Timeline {
  readonly bucketMs: number;
  readonly startedAt: number;
  readonly hasUncorrected: boolean;
  private readonly buckets: BucketState[] = [];

  constructor(init: TimelineInit) {
    if (!(init.bucketMs >= 1)) throw new FaultlineError('INVALID_INPUT', `bucket: must be at least 1 ms, got ${init.bucketMs}`);
    this.bucketMs = init.bucketMs;
    this.startedAt = init.startedAt;
    this.hasUncorrected = init.uncorrected ?? false;
  }

  get length(): number {
    return this.buckets.length;
  }

  /** Index of the bucket holding time t (ms since start); negative times land in bucket 0. */
  indexOf(tMs: number): number {
    return tMs > 0 ? Math.floor(tMs / this.bucketMs) : 0;
  }

  private at(tMs: number): BucketState {
    const i = this.indexOf(tMs);
    if (i >= MAX_BUCKETS) throw new FaultlineError('INTERNAL', `timeline: time ${tMs} ms is beyond ${MAX_BUCKETS} buckets`);
    while (this.buckets.length <= i) this.buckets.push(emptyBucket(this.hasUncorrected));
    return this.buckets[i] as BucketState;
  }

  /** Makes sure buckets exist up to time t, so a quiet tail still shows as empty buckets. */
  extendTo(tMs: number): void {
    if (tMs > 0) this.at(tMs - 1e-6);
  }

  /**
   * Appends another timeline's buckets after this one's last (same width; `other` is not used after): whole buckets
   * merged elsewhere grow one timeline its readers keep holding (load agents' seconds, src/load/agents-live.ts).
   */
  append(other: Timeline): void {
    if (other.bucketMs !== this.bucketMs) throw new FaultlineError('INTERNAL', 'timeline: cannot append a different bucket width');
    for (const b of other.buckets) this.buckets.push(b);
  }

  recordSent(tMs: number): void {
    this.at(tMs).sent += 1;
  }

  /**
   * Takes back a send: for a request that was pipelined behind a response saying `Connection: close`, which a server
   * must not process (RFC 9112 §9.6). It neither succeeded nor failed; it never happened.
   */
  retractSent(tMs: number): void {
    const b = this.at(tMs);
    if (b.sent > 0) b.sent -= 1;
  }

  recordDropped(tMs: number): void {
    this.at(tMs).dropped += 1;
  }

  /**
   * A response to the request sent (or due) at tMs. Latencies in microseconds. `ok`: whether its request expected this
   * status (workload requests); default 2xx or 3xx, as for GET <url>.
   */
  recordResponse(tMs: number, status: number, latencyUs: number, uncorrectedUs?: number, ok = isSuccessStatus(status)): void {
    const b = this.at(tMs);
    b.responses += 1;
    if (ok) b.successes += 1;
    bump(b.statuses, status);
    b.latency.record(latencyUs);
    if (b.uncorrected && uncorrectedUs !== undefined) b.uncorrected.record(uncorrectedUs);
  }

  /** A request sent (or due) at tMs failed without a response. */
  recordError(tMs: number, code: string): void {
    const b = this.at(tMs);
    b.errors += 1;
    bump(b.errorCodes, code);
  }

  /**
   * A request sent (or due) at tMs had no answer by its deadline: an error (ETIMEDOUT) whose latency enters the
   * histogram censored at the deadline, so a hang shows in the percentiles (the answered-only view leaves it out).
   */
  recordTimeout(tMs: number, latencyUs: number): void {
    const b = this.at(tMs);
    b.errors += 1;
    b.timedOut += 1;
    bump(b.errorCodes, 'ETIMEDOUT');
    b.latency.record(latencyUs);
  }

  /**
   * Paced driver: a request sent (due) at tMs went onto the wire after lagUs µs (intended time → its bytes written).
   * Kept apart from latency: it is what the client did, not what the server did.
   */
  recordWireLag(tMs: number, lagUs: number): void {
    this.at(tMs).wireLag.record(lagUs);
  }

  /**
   * A request due at tMs was not on the wire within the late bound: an error (code LATE), whatever the server said.
   * One never put on the wire has its wire lag entered here, at the moment it was given up (censored, as timeouts
   * are at their deadline); one that left late had its own recorded when it left.
   */
  recordLate(tMs: number, givenUpLagUs: number | null = null): void {
    const b = this.at(tMs);
    b.errors += 1;
    b.late += 1;
    bump(b.errorCodes, LATE_CODE);
    if (givenUpLagUs !== null) b.wireLag.record(givenUpLagUs);
  }

  /** Encodes histograms of buckets that end at or before t and frees their live copies. */
  seal(beforeMs = Number.POSITIVE_INFINITY): void {
    for (let i = 0; i < this.buckets.length; i++) {
      if ((i + 1) * this.bucketMs > beforeMs) break;
      const b = this.buckets[i] as BucketState;
      b.latency.seal();
      b.uncorrected?.seal();
      b.wireLag.seal();
    }
  }

  bucket(index: number): TimelineBucket | null {
    const b = this.buckets[index];
    if (!b) return null;
    return {
      index,
      startMs: index * this.bucketMs,
      sent: b.sent,
      responses: b.responses,
      successes: b.successes,
      errors: b.errors,
      timedOut: b.timedOut,
      late: b.late,
      dropped: b.dropped,
      statuses: toRecord(b.statuses),
      errorCodes: toRecord(b.errorCodes),
    };
  }

  /** All buckets as plain data (no histograms). */
  bucketList(): TimelineBucket[] {
    return this.buckets.map((_, i) => this.bucket(i) as TimelineBucket);
  }

  /** successes / outcomes of one bucket (timed-out and dropped requests fail); null when nothing has an outcome. */
  successRatio(index: number): number | null {
    const b = this.buckets[index];
    if (!b) return null;
    const outcomes = b.responses + b.errors + b.dropped;
    return outcomes === 0 ? null : b.successes / outcomes;
  }

  /** Percentile of one bucket's latency in ms; null when it holds no responses. */
  percentile(index: number, p: number, which: 'latency' | 'uncorrected' = 'latency'): number | null {
    const b = this.buckets[index];
    const cell = which === 'latency' ? b?.latency : b?.uncorrected;
    const h = cell?.view() ?? null;
    if (!h) return null;
    return Math.round(h.getValueAtPercentile(p)) / 1000;
  }

  p99(index: number): number | null {
    return this.percentile(index, 99);
  }

  latencyAt(index: number, which: 'latency' | 'uncorrected' | 'wireLag' = 'latency'): LatencySummary {
    const b = this.buckets[index];
    const cell = which === 'latency' ? b?.latency : which === 'wireLag' ? b?.wireLag : b?.uncorrected;
    return summarizeHistogram(cell?.view() ?? null);
  }

  /** Buckets whose start lies in [fromMs, toMs), merged. */
  window(fromMs: number, toMs: number): TimelineWindow {
    const first = Math.max(0, Math.ceil(fromMs / this.bucketMs - 1e-9));
    const endExclusive = Math.min(this.buckets.length, Math.ceil(toMs / this.bucketMs - 1e-9));
    return mergeBuckets(this.buckets, first, endExclusive, this.bucketMs, this.hasUncorrected, fromMs, toMs);
  }

  /** Windows of widthMs (a multiple of the bucket width) covering the whole timeline. */
  rollUp(widthMs: number): TimelineWindow[] {
    const per = Math.round(widthMs / this.bucketMs);
    if (per < 1 || Math.abs(per * this.bucketMs - widthMs) > 1e-6) {
      throw new FaultlineError('INVALID_INPUT', `rollUp: width ${widthMs} ms is not a multiple of the ${this.bucketMs} ms bucket`);
    }
    const out: TimelineWindow[] = [];
    for (let i = 0; i < this.buckets.length; i += per) {
      const end = Math.min(this.buckets.length, i + per);
      out.push(mergeBuckets(this.buckets, i, end, this.bucketMs, this.hasUncorrected, i * this.bucketMs, (i + per) * this.bucketMs));
    }
    return out;
  }

  /** Per-second roll-up (falls back to whole buckets when the bucket is wider than a second). */
  perSecond(): TimelineWindow[] {
    return this.rollUp(this.bucketMs >= 1000 || 1000 % this.bucketMs !== 0 ? this.bucketMs : 1000);
  }

  /** Whole-run figures merged from the buckets; ratios divide by intended requests (every outcome counts). */
  summary(durationMs: number): LoadSummary {
    const w = mergeBuckets(this.buckets, 0, this.buckets.length, this.bucketMs, this.hasUncorrected, 0, durationMs);
    const seconds = durationMs / 1000;
    return {
      durationMs,
      intended: w.outcomes,
      sent: w.sent,
      responses: w.responses,
      successes: w.successes,
      errors: w.errors,
      timedOut: w.timedOut,
      late: w.late,
      dropped: w.dropped,
      statuses: w.statuses,
      errorCodes: w.errorCodes,
      rate: seconds > 0 ? w.sent / seconds : 0,
      successRate: seconds > 0 ? w.successes / seconds : 0,
      availability: w.successRatio,
      errorRatio: w.outcomes === 0 ? null : (w.outcomes - w.successes) / w.outcomes,
      latency: w.latency,
      uncorrected: w.uncorrected,
      wireLag: w.wireLag,
    };
  }

  /** One merged histogram (µs) over buckets [from, to); the caller owns it. */
  mergedHistogram(fromIndex = 0, toIndex = this.buckets.length, which: 'latency' | 'uncorrected' | 'wireLag' = 'latency'): Histogram {
    const h = newHistogram();
    for (let i = Math.max(0, fromIndex); i < Math.min(toIndex, this.buckets.length); i++) {
      const b = this.buckets[i] as BucketState;
      (which === 'latency' ? b.latency : which === 'wireLag' ? b.wireLag : b.uncorrected)?.addTo(h);
    }
    return h;
  }

  toJSON(): TimelineJSON {
    return this.toJSONRange(0, this.buckets.length);
  }

  /** Only buckets [fromIndex, toIndex) as JSON: a load agent ships each second's new ones, not the whole run each time. */
  toJSONRange(fromIndex: number, toIndex: number): TimelineJSON {
    return {
      version: 1,
      bucketMs: this.bucketMs,
      startedAt: new Date(this.startedAt).toISOString(),
      uncorrected: this.hasUncorrected,
      buckets: this.buckets.slice(fromIndex, toIndex).map((b, k) => {
        const base = this.bucket(fromIndex + k) as TimelineBucket;
        const { index: _index, late, ...counts } = base;
        const out: TimelineBucketJSON = { ...counts, latency: encodeCell(b.latency) };
        if (late > 0) out.late = late;
        if (b.uncorrected) out.uncorrected = encodeCell(b.uncorrected);
        if (b.wireLag.count > 0) out.wireLag = encodeCell(b.wireLag);
        return out;
      }),
    };
  }

  /**
   * Adds timelines that share a t = 0 and a bucket width into one (the closed driver on worker threads): counts add
   * up bucket by bucket and histograms merge, so percentiles are of all requests, not averages of percentiles.
   */
  static merge(parts: Timeline[]): Timeline {
    const first = parts[0];
    if (!first) throw new FaultlineError('INTERNAL', 'timeline: nothing to merge');
    if (parts.some((p) => p.bucketMs !== first.bucketMs)) throw new FaultlineError('INTERNAL', 'timeline: cannot merge different bucket widths');
    const out = new Timeline({
      bucketMs: first.bucketMs,
      startedAt: Math.min(...parts.map((p) => p.startedAt)),
      uncorrected: parts.every((p) => p.hasUncorrected),
    });
    for (const p of parts) {
      for (let i = 0; i < p.buckets.length; i++) {
        const src = p.buckets[i] as BucketState;
        const dst = out.at(i * out.bucketMs);
        dst.sent += src.sent;
        dst.responses += src.responses;
        dst.successes += src.successes;
        dst.errors += src.errors;
        dst.timedOut += src.timedOut;
        dst.late += src.late;
        dst.dropped += src.dropped;
        for (const [k, v] of src.statuses) bump(dst.statuses, k, v);
        for (const [k, v] of src.errorCodes) bump(dst.errorCodes, k, v);
        dst.latency.absorb(src.latency);
        if (dst.uncorrected && src.uncorrected) dst.uncorrected.absorb(src.uncorrected);
        dst.wireLag.absorb(src.wireLag);
      }
    }
    out.seal();
    return out;
  }

  /** Re-hydrates a timeline from its JSON (e.g. read back from a journal). */
  static fromJSON(json: TimelineJSON): Timeline {
    if (!json || json.version !== 1 || !Array.isArray(json.buckets)) {
      throw new FaultlineError('INVALID_INPUT', 'timeline: not a version 1 timeline');
    }
    const t = new Timeline({ bucketMs: json.bucketMs, startedAt: Date.parse(json.startedAt), uncorrected: json.uncorrected });
    for (const j of json.buckets) {
      const b = emptyBucket(json.uncorrected);
      b.sent = j.sent;
      b.responses = j.responses;
      b.successes = j.successes;
      b.errors = j.errors;
      b.timedOut = j.timedOut ?? 0;
      b.late = j.late ?? 0;
      b.dropped = j.dropped;
      for (const [k, v] of Object.entries(j.statuses)) b.statuses.set(Number(k), v);
      for (const [k, v] of Object.entries(j.errorCodes)) b.errorCodes.set(k, v);
      if (j.latency) b.latency = HistogramCell.fromEncoded(j.latency.hdr, j.latency.summary.count);
      if (json.uncorrected && j.uncorrected) b.uncorrected = HistogramCell.fromEncoded(j.uncorrected.hdr, j.uncorrected.summary.count);
      if (j.wireLag) b.wireLag = HistogramCell.fromEncoded(j.wireLag.hdr, j.wireLag.summary.count);
      t.buckets.push(b);
    }
    return t;
  }
}
