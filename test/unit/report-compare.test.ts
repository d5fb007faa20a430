// `faultline compare`: metric by metric, in the direction the metric table says is better (pure).

import test from 'ava';
import { compareJournals, formatComparison } from '../../src/report/compare.js';
import type { ExperimentJournal, Journal, SuiteJournal } from '../../src/experiment/journal.js';
import type { Metrics } from '../../src/metric-table.js';
import { journal } from '../helpers/journal.js';

const suite = (experiments: ExperimentJournal[]): SuiteJournal => ({
  version: 1,
  kind: 'suite',
  id: 's',
  title: 's',
  description: '',
  file: 's.yaml',
  status: 'passed',
  startedAt: '',
  endedAt: '',
  durationMs: 0,
  experiments,
});

// One run a side: no interval, so a difference beyond 5 % is "single" (differs, no interval), never better or worse.
const changes: Array<[string, Metrics, Metrics, string]> = [
  ['higher availability, one run each', { availability: 0.9 }, { availability: 0.99 }, 'single'],
  ['lower availability, one run each', { availability: 0.99 }, { availability: 0.9 }, 'single'],
  ['a longer recovery, one run each', { time_to_recover_s: 5 }, { time_to_recover_s: 10 }, 'single'],
  ['fewer holes, one run each', { exposure_holes: 2 }, { exposure_holes: 0 }, 'single'],
  ['within 5% is the same', { p99_ms: 100 }, { p99_ms: 104 }, 'same'],
  ['a metric with no better direction only changed', { requests: 1000 }, { requests: 2000 }, 'changed'],
  ['another grade, one run each', { tls_grade: 'F' }, { tls_grade: 'A' }, 'single'],
  ['a worse grade, one run each', { tls_grade: 'A' }, { tls_grade: 'C' }, 'single'],
  ['the same grade', { steady_tls_grade: 'B' }, { steady_tls_grade: 'B' }, 'same'],
  ['a status is only changed', { data_loss_status: 'valid' }, { data_loss_status: 'unknown' }, 'changed'],
  ['measured only after: new', { lost_writes: null }, { lost_writes: 0 }, 'new'],
  ['measured only before: gone', { lost_writes: 0 }, {}, 'gone'],
];
for (const [name, before, after, change] of changes) {
  test(`compare: ${name}`, (t) => {
    const r = compareJournals(journal('e', before), journal('e', after));
    t.deepEqual(
      r.changes.map((c) => c.change),
      [change],
    );
  });
}

test('compare: metrics unmeasured on both sides and names this version does not know are left out', (t) => {
  const r = compareJournals(journal('e', { lost_writes: null, ['legacy_metric' as never]: 3 }), journal('e', { ['legacy_metric' as never]: 4 }));
  t.deepEqual(r.changes, []);
});

test('compare: suites experiment by experiment, with status changes; the text says what got worse', (t) => {
  const a: Journal = suite([journal('kill', { availability: 0.99 }), journal('tls', { tls_grade: 'A' })]);
  const b: Journal = suite([journal('kill', { availability: 0.5 }, 'failed'), journal('tls', { tls_grade: 'A' })]);
  const r = compareJournals(a, b);
  t.deepEqual(r.statusChanges, [{ experiment: 'kill', before: 'passed', after: 'failed' }]);
  t.deepEqual(
    r.changes.map((c) => [c.experiment, c.metric, c.change]),
    [
      ['kill', 'availability', 'single'],
      ['tls', 'tls_grade', 'same'],
    ],
  );
  const text = formatComparison(r);
  t.regex(text, /kill: passed → failed/);
  t.regex(text, /availability\s+0\.99 → 0\.50\s+≠ differs \(one run each: no interval\)/);
  t.regex(text, /0 better, 0 worse\none run each: no interval, so a difference is not called better or worse/);
  t.is(formatComparison(compareJournals(a, a)), 'no change beyond 5% in any metric');
});

/** An experiment journal repeated: one run per value of the metric. */
function repeated(id: string, metric: keyof Metrics, values: Array<number | string>): ExperimentJournal {
  const runs = values.map((v, i) => ({ ...journal(id, { [metric]: v }), repetition: i + 1 }));
  return { ...runs[0]!, repetitions: runs };
}

test('compare, repeated runs: better or worse only when the 95 % intervals of the medians separate', (t) => {
  const baseline = repeated('kill', 'write_outage_s', [8.3, 8.1, 8.6, 7.9, 8.4, 8.2]);
  const hardened = repeated('kill', 'write_outage_s', [1.2, 0.9, 1.1, 1.4, 1.0, 1.3]);
  const [c] = compareJournals(baseline, hardened).changes;
  t.like(c, { change: 'better', before: 8.25, after: 1.15, runs: { before: 6, after: 6 } });
  t.like(c!.intervals!.before, { low: 7.9, high: 8.6, n: 6, full: true });
  t.is(compareJournals(hardened, baseline).changes[0]!.change, 'worse');
  const text = formatComparison(compareJournals(baseline, hardened));
  t.regex(text, /write_outage_s\s+8\.25 \[7\.90–8\.60\] → 1\.15 \[0\.90–1\.40\] ▲ better \(runs 6\/6\)/);
  t.regex(text, /better or worse only where the intervals separate/);
});

test('compare, repeated runs: overlapping intervals are within noise, though the medians differ by far more than 5 %', (t) => {
  const a = repeated('kill', 'time_to_recover_s', [1, 2, 3, 4, 5, 6]);
  const b = repeated('kill', 'time_to_recover_s', [2, 3, 4, 5, 6, 7]);
  const [c] = compareJournals(a, b).changes;
  t.like(c, { change: 'noise', before: 3.5, after: 4.5 });
  t.regex(formatComparison(compareJournals(a, b)), /≈ within noise.*\n\n0 better, 0 worse, 1 within noise/);
});

test('compare, repeated runs: grades by rank, the same everywhere is the same, a fixed journal on one side only is single', (t) => {
  t.is(compareJournals(repeated('tls', 'tls_grade', ['F', 'F', 'F']), repeated('tls', 'tls_grade', ['A', 'A', 'A'])).changes[0]!.change, 'better');
  t.like(compareJournals(repeated('tls', 'tls_grade', ['A', 'B', 'A']), repeated('tls', 'tls_grade', ['A', 'A', 'B'])).changes[0], {
    change: 'noise',
    before: 'A',
  });
  t.is(compareJournals(repeated('kill', 'lost_writes', [0, 0, 0]), repeated('kill', 'lost_writes', [0, 0, 0])).changes[0]!.change, 'same');
  t.is(compareJournals(journal('kill', { lost_writes: 3 }), repeated('kill', 'lost_writes', [0, 0, 0])).changes[0]!.change, 'single');
});

test('compare, repeated runs: a count without a better direction changed only beyond noise', (t) => {
  t.is(compareJournals(repeated('q', 'requests', [100, 120]), repeated('q', 'requests', [120, 100])).changes[0]!.change, 'noise');
  t.is(compareJournals(repeated('q', 'requests', [100, 101, 99]), repeated('q', 'requests', [200, 201, 199])).changes[0]!.change, 'changed');
});
