// Issue 20 item 1, the rules of `faultline swarm up|down` that need no engine: a swarm faultline did not make gets no
// node added and none removed; down removes exactly the workers up started; the engine leaves only a swarm faultline
// made, and only when asked (leaving drops every running container's network attachments on Docker 20.10).

import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultlineError } from '../../src/errors.js';
import { swarmDown, swarmUp } from '../../src/swarm/local-swarm.js';
import { nodeNames, readSwarmRecord, writeSwarmRecord } from '../../src/swarm/swarm-record.js';
import type { SwarmNode } from '../../src/stack/docker-swarm.js';

/** A swarm as the manager sees it, and what was asked of it. */
function fakeDocker(state: { active: boolean; nodes: SwarmNode[]; containers: Array<{ id: string; name: string; hostname: string }> }) {
  const calls: string[] = [];
  const docker = {
    swarm: {
      membership: async () => ({
        state: state.active ? 'active' : 'inactive',
        nodeId: 'm',
        isManager: state.active,
        nodeAddr: state.active ? '172.17.0.1' : '',
      }),
      nodes: async () => state.nodes,
      nodeContainers: async () => state.containers,
      removeNodeContainer: async (id: string) => void calls.push(`rm-container ${id}`),
      removeNode: async (id: string) => void calls.push(`rm-node ${id}`),
      leave: async () => void calls.push('leave'),
      init: async () => void calls.push('init'),
      bridgeGateway: async () => '172.17.0.1',
    },
  };
  return { docker: docker as never, calls };
}

const node = (hostname: string, role: 'manager' | 'worker' = 'worker'): SwarmNode => ({
  id: `id-${hostname}`,
  hostname,
  role,
  state: 'ready',
  availability: 'active',
  addr: '172.17.0.9',
  labels: {},
});
const home = () => mkdtemp(join(tmpdir(), 'faultline-swarm-'));

test('swarm up on a swarm faultline did not make: refused in one line, exit 3, nothing made and nothing recorded', async (t) => {
  const dir = await home();
  const { docker, calls } = fakeDocker({ active: true, nodes: [node('theirs', 'manager')], containers: [] });
  const err = await t.throwsAsync(swarmUp(docker, { nodes: 2, home: dir }), { instanceOf: FaultlineError });
  t.is(err!.code, 'SWARM_FAILED');
  t.is(err!.exitCode, 3);
  t.regex(err!.message, /already in a swarm faultline did not make/);
  t.deepEqual(calls, []);
  t.is(await readSwarmRecord(dir), undefined);
});

test('swarm up: the number of nodes is checked before anything is asked of the engine', async (t) => {
  const { docker, calls } = fakeDocker({ active: false, nodes: [], containers: [] });
  for (const n of [0, -1, 1.5, 9]) {
    const err = await t.throwsAsync(swarmUp(docker, { nodes: n, home: await home() }), { instanceOf: FaultlineError });
    t.is(err!.exitCode, 2);
    t.regex(err!.message, /^nodes: /);
  }
  t.deepEqual(calls, []);
});

test("swarm down without a record: removes faultline's labelled node containers, but no node entry of the swarm and never leaves it", async (t) => {
  const dir = await home();
  const { docker, calls } = fakeDocker({
    active: true,
    nodes: [node('theirs', 'manager'), node('their-worker')],
    containers: [{ id: 'c1', name: 'faultline-node-1', hostname: 'faultline-node-1' }],
  });
  const summary = await swarmDown(docker, dir, { leave: true });
  t.deepEqual(calls, ['rm-container c1']);
  t.false(summary.leftSwarm);
});

test('swarm down of a swarm faultline made: its workers and their entries go; the engine stays a one-node manager unless asked to leave', async (t) => {
  const dir = await home();
  await writeSwarmRecord(dir, {
    version: 1,
    madeSwarm: true,
    advertiseAddr: '172.17.0.1',
    nodes: nodeNames(2),
    engines: {},
    createdAt: new Date().toISOString(),
  });
  const state = {
    active: true,
    nodes: [node('vm', 'manager'), node('faultline-node-1'), node('faultline-node-2'), node('someone-else')],
    containers: nodeNames(2).map((h, i) => ({ id: `c${i + 1}`, name: h, hostname: h })),
  };
  const first = fakeDocker(state);
  const stayed = await swarmDown(first.docker, dir);
  t.deepEqual(first.calls, ['rm-container c1', 'rm-container c2', 'rm-node id-faultline-node-1', 'rm-node id-faultline-node-2']);
  t.false(stayed.leftSwarm);
  t.regex(stayed.stayed!, /drops the network attachments of every running container/);
  t.deepEqual((await readSwarmRecord(dir))?.nodes, [], 'the record stays (faultline made this swarm) with no workers');

  const second = fakeDocker({ ...state, nodes: [node('vm', 'manager')], containers: [] });
  const left = await swarmDown(second.docker, dir, { leave: true });
  t.deepEqual(second.calls, ['leave']);
  t.true(left.leftSwarm);
  t.is(await readSwarmRecord(dir), undefined);
});
