// The median's exact interval against known distributions: exact small cases, the ranks of published tables, and the
// coverage of the true median over many seeded trials (normal, uniform, exponential).

import test from 'ava';
import { binomialHalfCdf, medianInterval, orderStatisticCoverage, sampleVerdict } from '../../src/report/intervals.js';

/** mulberry32: a small seeded PRNG, so every trial is the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const normal = (rand: () => number) => () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

test('binomial(n, ½) CDF: exact small values', (t) => {
  const cdf = binomialHalfCdf(4);
  [1 / 16, 5 / 16, 11 / 16, 15 / 16, 1].forEach((v, i) => t.true(Math.abs(cdf[i]! - v) < 1e-12, `P(B ≤ ${i})`));
});

test('exact small cases: [min, max] covers 1 − 2/2^n; below 6 runs it cannot reach 95 %', (t) => {
  for (const [n, coverage] of [
    [2, 0.5],
    [3, 0.75],
    [4, 0.875],
    [5, 0.9375],
    [6, 1 - 2 / 64],
  ] as const) {
    t.true(Math.abs(orderStatisticCoverage(n, 1) - coverage) < 1e-12, `n = ${n}`);
    const iv = medianInterval(Array.from({ length: n }, (_, i) => n - i))!;
    t.deepEqual([iv.low, iv.high, iv.ranks], [1, n, [1, n]]);
    t.is(iv.full, n >= 6);
  }
  const one = medianInterval([4.2])!;
  t.like(one, { n: 1, median: 4.2, low: 4.2, high: 4.2, coverage: 0, full: false });
  t.is(medianInterval([]), null);
  t.is(medianInterval([Number.NaN]), null);
});

test('the ranks of the published tables of the median’s 95 % interval', (t) => {
  // n → ranks (k, n − k + 1): the standard nonparametric table (e.g. Conover, Practical Nonparametric Statistics).
  const table: Array<[number, number]> = [
    [6, 1],
    [8, 1],
    [9, 2],
    [10, 2],
    [12, 3],
    [15, 4],
    [20, 6],
    [30, 10],
    [50, 18],
  ];
  for (const [n, k] of table) {
    const iv = medianInterval(Array.from({ length: n }, (_, i) => i + 1))!;
    t.deepEqual(iv.ranks, [k, n - k + 1], `n = ${n}`);
    t.true(iv.coverage >= 0.95, `n = ${n}: ${iv.coverage}`);
    t.is(iv.low, k);
  }
  t.is(medianInterval([1, 2, 3, 4])!.median, 2.5);
});

for (const [name, make] of [
  ['normal(0, 1)', (r: () => number) => normal(r)],
  ['uniform(−1, 1)', (r: () => number) => () => 2 * r() - 1],
  ['exponential, shifted to median 0', (r: () => number) => () => -Math.log(1 - r()) - Math.LN2],
] as const) {
  test(`coverage of the true median over 4 000 seeded trials ≈ 95 %: ${name}`, (t) => {
    for (const n of [6, 11, 20]) {
      const draw = make(prng(1000 + n));
      let covered = 0;
      let nominal = 0;
      const trials = 4000;
      for (let i = 0; i < trials; i++) {
        const iv = medianInterval(Array.from({ length: n }, draw))!;
        nominal = iv.coverage;
        if (iv.low <= 0 && 0 <= iv.high) covered++;
      }
      const seen = covered / trials;
      // The exact coverage (≥ 95 %) within 3 standard errors of 4 000 trials.
      const se = Math.sqrt((nominal * (1 - nominal)) / trials);
      t.true(nominal >= 0.95, `n = ${n}: nominal ${nominal}`);
      t.true(Math.abs(seen - nominal) <= 3 * se + 1e-9, `n = ${n}: seen ${seen}, exact ${nominal}`);
    }
  });
}

test('verdicts: better or worse only when the intervals separate', (t) => {
  const low = [1, 1.2, 0.9, 1.1, 1, 0.95];
  const high = [8.3, 8.1, 8.6, 7.9, 8.4, 8.2];
  t.is(sampleVerdict('lower', high, low), 'better');
  t.is(sampleVerdict('lower', low, high), 'worse');
  t.is(sampleVerdict('higher', low, high), 'better');
  // Overlapping: within noise, even though the medians differ.
  t.is(sampleVerdict('lower', [1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]), 'noise');
  // One run a side: no interval, say so.
  t.is(sampleVerdict('lower', [8.3], [1.2]), 'single');
  t.is(sampleVerdict('lower', [8.3, 8.1, 8.4], [1.2]), 'single');
  // Every value the same: the same.
  t.is(sampleVerdict('lower', [0, 0, 0], [0, 0]), 'same');
  t.is(sampleVerdict('lower', [0], [0]), 'same');
  t.is(sampleVerdict('lower', [], [1]), null);
});
