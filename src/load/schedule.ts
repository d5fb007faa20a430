// Arrival schedules for the paced driver: constant or linearly ramping rates, as pure math on
// "how many requests are due by t" and "when is request i due", so sends are evenly spaced and never bursty.

import { invalidInput } from '../errors.js';
import type { RateInput, RateStage } from './types.js';

/** Highest rate we accept: far above what one Node process can send, low enough to catch a typo. */
export const MAX_RATE = 1_000_000;

export class RateSchedule {
  readonly stages: readonly RateStage[];
  /** Start of each stage, ms. */
  private readonly starts: number[];
  /** Requests due before each stage starts (real-valued). */
  private readonly before: number[];
  readonly durationMs: number;
  /** Requests the schedule holds: every i with timeOf(i) < durationMs. */
  readonly total: number;

  constructor(stages: readonly RateStage[]) {
    if (stages.length === 0) throw invalidInput('rate', 'needs at least one stage');
    this.stages = stages.map((s) => ({ ...s }));
    this.starts = [];
    this.before = [];
    let t = 0;
    let n = 0;
    for (const s of this.stages) {
      this.starts.push(t);
      this.before.push(n);
      t += s.durationMs;
      n += ((s.from + s.to) / 2) * (s.durationMs / 1000);
    }
    this.durationMs = t;
    // A hair of tolerance so 2000/s × 5 s is 10000 and not 10001 after float rounding.
    this.total = Math.max(0, Math.ceil(n - 1e-7));
  }

  /** Expected number of requests due in [0, t): the integral of the rate. */
  expectedCount(tMs: number): number {
    if (tMs <= 0) return 0;
    if (tMs >= this.durationMs) return this.total;
    const k = this.stageAt(tMs);
    const s = this.stages[k] as RateStage;
    const tau = (tMs - (this.starts[k] as number)) / 1000;
    const d = s.durationMs / 1000;
    return (this.before[k] as number) + s.from * tau + ((s.to - s.from) * tau * tau) / (2 * d);
  }

  /** Rate (req/s) at time t. */
  rateAt(tMs: number): number {
    if (tMs < 0 || tMs >= this.durationMs) return 0;
    const k = this.stageAt(tMs);
    const s = this.stages[k] as RateStage;
    return s.from + ((s.to - s.from) * (tMs - (this.starts[k] as number))) / s.durationMs;
  }

  /** When request i (0-based) is due, in ms since start: the t where expectedCount(t) = i. */
  timeOf(i: number): number {
    if (i <= 0) return 0;
    let k = this.stages.length - 1;
    while (k > 0 && (this.before[k] as number) > i) k--;
    const s = this.stages[k] as RateStage;
    const x = i - (this.before[k] as number);
    const d = s.durationMs / 1000;
    const a = (s.to - s.from) / (2 * d);
    const b = s.from;
    // Root of a·τ² + b·τ − x = 0, in the form that stays exact when a → 0 and never divides by zero for x > 0.
    const disc = b * b + 4 * a * x;
    const tau = x === 0 ? 0 : (2 * x) / (b + Math.sqrt(disc > 0 ? disc : 0));
    return (this.starts[k] as number) + tau * 1000;
  }

  /** Mean target rate over the whole schedule. */
  meanRate(): number {
    return this.durationMs > 0 ? (this.total * 1000) / this.durationMs : 0;
  }

  private stageAt(tMs: number): number {
    let k = this.stages.length - 1;
    while (k > 0 && (this.starts[k] as number) > tMs) k--;
    return k;
  }
}

/**
 * Turns a rate as given into stages over durationMs: a number is constant, {from,to} ramps over the whole run,
 * an array is taken as is (its durations must add up). Throws INVALID_INPUT naming `rate`.
 */
export function rateStages(rate: RateInput, durationMs: number): RateStage[] {
  const check = (v: number, what: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidInput('rate', `${what} must be a number of requests per second ≥ 0, got ${v}`);
    if (v > MAX_RATE) throw invalidInput('rate', `${what} ${v} is above the ${MAX_RATE} req/s limit`);
  };
  if (typeof rate === 'number') {
    if (!Number.isFinite(rate) || rate <= 0) throw invalidInput('rate', `must be a positive number of requests per second, got ${rate}`);
    check(rate, 'rate');
    return [{ durationMs, from: rate, to: rate }];
  }
  if (Array.isArray(rate)) {
    if (rate.length === 0) throw invalidInput('rate', 'needs at least one stage');
    rate.forEach((s, i) => {
      check(s.from, `stage ${i + 1} from`);
      check(s.to, `stage ${i + 1} to`);
      if (!Number.isFinite(s.durationMs) || s.durationMs <= 0) throw invalidInput('rate', `stage ${i + 1} duration must be positive`);
      if (s.from === 0 && s.to === 0) throw invalidInput('rate', `stage ${i + 1} sends nothing (from and to are 0)`);
    });
    return rate.map((s) => ({ ...s }));
  }
  if (typeof rate === 'object' && rate !== null) {
    check(rate.from, 'ramp start');
    check(rate.to, 'ramp end');
    if (rate.from === 0 && rate.to === 0) throw invalidInput('rate', 'a ramp from 0 to 0 sends nothing');
    return [{ durationMs, from: rate.from, to: rate.to }];
  }
  throw invalidInput('rate', 'must be a number, {from, to} or a list of stages');
}

/** Parses "500" or a ramp "100..1000" (req/s). Throws INVALID_INPUT naming `rate`. */
export function parseRate(text: string): RateInput {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\.\.\s*(\d+(?:\.\d+)?)\s*)?$/.exec(text);
  if (!m) throw invalidInput('rate', `expected requests per second like 500 or a ramp like 100..1000, got ${JSON.stringify(text)}`);
  const from = Number(m[1]);
  if (m[2] === undefined) {
    if (from <= 0) throw invalidInput('rate', `must be a positive number of requests per second, got ${text.trim()}`);
    return from;
  }
  return { from, to: Number(m[2]) };
}
