// The blast radius, pure and on a fake Docker: max_targets refuses a fault before its record is written or anything
// is applied, registries hand the limit to every fault they configure, and the dry-run timeline says what, where, when.

import test from 'ava';
import { z } from 'zod';
import { FaultRegistry, injectFault, planFault, type AnyFaultDefinition, type FaultPlan } from '../../src/faults/index.js';
import { BlastRadiusError, checkBlastRadius } from '../../src/faults/blast-radius.js';
import { formatTimeline, type TimelineEntry } from '../../src/faults/format.js';
import { resolveContainers, toRef } from '../../src/faults/targets.js';
import { dryRunExitCode } from '../../src/experiment/dry-run.js';
import { FaultlineError } from '../../src/errors.js';
import { InvalidFileError, validateExperiment } from '../../src/experiment/schema.js';
import { FakeDocker, fakeContext, stackLabels } from '../helpers/fake-docker.js';

/** A fault that only counts its applies, on whatever its target resolves to. */
function countingFault(applied: string[]): AnyFaultDefinition {
  return {
    name: 'poke',
    kind: 'process',
    description: 'pokes containers',
    params: z.object({}).default({}),
    data: z.object({}).passthrough(),
    plan: async (ctx, target: string | undefined): Promise<FaultPlan> => {
      const found = await resolveContainers(ctx, target ?? 'all:');
      return { targets: found.map(toRef), steps: [`poke ${found.map((c) => c.service).join(', ')}`], slots: [], data: {} };
    },
    apply: async (_ctx, record) => {
      applied.push(record.id);
    },
    revert: async () => undefined,
    check: async () => ({ active: true, detail: 'poked' }),
  };
}

async function webStack() {
  const docker = new FakeDocker();
  for (const server of ['web1', 'web2', 'web3']) docker.add({ name: `flunit-${server}-nginx-1`, labels: stackLabels(server, 'nginx') });
  return fakeContext(docker);
}

test('max_targets: a fault over it is refused before its record is written or it is applied (exit 2, one line)', async (t) => {
  const ctx = await webStack();
  const applied: string[] = [];
  const registry = new FaultRegistry([countingFault(applied)]).limitedTo(2);
  const configured = registry.configure('poke', { target: 'all:role=web' });
  t.is(configured.maxTargets, 2);
  const err = (await t.throwsAsync(injectFault(ctx, configured, AbortSignal.timeout(5000)))) as FaultlineError;
  t.true(err instanceof BlastRadiusError);
  t.is(err.exitCode, 2);
  t.is(err.message, 'poke on "all:role=web" resolves to 3 targets (web1-nginx, web2-nginx, web3-nginx), more than max_targets 2; nothing was injected');
  t.deepEqual(await ctx.store.list(), []);
  t.deepEqual(applied, []);
  await t.throwsAsync(planFault(ctx, configured, AbortSignal.timeout(5000)), { instanceOf: BlastRadiusError });
});

test('max_targets: a fault within it is injected; count: keeps a wide match within it', async (t) => {
  const ctx = await webStack();
  const applied: string[] = [];
  const registry = new FaultRegistry([countingFault(applied)]).limitedTo(2);
  const active = await injectFault(ctx, registry.configure('poke', { target: 'count:2:role=web' }), AbortSignal.timeout(5000));
  t.is(active.record.targets.length, 2);
  t.is(applied.length, 1);
  await active.revert();
  t.deepEqual(await ctx.store.list(), []);
});

test('limitedTo(undefined) is the registry itself; a fault configured with its own limit keeps it', (t) => {
  const registry = new FaultRegistry([countingFault([])]);
  t.is(registry.limitedTo(undefined), registry);
  t.is(registry.configure('poke').maxTargets, undefined);
  t.is(registry.limitedTo(5).configure('poke', { maxTargets: 1 }).maxTargets, 1);
});

test('checkBlastRadius: at the limit passes, over it throws; no limit never throws', (t) => {
  const fault = new FaultRegistry([countingFault([])]).configure('poke', { target: 'role=web', maxTargets: 1 });
  const target = { id: 'a', name: 'a', service: 'web1-nginx' };
  t.notThrows(() => checkBlastRadius(fault, { targets: [target] }));
  t.throws(() => checkBlastRadius(fault, { targets: [target, { ...target, service: 'web2-nginx' }] }), { message: /resolves to 2 targets/ });
  t.notThrows(() => checkBlastRadius({ ...fault, maxTargets: undefined }, { targets: [target, target, target] }));
});

const plan = (services: string[], steps: string[]): FaultPlan => ({
  targets: services.map((s, i) => ({ id: `${i}`.repeat(16), name: `p-${s}-1`, service: s })),
  steps,
  slots: [],
  data: {},
});

test('formatTimeline: what, where and when of each step, refusals in one line, nothing injected', (t) => {
  const entries: TimelineEntry[] = [
    { kind: 'fault', name: 'container-kill', target: 'count:2:role=web', atMs: 6000, forMs: 8000, plan: plan(['web1-nginx', 'web3-nginx'], ['kill them']) },
    { kind: 'probe', name: 'cluster', atMs: 10_500 },
    { kind: 'fault', name: 'net-delay', target: 'all:role=web', atMs: 12_000, forMs: 0, error: new FaultlineError('INVALID_INPUT', 'over the limit') },
    { kind: 'probe', name: 'qps', everyMs: 1000 },
    { kind: 'probe', name: 'tls', during: 'container-kill' },
  ];
  const text = formatTimeline({ title: 'Web servers die', id: 'web-kill', stack: 'faultline', loadMs: 25_000, maxTargets: 2 }, entries);
  t.is(
    text,
    [
      'dry run: Web servers die (web-kill) on stack faultline, load 25s, max_targets 2',
      '  t=6s–14s               fault container-kill on count:2:role=web',
      '                         → web1-nginx (000000000000), web3-nginx (111111111111)',
      '                           1. kill them',
      '  t=10.5s                probe cluster',
      '  t=12s                  fault net-delay on all:role=web',
      '                         REFUSED: over the limit',
      '  every 1s               probe qps',
      '  during container-kill  probe tls',
      '  2 fault step(s), 1 refused; nothing was injected',
    ].join('\n'),
  );
  t.is(dryRunExitCode(entries), 2);
  t.is(dryRunExitCode(entries.slice(0, 2)), 0);
});

test('max_targets in an experiment: a positive whole number, or the file is refused naming the field (exit 2)', (t) => {
  const exp = (max: unknown) => ({
    title: 't',
    load: { rate: 1, duration: '10s', warmup: '1s' },
    method: [{ fault: 'container-kill', target: 'count:2:role=web', at: '1s' }],
    ...(max === undefined ? {} : { max_targets: max }),
  });
  t.is(validateExperiment(exp(2), 'x.yaml', undefined).max_targets, 2);
  t.is(validateExperiment(exp(undefined), 'x.yaml', undefined).max_targets, undefined);
  for (const bad of [0, -1, 1.5, 'two']) {
    const err = t.throws(() => validateExperiment(exp(bad), 'x.yaml', undefined));
    t.true(err instanceof InvalidFileError);
    t.is((err as InvalidFileError).exitCode, 2);
    t.regex(err!.message, /max_targets/);
  }
});
