// The fault engine never reports a revert that did not happen and never leaves an effect without a record:
// checked on an in-memory Docker whose execs, like real ones, keep running when the client gives up.

import test from 'ava';
import { z } from 'zod';
import { FaultRegistry, holdFault, injectFault, revertRecorded, type ActiveFault, type AnyFaultDefinition, type FaultRecord } from '../../src/faults/index.js';
import { deadMansSwitchMs, MAX_HOLD_EXTENSION_MS, createFaultContext } from '../../src/faults/engine.js';
import { firewallFaults } from '../../src/faults/firewall-faults.js';
import { processFaults } from '../../src/faults/process-faults.js';
import { removeHelpers } from '../../src/faults/helpers.js';
import { FaultlineError } from '../../src/errors.js';
import { LABEL } from '../../src/stack/docker-client.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { FakeDocker, fakeContext, faultRecord, hexId, PROJECT, stackLabels, type FakeContainer } from '../helpers/fake-docker.js';
import { hostname, tmpdir } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { dropStackRecords, FaultStore } from '../../src/faults/state-store.js';

function fakeActive(revert: () => Promise<void>): ActiveFault {
  let done = false;
  return {
    id: 'f-1',
    name: 'fake',
    record: { stack: PROJECT } as FaultRecord,
    get reverted() {
      return done;
    },
    check: async () => ({ active: true, detail: '' }),
    revert: async () => {
      await revert();
      done = true;
    },
  };
}

test('item 1: a revert that fails after Ctrl-C is REVERT_FAILED (exit 4) naming the fault left, not the interrupt', async (t) => {
  const ac = new AbortController();
  const fault = fakeActive(async () => {
    throw new FaultlineError('REVERT_FAILED', 'nft: restore failed');
  });
  setTimeout(() => ac.abort(new Error('interrupted by SIGINT')), 10);
  const err = await t.throwsAsync(holdFault(fault, 60_000, ac.signal));
  t.true(err instanceof FaultlineError);
  t.is((err as FaultlineError).code, 'REVERT_FAILED');
  t.is((err as FaultlineError).exitCode, 4);
  t.regex(err!.message, /f-1 could not be reverted; it is still in effect/);
  t.false(fault.reverted, 'the caller can tell the revert did not happen');
});

test('item 1: after a revert that succeeded, the interrupt itself is rethrown', async (t) => {
  const ac = new AbortController();
  const fault = fakeActive(async () => undefined);
  setTimeout(() => ac.abort(new Error('interrupted by SIGINT')), 10);
  await t.throwsAsync(holdFault(fault, 60_000, ac.signal), { message: 'interrupted by SIGINT' });
  t.true(fault.reverted);
});

/** A fault whose apply always fails and whose revert fails the first `failures` times. */
function flakyDefinition(failures: number): AnyFaultDefinition & { reverts: number } {
  const def = {
    name: 'flaky',
    kind: 'process' as const,
    description: 'test',
    params: z.object({}),
    data: z.object({}),
    reverts: 0,
    plan: async () => ({ targets: [], steps: [], slots: ['x'], data: {} }),
    apply: async () => {
      throw new Error('apply failed');
    },
    revert: async () => {
      def.reverts += 1;
      if (def.reverts <= failures) throw new Error('revert failed');
    },
    check: async () => ({ active: true, detail: '' }),
  };
  return def;
}

test('item 2: a fault of this very process whose apply and own revert failed is retried by the final revert (own: true)', async (t) => {
  const ctx = await fakeContext(new FakeDocker());
  const def = flakyDefinition(1);
  const registry = new FaultRegistry([def]);
  await t.throwsAsync(injectFault(ctx, registry.configure('flaky'), AbortSignal.timeout(5000)), { message: /could not be reverted/ });
  t.is((await ctx.store.list()).length, 1, 'still recorded, held by this process');

  const skipping = await revertRecorded(ctx, registry, { all: false });
  t.is(skipping.skipped.length, 1, 'without own, a live holder (this process) is skipped');

  const summary = await revertRecorded(ctx, registry, { all: false, own: true });
  t.is(summary.reverted.length, 1);
  t.deepEqual(await ctx.store.list(), []);
});

test("item 2: the run's final revert fails (REVERT_FAILED) when such a fault cannot be reverted again, and succeeds once it can", async (t) => {
  const { revertRunFaults } = await import('../../src/experiment/runner.js');
  const ctx = await fakeContext(new FakeDocker());
  const def = flakyDefinition(2);
  const registry = new FaultRegistry([def]);
  await t.throwsAsync(injectFault(ctx, registry.configure('flaky'), AbortSignal.timeout(5000)));
  const err = await t.throwsAsync(revertRunFaults([], ctx, registry));
  t.is((err as FaultlineError).code, 'REVERT_FAILED');
  const ok = await revertRunFaults([], ctx, registry);
  t.is(ok.reverted.length, 1);
});

test('item 2: an interrupted run whose rollback failed exits 4, not 130', async (t) => {
  const { settleAfterRollbacks } = await import('../../src/experiment/runner.js');
  const { exitCodeFor } = await import('../../src/cli/commands/experiment.js');
  const journal = {
    version: 1,
    kind: 'experiment',
    status: 'interrupted',
    reason: 'interrupted; rollbacks ran',
    rollbacks: [{ kind: 'rollback', name: 'revert-faults', phase: 'rollback', status: 'error', error: 'could not revert net-loss', start: '', end: '' }],
  } as never;
  settleAfterRollbacks(journal);
  t.is(exitCodeFor(journal), 4);
  t.regex((journal as { reason: string }).reason, /interrupted, and a rollback failed: could not revert net-loss/);
});

test('item 2: a suite stops at a failed revert even with continue_on_failure', async (t) => {
  const { runFile } = await import('../../src/experiment/suite.js');
  const ran: string[] = [];
  const runner = {
    run: async (exp: { id: string }) => {
      ran.push(exp.id);
      return { id: exp.id, status: 'error', rollbacks: [{ status: exp.id === 'a' ? 'error' : 'succeeded' }] } as never;
    },
  };
  const suite = {
    suite: ['a', 'b'],
    id: 's',
    title: 's',
    file: 's.yaml',
    continue_on_failure: true,
    experiments: [
      { id: 'a', title: 'a' },
      { id: 'b', title: 'b' },
    ],
  } as never;
  await runFile(suite, {} as never, { signal: new AbortController().signal }, runner as never);
  t.deepEqual(ran, ['a'], 'b never runs on the damaged stack');
});

/**
 * Two servers, each with an nft table the fake keeps as text; the save-and-apply exec takes `applyMs` in the
 * container and changes the table when it ends, whatever the client did meanwhile.
 */
function firewallStack(docker: FakeDocker, applyMs: Record<string, number>, failFast: string[] = []) {
  const tables: Record<string, string> = {};
  const saved: Record<string, string> = {};
  const hosts: FakeContainer[] = [];
  for (const server of ['web1', 'web2']) {
    const c = docker.add({ name: server, labels: stackLabels(server, 'host') });
    tables[c.id] = `table inet faultline { # ${server} original\n}\n`;
    hosts.push(c);
  }
  docker.handlers.push((c, cmd, stdin) => {
    const script = cmd.join(' ');
    const server = c.name;
    if (script.includes('nft -f -') && script.includes('mkdir -p /run/faultline')) {
      if (failFast.includes(server)) return { result: { exitCode: 1, stdout: '', stderr: 'nft: boom' } };
      const before = tables[c.id]!;
      return {
        ms: applyMs[server] ?? 0,
        result: { exitCode: 0, stdout: before, stderr: '' },
        effect: () => {
          saved[c.id] ??= before;
          tables[c.id] = `${before}# changed by ${stdin}`;
        },
      };
    }
    if (cmd[0] === 'cat')
      return saved[c.id] === undefined
        ? { result: { exitCode: 1, stdout: '', stderr: 'no such file' } }
        : { result: { exitCode: 0, stdout: saved[c.id]!, stderr: '' } };
    if (script.includes('nft -f - &&')) {
      // restore: the script is "table…; delete table…" followed by the saved text
      const text = (stdin ?? '').split('\n').slice(2).join('\n');
      tables[c.id] = text;
      return { result: { exitCode: 0, stdout: text, stderr: '' } };
    }
    return undefined;
  });
  return { tables, hosts, original: { ...tables } };
}

test('item 3: Ctrl-C while nft is applying lets the change finish, then reverts it: nothing is left without a record', async (t) => {
  const docker = new FakeDocker();
  const fw = firewallStack(docker, { web1: 80, web2: 80 });
  const ctx = await fakeContext(docker);
  const registry = new FaultRegistry(firewallFaults);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('interrupted by SIGINT')), 20);
  await t.throwsAsync(injectFault(ctx, registry.configure('firewall-open-port', { target: 'all:role=web' }), ac.signal));
  await new Promise((r) => setTimeout(r, 150)); // anything still running in the "containers" has ended by now
  t.deepEqual(fw.tables, fw.original, 'both firewalls are as before');
  t.deepEqual(await ctx.store.list(), [], 'and the record went only after that');
});

test('item 4: one server failing fast does not start the revert while another is still applying', async (t) => {
  const docker = new FakeDocker();
  const fw = firewallStack(docker, { web2: 80 }, ['web1']);
  const ctx = await fakeContext(docker);
  const registry = new FaultRegistry(firewallFaults);
  await t.throwsAsync(injectFault(ctx, registry.configure('firewall-open-port', { target: 'all:role=web' }), AbortSignal.timeout(5000)), { message: /boom/ });
  await new Promise((r) => setTimeout(r, 150));
  t.deepEqual(fw.tables, fw.original, 'the slow server was reverted too');
});

function processStack(docker: FakeDocker) {
  const host = docker.add({ name: 'web1', labels: stackLabels('web1', 'host') });
  const app = docker.add({ name: 'web1-app', labels: stackLabels('web1', 'app'), networkMode: `container:${host.id}` });
  const helper = docker.add({
    name: 'helper',
    labels: { [LABEL.stack]: PROJECT, [LABEL.fault]: 'net-loss-1', [LABEL.helper]: 'fault' },
    networkMode: `container:${host.id}`,
  });
  return { host, app, helper };
}

test('item 6: a killed container that was removed and recreated (stack down + up) counts as reverted', async (t) => {
  const docker = new FakeDocker();
  const { app } = processStack(docker);
  const ctx = await fakeContext(docker);
  const registry = new FaultRegistry(processFaults);
  await injectFault(ctx, registry.configure('container-kill', { target: 'service=web1-app' }), AbortSignal.timeout(5000));
  docker.containers.delete(app.id);
  const again = docker.add({ name: 'web1-app', labels: stackLabels('web1', 'app') });
  const summary = await revertRecorded(ctx, registry, { all: true });
  t.is(summary.failed.length, 0, summary.failed.map((f) => f.error.message).join());
  t.is(summary.reverted.length, 1);
  t.is(again.state, 'running');
  t.deepEqual(await ctx.store.list(), []);
});

test('item 6: a record whose whole stack is gone is reverted (nothing left to bring back); one whose service is missing from a running stack fails', async (t) => {
  const docker = new FakeDocker();
  const { app, host, helper } = processStack(docker);
  const ctx = await fakeContext(docker);
  const registry = new FaultRegistry(processFaults);
  await injectFault(ctx, registry.configure('container-kill', { target: 'service=web1-app' }), AbortSignal.timeout(5000));
  docker.containers.delete(app.id);
  const missing = await revertRecorded(ctx, registry, { all: true });
  t.is(missing.failed.length, 1);
  t.regex(missing.failed[0]!.error.message, /not recreated/);
  docker.containers.delete(host.id);
  docker.containers.delete(helper.id);
  const gone = await revertRecorded(ctx, registry, { all: true });
  t.is(gone.reverted.length, 1);
});

test("item 8: killing a server's host restarts its components but never a fault helper in its namespace", async (t) => {
  const docker = new FakeDocker();
  const { host, app, helper } = processStack(docker);
  const ctx = await fakeContext(docker);
  const registry = new FaultRegistry(processFaults);
  const fault = await injectFault(ctx, registry.configure('container-kill', { target: 'service=web1' }), AbortSignal.timeout(5000));
  t.deepEqual((fault.record.data as { containers: Array<{ dependents: string[] }> }).containers[0]!.dependents, [app.id]);
  await fault.revert();
  t.true(docker.calls.includes(`restart ${app.id}`));
  t.false(docker.calls.includes(`restart ${helper.id}`), 'the helper keeps its timer');
  t.is(host.state, 'running');
});

test('item 8 and 12: removing helpers tolerates one already gone, and refuses a container that is no helper of the fault', async (t) => {
  const docker = new FakeDocker();
  const { app, helper } = processStack(docker);
  const ctx = await fakeContext(docker);
  await t.notThrowsAsync(removeHelpers(ctx, [hexId(999_999)], 'net-loss-1'));
  const err = await t.throwsAsync(removeHelpers(ctx, [app.id], 'net-loss-1'));
  t.is((err as FaultlineError).code, 'UNSAFE_TARGET');
  t.true(docker.containers.has(app.id), 'a stack container named in a record is never removed');
  await removeHelpers(ctx, [helper.id], 'net-loss-1');
  t.false(docker.containers.has(helper.id));
});

test("item 9: the dead man's switch fires only after the longest hold the runner may keep, with a margin", (t) => {
  const holdMs = 8000;
  const ctx = createFaultContext({ stateDir: '/nonexistent', project: PROJECT, docker: {} } as unknown as AttachedStack, { holdMs });
  t.is(ctx.maxDurationMs, deadMansSwitchMs(holdMs));
  t.true(ctx.maxDurationMs >= holdMs + MAX_HOLD_EXTENSION_MS + 10_000, `${ctx.maxDurationMs} ms`);
  // `fault inject --for` never keeps a fault past its hold: its switch needs the margin only.
  const exact = createFaultContext({ stateDir: '/nonexistent', project: PROJECT, docker: {} } as unknown as AttachedStack, { holdMs, holdExtensionMs: 0 });
  t.is(exact.maxDurationMs, deadMansSwitchMs(holdMs, 0));
  t.true(exact.maxDurationMs >= holdMs + 10_000, `${exact.maxDurationMs} ms`);
  t.true(exact.maxDurationMs <= ctx.maxDurationMs - MAX_HOLD_EXTENSION_MS, `${exact.maxDurationMs} ms`);
});

test("item 2: records carry the holder's start time, and own: true is limited to this process", async (t) => {
  const ctx = await fakeContext(new FakeDocker());
  const def = flakyDefinition(0);
  const registry = new FaultRegistry([def]);
  const other: FaultRecord = {
    id: 'other-1',
    fault: 'flaky',
    stack: PROJECT,
    params: {},
    targets: [],
    slots: ['y'],
    steps: [],
    status: 'active',
    createdAt: '',
    pid: 1,
    hostname: hostname(),
    data: {},
  };
  await ctx.store.add(other);
  const summary = await revertRecorded(ctx, registry, { own: true });
  t.is(summary.skipped.length, 1, 'pid 1 is alive and not this process');
  t.is(def.reverts, 0);
});

test('item 6: `stack down` drops the fault records whose effect went with the stack, so later reverts do not fail on them', async (t) => {
  const { ReferenceStack } = await import('../../src/stack/reference-stack.js');
  const docker = Object.assign(new FakeDocker(), { ping: async () => undefined, listNetworks: async () => [], listVolumes: async () => [] });
  const home = await mkdtemp(join(tmpdir(), 'faultline-unit-'));
  const stack = new ReferenceStack({ home, project: PROJECT }, docker as never);
  // the stack's folder is <home>/<project>, where its fault records live
  const store = new FaultStore(stack.stateDir);
  await store.add(faultRecord());
  await stack.down({ forget: dropStackRecords });
  t.deepEqual(await store.list(), []);
});
