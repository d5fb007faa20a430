// Stop when it hurts (issue 18): the pure check of stop_when on a made-up timeline, and the file's validation of it.
import test from 'ava';
import { Timeline } from '../../src/load/timeline.js';
import { checkStop, inFlightPercentileFloor, stopConditionSchema, windowValue, type MetricStopCondition } from '../../src/experiment/stop-conditions.js';
import { validateExperiment } from '../../src/experiment/schema.js';
import { FaultlineError } from '../../src/errors.js';

const BUCKET = 100;

/** A made-up timeline: `per` requests in each 100 ms bucket from..to (ms), answered 200 or 500 after `latencyMs`. */
function timeline(spans: Array<{ from: number; to: number; ok: boolean; per?: number; latencyMs?: number; error?: boolean }>): Timeline {
  const tl = new Timeline({ bucketMs: BUCKET, startedAt: 0 });
  for (const s of spans) {
    for (let t = s.from; t < s.to; t += BUCKET) {
      for (let i = 0; i < (s.per ?? 10); i++) {
        if (s.error) tl.recordError(t + 1, 'ECONNREFUSED');
        else tl.recordResponse(t + 1, s.ok ? 200 : 500, (s.latencyMs ?? 5) * 1000);
      }
    }
  }
  return tl;
}

const cond = (c: Record<string, unknown>) => stopConditionSchema.parse(c) as MetricStopCondition;

const healthyThenDown = timeline([
  { from: 0, to: 3000, ok: true },
  { from: 3000, to: 6000, ok: false },
]);

const cases: Array<{ title: string; tl: Timeline; c: Record<string, unknown>; now: number; fires: boolean; value?: number }> = [
  { title: 'below: healthy window says no', tl: healthyThenDown, c: { metric: 'availability', below: 0.5, over: '1s' }, now: 2950, fires: false, value: 1 },
  {
    title: 'below: a window that is all failures fires',
    tl: healthyThenDown,
    c: { metric: 'availability', below: 0.5, over: '1s' },
    now: 3950,
    fires: true,
    value: 0,
  },
  {
    title: 'below: half a window of failures is not below 0.5 yet (0.5 is not < 0.5)',
    tl: healthyThenDown,
    c: { metric: 'availability', below: 0.5, over: '1s' },
    now: 3450,
    fires: false,
    value: 0.5,
  },
  {
    title: 'below: 0.4 of the window healthy fires',
    tl: healthyThenDown,
    c: { metric: 'availability', below: 0.5, over: '1s' },
    now: 3550,
    fires: true,
    value: 0.4,
  },
  {
    title: 'window length: a 5 s window still holds 3 s of successes',
    tl: healthyThenDown,
    c: { metric: 'availability', below: 0.5, over: '5s' },
    now: 4950,
    fires: false,
    value: 0.6,
  },
  {
    title: 'window length: a 5 s window of 3 s failures fires',
    tl: healthyThenDown,
    c: { metric: 'availability', below: 0.5, over: '5s' },
    now: 5950,
    fires: true,
    value: 0.4,
  },
  {
    title: 'window length: not yet `over` of load says nothing',
    tl: healthyThenDown,
    c: { metric: 'availability', below: 0.99, over: '5s' },
    now: 3950,
    fires: false,
  },
  { title: 'above: error_ratio', tl: healthyThenDown, c: { metric: 'error_ratio', above: 0.5, over: '1s' }, now: 3950, fires: true, value: 1 },
  {
    title: 'above: error_ratio of a healthy window',
    tl: healthyThenDown,
    c: { metric: 'error_ratio', above: 0.5, over: '1s' },
    now: 2950,
    fires: false,
    value: 0,
  },
  {
    title: 'errors without an answer count as failures',
    tl: timeline([{ from: 0, to: 2000, ok: true, error: true }]),
    c: { metric: 'availability', below: 0.5, over: '1s' },
    now: 1950,
    fires: true,
    value: 0,
  },
  {
    title: 'above: p99 over the window',
    tl: timeline([
      { from: 0, to: 2000, ok: true, latencyMs: 5 },
      { from: 2000, to: 4000, ok: true, latencyMs: 2500 },
    ]),
    c: { metric: 'p99_ms', above: 2000, over: '1s' },
    now: 3950,
    fires: true,
  },
  {
    title: 'above: p99 of fast answers says no',
    tl: timeline([{ from: 0, to: 4000, ok: true, latencyMs: 5 }]),
    c: { metric: 'p99_ms', above: 2000, over: '1s' },
    now: 3950,
    fires: false,
  },
  { title: 'empty buckets say nothing (availability)', tl: timeline([]), c: { metric: 'availability', below: 0.5, over: '1s' }, now: 3950, fires: false },
  {
    title: 'empty buckets say nothing: a quiet tail after failures',
    tl: (() => {
      const tl = timeline([{ from: 0, to: 1000, ok: false }]);
      tl.extendTo(5000);
      return tl;
    })(),
    c: { metric: 'availability', below: 0.5, over: '1s' },
    now: 4950,
    fires: false,
  },
  { title: 'empty buckets say nothing (p99)', tl: timeline([]), c: { metric: 'p99_ms', above: 1, over: '1s' }, now: 3950, fires: false },
  {
    title: 'min_requests: too few outcomes in the window say nothing',
    tl: timeline([{ from: 0, to: 2000, ok: false, per: 1 }]),
    c: { metric: 'availability', below: 0.5, over: '1s', min_requests: 20 },
    now: 1950,
    fires: false,
  },
  {
    title: 'min_requests: enough outcomes fire',
    tl: timeline([{ from: 0, to: 2000, ok: false, per: 2 }]),
    c: { metric: 'availability', below: 0.5, over: '1s', min_requests: 20 },
    now: 1950,
    fires: true,
  },
];

for (const k of cases) {
  test(`stop conditions (pure check): ${k.title}`, (t) => {
    const c = cond(k.c);
    const stop = checkStop([c], k.tl, k.now);
    t.is(stop !== null, k.fires);
    if (k.value !== undefined) t.is(windowValue(c, k.tl, k.now)?.value, k.value);
    if (stop) {
      t.is(stop.atMs, k.now);
      t.is(stop.index, 0);
      t.is(stop.metric, c.metric);
    }
  });
}

test('stop conditions (pure check): the first breached condition is the one named, with its value and one-line description', (t) => {
  const stop = checkStop(
    [cond({ metric: 'p99_ms', above: 2000, over: '1s' }), cond({ metric: 'availability', below: 0.5, over: '1s' })],
    healthyThenDown,
    3950,
  );
  t.like(stop, { index: 1, condition: 'availability < 0.5 over 1 s', value: 0, requests: 100 });
  t.is(checkStop([], healthyThenDown, 3950), null);
});

const experiment = (stop_when: unknown) => ({
  title: 't',
  load: { rate: 10, duration: '10s' },
  method: [{ probe: 'http' }],
  stop_when,
});

function problems(stop_when: unknown): string[] {
  try {
    validateExperiment(experiment(stop_when), 'x.yaml', undefined);
    return [];
  } catch (err) {
    t_assertFaultline(err);
    return (err as Error).message.split('\n');
  }
}
function t_assertFaultline(err: unknown): void {
  if (!(err instanceof FaultlineError)) throw err;
}

test('stop conditions (requests in flight): a window where a third of the requests hang reads slow before any of them times out', (t) => {
  // 3 s of load, 30 requests per second answered in 5 ms; from 1 s on every third request hangs (no outcome yet).
  const tl = timeline([{ from: 0, to: 3000, ok: true, per: 2, latencyMs: 5 }]);
  const hung = Array.from({ length: 20 }, (_, i) => 1000 + i * 100);
  const inFlight = (from: number, to: number) => hung.filter((h) => h >= from && h < to);
  const c = cond({ metric: 'p99_ms', above: 1000, over: '2s' });
  // Without the requests in flight the window reads 5 ms, and the check never fires while they hang.
  t.is(Math.round(windowValue(c, tl, 2950)!.value), 5);
  t.is(checkStop([c], tl, 2950), null);
  // With them: 20 hung of 60 in the window; p99 is the 60th sample, so at least the oldest age (1.95 s): it fires.
  const w = windowValue(c, tl, 2950, inFlight)!;
  t.is(w.value, 1950);
  t.is(w.requests, 40 + 20);
  t.truthy(checkStop([c], tl, 2950, inFlight));
  // A p50 needs half the window hung: a third is not enough, and the answered requests decide as before.
  t.is(Math.round(windowValue(cond({ metric: 'p50_ms', above: 1000, over: '2s' }), tl, 2950, inFlight)!.value), 5);
  // Requests in flight for less than the bound never make a window read slow.
  const short = cond({ metric: 'p99_ms', above: 1000, over: '1s' });
  t.is(windowValue(short, tl, 1550, inFlight)!.value, 550);
  t.is(checkStop([short], tl, 1550, inFlight), null);
});

test('stop conditions (requests in flight): the percentile floor is a lower bound by rank', (t) => {
  t.is(inFlightPercentileFloor(0.99, 100, []), null);
  // 100 samples: p99 is the 99th, so 2 samples at or above it; 2 ages → the smaller of the two.
  t.is(inFlightPercentileFloor(0.99, 98, [3000, 4000]), 3000);
  // 200 samples: p99 is the 198th, so 3 at or above it; 2 ages cannot say.
  t.is(inFlightPercentileFloor(0.99, 198, [3000, 4000]), null);
  t.is(inFlightPercentileFloor(0.99, 197, [3000, 4000, 5000]), 3000);
  // 4 samples: p50 is the 2nd, so 3 at or above it: the third oldest.
  t.is(inFlightPercentileFloor(0.5, 1, [10, 20, 30]), 10);
  t.is(inFlightPercentileFloor(0.5, 5, [10, 20, 30]), null);
  t.is(inFlightPercentileFloor(0.5, 0, [10]), 10);
});

test('stop conditions (validation): the shape of the issue is accepted and defaulted', (t) => {
  const exp = validateExperiment(
    experiment([
      { metric: 'availability', below: 0.5, over: '5s' },
      { metric: 'p99_ms', above: 2000, over: '10s' },
    ]),
    'x.yaml',
    undefined,
  );
  t.deepEqual(exp.stop_when, [
    { kind: 'metric', metric: 'availability', below: 0.5, over: 5000, min_requests: 1 },
    { kind: 'metric', metric: 'p99_ms', above: 2000, over: 10_000, min_requests: 1 },
  ]);
  t.deepEqual(validateExperiment(experiment(undefined), 'x.yaml', undefined).stop_when, []);
});

test('stop conditions (validation): one clear line per problem, naming the field', (t) => {
  const lines = problems([
    { metric: 'availabilty', below: 0.5, over: '5s' },
    { metric: 'availability', over: '5s' },
    { metric: 'availability', below: 0.5, above: 0.1, over: '5s' },
    { metric: 'error_ratio', above: 2, over: '5s' },
    { metric: 'p99_ms', above: 2000, over: '1s', when: 'x' },
  ]);
  t.true(
    lines.some((l) => /^x\.yaml: stop_when\[0\]\.metric: .*availability/.test(l)),
    lines.join('\n'),
  );
  t.true(lines.some((l) => /^x\.yaml: stop_when\[1\]\.below: give one bound: below or above$/.test(l)));
  t.true(lines.some((l) => /^x\.yaml: stop_when\[2\]\.below: give one bound: below or above$/.test(l)));
  t.true(lines.some((l) => /^x\.yaml: stop_when\[3\]\.above: error_ratio is a ratio: give a bound from 0 to 1$/.test(l)));
  t.true(
    lines.some((l) => /^x\.yaml: stop_when\[4\]: .*"when"/.test(l)),
    lines.join('\n'),
  );
  t.is(lines.length, 5, lines.join('\n'));
});

test('stop conditions (validation): a window is checked against the load (once the rest of the file is valid)', (t) => {
  const lines = problems([
    { metric: 'p99_ms', above: 2000, over: '50ms' },
    { metric: 'p99_ms', above: 2000, over: '20s' },
    { metric: 'p99_ms', above: 2000, over: '10s' },
  ]);
  t.deepEqual(lines, [
    "x.yaml: stop_when[0].over: must be at least the load's bucket (100 ms)",
    'x.yaml: stop_when[1].over: must fit inside the load (duration 10 s): a longer window never fills',
  ]);
});

test('stop conditions (journal): a stopped run exits 6, wins over failures in a suite, and every report shows the stop in one line', async (t) => {
  const { exitCodeFor } = await import('../../src/cli/commands/experiment.js');
  const { suiteStatus } = await import('../../src/experiment/journal.js');
  const { renderMarkdown } = await import('../../src/report/markdown.js');
  const { renderJunit } = await import('../../src/report/junit.js');
  const { renderHtml } = await import('../../src/report/html.js');
  const { journal } = await import('../helpers/journal.js');
  const stop = {
    index: 0,
    condition: 'availability < 0.5 over 5 s',
    metric: 'availability' as const,
    value: 0.12,
    atMs: 12_345,
    requests: 412,
    firstRevertAfterMs: 3,
  };
  const j = { ...journal('stopped-one', {}, 'stopped'), reason: 'stopped', stop };
  t.is(exitCodeFor(j), 6);
  t.is(suiteStatus([journal('a', {}, 'failed'), j]), 'stopped');
  t.is(suiteStatus([journal('a', {}, 'error'), j]), 'error');
  const line = 'stopped at t=12.3 s: availability 0.120 (< 0.5 over 5 s, 412 requests); first revert 3 ms later';
  t.true(renderMarkdown(j).includes(`**Stop condition fired** (stop_when[0]): ${line}.`), renderMarkdown(j));
  t.true(renderJunit(j).includes(`<testcase classname="stopped-one" name="stop condition" time="0">`));
  t.true(renderJunit(j).includes(`failures="1"`));
  t.true(renderHtml(j).includes(`<p class="stop">Stop condition fired (stop_when[0]): ${line.replace('<', '&lt;')}</p>`));
  t.true(renderMarkdown(j).includes('STOPPED'));
});

test('stop conditions (validation): a probe condition is read by its `probe` field, checked against the catalogue, and defaulted', async (t) => {
  const { catalogue } = await import('../../src/experiment/catalogue.js');
  const exp = validateExperiment(
    { ...experiment([{ probe: 'health' }, { probe: 'health', every: '2s', failures: 3 }]), method: [{ probe: 'health' }] },
    'x.yaml',
    catalogue(),
  );
  t.deepEqual(exp.stop_when, [
    { kind: 'probe', probe: 'health', params: {}, every: 1000, failures: 1 },
    { kind: 'probe', probe: 'health', params: {}, every: 2000, failures: 3 },
  ]);
  const err = t.throws(() =>
    validateExperiment(
      {
        ...experiment([{ probe: 'helth' }, { probe: 'health', every: '10ms' }, { probe: 'health', over: '1s' }, { probe: 'health', params: { nope: 1 } }]),
        method: [{ probe: 'health' }],
      },
      'x.yaml',
      catalogue(),
    ),
  );
  const lines = err.message.split('\n');
  t.true(
    lines.some((l) => /^x\.yaml: stop_when\[0\]\.probe: .*health/.test(l)),
    err.message,
  );
  t.true(
    lines.some((l) => /^x\.yaml: stop_when\[1\]\.every: 10ms is out of range/.test(l)),
    err.message,
  );
  t.true(
    lines.some((l) => /^x\.yaml: stop_when\[2\]: unknown field "over"$/.test(l)),
    err.message,
  );
  t.true(
    lines.some((l) => /^x\.yaml: stop_when\[3\]\.params: /.test(l)),
    err.message,
  );
});

test('stop conditions (probe watch): fires once, after `failures` failed looks in a row, naming the last failure', async (t) => {
  const { watchProbeStop } = await import('../../src/experiment/stop-conditions.js');
  const c = stopConditionSchema.parse({ probe: 'health', every: '100ms', failures: 2 });
  if (c.kind !== 'probe') return t.fail();
  const verdicts: Array<true | string> = [true, 'refused', true, 'refused', 'timed out', 'never asked'];
  let asked = 0;
  const fired: unknown[] = [];
  await watchProbeStop(
    c,
    3,
    async () => verdicts[asked++]!,
    () => 1234,
    (s) => fired.push(s),
    AbortSignal.timeout(10_000),
  );
  t.is(asked, 5);
  t.deepEqual(fired, [
    { index: 3, condition: 'probe health failed 2 looks in a row (every 0.1 s)', probe: 'health', value: 2, atMs: 1234, detail: 'timed out' },
  ]);
  const ac = new AbortController();
  ac.abort();
  await watchProbeStop(
    c,
    0,
    async () => 'x',
    () => 0,
    (s) => fired.push(s),
    ac.signal,
  );
  t.is(fired.length, 1, 'an ended signal looks no more');
});
