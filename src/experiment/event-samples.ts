// One sample per event of a run (pure). A fault the method injects several times (`times:`) gives each per-fault
// figure once per injection; a probe that looks several times in a run without faults gives each of its figures once
// per look. A compare report takes these samples, over every repetition, for its median and 95 % interval, so one run
// with six kills gives the interval six runs of one kill would, for a sixth of the runs' fixed cost (attach, steady
// state, data-loss check). Runs whose faults are not one repeated step give no per-fault samples: a median over
// different faults means nothing, and the report then takes the run's own figure, one per run.

import type { MetricName } from '../metric-table.js';
import type { WriteRecord } from '../load/ledger.js';
import type { RecoveryReport } from '../probes/recovery.js';
import type { ActivityRecord, FaultWindow } from './journal.js';
import { readErrorRatioDuring, writeOutage } from './metrics.js';
import type { Timeline } from '../load/timeline.js';

/** A metric's samples, one per event (injection or look), in event order. */
export type Samples = Partial<Record<MetricName, number[]>>;

/** What a sample is one of: a compare report counts "6 injections", "6 looks" or "6 runs". */
export type SampleUnit = 'run' | 'injection' | 'look';

/** A run's samples of its figures, and what each sample is one of (a run's own value is the unit 'run'). */
export interface RunSamples {
  per: Exclude<SampleUnit, 'run'>;
  metrics: Samples;
}

/** Whether every fault of the method is an injection of one repeated step (at least two of them). */
export function repeatedFault(method: ActivityRecord[]): boolean {
  const faults = method.filter((a) => a.kind === 'fault' && a.status !== 'skipped');
  return faults.length >= 2 && faults.every((a) => a.injection !== undefined && a.name === faults[0]!.name);
}

/** Each fault's own part of the run: from its start to the next fault's start (the run's end for the last). */
export function injectionSpans(windows: FaultWindow[], runEndMs: number): Array<{ startMs: number; endMs: number }> {
  const sorted = [...windows].sort((a, b) => a.startMs - b.startMs);
  return sorted.map((w, i) => ({ startMs: w.startMs, endMs: sorted[i + 1]?.startMs ?? runEndMs }));
}

const inSpan = (ms: number, s: { startMs: number; endMs: number }) => ms >= s.startMs && ms < s.endMs;
/** A whole list, or nothing: a sample that could not be measured leaves the metric to the run's own figure. */
const all = (values: Array<number | null>): number[] | undefined => (values.every((v): v is number => v !== null) ? values : undefined);

export interface FaultSampleInput {
  recovery: RecoveryReport;
  windows: FaultWindow[];
  runEndMs: number;
  timeline: Timeline;
  /** The write ledger's records; null when the run wrote nothing. */
  writes: WriteRecord[] | null;
  /** The data-loss check's lost keys; null when it could not check. */
  lost: string[] | null;
}

/**
 * The per-fault figures, one sample per injection: the write outage whose runs of failed writes began in its part of
 * the run, its time to recover and failback (as the run's figures count them, for it alone), the acknowledged writes
 * lost that were sent in its part (the first part from the start of load), and read errors during it.
 */
export function faultSamples(input: FaultSampleInput): Samples {
  const { recovery, windows, runEndMs } = input;
  const spans = injectionSpans(windows, runEndMs);
  if (spans.length < 2) return {};
  const out: Samples = {};
  const faults = spans.map((s) => recovery.faults.find((f) => f.startMs === s.startMs) ?? null);
  const ttr = all(faults.map((f) => (!f ? null : f.detectedAtMs === null ? 0 : f.timeToRecoverMs)));
  if (ttr) out.time_to_recover_s = ttr.map((ms) => ms / 1000);
  const healed = faults.filter((f) => f && (f.healedBy === 'itself' || f.healedBy === 'never-down') && f.endMs !== null);
  const failback = healed.length === faults.length ? all(healed.map((f) => f!.failbackMs)) : undefined;
  if (failback) out.failback_s = failback.map((ms) => ms / 1000);
  const writes = input.writes;
  if (writes?.length) {
    const outage = writeOutage(writes, spans[0]!.startMs, runEndMs);
    out.write_outage_s = spans.map((s) => (outage?.spans ?? []).filter((o) => inSpan(o.startMs, s)).reduce((sum, o) => sum + o.endMs - o.startMs, 0) / 1000);
    if (input.lost) {
      const lost = new Set(input.lost);
      const sentAt = writes.filter((w) => lost.has(w.key)).map((w) => w.intendedMs);
      out.lost_writes = spans.map((s, i) => sentAt.filter((ms) => inSpan(ms, i === 0 ? { ...s, startMs: 0 } : s)).length);
    }
  }
  const ledger = writes ? { records: () => writes } : null;
  const reads = all(windows.map((w) => readErrorRatioDuring(input.timeline, ledger, [w], runEndMs)));
  if (reads) out.read_error_ratio_during_faults = reads;
  return out;
}

/** The share of the web servers each injection took a component of, one per injection. */
export function capacitySamples(method: ActivityRecord[], webServers: string[]): number[] | undefined {
  if (!repeatedFault(method) || !webServers.length) return undefined;
  const hit = method
    .filter((a) => a.kind === 'fault' && a.status !== 'skipped')
    .map((a) => ((a.output as { servers?: string[] } | undefined)?.servers ?? []).filter((s) => webServers.includes(s)).length / webServers.length);
  // No injection touched a web server: the figure does not apply (as the run's own is then absent).
  return hit.some((v) => v > 0) ? hit : undefined;
}
