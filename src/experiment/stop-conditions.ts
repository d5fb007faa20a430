// Stop conditions (`stop_when:`): a metric over a rolling window of the load's timeline, or a probe failing looks in a
// row, that once breached ends the run early. The metric check is a pure function of the timeline and the time;
// watchStop runs it live while the load runs, watchProbeStop looks with the probe on its own interval.

import { z } from 'zod';
import type { LatencySummary } from '../load/types.js';
import type { TimelineBucket, TimelineWindow } from '../load/timeline.js';
import { durationField } from '../util/zod.js';
import { MAX_HOLD_MS } from '../util/duration.js';

/** What a condition can watch: the success ratio of intended requests, its complement, or a latency percentile. */
export const STOP_METRICS = ['availability', 'error_ratio', 'p50_ms', 'p90_ms', 'p99_ms'] as const;
export type StopMetric = (typeof STOP_METRICS)[number];
const RATIOS: readonly StopMetric[] = ['availability', 'error_ratio'];

const metricCondition = z
  .object({
    kind: z.literal('metric'),
    metric: z.enum(STOP_METRICS),
    below: z.number().optional(),
    above: z.number().optional(),
    /** The rolling window: the condition reads the last `over` of load, and says nothing until that much has run. */
    over: durationField({ min: 1, max: MAX_HOLD_MS }),
    /** Requests with an outcome the window must hold before it says anything (default 1: an empty window never fires). */
    min_requests: z.number().int().positive().default(1),
  })
  .strict();

/** A probe of the catalogue, looking on its own interval while the load runs; its own verdict decides a failed look. */
const probeCondition = z
  .object({
    kind: z.literal('probe'),
    probe: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a probe name such as "http"'),
    params: z.record(z.unknown()).default({}),
    every: durationField({ min: 100, max: MAX_HOLD_MS }).default('1s'),
    /** Failed looks in a row that fire the stop (default 1). */
    failures: z.number().int().positive().default(1),
  })
  .strict();

/** The file never names `kind`: an entry with `probe` is a probe condition, any other a metric one (so errors name their real field). */
export const stopConditionSchema = z
  .preprocess(
    (v) => (v && typeof v === 'object' && !Array.isArray(v) ? { kind: 'probe' in v ? 'probe' : 'metric', ...v } : v),
    z.discriminatedUnion('kind', [metricCondition, probeCondition]),
  )
  .superRefine((c, ctx) => {
    if (c.kind !== 'metric') return;
    const add = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if ((c.below === undefined) === (c.above === undefined)) add('below', 'give one bound: below or above');
    for (const key of ['below', 'above'] as const) {
      const v = c[key];
      if (v !== undefined && RATIOS.includes(c.metric) && (v < 0 || v > 1)) add(key, `${c.metric} is a ratio: give a bound from 0 to 1`);
      if (v !== undefined && !RATIOS.includes(c.metric) && v < 0) add(key, 'a latency bound is not negative');
    }
  });

export const stopWhenSchema = z.array(stopConditionSchema).default([]);
export type StopCondition = z.output<typeof stopConditionSchema>;
export type MetricStopCondition = z.output<typeof metricCondition>;
export type ProbeStopCondition = z.output<typeof probeCondition>;

/** Problems only the whole experiment shows: a window shorter than a bucket sees nothing whole, one longer than the load never fills. */
export function stopWhenProblems(e: {
  stop_when: StopCondition[];
  load: { bucket: number; duration: number };
}): Array<{ path: Array<string | number>; message: string }> {
  return e.stop_when.flatMap((c, i) =>
    c.kind !== 'metric'
      ? []
      : c.over < e.load.bucket
        ? [{ path: ['stop_when', i, 'over'], message: `must be at least the load's bucket (${e.load.bucket} ms)` }]
        : c.over > e.load.duration
          ? [{ path: ['stop_when', i, 'over'], message: `must fit inside the load (duration ${e.load.duration / 1000} s): a longer window never fills` }]
          : [],
  );
}

/** Which condition fired, with what, when: the journal's record of a stop. */
export interface StopRecord {
  /** Index in stop_when. */
  index: number;
  /** The condition in one line: "availability < 0.5 over 5 s", "probe http failed 2 looks in a row". */
  condition: string;
  /** The metric watched, or the probe that failed. */
  metric?: StopMetric | undefined;
  probe?: string | undefined;
  /** The metric's value over the window; for a probe, its failed looks in a row. */
  value: number;
  /** When the check saw it, in ms from the start of load. */
  atMs: number;
  /** Requests with an outcome in the window (metric conditions). */
  requests?: number | undefined;
  /** What the probe's last look said (its error, or its value), for a probe condition. */
  detail?: string | undefined;
  /** From the check that saw it to the first fault revert called (absent when no fault was in effect). */
  firstRevertAfterMs?: number | undefined;
}

/** The part of a Timeline the check reads (a real Timeline, or a made-up one in tests). */
export interface TimelineView {
  readonly bucketMs: number;
  readonly length: number;
  bucket(index: number): TimelineBucket | null;
  window(fromMs: number, toMs: number): TimelineWindow;
}

export function describeCondition(c: StopCondition): string {
  if (c.kind === 'probe') return `probe ${c.probe} failed ${c.failures} look${c.failures > 1 ? 's' : ''} in a row (every ${c.every / 1000} s)`;
  const bound = c.below !== undefined ? `< ${c.below}` : `> ${c.above}`;
  return `${c.metric} ${bound} over ${c.over / 1000} s`;
}

/** One line for logs and reports: "stopped at t=12.3 s: availability 0.120 (< 0.5 over 5 s, 412 requests)". */
export function describeStop(s: StopRecord): string {
  const revert = s.firstRevertAfterMs === undefined ? '' : `; first revert ${Math.round(s.firstRevertAfterMs)} ms later`;
  const at = `stopped at t=${(s.atMs / 1000).toFixed(1)} s`;
  if (!s.metric) return `${at}: ${s.condition}${s.detail ? ` (${s.detail})` : ''}${revert}`;
  const value = RATIOS.includes(s.metric) ? s.value.toFixed(3) : `${s.value.toFixed(1)} ms`;
  return `${at}: ${s.metric} ${value} (${s.condition.slice(s.metric.length + 1)}, ${s.requests} requests)${revert}`;
}

const PERCENTILE: Record<string, keyof LatencySummary> = { p50_ms: 'p50', p90_ms: 'p90', p99_ms: 'p99' };
const QUANTILE: Record<string, number> = { p50_ms: 0.5, p90_ms: 0.9, p99_ms: 0.99 };

/** The timeline times of requests in flight filed in [fromMs, toMs) (LoadJob.inFlightTimes). */
export type InFlightTimes = (fromMs: number, toMs: number) => number[];

/**
 * A lower bound of a window's percentile counting the requests still in flight: each will take at least its age so
 * far, so when `outcomes + ages.length` samples hold k at least as slow as A (k the samples at or above the
 * percentile's rank), the percentile is at least A. null when the requests in flight are too few to say. Pure.
 */
export function inFlightPercentileFloor(q: number, outcomes: number, ages: number[]): number | null {
  if (ages.length === 0) return null;
  const total = outcomes + ages.length;
  const k = total - Math.ceil(q * total) + 1;
  if (k > ages.length) return null;
  return [...ages].sort((a, b) => b - a)[k - 1]!;
}

/**
 * The value of one condition's metric at `nowMs`, over the buckets of its window (the current, partial one included:
 * a fast failure shows at once), or null when the window says nothing: not yet `over` of load, or fewer than
 * `min_requests` outcomes in it (empty buckets never fire a stop).
 */
export function windowValue(c: MetricStopCondition, tl: TimelineView, nowMs: number, inFlight?: InFlightTimes): { value: number; requests: number } | null {
  const last = Math.min(Math.floor(Math.max(0, nowMs) / tl.bucketMs), tl.length - 1);
  const span = Math.max(1, Math.ceil(c.over / tl.bucketMs - 1e-9));
  const first = last - span + 1;
  if (first < 0) return null;
  if (PERCENTILE[c.metric]) {
    const w = tl.window(first * tl.bucketMs, (last + 1) * tl.bucketMs);
    const v = w.latency[PERCENTILE[c.metric]!] as number | null;
    // Requests that hang have no latency yet: without them a window where a third of the requests hang reads fast.
    const ages = (inFlight?.(first * tl.bucketMs, (last + 1) * tl.bucketMs) ?? []).map((t) => Math.max(0, nowMs - t));
    const floor = inFlightPercentileFloor(QUANTILE[c.metric]!, w.outcomes, ages);
    const value = floor === null ? v : Math.max(v ?? 0, floor);
    const requests = w.outcomes + (floor === null ? 0 : ages.length);
    return value === null || requests < c.min_requests ? null : { value, requests };
  }
  // Counts only: no histogram is merged for a ratio, so the check stays cheap on every bucket.
  let successes = 0;
  let outcomes = 0;
  for (let i = first; i <= last; i++) {
    const b = tl.bucket(i);
    if (!b) continue;
    successes += b.successes;
    outcomes += b.responses + b.errors + b.dropped;
  }
  if (outcomes === 0 || outcomes < c.min_requests) return null;
  const availability = successes / outcomes;
  return { value: c.metric === 'availability' ? availability : 1 - availability, requests: outcomes };
}

/** The first condition breached at `nowMs`, or null. Pure: the same timeline and time give the same answer. */
export function checkStop(conditions: readonly StopCondition[], tl: TimelineView, nowMs: number, inFlight?: InFlightTimes): StopRecord | null {
  for (const [index, c] of conditions.entries()) {
    if (c.kind !== 'metric') continue;
    const w = windowValue(c, tl, nowMs, inFlight);
    if (!w) continue;
    const breached = c.below !== undefined ? w.value < c.below : c.above !== undefined && w.value > c.above;
    if (breached) return { index, condition: describeCondition(c), metric: c.metric, value: w.value, atMs: Math.round(nowMs), requests: w.requests };
  }
  return null;
}

/** How often the live check looks: every bucket, but not more often than 20 times a second. */
export const checkEveryMs = (bucketMs: number) => Math.max(bucketMs, 50);

/**
 * Runs checkStop on the live timeline every bucket until the signal ends or a condition fires (then once: onBreach).
 * A load without a live timeline (worker threads) cannot be watched: `watched` is false and nothing fires.
 */
export function watchStop(
  conditions: readonly StopCondition[],
  load: { timeline?: TimelineView | undefined; elapsedMs(): number; inFlightTimes?: InFlightTimes | undefined },
  onBreach: (stop: StopRecord) => void,
  signal: AbortSignal,
): { watched: boolean } {
  const tl = load.timeline;
  if (!conditions.some((c) => c.kind === 'metric') || !tl || signal.aborted) return { watched: false };
  const timer = setInterval(() => {
    const stop = checkStop(conditions, tl, load.elapsedMs(), load.inFlightTimes ? (from, to) => load.inFlightTimes!(from, to) : undefined);
    if (!stop) return;
    clearInterval(timer);
    onBreach(stop);
  }, checkEveryMs(tl.bucketMs));
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return { watched: true };
}

/**
 * Looks with a probe condition's probe every `every` until the signal ends or `failures` looks in a row failed (then
 * once: onBreach). `look` is the probe's verdict, or what went wrong as a string; a look that throws is a failed look.
 */
export async function watchProbeStop(
  c: ProbeStopCondition,
  index: number,
  look: (signal: AbortSignal) => Promise<true | string>,
  clock: () => number,
  onBreach: (stop: StopRecord) => void,
  signal: AbortSignal,
): Promise<void> {
  let inRow = 0;
  while (!signal.aborted) {
    const started = Date.now();
    const verdict = await look(signal).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (signal.aborted) return;
    inRow = verdict === true ? 0 : inRow + 1;
    if (inRow >= c.failures) {
      onBreach({ index, condition: describeCondition(c), probe: c.probe, value: inRow, atMs: Math.round(clock()), detail: verdict as string });
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, c.every - (Date.now() - started)));
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
