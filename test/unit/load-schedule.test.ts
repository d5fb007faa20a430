// Arrival schedule math: constant and ramping rates (pure).
import test from 'ava';
import { RateSchedule, parseRate, rateStages } from '../../src/load/index.js';

test('constant rate: evenly spaced, exact totals', (t) => {
  const s = new RateSchedule(rateStages(2000, 5000));
  t.is(s.total, 10_000);
  t.is(s.timeOf(0), 0);
  t.is(s.timeOf(1), 0.5);
  t.is(s.timeOf(2000), 1000);
  t.is(s.timeOf(9999), 4999.5);
  t.is(s.expectedCount(1000), 2000);
  t.is(s.meanRate(), 2000);
  // Every second and every 100 ms slot holds exactly its share.
  const perBucket = new Map<number, number>();
  for (let i = 0; i < s.total; i++) {
    const b = Math.floor(s.timeOf(i) / 100);
    perBucket.set(b, (perBucket.get(b) ?? 0) + 1);
  }
  t.is(perBucket.size, 50);
  t.true([...perBucket.values()].every((n) => n === 200));
});

test('fractional totals round up to the requests whose time is inside the duration', (t) => {
  const s = new RateSchedule(rateStages(3, 1000));
  t.is(s.total, 3);
  t.true(s.timeOf(2) < 1000);
  const odd = new RateSchedule(rateStages(2.5, 1000));
  t.is(odd.total, 3); // at 0, 400, 800 ms
  t.is(odd.timeOf(2), 800);
});

test('a ramp grows linearly and timeOf inverts expectedCount', (t) => {
  const s = new RateSchedule(rateStages({ from: 0, to: 1000 }, 10_000));
  t.is(s.total, 5000);
  t.is(s.rateAt(5000), 500);
  t.is(Math.round(s.expectedCount(5000)), 1250);
  for (const i of [1, 10, 100, 1249, 2500, 4999]) {
    t.true(Math.abs(s.expectedCount(s.timeOf(i)) - i) < 1e-6, `i=${i}`);
  }
  // Per-second counts follow the rate: second k holds about (k + 0.5) × 100.
  const perSecond = Array.from({ length: 10 }, () => 0);
  for (let i = 0; i < s.total; i++) {
    const k = Math.floor(s.timeOf(i) / 1000);
    perSecond[k] = (perSecond[k] ?? 0) + 1;
  }
  perSecond.forEach((n, k) => t.true(Math.abs(n - (k + 0.5) * 100) <= 1, `second ${k}: ${n}`));
  // Sends are ordered and spaced ever tighter.
  t.true(s.timeOf(101) - s.timeOf(100) > s.timeOf(4001) - s.timeOf(4000));
});

test('a ramp down and multi-stage schedules', (t) => {
  const down = new RateSchedule(rateStages({ from: 1000, to: 0 }, 2000));
  t.is(down.total, 1000);
  t.true(down.timeOf(999) < 2000);
  t.true(down.timeOf(1) < down.timeOf(999) - down.timeOf(998));
  const staged = new RateSchedule([
    { durationMs: 1000, from: 100, to: 100 },
    { durationMs: 1000, from: 100, to: 300 },
    { durationMs: 500, from: 50, to: 50 },
  ]);
  t.is(staged.durationMs, 2500);
  t.is(staged.total, 100 + 200 + 25);
  t.is(staged.timeOf(100), 1000);
  t.is(staged.timeOf(300), 2000);
  t.is(staged.timeOf(301), 2020);
  t.is(staged.rateAt(1500), 200);
  t.is(staged.rateAt(2600), 0);
});

test('parseRate and rateStages reject nonsense', (t) => {
  t.is(parseRate('500'), 500);
  t.deepEqual(parseRate('100..1000'), { from: 100, to: 1000 });
  t.deepEqual(parseRate('0..50'), { from: 0, to: 50 });
  for (const bad of ['0', 'abc', '-5', '10..', '1e3', '']) {
    t.regex(t.throws(() => parseRate(bad))?.message ?? '', /^rate: /, bad);
  }
  t.throws(() => rateStages(0, 1000), { message: /^rate: must be a positive/ });
  t.throws(() => rateStages(Number.NaN, 1000), { message: /^rate: / });
  t.throws(() => rateStages({ from: 0, to: 0 }, 1000), { message: /^rate: / });
  t.throws(() => rateStages([{ durationMs: 0, from: 1, to: 1 }], 1000), { message: /^rate: / });
});
