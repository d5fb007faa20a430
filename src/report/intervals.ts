// The median of a figure over repeated runs and its confidence interval (pure), and the verdict of two runs' samples.
//
// The interval is exact and distribution-free: the order-statistic interval for the median. For n sorted samples
// x(1) ≤ … ≤ x(n), the true median lies in [x(k), x(n−k+1)] with probability 1 − 2·P(B ≤ k−1), B ~ Binomial(n, ½),
// for any continuous distribution (at least that much for a discrete one). k is the largest rank whose coverage is
// still ≥ the level asked for (95 %), so the interval is the narrowest of this kind that keeps the promise. No random
// numbers, so a report rendered twice from the same journal is the same report. Below 6 runs even [min, max] covers
// less than 95 % (5 runs: 93.75 %, 3 runs: 75 %): the interval is then [min, max] with the coverage it has, and the
// reports print it. One run has no interval at all.

export const INTERVAL_LEVEL = 0.95;

/** What the reports' glossaries say about the method (one sentence, the same everywhere). */
export const INTERVAL_METHOD =
  'Median over the repetitions with an exact 95 % confidence interval: the order-statistic interval for the median from the binomial distribution ' +
  '(no assumption about the distribution, no random resampling); with fewer than 6 runs even the range min–max covers the median with less than ' +
  '95 % (5 runs 93.8 %, 4 runs 87.5 %, 3 runs 75 %, 2 runs 50 %), and the report prints the coverage it has. One run has no interval.';

export interface MedianInterval {
  /** How many samples. */
  n: number;
  median: number;
  /** The interval's ends (order statistics of the samples); equal to the median when n = 1. */
  low: number;
  high: number;
  /** 1-based ranks of low and high among the sorted samples. */
  ranks: [number, number];
  /** The probability that [low, high] covers the true median (exact; 0 for one sample: no interval). */
  coverage: number;
  /** Whether the coverage reaches the level asked for. */
  full: boolean;
}

/** ln C(n, j) for j = 0..n. */
function logBinomials(n: number): number[] {
  const out = [0];
  for (let j = 1; j <= n; j++) out.push(out[j - 1]! + Math.log((n - j + 1) / j));
  return out;
}

/** P(B ≤ j) for B ~ Binomial(n, ½), j = 0..n (log space: exact enough for any n a report sees). */
export function binomialHalfCdf(n: number): number[] {
  const logs = logBinomials(n);
  const cdf: number[] = [];
  let sum = 0;
  for (let j = 0; j <= n; j++) {
    sum += Math.exp(logs[j]! - n * Math.LN2);
    cdf.push(Math.min(1, sum));
  }
  return cdf;
}

/** The coverage of [x(k), x(n−k+1)] for the median of n samples. */
export function orderStatisticCoverage(n: number, k: number): number {
  if (k < 1 || 2 * k > n + 1) throw new RangeError(`rank ${k} out of 1..${Math.ceil(n / 2)}`);
  if (k === 1 && n === 1) return 0;
  return Math.max(0, 1 - 2 * binomialHalfCdf(n)[k - 1]!);
}

export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** The median and its exact interval; null without samples. Non-finite samples are left out. */
export function medianInterval(samples: readonly number[], level = INTERVAL_LEVEL): MedianInterval | null {
  const x = samples.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = x.length;
  if (!n) return null;
  const m = median(x);
  if (n === 1) return { n, median: m, low: m, high: m, ranks: [1, 1], coverage: 0, full: false };
  const cdf = binomialHalfCdf(n);
  // The largest k with 1 − 2·P(B ≤ k−1) ≥ level; k = 1 (the range) when none reaches it.
  let k = 1;
  while (2 * (k + 1) <= n + 1 && 1 - 2 * cdf[k]! >= level) k++;
  const coverage = Math.max(0, 1 - 2 * cdf[k - 1]!);
  return { n, median: m, low: x[k - 1]!, high: x[n - k]!, ranks: [k, n - k + 1], coverage, full: coverage >= level };
}

/** How two runs' samples of a figure compare: better/worse only when the intervals separate. */
export type SampleVerdict = 'better' | 'worse' | 'noise' | 'same' | 'single';

/**
 * The second run's samples against the first's, for a figure where `better` is higher or lower:
 * - same: every sample of both runs is the same value;
 * - single: a side has one run, so no interval: the values differ and nothing more can be said;
 * - better / worse: the two intervals do not overlap;
 * - noise: they overlap (the difference is within run-to-run noise).
 */
export function sampleVerdict(better: 'higher' | 'lower', before: readonly number[], after: readonly number[]): SampleVerdict | null {
  const a = medianInterval(before);
  const b = medianInterval(after);
  if (!a || !b) return null;
  const all = [...before, ...after].filter(Number.isFinite);
  if (all.every((v) => v === all[0])) return 'same';
  if (a.n < 2 || b.n < 2) return 'single';
  if (a.high < b.low) return better === 'higher' ? 'better' : 'worse';
  if (b.high < a.low) return better === 'higher' ? 'worse' : 'better';
  return 'noise';
}
