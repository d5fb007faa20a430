// The charts of every HTML report: inline SVG, no scripts. A line chart of per-second values (one line per run or
// one per metric) with fault windows shaded, and a bar chart of one figure per run (pure).

import { escapeHtml as h, fmtNumber } from './format.js';

const W = 760;
const PAD = { l: 52, r: 12, b: 26 };
/** Taller with a legend: it sits above the plot. */
const frame = (legend: boolean) => (legend ? { H: 200, top: 30 } : { H: 170, top: 14 });

export const CHART_CSS =
  'figure{margin:8px 0}figcaption{font-weight:600;font-size:13px}svg text{font-size:10px;fill:#555}.grid{stroke:#eee}.fault-window{fill:#f59e0b;opacity:.18}';

/** Colours of the runs side by side, in column order. */
export const RUN_COLORS = ['#ea580c', '#2563eb', '#16a34a', '#7c3aed'];

export interface ChartPoint {
  /** Seconds; the point covers [t, t + 1). */
  t: number;
  value: number | null;
}

export interface ChartLine {
  /** The run it belongs to (data-profile and the legend); absent for a chart of one run. */
  run?: string;
  color: string;
  points: ChartPoint[];
}

export interface ChartWindow {
  /** Tooltip text. */
  title: string;
  startS: number;
  endS: number;
  run?: string;
}

export interface LineChartSpec {
  /** data-metric of the svg, for tests and scripts that look for a chart. */
  metric?: string;
  caption: string;
  /** Ratios draw on 0–100%; other units on 0 to a round maximum. */
  unit: 'ratio' | 'count' | 'ms';
  lines: ChartLine[];
  windows: ChartWindow[];
  /** A circle per point (class "pt"), so the points can be counted in a browser. */
  dots?: boolean;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / p) * p;
}

const runAttr = (run: string | undefined) => (run === undefined ? '' : ` data-profile="${h(run)}"`);

function legend(runs: Array<{ run: string; color: string }>): string {
  return runs
    .map(
      ({ run, color }, i) =>
        `<g class="legend"${runAttr(run)}><rect x="${W - PAD.r - 95 * runs.length + i * 95}" y="6" width="12" height="12" fill="${color}"/><text x="${W - PAD.r - 95 * runs.length + 16 + i * 95}" y="16">${h(run)}</text></g>`,
    )
    .join('');
}

/** Per-second values on one time axis (from 0, or from before 0 on a fault's clock), fault windows shaded. */
export function lineChart(spec: LineChartSpec): string {
  const runs = spec.lines.filter((l): l is ChartLine & { run: string } => l.run !== undefined);
  const { H, top } = frame(runs.length > 0);
  const ts = spec.lines.flatMap((l) => l.points.map((p) => p.t));
  const t0 = Math.min(0, ...ts);
  const t1 = Math.max(t0 + 1, ...ts.map((t) => t + 1));
  const values = spec.lines.flatMap((l) => l.points.map((p) => p.value)).filter((v): v is number => v !== null);
  const maxV = spec.unit === 'ratio' ? 1 : niceMax(Math.max(0, ...values));
  const x = (t: number) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxV) * (H - top - PAD.b);
  const shade = spec.windows
    .map(
      (w) =>
        `<rect class="fault-window"${runAttr(w.run)} x="${x(w.startS).toFixed(1)}" y="${top}" width="${Math.max(1, x(w.endS) - x(w.startS)).toFixed(1)}" height="${H - top - PAD.b}"><title>${h(w.title)}</title></rect>`,
    )
    .join('');
  const tick = (f: number) => (spec.unit === 'ratio' ? `${f * 100}%` : fmtNumber(Math.round(maxV * f * 10) / 10));
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${PAD.l - 6}" y="${(y(maxV * f) + 4).toFixed(1)}" text-anchor="end">${tick(f)}</text><line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(maxV * f).toFixed(1)}" y2="${y(maxV * f).toFixed(1)}"/>`,
    )
    .join('');
  const step = Math.max(1, Math.ceil((t1 - t0) / 8));
  const xt = Array.from({ length: Math.floor((t1 - t0) / step) + 1 }, (_, i) => Math.ceil(t0) + i * step)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="${H - 8}" text-anchor="middle">${t}s</text>`)
    .join('');
  let drawnPoints = 0;
  const lines = spec.lines
    .map((l) => {
      // A second without an outcome breaks the line instead of bridging it.
      const parts: Array<Array<ChartPoint & { value: number }>> = [[]];
      for (const p of l.points)
        if (p.value === null) parts.push([]);
        else parts.at(-1)!.push(p as ChartPoint & { value: number });
      const pts = parts.flat();
      drawnPoints += pts.length;
      const polylines = parts
        .filter((r) => r.length)
        .map(
          (r) =>
            `<polyline class="series"${runAttr(l.run)} fill="none" stroke="${l.color}" stroke-width="1.8" points="${r.map((p) => `${x(p.t + 0.5).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}"/>`,
        )
        .join('');
      const dots = spec.dots
        ? pts
            .map((p) => `<circle class="pt" cx="${x(p.t + 0.5).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.2"><title>${p.t} s: ${p.value}</title></circle>`)
            .join('')
        : '';
      return polylines + dots;
    })
    .join('');
  const metric = spec.metric === undefined ? '' : ` data-metric="${h(spec.metric)}"`;
  return `<figure><figcaption>${h(spec.caption)}</figcaption><svg class="chart"${metric} data-points="${drawnPoints}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(spec.caption)}">${shade}${ticks}${xt}${lines}${legend(runs)}</svg></figure>`;
}

export interface Bar {
  run: string;
  color: string;
  value: number | null;
}

/** One bar per run. */
export function barsChart(caption: string, bars: Bar[]): string {
  const { H, top } = frame(true);
  const max = Math.max(1, ...bars.map((b) => b.value ?? 0));
  const y = (v: number) => H - PAD.b - (v / max) * (H - top - PAD.b);
  const drawn = bars
    .map((b, i) => {
      const cx = PAD.l + 80 + i * 200;
      const bar =
        b.value === null
          ? ''
          : `<rect class="bar"${runAttr(b.run)} x="${cx - 40}" y="${y(b.value).toFixed(1)}" width="80" height="${(H - PAD.b - y(b.value)).toFixed(1)}" fill="${b.color}"/>`;
      return `${bar}<text x="${cx}" y="${(b.value === null ? H - PAD.b : y(b.value)) - 4}" text-anchor="middle">${b.value === null ? 'n/a' : fmtNumber(b.value)}</text><text x="${cx}" y="${H - 8}" text-anchor="middle">${h(b.run)}</text>`;
    })
    .join('');
  return `<figure><figcaption>${h(caption)}</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(caption)}"><line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}"/>${drawn}${legend(bars)}</svg></figure>`;
}
