// Judges the run: each declared assertion against the measured metrics (pure). A metric that could not be
// measured fails its assertion: an SLO that cannot be checked is not met.

import { GRADES, type AssertionSpec } from './schema.js';
import type { AssertionResult } from './journal.js';

const LABELS: Record<string, string> = {
  availability: 'availability',
  error_ratio: 'error ratio',
  error_ratio_outside_faults: 'error ratio outside fault windows',
  p99_ms: 'p99 latency (ms)',
  p99_ms_outside_faults: 'p99 latency outside fault windows (ms)',
  time_to_detect_s: 'time to detect (s)',
  time_to_recover_s: 'time to recover (s)',
  write_outage_s: 'write outage (s)',
  write_error_ratio: 'write error ratio',
  read_error_ratio_during_faults: 'read error ratio during faults',
  lost_writes: 'lost writes',
  unexpected_writes: 'unexpected writes',
  exposure_holes: 'firewall holes',
  tls_grade: 'TLS grade',
  replication_lag_s: 'replication lag (s)',
};

/** Grades compare by rank: "A+" is best; a grade "≥ A" accepts A+ and A. */
function gradeRank(g: string): number {
  const i = (GRADES as readonly string[]).indexOf(g);
  return i < 0 ? GRADES.length : i;
}

function boundText(a: AssertionSpec): string {
  const parts: string[] = [];
  if (a.min !== undefined) parts.push(`≥ ${a.min}`);
  if (a.max !== undefined) parts.push(`≤ ${a.max}`);
  if (a.equals !== undefined) parts.push(`= ${a.equals}`);
  return parts.join(' and ');
}

export function evaluateAssertion(a: AssertionSpec, metrics: Record<string, number | string | null>): AssertionResult {
  const value = metrics[a.metric] ?? null;
  const name = a.name ?? `${LABELS[a.metric] ?? a.metric} ${boundText(a)}`;
  const base = { name, metric: a.metric, bound: boundText(a), value };
  if (value === null) return { ...base, passed: false, detail: 'not measured in this run' };
  let passed = true;
  if (a.metric === 'tls_grade') {
    const v = gradeRank(String(value));
    if (a.min !== undefined) passed &&= v <= gradeRank(String(a.min));
    if (a.max !== undefined) passed &&= v >= gradeRank(String(a.max));
    if (a.equals !== undefined) passed &&= String(value) === String(a.equals);
  } else {
    const v = Number(value);
    if (a.min !== undefined) passed &&= v >= Number(a.min);
    if (a.max !== undefined) passed &&= v <= Number(a.max);
    if (a.equals !== undefined) passed &&= v === Number(a.equals);
  }
  return { ...base, passed, detail: '' };
}

export function evaluateAssertions(list: AssertionSpec[], metrics: Record<string, number | string | null>): AssertionResult[] {
  return list.map((a) => evaluateAssertion(a, metrics));
}
