// A compare report's figure over repeated runs (pure): each column's median and 95 % interval (intervals.ts), and
// the verdict, better or worse only when the intervals separate; and the glossary that says how each figure is
// counted. compare-model.ts lays the figures out.

import { METRIC_TABLE, type MetricName, type MetricUnit } from '../metric-table.js';
import { GRADES, gradeRank, isGrade } from '../probes/grade.js';
import { INTERVAL_METHOD, medianInterval, sampleVerdict } from './intervals.js';

export type FigureValue = number | string | null;
/** noise: the intervals overlap; single: a column has one run, so there is no interval, and the values differ. */
export type Verdict = 'better' | 'worse' | 'same' | 'noise' | 'single' | 'n/a';

/** A column's interval of the median (numbers; grades as letters); null with one run. */
export interface FigureInterval {
  low: number | string;
  high: number | string;
  /** Runs that measured the figure. */
  n: number;
  /** The exact probability that [low, high] covers the true median; below 0.95 with fewer than 6 runs. */
  coverage: number;
}

/** Ratios closer than this (absolute) are the same; other numbers within SAME_WITHIN of each other (relative): one run each. */
export const SAME_RATIO = 0.001;
export const SAME_WITHIN = 0.05;

/** The direction of a difference between two single values (the tolerances above; grades: any step). */
export function verdictOf(unit: MetricUnit, better: 'lower' | 'higher' | null, before: FigureValue, after: FigureValue): Verdict {
  if (before === null || after === null) return 'n/a';
  if (better === null || (unit !== 'grade' && (typeof before !== 'number' || typeof after !== 'number'))) return before === after ? 'same' : 'n/a';
  const gain = unit === 'grade' ? gradeRank(before) - gradeRank(after) : (Number(after) - Number(before)) * (better === 'higher' ? 1 : -1);
  const scale = unit === 'ratio' || unit === 'grade' ? 1 : Math.max(Math.abs(Number(before)), Math.abs(Number(after)));
  const within = unit === 'ratio' ? SAME_RATIO : unit === 'grade' ? 0 : SAME_WITHIN;
  if (scale === 0 || Math.abs(gain) / scale <= within) return 'same';
  return gain > 0 ? 'better' : 'worse';
}

const numeric = (unit: MetricUnit, v: FigureValue): number | null =>
  unit === 'grade' ? (isGrade(v) ? gradeRank(v) : null) : typeof v === 'number' && Number.isFinite(v) ? v : null;

export interface Column {
  /** The median (a grade for grades; the value itself when the runs agree on a string), or the one run's value. */
  value: FigureValue;
  interval: FigureInterval | null;
  runs: number;
}

/** One column of a figure from its runs' values. */
export function columnOf(unit: MetricUnit, values: FigureValue[]): Column {
  const present = values.filter((v): v is number | string => v !== null);
  const nums = present.map((v) => numeric(unit, v)).filter((v): v is number => v !== null);
  const iv = nums.length === present.length ? medianInterval(nums) : null;
  if (!iv) return { value: present.every((v) => v === present[0]) ? (present[0] ?? null) : null, interval: null, runs: present.length };
  const grade = unit === 'grade';
  const at = (x: number) => (grade ? (GRADES[x] ?? String(x)) : x);
  return {
    value: grade ? (GRADES[Math.ceil(iv.median)] ?? null) : iv.median,
    interval: iv.n > 1 ? { low: at(iv.low), high: at(iv.high), n: iv.n, coverage: iv.coverage } : null,
    runs: present.length,
  };
}

/** The second column's runs against the first's. */
export function verdictOver(unit: MetricUnit, better: 'lower' | 'higher' | null, before: FigureValue[], after: FigureValue[]): Verdict {
  const a = before.filter((v) => v !== null);
  const b = after.filter((v) => v !== null);
  if (!a.length || !b.length) return 'n/a';
  if (a.length === 1 && b.length === 1) {
    const point = verdictOf(unit, better, a[0]!, b[0]!);
    return point === 'better' || point === 'worse' ? 'single' : point;
  }
  const na = a.map((v) => numeric(unit, v));
  const nb = b.map((v) => numeric(unit, v));
  if (better === null || na.includes(null) || nb.includes(null)) return [...a, ...b].every((v) => v === a[0]) ? 'same' : 'n/a';
  return sampleVerdict(unit === 'grade' ? 'lower' : better, na as number[], nb as number[]) ?? 'n/a';
}

/** How the figures that need it are counted, beyond the metric table's one line. */
const COUNTED: Partial<Record<MetricName, string>> = {
  time_to_recover_s:
    'For each fault, from the first 100 ms bucket whose success share fell under the level before the first fault (less 5 points) while the fault ' +
    'was on, to the start of the first 3 s run of healthy buckets. ' +
    'When that run starts while the fault is still on, the stack healed itself (a failover) and the time counts from the fault’s start; when it starts ' +
    'only after the revert, it counts from the fault’s end. A fault that never pushed a bucket under that level while it was on counts 0, whatever the ' +
    'revert did afterwards (that is the failback). The slowest fault of the run; one sample per injection where a fault was injected several times.',
  failback_s:
    'For a fault the stack had healed (or never felt): how long the disruption after its end (the revert) lasted, from the first bad bucket after ' +
    'the end to the start of the next 3 s healthy run; 0 when nothing after the revert was disrupted. n/a where no fault had healed before its end.',
  write_outage_s:
    'Each run of failed writes (by intended send time) from its first failure to the next successful write, summed over the run; where a fault was ' +
    'injected several times, each injection is one sample: the runs of failed writes that began between its start and the next injection’s.',
};

export interface GlossaryEntry {
  term: string;
  meaning: string;
}

/** The glossary of a compare report: the interval method and verdicts, then each figure shown, once. */
export function glossaryOf(figures: Array<{ name: string; metric?: MetricName | undefined; source: string; complement?: boolean }>): GlossaryEntry[] {
  const out: GlossaryEntry[] = [
    { term: 'median [interval]', meaning: INTERVAL_METHOD },
    {
      term: 'change',
      meaning:
        '▲ better / ▼ worse only when the two columns’ intervals do not overlap; ≈ within noise when they do; ≠ differs when a column has one run ' +
        '(no interval, so no call); = same when every run of both columns measured the same (one run each: within 5 %, ratios 0.1 point).',
    },
    {
      term: 'injections, looks',
      meaning:
        'A run that injects one fault several times (`times:`) gives each per-fault figure once per injection, and a probe that looks several times ' +
        'in a run without faults gives its figures once per look: the median and interval are then over those samples. Each injection starts on a ' +
        'stack that had recovered (at least 3 s after the previous revert, which waits until healthy), but they share one run and one start of the stack.',
    },
  ];
  return [...out, ...figureGlossary(figures)];
}

/** How each figure is counted, once per name (report.md's glossary is this alone). */
export function figureGlossary(figures: Array<{ name: string; metric?: MetricName | undefined; source: string; complement?: boolean }>): GlossaryEntry[] {
  const out: GlossaryEntry[] = [];
  const seen = new Set<string>();
  for (const f of figures) {
    if (seen.has(f.name)) continue;
    seen.add(f.name);
    const spec = f.metric ? METRIC_TABLE[f.metric] : undefined;
    const how = ((f.metric && COUNTED[f.metric]) ?? spec?.description)?.replace(/\.$/, '');
    const text = !how ? 'As the probe reports it' : f.complement ? `1 − (${how})` : `${how[0]!.toUpperCase()}${how.slice(1)}`;
    out.push({ term: f.name, meaning: `${text} (${f.source}).` });
  }
  return out;
}
