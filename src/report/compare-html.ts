// The compare report in HTML: one self-contained file (inline CSS and SVG from charts.ts, no scripts), every string
// escaped. Cells carry data-profile="<column label>" and sections data-section="<id>", for tests and scripts.

import { barsChart, CHART_CSS, lineChart, RUN_COLORS } from './charts.js';
import type { CompareModel, RunSummary, Section } from './compare-model.js';
import { fmtColumn, fmtHop, fmtMs, fmtQps, fmtRatio, fmtServers, VERDICT_LABEL } from './compare-markdown.js';
import { escapeHtml as h, fmtNumber, fmtPercent, PAGE_CSS, STATUS_LABEL } from './format.js';

const notesHtml = (notes: string[]) => (notes.length ? `<ul class="notes">${notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul>` : '');
const run = (l: string) => ` data-profile="${h(l)}"`;
const color = (i: number) => RUN_COLORS[i % RUN_COLORS.length]!;

function chartHtml(s: Section, labels: string[]): string {
  const series = s.series;
  if (series.chart === 'bars') {
    return barsChart(
      series.label,
      labels.map((l, i) => ({ run: l, color: color(i), value: series.points[l]?.[0]?.value ?? null })),
    );
  }
  const faulted = labels.some((l) => series.faultEndS[l] !== null && series.faultEndS[l] !== undefined);
  return lineChart({
    caption: faulted ? `${series.label} (t = 0: the fault starts)` : series.label,
    unit: series.unit,
    lines: labels.map((l, i) => ({ run: l, color: color(i), points: series.points[l] ?? [] })),
    windows: labels.flatMap((l) => {
      const end = series.faultEndS[l];
      return end === null || end === undefined ? [] : [{ run: l, title: `${l}: fault, ${fmtNumber(end, 1)} s`, startS: 0, endS: end }];
    }),
  });
}

function sectionHtml(s: Section, labels: string[]): string {
  const rows = s.figures
    .map(
      (f) =>
        `<tr><th>${h(f.name)}</th>${labels.map((l) => `<td${run(l)}>${h(fmtColumn(f, l))}</td>`).join('')}<td class="v-${f.verdict === 'n/a' ? 'na' : f.verdict}">${h(VERDICT_LABEL[f.verdict])}</td></tr>`,
    )
    .join('');
  const hops = labels
    .filter((l) => s.hops?.[l]?.length)
    .map(
      (l) =>
        `<h3>Hops (${h(l)})</h3><ul class="hops"${run(l)}>${s.hops![l]!.map((x) => `<li class="${x.encrypted ? 'enc' : 'plain'}">${h(fmtHop(x))}</li>`).join('')}</ul>`,
    )
    .join('');
  return `<section class="section" data-section="${h(s.id)}" id="${h(s.id)}">
<h2>${h(s.title)}</h2>
${s.claim ? `<p class="claim">${h(s.claim)}</p>` : ''}
<p class="measured">measured by <code>${h(s.experiment)}</code></p>
<table class="figures"><tr><th>figure</th>${labels.map((l) => `<th>${h(l)}</th>`).join('')}<th>change</th></tr>${rows}</table>
${chartHtml(s, labels)}
${hops}${notesHtml(s.notes)}
</section>`;
}

function monitoringHtml(m: NonNullable<CompareModel['monitoring']>, labels: string[]): string {
  const tables = labels
    .map((l) => {
      const rows = m.rows[l];
      const body = rows
        ? `<table class="qps"><tr><th>server</th><th>client QPS</th><th>Prometheus QPS</th><th>difference</th></tr>${rows
            .map(
              (r) =>
                `<tr><th>${h(r.server)}</th><td>${fmtQps(r.clientQps)}</td><td>${fmtQps(r.prometheusQps)}</td><td>${fmtPercent(r.difference, 1)}</td></tr>`,
            )
            .join('')}</table>`
        : '<p>n/a</p>';
      return `<div${run(l)}><h3>${h(l)}</h3>${body}</div>`;
    })
    .join('');
  return `<section id="monitoring"><h2>${h(m.title)}</h2><div class="cols">${tables}</div>${notesHtml(m.notes)}</section>`;
}

function latencyHtml(m: NonNullable<CompareModel['latency']>, labels: string[]): string {
  const head = (p: string) => [...labels.map((l) => `<th>${p} ${h(l)}</th>`), `<th>${p} ratio</th>`].join('');
  const rows = m.rows
    .map((r) => {
      const of = (p: 'p50' | 'p99') => [...labels.map((l) => `<td${run(l)}>${fmtMs(r.values[l]?.[p])}</td>`), `<td>${fmtRatio(r.ratio[p])}</td>`].join('');
      return `<tr data-kind="${r.kind}"><th>${r.kind}s</th>${of('p50')}${of('p99')}</tr>`;
    })
    .join('');
  return `<section id="latency"><h2>${h(m.title)}</h2><table class="latency"><tr><th>requests</th>${head('p50')}${head('p99')}</tr>${rows}</table>${notesHtml(m.notes)}</section>`;
}

const CSS = `${PAGE_CSS}
.v-better{color:#15803d}.v-worse{color:#b91c1c}.v-na,.v-same,.v-noise,.v-single{color:#555}.hops .plain{color:#b91c1c}.claim{font-style:italic}
${CHART_CSS}.notes{color:#444}`;

export function renderCompareHtml(model: CompareModel): string {
  const labels = model.runs.map((r) => r.label);
  const row = (label: string, f: (s: RunSummary) => string) =>
    `<tr><th>${h(label)}</th>${model.runs.map((r) => `<td${run(r.label)}>${h(f(r))}</td>`).join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(model.title)}</title><style>${CSS}</style></head>
<body>
<h1>${h(model.title)}</h1>
<table class="runs"><tr><th></th>${labels.map((l) => `<th>${h(l)}</th>`).join('')}</tr>${row('run', (s) => s.title)}${row('verdict', (s) => STATUS_LABEL[s.status] ?? s.status)}${row('started', (s) => s.startedAt)}${row('ended', (s) => s.endedAt)}${row('servers', (s) => fmtServers(s.stack))}</table>
${notesHtml(model.notes)}
${model.sections.map((s) => sectionHtml(s, labels)).join('\n')}
${model.monitoring ? monitoringHtml(model.monitoring, labels) : ''}
${model.latency ? latencyHtml(model.latency, labels) : ''}
<section id="limits"><h2>Limits</h2>${notesHtml(model.limits)}</section>
${model.glossary?.length ? `<section id="glossary"><h2>Glossary</h2><dl>${model.glossary.map((g) => `<dt>${h(g.term)}</dt><dd>${h(g.meaning)}</dd>`).join('')}</dl></section>` : ''}
${model.generatedAt ? `<p class="generated">Generated ${h(model.generatedAt)}.</p>` : ''}
</body></html>
`;
}
