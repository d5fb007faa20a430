// The judge: from what a run measured (the load result, the fault windows, the activities and the
// data-loss check) to its metrics, findings, assertion results and verdict. Pure: no Docker, no clock,
// so every rule is tested table by table.

import { METRIC_TABLE, type MetricName, type MetricValue, type Metrics } from '../metric-table.js';
import type { LoadResult } from '../load/index.js';
import { analyzeRecovery } from '../probes/recovery.js';
import { gradeRank, isGrade, worstGrade } from '../probes/grade.js';
import type { AnyProbe, FaultWindow, Look, Observation } from '../probes/types.js';
import type { DataLossResult } from '../probes/data-loss.js';
import { evaluateAssertions } from './assertions.js';
import { looksOf } from './activities.js';
import { readErrorRatioDuring, steadyFigures, unsteadySpans, writeOutage } from './metrics.js';
import { faultSamples, repeatedFault, type RunSamples, type Samples } from './event-samples.js';
import type { AssertionSpec } from './schema.js';
import type { ActivityRecord, AssertionResult, ExperimentStatus } from './journal.js';

export interface JudgeInput {
  load: Pick<LoadResult, 'timeline' | 'ledger' | 'summary'>;
  faultWindows: FaultWindow[];
  warmupMs: number;
  steadyStateBefore: ActivityRecord[];
  method: ActivityRecord[];
  /** Null when the run wrote nothing; an observation without a check when the probe could not look. */
  dataLoss: Observation | null;
  /** What each probe contributes (by name); probes not listed contribute nothing. */
  probes: readonly Pick<AnyProbe, 'name' | 'metrics' | 'evidence'>[];
}

export interface Measured {
  metrics: Metrics;
  /** Structured details behind the metrics (recovery, write outage, data loss, and each probe's evidence). */
  findings: Record<string, unknown>;
  /** One sample per injection of a repeated fault, or per look of a probe in a run without faults (event-samples.ts). */
  samples?: RunSamples | undefined;
}

/** The worst of some values of a metric, in the metric table's direction; null when there are none. */
export function worstOf(metric: MetricName, values: MetricValue[]): MetricValue {
  const spec = METRIC_TABLE[metric];
  if (spec.unit === 'grade') return worstGrade(values.filter(isGrade));
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!nums.length) return null;
  return spec.better === 'higher' ? Math.min(...nums) : Math.max(...nums);
}

/** Whether `a` is worse than `b` for this metric (a missing value is never worse). */
function worse(metric: MetricName, a: MetricValue, b: MetricValue): boolean {
  if (a === null || b === null) return a !== null && b === null;
  if (METRIC_TABLE[metric].unit === 'grade') return gradeRank(a) > gradeRank(b);
  return METRIC_TABLE[metric].better === 'higher' ? Number(a) < Number(b) : Number(a) > Number(b);
}

/** The metrics and evidence the probes declare, over the looks of the steady state before and of the method. */
export function probeMetrics(input: Pick<JudgeInput, 'steadyStateBefore' | 'method' | 'probes'>): Measured {
  const metrics: Metrics = {};
  const findings: Record<string, unknown> = {};
  const samples: Samples = {};
  const faultless = !input.method.some((a) => a.kind === 'fault');
  for (const probe of input.probes) {
    const looks = (acts: ActivityRecord[]) => acts.filter((a) => a.name === probe.name).flatMap((a) => looksOf(a, probe));
    const steady = looks(input.steadyStateBefore);
    const method = looks(input.method);
    const over: Record<'run' | 'steady' | 'all', Look[]> = { run: method.length ? method : steady, steady, all: [...steady, ...method] };
    for (const c of probe.metrics ?? []) {
      const values = over[c.over].map((l) => c.of(l));
      metrics[c.metric] = worstOf(c.metric, values);
      // Looks of a stack nothing was done to are repetitions of one measurement: each is a sample.
      const nums = values.map((v) => (METRIC_TABLE[c.metric].unit === 'grade' ? null : v));
      if (faultless && values.length > 1 && nums.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) samples[c.metric] = nums;
    }
    const e = probe.evidence;
    const by = e && probe.metrics?.find((c) => c.metric === e.worstBy);
    if (e && by) {
      // The first look with the worst value, the method's before the steady state's.
      let worst: Look | undefined;
      for (const l of [...method, ...steady]) if (!worst || worse(by.metric, by.of(l), by.of(worst))) worst = l;
      if (worst) findings[e.key] = worst.evidence;
    }
  }
  return { metrics, findings, ...(Object.keys(samples).length ? { samples: { per: 'look', metrics: samples } } : {}) };
}

/** The set check's figures; "unknown" with nothing measured when the probe could not read the database. */
function dataLossMetrics(o: Observation | null): Metrics {
  const check = (o?.details as Partial<DataLossResult> | undefined)?.check ?? null;
  return {
    data_loss_status: typeof o?.value === 'string' ? o.value : 'unknown',
    lost_writes: check ? check.lost.length : null,
    unexpected_writes: check ? check.unexpected.length : null,
    recovered_writes: check ? check.recovered.length : null,
  };
}

const lostKeys = (o: Observation | null): string[] | null => (o?.details as Partial<DataLossResult> | undefined)?.check?.lost ?? null;

/** Every metric of a run (pure). */
export function measure(input: JudgeInput): Measured {
  const { timeline, ledger, summary } = input.load;
  const windows = input.faultWindows;
  const runEnd = timeline.length * timeline.bucketMs;
  const recovery = analyzeRecovery(timeline, windows, { warmupMs: input.warmupMs });
  const findings: Record<string, unknown> = { recovery };
  const m: Metrics = {};
  m.requests = summary.intended;
  m.availability = recovery.availability;
  m.error_ratio = summary.errorRatio;
  m.p99_ms = summary.latency.p99;
  const steady = steadyFigures(timeline, unsteadySpans(recovery, windows, input.warmupMs, runEnd));
  m.error_ratio_outside_faults = steady.errorRatio;
  m.p99_ms_outside_faults = steady.p99Ms;
  const detects = recovery.faults.map((f) => f.timeToDetectMs).filter((v): v is number => v !== null);
  m.time_to_detect_s = detects.length ? Math.max(...detects) / 1000 : null;
  // A fault that never hurt needs no recovery: 0. One that hurt and never recovered: not measurable (null).
  const ttr = recovery.faults.map((f) => (f.detectedAtMs === null ? 0 : f.timeToRecoverMs));
  m.time_to_recover_s = ttr.length && ttr.every((v) => v !== null) ? Math.max(...(ttr as number[])) / 1000 : ttr.length ? null : 0;
  // The revert's own disruption of a stack that was serving is its own figure (docs/architecture.md); null: none applies.
  const failbacks = recovery.faults.filter((f) => (f.healedBy === 'itself' || f.healedBy === 'never-down') && f.endMs !== null);
  m.failback_s = !failbacks.length ? null : failbacks.some((f) => f.failbackMs === null) ? null : Math.max(...failbacks.map((f) => f.failbackMs!)) / 1000;
  m.error_budget_consumed = recovery.errorBudgetConsumed;

  const writes = ledger.records();
  if (writes.length) {
    const outage = writeOutage(writes, windows[0]?.startMs ?? 0, runEnd);
    findings.writeOutage = outage;
    m.write_outage_s = outage ? outage.durationMs / 1000 : 0;
    const c = ledger.counts();
    m.write_error_ratio = c.attempted ? (c.fail + c.unknown) / c.attempted : null;
    m.writes_acknowledged = c.ok;
    m.read_error_ratio_during_faults = readErrorRatioDuring(timeline, ledger, windows, runEnd);
    findings.dataLoss = input.dataLoss;
    Object.assign(m, dataLossMetrics(input.dataLoss));
  } else {
    m.read_error_ratio_during_faults = readErrorRatioDuring(timeline, null, windows, runEnd);
  }
  const probes = probeMetrics(input);
  const perInjection = repeatedFault(input.method)
    ? faultSamples({ recovery, windows, runEndMs: runEnd, timeline, writes: writes.length ? writes : null, lost: lostKeys(input.dataLoss) })
    : {};
  const samples: RunSamples | undefined = Object.keys(perInjection).length ? { per: 'injection', metrics: perInjection } : probes.samples;
  if (m.write_outage_s !== undefined) m.write_outage_worst_s = perInjection.write_outage_s ? Math.max(...perInjection.write_outage_s) : m.write_outage_s;
  return { metrics: { ...m, ...probes.metrics }, findings: { ...findings, ...probes.findings }, ...(samples ? { samples } : {}) };
}

/** An experiment's verdict (a compare report's per-figure verdict is another thing, report/before-after.ts). */
export interface ExperimentVerdict {
  status: ExperimentStatus;
  reason: string;
  assertions: AssertionResult[];
}

/** The verdict: a method step that could not run is an error; a failed assertion or steady state after, a failure. */
export function verdict(input: {
  assertions: AssertionSpec[];
  metrics: Metrics;
  method: ActivityRecord[];
  steadyStateAfterMet: boolean | null;
}): ExperimentVerdict {
  const assertions = evaluateAssertions(input.assertions, input.metrics);
  const failedAssertions = assertions.filter((a) => !a.passed);
  const methodErrors = input.method.filter((a) => a.status === 'error');
  if (methodErrors.length) return { status: 'error', reason: methodErrors.map((a) => `${a.kind} ${a.name}: ${a.error}`).join('; '), assertions };
  // An action that ran but did not do what it should (an unexpected exit code, a timeout) fails the run as an assertion does.
  const failedActions = input.method.filter((a) => a.kind === 'action' && a.status === 'failed');
  if (failedAssertions.length || failedActions.length || input.steadyStateAfterMet === false) {
    const parts = [...failedAssertions.map((a) => `${a.name} (measured ${a.value ?? 'n/a'})`), ...failedActions.map((a) => `${a.name}: ${a.error}`)];
    if (input.steadyStateAfterMet === false) parts.push('the steady state did not hold after the method');
    return { status: 'failed', reason: `failed: ${parts.join('; ')}`, assertions };
  }
  const after = input.steadyStateAfterMet ? ' and the steady state held after the method' : '';
  return { status: 'passed', reason: `all ${assertions.length} assertion(s) held${after}`, assertions };
}
