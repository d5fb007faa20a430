// `faultline compare a b`: what got better or worse between two runs, metric by metric (pure).

import { experimentsOf, type Journal } from '../experiment/journal.js';
import { isMetricName, METRIC_TABLE, type MetricName } from '../metric-table.js';
import { gradeRank } from '../probes/grade.js';
import { fmtNumber } from './format.js';

export interface MetricChange {
  experiment: string;
  metric: MetricName;
  before: number | string | null;
  after: number | string | null;
  change: 'better' | 'worse' | 'same' | 'new' | 'gone' | 'changed';
}

export function compareJournals(
  a: Journal,
  b: Journal,
  tolerance = 0.05,
): { changes: MetricChange[]; statusChanges: Array<{ experiment: string; before: string; after: string }> } {
  const before = new Map(experimentsOf(a).map((e) => [e.id, e]));
  const after = new Map(experimentsOf(b).map((e) => [e.id, e]));
  const changes: MetricChange[] = [];
  const statusChanges: Array<{ experiment: string; before: string; after: string }> = [];
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const x = before.get(id);
    const y = after.get(id);
    if (x && y && x.status !== y.status) statusChanges.push({ experiment: id, before: x.status, after: y.status });
    // A journal of another version may hold metrics this one does not know: they are left out.
    const keys = new Set([...Object.keys(x?.metrics ?? {}), ...Object.keys(y?.metrics ?? {})].filter(isMetricName));
    for (const metric of keys) {
      const spec = METRIC_TABLE[metric];
      const u = x?.metrics[metric] ?? null;
      const v = y?.metrics[metric] ?? null;
      let change: MetricChange['change'];
      if (u === null && v === null) continue;
      if (u === null) change = 'new';
      else if (v === null) change = 'gone';
      else if (spec.unit === 'grade') {
        const d = gradeRank(u) - gradeRank(v);
        change = d === 0 ? 'same' : d > 0 ? 'better' : 'worse';
      } else if (typeof u === 'number' && typeof v === 'number') {
        const scale = Math.max(Math.abs(u), Math.abs(v), 1e-9);
        if (Math.abs(v - u) / scale <= tolerance) change = 'same';
        else if (spec.better === null) change = 'changed';
        else change = v > u === (spec.better === 'higher') ? 'better' : 'worse';
      } else change = u === v ? 'same' : 'changed';
      changes.push({ experiment: id, metric, before: u, after: v, change });
    }
  }
  return { changes, statusChanges };
}

export function formatComparison(result: ReturnType<typeof compareJournals>): string {
  const lines: string[] = [];
  for (const s of result.statusChanges) lines.push(`${s.experiment}: ${s.before} → ${s.after}`);
  const interesting = result.changes.filter((c) => c.change !== 'same');
  if (!interesting.length && !result.statusChanges.length) return 'no change beyond 5% in any metric';
  const mark = { better: '▲ better', worse: '▼ worse', new: '+ new', gone: '- gone', changed: '~ changed', same: '' } as const;
  for (const c of interesting)
    lines.push(`${c.experiment.padEnd(28)} ${c.metric.padEnd(32)} ${fmtNumber(c.before).padStart(10)} → ${fmtNumber(c.after).padEnd(10)} ${mark[c.change]}`);
  const worse = interesting.filter((c) => c.change === 'worse').length;
  const better = interesting.filter((c) => c.change === 'better').length;
  lines.push('', `${better} better, ${worse} worse`);
  return lines.join('\n');
}
