// `faultline compare a b`: what got better or worse between two runs, metric by metric (pure). With repetitions on
// both sides a change is better or worse only when the medians' 95 % intervals separate (intervals.ts), within noise
// otherwise; with one run a side there is no interval, and a difference beyond the tolerance says exactly that.

import { experimentsOf, runsOf, type ExperimentJournal, type Journal } from '../experiment/journal.js';
import { isMetricName, METRIC_TABLE, type MetricName, type MetricValue } from '../metric-table.js';
import { GRADES, gradeRank, isGrade } from '../probes/grade.js';
import { fmtNumber } from './format.js';
import { medianInterval, sampleVerdict, type MedianInterval } from './intervals.js';

export interface MetricChange {
  experiment: string;
  metric: MetricName;
  /** The value, or the median over the repetitions. */
  before: number | string | null;
  after: number | string | null;
  /** noise: the intervals overlap; single: a side ran once, so there is no interval, and the values differ. */
  change: 'better' | 'worse' | 'same' | 'noise' | 'single' | 'new' | 'gone' | 'changed';
  /** How many runs measured it on each side, and their intervals (null: one run, no interval). */
  runs?: { before: number; after: number };
  intervals?: { before: MedianInterval | null; after: MedianInterval | null };
}

/**
 * A metric's measured values over an experiment's runs: each run's value, or its samples where the run gave one per
 * injection or look (event-samples.ts).
 */
export function samplesOf(e: ExperimentJournal | undefined, metric: MetricName): MetricValue[] {
  return e ? runsOf(e).flatMap((r): MetricValue[] => (r.samples?.metrics[metric]?.length ? r.samples.metrics[metric] : [r.metrics[metric] ?? null])) : [];
}

const asNumber = (metric: MetricName, v: MetricValue): number | null =>
  METRIC_TABLE[metric].unit === 'grade' ? (isGrade(v) ? gradeRank(v) : null) : typeof v === 'number' && Number.isFinite(v) ? v : null;

/** What the report shows for a metric over runs: the median (a grade for grades), or the one value. */
function shown(metric: MetricName, values: MetricValue[], iv: MedianInterval | null): number | string | null {
  const present = values.filter((v) => v !== null);
  if (!iv) return present[0] ?? null;
  if (METRIC_TABLE[metric].unit === 'grade') return GRADES[Math.ceil(iv.median)] ?? null;
  return iv.median;
}

function changeOf(metric: MetricName, u: MetricValue[], v: MetricValue[], tolerance: number): Omit<MetricChange, 'experiment' | 'metric'> | null {
  const spec = METRIC_TABLE[metric];
  const a = u.filter((x) => x !== null);
  const b = v.filter((x) => x !== null);
  if (!a.length && !b.length) return null;
  const na = a.map((x) => asNumber(metric, x)).filter((x): x is number => x !== null);
  const nb = b.map((x) => asNumber(metric, x)).filter((x): x is number => x !== null);
  const ia = medianInterval(na);
  const ib = medianInterval(nb);
  const base = {
    before: shown(metric, a, ia),
    after: shown(metric, b, ib),
    runs: { before: a.length, after: b.length },
    intervals: { before: ia && ia.n > 1 ? ia : null, after: ib && ib.n > 1 ? ib : null },
  };
  if (!a.length) return { ...base, change: 'new' };
  if (!b.length) return { ...base, change: 'gone' };
  if (na.length !== a.length || nb.length !== b.length || spec.better === null) {
    // Statuses, counts without a direction: the same or changed, nothing more; repeated numbers changed only beyond noise.
    const same = [...a, ...b].every((x) => x === a[0]);
    const noise = !same && na.length === a.length && nb.length === b.length && (na.length > 1 || nb.length > 1) && sampleVerdict('higher', na, nb) === 'noise';
    return { ...base, change: same ? 'same' : noise ? 'noise' : 'changed' };
  }
  const better = spec.unit === 'grade' ? 'lower' : spec.better;
  if (na.length === 1 && nb.length === 1) {
    // One run a side: no interval. Within the tolerance it is the same; beyond it, only "differs" is honest.
    const [x, y] = [na[0]!, nb[0]!];
    const scale = Math.max(Math.abs(x), Math.abs(y), 1e-9);
    const same = spec.unit === 'grade' ? x === y : Math.abs(y - x) / scale <= tolerance;
    return { ...base, change: same ? 'same' : 'single' };
  }
  return { ...base, change: sampleVerdict(better, na, nb) ?? 'same' };
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
    const all = [...(x ? runsOf(x) : []), ...(y ? runsOf(y) : [])];
    const keys = new Set(all.flatMap((e) => Object.keys(e.metrics)).filter(isMetricName));
    for (const metric of keys) {
      const c = changeOf(metric, samplesOf(x, metric), samplesOf(y, metric), tolerance);
      if (!c) continue;
      const repeated = c.runs!.before > 1 || c.runs!.after > 1;
      // A comparison of single runs keeps the shape it always had.
      changes.push(repeated ? { experiment: id, metric, ...c } : { experiment: id, metric, before: c.before, after: c.after, change: c.change });
    }
  }
  return { changes, statusChanges };
}

/** "8.3 [7.9–9.1] (6 runs)", or the value alone for one run. */
function fmtSide(v: MetricChange['before'], iv: MedianInterval | null | undefined, metric: MetricName): string {
  if (!iv) return fmtNumber(v);
  const grade = METRIC_TABLE[metric].unit === 'grade';
  const end = (x: number) => (grade ? (GRADES[x] ?? '?') : fmtNumber(x));
  return `${fmtNumber(v)} [${end(iv.low)}–${end(iv.high)}]`;
}

export const CHANGE_MARK: Record<MetricChange['change'], string> = {
  better: '▲ better',
  worse: '▼ worse',
  noise: '≈ within noise',
  single: '≠ differs (one run each: no interval)',
  new: '+ new',
  gone: '- gone',
  changed: '~ changed',
  same: '',
};

export function formatComparison(result: ReturnType<typeof compareJournals>): string {
  const lines: string[] = [];
  for (const s of result.statusChanges) lines.push(`${s.experiment}: ${s.before} → ${s.after}`);
  const interesting = result.changes.filter((c) => c.change !== 'same');
  if (!interesting.length && !result.statusChanges.length) return 'no change beyond 5% in any metric';
  for (const c of interesting)
    lines.push(
      `${c.experiment.padEnd(28)} ${c.metric.padEnd(32)} ${fmtSide(c.before, c.intervals?.before, c.metric).padStart(10)} → ${fmtSide(c.after, c.intervals?.after, c.metric).padEnd(10)} ${CHANGE_MARK[c.change]}${c.runs && (c.runs.before > 1 || c.runs.after > 1) ? ` (runs ${c.runs.before}/${c.runs.after})` : ''}`,
    );
  const count = (k: MetricChange['change']) => interesting.filter((c) => c.change === k).length;
  const repeated = result.changes.some((c) => c.runs && (c.runs.before > 1 || c.runs.after > 1));
  lines.push('', `${count('better')} better, ${count('worse')} worse${count('noise') ? `, ${count('noise')} within noise` : ''}`);
  if (repeated) lines.push('median [95 % interval, exact order statistics]: better or worse only where the intervals separate');
  if (count('single')) lines.push('one run each: no interval, so a difference is not called better or worse (run with --repeat)');
  return lines.join('\n');
}
