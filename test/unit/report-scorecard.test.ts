// The suite scorecard: each category graded from the experiments' metrics, "n/a" when nothing measured it (pure).

import test from 'ava';
import { scorecard, type ScoreRow } from '../../src/report/scorecard.js';
import type { Metrics } from '../../src/metric-table.js';
import { journal } from '../helpers/journal.js';

const rowOf = (metrics: Metrics[], category: ScoreRow['category']) =>
  scorecard(metrics.map((m, i) => journal(`e${i}`, m))).find((r) => r.category === category)!;

const rows: Array<[ScoreRow['category'], Metrics[], ScoreRow['grade'], RegExp]> = [
  ['availability', [], 'n/a', /no load was measured/],
  ['availability', [{ availability: 0.9995 }, { availability: 0.9999 }], 'A', /worst availability 99\.95% over 2 runs/],
  [
    'availability',
    [
      { availability: 0.995, time_to_recover_s: 4 },
      { availability: 1, time_to_recover_s: 12.5 },
    ],
    'B',
    /slowest recovery 12\.5 s/,
  ],
  ['availability', [{ availability: 0.96 }], 'C', /96\.00%/],
  ['availability', [{ availability: 0.92 }], 'D', /92\.00%/],
  ['availability', [{ availability: 0.5 }], 'F', /50\.00%/],
  ['encryption', [], 'n/a', /no TLS probe ran/],
  ['encryption', [{ tls_grade: 'A' }], 'A', /worst public TLS grade A$/],
  ['encryption', [{ tls_grade: 'A', internal_plaintext: 1 }], 'B', /plaintext/],
  ['encryption', [{ steady_tls_grade: 'A', tls_grade: 'F' }], 'A', /grade A/],
  ['encryption', [{ tls_grade: 'C' }, { tls_grade: 'B' }], 'C', /grade C/],
  ['encryption', [{ tls_grade: 'D' }], 'F', /grade D/],
  ['encryption', [{ tls_grade: 'A+' }], 'n/a', /no TLS probe ran/],
  ['firewall', [], 'n/a', /no exposure probe ran/],
  ['firewall', [{ steady_exposure_holes: 0, exposure_holes: 3 }], 'A', /0 hole\(s\) in the healthy stack; 3 seen while firewall faults were active/],
  ['firewall', [{ steady_exposure_holes: 1 }], 'F', /1 hole\(s\)/],
  ['monitoring', [], 'n/a', /not compared/],
  ['monitoring', [{ qps_difference_ratio: 0.03 }], 'A', /3\.0%/],
  ['monitoring', [{ qps_difference_ratio: 0.1 }], 'C', /10\.0%/],
  ['monitoring', [{ qps_difference_ratio: 0.3 }], 'F', /30\.0%/],
  ['data safety', [], 'n/a', /no write was checked/],
  ['data safety', [{ lost_writes: 0, unexpected_writes: 0 }, { lost_writes: 0 }], 'A', /0 acknowledged write\(s\) lost, 0 unexpected, over 2 checked runs/],
  ['data safety', [{ lost_writes: 2, unexpected_writes: 0 }], 'F', /2 acknowledged/],
  ['data safety', [{ lost_writes: 0, unexpected_writes: 1 }], 'F', /1 unexpected/],
];
for (const [category, metrics, grade, summary] of rows) {
  test(`scorecard ${category} of ${JSON.stringify(metrics)} → ${grade}`, (t) => {
    const r = rowOf(metrics, category);
    t.is(r.grade, grade);
    t.regex(r.summary, summary);
  });
}

test('scorecard: one row per category, in order', (t) => {
  t.deepEqual(
    scorecard([]).map((r) => r.category),
    ['availability', 'encryption', 'firewall', 'monitoring', 'data safety'],
  );
});
