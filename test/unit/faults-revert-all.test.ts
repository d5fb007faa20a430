// Issue 18, finding 3: `faultline revert --all` while a fault is being injected must not leave that fault's effect in
// place without a record. The fake fault's "effect" is a flag its apply sets and its revert clears.

import test from 'ava';
import { z } from 'zod';
import { FaultRegistry, injectFault, revertRecorded, type AnyFaultDefinition } from '../../src/faults/index.js';
import { FakeDocker, fakeContext } from '../helpers/fake-docker.js';

function slowFault(): AnyFaultDefinition & { effect: boolean; reverts: number; release: () => void; applying: Promise<void> } {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const applying = new Promise<void>((r) => (started = r));
  const def = {
    name: 'slow',
    kind: 'process' as const,
    description: 'test',
    params: z.object({}),
    data: z.object({}),
    effect: false,
    reverts: 0,
    release,
    applying,
    plan: async () => ({ targets: [], steps: [], slots: ['x'], data: {} }),
    apply: async () => {
      started();
      await gate;
      def.effect = true;
    },
    revert: async () => {
      def.reverts += 1;
      def.effect = false;
    },
    check: async () => ({ active: def.effect, detail: '' }),
  };
  return def;
}

test('issue 18 finding 3: revert --all during an injection waits for it to be in effect, then reverts it: no effect without a record', async (t) => {
  const ctx = await fakeContext(new FakeDocker());
  const def = slowFault();
  const registry = new FaultRegistry([def]);
  const injecting = injectFault(ctx, registry.configure('slow'), AbortSignal.timeout(10_000));
  await def.applying;
  const reverting = revertRecorded(ctx, registry, { all: true });
  setTimeout(() => def.release(), 300);
  const [active, summary] = await Promise.all([injecting, reverting]);
  t.is(summary.reverted.length, 1);
  t.false(def.effect, 'the effect is undone');
  t.deepEqual(await ctx.store.list(), [], 'and no record is left');
  // The injector's own revert later finds the record gone and leaves things alone.
  await active.revert(AbortSignal.timeout(5000));
  t.is(def.reverts, 1);
});

test('issue 18 finding 3: a record removed under a running apply (an older faultline) is recorded again and the effect undone', async (t) => {
  const ctx = await fakeContext(new FakeDocker());
  const def = slowFault();
  const registry = new FaultRegistry([def]);
  const injecting = injectFault(ctx, registry.configure('slow'), AbortSignal.timeout(10_000));
  await def.applying;
  const [record] = await ctx.store.list();
  await ctx.store.remove(record!.id);
  def.release();
  await t.throwsAsync(injecting, { message: /removed while it was being injected/ });
  t.false(def.effect, 'the effect that landed after the removal is undone');
  t.deepEqual(await ctx.store.list(), []);
});
