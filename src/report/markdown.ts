// report.md: what a person reads in a minute and a CI step summary shows — verdict, key numbers, what failed and why.

import { experimentsOf, runsOf, type ExperimentJournal, type Journal } from '../experiment/journal.js';
import { INTERVAL_METHOD, medianInterval, type MedianInterval } from './intervals.js';
import { figureGlossary } from './compare-figures.js';
import { METRIC_TABLE, type MetricName } from '../metric-table.js';
import { activityReason, fmtMetric, fmtNumber, fmtPercent, fmtSeconds, STATUS_LABEL } from './format.js';
import { describeStop } from '../experiment/stop-conditions.js';
import { liveMetricsLines } from './live-metrics.js';
import { describeAction } from '../experiment/exec-action.js';

/** The numbers of the one-line summary, in this order; labels and units come from the metric table. */
const KEY_METRICS: readonly MetricName[] = [
  'availability',
  'error_ratio_outside_faults',
  'p99_ms_outside_faults',
  'time_to_detect_s',
  'time_to_recover_s',
  'failback_s',
  'write_outage_s',
  'read_error_ratio_during_faults',
  'lost_writes',
  'exposure_holes',
  'tls_grade',
];

/** A median's table cells: the median, its interval ("none (one run)" for one) and the interval's coverage. */
function intervalCells(k: keyof typeof METRIC_TABLE, iv: MedianInterval, one: string): string {
  const range = iv.n > 1 ? `${fmtMetric(k, iv.low)}–${fmtMetric(k, iv.high)}`.replace(/ (s|ms)–/, '–') : `none (one ${one})`;
  return `${fmtMetric(k, iv.median)} | ${range} | ${iv.n > 1 ? fmtPercent(iv.coverage, 1) : '–'}`;
}

/** The key figures over a repeated experiment's runs: median, exact interval, runs (report/intervals.ts). */
function repetitionLines(j: ExperimentJournal): string[] {
  const runs = runsOf(j);
  if (runs.length < 2) return [];
  const out = [
    `**${runs.length} repetitions.** Each key figure is the median of the runs with its interval; the details below (load, faults, assertions) are the first repetition's.`,
    '',
    '| figure | median | interval | coverage | runs |',
    '|---|---|---|---|---|',
  ];
  for (const k of KEY_METRICS) {
    const iv = medianInterval(runs.map((r) => r.metrics[k]).filter((v): v is number => typeof v === 'number'));
    if (iv) out.push(`| ${METRIC_TABLE[k].short} | ${intervalCells(k, iv, 'run')} | ${iv.n} |`);
  }
  out.push('', '| repetition | verdict | availability | time to recover | write outage | lost writes |', '|---|---|---|---|---|---|');
  for (const [i, r] of runs.entries()) {
    const m = r.metrics;
    out.push(
      `| ${r.repetition ?? i + 1} | ${STATUS_LABEL[r.status] ?? r.status} | ${fmtMetric('availability', m.availability ?? null)} | ${fmtMetric('time_to_recover_s', m.time_to_recover_s ?? null)} | ` +
        `${fmtMetric('write_outage_s', m.write_outage_s ?? null)} | ${fmtNumber(m.lost_writes ?? null)} |`,
    );
  }
  out.push('');
  return out;
}

/** A run's samples, one per injection of a repeated fault or per look (event-samples.ts): each, the median, its interval. */
function sampleLines(j: ExperimentJournal): string[] {
  const runs = runsOf(j).filter((r) => r.samples && Object.keys(r.samples.metrics).length);
  const per = runs[0]?.samples?.per;
  if (!per) return [];
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.samples!.metrics)))] as Array<keyof typeof METRIC_TABLE>;
  const out = [`**Per ${per}.** Each ${per} is one sample of these figures; the median and its interval are over all of them.`, ''];
  out.push(`| figure | each ${per} | median | interval | coverage |`, '|---|---|---|---|---|');
  for (const k of names) {
    const values = runs.flatMap((r) => r.samples!.metrics[k] ?? []);
    const iv = medianInterval(values);
    if (iv) out.push(`| ${METRIC_TABLE[k].short} | ${values.map((v) => fmtMetric(k, v)).join(', ')} | ${intervalCells(k, iv, 'sample')} |`);
  }
  out.push('');
  return out;
}

function metricLine(j: ExperimentJournal): string {
  return KEY_METRICS.filter((k) => j.metrics[k] !== undefined && j.metrics[k] !== null)
    .map((k) => `${METRIC_TABLE[k].short} **${fmtMetric(k, j.metrics[k] ?? null)}**`)
    .join(' · ');
}

function experimentSection(j: ExperimentJournal, level: string): string {
  const out: string[] = [];
  out.push(`${level} ${j.title} — ${STATUS_LABEL[j.status] ?? j.status}`);
  out.push('');
  out.push(j.reason);
  out.push('');
  if (j.stop) out.push(`**Stop condition fired** (stop_when[${j.stop.index}]): ${describeStop(j.stop)}.`, '');
  const line = metricLine(j);
  if (line) out.push(line, '');
  out.push(...repetitionLines(j));
  out.push(...sampleLines(j));
  if (j.load) {
    const s = j.load.summary;
    out.push(
      `Load: ${j.load.driver}, ${s.intended ?? s.sent} requests intended in ${fmtSeconds(j.load.durationMs)} (${fmtNumber(s.rate, 0)} req/s sent), ` +
        `${s.successes} succeeded, ${s.responses - s.successes} failed by status, ${s.errors} failed without an answer ` +
        `(${s.timedOut ?? 0} of them timed out${s.late ? `, ${s.late} late: not on the wire in time` : ''}), ${s.dropped} dropped; p50 ${fmtNumber(s.latency.p50, 1)} ms, p99 ${fmtNumber(s.latency.p99, 1)} ms ` +
        `(timed-out requests at their deadline).`,
      '',
    );
  }
  for (const l of liveMetricsLines(j)) out.push(l, '');
  if (j.faultWindows.length) {
    out.push('| fault | target | from | to | status |', '|---|---|---|---|---|');
    const faults = j.method.filter((a) => a.kind === 'fault');
    for (const a of faults) {
      out.push(`| ${a.name} | ${a.target ?? '-'} | ${fmtSeconds(a.startMs)} | ${fmtSeconds(a.endMs)} | ${a.status}${a.error ? `: ${a.error}` : ''} |`);
    }
    out.push('');
  }
  const actions = [...j.method, ...j.rollbacks].filter((a) => a.kind === 'action');
  if (actions.length) out.push('Actions:', '', ...actions.map((a) => `- ${describeAction(a)}`), '');
  if (j.assertions.length) {
    out.push('| | assertion | bound | measured |', '|---|---|---|---|');
    for (const a of j.assertions) out.push(`| ${a.passed ? '✅' : '❌'} | ${a.name} | ${a.bound} | ${fmtNumber(a.value)}${a.detail ? ` (${a.detail})` : ''} |`);
    out.push('');
  }
  const failing = [
    ...j.steadyStateBefore.activities
      .filter((a) => a.status !== 'succeeded')
      .map((a) => `steady state before: ${a.name} ${a.status}${activityReason(a) ? `: ${activityReason(a)}` : ''}`),
    ...j.method.filter((a) => a.status === 'error' || (a.kind === 'action' && a.status === 'failed')).map((a) => `${a.kind} ${a.name}: ${a.error ?? a.status}`),
    ...j.steadyStateAfter.activities
      .filter((a) => a.status !== 'succeeded')
      .map((a) => `steady state after: ${a.name} ${a.status}${activityReason(a) ? `: ${activityReason(a)}` : ''}`),
    ...j.rollbacks.filter((a) => a.status !== 'succeeded').map((a) => `rollback ${a.name}: ${a.error ?? a.status}`),
  ];
  if (failing.length) {
    out.push('What went wrong:', '');
    for (const f of failing) out.push(`- ${f}`);
    out.push('');
  }
  const findings = (j.findings.tls as { findings?: Array<{ severity: string; title: string }> } | undefined)?.findings ?? [];
  const holes = (j.findings.exposure as { holes?: Array<{ vantage: string; server: string; port: number }> } | undefined)?.holes ?? [];
  if (findings.length || holes.length) {
    out.push('Findings:', '');
    for (const f of findings) out.push(`- TLS (${f.severity}): ${f.title}`);
    for (const h of holes) out.push(`- firewall hole: ${h.server}:${h.port} reachable from ${h.vantage}`);
    out.push('');
  }
  return out.join('\n');
}

/** How the key figures the report shows are counted (compare-figures.ts), and the interval method when a run repeated. */
function glossary(list: ExperimentJournal[]): string {
  const shown = KEY_METRICS.filter((k) => list.some((e) => runsOf(e).some((r) => r.metrics[k] !== undefined && r.metrics[k] !== null)));
  const entries = figureGlossary(shown.map((k) => ({ name: METRIC_TABLE[k].short, metric: k, source: `metrics.${k}` })));
  if (list.some((e) => runsOf(e).length > 1)) entries.unshift({ term: 'median [interval]', meaning: INTERVAL_METHOD });
  return entries.length ? `Glossary:\n\n${entries.map((g) => `- **${g.term}**: ${g.meaning}`).join('\n')}\n\n` : '';
}

export function renderMarkdown(journal: Journal): string {
  if (journal.kind === 'experiment') {
    return `# faultline: ${experimentSection(journal, '').replace(/^ /, '')}\n${glossary([journal])}_Run ${journal.startedAt}, ${fmtSeconds(journal.durationMs)}; journal: journal.json_\n`;
  }
  const list = experimentsOf(journal);
  const out: string[] = [];
  out.push(`# faultline: ${journal.title} — ${STATUS_LABEL[journal.status] ?? journal.status}`, '');
  out.push(
    `${list.filter((e) => e.status === 'passed').length} of ${list.length} experiments passed; run ${journal.startedAt}, ${fmtSeconds(journal.durationMs)}.`,
    '',
  );
  out.push('| experiment | verdict | availability | time to recover | write outage | lost writes | failed assertions |', '|---|---|---|---|---|---|---|');
  for (const e of list) {
    const failed = e.assertions.filter((a) => !a.passed).map((a) => a.name);
    const m = e.metrics;
    out.push(
      `| ${e.id} | ${STATUS_LABEL[e.status] ?? e.status} | ${typeof m.availability === 'number' ? fmtPercent(m.availability, 2) : 'n/a'} | ` +
        `${typeof m.time_to_recover_s === 'number' ? `${fmtNumber(m.time_to_recover_s, 1)} s` : 'n/a'} | ` +
        `${typeof m.write_outage_s === 'number' ? `${fmtNumber(m.write_outage_s, 1)} s` : 'n/a'} | ${fmtNumber(m.lost_writes ?? null)} | ${failed.join(', ') || '-'} |`,
    );
  }
  out.push('');
  for (const e of list) out.push(experimentSection(e, '##'));
  return `${out.join('\n')}\n${glossary(list)}`;
}
