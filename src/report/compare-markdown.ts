// The compare report in Markdown (pure): the runs, a section per claim with its figures side by side and the shape
// of its per-second series in text, monitoring, latency and limits.

import type { MetricUnit } from '../metric-table.js';
import type { CompareModel, Figure, FigureValue, Hop, RunSummary, Section, SeriesPoint, Verdict } from './compare-model.js';
import { fmtNumber, fmtPercent, STATUS_LABEL } from './format.js';
import type { SampleUnit } from '../experiment/event-samples.js';

export const VERDICT_LABEL: Record<Verdict, string> = {
  better: '▲ better',
  worse: '▼ worse',
  same: '= same',
  noise: '≈ within noise',
  single: '≠ differs (one run each: no interval)',
  'n/a': 'n/a',
};

export function fmtFigure(unit: MetricUnit, v: FigureValue | undefined): string {
  if (typeof v !== 'number') return fmtNumber(v);
  if (unit === 'ratio') return fmtPercent(v, 2);
  if (unit === 's' || unit === 'ms') return `${v.toFixed(1)} ${unit}`;
  return fmtNumber(v);
}

/** "6 runs", "6 injections", "1 look". */
export const fmtSamples = (n: number, per: SampleUnit = 'run') => `${n} ${per}${n === 1 ? '' : 's'}`;

/** A column of a figure: "8.3 s [7.9–8.6 s, 6 runs]", "3 [3–3, 3 runs, 75 %]" below 95 %, "8.1 s [… 6 injections]", or the one value. */
export function fmtColumn(f: Pick<Figure, 'unit' | 'values' | 'intervals' | 'runs' | 'per'>, label: string): string {
  const value = fmtFigure(f.unit, f.values[label]);
  const iv = f.intervals?.[label];
  const per = f.per?.[label];
  if (!iv) return (f.runs?.[label] ?? 0) > 1 ? `${value} (${fmtSamples(f.runs![label]!, per)}, no interval)` : value;
  const end = (x: number | string) => (typeof x === 'number' ? fmtFigure(f.unit, x).replace(/ (s|ms)$/, '') : x);
  const unit = f.unit === 's' || f.unit === 'ms' ? ` ${f.unit}` : '';
  const coverage = iv.coverage < 0.95 ? `, ${fmtPercent(iv.coverage, 1)}` : '';
  return `${value} [${end(iv.low)}–${end(iv.high)}${unit}, ${fmtSamples(iv.n, per)}${coverage}]`;
}

export const fmtQps = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));
export const fmtMs = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
export const fmtRatio = (v: number | null) => (v === null ? 'n/a' : `×${v.toFixed(2)}`);
export const fmtHop = (x: Hop) => `${x.from} → ${x.to}: ${x.encrypted ? 'encrypted' : 'PLAINTEXT'}${x.detail ? ` (${x.detail})` : ''}`;
export const fmtServers = (s: RunSummary['stack']) =>
  s ? s.servers.map((x) => `${x.server} (${x.components.join(', ') || x.role})`).join(', ') : 'not described';

/** Table cell text: no pipes or line breaks that would break a Markdown table. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => `|${'---|'.repeat(n)}`;

/** One character per second: the shape of a series in text. */
function sparkline(points: SeriesPoint[], max: number): string {
  const bars = '▁▂▃▄▅▆▇█';
  return points.map((p) => (p.value === null ? '·' : bars[Math.max(0, Math.min(7, Math.floor((p.value / max) * 8)))])).join('');
}

function sectionMarkdown(s: Section, labels: string[]): string[] {
  const out = [`## ${s.title}`, ''];
  if (s.claim) out.push(s.claim, '');
  out.push(`_measured by \`${s.experiment}\`_`, '', row(['figure', ...labels.map(cell), 'change']), rule(labels.length + 2));
  for (const f of s.figures) out.push(row([cell(f.name), ...labels.map((l) => cell(fmtColumn(f, l))), VERDICT_LABEL[f.verdict]]));
  out.push('');
  if (s.series.chart === 'lines') {
    const all = labels.flatMap((l) => s.series.points[l] ?? []);
    const start = all[0]?.t ?? 0;
    const max = s.series.unit === 'ratio' ? 1 : Math.max(1, ...all.map((p) => p.value ?? 0));
    const width = Math.max(...labels.map((l) => l.length)) + 1;
    const faulted = labels.some((l) => s.series.faultEndS[l] !== null && s.series.faultEndS[l] !== undefined);
    out.push(`${s.series.label}, one character per second from t = ${fmtNumber(start, 1)} s${faulted ? ' (fault at t = 0)' : ''}:`, '', '```');
    for (const l of labels) out.push(`${l.padEnd(width)} ${sparkline(s.series.points[l] ?? [], max) || 'n/a'}`);
    out.push('```', '');
  }
  for (const l of labels) {
    const hops = s.hops?.[l];
    if (hops?.length) out.push(`Hops (${l}):`, '', ...hops.map((x) => `- ${fmtHop(x)}`), '');
  }
  if (s.notes.length) out.push('Notes:', '', ...s.notes.map((n) => `- ${n}`), '');
  return out;
}

function monitoringMarkdown(m: NonNullable<CompareModel['monitoring']>, labels: string[]): string[] {
  const out = [`## ${m.title}`, ''];
  for (const l of labels) {
    out.push(`### ${l}`, '');
    const rows = m.rows[l];
    if (!rows) {
      out.push('n/a', '');
      continue;
    }
    out.push(row(['server', 'client QPS', 'Prometheus QPS', 'difference']), rule(4));
    for (const r of rows) out.push(row([cell(r.server), fmtQps(r.clientQps), fmtQps(r.prometheusQps), fmtPercent(r.difference, 1)]));
    out.push('');
  }
  return [...out, ...m.notes.map((n) => `- ${n}`), ''];
}

function latencyMarkdown(m: NonNullable<CompareModel['latency']>, labels: string[]): string[] {
  const head = (p: string) => [...labels.map((l) => `${p} ${cell(l)}`), `${p} ratio`];
  const out = [`## ${m.title}`, '', row(['requests', ...head('p50'), ...head('p99')]), rule(3 + 2 * labels.length)];
  for (const r of m.rows) {
    const of = (p: 'p50' | 'p99') => [...labels.map((l) => fmtMs(r.values[l]?.[p])), fmtRatio(r.ratio[p])];
    out.push(row([`${r.kind}s`, ...of('p50'), ...of('p99')]));
  }
  return [...out, '', ...m.notes.map((n) => `- ${n}`), ''];
}

export function renderCompareMarkdown(model: CompareModel): string {
  const labels = model.runs.map((r) => r.label);
  const runRow = (name: string, f: (r: RunSummary) => string) => row([name, ...model.runs.map((r) => cell(f(r)))]);
  const out = [
    `# ${model.title}`,
    '',
    `| ${row(labels.map(cell))}`,
    rule(labels.length + 1),
    runRow('run', (r) => r.title),
    runRow('verdict', (r) => STATUS_LABEL[r.status] ?? r.status),
    runRow('started', (r) => r.startedAt),
    runRow('ended', (r) => r.endedAt),
    runRow('servers', (r) => fmtServers(r.stack)),
    '',
    ...model.notes.map((n) => `- ${n}`),
    ...(model.notes.length ? [''] : []),
    ...model.sections.flatMap((s) => sectionMarkdown(s, labels)),
    ...(model.monitoring ? monitoringMarkdown(model.monitoring, labels) : []),
    ...(model.latency ? latencyMarkdown(model.latency, labels) : []),
    '## Limits',
    '',
    ...model.limits.map((n) => `- ${n}`),
    ...(model.glossary?.length ? ['', '## Glossary', '', ...model.glossary.map((g) => `- **${g.term}**: ${g.meaning}`)] : []),
  ];
  return `${out.join('\n')}\n${model.generatedAt ? `\n_Generated ${model.generatedAt}._\n` : ''}`;
}
