// Probe activities as the journal records them: one look (a steady-state step, a method step at a time or
// during a fault) or a series (`every`), each judged by the step's own tolerance or the probe's.

import { runContinuously, runProbe } from '../probes/runner.js';
import { parseTolerance, withinTolerance } from '../probes/tolerance.js';
import type { AnyProbe, Look, Observation, ProbeContext } from '../probes/types.js';
import type { ProbeStep } from './schema.js';
import type { ActivityRecord, Phase } from './journal.js';

export const iso = (ms = Date.now()) => new Date(ms).toISOString();

/** The scalar a step's tolerance is matched against: what the probe declares as its headline. */
export function headlineOf(probe: Pick<AnyProbe, 'headline'>, value: unknown): unknown {
  return value === null || value === undefined || !probe.headline ? value : probe.headline(value);
}

/** A probe's verdict: the step's own tolerance when it declares one, otherwise the probe's. */
export function stepVerdict(probe: Pick<AnyProbe, 'headline'>, step: Pick<ProbeStep, 'tolerance'>, o: Observation): boolean {
  if (o.error) return false;
  if (step.tolerance === undefined) return o.passed;
  const t = parseTolerance(step.tolerance);
  return t ? withinTolerance(headlineOf(probe, o.value), t) : o.passed;
}

/** The offsets of an activity from the start of load, when it ran during load. */
export interface LoadClock {
  elapsedMs(): number;
}

export async function probeOnce(
  probe: AnyProbe,
  step: ProbeStep,
  phase: Phase,
  ctx: ProbeContext,
  signal: AbortSignal,
  clock?: LoadClock,
): Promise<ActivityRecord> {
  const start = Date.now();
  const startMs = clock?.elapsedMs();
  const o = await runProbe(probe, ctx, step.params, signal);
  const passed = stepVerdict(probe, step, o);
  return {
    kind: 'probe',
    name: step.probe,
    title: step.title,
    phase,
    status: o.error ? 'error' : passed ? 'succeeded' : 'failed',
    start: iso(start),
    end: iso(),
    startMs,
    endMs: clock?.elapsedMs(),
    params: step.params,
    tolerance: step.tolerance ?? o.tolerance,
    output: o,
    error: o.error?.message,
  };
}

/** A series of looks on an interval until `signal` ends it; each look keeps what the probe's evidence needs. */
export async function probeSeries(
  probe: AnyProbe,
  step: ProbeStep & { every: number },
  ctx: ProbeContext,
  signal: AbortSignal,
  clock: LoadClock,
  maxDurationMs: number,
): Promise<ActivityRecord> {
  const start = iso();
  const startMs = clock.elapsedMs();
  const observations = await runContinuously(probe, ctx, { intervalMs: step.every, signal, params: step.params, maxDurationMs });
  const failed = observations.filter((o) => !stepVerdict(probe, step, o));
  return {
    kind: 'probe',
    name: step.probe,
    title: step.title,
    phase: 'method',
    status: observations.some((o) => o.error) ? 'error' : failed.length ? 'failed' : 'succeeded',
    start,
    end: iso(),
    startMs,
    endMs: clock.elapsedMs(),
    params: step.params,
    tolerance: step.tolerance,
    output: {
      observations: observations.map((o) => ({
        t: o.timestamp,
        value: o.value,
        passed: stepVerdict(probe, step, o),
        findings: o.findings,
        ...(probe.evidence && !o.error ? { evidence: probe.evidence.of(o) } : {}),
      })),
    },
    error: observations.find((o) => o.error)?.error?.message,
  };
}

/** The looks a probe activity holds (none for one that could not look); evidence taken as the probe declares. */
export function looksOf(a: ActivityRecord, probe: Pick<AnyProbe, 'evidence'> | undefined): Look[] {
  if (a.kind !== 'probe' || a.status === 'error' || !a.output) return [];
  const out = a.output as Observation | { observations: Look[] };
  if ('observations' in out) return out.observations.map((o) => ({ value: o.value, findings: o.findings ?? [], evidence: o.evidence }));
  return [{ value: out.value, findings: out.findings, evidence: probe?.evidence?.of(out) }];
}
