// The judge's recovery figures on synthetic timelines with a known truth (issue 21): time to recover from the fault's
// start when the stack healed itself, 0 when it never felt the fault, and the failback as its own figure.

import test from 'ava';
import { Timeline } from '../../src/load/timeline.js';
import { WriteLedger } from '../../src/load/ledger.js';
import { measure, type JudgeInput } from '../../src/experiment/judge.js';
import { probes } from '../../src/probes/registry.js';

/** 10 requests per 100 ms bucket for `ms`; those for which `ok` is false fail. */
function input(ms: number, ok: (t: number) => boolean, fault: { startMs: number; endMs: number | null }): JudgeInput {
  const t = new Timeline({ bucketMs: 100, startedAt: 0 });
  for (let at = 0; at < ms; at += 10) {
    if (ok(at)) t.recordResponse(at, 200, 5000);
    else t.recordError(at, 'ECONNREFUSED');
  }
  const w = t.window(0, ms);
  const ledger = WriteLedger.fromJSON({
    version: 1,
    runId: 'r',
    keyPrefix: 'r-',
    startedAt: new Date(0).toISOString(),
    counts: { attempted: 0, ok: 0, fail: 0, unknown: 0 },
    writes: [],
  });
  return {
    load: { timeline: t, ledger, summary: { intended: w.outcomes, errorRatio: 1 - w.successes / w.outcomes, latency: { p99: w.latency.p99 } } as never },
    faultWindows: [{ name: 'db-primary-kill', ...fault }],
    warmupMs: 1000,
    steadyStateBefore: [],
    method: [],
    dataLoss: null,
    probes: probes.list(),
  };
}

const near = (a: unknown, b: number) => typeof a === 'number' && Math.abs(a - b) < 1e-9;

test('failover at 8.3 s inside the fault: time to recover 8.3 s from its start, failback 0', (t) => {
  const { metrics } = measure(input(40_000, (ms) => ms < 10_000 || ms >= 18_300, { startMs: 10_000, endMs: 30_000 }));
  t.true(near(metrics.time_to_recover_s, 8.3), String(metrics.time_to_recover_s));
  t.true(near(metrics.failback_s, 0), String(metrics.failback_s));
});

test('never down while the fault was on: time to recover 0, the revert’s 1.2 s is the failback', (t) => {
  const { metrics } = measure(input(30_000, (ms) => !(ms >= 16_000 && ms < 17_200), { startMs: 8000, endMs: 16_000 }));
  t.true(near(metrics.time_to_recover_s, 0), String(metrics.time_to_recover_s));
  t.true(near(metrics.failback_s, 1.2), String(metrics.failback_s));
  t.is(metrics.time_to_detect_s, null);
  // The failback is not steady: it stays out of the figures outside faults.
  t.true(near(metrics.error_ratio_outside_faults, 0), String(metrics.error_ratio_outside_faults));
});

test('down until the revert: time to recover from the fault’s end, no failback figure', (t) => {
  const { metrics } = measure(input(30_000, (ms) => ms < 8000 || ms >= 16_200, { startMs: 8000, endMs: 16_000 }));
  t.true(near(metrics.time_to_recover_s, 0.2), String(metrics.time_to_recover_s));
  t.is(metrics.failback_s, null);
});
