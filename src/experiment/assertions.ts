// Judges the run: each declared assertion against the measured metrics (pure). A metric that could not be
// measured fails its assertion: an SLO that cannot be checked is not met.

import { METRIC_TABLE, type Metrics } from '../metric-table.js';
import { gradeRank } from '../probes/grade.js';
import type { AssertionSpec } from './schema.js';
import type { AssertionResult } from './journal.js';

function boundText(a: AssertionSpec): string {
  const parts: string[] = [];
  if (a.min !== undefined) parts.push(`≥ ${a.min}`);
  if (a.max !== undefined) parts.push(`≤ ${a.max}`);
  if (a.equals !== undefined) parts.push(`= ${a.equals}`);
  return parts.join(' and ');
}

export function evaluateAssertion(a: AssertionSpec, metrics: Metrics): AssertionResult {
  const value = metrics[a.metric] ?? null;
  const spec = METRIC_TABLE[a.metric];
  const name = a.name ?? `${spec.label} ${boundText(a)}`;
  const base = { name, metric: a.metric, bound: boundText(a), value };
  if (value === null) return { ...base, passed: false, detail: 'not measured in this run' };
  let passed = true;
  if (spec.unit === 'grade') {
    // Grades compare by rank, best first: "≥ B" accepts A and B.
    const v = gradeRank(value);
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

export function evaluateAssertions(list: AssertionSpec[], metrics: Metrics): AssertionResult[] {
  return list.map((a) => evaluateAssertion(a, metrics));
}
