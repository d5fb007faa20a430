// No fault left behind by any path (issue 18): a revert takes only Docker's 404 for "gone", concurrent reverts
// agree, a partition cuts every address, and every fault kind carries a dead man's switch. On the fake Docker.

import test from 'ava';
import { FaultRegistry, injectFault, revertRecorded } from '../../src/faults/index.js';
import { firewallFaults } from '../../src/faults/firewall-faults.js';
import { networkFaults } from '../../src/faults/network-faults.js';
import { processFaults } from '../../src/faults/process-faults.js';
import { dockerError, FakeDocker, fakeContext, stackLabels } from '../helpers/fake-docker.js';

function servers(docker: FakeDocker) {
  const web1 = docker.add({ name: 'web1', labels: stackLabels('web1', 'host'), addresses: { flunit_internal: '10.0.0.21' } });
  const app = docker.add({ name: 'web1-app', labels: stackLabels('web1', 'app'), networkMode: `container:${web1.id}` });
  const lb = docker.add({ name: 'lb', labels: stackLabels('lb', 'host'), addresses: { flunit_internal: '10.0.0.10', flunit_edge: '10.0.1.10' } });
  return { web1, app, lb };
}

const registry = new FaultRegistry([...networkFaults, ...firewallFaults, ...processFaults]);

const cases: Array<{ fault: string; options: { target?: string; params?: Record<string, unknown> }; on: 'web1' | 'app' }> = [
  { fault: 'net-loss', options: { target: 'server=web1', params: { loss: '100%' } }, on: 'web1' },
  { fault: 'firewall-open-port', options: { target: 'server=web1' }, on: 'web1' },
  { fault: 'container-pause', options: { target: 'service=web1-app' }, on: 'app' },
];

for (const c of cases) {
  test(`issue 18 finding 2: ${c.fault}: a 500 from inspect during revert fails the revert and keeps the record (only a 404 means gone)`, async (t) => {
    const docker = new FakeDocker();
    const s = servers(docker);
    const ctx = await fakeContext(docker);
    const active = await injectFault(ctx, registry.configure(c.fault, c.options), AbortSignal.timeout(5000));
    const target = s[c.on];
    docker.inspectErrors.set(target.id, dockerError(500, 'dockerd is restarting'));

    const failed = await revertRecorded(ctx, registry, { all: true });
    t.is(failed.reverted.length, 0, 'not reported as reverted');
    t.is(failed.failed.length, 1);
    t.regex(failed.failed[0]!.error.message, /dockerd is restarting/);
    t.deepEqual(
      (await ctx.store.list()).map((r) => r.id),
      [active.id],
      'the record stays for the next revert',
    );
    if (c.fault === 'container-pause') t.is(s.app.state, 'paused', 'still frozen');
    if (c.fault === 'net-loss')
      t.true(
        [...docker.containers.values()].some((x) => x.labels['faultline.fault'] === active.id),
        'its dead man’s switch stays',
      );

    docker.inspectErrors.clear();
    const ok = await revertRecorded(ctx, registry, { all: true });
    t.deepEqual(ok.failed, []);
    t.is(ok.reverted.length, 1);
    t.deepEqual(await ctx.store.list(), []);
    t.is(s.app.state, 'running');
  });
}

test('issue 18 finding 2: a container that is really gone (404) still counts as reverted', async (t) => {
  const docker = new FakeDocker();
  const s = servers(docker);
  const ctx = await fakeContext(docker);
  await injectFault(ctx, registry.configure('firewall-open-port', { target: 'server=web1' }), AbortSignal.timeout(5000));
  docker.containers.delete(s.web1.id);
  const summary = await revertRecorded(ctx, registry, { all: true });
  t.deepEqual(summary.failed, []);
  t.is(summary.reverted.length, 1);
});

test('issue 18 finding 12: net-partition cuts every address of the other side, not only its internal one', async (t) => {
  const docker = new FakeDocker();
  servers(docker);
  const ctx = await fakeContext(docker);
  const active = await injectFault(ctx, registry.configure('net-partition', { params: { from: 'server=web1', to: 'server=lb' } }), AbortSignal.timeout(5000));
  const data = active.record.data as { servers: Array<{ server: string; effect: { peers: string[] } }> };
  t.deepEqual(
    data.servers.map((x) => x.server),
    ['web1'],
  );
  t.deepEqual(data.servers[0]!.effect.peers, ['10.0.0.10', '10.0.1.10'], 'the LB’s edge address is cut too');
  t.regex(active.record.steps.join('\n'), /lb \(10\.0\.0\.10, 10\.0\.1\.10\)/);
  await active.revert();
});

test('issue 18 finding 12: a process fault whose container another revert already started (docker start answers 304) is reverted', async (t) => {
  const docker = new FakeDocker();
  const s = servers(docker);
  const ctx = await fakeContext(docker);
  const active = await injectFault(ctx, registry.configure('container-kill', { target: 'service=web1-app' }), AbortSignal.timeout(5000));
  t.is(s.app.state, 'exited');
  docker.startedByOther.add(s.app.id);
  await t.notThrowsAsync(active.revert());
  t.true(docker.calls.includes(`start ${s.app.id}`), 'start was tried and answered 304');
  t.is(s.app.state, 'running');
  t.deepEqual(await ctx.store.list(), []);
});
