// The before/after report: the same suite run on the baseline and the hardened profile, one section per weakness
// the design names (both columns always, n/a with a note where a run is missing), the monitoring check, the price
// of the fix and the limits. The model is plain JSON; Markdown and HTML (inline SVG, no scripts) are renderings of it.

import { experimentsOf, type ExperimentJournal, type ExperimentStatus, type Journal } from '../experiment/journal.js';
import type { LoadResultJSON } from '../load/index.js';
import { decodeHistogram } from '../load/histogram.js';
import { METRIC_TABLE, type MetricName, type MetricUnit } from '../metric-table.js';
import { gradeRank, isGrade } from '../probes/grade.js';
import type { QpsDetails, QpsValue } from '../probes/qps.js';
import { escapeHtml as h, fmtNumber, fmtPercent, STATUS_LABEL } from './format.js';
import * as hdr from 'hdr-histogram-js';

export const PROFILES = ['baseline', 'hardened'] as const;
export type Profile = (typeof PROFILES)[number];
export type PerProfile<T> = Record<Profile, T>;

export type WeaknessId = 'tls-ends-at-lb' | 'single-writer' | 'identical-components';
export type FigureValue = number | string | null;
export type Verdict = 'better' | 'worse' | 'same' | 'n/a';

export interface Figure {
  name: string;
  unit: MetricUnit;
  baseline: FigureValue;
  hardened: FigureValue;
  better: 'lower' | 'higher' | null;
  verdict: Verdict;
  /** Where in the journal the value comes from ("metrics.write_outage_s"). */
  source: string;
}

export interface SeriesPoint {
  /** Seconds from the start of the run's first fault (from the start of load when it had none). */
  t: number;
  value: number | null;
}

export interface WeaknessSeries {
  chart: 'bars' | 'lines';
  label: string;
  unit: 'ratio' | 'count';
  baseline: SeriesPoint[];
  hardened: SeriesPoint[];
  /** Where the first fault ended, in seconds from its start; null without a fault. */
  faultEndS: PerProfile<number | null>;
}

/** One hop on the data path, as the internal-encryption probe lists it. */
export interface Hop {
  from: string;
  to: string;
  encrypted: boolean;
  detail: string;
}

export interface Weakness {
  id: WeaknessId;
  /** As the design names it. */
  title: string;
  /** The suite's experiment that measures it (its journal id). */
  experiment: string;
  figures: Figure[];
  series: WeaknessSeries;
  /** tls-ends-at-lb only: the hops the probe listed; null where it listed none. */
  hops?: PerProfile<Hop[] | null>;
  notes: string[];
}

export interface ProfileSummary {
  title: string;
  status: ExperimentStatus;
  startedAt: string;
  endedAt: string;
  stack: { project: string; servers: Array<{ server: string; role: string; components: string[] }> } | null;
}

export interface MonitoringRow {
  /** "all" for the LB frontend, else a web server. */
  server: string;
  clientQps: number | null;
  prometheusQps: number | null;
  /** |client − Prometheus| / client. */
  difference: number | null;
}

export interface LatencyFigures {
  /** Milliseconds. */
  p50: number | null;
  p99: number | null;
  count: number;
}

export interface PriceRow {
  kind: 'read' | 'write';
  baseline: LatencyFigures | null;
  hardened: LatencyFigures | null;
  /** hardened / baseline: above 1 the hardened profile is slower. */
  ratio: { p50: number | null; p99: number | null };
}

export interface BeforeAfterModel {
  version: 1;
  kind: 'before-after';
  generatedAt?: string;
  profiles: PerProfile<ProfileSummary>;
  weaknesses: Weakness[];
  monitoring: PerProfile<MonitoringRow[] | null> & { notes: string[] };
  price: { rows: PriceRow[]; notes: string[] };
  limits: string[];
  /** The caller's own notes on the runs. */
  notes: string[];
}

export interface BeforeAfterInput {
  baseline: Journal;
  hardened: Journal;
  notes?: string[];
  generatedAt?: string;
}

/** The suite's experiment ids (journal id = file base name of experiments/before-after.yaml's entries). */
export const EXPERIMENTS = {
  internalEncryption: 'internal-encryption',
  dbPrimaryKill: 'db-primary-kill',
  sharedComponentOutage: 'shared-component-outage',
  price: 'price',
} as const;

const NOTE_MONITORING_PLAINTEXT = 'Monitoring scrapes stay plaintext (Prometheus → exporters); they are not on the data path and are not counted as hops.';
const NOTE_DB_DIVERSITY =
  'Database diversity is out of reach: Debian ships only MariaDB as a MySQL-protocol server, so the database tier stays one software kind.';

/** Ratios closer than this (absolute) are the same; other numbers within SAME_WITHIN of each other (relative). */
const SAME_RATIO = 0.001;
const SAME_WITHIN = 0.05;

// --- the model ----------------------------------------------------------------------------------------------------

const perProfile = <T>(f: (p: Profile) => T): PerProfile<T> => ({ baseline: f('baseline'), hardened: f('hardened') });

interface Runs {
  /** The profile's run of the experiment, when it measured something. */
  runs: PerProfile<ExperimentJournal | null>;
  /** Why a profile's column is n/a, or only partly measured. */
  notes: string[];
}

function runsOf(journals: PerProfile<Journal>, id: string): Runs {
  const notes: string[] = [];
  const runs = perProfile((p) => {
    const e = experimentsOf(journals[p]).find((x) => x.id === id);
    if (!e) notes.push(`${p}: no \`${id}\` experiment in the journal, so its column is n/a.`);
    else if (e.status === 'error' || e.status === 'interrupted')
      notes.push(`${p}: \`${id}\` measured nothing usable (${STATUS_LABEL[e.status]}: ${e.reason || e.error || 'no reason given'}).`);
    else {
      // No fault was injected, but what the steady state's probes saw still counts.
      if (e.status === 'steady-state-failed') notes.push(`${p}: \`${id}\`: ${e.reason}; only the steady state's probes measured.`);
      return e;
    }
    return null;
  });
  return { runs, notes };
}

export function verdictOf(unit: MetricUnit, better: Figure['better'], baseline: FigureValue, hardened: FigureValue): Verdict {
  if (baseline === null || hardened === null) return 'n/a';
  if (better === null || (unit !== 'grade' && (typeof baseline !== 'number' || typeof hardened !== 'number'))) return baseline === hardened ? 'same' : 'n/a';
  const gain = unit === 'grade' ? gradeRank(baseline) - gradeRank(hardened) : (Number(hardened) - Number(baseline)) * (better === 'higher' ? 1 : -1);
  const scale = unit === 'ratio' || unit === 'grade' ? 1 : Math.max(Math.abs(Number(baseline)), Math.abs(Number(hardened)));
  const within = unit === 'ratio' ? SAME_RATIO : unit === 'grade' ? 0 : SAME_WITHIN;
  if (scale === 0 || Math.abs(gain) / scale <= within) return 'same';
  return gain > 0 ? 'better' : 'worse';
}

function figure(name: string, unit: MetricUnit, better: Figure['better'], source: string, values: PerProfile<FigureValue>): Figure {
  return { name, unit, ...values, better, verdict: verdictOf(unit, better, values.baseline, values.hardened), source };
}

function metricFigure(metric: MetricName, runs: PerProfile<ExperimentJournal | null>): Figure {
  const spec = METRIC_TABLE[metric];
  return figure(
    spec.label,
    spec.unit,
    spec.better,
    `metrics.${metric}`,
    perProfile((p) => runs[p]?.metrics[metric] ?? null),
  );
}

/** Where the first fault ended, from its start (s); null without a fault. */
function faultEndS(e: ExperimentJournal | null): number | null {
  const f = e?.faultWindows[0];
  if (!e || !f) return null;
  const end = f.endMs ?? (e.load ? e.load.timeline.buckets.length * e.load.timeline.bucketMs : f.startMs);
  return (end - f.startMs) / 1000;
}

interface SecondCounts {
  outcomes: number;
  successes: number;
  writes: number;
  writesDone: number;
  writesOk: number;
}

/** Counts per second of load: every request from the timeline, the writes from the ledger (both by intended send time). */
function secondsOf(load: LoadResultJSON): SecondCounts[] {
  const n = Math.ceil((load.timeline.buckets.length * load.timeline.bucketMs) / 1000);
  if (n === 0) return [];
  const out = Array.from({ length: n }, () => ({ outcomes: 0, successes: 0, writes: 0, writesDone: 0, writesOk: 0 }));
  const at = (ms: number) => out[Math.min(n - 1, Math.max(0, Math.floor(ms / 1000)))]!;
  for (const b of load.timeline.buckets) {
    at(b.startMs).outcomes += b.responses + b.errors + b.dropped;
    at(b.startMs).successes += b.successes;
  }
  for (const w of load.ledger.writes) {
    const s = at(w.intendedMs);
    s.writes += 1;
    if (w.completedMs !== null) s.writesDone += 1;
    if (w.outcome === 'ok') s.writesOk += 1;
  }
  return out;
}

/** A per-second share on the fault's clock: t = 0 where the first fault started. */
function seriesOn(e: ExperimentJournal | null, share: (s: SecondCounts) => number | null): SeriesPoint[] {
  if (!e?.load) return [];
  const origin = (e.faultWindows[0]?.startMs ?? 0) / 1000;
  return secondsOf(e.load).map((s, i) => ({ t: Math.round((i - origin) * 1000) / 1000, value: share(s) }));
}

const writeAckShare = (s: SecondCounts) => (s.writes ? s.writesOk / s.writes : null);

/** Reads are all requests minus the ledger's writes, as read_error_ratio_during_faults counts them. */
function readSuccessShare(s: SecondCounts): number | null {
  const reads = s.outcomes - s.writesDone;
  return reads > 0 ? Math.max(0, s.successes - s.writesOk) / reads : null;
}

function lineSeries(label: string, runs: PerProfile<ExperimentJournal | null>, share: (s: SecondCounts) => number | null): WeaknessSeries {
  return {
    chart: 'lines',
    label,
    unit: 'ratio',
    ...perProfile((p) => seriesOn(runs[p], share)),
    faultEndS: perProfile((p) => faultEndS(runs[p])),
  };
}

interface EncryptionLook {
  plaintextHops: number | null;
  grade: string | null;
  hops: Hop[] | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isHop(v: unknown): v is Hop {
  return isRecord(v) && typeof v.from === 'string' && typeof v.to === 'string' && typeof v.encrypted === 'boolean' && typeof v.detail === 'string';
}

/** A probe's looks in a run, in order: one per activity, or a series (which keeps values, not details). */
function observationsOf(e: ExperimentJournal, probe: string): Array<{ value: unknown; details: unknown }> {
  return [...e.steadyStateBefore.activities, ...e.method, ...e.steadyStateAfter.activities]
    .filter((a) => a.kind === 'probe' && a.name === probe && a.status !== 'error' && isRecord(a.output))
    .flatMap((a) => {
      const out = a.output as Record<string, unknown>;
      return Array.isArray(out.observations)
        ? out.observations.map((o: unknown) => ({ value: isRecord(o) ? o.value : null, details: null }))
        : [{ value: out.value, details: out.details }];
    });
}

/** The look with the most plaintext hops: the hops list when the probe gives one, else its count. */
function worstEncryptionLook(e: ExperimentJournal | null): EncryptionLook | null {
  let worst: EncryptionLook | null = null;
  for (const o of e ? observationsOf(e, 'internal-encryption') : []) {
    if (!isRecord(o.value)) continue;
    const listed = o.value.hops ?? (isRecord(o.details) ? o.details.hops : undefined);
    const hops = Array.isArray(listed) ? listed.filter(isHop) : null;
    const count = hops ? hops.filter((x) => !x.encrypted).length : typeof o.value.plaintextHops === 'number' ? o.value.plaintextHops : null;
    const look = { plaintextHops: count, grade: isGrade(o.value.grade) ? o.value.grade : null, hops };
    if (!worst || (count ?? -1) > (worst.plaintextHops ?? -1)) worst = look;
  }
  return worst;
}

function tlsEndsAtLb(journals: PerProfile<Journal>): Weakness {
  const { runs, notes } = runsOf(journals, EXPERIMENTS.internalEncryption);
  const looks = perProfile((p) => worstEncryptionLook(runs[p]));
  for (const p of PROFILES) if (runs[p] && !looks[p]) notes.push(`${p}: the internal-encryption probe has no look in the run.`);
  const hops = perProfile((p) => looks[p]?.plaintextHops ?? null);
  return {
    id: 'tls-ends-at-lb',
    title: 'TLS terminates at the load balancer',
    experiment: EXPERIMENTS.internalEncryption,
    figures: [
      figure(
        'plaintext hops on the data path',
        'count',
        'lower',
        'internal-encryption probe: output.value.hops (encrypted: false), else value.plaintextHops',
        hops,
      ),
      figure(
        'internal encryption grade',
        'grade',
        'higher',
        'internal-encryption probe: output.value.grade',
        perProfile((p) => looks[p]?.grade ?? null),
      ),
    ],
    series: {
      chart: 'bars',
      label: 'plaintext hops on the data path',
      unit: 'count',
      ...perProfile((p) => [{ t: 0, value: hops[p] }]),
      faultEndS: { baseline: null, hardened: null },
    },
    hops: perProfile((p) => looks[p]?.hops ?? null),
    notes: [...notes, NOTE_MONITORING_PLAINTEXT],
  };
}

function singleWriter(journals: PerProfile<Journal>): Weakness {
  const { runs, notes } = runsOf(journals, EXPERIMENTS.dbPrimaryKill);
  const metrics: MetricName[] = ['write_outage_s', 'lost_writes', 'unexpected_writes', 'time_to_recover_s', 'data_loss_status'];
  return {
    id: 'single-writer',
    title: 'One MySQL server accepts writes',
    experiment: EXPERIMENTS.dbPrimaryKill,
    figures: metrics.map((m) => metricFigure(m, runs)),
    series: lineSeries('writes acknowledged, share of the writes sent each second', runs, writeAckShare),
    notes,
  };
}

function identicalComponents(journals: PerProfile<Journal>): Weakness {
  const { runs, notes } = runsOf(journals, EXPERIMENTS.sharedComponentOutage);
  const readErrors = (p: Profile) => runs[p]?.metrics.read_error_ratio_during_faults;
  return {
    id: 'identical-components',
    title: 'Identical components everywhere',
    experiment: EXPERIMENTS.sharedComponentOutage,
    figures: [
      metricFigure('web_capacity_lost_ratio', runs),
      figure(
        'read availability during the fault',
        'ratio',
        'higher',
        '1 − metrics.read_error_ratio_during_faults',
        perProfile((p) => {
          const v = readErrors(p);
          return typeof v === 'number' ? 1 - v : null;
        }),
      ),
    ],
    series: lineSeries('reads answered, share of the reads sent each second', runs, readSuccessShare),
    notes: [...notes, NOTE_DB_DIVERSITY],
  };
}

/**
 * The QPS probe's last look that kept its details (a single look; a series keeps none), preferring one with the
 * client's view: a steady-state look before load has none, the one after compares the run's.
 */
function qpsLook(e: ExperimentJournal | null): { value: QpsValue; details: QpsDetails } | null {
  const looks = (e ? observationsOf(e, 'qps').filter((o) => isRecord(o.value) && isRecord(o.details)) : []) as Array<{ value: QpsValue; details: QpsDetails }>;
  return looks.findLast((o) => typeof o.value.clientQps === 'number') ?? looks.at(-1) ?? null;
}

function monitoringRows(look: { value: QpsValue; details: QpsDetails }): MonitoringRow[] {
  const v = look.value;
  // The probe divides both totals by the same run length; it is recovered from whichever view counted something.
  const seconds = v.clientQps && v.clientTotal ? v.clientTotal / v.clientQps : v.serverQps ? v.serverTotal / v.serverQps : null;
  const rate = (n: number | undefined) => (n === undefined || seconds === null ? null : n / seconds);
  const lb = look.details.lbPerServer ?? {};
  const nginx = look.details.nginxPerServer ?? {};
  const servers = [...new Set([...Object.keys(lb), ...Object.keys(nginx)])].sort();
  return [
    { server: 'all', clientQps: v.clientQps, prometheusQps: v.serverQps, difference: v.difference },
    ...servers.map((s) => {
      const sent = lb[s];
      const counted = nginx[s];
      return {
        server: s,
        clientQps: rate(sent),
        prometheusQps: rate(counted),
        difference: sent && counted !== undefined ? Math.abs(counted - sent) / sent : null,
      };
    }),
  ];
}

function monitoring(journals: PerProfile<Journal>): BeforeAfterModel['monitoring'] {
  const { runs, notes } = runsOf(journals, EXPERIMENTS.internalEncryption);
  const looks = perProfile((p) => qpsLook(runs[p]));
  for (const p of PROFILES)
    if (runs[p] && !looks[p]) notes.push(`${p}: the qps probe has no single look with details in \`${EXPERIMENTS.internalEncryption}\`.`);
  return {
    ...perProfile((p) => (looks[p] ? monitoringRows(looks[p]) : null)),
    notes: [
      ...notes,
      'Row "all": requests the load client sent per second vs the HAProxy frontend counter in Prometheus.',
      'Per server, the client column is HAProxy’s count of the client’s requests it passed to that server (the load client cannot tell which ' +
        'server answered); the Prometheus column is the server’s own nginx counter, which also counts HAProxy health checks and exporter ' +
        'scrapes. A server that runs no nginx has no counter there (n/a).',
    ],
  };
}

/** Microseconds, as the timeline's (histogram.ts), with counts that may go below zero. */
const floatHistogram = () =>
  hdr.build({ bitBucketSize: 64, useWebAssembly: false, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

function latencyFigures(h: hdr.Histogram, count: number): LatencyFigures {
  const at = (p: number) => (count > 0 ? Math.round(h.getValueAtPercentile(p)) / 1000 : null);
  return { p50: at(50), p99: at(99), count };
}

/**
 * Latency by request kind. Writes: the ledger's intended send → answer of each write the timeline's histogram holds
 * (answered or timed out). Reads: that histogram minus the writes. A float histogram takes the subtraction even where a
 * write's latency, rounded to µs in the ledger, lands one slot beside the timeline's copy.
 */
function latencyByKind(load: LoadResultJSON): Record<'read' | 'write', LatencyFigures> {
  const [all, writes] = [floatHistogram(), floatHistogram()];
  for (const b of load.timeline.buckets) {
    if (!b.latency) continue;
    const cell = decodeHistogram(b.latency.hdr);
    all.add(cell);
    cell.destroy();
  }
  const total = all.totalCount;
  for (const w of load.ledger.writes) {
    if (w.completedMs === null || (w.status === null && w.error !== 'ETIMEDOUT')) continue;
    const us = Math.max(1, Math.round((w.completedMs - w.intendedMs) * 1000));
    writes.recordValue(us);
    all.recordValueWithCount(us, -1);
  }
  const result = { read: latencyFigures(all, total - writes.totalCount), write: latencyFigures(writes, writes.totalCount) };
  all.destroy();
  writes.destroy();
  return result;
}

const ratioOf = (b: number | null | undefined, a: number | null | undefined) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);

function price(journals: PerProfile<Journal>): BeforeAfterModel['price'] {
  const { runs, notes } = runsOf(journals, EXPERIMENTS.price);
  const byKind = perProfile((p) => {
    const load = runs[p]?.load;
    if (runs[p] && !load) notes.push(`${p}: \`${EXPERIMENTS.price}\` has no load result.`);
    return load ? latencyByKind(load) : null;
  });
  const [b, a] = [runs.baseline?.load?.summary.rate, runs.hardened?.load?.summary.rate];
  if (b && a && Math.abs(a - b) / Math.max(a, b) > SAME_WITHIN)
    notes.push(
      `The runs sent at different rates (baseline ${fmtNumber(b, 1)} req/s, hardened ${fmtNumber(a, 1)} req/s): the latencies are not at the same load.`,
    );
  const rows = (['write', 'read'] as const).map((kind) => {
    const [before, after] = [byKind.baseline?.[kind] ?? null, byKind.hardened?.[kind] ?? null];
    return { kind, baseline: before, hardened: after, ratio: { p50: ratioOf(before?.p50, after?.p50), p99: ratioOf(before?.p99, after?.p99) } };
  });
  return {
    rows,
    notes: [
      ...notes,
      'Latency from each request’s intended send time (paced load: corrected for coordinated omission; a timed-out request counts at its deadline), 3 significant digits.',
      'Writes: each write of the ledger, intended send → answer. Reads: every other request of the run (the timeline’s latency histogram minus the writes).',
      'Ratio: hardened / baseline; above 1 the hardened profile is slower.',
    ],
  };
}

function profileSummary(j: Journal): ProfileSummary {
  const described = experimentsOf(j).find((e) => e.stack)?.stack;
  return {
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

const LIMITS = [
  'One run per profile: no repetitions, so a difference within run-to-run noise is no finding.',
  `A change counts as better or worse beyond ${SAME_WITHIN * 100}% (ratios: beyond ${SAME_RATIO * 100} percentage point; grades: any step); below that it is the same.`,
  'Charts put t = 0 at the start of each run’s first fault; the shaded span is the fault window of each profile.',
];

export function beforeAfterModel(input: BeforeAfterInput): BeforeAfterModel {
  const journals = { baseline: input.baseline, hardened: input.hardened };
  return {
    version: 1,
    kind: 'before-after',
    ...(input.generatedAt ? { generatedAt: input.generatedAt } : {}),
    profiles: perProfile((p) => profileSummary(journals[p])),
    weaknesses: [tlsEndsAtLb(journals), singleWriter(journals), identicalComponents(journals)],
    monitoring: monitoring(journals),
    price: price(journals),
    limits: LIMITS,
    notes: input.notes ?? [],
  };
}

// --- rendering ------------------------------------------------------------------------------------------------------

const REPORT_TITLE = 'faultline: before and after hardening';
const VERDICT_LABEL: Record<Verdict, string> = { better: '▲ better', worse: '▼ worse', same: '= same', 'n/a': 'n/a' };
const COLOR: PerProfile<string> = { baseline: '#ea580c', hardened: '#2563eb' };

function fmtFigure(unit: MetricUnit, v: FigureValue): string {
  if (typeof v !== 'number') return fmtNumber(v);
  if (unit === 'ratio') return fmtPercent(v, 2);
  if (unit === 's' || unit === 'ms') return `${v.toFixed(1)} ${unit}`;
  return fmtNumber(v);
}

const fmtQps = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));
const fmtMs = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
const fmtRatio = (v: number | null) => (v === null ? 'n/a' : `×${v.toFixed(2)}`);
const fmtHop = (x: Hop) => `${x.from} → ${x.to}: ${x.encrypted ? 'encrypted' : 'PLAINTEXT'}${x.detail ? ` (${x.detail})` : ''}`;
const servers = (s: ProfileSummary['stack']) => (s ? s.servers.map((x) => `${x.server} (${x.components.join(', ') || x.role})`).join(', ') : 'not described');

/** Table cell text: no pipes or line breaks that would break a Markdown table. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** One character per second: the shape of a series in text. */
function sparkline(points: SeriesPoint[]): string {
  const bars = '▁▂▃▄▅▆▇█';
  return points.map((p) => (p.value === null ? '·' : bars[Math.min(7, Math.floor(p.value * 8))])).join('');
}

function weaknessMarkdown(w: Weakness): string[] {
  const out = [`## ${w.title}`, '', `_measured by \`${w.experiment}\`_`, '', '| figure | baseline | hardened | change |', '|---|---|---|---|'];
  for (const f of w.figures)
    out.push(`| ${cell(f.name)} | ${cell(fmtFigure(f.unit, f.baseline))} | ${cell(fmtFigure(f.unit, f.hardened))} | ${VERDICT_LABEL[f.verdict]} |`);
  out.push('');
  if (w.series.chart === 'lines') {
    const start = w.series.baseline[0]?.t ?? w.series.hardened[0]?.t ?? 0;
    out.push(`${w.series.label}, one character per second from t = ${fmtNumber(start, 1)} s (fault at t = 0):`, '', '```');
    for (const p of PROFILES) out.push(`${p.padEnd(9)} ${sparkline(w.series[p]) || 'n/a'}`);
    out.push('```', '');
  }
  for (const p of PROFILES) {
    const hops = w.hops?.[p];
    if (hops?.length) out.push(`Hops (${p}):`, '', ...hops.map((x) => `- ${fmtHop(x)}`), '');
  }
  if (w.notes.length) out.push('Notes:', '', ...w.notes.map((n) => `- ${n}`), '');
  return out;
}

function monitoringMarkdown(m: BeforeAfterModel['monitoring']): string[] {
  const out = ['## Monitoring', ''];
  for (const p of PROFILES) {
    out.push(`### ${p}`, '');
    const rows = m[p];
    if (!rows) {
      out.push('n/a', '');
      continue;
    }
    out.push('| server | client QPS | Prometheus QPS | difference |', '|---|---|---|---|');
    for (const r of rows) out.push(`| ${cell(r.server)} | ${fmtQps(r.clientQps)} | ${fmtQps(r.prometheusQps)} | ${fmtPercent(r.difference, 1)} |`);
    out.push('');
  }
  return [...out, ...m.notes.map((n) => `- ${n}`), ''];
}

function priceMarkdown(price: BeforeAfterModel['price']): string[] {
  const out = [
    '## Price of the fix',
    '',
    '| requests | p50 baseline | p50 hardened | p50 ratio | p99 baseline | p99 hardened | p99 ratio |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of price.rows)
    out.push(
      `| ${r.kind}s | ${fmtMs(r.baseline?.p50)} | ${fmtMs(r.hardened?.p50)} | ${fmtRatio(r.ratio.p50)} | ${fmtMs(r.baseline?.p99)} | ${fmtMs(r.hardened?.p99)} | ${fmtRatio(r.ratio.p99)} |`,
    );
  return [...out, '', ...price.notes.map((n) => `- ${n}`), ''];
}

export function renderBeforeAfterMarkdown(model: BeforeAfterModel): string {
  const { baseline: b, hardened: a } = model.profiles;
  const out = [
    `# ${REPORT_TITLE}`,
    '',
    '| | baseline | hardened |',
    '|---|---|---|',
    `| run | ${cell(b.title)} | ${cell(a.title)} |`,
    `| verdict | ${STATUS_LABEL[b.status] ?? b.status} | ${STATUS_LABEL[a.status] ?? a.status} |`,
    `| started | ${b.startedAt} | ${a.startedAt} |`,
    `| ended | ${b.endedAt} | ${a.endedAt} |`,
    `| servers | ${cell(servers(b.stack))} | ${cell(servers(a.stack))} |`,
    '',
    ...model.notes.map((n) => `- ${n}`),
    ...(model.notes.length ? [''] : []),
    ...model.weaknesses.flatMap(weaknessMarkdown),
    ...monitoringMarkdown(model.monitoring),
    ...priceMarkdown(model.price),
    '## Limits',
    '',
    ...model.limits.map((n) => `- ${n}`),
  ];
  return `${out.join('\n')}\n${model.generatedAt ? `\n_Generated ${model.generatedAt}._\n` : ''}`;
}

const W = 760;
const H = 200;
const PAD = { l: 52, r: 12, t: 30, b: 26 };

function legend(): string {
  return PROFILES.map(
    (p, i) =>
      `<g class="legend" data-profile="${p}"><rect x="${W - PAD.r - 190 + i * 95}" y="6" width="12" height="12" fill="${COLOR[p]}"/><text x="${W - PAD.r - 174 + i * 95}" y="16">${p}</text></g>`,
  ).join('');
}

/** Both profiles' per-second shares on one time axis (t = 0 at the fault's start), fault windows shaded. */
function linesChart(s: WeaknessSeries): string {
  const ts = [...s.baseline, ...s.hardened].map((p) => p.t);
  const t0 = Math.min(0, ...ts);
  const t1 = Math.max(t0 + 1, ...ts.map((t) => t + 1));
  const x = (t: number) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - v * (H - PAD.t - PAD.b);
  const shade = PROFILES.map((p) => {
    const end = s.faultEndS[p];
    return end === null
      ? ''
      : `<rect class="fault-window" data-profile="${p}" x="${x(0).toFixed(1)}" y="${PAD.t}" width="${Math.max(1, x(end) - x(0)).toFixed(1)}" height="${H - PAD.t - PAD.b}"><title>${p}: fault, ${fmtNumber(end, 1)} s</title></rect>`;
  }).join('');
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${PAD.l - 6}" y="${(y(f) + 4).toFixed(1)}" text-anchor="end">${f * 100}%</text><line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(f).toFixed(1)}" y2="${y(f).toFixed(1)}"/>`,
    )
    .join('');
  const step = Math.max(1, Math.ceil((t1 - t0) / 8));
  const xt = Array.from({ length: Math.floor((t1 - t0) / step) + 1 }, (_, i) => Math.ceil(t0) + i * step)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="${H - 8}" text-anchor="middle">${t}s</text>`)
    .join('');
  // A second without requests breaks the line instead of bridging it.
  const lines = PROFILES.map((p) => {
    const runs: SeriesPoint[][] = [[]];
    for (const pt of s[p])
      if (pt.value === null) runs.push([]);
      else runs.at(-1)!.push(pt);
    const drawn = runs.filter((r) => r.length).map((r) => r.map((pt) => `${x(pt.t + 0.5).toFixed(1)},${y(pt.value!).toFixed(1)}`).join(' '));
    return drawn.map((pts) => `<polyline class="series" data-profile="${p}" fill="none" stroke="${COLOR[p]}" stroke-width="1.8" points="${pts}"/>`).join('');
  }).join('');
  return `<figure><figcaption>${h(s.label)} (t = 0: the fault starts)</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(s.label)}">${shade}${ticks}${xt}${lines}${legend()}</svg></figure>`;
}

/** One bar per profile. */
function barsChart(s: WeaknessSeries): string {
  const values = perProfile((p) => s[p][0]?.value ?? null);
  const max = Math.max(1, ...PROFILES.map((p) => values[p] ?? 0));
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const bars = PROFILES.map((p, i) => {
    const v = values[p];
    const cx = PAD.l + 80 + i * 200;
    const bar =
      v === null
        ? ''
        : `<rect class="bar" data-profile="${p}" x="${cx - 40}" y="${y(v).toFixed(1)}" width="80" height="${(H - PAD.b - y(v)).toFixed(1)}" fill="${COLOR[p]}"/>`;
    return `${bar}<text x="${cx}" y="${(v === null ? H - PAD.b : y(v)) - 4}" text-anchor="middle">${v === null ? 'n/a' : fmtNumber(v)}</text><text x="${cx}" y="${H - 8}" text-anchor="middle">${p}</text>`;
  }).join('');
  return `<figure><figcaption>${h(s.label)}</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(s.label)}"><line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}"/>${bars}${legend()}</svg></figure>`;
}

const notesHtml = (notes: string[]) => (notes.length ? `<ul class="notes">${notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul>` : '');

function weaknessHtml(w: Weakness): string {
  const rows = w.figures
    .map(
      (f) =>
        `<tr><th>${h(f.name)}</th>${PROFILES.map((p) => `<td data-profile="${p}">${h(fmtFigure(f.unit, f[p]))}</td>`).join('')}<td class="v-${f.verdict === 'n/a' ? 'na' : f.verdict}">${h(VERDICT_LABEL[f.verdict])}</td></tr>`,
    )
    .join('');
  const hops = PROFILES.filter((p) => w.hops?.[p]?.length)
    .map(
      (p) =>
        `<h3>Hops (${p})</h3><ul class="hops" data-profile="${p}">${w.hops![p]!.map((x) => `<li class="${x.encrypted ? 'enc' : 'plain'}">${h(fmtHop(x))}</li>`).join('')}</ul>`,
    )
    .join('');
  return `<section class="weakness" data-weakness="${h(w.id)}" id="${h(w.id)}">
<h2>${h(w.title)}</h2>
<p class="measured">measured by <code>${h(w.experiment)}</code></p>
<table class="figures"><tr><th>figure</th><th>baseline</th><th>hardened</th><th>change</th></tr>${rows}</table>
${w.series.chart === 'bars' ? barsChart(w.series) : linesChart(w.series)}
${hops}${notesHtml(w.notes)}
</section>`;
}

function monitoringHtml(m: BeforeAfterModel['monitoring']): string {
  const tables = PROFILES.map((p) => {
    const rows = m[p];
    const body = rows
      ? `<table class="qps"><tr><th>server</th><th>client QPS</th><th>Prometheus QPS</th><th>difference</th></tr>${rows
          .map(
            (r) => `<tr><th>${h(r.server)}</th><td>${fmtQps(r.clientQps)}</td><td>${fmtQps(r.prometheusQps)}</td><td>${fmtPercent(r.difference, 1)}</td></tr>`,
          )
          .join('')}</table>`
      : '<p>n/a</p>';
    return `<div data-profile="${p}"><h3>${p}</h3>${body}</div>`;
  }).join('');
  return `<section id="monitoring"><h2>Monitoring</h2><div class="cols">${tables}</div>${notesHtml(m.notes)}</section>`;
}

function priceHtml(price: BeforeAfterModel['price']): string {
  const rows = price.rows
    .map(
      (r) =>
        `<tr data-kind="${r.kind}"><th>${r.kind}s</th><td data-profile="baseline">${fmtMs(r.baseline?.p50)}</td><td data-profile="hardened">${fmtMs(r.hardened?.p50)}</td><td>${fmtRatio(r.ratio.p50)}</td><td data-profile="baseline">${fmtMs(r.baseline?.p99)}</td><td data-profile="hardened">${fmtMs(r.hardened?.p99)}</td><td>${fmtRatio(r.ratio.p99)}</td></tr>`,
    )
    .join('');
  return `<section id="price"><h2>Price of the fix</h2><table class="price"><tr><th>requests</th><th>p50 baseline</th><th>p50 hardened</th><th>p50 ratio</th><th>p99 baseline</th><th>p99 hardened</th><th>p99 ratio</th></tr>${rows}</table>${notesHtml(price.notes)}</section>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-top:1px solid #ddd;padding-top:16px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:top}
.v-better{color:#15803d}.v-worse{color:#b91c1c}.v-na,.v-same{color:#555}.hops .plain{color:#b91c1c}
figure{margin:8px 0}figcaption{font-weight:600;font-size:13px}svg text{font-size:10px;fill:#555}.grid{stroke:#eee}.fault-window{fill:#f59e0b;opacity:.15}
.cols{display:flex;gap:24px;flex-wrap:wrap}.notes{color:#444}`;

export function renderBeforeAfterHtml(model: BeforeAfterModel): string {
  const row = (label: string, f: (s: ProfileSummary) => string) =>
    `<tr><th>${h(label)}</th>${PROFILES.map((p) => `<td data-profile="${p}">${h(f(model.profiles[p]))}</td>`).join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(REPORT_TITLE)}</title><style>${CSS}</style></head>
<body>
<h1>${h(REPORT_TITLE)}</h1>
<table class="profiles"><tr><th></th><th>baseline</th><th>hardened</th></tr>${row('run', (s) => s.title)}${row('verdict', (s) => STATUS_LABEL[s.status] ?? s.status)}${row('started', (s) => s.startedAt)}${row('ended', (s) => s.endedAt)}${row('servers', (s) => servers(s.stack))}</table>
${notesHtml(model.notes)}
${model.weaknesses.map(weaknessHtml).join('\n')}
${monitoringHtml(model.monitoring)}
${priceHtml(model.price)}
<section id="limits"><h2>Limits</h2>${notesHtml(model.limits)}</section>
${model.generatedAt ? `<p class="generated">Generated ${h(model.generatedAt)}.</p>` : ''}
</body></html>
`;
}
