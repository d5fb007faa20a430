// Stop when it hurts (issue 18): a local server that starts failing at a known time is the truth; the method's
// stop_when must see it live on the load's timeline, revert every fault it holds at once, stop the load and skip
// the faults that had not begun. Fake faults (through the real fault engine and its state file) count the reverts.
import test from 'ava';
import { z } from 'zod';
import { startLoad } from '../../src/load/index.js';
import type { LoadJob } from '../../src/load/index.js';
import { FaultRegistry, type ActiveFault, type AnyFaultDefinition } from '../../src/faults/index.js';
import { runMethod } from '../../src/experiment/scheduler.js';
import { stopConditionSchema } from '../../src/experiment/stop-conditions.js';
import { observation, startMark } from '../../src/probes/runner.js';
import type { AnyProbe } from '../../src/probes/types.js';
import type { FaultStep } from '../../src/experiment/schema.js';
import { FakeDocker, fakeContext } from '../helpers/fake-docker.js';
import { okHandler, sleep, startServer } from './_support.js';

const BUCKET = 100;
/**
 * These tests are about when the server's failures stop a run; on a starved machine (more runnable jobs than cores)
 * requests can leave 100 ms+ late, and the default bound would count them as failures of the client's own (LATE),
 * which is a different story (test/load/hang-truth.test.ts and docs/load.md tell it).
 */
const LENIENT_LATE_MS = 2000;

async function until(job: LoadJob, ms: number): Promise<void> {
  const wait = ms - job.elapsedMs();
  if (wait > 0) await sleep(wait);
}

/** A fault that changes nothing and notes, on the load's clock, when its revert was called. */
function fakeFault(name: string, clock: () => number, reverts: Array<{ name: string; atMs: number }>): AnyFaultDefinition {
  return {
    name,
    kind: 'process',
    description: 'test',
    params: z.object({}),
    data: z.object({}),
    plan: async () => ({ targets: [], steps: [], slots: [name], data: {} }),
    apply: async () => undefined,
    revert: async () => {
      reverts.push({ name, atMs: clock() });
    },
    check: async () => ({ active: true, detail: '' }),
  };
}

test.serial(
  'stop when it hurts: a server failing from a known time fires stop_when within one bucket + 1 s; every held fault reverted, load stopped',
  async (t) => {
    let failing = false;
    const server = await startServer({ handler: (req, res) => (failing ? res.writeHead(500).end() : okHandler(req, res)) });
    t.teardown(() => server.close());
    const faultCtx = await fakeContext(new FakeDocker());
    const reverts: Array<{ name: string; atMs: number }> = [];
    const lines: string[] = [];

    const DURATION = 20_000;
    const FAIL_AT = 3000;
    const job = startLoad({ url: server.url, rate: 200, durationMs: DURATION, timeoutMs: 2000, bucketMs: BUCKET, lateAfterMs: LENIENT_LATE_MS });
    const clock = () => job.elapsedMs();
    const registry = new FaultRegistry(['fake-a', 'fake-b', 'fake-late'].map((n) => fakeFault(n, clock, reverts)));
    const step = (fault: string, at: number, hold: number): FaultStep => ({ fault, at, for: hold, params: {} });
    const failedAt = (async () => {
      await until(job, FAIL_AT);
      failing = true;
      return job.elapsedMs();
    })();

    const active = new Set<ActiveFault>();
    const method = await runMethod([step('fake-a', 0, 15_000), step('fake-b', 500, 15_000), step('fake-late', 10_000, 1000)], job, {
      stack: faultCtx.stack,
      faults: registry,
      probe: () => {
        throw new Error('no probes here');
      },
      active,
      signal: AbortSignal.timeout(60_000),
      log: (l) => lines.push(l),
      loadDurationMs: DURATION,
      stopWhen: [
        stopConditionSchema.parse({ metric: 'p99_ms', above: 5000, over: '1s' }),
        stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: '1s' }),
      ],
    });
    const failStart = await failedAt;

    // Which condition fired, its value, and when: within one bucket + 1 s of the failure start (seconds, not ms: a
    // busy machine may be late by a check or two, never by the whole 17 s of load that was left).
    const stop = method.stop;
    t.truthy(stop, lines.join('\n'));
    t.is(stop?.index, 1);
    t.is(stop?.condition, 'availability < 0.5 over 1 s');
    t.true((stop?.value ?? 1) < 0.5);
    t.true(stop!.atMs >= failStart, `fired at ${stop?.atMs} ms, failing from ${failStart} ms`);
    t.true(stop!.atMs <= failStart + BUCKET + 1000, `fired at ${stop?.atMs} ms, failing from ${failStart} ms`);

    // Every fault held was reverted (once each), the one not yet begun was skipped, nothing is left recorded.
    t.deepEqual(reverts.map((r) => r.name).sort(), ['fake-a', 'fake-b']);
    t.true(
      reverts.every((r) => r.atMs >= stop!.atMs && r.atMs <= stop!.atMs + 1000),
      JSON.stringify(reverts),
    );
    t.true(stop!.firstRevertAfterMs !== undefined);
    t.is(active.size, 0);
    t.deepEqual(await faultCtx.store.list(), []);
    const byName = Object.fromEntries(method.activities.map((a) => [a.name, a]));
    t.is(byName['fake-a']?.status, 'succeeded');
    t.is(byName['fake-b']?.status, 'succeeded');
    t.is(byName['fake-late']?.status, 'skipped');
    t.true(method.faultWindows.every((w) => w.endMs !== null && w.endMs <= stop!.atMs + 1000));

    // The load stopped: sending ended at the stop, far before its 20 s.
    t.is(method.load.stopReason, 'stopped');
    t.true(method.load.durationMs <= stop!.atMs + 1000, `load ran ${method.load.durationMs} ms`);
    t.true(lines.some((l) => /stopped at t=.*availability/.test(l)));
  },
);

test.serial('stop when it hurts: a healthy run is never stopped and its faults are held for their whole time', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const faultCtx = await fakeContext(new FakeDocker());
  const reverts: Array<{ name: string; atMs: number }> = [];
  const job = startLoad({ url: server.url, rate: 100, durationMs: 3000, timeoutMs: 2000, bucketMs: BUCKET, lateAfterMs: LENIENT_LATE_MS });
  const registry = new FaultRegistry([fakeFault('fake-a', () => job.elapsedMs(), reverts)]);
  const method = await runMethod([{ fault: 'fake-a', at: 200, for: 1500, params: {} }], job, {
    stack: faultCtx.stack,
    faults: registry,
    probe: () => {
      throw new Error('no probes here');
    },
    active: new Set(),
    signal: AbortSignal.timeout(60_000),
    log: () => undefined,
    loadDurationMs: 3000,
    stopWhen: [stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: '1s' })],
  });
  t.is(method.stop, undefined);
  t.is(method.load.stopReason, 'completed');
  t.is(reverts.length, 1);
  t.true(reverts[0]!.atMs >= 1700 - 50, `reverted at ${reverts[0]?.atMs} ms`);
});

test.serial('stop when it hurts: a probe condition fires after its failed looks in a row; held faults reverted, load stopped', async (t) => {
  let failing = false;
  const server = await startServer({ handler: (req, res) => (failing ? res.writeHead(503).end() : okHandler(req, res)) });
  t.teardown(() => server.close());
  const faultCtx = await fakeContext(new FakeDocker());
  const reverts: Array<{ name: string; atMs: number }> = [];
  const DURATION = 15_000;
  const FAIL_AT = 2000;
  const job = startLoad({ url: server.url, rate: 50, durationMs: DURATION, timeoutMs: 2000, bucketMs: BUCKET, lateAfterMs: LENIENT_LATE_MS });
  // The probe asks the same server, as a health check would: its verdict is the truth of the condition.
  const health: AnyProbe = {
    name: 'health',
    description: 'test',
    params: z.object({}),
    run: async (_ctx, _p, signal) => {
      const started = startMark();
      const res = await fetch(server.url, { signal });
      return observation('health', started, { value: res.status, tolerance: null, passed: res.status === 200 });
    },
  };
  const looks: string[] = [];
  const failedAt = (async () => {
    await until(job, FAIL_AT);
    failing = true;
    return job.elapsedMs();
  })();
  const method = await runMethod([{ fault: 'fake-a', at: 0, for: 12_000, params: {} }], job, {
    stack: faultCtx.stack,
    faults: new FaultRegistry([fakeFault('fake-a', () => job.elapsedMs(), reverts)]),
    probe: (name) => {
      looks.push(name);
      return health;
    },
    active: new Set(),
    signal: AbortSignal.timeout(60_000),
    log: () => undefined,
    loadDurationMs: DURATION,
    stopWhen: [stopConditionSchema.parse({ probe: 'health', every: '250ms', failures: 2 })],
  });
  const failStart = await failedAt;
  const stop = method.stop;
  t.like(stop, { index: 0, probe: 'health', value: 2, condition: 'probe health failed 2 looks in a row (every 0.25 s)' });
  t.regex(stop?.detail ?? '', /503/);
  // Two looks 250 ms apart after the failure start, each answered at once: well within a second.
  t.true(stop!.atMs >= failStart && stop!.atMs <= failStart + 2 * 250 + 1000, `fired at ${stop?.atMs} ms, failing from ${failStart} ms`);
  t.deepEqual(
    reverts.map((r) => r.name),
    ['fake-a'],
  );
  t.is(method.load.stopReason, 'stopped');
  t.deepEqual(looks, ['health']);
});
