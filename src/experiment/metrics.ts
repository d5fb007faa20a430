// The numbers an experiment is judged by, computed from the timeline, the write ledger, the fault windows and
// the probes' observations (pure). Definitions follow docs/architecture.md; choices it leaves open are stated here:
// - "outside fault windows" excludes each fault from its start until the stack recovered (or the end of the
//   run when it never did) and the warm-up, so a slow recovery is not hidden in the steady figures;
// - reads during faults are all requests minus the ledger's writes in the same buckets (both keyed by the
//   intended send time), since the timeline counts every request.

import type { Timeline } from '../load/timeline.js';
import type { WriteLedger, WriteRecord } from '../load/ledger.js';
import type { RecoveryReport } from '../probes/recovery.js';
import type { ActivityRecord, FaultWindow } from './journal.js';

export interface ExcludedSpan {
  startMs: number;
  endMs: number;
}

/** Spans that do not count as steady: warm-up, and each fault from its start until recovered. */
export function unsteadySpans(recovery: RecoveryReport | null, faults: FaultWindow[], warmupMs: number, runEndMs: number): ExcludedSpan[] {
  const spans: ExcludedSpan[] = [{ startMs: 0, endMs: warmupMs }];
  for (const f of faults) {
    const r = recovery?.faults.find((x) => x.fault === f.name && x.startMs === f.startMs);
    const end = r?.recoveredAtMs ?? (r && !r.recovered ? runEndMs : (f.endMs ?? runEndMs));
    // The revert's disruption of a stack that had healed (the failback) is not steady either.
    const failbackEnd =
      r?.failbackRecoveredAtMs ?? (r?.failbackMs === null && f.endMs !== null && r.healedBy !== 'revert' && r.healedBy !== null ? runEndMs : 0);
    spans.push({ startMs: f.startMs, endMs: Math.max(end, failbackEnd, f.endMs ?? f.startMs) });
  }
  return spans;
}

function inSpans(ms: number, spans: ExcludedSpan[]): boolean {
  return spans.some((s) => ms >= s.startMs && ms < s.endMs);
}

export interface SteadyFigures {
  /** Intended requests with an outcome: responses, errors (timed out among them) and dropped. */
  completed: number;
  failed: number;
  errorRatio: number | null;
  p99Ms: number | null;
}

/** Error ratio and p99 over the buckets outside the given spans. */
export function steadyFigures(t: Timeline, spans: ExcludedSpan[]): SteadyFigures {
  let completed = 0;
  let failed = 0;
  let histogram: ReturnType<Timeline['mergedHistogram']> | null = null;
  for (let i = 0; i < t.length; i++) {
    if (inSpans(i * t.bucketMs, spans)) continue;
    const b = t.bucket(i);
    if (!b) continue;
    // Every intended request counts: a dropped one failed, a timed-out one is among the errors.
    completed += b.responses + b.errors + b.dropped;
    failed += b.responses + b.errors + b.dropped - b.successes;
    const h = t.mergedHistogram(i, i + 1);
    if (h.totalCount > 0) {
      if (histogram) histogram.add(h);
      else histogram = h;
    }
  }
  return {
    completed,
    failed,
    errorRatio: completed ? failed / completed : null,
    p99Ms: histogram && histogram.totalCount > 0 ? histogram.getValueAtPercentile(99) / 1000 : null,
  };
}

export interface WriteOutage {
  /**
   * The time writes were down: each run of failed writes (intended send times, at or after the first fault) from its
   * first failure to the next successful write, summed. A writer that fails over and later fails back has two short
   * outages, not one spanning the healthy time between them.
   */
  durationMs: number;
  /** The first failure. */
  startMs: number;
  /** The success after the last failure (the end of the run when none came). */
  endMs: number;
  /** Each outage: first failure → next success. */
  spans: Array<{ startMs: number; endMs: number }>;
  failed: number;
  attempted: number;
}

/** The write outage seen by clients, from the ledger (intended send times). Null when no write failed. */
export function writeOutage(records: WriteRecord[], fromMs: number, runEndMs: number): WriteOutage | null {
  const writes = records.filter((w) => w.intendedMs >= fromMs).sort((a, b) => a.intendedMs - b.intendedMs);
  const failed = writes.filter((w) => w.outcome !== 'ok').length;
  if (!failed) return null;
  const spans: WriteOutage['spans'] = [];
  let open: number | null = null;
  for (const w of writes) {
    if (w.outcome !== 'ok') open ??= w.intendedMs;
    else if (open !== null) {
      spans.push({ startMs: open, endMs: w.intendedMs });
      open = null;
    }
  }
  if (open !== null) spans.push({ startMs: open, endMs: runEndMs });
  const durationMs = spans.reduce((sum, x) => sum + x.endMs - x.startMs, 0);
  return { durationMs, startMs: spans[0]!.startMs, endMs: spans.at(-1)!.endMs, spans, failed, attempted: writes.length };
}

/** Error ratio of reads inside fault windows: all requests minus writes, bucket by bucket. */
export function readErrorRatioDuring(t: Timeline, ledger: Pick<WriteLedger, 'records'> | null, faults: FaultWindow[], runEndMs: number): number | null {
  const spans = faults.map((f) => ({ startMs: f.startMs, endMs: f.endMs ?? runEndMs }));
  if (!spans.length) return null;
  let completed = 0;
  let failed = 0;
  for (let i = 0; i < t.length; i++) {
    if (!inSpans(i * t.bucketMs, spans)) continue;
    const b = t.bucket(i);
    if (!b) continue;
    completed += b.responses + b.errors + b.dropped;
    failed += b.responses + b.errors + b.dropped - b.successes;
  }
  for (const w of ledger?.records() ?? []) {
    if (!inSpans(w.intendedMs, spans) || w.completedMs === null) continue;
    completed -= 1;
    if (w.outcome !== 'ok') failed -= 1;
  }
  return completed > 0 ? Math.max(0, failed) / completed : null;
}

/**
 * Share of the web servers a fault of the method took a component of (pure): the capacity one flaw costs. null
 * when no fault touched a web server.
 */
export function webCapacityLost(method: ActivityRecord[], webServers: string[]): number | null {
  const hit = new Set(
    method
      .filter((a) => a.kind === 'fault')
      .flatMap((a) => (a.output as { servers?: string[] } | undefined)?.servers ?? [])
      .filter((s) => webServers.includes(s)),
  );
  return hit.size && webServers.length ? hit.size / webServers.length : null;
}
