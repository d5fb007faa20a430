// Node faults (issue 20 item 3), pure parts and planning on a fake manager: the node=<hostname> target, refusing a node
// faultline did not start, and the iptables rules of a partition, which revert and the switch delete exactly.

import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOwnNode, nodeFaults, partitionRules, partitionUndo, targetNode } from '../../src/faults/node-faults.js';
import { parseTarget, select } from '../../src/faults/targets.js';
import { FaultlineError } from '../../src/errors.js';
import { SwarmEngine } from '../../src/stack/swarm-engine.js';
import type { DockerClient } from '../../src/stack/docker-client.js';
import type { ContainerSummary } from '../../src/stack/docker-types.js';
import type { FaultContext } from '../../src/faults/types.js';
import { writeSwarmRecord, type SwarmRecord } from '../../src/swarm/swarm-record.js';

const record: SwarmRecord = {
  version: 1,
  madeSwarm: true,
  advertiseAddr: '172.17.0.1',
  nodes: ['faultline-node-1', 'faultline-node-3'],
  engines: {},
  createdAt: '2026-12-06T00:00:00.000Z',
};

test('node=<hostname> parses as a target term and selects the tasks on that node', (t) => {
  const sel = parseTarget('all:node=faultline-node-3');
  t.deepEqual(sel.match, [['node', 'faultline-node-3']]);
  const tasks = [
    { id: `${'a'.repeat(64)}@faultline-node-3`, name: 'x', service: 'app' },
    { id: `${'b'.repeat(64)}@vm`, name: 'y', service: 'web' },
  ] as ContainerSummary[];
  t.deepEqual(
    select(tasks, sel, () => 0).map((c) => c.service),
    ['app'],
  );
});

test('a node fault takes exactly one node=<hostname>', (t) => {
  t.is(targetNode('node-down', 'node=faultline-node-3'), 'faultline-node-3');
  for (const bad of [undefined, 'service=app', 'all:node=faultline-node-3', 'node=faultline-node-3,service=app', 'faultline-node-3']) {
    const err = t.throws(() => targetNode('node-down', bad));
    t.is((err as FaultlineError).code, 'INVALID_INPUT', String(bad));
  }
});

test("a node that is not one of faultline's own is refused by name, exit 2", (t) => {
  t.notThrows(() => assertOwnNode(record, 'faultline-node-3'));
  for (const [rec, node] of [
    [record, 'worker-7'],
    [undefined, 'faultline-node-3'],
  ] as const) {
    const err = t.throws(() => assertOwnNode(rec, node)) as FaultlineError;
    t.is(err.code, 'UNSAFE_TARGET');
    t.is(err.exitCode, 2);
    t.regex(err.message, new RegExp(`node ${node} is not a node faultline runs`));
  }
});

test('the partition drops both ways to the peer, marked with the fault id; the undo deletes every copy of exactly those rules', (t) => {
  const rules = partitionRules('node-partition-abc-123', '172.17.0.1');
  t.deepEqual(rules, [
    ['INPUT', '-s', '172.17.0.1', '-m', 'comment', '--comment', 'faultline-node-partition-abc-123', '-j', 'DROP'],
    ['OUTPUT', '-d', '172.17.0.1', '-m', 'comment', '--comment', 'faultline-node-partition-abc-123', '-j', 'DROP'],
  ]);
  t.is(
    partitionUndo(rules),
    'while iptables -D INPUT -s 172.17.0.1 -m comment --comment faultline-node-partition-abc-123 -j DROP 2>/dev/null; do :; done; ' +
      'while iptables -D OUTPUT -d 172.17.0.1 -m comment --comment faultline-node-partition-abc-123 -j DROP 2>/dev/null; do :; done',
  );
  t.throws(() => partitionRules('x', '172.17.0.1; rm -rf /'));
  t.throws(() => partitionRules('Bad Id', '172.17.0.1'));
});

async function fakeContext(): Promise<FaultContext> {
  const home = await mkdtemp(join(tmpdir(), 'fl-node-'));
  await writeSwarmRecord(home, record);
  const manager = {
    swarm: {
      nodeContainers: async () => [{ id: 'c3'.padEnd(64, '0'), name: 'faultline-node-3', hostname: 'faultline-node-3' }],
      nodes: async () => [
        { id: 'n3', hostname: 'faultline-node-3', role: 'worker', state: 'ready', availability: 'active', addr: '172.17.0.4', labels: {} },
        { id: 'n1', hostname: 'faultline-node-1', role: 'worker', state: 'ready', availability: 'pause', addr: '172.17.0.2', labels: {} },
      ],
    },
  } as unknown as DockerClient;
  return { stack: { options: { home } }, docker: new SwarmEngine(manager, {}), log: () => undefined } as unknown as FaultContext;
}

const fault = (name: string) => nodeFaults.find((f) => f.name === name)!;
const signal = new AbortController().signal;

test('planning: drain records the availability to restore, partition the peer address, and a foreign node is refused', async (t) => {
  const ctx = await fakeContext();
  const drain = await fault('node-drain').plan(ctx, 'node=faultline-node-3', {}, signal);
  t.like(drain.data, { node: 'faultline-node-3', availability: 'active' });
  t.deepEqual(drain.slots, ['node:faultline-node-3']);
  const toManager = await fault('node-partition').plan(ctx, 'node=faultline-node-3', { peer: 'manager' }, signal);
  t.deepEqual(toManager.data.peer, { name: 'manager', addr: '172.17.0.1' });
  const toNode = await fault('node-partition').plan(ctx, 'node=faultline-node-3', { peer: 'faultline-node-1' }, signal);
  t.deepEqual(toNode.data.peer, { name: 'faultline-node-1', addr: '172.17.0.2' });
  await t.throwsAsync(fault('node-partition').plan(ctx, 'node=faultline-node-3', { peer: 'faultline-node-3' }, signal), { message: /from itself/ });
  await t.throwsAsync(fault('node-drain').plan(ctx, 'node=worker-7', {}, signal), { message: /node worker-7 is not a node faultline runs/ });
  await t.throwsAsync(fault('node-down').plan(ctx, 'node=faultline-node-2', { mode: 'freeze' }, signal), {
    message: /faultline-node-2 is not a node faultline runs/,
  });
  const freeze = await fault('node-down').plan(ctx, 'node=faultline-node-3', { mode: 'freeze' }, signal);
  t.like(freeze.data, { mode: 'freeze', images: [] });
});
