// The compare report of repeated runs (issue 21): each column's median with its exact 95 % interval, better or worse
// only where the intervals separate, within noise where they overlap, and a glossary that says how each figure is
// counted (pure, on fixed journals).

import test from 'ava';
import type { ExperimentJournal, SuiteJournal } from '../../src/experiment/journal.js';
import { suiteReportSchema } from '../../src/experiment/suite-report.js';
import type { Metrics } from '../../src/metric-table.js';
import { compareModel, renderCompareHtml, renderCompareMarkdown } from '../../src/report/before-after.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { compareJournals } from '../../src/report/compare.js';
import { journal } from '../helpers/journal.js';

/** An experiment run once per entry of `runs`, its journal as suite.ts writes it. */
function repeated(id: string, runs: Metrics[]): ExperimentJournal {
  const list = runs.map((m, i) => ({ ...journal(id, m), repetition: i + 1 }));
  return runs.length === 1 ? list[0]! : { ...list[0]!, repetitions: list };
}

function suite(title: string, experiments: ExperimentJournal[]): SuiteJournal {
  return {
    version: 1,
    kind: 'suite',
    id: 'writer',
    title,
    description: '',
    file: 'writer.yaml',
    status: 'passed',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:10:00.000Z',
    durationMs: 600_000,
    experiments,
    report: suiteReportSchema.parse({
      title: 'writer before and after',
      sections: [
        {
          id: 'single-writer',
          title: 'One server takes writes',
          experiment: 'kill',
          figures: ['write_outage_s', 'lost_writes', 'time_to_recover_s', 'failback_s', 'tls_grade'],
          chart: 'bars',
        },
      ],
    }),
  };
}

const outages = { before: [8.3, 8.1, 8.6, 7.9, 8.4, 8.2], after: [0, 0, 0.2, 0, 0.1, 0] };
const recover = { before: [0.2, 0.3, 0.1, 0.2, 0.4, 0.3], after: [0, 0.3, 0.1, 0.2, 0, 0.4] };
const runsOf = (side: 'before' | 'after'): Metrics[] =>
  outages[side].map((o, i) => ({
    write_outage_s: o,
    lost_writes: 0,
    time_to_recover_s: recover[side][i]!,
    failback_s: side === 'after' ? 1.2 : null,
    tls_grade: 'A',
  }));

const model = compareModel({
  journals: [suite('writer', [repeated('kill', runsOf('before'))]), suite('writer', [repeated('kill', runsOf('after'))])],
  labels: ['baseline', 'hardened'],
});
const fig = (name: string) => model.sections[0]!.figures.find((f) => f.name === name)!;

test('each column is the median of its runs with the exact interval; separated intervals are better', (t) => {
  t.like(fig('write outage (s)'), { values: { baseline: 8.25, hardened: 0 }, runs: { baseline: 6, hardened: 6 }, verdict: 'better' });
  t.like(fig('write outage (s)').intervals!.baseline, { low: 7.9, high: 8.6, n: 6 });
  t.true(fig('write outage (s)').intervals!.baseline!.coverage >= 0.95);
});

test('overlapping intervals are within noise; the same value in every run is the same; a figure one column lacks is n/a', (t) => {
  t.is(fig('time to recover (s)').verdict, 'noise');
  t.is(fig('lost writes').verdict, 'same');
  t.like(fig('TLS grade'), { values: { baseline: 'A', hardened: 'A' }, verdict: 'same' });
  t.like(fig('failback after the revert (s)'), { values: { baseline: null, hardened: 1.2 }, verdict: 'n/a' });
});

test('Markdown and HTML print the interval, the verdict and a glossary that says how each figure is counted', (t) => {
  const md = renderCompareMarkdown(model);
  t.regex(md, /\| write outage \(s\) \| 8\.3 s \[7\.9–8\.6 s, 6 runs\] \| 0\.0 s \[0\.0–0\.2 s, 6 runs\] \| ▲ better \|/);
  t.regex(md, /\| time to recover \(s\) \| .* \| ≈ within noise \|/);
  t.regex(md, /Runs per column: baseline 6, hardened 6\./);
  t.regex(md, /## Glossary[\s\S]*\*\*median \[interval\]\*\*: Median over the repetitions with an exact 95 % confidence interval: the order-statistic/);
  t.regex(md, /\*\*time to recover \(s\)\*\*: .*healed itself \(a failover\) and the time counts from the fault’s start/);
  t.regex(md, /\*\*failback after the revert \(s\)\*\*: For a fault the stack had healed/);
  const html = renderCompareHtml(model);
  t.regex(html, /<section id="glossary"><h2>Glossary<\/h2><dl><dt>median \[interval\]<\/dt>/);
  t.regex(html, /<td data-profile="hardened">0\.0 s \[0\.0–0\.2 s, 6 runs\]<\/td><td class="v-better">▲ better<\/td>/);
});

test('fewer than 6 runs: the interval is min–max and the report prints its coverage', (t) => {
  const three = (o: number[]) =>
    suite('w', [
      repeated(
        'kill',
        o.map((x) => ({ write_outage_s: x })),
      ),
    ]);
  const m = compareModel({ journals: [three([8.3, 8.1, 8.6]), three([0.1, 0, 0.2])], labels: ['a', 'b'] });
  const md = renderCompareMarkdown(m);
  t.regex(md, /\| write outage \(s\) \| 8\.3 s \[8\.1–8\.6 s, 3 runs, 75\.0%\] \| 0\.1 s \[0\.0–0\.2 s, 3 runs, 75\.0%\] \| ▲ better \|/);
  t.regex(md, /With fewer than 6 runs the interval is min–max and covers the median with less than 95 %/);
});

test('one run each: no interval, and the report says so instead of calling it', (t) => {
  const once = (x: number) => suite('w', [repeated('kill', [{ write_outage_s: x }])]);
  const m = compareModel({ journals: [once(8.3), once(0)], labels: ['a', 'b'] });
  t.is(m.sections[0]!.figures[0]!.verdict, 'single');
  t.regex(renderCompareMarkdown(m), /\| 8\.3 s \| 0\.0 s \| ≠ differs \(one run each: no interval\) \|/);
  t.regex(renderCompareMarkdown(m), /One run per column: no interval/);
});

test('report.md of a repeated experiment: the median and interval of each key figure, and every repetition', (t) => {
  const md = renderMarkdown(repeated('kill', runsOf('before')));
  t.regex(md, /6 repetitions/);
  t.regex(md, /\| write outage \| 8\.3 s \| 7\.9–8\.6 s \|/);
  t.regex(md, /\| 1 \| PASSED \|/);
  t.regex(md, /order-statistic interval/);
});

test('report.html of a repeated experiment: key numbers as median [interval], and the method named', async (t) => {
  const { renderHtml } = await import('../../src/report/html.js');
  const html = renderHtml(repeated('kill', runsOf('before')));
  t.regex(html, /Key numbers \(6 repetitions: median \[interval\]\)/);
  t.regex(html, /<th>write outage s<\/th><td>8\.25 \[7\.90–8\.60, 6 runs, 96\.9%\]<\/td>/);
  t.regex(html, /order-statistic interval for the median/);
});

test('report.md’s glossary says how time to recover and the failback are counted', (t) => {
  const md = renderMarkdown(journal('kill', { time_to_recover_s: 0, failback_s: 1.2, write_outage_s: 0 }));
  t.regex(md, /Glossary:\n\n- \*\*time to recover\*\*: .*counts from the fault’s start.*\n- \*\*failback\*\*: For a fault the stack had healed/);
  t.notRegex(md, /median \[interval\]/, 'one run: no interval to explain');
});

test('junit.xml of a repeated experiment: a test suite per repetition, so a failure in any of them shows', async (t) => {
  const { renderJunit } = await import('../../src/report/junit.js');
  const runs = [
    journal('kill', {}),
    {
      ...journal('kill', {}, 'failed'),
      assertions: [{ name: 'write outage ≤ 2', metric: 'write_outage_s', bound: '≤ 2', value: 8, passed: false, detail: '' }],
    },
  ];
  const xml = renderJunit({ ...runs[0]!, status: 'failed', repetitions: runs.map((r, i) => ({ ...r, repetition: i + 1 })) } as ExperimentJournal);
  t.regex(xml, /<testsuite name="kill \(repetition 1\)" tests="0" failures="0"/);
  t.regex(xml, /<testsuite name="kill \(repetition 2\)" tests="1" failures="1"/);
});

test('one run with a fault injected six times: report.md lists each injection’s figures, their median and interval; compare calls the change', (t) => {
  const kills = (outages: number[]): ExperimentJournal => ({
    ...journal('kill', { write_outage_s: outages.reduce((a, b) => a + b, 0), write_outage_worst_s: Math.max(...outages) }),
    samples: { per: 'injection', metrics: { write_outage_s: outages } },
  });
  const before = kills([3.3, 3.2, 3.3, 3.4, 3.1, 3.3]);
  const md = renderMarkdown(before);
  t.regex(md, /\*\*Per injection\.\*\*/);
  t.regex(md, /\| write outage \| 3\.3 s, 3\.2 s, 3\.3 s, 3\.4 s, 3\.1 s, 3\.3 s \| 3\.3 s \| 3\.1–3\.4 s \| 96\.9% \|/);
  const change = compareJournals(before, kills([0, 0.1, 0, 0, 0.1, 0])).changes.find((c) => c.metric === 'write_outage_s');
  t.like(change, { change: 'better', runs: { before: 6, after: 6 } });
});
