// Stop conditions (`stop_when:`): a metric over a rolling window of the load's timeline that, once breached, ends the
// run early. The check is a pure function of the timeline and the time; watchStop runs it live while the load runs.

import { z } from 'zod';
import type { LatencySummary } from '../load/types.js';
import type { TimelineBucket, TimelineWindow } from '../load/timeline.js';
import { durationField } from '../util/zod.js';
import { MAX_HOLD_MS } from '../util/duration.js';

/** What a condition can watch: the success ratio of intended requests, its complement, or a latency percentile. */
export const STOP_METRICS = ['availability', 'error_ratio', 'p50_ms', 'p90_ms', 'p99_ms'] as const;
export type StopMetric = (typeof STOP_METRICS)[number];
const RATIOS: readonly StopMetric[] = ['availability', 'error_ratio'];

export const stopConditionSchema = z
  .object({
    metric: z.enum(STOP_METRICS),
    below: z.number().optional(),
    above: z.number().optional(),
    /** The rolling window: the condition reads the last `over` of load, and says nothing until that much has run. */
    over: durationField({ min: 1, max: MAX_HOLD_MS }),
    /** Requests with an outcome the window must hold before it says anything (default 1: an empty window never fires). */
    min_requests: z.number().int().positive().default(1),
  })
  .strict()
  .superRefine((c, ctx) => {
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

/** Problems only the whole experiment shows: a window shorter than a bucket sees nothing whole, one longer than the load never fills. */
export function stopWhenProblems(e: {
  stop_when: StopCondition[];
  load: { bucket: number; duration: number };
}): Array<{ path: Array<string | number>; message: string }> {
  return e.stop_when.flatMap((c, i) =>
    c.over < e.load.bucket
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
  /** The condition in one line: "availability < 0.5 over 5 s". */
  condition: string;
  metric: StopMetric;
  value: number;
  /** When the check saw it, in ms from the start of load. */
  atMs: number;
  /** Requests with an outcome in the window. */
  requests: number;
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
  const bound = c.below !== undefined ? `< ${c.below}` : `> ${c.above}`;
  return `${c.metric} ${bound} over ${c.over / 1000} s`;
}

/** One line for logs and reports: "stopped at t=12.3 s: availability 0.120 (< 0.5 over 5 s, 412 requests)". */
export function describeStop(s: StopRecord): string {
  const value = RATIOS.includes(s.metric) ? s.value.toFixed(3) : `${s.value.toFixed(1)} ms`;
  const revert = s.firstRevertAfterMs === undefined ? '' : `; first revert ${Math.round(s.firstRevertAfterMs)} ms later`;
  return `stopped at t=${(s.atMs / 1000).toFixed(1)} s: ${s.metric} ${value} (${s.condition.slice(s.metric.length + 1)}, ${s.requests} requests)${revert}`;
}

const PERCENTILE: Record<string, keyof LatencySummary> = { p50_ms: 'p50', p90_ms: 'p90', p99_ms: 'p99' };

/**
 * The value of one condition's metric at `nowMs`, over the buckets of its window (the current, partial one included:
 * a fast failure shows at once), or null when the window says nothing: not yet `over` of load, or fewer than
 * `min_requests` outcomes in it (empty buckets never fire a stop).
 */
export function windowValue(c: StopCondition, tl: TimelineView, nowMs: number): { value: number; requests: number } | null {
  const last = Math.min(Math.floor(Math.max(0, nowMs) / tl.bucketMs), tl.length - 1);
  const span = Math.max(1, Math.ceil(c.over / tl.bucketMs - 1e-9));
  const first = last - span + 1;
  if (first < 0) return null;
  if (PERCENTILE[c.metric]) {
    const w = tl.window(first * tl.bucketMs, (last + 1) * tl.bucketMs);
    const v = w.latency[PERCENTILE[c.metric]!] as number | null;
    return v === null || w.outcomes < c.min_requests ? null : { value: v, requests: w.outcomes };
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
export function checkStop(conditions: readonly StopCondition[], tl: TimelineView, nowMs: number): StopRecord | null {
  for (const [index, c] of conditions.entries()) {
    const w = windowValue(c, tl, nowMs);
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
  load: { timeline?: TimelineView | undefined; elapsedMs(): number },
  onBreach: (stop: StopRecord) => void,
  signal: AbortSignal,
): { watched: boolean } {
  const tl = load.timeline;
  if (!conditions.length || !tl || signal.aborted) return { watched: false };
  const timer = setInterval(() => {
    const stop = checkStop(conditions, tl, load.elapsedMs());
    if (!stop) return;
    clearInterval(timer);
    onBreach(stop);
  }, checkEveryMs(tl.bucketMs));
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return { watched: true };
}
