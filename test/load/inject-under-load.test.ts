// `fault inject --under-load --stop-when` (issue 18): one fault held under load through the real fault engine (a fake fault,
// the fake Docker, a real state file) against a local server that starts failing at a known time. The breach must be
// seen live on the load's timeline, the fault reverted at once and the load stopped; a healthy hold runs its --for.
import test from 'ava';
import { z } from 'zod';
import { FaultRegistry, type AnyFaultDefinition } from '../../src/faults/index.js';
import { injectUnderLoad } from '../../src/experiment/inject-under-load.js';
import { stopConditionSchema } from '../../src/experiment/stop-conditions.js';
import { FakeDocker, fakeContext } from '../helpers/fake-docker.js';
import { okHandler, startServer } from './_support.js';

const BUCKET = 100;
/**
 * These tests are about when the server's failures stop a run; on a starved machine (more runnable jobs than cores)
 * requests can leave 100 ms+ late, and the default bound would count them as failures of the client's own (LATE),
 * which is a different story (test/load/hang-truth.test.ts and docs/load.md tell it).
 */
const LENIENT_LATE_MS = 2000;

/** A fault that changes nothing and notes (wall clock) when its revert was called. */
function fakeFault(reverts: number[]): AnyFaultDefinition {
  return {
    name: 'fake-a',
    kind: 'process',
    description: 'test',
    params: z.object({}),
    data: z.object({}),
    plan: async () => ({ targets: [], steps: [], slots: ['fake-a'], data: {} }),
    apply: async () => undefined,
    revert: async () => {
      reverts.push(Date.now());
    },
    check: async () => ({ active: true, detail: '' }),
  };
}

test.serial('a server failing from a known time fires --stop-when within one bucket + 1 s; the fault reverted at once, the load stopped early', async (t) => {
  let failingSince: number | undefined;
  const server = await startServer({ handler: (req, res) => (failingSince !== undefined ? res.writeHead(500).end() : okHandler(req, res)) });
  t.teardown(() => server.close());
  const ctx = await fakeContext(new FakeDocker());
  const reverts: number[] = [];
  const lines: string[] = [];
  const HOLD = 20_000;
  let activeAfter: number | undefined;
  const outcome = await injectUnderLoad(ctx, new FaultRegistry([fakeFault(reverts)]).configure('fake-a', { target: undefined, params: {} }), {
    load: { url: server.url, rate: 200, timeoutMs: 2000, bucketMs: BUCKET, lateAfterMs: LENIENT_LATE_MS },
    holdMs: HOLD,
    stopWhen: [
      stopConditionSchema.parse({ metric: 'p99_ms', above: 5000, over: '1s' }),
      stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: '1s' }),
    ],
    signal: AbortSignal.timeout(60_000),
    log: (l) => lines.push(l),
    // The fault is in effect: the server starts failing 2 s later.
    onActive: (_fault, afterMs) => {
      activeAfter = afterMs;
      setTimeout(() => (failingSince = Date.now()), 2000);
    },
  });
  t.true(activeAfter !== undefined);
  const t0 = outcome.load.timeline.startedAt;
  const failStart = failingSince! - t0;

  // Which condition fired, its value, and when (load time): within one bucket + 1 s of the failure start.
  const stop = outcome.stop;
  t.truthy(stop, lines.join('\n'));
  t.like(stop, { index: 1, condition: 'availability < 0.5 over 1 s', metric: 'availability' });
  t.true(stop!.value < 0.5);
  t.true(stop!.atMs >= failStart - 10, `fired at ${stop?.atMs} ms, failing from ${failStart} ms`);
  t.true(stop!.atMs <= failStart + BUCKET + 1000, `fired at ${stop?.atMs} ms, failing from ${failStart} ms`);

  // The fault's revert ran once, at once; nothing is left recorded.
  t.is(reverts.length, 1);
  t.true(reverts[0]! - t0 >= stop!.atMs - 10 && reverts[0]! - t0 <= stop!.atMs + 1000, `reverted at ${reverts[0]! - t0} ms`);
  t.true(stop!.firstRevertAfterMs !== undefined && stop!.firstRevertAfterMs < 1000);
  t.true(outcome.fault.reverted);
  t.deepEqual(await ctx.store.list(), []);
  t.true(outcome.load.faults.length === 1 && outcome.load.faults[0]!.endMs !== null && outcome.load.faults[0]!.endMs <= stop!.atMs + 1000);

  // The load stopped early: far before the 20 s hold was over.
  t.is(outcome.load.stopReason, 'stopped');
  t.true(outcome.load.durationMs <= stop!.atMs + 1000, `load ran ${outcome.load.durationMs} ms`);
  t.true(lines.some((l) => /stopped at t=.*availability/.test(l)));
});

test.serial('a healthy hold is never stopped: reverted after --for, then the load stops', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const ctx = await fakeContext(new FakeDocker());
  const reverts: number[] = [];
  let activeAt = 0;
  const HOLD = 1500;
  const outcome = await injectUnderLoad(ctx, new FaultRegistry([fakeFault(reverts)]).configure('fake-a', { target: undefined, params: {} }), {
    load: { url: server.url, rate: 100, timeoutMs: 2000, bucketMs: BUCKET, lateAfterMs: LENIENT_LATE_MS },
    holdMs: HOLD,
    stopWhen: [stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: '1s' })],
    signal: AbortSignal.timeout(60_000),
    onActive: () => (activeAt = Date.now()),
  });
  t.is(outcome.stop, undefined);
  t.is(reverts.length, 1);
  t.true(reverts[0]! - activeAt >= HOLD - 20, `held ${reverts[0]! - activeAt} ms`);
  t.true(outcome.fault.reverted);
  // The load ran beside the whole hold and stopped right after the revert, not at its own (much longer) duration.
  t.true(outcome.load.durationMs >= HOLD && outcome.load.durationMs <= HOLD + 3000, `load ran ${outcome.load.durationMs} ms`);
  t.is(outcome.load.timeline.window(0, outcome.load.durationMs).outcomes > 100, true);
  t.deepEqual(await ctx.store.list(), []);
});

test.serial('an interrupt reverts the fault, stops the load and is thrown', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const ctx = await fakeContext(new FakeDocker());
  const reverts: number[] = [];
  const interrupt = new AbortController();
  const err = await t.throwsAsync(
    injectUnderLoad(ctx, new FaultRegistry([fakeFault(reverts)]).configure('fake-a', { target: undefined, params: {} }), {
      load: { url: server.url, rate: 100, timeoutMs: 2000, bucketMs: BUCKET, lateAfterMs: LENIENT_LATE_MS },
      holdMs: 30_000,
      stopWhen: [],
      signal: interrupt.signal,
      onActive: () => setTimeout(() => interrupt.abort(new Error('interrupted by SIGINT')), 500),
    }),
  );
  t.is(err?.message, 'interrupted by SIGINT');
  t.is(reverts.length, 1);
  t.deepEqual(await ctx.store.list(), []);
});
