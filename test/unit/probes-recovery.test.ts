// Recovery analysis on synthetic timelines with known outages: detect and recover within one bucket of the truth.

import test from 'ava';
import { Timeline } from '../../src/load/timeline.js';
import { analyzeRecovery, computeBaseline } from '../../src/probes/recovery.js';

/** One request every stepMs (default 10: 10 per 100 ms bucket); `ok(tMs)` decides success, `latencyMs(tMs)` the latency. */
function synthetic(durationMs: number, ok: (t: number) => boolean, latencyMs: (t: number) => number = () => 5, stepMs = 10): Timeline {
  const t = new Timeline({ bucketMs: 100, startedAt: 0 });
  for (let ms = 0; ms < durationMs; ms += stepMs) {
    if (ok(ms)) t.recordResponse(ms, 200, latencyMs(ms) * 1000);
    else t.recordError(ms, 'ECONNREFUSED');
  }
  return t;
}

test('a clean outage: detect at its start, recover at its end, error window = outage', (t) => {
  // Fault 5.0–8.0 s; the outage (all errors) runs 5.3–8.6 s.
  const tl = synthetic(20_000, (ms) => ms < 5300 || ms >= 8600);
  const r = analyzeRecovery(tl, [{ name: 'kill', startMs: 5000, endMs: 8000 }]);
  t.is(r.baseline.successRatio, 1);
  const f = r.faults[0]!;
  t.true(Math.abs(f.timeToDetectMs! - 300) <= 100, `detect ${f.timeToDetectMs}`);
  t.true(Math.abs(f.timeToRecoverMs! - 600) <= 100, `recover ${f.timeToRecoverMs}`);
  t.true(Math.abs(f.errorWindow!.durationMs - 3300) <= 100);
  t.true(f.recovered);
  // 3.3 s of 20 s failed.
  t.true(Math.abs(r.availability! - (1 - 3300 / 20_000)) < 0.01);
  t.true(r.errorBudgetConsumed! > 100, 'far beyond a 99.9% budget');
});

test('a partial outage under the 5-point tolerance is not detected', (t) => {
  // 50 requests per bucket, one of them fails during the fault: 98% success, baseline 100%, threshold 95%.
  const tl = synthetic(
    10_000,
    (ms) => !(ms >= 4000 && ms < 6000 && ms % 100 === 0),
    () => 5,
    2,
  );
  const r = analyzeRecovery(tl, [{ name: 'flaky', startMs: 4000, endMs: 6000 }]);
  t.is(r.faults[0]!.timeToDetectMs, null);
  t.is(r.faults[0]!.timeToRecoverMs, 0);
  t.is(r.errorWindow, null);
});

test('a self-healing fault measures recovery from its start; high latency delays recovery', (t) => {
  // Errors 2.0–3.0 s, then latency 400 ms until 4.5 s, then back to 5 ms.
  const tl = synthetic(
    12_000,
    (ms) => ms < 2000 || ms >= 3000,
    (ms) => (ms >= 3000 && ms < 4500 ? 400 : 5),
  );
  const r = analyzeRecovery(tl, [{ name: 'restart', startMs: 2000, endMs: null }]);
  const f = r.faults[0]!;
  t.true(Math.abs(f.timeToDetectMs!) <= 100);
  // Healthy run must start at 4.5 s (ratio fine from 3.0 s, but p99 400 ms > 55 ms limit).
  t.true(Math.abs(f.timeToRecoverMs! - 2500) <= 100, `recover ${f.timeToRecoverMs}`);
});

test('never recovering is reported as null, and a run shorter than N seconds does not count', (t) => {
  // Down from 3 s; a 2 s good patch at 6–8 s; down again until the end.
  const tl = synthetic(12_000, (ms) => ms < 3000 || (ms >= 6000 && ms < 8000));
  const r = analyzeRecovery(tl, [{ name: 'partition', startMs: 3000, endMs: 5000 }]);
  t.is(r.faults[0]!.timeToRecoverMs, null);
  t.false(r.faults[0]!.recovered);
});

test('baseline skips the warm-up and uses the steady part before the first fault', (t) => {
  const tl = synthetic(
    10_000,
    (ms) => ms >= 500,
    (ms) => (ms < 1000 ? 300 : 5),
  );
  const b = computeBaseline(tl, 6000);
  t.is(b.startMs, 1000);
  t.is(b.successRatio, 1);
  t.true(b.p99Ms! < 10);
});

test('two faults are analysed separately; availability and budget cover the whole run', (t) => {
  const tl = synthetic(30_000, (ms) => !((ms >= 5000 && ms < 6000) || (ms >= 15_000 && ms < 17_000)));
  const r = analyzeRecovery(
    tl,
    [
      { name: 'a', startMs: 5000, endMs: 6000 },
      { name: 'b', startMs: 15_000, endMs: 16_000 },
    ],
    { slo: 0.9 },
  );
  t.is(r.faults.length, 2);
  t.true(Math.abs(r.faults[0]!.timeToRecoverMs! - 0) <= 100);
  t.true(Math.abs(r.faults[1]!.timeToRecoverMs! - 1000) <= 100);
  t.deepEqual(r.errorWindow, { startMs: 5000, endMs: 17_000, durationMs: 12_000 });
  t.true(Math.abs(r.availability! - 0.9) < 0.001);
  t.true(Math.abs(r.errorBudgetConsumed! - 1) < 0.01);
});

// Recovery figures that mean what they say (issue 21): a failover inside the fault counts from its start; the revert's
// own disruption of a stack that was serving is the failback, a figure of its own.

test('a failover at 8.3 s inside the fault: recover 8.3 s counted from the fault’s start, healed by itself', (t) => {
  // Fault 10–30 s (the revert at 30 s); everything fails 10.0–18.3 s, then the stack serves again on its own.
  const tl = synthetic(40_000, (ms) => ms < 10_000 || ms >= 18_300);
  const f = analyzeRecovery(tl, [{ name: 'db-primary-kill', startMs: 10_000, endMs: 30_000 }]).faults[0]!;
  t.is(f.healedBy, 'itself');
  t.is(f.timeToRecoverMs, 8300);
  t.is(f.timeToDetectMs, 0);
  t.is(f.failbackMs, 0, 'the revert disrupted nothing');
});

test('writes never down while the fault was on: recover 0; the revert’s 1.2 s disruption is the failback, its own figure', (t) => {
  // Fault 8–16 s; nothing fails while it is on; the failback after the revert fails everything 16.0–17.2 s.
  const tl = synthetic(30_000, (ms) => !(ms >= 16_000 && ms < 17_200));
  const r = analyzeRecovery(tl, [{ name: 'db-primary-kill', startMs: 8000, endMs: 16_000 }]);
  const f = r.faults[0]!;
  t.like(f, {
    healedBy: 'never-down',
    timeToRecoverMs: 0,
    timeToDetectMs: null,
    recovered: true,
    failbackMs: 1200,
    failbackAtMs: 16_000,
    failbackRecoveredAtMs: 17_200,
  });
  // The failback still shows in the fault's error window.
  t.deepEqual(f.errorWindow, { startMs: 16_000, endMs: 17_200, durationMs: 1200 });
});

test('down for the whole fault and back 0.2 s after the revert: recover counted from the end, no failback figure', (t) => {
  // The baseline's single writer: down 8.0–16.2 s, the fault 8–16 s.
  const tl = synthetic(30_000, (ms) => ms < 8000 || ms >= 16_200);
  const f = analyzeRecovery(tl, [{ name: 'db-primary-kill', startMs: 8000, endMs: 16_000 }]).faults[0]!;
  t.like(f, { healedBy: 'revert', timeToRecoverMs: 200, failbackMs: null });
});

test('a failover, then a failback that never settles: failback null (never), time to recover still the failover', (t) => {
  const tl = synthetic(30_000, (ms) => ms < 8000 || (ms >= 10_000 && ms < 16_000));
  const f = analyzeRecovery(tl, [{ name: 'kill', startMs: 8000, endMs: 16_000 }]).faults[0]!;
  t.like(f, { healedBy: 'itself', timeToRecoverMs: 2000, failbackMs: null, failbackRecoveredAtMs: null });
});

test('a failback that comes 12 s after the revert (the writer rejoins, then takes the writes back) lasts what it lasts', (t) => {
  // Fault 8–16.6 s, never felt while on; one 100 ms bucket fails at 28.5 s.
  const tl = synthetic(40_000, (ms) => !(ms >= 28_500 && ms < 28_600));
  const f = analyzeRecovery(tl, [{ name: 'db-primary-kill', startMs: 8000, endMs: 16_600 }]).faults[0]!;
  t.like(f, { healedBy: 'never-down', timeToRecoverMs: 0, failbackMs: 100, failbackAtMs: 28_500 });
});
