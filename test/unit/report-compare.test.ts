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

const changes: Array<[string, Metrics, Metrics, string]> = [
  ['higher availability is better', { availability: 0.9 }, { availability: 0.99 }, 'better'],
  ['lower availability is worse', { availability: 0.99 }, { availability: 0.9 }, 'worse'],
  ['a longer recovery is worse', { time_to_recover_s: 5 }, { time_to_recover_s: 10 }, 'worse'],
  ['fewer holes are better', { exposure_holes: 2 }, { exposure_holes: 0 }, 'better'],
  ['within 5% is the same', { p99_ms: 100 }, { p99_ms: 104 }, 'same'],
  ['a metric with no better direction only changed', { requests: 1000 }, { requests: 2000 }, 'changed'],
  ['a better grade', { tls_grade: 'F' }, { tls_grade: 'A' }, 'better'],
  ['a worse grade', { tls_grade: 'A' }, { tls_grade: 'C' }, 'worse'],
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
      ['kill', 'availability', 'worse'],
      ['tls', 'tls_grade', 'same'],
    ],
  );
  const text = formatComparison(r);
  t.regex(text, /kill: passed → failed/);
  t.regex(text, /availability\s+0\.99 → 0\.50\s+▼ worse/);
  t.regex(text, /0 better, 1 worse$/);
  t.is(formatComparison(compareJournals(a, a)), 'no change beyond 5% in any metric');
});
