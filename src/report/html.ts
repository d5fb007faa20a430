// report.html: one self-contained file (inline CSS and SVG, no scripts, no network) with charts of req/s,
// errors and p99 per second, fault windows shaded, probe findings, assertions, and the suite scorecard.

import { experimentsOf, type ExperimentJournal, type FaultWindow, type Journal } from '../experiment/journal.js';
import { isMetricName, METRIC_TABLE } from '../metric-table.js';
import { escapeHtml as h, fmtNumber, fmtPercent, fmtSeconds, STATUS_LABEL } from './format.js';
import { scorecard } from './scorecard.js';
import { seriesOf } from './series.js';

const W = 760;
const H = 170;
const PAD = { l: 52, r: 12, t: 14, b: 26 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / p) * p;
}

/** An SVG line chart with one circle per point (class "pt"), so the points can be counted in a browser. */
export function lineChart(metric: string, label: string, t: number[], values: Array<number | null>, windows: FaultWindow[], color: string): string {
  const points = t.map((x, i) => [x, values[i]] as const).filter((p): p is readonly [number, number] => p[1] !== null && p[1] !== undefined);
  const maxT = Math.max(1, t.length);
  const maxV = niceMax(Math.max(0, ...points.map((p) => p[1])));
  const x = (s: number) => PAD.l + ((s + 0.5) / maxT) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxV) * (H - PAD.t - PAD.b);
  const shade = windows
    .map((w) => {
      const x0 = PAD.l + (w.startMs / 1000 / maxT) * (W - PAD.l - PAD.r);
      const x1 = PAD.l + ((w.endMs ?? maxT * 1000) / 1000 / maxT) * (W - PAD.l - PAD.r);
      return `<rect class="fault-window" x="${x0.toFixed(1)}" y="${PAD.t}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${H - PAD.t - PAD.b}"><title>${h(w.name)}</title></rect>`;
    })
    .join('');
  const line = points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
  const dots = points
    .map((p) => `<circle class="pt" cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.2"><title>${p[0]} s: ${p[1]}</title></circle>`)
    .join('');
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${PAD.l - 6}" y="${(y(maxV * f) + 4).toFixed(1)}" text-anchor="end">${fmtNumber(Math.round(maxV * f * 10) / 10)}</text><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(maxV * f).toFixed(1)}" y2="${y(maxV * f).toFixed(1)}" class="grid"/>`,
    )
    .join('');
  const xt = Array.from({ length: 6 }, (_, i) => Math.round((i * (maxT - 1)) / 5))
    .map((s) => `<text x="${x(s).toFixed(1)}" y="${H - 8}" text-anchor="middle">${s}s</text>`)
    .join('');
  return `<figure><figcaption>${h(label)}</figcaption><svg class="chart" data-metric="${metric}" data-points="${points.length}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(label)}">${shade}${ticks}${xt}<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${line}"/>${dots}</svg></figure>`;
}

function experimentHtml(j: ExperimentJournal): string {
  const s = seriesOf(j);
  const cls = j.status === 'passed' ? 'pass' : 'fail';
  const metrics = Object.entries(j.metrics)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => {
      const spec = isMetricName(k) ? METRIC_TABLE[k] : undefined;
      return `<tr><th>${h(k.replace(/_/g, ' '))}</th><td>${h(typeof v === 'number' && spec?.unit === 'ratio' ? fmtPercent(v, spec.digits) : fmtNumber(v))}</td></tr>`;
    })
    .join('');
  const assertions = j.assertions
    .map(
      (a) =>
        `<tr class="${a.passed ? 'pass' : 'fail'}"><td>${a.passed ? '✔' : '✘'}</td><td>${h(a.name)}</td><td>${h(a.bound)}</td><td>${h(fmtNumber(a.value))}</td><td>${h(a.detail)}</td></tr>`,
    )
    .join('');
  const activities = [...j.steadyStateBefore.activities, ...j.method, ...j.steadyStateAfter.activities, ...j.rollbacks]
    .map(
      (a) =>
        `<tr class="${a.status === 'succeeded' ? 'pass' : a.status === 'skipped' ? '' : 'fail'}"><td>${h(a.phase)}</td><td>${h(a.kind)}</td><td>${h(a.name)}</td><td>${h(a.target ?? '')}</td><td>${h(fmtSeconds(a.startMs))}</td><td>${h(fmtSeconds(a.endMs))}</td><td>${h(a.status)}</td><td>${h(a.error ?? '')}</td></tr>`,
    )
    .join('');
  const tls = (j.findings.tls as { findings?: Array<{ severity: string; title: string; detail?: string }> } | undefined)?.findings ?? [];
  const holes = (j.findings.exposure as { holes?: Array<{ vantage: string; server: string; port: number }> } | undefined)?.holes ?? [];
  const findings = [
    ...tls.map((f) => `<li class="sev-${h(f.severity)}"><b>${h(f.severity)}</b> TLS: ${h(f.title)}${f.detail ? ` — ${h(f.detail)}` : ''}</li>`),
    ...holes.map((x) => `<li class="sev-high"><b>high</b> firewall hole: ${h(x.server)}:${x.port} reachable from ${h(x.vantage)}</li>`),
  ].join('');
  return `<section class="experiment" id="${h(j.id)}">
<h2><span class="badge ${cls}">${h(STATUS_LABEL[j.status] ?? j.status)}</span> ${h(j.title)}</h2>
<p class="reason">${h(j.reason)}</p>
${j.description ? `<p class="desc">${h(j.description)}</p>` : ''}
<div class="charts">
${lineChart('rps', 'requests per second', s.t, s.rps, j.faultWindows, '#2563eb')}
${lineChart('errors', 'failed requests per second', s.t, s.errors, j.faultWindows, '#dc2626')}
${lineChart('p99', 'p99 latency per second (ms, from intended send time)', s.t, s.p99, j.faultWindows, '#7c3aed')}
</div>
<div class="cols"><div><h3>Assertions</h3><table class="assertions"><tr><th></th><th>assertion</th><th>bound</th><th>measured</th><th></th></tr>${assertions || '<tr><td colspan="5">none declared</td></tr>'}</table></div>
<div><h3>Key numbers</h3><table class="metrics">${metrics}</table></div></div>
${findings ? `<h3>Findings</h3><ul class="findings">${findings}</ul>` : ''}
<h3>Activities</h3><table class="activities"><tr><th>phase</th><th>kind</th><th>name</th><th>target</th><th>from</th><th>to</th><th>status</th><th>error</th></tr>${activities}</table>
</section>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-top:1px solid #ddd;padding-top:16px}h3{font-size:15px;margin:18px 0 6px}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;vertical-align:middle}.badge.pass{background:#16a34a}.badge.fail{background:#dc2626}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:top}tr.fail td{background:#fef2f2}tr.pass td:first-child{color:#16a34a}
.charts figure{margin:8px 0}figcaption{font-weight:600;font-size:13px}svg text{font-size:10px;fill:#555}.grid{stroke:#eee}.fault-window{fill:#f59e0b;opacity:.18}
.cols{display:flex;gap:24px;flex-wrap:wrap}.findings li.sev-critical,.findings li.sev-high{color:#b91c1c}.reason{font-weight:500}
.scorecard td.g-A{background:#dcfce7}.scorecard td.g-B{background:#fef9c3}.scorecard td.g-C,.scorecard td.g-D{background:#ffedd5}.scorecard td.g-F{background:#fee2e2}`;

export function renderHtml(journal: Journal): string {
  const list = experimentsOf(journal);
  const score = scorecard(list);
  const title = journal.title;
  const toc =
    journal.kind === 'suite'
      ? `<table class="summary"><tr><th>experiment</th><th>verdict</th><th>availability</th><th>time to recover</th><th>lost writes</th></tr>${list
          .map(
            (e) =>
              `<tr class="${e.status === 'passed' ? 'pass' : 'fail'}"><td><a href="#${h(e.id)}">${h(e.id)}</a></td><td>${h(STATUS_LABEL[e.status] ?? e.status)}</td><td>${typeof e.metrics.availability === 'number' ? fmtPercent(e.metrics.availability) : 'n/a'}</td><td>${typeof e.metrics.time_to_recover_s === 'number' ? `${fmtNumber(e.metrics.time_to_recover_s, 1)} s` : 'n/a'}</td><td>${fmtNumber(e.metrics.lost_writes ?? null)}</td></tr>`,
          )
          .join('')}</table>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>faultline: ${h(title)}</title><style>${CSS}</style></head>
<body>
<h1><span class="badge ${journal.status === 'passed' ? 'pass' : 'fail'}">${h(STATUS_LABEL[journal.status] ?? journal.status)}</span> faultline: ${h(title)}</h1>
<p>Run ${h(journal.startedAt)} · ${h(fmtSeconds(journal.durationMs))} · ${list.length} experiment${list.length === 1 ? '' : 's'}</p>
<h3>Scorecard</h3>
<table class="scorecard"><tr><th>category</th><th>grade</th><th>evidence</th></tr>${score.map((r) => `<tr><th>${h(r.category)}</th><td class="g-${h(r.grade.replace('/', ''))}">${h(r.grade)}</td><td>${h(r.summary)}</td></tr>`).join('')}</table>
${toc}
${list.map(experimentHtml).join('\n')}
</body></html>
`;
}
