// The judge, table by table, on synthetic timelines, ledgers and activity records (no Docker): the run's
// metrics, the probes' declared contributions and evidence, the verdict, and the assertions behind it.

import test from 'ava';
import { ledger, load, timeline } from '../helpers/judge.js';
import type { WriteRecord } from '../../src/load/ledger.js';
import { measure, probeMetrics, verdict, worstOf, type JudgeInput } from '../../src/experiment/judge.js';
import { evaluateAssertion } from '../../src/experiment/assertions.js';
import { readErrorRatioDuring, steadyFigures, unsteadySpans, writeOutage, type WriteOutage } from '../../src/experiment/metrics.js';
import type { ActivityRecord } from '../../src/experiment/journal.js';
import type { AssertionSpec } from '../../src/experiment/schema.js';
import type { Metrics } from '../../src/metric-table.js';
import { probes } from '../../src/probes/registry.js';
import type { Finding, Observation } from '../../src/probes/types.js';

const PROBES = probes.list();

const base = (over: Partial<JudgeInput>): JudgeInput => ({
  load: load(timeline(10_000)),
  faultWindows: [],
  warmupMs: 1000,
  steadyStateBefore: [],
  method: [],
  dataLoss: null,
  probes: PROBES,
  ...over,
});

function probeActivity(
  name: string,
  value: unknown,
  phase: ActivityRecord['phase'] = 'method',
  options: { findings?: Finding[]; details?: Record<string, unknown>; status?: ActivityRecord['status'] } = {},
): ActivityRecord {
  const output: Observation = {
    probe: name,
    timestamp: '',
    durationMs: 0,
    value,
    passed: true,
    tolerance: null,
    details: options.details ?? {},
    findings: options.findings ?? [],
  };
  return { kind: 'probe', name, phase, status: options.status ?? 'succeeded', start: '', end: '', output };
}

// ---- the run's own figures ----

const runs: Array<[string, Partial<JudgeInput>, Metrics]> = [
  [
    'a clean run: all available, nothing to recover',
    {},
    {
      requests: 1000,
      availability: 1,
      error_ratio: 0,
      error_ratio_outside_faults: 0,
      time_to_detect_s: null,
      time_to_recover_s: 0,
      read_error_ratio_during_faults: null,
    },
  ],
  [
    'an outage 3.0–5.0 s under a fault 3.0–4.0 s: detected at once, recovered 1 s after the fault',
    { load: load(timeline(10_000, (ms) => ms < 3000 || ms >= 5000)), faultWindows: [{ name: 'kill', startMs: 3000, endMs: 4000 }] },
    {
      requests: 1000,
      availability: 0.8,
      error_ratio: 0.2,
      error_ratio_outside_faults: 0,
      time_to_detect_s: 0,
      time_to_recover_s: 1,
      read_error_ratio_during_faults: 1,
    },
  ],
  [
    'an outage that never ends: recovery not measurable',
    { load: load(timeline(10_000, (ms) => ms < 3000)), faultWindows: [{ name: 'kill', startMs: 3000, endMs: 4000 }] },
    { availability: 0.3, time_to_detect_s: 0, time_to_recover_s: null, error_ratio_outside_faults: 0 },
  ],
  [
    'a fault that never hurt: 0 s to recover, no detection',
    { faultWindows: [{ name: 'latency', startMs: 3000, endMs: 4000 }] },
    { availability: 1, time_to_detect_s: null, time_to_recover_s: 0, read_error_ratio_during_faults: 0 },
  ],
];
for (const [name, input, expected] of runs) {
  test(`measure: ${name}`, (t) => {
    const { metrics } = measure(base(input));
    for (const [k, v] of Object.entries(expected)) {
      const got = metrics[k as keyof Metrics];
      if (typeof v === 'number' && typeof got === 'number') t.true(Math.abs(got - v) < 1e-9, `${k}: ${got} ≠ ${v}`);
      else t.is(got, v, k);
    }
  });
}

test('measure: writes give the write outage, write error ratio and the data-loss figures from the check', (t) => {
  const writes = ledger([
    [500, 'ok'],
    [3100, 'fail'],
    [3500, 'unknown'],
    [4200, 'fail'],
    [4600, 'ok'],
    [6000, 'ok'],
  ]);
  const dataLoss: Observation = {
    probe: 'data-loss',
    timestamp: '',
    durationMs: 0,
    value: 'invalid',
    passed: false,
    tolerance: null,
    findings: [],
    details: { check: { lost: ['run1-4'], unexpected: [], recovered: ['run1-2'], failedButPresent: [] } },
  };
  const { metrics, findings } = measure(base({ load: load(timeline(10_000), writes), faultWindows: [{ name: 'kill', startMs: 3000, endMs: 4000 }], dataLoss }));
  t.true(Math.abs((metrics.write_outage_s as number) - 1.5) < 1e-9, `outage ${metrics.write_outage_s}`);
  t.is(metrics.write_error_ratio, 3 / 6);
  t.is(metrics.writes_acknowledged, 3);
  t.is(metrics.data_loss_status, 'invalid');
  t.is(metrics.lost_writes, 1);
  t.is(metrics.unexpected_writes, 0);
  t.is(metrics.recovered_writes, 1);
  t.is(findings.dataLoss, dataLoss);
  t.deepEqual((findings.writeOutage as { startMs: number; endMs: number }).startMs, 3100);
});

test('measure: a data-loss probe that could not look leaves the status unknown and the counts unmeasured', (t) => {
  const { metrics } = measure(base({ load: load(timeline(5000), ledger([[100, 'ok']])), dataLoss: null }));
  t.is(metrics.data_loss_status, 'unknown');
  t.is(metrics.lost_writes, null);
});

// ---- what probes contribute ----

const grade = (g: string, extra: Record<string, unknown> = {}) => ({ grade: g, internalGrade: null, ...extra });
const contributions: Array<[string, Pick<JudgeInput, 'steadyStateBefore' | 'method'>, Metrics]> = [
  [
    'no probe ran: every contributed metric unmeasured',
    { steadyStateBefore: [], method: [] },
    { tls_grade: null, steady_tls_grade: null, exposure_holes: null, replication_lag_s: null, qps_difference_ratio: null },
  ],
  [
    "TLS: the method's worst grade; the steady state's apart",
    {
      steadyStateBefore: [probeActivity('tls', grade('A'), 'steady-state-before')],
      method: [probeActivity('tls', grade('B')), probeActivity('tls', grade('F'))],
    },
    { tls_grade: 'F', steady_tls_grade: 'A', internal_plaintext: 0 },
  ],
  [
    "TLS only in the steady state: it is the run's grade too",
    { steadyStateBefore: [probeActivity('tls', grade('C'), 'steady-state-before')], method: [] },
    { tls_grade: 'C', steady_tls_grade: 'C' },
  ],
  [
    'a probe that could not look contributes nothing',
    { steadyStateBefore: [], method: [probeActivity('tls', null, 'method', { status: 'error' })] },
    { tls_grade: null },
  ],
  [
    'plaintext inside the stack from a TLS finding',
    {
      steadyStateBefore: [],
      method: [
        probeActivity('tls', grade('A'), 'method', { findings: [{ id: 'internal-plaintext-http', severity: 'high', message: 'plain', scope: 'internal' }] }),
      ],
    },
    { internal_plaintext: 1 },
  ],
  [
    "exposure: most holes of the method, the steady state's apart",
    {
      steadyStateBefore: [probeActivity('exposure', { holes: 0, checked: 10 }, 'steady-state-before')],
      method: [probeActivity('exposure', { holes: 2, checked: 10 }), probeActivity('exposure', { holes: 1, checked: 10 })],
    },
    { exposure_holes: 2, steady_exposure_holes: 0 },
  ],
  [
    'replication: the largest lag over the steady state and the method',
    {
      steadyStateBefore: [probeActivity('replication', { running: true, lagSeconds: 4, gtidGap: 0, writers: [] }, 'steady-state-before')],
      method: [probeActivity('replication', { running: true, lagSeconds: 1, gtidGap: 0, writers: [] })],
    },
    { replication_lag_s: 4 },
  ],
  [
    'qps: the largest difference in either direction',
    {
      steadyStateBefore: [],
      method: [probeActivity('qps', { difference: -0.2 }), probeActivity('qps', { difference: 0.1 }), probeActivity('qps', { difference: null })],
    },
    { qps_difference_ratio: 0.2 },
  ],
];
for (const [name, input, expected] of contributions) {
  test(`probe metrics: ${name}`, (t) => {
    const { metrics } = probeMetrics({ ...input, probes: PROBES });
    for (const [k, v] of Object.entries(expected)) t.is(metrics[k as keyof Metrics], v, k);
  });
}

test("probe evidence: the worst look's, the method before the steady state, taken from a series without parsing text", (t) => {
  const hole = { vantage: 'insider', server: 'db-primary', role: 'db-primary', address: '10.0.0.31', port: 3306, open: true, allowed: false };
  const single = probeActivity('exposure', { holes: 1, checked: 5 }, 'method', { details: { holes: [hole] } });
  const series: ActivityRecord = {
    kind: 'probe',
    name: 'exposure',
    phase: 'method',
    status: 'failed',
    start: '',
    end: '',
    output: {
      observations: [
        {
          t: '',
          value: { holes: 2, checked: 5 },
          passed: false,
          findings: [],
          evidence: {
            holes: [
              { vantage: 'internet', server: 'lb', port: 22 },
              { vantage: 'internet', server: 'lb', port: 8404 },
            ],
          },
        },
      ],
    },
  };
  const { findings } = probeMetrics({ steadyStateBefore: [], method: [single, series], probes: PROBES });
  t.deepEqual(findings.exposure, {
    holes: [
      { vantage: 'internet', server: 'lb', port: 22 },
      { vantage: 'internet', server: 'lb', port: 8404 },
    ],
  });
  const tls = probeMetrics({
    steadyStateBefore: [probeActivity('tls', grade('F'), 'steady-state-before')],
    method: [
      probeActivity('tls', grade('F'), 'method', {
        findings: [
          { id: 'cert-expired', severity: 'critical', message: 'expired', where: 'lb:443' },
          { id: 'note', severity: 'info', message: 'fyi' },
        ],
      }),
    ],
    probes: PROBES,
  });
  t.deepEqual(tls.findings.tls, {
    grade: 'F',
    internalGrade: null,
    findings: [{ id: 'cert-expired', severity: 'critical', title: 'expired', detail: 'lb:443' }],
  });
});

const worst: Array<[Parameters<typeof worstOf>[0], Parameters<typeof worstOf>[1], ReturnType<typeof worstOf>]> = [
  ['availability', [0.99, 0.5, null], 0.5],
  ['p99_ms', [10, 300, Number.NaN], 300],
  ['tls_grade', ['B', 'A', 'X'], 'B'],
  ['exposure_holes', [], null],
];
for (const [metric, values, expected] of worst)
  test(`worstOf ${metric} ${JSON.stringify(values)} → ${expected}`, (t) => t.is(worstOf(metric, values), expected));

// ---- verdict and assertions ----

const fault = (status: ActivityRecord['status'], error?: string): ActivityRecord => ({
  kind: 'fault',
  name: 'db-primary-kill',
  phase: 'method',
  status,
  start: '',
  end: '',
  error,
});
const verdicts: Array<[string, Parameters<typeof verdict>[0], ReturnType<typeof verdict>['status'], RegExp]> = [
  [
    'every assertion held',
    { assertions: [{ metric: 'lost_writes', max: 0 }], metrics: { lost_writes: 0 }, method: [fault('succeeded')], steadyStateAfterMet: null },
    'passed',
    /^all 1 assertion\(s\) held$/,
  ],
  ['and the steady state held after', { assertions: [], metrics: {}, method: [], steadyStateAfterMet: true }, 'passed', /steady state held after the method/],
  [
    'an assertion failed',
    { assertions: [{ metric: 'lost_writes', max: 0 }], metrics: { lost_writes: 3 }, method: [], steadyStateAfterMet: null },
    'failed',
    /lost writes ≤ 0 \(measured 3\)/,
  ],
  ['the steady state did not hold after', { assertions: [], metrics: {}, method: [], steadyStateAfterMet: false }, 'failed', /did not hold after/],
  [
    'a method step could not run: an error, whatever the assertions',
    { assertions: [{ metric: 'lost_writes', max: 0 }], metrics: { lost_writes: 3 }, method: [fault('error', 'no such target')], steadyStateAfterMet: false },
    'error',
    /fault db-primary-kill: no such target/,
  ],
];
for (const [name, input, status, reason] of verdicts) {
  test(`verdict: ${name} → ${status}`, (t) => {
    const v = verdict(input);
    t.is(v.status, status);
    t.regex(v.reason, reason);
  });
}

const assertions: Array<[AssertionSpec, Metrics, boolean, string?]> = [
  [{ metric: 'availability', min: 0.99 }, { availability: 0.995 }, true, 'availability ≥ 0.99'],
  [{ metric: 'availability', min: 0.99 }, { availability: 0.9 }, false],
  [{ metric: 'time_to_recover_s', max: 15 }, { time_to_recover_s: 15 }, true, 'time to recover (s) ≤ 15'],
  [{ metric: 'time_to_recover_s', max: 15 }, { time_to_recover_s: null }, false],
  [{ metric: 'time_to_recover_s', max: 15 }, {}, false],
  [{ metric: 'lost_writes', equals: 0 }, { lost_writes: 0 }, true, 'lost writes = 0'],
  [{ metric: 'p99_ms', min: 1, max: 300, name: 'p99 in range' }, { p99_ms: 200 }, true, 'p99 in range'],
  [{ metric: 'tls_grade', min: 'A' }, { tls_grade: 'A' }, true, 'TLS grade ≥ A'],
  [{ metric: 'tls_grade', min: 'A' }, { tls_grade: 'B' }, false],
  [{ metric: 'tls_grade', min: 'C' }, { tls_grade: 'B' }, true],
  [{ metric: 'tls_grade', max: 'C' }, { tls_grade: 'F' }, true],
  [{ metric: 'tls_grade', equals: 'F' }, { tls_grade: 'F' }, true],
];
for (const [spec, metrics, passed, name] of assertions) {
  test(`assertion ${JSON.stringify(spec)} on ${JSON.stringify(metrics)} → ${passed ? 'held' : 'failed'}`, (t) => {
    const r = evaluateAssertion(spec, metrics);
    t.is(r.passed, passed);
    if (name) t.is(r.name, name);
    if (!(spec.metric in metrics) || metrics[spec.metric] === null) t.is(r.detail, 'not measured in this run');
  });
}

// ---- the metric helpers behind the judge ----

test('unsteadySpans: the warm-up, and each fault until recovered (to the end of the run when it never did)', (t) => {
  const recovery = {
    faults: [
      { fault: 'a', startMs: 2000, recoveredAtMs: 5000, recovered: true },
      { fault: 'b', startMs: 7000, recoveredAtMs: null, recovered: false },
    ],
  } as never;
  t.deepEqual(
    unsteadySpans(
      recovery,
      [
        { name: 'a', startMs: 2000, endMs: 3000 },
        { name: 'b', startMs: 7000, endMs: 8000 },
      ],
      1000,
      10_000,
    ),
    [
      { startMs: 0, endMs: 1000 },
      { startMs: 2000, endMs: 5000 },
      { startMs: 7000, endMs: 10_000 },
    ],
  );
  t.deepEqual(unsteadySpans(null, [{ name: 'a', startMs: 2000, endMs: null }], 500, 9000), [
    { startMs: 0, endMs: 500 },
    { startMs: 2000, endMs: 9000 },
  ]);
});

test('steadyFigures: error ratio and p99 outside the spans only', (t) => {
  const tl = timeline(4000, (ms) => !(ms >= 1000 && ms < 2000));
  t.deepEqual(steadyFigures(tl, [{ startMs: 1000, endMs: 2000 }]).errorRatio, 0);
  const all = steadyFigures(tl, []);
  t.is(all.completed, 400);
  t.is(all.failed, 100);
  t.is(all.errorRatio, 0.25);
  t.is(steadyFigures(tl, [{ startMs: 0, endMs: 4000 }]).errorRatio, null);
});

const outages: Array<[string, Array<[number, WriteRecord['outcome']]>, number, Partial<WriteOutage> | null]> = [
  [
    'no failed write: no outage',
    [
      [100, 'ok'],
      [200, 'ok'],
    ],
    0,
    null,
  ],
  [
    'first failure → next success',
    [
      [100, 'ok'],
      [1000, 'fail'],
      [1500, 'unknown'],
      [2500, 'ok'],
    ],
    0,
    { durationMs: 1500, failed: 2 },
  ],
  ['never a success again: until the end of the run', [[1000, 'fail']], 0, { durationMs: 9000, failed: 1 }],
  [
    'a failover and a failback: two outages summed, not the healthy time between them',
    [
      [1000, 'fail'],
      [1200, 'ok'],
      [5000, 'ok'],
      [8000, 'unknown'],
      [8300, 'fail'],
      [8500, 'ok'],
    ],
    0,
    { durationMs: 200 + 500, startMs: 1000, endMs: 8500, failed: 3 },
  ],
  [
    'failures before the first fault do not count',
    [
      [100, 'fail'],
      [200, 'ok'],
    ],
    500,
    null,
  ],
];
for (const [name, writes, fromMs, expected] of outages) {
  test(`writeOutage: ${name}`, (t) => {
    const o = writeOutage(ledger(writes).records(), fromMs, 10_000);
    if (!expected) t.is(o, null);
    else t.like(o, expected);
  });
}

test('readErrorRatioDuring: the requests in fault windows minus the writes among them', (t) => {
  const tl = timeline(3000, (ms) => !(ms >= 1000 && ms < 2000 && ms % 20 === 0));
  // 100 requests in the window, 50 failed; 10 of the failed ones are writes (in the ledger).
  const writes = ledger(Array.from({ length: 10 }, (_, i) => [1000 + i * 20, 'fail'] as [number, WriteRecord['outcome']]));
  t.is(readErrorRatioDuring(tl, null, [{ name: 'f', startMs: 1000, endMs: 2000 }], 3000), 0.5);
  t.is(readErrorRatioDuring(tl, writes, [{ name: 'f', startMs: 1000, endMs: 2000 }], 3000), 40 / 90);
  t.is(readErrorRatioDuring(tl, null, [], 3000), null);
});
