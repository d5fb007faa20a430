// report.html: one self-contained file (inline CSS and SVG, no scripts, no network) with charts of req/s,
// errors and p99 per second, fault windows shaded, probe findings, assertions, and the suite scorecard.

import { experimentsOf, runsOf, type ExperimentJournal, type Journal } from '../experiment/journal.js';
import { isMetricName, METRIC_TABLE, type MetricSpec } from '../metric-table.js';
import { INTERVAL_METHOD, medianInterval } from './intervals.js';
import { CHART_CSS, lineChart, type ChartWindow } from './charts.js';
import { activityReason, escapeHtml as h, fmtNumber, fmtPercent, fmtSeconds, PAGE_CSS, STATUS_LABEL } from './format.js';
import { scorecard } from './scorecard.js';
import { describeStop } from '../experiment/stop-conditions.js';
import { seriesOf, type Series } from './series.js';
import { liveMetricsLines } from './live-metrics.js';

/** Fault windows of a run on its load's clock; a window still open at the end runs to the end of load. */
function windowsOf(j: ExperimentJournal, seconds: number): ChartWindow[] {
  return j.faultWindows.map((w) => ({ title: w.name, startS: w.startMs / 1000, endS: (w.endMs ?? seconds * 1000) / 1000 }));
}

function chart(metric: string, caption: string, s: Series, values: Array<number | null>, windows: ChartWindow[], color: string): string {
  const points = s.t.map((t, i) => ({ t, value: values[i] ?? null }));
  return lineChart({ metric, caption, unit: metric === 'p99' ? 'ms' : 'count', lines: [{ color, points }], windows, dots: true });
}

function experimentHtml(j: ExperimentJournal): string {
  const s = seriesOf(j);
  const windows = windowsOf(j, s.t.length);
  const cls = j.status === 'passed' ? 'pass' : 'fail';
  const runs = runsOf(j);
  const fmt = (spec: MetricSpec | undefined, v: number | string | null) =>
    typeof v === 'number' && spec?.unit === 'ratio' ? fmtPercent(v, spec.digits) : fmtNumber(v);
  const metrics = Object.entries(j.metrics)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => {
      const spec = isMetricName(k) ? METRIC_TABLE[k] : undefined;
      // Repeated: the median of the runs and its exact interval (intervals.ts), not the first run's value.
      const iv = runs.length > 1 && isMetricName(k) ? medianInterval(runs.map((r) => r.metrics[k]).filter((x): x is number => typeof x === 'number')) : null;
      const text =
        iv && iv.n > 1
          ? `${fmt(spec, iv.median)} [${fmt(spec, iv.low)}–${fmt(spec, iv.high)}, ${iv.n} runs, ${fmtPercent(iv.coverage, 1)}]`
          : fmt(spec, v ?? null);
      return `<tr><th>${h(k.replace(/_/g, ' '))}</th><td>${h(text)}</td></tr>`;
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
        `<tr class="${a.status === 'succeeded' ? 'pass' : a.status === 'skipped' ? '' : 'fail'}"><td>${h(a.phase)}</td><td>${h(a.kind)}</td><td>${h(a.name)}</td><td>${h(a.target ?? '')}</td><td>${h(fmtSeconds(a.startMs))}</td><td>${h(fmtSeconds(a.endMs))}</td><td>${h(a.status)}</td><td>${h(activityReason(a))}</td></tr>`,
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
<p class="reason">${h(j.reason)}</p>${j.stop ? `\n<p class="stop">Stop condition fired (stop_when[${j.stop.index}]): ${h(describeStop(j.stop))}</p>` : ''}
${j.description ? `<p class="desc">${h(j.description)}</p>` : ''}${liveMetricsLines(j)
    .map((l) => `\n<p class="live"><code>${h(l)}</code></p>`)
    .join('')}
<div class="charts">
${chart('rps', 'requests per second', s, s.rps, windows, '#2563eb')}
${chart('errors', 'failed requests per second', s, s.errors, windows, '#dc2626')}
${chart('p99', 'p99 latency per second (ms, from intended send time)', s, s.p99, windows, '#7c3aed')}
</div>
<div class="cols"><div><h3>Assertions</h3><table class="assertions"><tr><th></th><th>assertion</th><th>bound</th><th>measured</th><th></th></tr>${assertions || '<tr><td colspan="5">none declared</td></tr>'}</table></div>
<div><h3>Key numbers${runs.length > 1 ? ` (${runs.length} repetitions: median [interval])` : ''}</h3><table class="metrics">${metrics}</table>${runs.length > 1 ? `<p class="method">${h(INTERVAL_METHOD)} Charts, assertions and activities are the first repetition's.</p>` : ''}</div></div>
${findings ? `<h3>Findings</h3><ul class="findings">${findings}</ul>` : ''}
<h3>Activities</h3><table class="activities"><tr><th>phase</th><th>kind</th><th>name</th><th>target</th><th>from</th><th>to</th><th>status</th><th>error</th></tr>${activities}</table>
</section>`;
}

const CSS = `${PAGE_CSS}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;vertical-align:middle}.badge.pass{background:#16a34a}.badge.fail{background:#dc2626}
tr.fail td{background:#fef2f2}tr.pass td:first-child{color:#16a34a}${CHART_CSS}
.findings li.sev-critical,.findings li.sev-high{color:#b91c1c}.reason{font-weight:500}
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
