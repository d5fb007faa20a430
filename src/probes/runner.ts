// Running probes: once (validated params → Observation; a probe that cannot look is recorded, not thrown),
// and continuously on an interval while faults are active, bounded in count and time.

import { asFaultlineError, FaultlineError } from '../errors.js';
import { systemClock } from '../util/retry.js';
import { parseProbeParams } from './params.js';
import { withinTolerance, type Tolerance } from './tolerance.js';
import type { AnyProbe, Finding, Observation, ProbeContext } from './types.js';

/** Builds an Observation; `passed` defaults to matching value against the tolerance. */
export function observation<V>(
  probe: string,
  started: { at: number; wall: number },
  fields: { value: V; tolerance: Tolerance | null; details?: Record<string, unknown>; findings?: Finding[]; passed?: boolean },
  now = Date.now(),
): Observation<V> {
  const passed = fields.passed ?? (fields.tolerance ? withinTolerance(fields.value, fields.tolerance) : true);
  return {
    probe,
    timestamp: new Date(started.wall).toISOString(),
    durationMs: Math.max(0, now - started.at),
    value: fields.value,
    passed,
    tolerance: fields.tolerance,
    details: fields.details ?? {},
    findings: fields.findings ?? [],
  };
}

export function startMark(now = Date.now()): { at: number; wall: number } {
  return { at: now, wall: now };
}

/**
 * Validates params and runs the probe once. Invalid params throw INVALID_INPUT before anything is touched;
 * an abort is rethrown; any other failure becomes an Observation with `error` set and passed = false.
 */
export async function runProbe(probe: AnyProbe, ctx: ProbeContext, rawParams: unknown, signal: AbortSignal): Promise<Observation> {
  const params: unknown = parseProbeParams(probe.name, probe.params, rawParams);
  const started = startMark();
  try {
    return await probe.run(ctx, params, signal);
  } catch (err) {
    const e = asFaultlineError(err, 'TARGET_UNREACHABLE');
    if (e.code === 'ABORTED' || signal.aborted) throw e;
    if (e.code === 'INVALID_INPUT') throw e;
    return { ...observation(probe.name, started, { value: null, tolerance: null, passed: false }), error: { code: e.code, message: e.message } };
  }
}

export interface ContinuousOptions {
  intervalMs: number;
  signal: AbortSignal;
  params?: unknown;
  /** Hard bound on looks (default 1000). */
  maxObservations?: number;
  /** Hard bound on time (default 1 h). */
  maxDurationMs?: number;
  onObservation?: (o: Observation) => void;
}

/**
 * Looks every intervalMs (measured start to start; a slow look delays the next one, never overlaps it)
 * until the signal aborts or a bound is reached; resolves with every observation, never rejects on abort.
 */
export async function runContinuously(probe: AnyProbe, ctx: ProbeContext, options: ContinuousOptions): Promise<Observation[]> {
  if (!(options.intervalMs >= 10)) throw new FaultlineError('INVALID_INPUT', `interval: must be at least 10 ms, got ${options.intervalMs}`);
  // Fail fast on bad params; each look re-parses the raw params (transforms are not idempotent).
  parseProbeParams(probe.name, probe.params, options.params);
  const clock = ctx.clock ?? systemClock;
  const max = options.maxObservations ?? 1000;
  const deadline = clock.now() + (options.maxDurationMs ?? 3_600_000);
  const out: Observation[] = [];
  while (out.length < max && !options.signal.aborted && clock.now() < deadline) {
    const lookStarted = clock.now();
    try {
      const o = await runProbe(probe, ctx, options.params, options.signal);
      out.push(o);
      options.onObservation?.(o);
    } catch (err) {
      if (options.signal.aborted) break;
      throw err;
    }
    const wait = Math.max(0, lookStarted + options.intervalMs - clock.now());
    if (out.length >= max || clock.now() + wait >= deadline) break;
    try {
      await clock.sleep(wait, options.signal);
    } catch {
      break;
    }
  }
  return out;
}
