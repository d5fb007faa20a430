// Recovery analysis of a load timeline around fault windows, exactly as docs/architecture.md defines it: baseline,
// time to detect, error window, time to recover, availability and error budget. Pure functions.
//
// Tolerances (documented choices):
// - a bucket is "below baseline" when its success ratio < baseline ratio − ratioTolerance (default 0.05,
//   i.e. 5 points); buckets where nothing completed say nothing and are skipped when detecting;
// - a bucket is "back within tolerance" when its ratio ≥ baseline − ratioTolerance and its p99 ≤
//   max(baseline p99 × latencyFactor, baseline p99 + latencySlackMs) (defaults 3× and 50 ms, because one
//   100 ms bucket's p99 is noisy); an empty bucket cannot show recovery;
// - recovery needs a run of recoveryRunMs (default 3 s) of such buckets, searched from the first bucket below
//   baseline while the fault was on (never before it was detected). When that run starts before the fault ends, the
//   stack healed itself (a failover) and time to recover counts from the fault's start; when it starts only after
//   the revert, it counts from the fault's end (how long the stack took once the cause was gone);
// - a fault that never pushed a bucket below baseline while it was on has nothing to recover from (0), even when
//   the revert disrupted the stack: that disruption is the failback, its own figure: how long it lasted, from its first
//   bucket below baseline after the fault's end to the start of the healthy run after it (0 when there was none).

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import type { Timeline } from '../load/timeline.js';
import { durationField, numberField } from './params.js';
import { observation, startMark } from './runner.js';
import type { FaultWindow, Finding, Observation, Probe } from './types.js';
import { ms, pct } from './text.js';

/** The part of a Timeline the analysis reads; a real Timeline fits, so does a test fake. */
export type RecoveryTimeline = Pick<Timeline, 'bucketMs' | 'length' | 'successRatio' | 'p99' | 'window'>;

export interface RecoveryOptions {
  ratioTolerance: number;
  latencyFactor: number;
  latencySlackMs: number;
  recoveryRunMs: number;
  /** Skipped at the start of the steady part (connection set-up). */
  warmupMs: number;
  /** SLO availability target, e.g. 0.999. */
  slo: number;
}

export const RECOVERY_DEFAULTS: RecoveryOptions = {
  ratioTolerance: 0.05,
  latencyFactor: 3,
  latencySlackMs: 50,
  recoveryRunMs: 3000,
  warmupMs: 1000,
  slo: 0.999,
};

export interface Baseline {
  startMs: number;
  endMs: number;
  successRatio: number | null;
  p99Ms: number | null;
  /** Thresholds derived from it. */
  minRatio: number | null;
  maxP99Ms: number | null;
}

export interface FaultRecovery {
  fault: string;
  startMs: number;
  endMs: number | null;
  /** Fault start → first bucket below baseline while the fault was on; null when never detected. */
  timeToDetectMs: number | null;
  detectedAtMs: number | null;
  /** First to last bucket below baseline while this fault was the latest one (a failback's included). */
  errorWindow: { startMs: number; endMs: number; durationMs: number } | null;
  /**
   * How the stack came back: `itself` (a healthy run began while the fault was on: a failover), `revert` (only once
   * the fault ended), `never-down` (no bucket below baseline while the fault was on), null (it never recovered).
   */
  healedBy: 'itself' | 'revert' | 'never-down' | null;
  /** Fault start (healed by itself) or end (healed by the revert) → start of the first healthy run; 0 never down; null never recovered. */
  timeToRecoverMs: number | null;
  recoveredAtMs: number | null;
  recovered: boolean;
  /**
   * For a fault healed by itself or never down, how long the revert's disruption lasted: the first bucket below
   * baseline after the fault's end → start of the healthy run after it (0 when the revert disrupted nothing; null when
   * the stack never settled). Null when not applicable: the fault had no end, or the stack came back only with the
   * revert (its time to recover is that).
   */
  failbackMs: number | null;
  /** When that disruption began (the first bucket below baseline after the fault's end). */
  failbackAtMs: number | null;
  failbackRecoveredAtMs: number | null;
}

export interface RecoveryReport {
  bucketMs: number;
  baseline: Baseline;
  faults: FaultRecovery[];
  /** Whole-run error window (first to last bucket below baseline after the first fault). */
  errorWindow: { startMs: number; endMs: number; durationMs: number } | null;
  /** successes / intended requests over the whole run (timed-out and dropped ones failed). */
  availability: number | null;
  completed: number;
  failed: number;
  slo: number;
  /** failed / ((1 − slo) × completed): 1 means the whole budget is gone; may exceed 1. */
  errorBudgetConsumed: number | null;
  options: RecoveryOptions;
}

function isBelow(t: RecoveryTimeline, i: number, minRatio: number): boolean {
  const r = t.successRatio(i);
  return r !== null && r < minRatio;
}

function isHealthy(t: RecoveryTimeline, i: number, b: Baseline): boolean {
  const r = t.successRatio(i);
  if (r === null || b.minRatio === null) return false;
  if (r < b.minRatio) return false;
  const p99 = t.p99(i);
  return b.maxP99Ms === null || p99 === null || p99 <= b.maxP99Ms;
}

/** Baseline over [warmup, first fault start), falling back to the whole steady part when it is short. */
export function computeBaseline(t: RecoveryTimeline, steadyEndMs: number, o: RecoveryOptions = RECOVERY_DEFAULTS): Baseline {
  const end = Math.max(0, Math.min(steadyEndMs, t.length * t.bucketMs));
  // Keep at least half of the steady part when the warm-up would eat it.
  const start = Math.min(o.warmupMs, end / 2);
  const w = t.window(start, end);
  const ratio = w.successRatio;
  const p99 = w.latency.p99;
  return {
    startMs: start,
    endMs: end,
    successRatio: ratio,
    p99Ms: p99,
    minRatio: ratio === null ? null : ratio - o.ratioTolerance,
    maxP99Ms: p99 === null ? null : Math.max(p99 * o.latencyFactor, p99 + o.latencySlackMs),
  };
}

/** The full analysis. Faults are on the timeline's clock (ms since t = 0). */
export function analyzeRecovery(t: RecoveryTimeline, faults: FaultWindow[], options: Partial<RecoveryOptions> = {}): RecoveryReport {
  const o = { ...RECOVERY_DEFAULTS, ...options };
  const sorted = [...faults].sort((a, b) => a.startMs - b.startMs);
  const totalMs = t.length * t.bucketMs;
  const first = sorted[0];
  const baseline = computeBaseline(t, first ? first.startMs : totalMs, o);
  const runBuckets = Math.max(1, Math.ceil(o.recoveryRunMs / t.bucketMs - 1e-9));
  const out: FaultRecovery[] = [];
  let runFirstBad: number | null = null;
  let runLastBad: number | null = null;

  /** The first bucket at or after `from` that starts a healthy run of runBuckets; null when none. */
  const healthyRunFrom = (from: number): number | null => {
    let streak = 0;
    for (let i = from; i < t.length; i++) {
      streak = isHealthy(t, i, baseline) ? streak + 1 : 0;
      if (streak >= runBuckets) return i - runBuckets + 1;
    }
    return null;
  };

  for (let f = 0; f < sorted.length; f++) {
    const fault = sorted[f]!;
    const next = sorted[f + 1];
    const fromIdx = Math.floor(fault.startMs / t.bucketMs);
    const limitIdx = Math.min(t.length, next ? Math.floor(next.startMs / t.bucketMs) : t.length);
    // Buckets [fromIdx, endIdx) were intended while the fault was on; a fault without an end is on to the limit.
    const endIdx = fault.endMs === null ? limitIdx : Math.min(limitIdx, Math.max(fromIdx, Math.floor(fault.endMs / t.bucketMs)));
    let firstBad: number | null = null;
    let lastBad: number | null = null;
    let firstBadDuring: number | null = null;
    let firstBadAfter: number | null = null;
    if (baseline.minRatio !== null) {
      for (let i = fromIdx; i < limitIdx; i++) {
        if (!isBelow(t, i, baseline.minRatio)) continue;
        firstBad ??= i;
        lastBad = i;
        if (i < endIdx) firstBadDuring ??= i;
        else firstBadAfter ??= i;
      }
    }
    if (firstBad !== null) runFirstBad ??= firstBad;
    if (lastBad !== null) runLastBad = lastBad;

    let healedBy: FaultRecovery['healedBy'] = 'never-down';
    let recoveredIdx: number | null = null;
    let timeToRecoverMs: number | null = 0;
    if (firstBadDuring !== null) {
      recoveredIdx = healthyRunFrom(firstBadDuring);
      if (recoveredIdx === null) {
        healedBy = null;
        timeToRecoverMs = null;
      } else if (recoveredIdx < endIdx || fault.endMs === null) {
        healedBy = 'itself';
        timeToRecoverMs = Math.max(0, recoveredIdx * t.bucketMs - fault.startMs);
      } else {
        healedBy = 'revert';
        timeToRecoverMs = Math.max(0, recoveredIdx * t.bucketMs - fault.endMs);
      }
    }
    // The failback: what the revert did to a stack that was serving (healed, or never down).
    let failbackMs: number | null = null;
    let failbackIdx: number | null = null;
    if (fault.endMs !== null && (healedBy === 'itself' || healedBy === 'never-down')) {
      if (firstBadAfter === null) failbackMs = 0;
      else {
        // How long the disruption lasted, not when it came: a writer may rejoin (and take the writes back) 10 s after the revert.
        failbackIdx = healthyRunFrom(firstBadAfter);
        failbackMs = failbackIdx === null ? null : (failbackIdx - firstBadAfter) * t.bucketMs;
      }
    }
    const detectedAtMs = firstBadDuring === null ? null : firstBadDuring * t.bucketMs;
    out.push({
      fault: fault.name,
      startMs: fault.startMs,
      endMs: fault.endMs,
      timeToDetectMs: detectedAtMs === null ? null : Math.max(0, detectedAtMs - fault.startMs),
      detectedAtMs,
      errorWindow:
        firstBad === null || lastBad === null
          ? null
          : { startMs: firstBad * t.bucketMs, endMs: (lastBad + 1) * t.bucketMs, durationMs: (lastBad + 1 - firstBad) * t.bucketMs },
      healedBy,
      timeToRecoverMs,
      recoveredAtMs: recoveredIdx === null ? null : recoveredIdx * t.bucketMs,
      recovered: healedBy !== null,
      failbackMs,
      failbackAtMs: failbackMs === 0 || firstBadAfter === null || !(healedBy === 'itself' || healedBy === 'never-down') ? null : firstBadAfter * t.bucketMs,
      failbackRecoveredAtMs: failbackIdx === null ? null : failbackIdx * t.bucketMs,
    });
  }

  const whole = t.window(0, totalMs);
  // Intended requests: timed-out (among the errors) and dropped ones are failures.
  const completed = whole.outcomes;
  const failed = completed - whole.successes;
  const budget = (1 - o.slo) * completed;
  return {
    bucketMs: t.bucketMs,
    baseline,
    faults: out,
    errorWindow:
      runFirstBad === null || runLastBad === null
        ? null
        : { startMs: runFirstBad * t.bucketMs, endMs: (runLastBad + 1) * t.bucketMs, durationMs: (runLastBad + 1 - runFirstBad) * t.bucketMs },
    availability: completed === 0 ? null : whole.successes / completed,
    completed,
    failed,
    slo: o.slo,
    errorBudgetConsumed: completed === 0 ? null : budget > 0 ? failed / budget : failed > 0 ? Number.POSITIVE_INFINITY : 0,
    options: o,
  };
}

// ---- the probe ----

const params = z
  .object({
    slo: numberField({ min: 0, max: 1 }).default(0.999),
    ratioTolerance: numberField({ min: 0, max: 1 }).default(RECOVERY_DEFAULTS.ratioTolerance),
    recoveryRun: durationField({ min: 100, max: 600_000 }).default(`${RECOVERY_DEFAULTS.recoveryRunMs}ms`),
    /** The verdict: every fault recovered within this long (default: recovered at all). */
    maxRecovery: durationField({ min: 0 }).optional(),
  })
  .strict();
type Params = z.infer<typeof params>;

export interface RecoveryValue {
  /** Longest time to recover over the faults; null when one never recovered. */
  timeToRecoverMs: number | null;
  availability: number | null;
  errorBudgetConsumed: number | null;
}

export function recoveryFindings(r: RecoveryReport): Finding[] {
  const out: Finding[] = [];
  for (const f of r.faults)
    if (!f.recovered)
      out.push({ id: 'not-recovered', severity: 'critical', message: `no ${r.options.recoveryRunMs} ms healthy run after ${f.fault}`, where: f.fault });
  if (r.errorBudgetConsumed !== null && r.errorBudgetConsumed > 1)
    out.push({
      id: 'error-budget-exceeded',
      severity: 'high',
      message: `${(r.errorBudgetConsumed * 100).toFixed(0)}% of the error budget (SLO ${(r.slo * 100).toFixed(2)}%) consumed`,
    });
  return out;
}

/** "2.1 s from its start (healed itself)", "0.2 s after its end", "never down; failback 1.2 s". */
function recoverText(f: FaultRecovery): string {
  // Journals of older versions have no healedBy: their figure counted from the end.
  if (!f.recovered) return 'never';
  const hasFailback = (f.healedBy === 'itself' || f.healedBy === 'never-down') && f.endMs !== null;
  const failback = !hasFailback ? '' : f.failbackMs === null ? '; failback never settled' : `; failback ${ms(f.failbackMs)}`;
  if (f.healedBy === 'itself') return `${ms(f.timeToRecoverMs)} from its start (healed itself)${failback}`;
  if (f.healedBy === 'never-down') return `0 (never down)${failback}`;
  return `${ms(f.timeToRecoverMs)}${f.healedBy === 'revert' ? ' after its end' : ''}`;
}

function renderRecovery(o: Observation<RecoveryValue>): string[] {
  const r = o.details as unknown as RecoveryReport;
  const lines = [
    `baseline   success ${pct(r.baseline?.successRatio)} p99 ${r.baseline?.p99Ms ?? '–'} ms over ${ms(r.baseline?.startMs)}–${ms(r.baseline?.endMs)}`,
    `run        availability ${pct(r.availability, 3)}, ${r.failed} of ${r.completed} failed, error budget (SLO ${pct(r.slo)}) ${pct(r.errorBudgetConsumed, 0)} used`,
  ];
  for (const f of r.faults ?? []) {
    lines.push(
      `${f.fault.padEnd(10)} detect ${ms(f.timeToDetectMs)}, error window ${f.errorWindow ? ms(f.errorWindow.durationMs) : 'none'}, recover ${recoverText(f)}`,
    );
  }
  return lines;
}

export const recoveryProbe: Probe<Params, RecoveryValue> = {
  name: 'recovery',
  description: 'baseline, time to detect, error window, time to recover, availability and error budget from the load timeline',
  params,
  render: renderRecovery,
  headline: (v) => v.availability,
  async run(ctx, p, signal): Promise<Observation<RecoveryValue>> {
    if (!ctx.timeline) throw new FaultlineError('INVALID_INPUT', 'probe recovery: timeline: needs the timeline of a load run');
    signal.throwIfAborted();
    const started = startMark();
    const report = analyzeRecovery(ctx.timeline, ctx.faults ?? [], { slo: p.slo, ratioTolerance: p.ratioTolerance, recoveryRunMs: p.recoveryRun });
    const times = report.faults.map((f) => f.timeToRecoverMs);
    const ttr = times.some((t) => t === null) ? null : Math.max(0, ...(times as number[]));
    const recovered = report.faults.every((f) => f.recovered);
    return observation('recovery', started, {
      value: { timeToRecoverMs: ttr, availability: report.availability, errorBudgetConsumed: report.errorBudgetConsumed },
      tolerance: p.maxRecovery === undefined ? null : { type: 'atMost', max: p.maxRecovery },
      passed: recovered && (p.maxRecovery === undefined || (ttr !== null && ttr <= p.maxRecovery)),
      details: { ...report },
      findings: recoveryFindings(report),
    });
  },
};
