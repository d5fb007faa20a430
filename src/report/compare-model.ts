// The compare report's model (pure): two runs of the same suite, labelled, side by side. Its sections, their figures
// and charts come from the suite's `report:` (or one section per experiment); each figure's better direction from
// src/metric-table.ts. Both columns always, n/a with a note where a run is missing. Markdown, HTML and JSON render it.

import { experimentsOf, runsOf as repetitionsOf, type ExperimentJournal, type ExperimentStatus, type Journal } from '../experiment/journal.js';
import type { FigureSpec, ReportSection, SuiteReport } from '../experiment/suite-report.js';
import { METRIC_TABLE, type MetricName, type MetricUnit } from '../metric-table.js';
import { LATENCY_NOTES, latencyByKind, type LatencyFigures } from './compare-latency.js';
import { defaultReport, reportOf, runLabels } from './compare-layout.js';
import { hopsOf, monitoringRowsOf, MONITORING_NOTES, probeField, type Hop, type MonitoringRow } from './compare-probes.js';
import { fmtNumber, STATUS_LABEL } from './format.js';
import {
  columnOf,
  glossaryOf,
  SAME_WITHIN,
  verdictOf,
  verdictOver,
  type FigureInterval,
  type FigureValue,
  type GlossaryEntry,
  type Verdict,
} from './compare-figures.js';
import { CHART_SERIES_KINDS, secondsOf, type Second } from './series.js';
import type { SampleUnit } from '../experiment/event-samples.js';

export type { FigureInterval, FigureValue, GlossaryEntry, Hop, LatencyFigures, MonitoringRow, Verdict };
export { verdictOf };
/** One value per run, keyed by the run's column label. */
export type ByRun<T> = Record<string, T>;

export interface Figure {
  name: string;
  unit: MetricUnit;
  better: 'lower' | 'higher' | null;
  /** Each column's median over its runs, or its one run's value. */
  values: ByRun<FigureValue>;
  /** Each column's 95 % interval of the median (compare-figures.ts); null with one run. Absent in reports before repetitions. */
  intervals?: ByRun<FigureInterval | null>;
  /** How many samples measured it, per column: runs, or injections or looks where a run gave one per event. */
  runs?: ByRun<number>;
  /** What each sample is one of, per column (absent in reports before per-event samples: runs). */
  per?: ByRun<SampleUnit>;
  /** The second column against the first: better or worse only when the intervals separate. */
  verdict: Verdict;
  /** The metric it reads, when it reads one. */
  metric?: string;
  /** Where in the journal the value comes from ("metrics.write_outage_s"). */
  source: string;
}

export interface SeriesPoint {
  /** Seconds from the start of the run's first fault (from the start of load when it had none). */
  t: number;
  value: number | null;
}

export interface SectionSeries {
  chart: 'bars' | 'lines';
  label: string;
  unit: 'ratio' | 'count' | 'ms';
  points: ByRun<SeriesPoint[]>;
  /** Where the first fault ended, in seconds from its start; null without a fault. */
  faultEndS: ByRun<number | null>;
}

export interface Section {
  id: string;
  title: string;
  /** What the section sets out to show (the suite's words). */
  claim: string;
  /** The suite's experiment that measures it (its journal id). */
  experiment: string;
  figures: Figure[];
  series: SectionSeries;
  /** The data-path hops a probe listed, when the section asks for them; null where a run listed none. */
  hops: ByRun<Hop[] | null> | null;
  notes: string[];
}

export interface RunSummary {
  /** The column's name. */
  label: string;
  title: string;
  status: ExperimentStatus;
  startedAt: string;
  endedAt: string;
  stack: { project: string; servers: Array<{ server: string; role: string; components: string[] }> } | null;
}

export interface LatencyRow {
  kind: 'read' | 'write';
  values: ByRun<LatencyFigures | null>;
  /** second run / first run: above 1 the second is slower. */
  ratio: { p50: number | null; p99: number | null };
}

export interface CompareModel {
  version: 2;
  kind: 'before-after';
  generatedAt?: string;
  title: string;
  /** The suite's id. */
  suite: string;
  /** The two runs, in column order. */
  runs: RunSummary[];
  sections: Section[];
  monitoring: { title: string; experiment: string; rows: ByRun<MonitoringRow[] | null>; notes: string[] } | null;
  latency: { title: string; experiment: string; rows: LatencyRow[]; notes: string[] } | null;
  limits: string[];
  /** How each figure is counted, the interval method and what a change means. */
  glossary?: GlossaryEntry[];
  /** The suite's notes and the caller's own. */
  notes: string[];
}

export interface CompareInput {
  /** Two journals of the same suite, in column order (first: before). */
  journals: [Journal, Journal];
  /** Column labels; default from the journals (compare-layout.ts). */
  labels?: string[];
  /** What to show; default the suite's `report:` recorded in the journals, else a section per experiment. */
  report?: SuiteReport;
  notes?: string[];
  generatedAt?: string;
}

interface Run {
  label: string;
  journal: Journal;
}

const byRun = <T>(runs: Run[], f: (r: Run) => T): ByRun<T> => Object.fromEntries(runs.map((r) => [r.label, f(r)]));

/** Each run's journal of an experiment when it measured something, and notes on why a column is n/a or partial. */
function runsOf(runs: Run[], id: string): { of: ByRun<ExperimentJournal | null>; notes: string[] } {
  const notes: string[] = [];
  const of = byRun(runs, ({ label, journal }) => {
    const e = experimentsOf(journal).find((x) => x.id === id);
    if (!e) notes.push(`${label}: no \`${id}\` experiment in the journal, so its column is n/a.`);
    else if (e.status === 'error' || e.status === 'interrupted')
      notes.push(`${label}: \`${id}\` measured nothing usable (${STATUS_LABEL[e.status]}: ${e.reason || e.error || 'no reason given'}).`);
    else {
      // No fault was injected, but what the steady state's probes saw still counts.
      if (e.status === 'steady-state-failed') notes.push(`${label}: \`${id}\`: ${e.reason}; only the steady state's probes measured.`);
      return e;
    }
    return null;
  });
  return { of, notes };
}

/** A figure of the suite: a metric (or 1 − it), else or also a field of a probe's value. */
function figureOf(spec: FigureSpec, runs: Run[], of: ByRun<ExperimentJournal | null>): Figure {
  const f = typeof spec === 'string' ? { metric: spec, complement: false } : spec;
  const m = f.metric ? METRIC_TABLE[f.metric] : undefined;
  const unit = f.unit ?? m?.unit ?? 'count';
  const raw = f.better !== undefined ? f.better : (m?.better ?? null);
  const better = f.complement && raw ? (raw === 'higher' ? 'lower' : 'higher') : raw;
  const read = (e: ExperimentJournal): FigureValue => {
    let v: FigureValue = f.metric ? (e.metrics[f.metric] ?? null) : null;
    if (v === null && f.probe && f.field) v = probeField(e, f.probe, f.field, unit, raw);
    return f.complement && typeof v === 'number' ? 1 - v : v;
  };
  // Every repetition of the column's run (runsOf: the journal itself when it ran once); a run with one sample per
  // injection or look of the figure (event-samples.ts) gives all of them.
  const eventsOf = (e: ExperimentJournal): FigureValue[] | null => {
    const list = f.metric ? e.samples?.metrics[f.metric] : undefined;
    return list?.length ? list.map((v) => (f.complement ? 1 - v : v)) : null;
  };
  const samples = byRun(runs, (r) => (of[r.label] ? repetitionsOf(of[r.label]!).flatMap((e) => eventsOf(e) ?? [read(e)]) : []));
  const per = byRun(runs, (r): SampleUnit => {
    const first = of[r.label] ? repetitionsOf(of[r.label]!).find((e) => eventsOf(e)) : undefined;
    return first?.samples?.per ?? 'run';
  });
  const columns = byRun(runs, (r) => columnOf(unit, samples[r.label]!));
  const [a, b] = runs.map((r) => samples[r.label]!);
  const source = [f.metric && `${f.complement ? '1 − ' : ''}metrics.${f.metric}`, f.probe && `${f.probe} probe: output.value.${f.field}`]
    .filter(Boolean)
    .join(', else ');
  return {
    name: f.label ?? m?.label ?? String(f.field),
    unit,
    better,
    values: byRun(runs, (r) => columns[r.label]!.value),
    intervals: byRun(runs, (r) => columns[r.label]!.interval),
    runs: byRun(runs, (r) => columns[r.label]!.runs),
    per,
    verdict: verdictOver(unit, better, a ?? [], b ?? []),
    source,
    ...(f.metric ? { metric: f.metric } : {}),
  };
}

/** Where the first fault ended, from its start (s); null without a fault. */
function faultEndS(e: ExperimentJournal | null): number | null {
  const f = e?.faultWindows[0];
  if (!e || !f) return null;
  const end = f.endMs ?? (e.load ? e.load.timeline.buckets.length * e.load.timeline.bucketMs : f.startMs);
  return (end - f.startMs) / 1000;
}

/** A per-second series on the fault's clock: t = 0 where the first fault started. */
function seriesOn(e: ExperimentJournal | null, of: (s: Second) => number | null): SeriesPoint[] {
  if (!e?.load) return [];
  const origin = (e.faultWindows[0]?.startMs ?? 0) / 1000;
  return secondsOf(e.load).map((s) => ({ t: Math.round((s.t - origin) * 1000) / 1000, value: of(s) }));
}

function sectionSeries(s: ReportSection, figures: Figure[], runs: Run[], of: ByRun<ExperimentJournal | null>): SectionSeries {
  if (s.chart === 'bars') {
    const first = figures[0];
    return {
      chart: 'bars',
      label: first?.name ?? s.title,
      unit: 'count',
      points: byRun(runs, (r) => {
        const v = first?.values[r.label];
        return [{ t: 0, value: typeof v === 'number' ? v : null }];
      }),
      faultEndS: byRun(runs, () => null),
    };
  }
  const kind = CHART_SERIES_KINDS[s.chart];
  return {
    chart: 'lines',
    label: kind.label,
    unit: kind.unit,
    points: byRun(runs, (r) => seriesOn(of[r.label] ?? null, kind.of)),
    faultEndS: byRun(runs, (r) => faultEndS(of[r.label] ?? null)),
  };
}

function section(s: ReportSection, runs: Run[]): Section {
  const { of, notes } = runsOf(runs, s.experiment);
  const figures = s.figures.map((f) => figureOf(f, runs, of));
  const hops = s.hops ? byRun(runs, (r) => (of[r.label] ? hopsOf(of[r.label]!, s.hops!) : null)) : null;
  return {
    id: s.id,
    title: s.title,
    claim: s.claim,
    experiment: s.experiment,
    figures,
    series: sectionSeries(s, figures, runs, of),
    hops,
    notes: [...notes, ...s.notes],
  };
}

function monitoring(spec: NonNullable<SuiteReport['monitoring']>, runs: Run[]): NonNullable<CompareModel['monitoring']> {
  const { of, notes } = runsOf(runs, spec.experiment);
  const rows = byRun(runs, (r) => {
    const e = of[r.label];
    const found = e ? monitoringRowsOf(e) : null;
    if (e && !found) notes.push(`${r.label}: the qps probe has no single look with details in \`${spec.experiment}\`.`);
    return found;
  });
  return { title: spec.title, experiment: spec.experiment, rows, notes: [...notes, ...MONITORING_NOTES] };
}

const ratioOf = (b: number | null | undefined, a: number | null | undefined) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);

function latency(spec: NonNullable<SuiteReport['latency']>, runs: Run[]): NonNullable<CompareModel['latency']> {
  const { of, notes } = runsOf(runs, spec.experiment);
  const byKind = byRun(runs, (r) => {
    const load = of[r.label]?.load;
    if (of[r.label] && !load) notes.push(`${r.label}: \`${spec.experiment}\` has no load result.`);
    return load ? latencyByKind(load) : null;
  });
  const [first, second] = runs.map((r) => r.label) as [string, string];
  const [b, a] = [of[first]?.load?.summary.rate, of[second]?.load?.summary.rate];
  if (b && a && Math.abs(a - b) / Math.max(a, b) > SAME_WITHIN)
    notes.push(
      `The runs sent at different rates (${first} ${fmtNumber(b, 1)} req/s, ${second} ${fmtNumber(a, 1)} req/s): the latencies are not at the same load.`,
    );
  const rows = (['write', 'read'] as const).map((kind): LatencyRow => {
    const values = byRun(runs, (r) => byKind[r.label]?.[kind] ?? null);
    const [before, after] = [values[first], values[second]];
    return { kind, values, ratio: { p50: ratioOf(before?.p50, after?.p50), p99: ratioOf(before?.p99, after?.p99) } };
  });
  return {
    title: spec.title,
    experiment: spec.experiment,
    rows,
    notes: [...notes, ...LATENCY_NOTES, `Ratio: ${second} / ${first}; above 1 ${second} is slower.`],
  };
}

function runSummary({ label, journal: j }: Run): RunSummary {
  const described = experimentsOf(j).find((e) => e.stack)?.stack;
  return {
    label,
    title: j.title,
    status: j.status,
    startedAt: j.startedAt,
    endedAt: j.endedAt,
    stack: described
      ? {
          project: described.project,
          servers: described.servers.map((s) => ({ server: s.server, role: s.role, components: s.components.map((c) => c.component) })),
        }
      : null,
  };
}

/** What the report cannot show, from how many runs each column has. */
function limitsOf(runs: Run[]): string[] {
  const counts = runs.map((r) => Math.max(1, ...experimentsOf(r.journal).map((e) => repetitionsOf(e).length)));
  const runsText = runs.map((r, i) => `${r.label} ${counts[i]}`).join(', ');
  const few = counts.some((n) => n > 1 && n < 6);
  return [
    counts.every((n) => n === 1)
      ? 'One run per column: no interval, so no difference is called better or worse (≠ differs); run the suite with --repeat N (6 or more for 95 % intervals).'
      : `Runs per column: ${runsText}. Each figure is the median of its column's runs with its exact 95 % interval (see the glossary).` +
        (few ? ' With fewer than 6 runs the interval is min–max and covers the median with less than 95 %; the report gives its coverage.' : ''),
    'Charts show each column’s first run; they put t = 0 at the start of its first fault; the shaded span is the fault window of each run.',
  ];
}

export function compareModel(input: CompareInput): CompareModel {
  const labels = runLabels(input.journals, input.labels);
  const runs = input.journals.map((journal, i) => ({ label: labels[i]!, journal }));
  const report = input.report ?? reportOf(input.journals);
  const [first, second] = input.journals;
  const sections = (report.sections.length ? report.sections : defaultReport(input.journals).sections).map((s) => section(s, runs));
  const mixed = first.id === second.id ? [] : [`The runs are of different suites or experiments (${first.id}, ${second.id}): only what both ran compares.`];
  return {
    version: 2,
    kind: 'before-after',
    ...(input.generatedAt ? { generatedAt: input.generatedAt } : {}),
    title: report.title ?? `faultline: ${first.title}, ${labels.join(' and ')}`,
    suite: first.id,
    runs: runs.map(runSummary),
    // A report: that names no sections (only a title, monitoring or latency) gets a section per experiment.
    sections,
    monitoring: report.monitoring ? monitoring(report.monitoring, runs) : null,
    latency: report.latency ? latency(report.latency, runs) : null,
    limits: limitsOf(runs),
    glossary: glossaryOf(
      sections.flatMap((s) =>
        s.figures.map((f) => ({ name: f.name, metric: f.metric as MetricName | undefined, source: f.source, complement: f.source.startsWith('1 − ') })),
      ),
    ),
    notes: [...mixed, ...report.notes, ...(input.notes ?? [])],
  };
}
