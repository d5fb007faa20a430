// The compare report of a made-up suite on a made-up stack: its sections, claims and figures come from the suite's
// `report:` (or, without one, one section per experiment with the metrics it asserts), its columns from the journals
// or --label, its series from the timeline's per-second view; nothing of the reference suite shows (pure).

import test from 'ava';
import type { ExperimentJournal, SuiteJournal } from '../../src/experiment/journal.js';
import { suiteSchema } from '../../src/experiment/schema.js';
import { suiteReportSchema, type SuiteReport } from '../../src/experiment/suite-report.js';
import { loadResultToJSON, Timeline, WriteLedger, type LoadResult, type LoadSettings } from '../../src/load/index.js';
import type { Metrics } from '../../src/metric-table.js';
import { compareModel, renderCompareHtml, renderCompareMarkdown } from '../../src/report/before-after.js';
import { journal } from '../helpers/journal.js';

/** 10 requests a second for 10 s, every request failing in [failFromMs, failToMs); a fault window over the same span. */
function load(failFromMs: number, failToMs: number): LoadResult {
  const timeline = new Timeline({ bucketMs: 100, startedAt: 0 });
  for (let n = 0; n < 100; n++) {
    const tMs = n * 100;
    timeline.recordSent(tMs);
    if (tMs >= failFromMs && tMs < failToMs) timeline.recordError(tMs, 'ECONNREFUSED');
    else timeline.recordResponse(tMs, 200, 4000);
  }
  timeline.extendTo(10_000);
  timeline.seal();
  return {
    runId: 'r',
    driver: 'paced',
    options: {} as LoadSettings,
    startedAt: new Date(0).toISOString(),
    durationMs: 10_000,
    stopReason: 'completed',
    timeline,
    ledger: new WriteLedger('r', 0),
    summary: timeline.summary(10_000),
    dropped: 0,
    faults: failToMs > failFromMs ? [{ name: 'cache-kill', startMs: failFromMs, endMs: failToMs }] : [],
    schedule: null,
  };
}

function experiment(id: string, metrics: Metrics, project: string, more: Partial<ExperimentJournal> = {}): ExperimentJournal {
  const stack = { project, servers: [{ server: 'cache', role: 'cache', components: [{ component: 'redis' }] }] } as unknown as ExperimentJournal['stack'];
  return { ...journal(id, metrics), title: `the ${id} experiment`, stack, ...more };
}

function run(project: string, experiments: ExperimentJournal[], report?: SuiteReport): SuiteJournal {
  return {
    version: 1,
    kind: 'suite',
    id: 'cache-gameday',
    title: 'Cache gameday',
    description: '',
    file: 'cache-gameday.yaml',
    status: 'passed',
    startedAt: '2025-02-01T00:00:00.000Z',
    endedAt: '2025-02-01T00:01:00.000Z',
    durationMs: 60_000,
    experiments,
    ...(report ? { report } : {}),
  };
}

const report = suiteReportSchema.parse({
  title: 'Cache gameday: before and after the replica',
  sections: [
    {
      id: 'cache-is-a-single-point',
      title: 'The cache is a single point of failure',
      claim: 'When the cache dies, checkout fails until it is back.',
      experiment: 'cache-kill',
      figures: ['availability', 'time_to_recover_s', { metric: 'error_ratio', complement: true, label: 'requests answered' }],
      notes: ['Measured at 10 requests a second.'],
    },
  ],
  notes: ['A made-up suite.'],
});

const withLoad = (e: ExperimentJournal, l: LoadResult): ExperimentJournal => ({ ...e, load: loadResultToJSON(l), faultWindows: l.faults });
const monday = run(
  'shop-monday',
  [withLoad(experiment('cache-kill', { availability: 0.7, time_to_recover_s: 4, error_ratio: 0.3 }, 'shop-monday'), load(3000, 6000))],
  report,
);
const friday = run(
  'shop-friday',
  [withLoad(experiment('cache-kill', { availability: 0.99, time_to_recover_s: 0.5, error_ratio: 0.01 }, 'shop-friday'), load(3000, 3100))],
  report,
);

test("the sections, claims and figures are the suite's; the columns are the journals' stack projects", (t) => {
  const m = compareModel({ journals: [monday, friday] });
  t.is(m.title, 'Cache gameday: before and after the replica');
  t.deepEqual(
    m.runs.map((r) => r.label),
    ['shop-monday', 'shop-friday'],
  );
  t.deepEqual(
    m.sections.map((s) => [s.id, s.title, s.claim, s.experiment]),
    [['cache-is-a-single-point', 'The cache is a single point of failure', 'When the cache dies, checkout fails until it is back.', 'cache-kill']],
  );
  const [availability, recover, answered] = m.sections[0]!.figures;
  t.like(availability, { name: 'availability', unit: 'ratio', better: 'higher', values: { 'shop-monday': 0.7, 'shop-friday': 0.99 }, verdict: 'single' });
  // One run a column: no interval, so the difference is not called better (issue 21).
  t.like(recover, { name: 'time to recover (s)', better: 'lower', verdict: 'single', source: 'metrics.time_to_recover_s' });
  t.like(answered, { name: 'requests answered', better: 'higher', verdict: 'single', source: '1 − metrics.error_ratio' });
  t.true(Math.abs(Number(answered?.values['shop-monday']) - 0.7) < 1e-9);
  t.deepEqual(m.sections[0]!.notes, ['Measured at 10 requests a second.']);
  t.deepEqual(m.notes, ['A made-up suite.']);
  t.is(m.monitoring, null, 'the suite asks for no monitoring section');
  t.is(m.latency, null);
});

test('the chart is the per-second success share on the fault’s clock, from the timeline', (t) => {
  const s = compareModel({ journals: [monday, friday] }).sections[0]!.series;
  t.is(s.chart, 'lines');
  t.is(s.unit, 'ratio');
  t.deepEqual(s.faultEndS, { 'shop-monday': 3, 'shop-friday': 0.1 });
  const monday1 = s.points['shop-monday']!;
  t.deepEqual(
    monday1.map((p) => p.t),
    [-3, -2, -1, 0, 1, 2, 3, 4, 5, 6],
  );
  t.deepEqual(
    monday1.map((p) => p.value),
    [1, 1, 1, 0, 0, 0, 1, 1, 1, 1],
  );
  t.is(s.points['shop-friday']![3]!.value, 0.9);
});

test('--label names the columns; Markdown and HTML show them and nothing of the reference suite', (t) => {
  const m = compareModel({ journals: [monday, friday], labels: ['one cache', 'with replica'] });
  const md = renderCompareMarkdown(m);
  t.regex(md, /^# Cache gameday: before and after the replica\n/);
  t.regex(md, /\| figure \| one cache \| with replica \| change \|/);
  t.regex(md, /\| availability \| 70\.00% \| 99\.00% \| ≠ differs \(one run each: no interval\) \|/);
  t.regex(md, /When the cache dies, checkout fails until it is back\./);
  t.regex(md, /\none cache {5}█{3}▁{3}█{4}\n/);
  const html = renderCompareHtml(m);
  t.regex(html, /<section class="section" data-section="cache-is-a-single-point"/);
  t.is(html.match(/<td data-profile="with replica">/g)?.length, 3 + 5, 'a cell per figure and per run row');
  t.is(html.match(/<polyline class="series" data-profile="one cache"/g)?.length, 1);
  for (const text of [md, html]) t.false(/baseline|hardened|weakness|Price of the fix|Monitoring/i.test(text));
  t.throws(() => compareModel({ journals: [monday, friday], labels: ['same', 'same'] }), { message: /must differ/ });
  t.throws(() => compareModel({ journals: [monday, friday], labels: ['one'] }), { message: /a label per run/ });
});

test('without report: a section per experiment, with the metrics it asserts, else those it measured', (t) => {
  const asserted = experiment('cache-kill', { availability: 0.9, p99_ms: 12, lost_writes: 0 }, 'a', {
    assertions: [{ name: 'p99', metric: 'p99_ms', bound: '≤ 50', value: 12, passed: true, detail: '' }],
  });
  const bare = experiment('exposure', { exposure_holes: 1, requests: 10 }, 'a');
  const m = compareModel({ journals: [run('a', [asserted, bare]), run('b', [{ ...asserted, stack: null }])], labels: ['a', 'b'] });
  t.deepEqual(
    m.sections.map((s) => [s.id, s.title, s.figures.map((f) => f.name), s.series.chart]),
    [
      ['cache-kill', 'the cache-kill experiment', ['p99 latency (ms)'], 'bars'],
      ['exposure', 'the exposure experiment', ['intended requests', 'firewall holes'], 'bars'],
    ],
  );
  t.true(m.sections[1]!.notes.some((n) => /^b: no `exposure` experiment in the journal/.test(n)));
  t.is(m.title, 'faultline: Cache gameday, a and b');
});

test('a report: without sections keeps its title and latency, and gets a section per experiment', (t) => {
  const onlyLatency = suiteReportSchema.parse({ title: 'Latency only', latency: { experiment: 'cache-kill' } });
  const m = compareModel({ journals: [monday, friday], report: onlyLatency });
  t.is(m.title, 'Latency only');
  t.deepEqual(
    m.sections.map((s) => [s.id, s.figures.map((f) => f.name), s.series.chart]),
    [['cache-kill', ['availability', 'error ratio', 'time to recover (s)'], 'lines']],
  );
  // Requests refused while the cache was down have no latency: 70 of 100 answered, none of them writes.
  t.deepEqual(
    m.latency?.rows.map((r) => [r.kind, r.values['shop-monday']?.count]),
    [
      ['write', 0],
      ['read', 70],
    ],
  );
});

test('runs that nothing tells apart are "before" and "after"', (t) => {
  const same = run('x', [experiment('cache-kill', {}, 'x')]);
  t.deepEqual(
    compareModel({ journals: [same, same] }).runs.map((r) => r.label),
    ['before', 'after'],
  );
});

test("a suite's report must name the suite's own experiments, and say what a complement means", (t) => {
  const problemsOf = (report: unknown) => {
    const parsed = suiteSchema.safeParse({ title: 'x', suite: ['exp/cache-kill.yaml'], report });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const shape = problemsOf({
    sections: [{ id: 'a', title: 'A', experiment: 'cache-kill', figures: [{ metric: 'error_ratio', complement: true }], chart: 'sparkles' }],
  });
  t.is(shape.length, 2, shape.join('\n'));
  t.is(shape[0], 'report.sections.0.figures.0: a complement needs its own label (what 1 − the metric means)');
  t.regex(shape[1]!, /^report\.sections\.0\.chart: .*'bars' \| 'success' \| 'writes_acknowledged'/);
  const names = problemsOf({
    sections: [
      { id: 'a', title: 'A', experiment: 'cache-kil', figures: ['availability'] },
      { id: 'a', title: 'B', experiment: 'cache-kill', figures: ['p99_ms'] },
    ],
    latency: { experiment: 'nope' },
  });
  t.deepEqual(names, [
    'report.sections.0.experiment: "cache-kil" is not an experiment of this suite (cache-kill)',
    'report.sections.1.id: "a" is used twice',
    'report.latency.experiment: "nope" is not an experiment of this suite (cache-kill)',
  ]);
});
