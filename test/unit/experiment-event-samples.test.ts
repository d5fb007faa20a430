// Per-event samples against a known truth (no Docker): a synthetic run in which one fault step was injected three
// times, each injection with its own write outage, lost writes and read errors written into the run, must give back
// exactly those figures, one per injection; a probe that looked several times in a run without faults gives one
// sample per look; runs of different faults give none (a median over different faults means nothing).

import test from 'ava';
import { measure, type JudgeInput } from '../../src/experiment/judge.js';
import { capacitySamples, faultSamples, injectionSpans, repeatedFault } from '../../src/experiment/event-samples.js';
import { analyzeRecovery } from '../../src/probes/recovery.js';
import type { ActivityRecord, FaultWindow } from '../../src/experiment/journal.js';
import type { Observation } from '../../src/probes/types.js';
import { probes } from '../../src/probes/registry.js';
import { ledger, load, timeline } from '../helpers/judge.js';

// Three injections of one step: 5–7 s, 15–17 s, 25–27 s in a 35 s run.
const WINDOWS: FaultWindow[] = [
  { name: 'db-primary-kill', startMs: 5000, endMs: 7000 },
  { name: 'db-primary-kill', startMs: 15_000, endMs: 17_000 },
  { name: 'db-primary-kill', startMs: 25_000, endMs: 27_000 },
];
// The truth: writes (one per 100 ms) fail 5.0–7.5 s (2.5 s), never in the second, 25.0–25.8 s (0.8 s). Requests fail
// with them (reads too), so recovery follows the same spans.
const DOWN = [
  [5000, 7500],
  [25_000, 25_800],
] as const;
const down = (ms: number) => DOWN.some(([a, b]) => ms >= a && ms < b);
const RUN_MS = 35_000;
const WRITES = Array.from({ length: RUN_MS / 100 }, (_, i) => [i * 100, down(i * 100) ? 'fail' : 'ok'] as [number, 'ok' | 'fail']);
const injection = (n: number, over: Partial<ActivityRecord> = {}): ActivityRecord => ({
  kind: 'fault',
  name: 'db-primary-kill',
  phase: 'method',
  status: 'succeeded',
  start: '',
  end: '',
  injection: n,
  output: { servers: ['web1', 'web2', 'web3'] },
  ...over,
});
const METHOD = [1, 2, 3].map((n) => injection(n));

// Lost: the write sent at 16.0 s (the second injection's part) and at 30.0 s (the third's).
const LOST = ['run1-160', 'run1-300'];
const dataLoss: Observation = {
  probe: 'data-loss',
  timestamp: '',
  durationMs: 0,
  value: 'lost',
  passed: false,
  tolerance: null,
  details: { check: { lost: LOST, unexpected: [], recovered: [], failedButPresent: [], attempted: 350, acknowledged: 340, read: 338, valid: true } },
  findings: [],
};

const run = (over: Partial<JudgeInput> = {}): JudgeInput => ({
  load: load(
    timeline(RUN_MS, (ms) => !down(ms)),
    ledger(WRITES),
  ),
  faultWindows: WINDOWS,
  warmupMs: 1000,
  steadyStateBefore: [],
  method: METHOD,
  dataLoss,
  probes: probes.list(),
  ...over,
});

const close = (t: { true: (v: boolean, m?: string) => void }, got: number[] | undefined, want: number[], what: string) =>
  t.true(got?.length === want.length && got.every((v, i) => Math.abs(v - want[i]!) < 1e-6), `${what}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);

test('each injection of a repeated fault gives its own write outage, time to recover, lost writes and read errors', (t) => {
  const { samples, metrics } = measure(run());
  t.is(samples?.per, 'injection');
  close(t, samples?.metrics.write_outage_s, [2.5, 0, 0.8], 'write outage per injection');
  // The first healed only after its revert (from its end: 7.5 − 7.0), the second never went down, the third healed
  // itself while still on (a failover: from its start, 25.8 − 25.0).
  close(t, samples?.metrics.time_to_recover_s, [0.5, 0, 0.8], 'time to recover per injection');
  close(t, samples?.metrics.lost_writes, [0, 1, 1], 'lost writes per injection');
  close(t, samples?.metrics.read_error_ratio_during_faults, [1, 0, 0.4], 'read errors per injection');
  // The run's own figures are unchanged: the outage summed, the slowest recovery.
  t.true(Math.abs(Number(metrics.write_outage_s) - 3.3) < 1e-6);
  t.is(metrics.lost_writes, 2);
});

test('a lost write sent before the first injection counts for the first', (t) => {
  const recovery = analyzeRecovery(timeline(RUN_MS), WINDOWS, { warmupMs: 1000 });
  const writes = ledger(WRITES).records();
  const s = faultSamples({ recovery, windows: WINDOWS, runEndMs: RUN_MS, timeline: timeline(RUN_MS), writes, lost: ['run1-10'] });
  close(t, s.lost_writes, [1, 0, 0], 'lost writes');
});

test('injection spans run from each start to the next one’s, the last to the end of the run', (t) => {
  t.deepEqual(injectionSpans([WINDOWS[2]!, WINDOWS[0]!, WINDOWS[1]!], RUN_MS), [
    { startMs: 5000, endMs: 15_000 },
    { startMs: 15_000, endMs: 25_000 },
    { startMs: 25_000, endMs: 35_000 },
  ]);
});

test('only the injections of one repeated step give samples', (t) => {
  t.true(repeatedFault(METHOD));
  t.true(repeatedFault([...METHOD, injection(4, { status: 'skipped' })]), 'a skipped injection is not an event');
  t.false(repeatedFault([injection(1)]), 'one injection');
  t.false(repeatedFault([injection(1), injection(2, { name: 'net-latency' })]), 'two faults');
  t.false(repeatedFault([injection(1), { ...injection(2), injection: undefined }]), 'a step not repeated');
  const { samples } = measure(run({ method: [injection(1), injection(2, { name: 'net-latency' })] }));
  t.is(samples, undefined);
});

test('capacity lost per injection: the web servers each injection took a component of', (t) => {
  const method = [injection(1), injection(2, { output: { servers: ['web2'] } }), injection(3, { output: { servers: ['web3', 'db1'] } })];
  close(t, capacitySamples(method, ['web1', 'web2', 'web3']), [1, 1 / 3, 1 / 3], 'capacity');
  t.is(capacitySamples([injection(1)], ['web1']), undefined);
  const noWeb = [1, 2].map((n) => injection(n, { output: { servers: ['db1'] } }));
  t.is(capacitySamples(noWeb, ['web1', 'web2']), undefined, 'no injection touched a web server');
});

test('a probe that looks several times in a run without faults gives one sample per look', (t) => {
  const look = (hops: number): ActivityRecord => ({
    kind: 'probe',
    name: 'internal-encryption',
    phase: 'method',
    status: 'succeeded',
    start: '',
    end: '',
    output: {
      probe: 'internal-encryption',
      timestamp: '',
      durationMs: 0,
      value: { grade: 'F', plaintextHops: hops, hops: [] },
      passed: false,
      tolerance: null,
      details: {},
      findings: [],
    } satisfies Observation,
  });
  const { samples, metrics } = measure(run({ faultWindows: [], method: [look(3), look(3), look(2)], dataLoss: null }));
  t.is(samples?.per, 'look');
  t.deepEqual(samples?.metrics.plaintext_hops, [3, 3, 2]);
  t.is(metrics.plaintext_hops, 3, 'the run’s figure stays the worst look');
  const withFault = measure(run({ method: [look(3), look(3), injection(1)] }));
  t.is(withFault.samples?.metrics.plaintext_hops, undefined, 'looks in a run with a fault are not repetitions');
});
