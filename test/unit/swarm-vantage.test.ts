// The swarm vantage's pure parts: which networks it joins, how it is started (loopback-only ports, helper labels, the
// operator's alias), the relay each port runs, how Docker's port list reads; and that the description takes `vantage:`
// on a swarm stack only; and that a swarm stack's containers leave out the exited ones of tasks Swarm shut down.

import test from 'ava';
import { parseStackSpec } from '../../src/stack/spec.js';
import { DockerClient, type ContainerSummary } from '../../src/stack/docker-client.js';
import { SwarmEngine } from '../../src/stack/swarm-engine.js';
import { listStackContainers } from '../../src/stack/stack-containers.js';
import { isLoopback, LEASE_LOOP, parsePorts, pickNetworks, relayCommand, runArgs, SLOT_BASE, SLOTS } from '../../src/swarm/vantage-plan.js';

const nets = [
  { name: 'fl-ref_edge', attachable: true, scope: 'swarm' },
  { name: 'fl-ref_internal', attachable: true, scope: 'swarm' },
  { name: 'fl-ref_private', attachable: false, scope: 'swarm' },
];

test('by default the vantage joins every attachable network, the internal one first', (t) => {
  t.deepEqual(pickNetworks(undefined, nets, 'fl-ref_internal', 'fl-ref'), ['fl-ref_internal', 'fl-ref_edge']);
  t.deepEqual(pickNetworks([], nets, 'fl-ref_internal', 'fl-ref'), ['fl-ref_internal', 'fl-ref_edge']);
});

test('declared networks must be attachable networks of the stack; none at all says how to make one', (t) => {
  t.deepEqual(pickNetworks(['fl-ref_edge'], nets, 'fl-ref_internal', 'fl-ref'), ['fl-ref_edge']);
  const bad = t.throws(() => pickNetworks(['fl-ref_private', 'other'], nets, 'fl-ref_internal', 'fl-ref'));
  t.is((bad as { code?: string }).code, 'INVALID_INPUT');
  t.regex(bad!.message, /stack\.vantage\.networks: fl-ref_private, other are not an attachable network of stack fl-ref/);
  const none = t.throws(() => pickNetworks(undefined, [nets[2]!], 'fl-ref_internal', 'fl-ref'));
  t.is((none as { code?: string }).code, 'UNKNOWN_TARGET');
  t.regex((none as { hint?: string }).hint ?? '', /attachable: true/);
});

test('the vantage is a labelled helper, published on 127.0.0.1 only, under the operator alias, running the lease', (t) => {
  const args = runArgs({
    name: 'fl-ref-vantage-1',
    image: 'img:1',
    project: 'fl-ref',
    network: 'fl-ref_internal',
    alias: 'faultline-operator',
    holder: '42 vm',
  });
  const value = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
  t.deepEqual(value('--publish'), [`127.0.0.1::${SLOT_BASE}-${SLOT_BASE + SLOTS - 1}`]);
  t.deepEqual(value('--network'), ['fl-ref_internal']);
  t.deepEqual(value('--network-alias'), ['faultline-operator']);
  t.deepEqual(value('--user'), ['65534:65534']);
  t.true(args.includes('--rm'));
  t.deepEqual(value('--label').sort(), [
    'faultline.component=vantage-operator',
    'faultline.helper=vantage',
    'faultline.holder=42 vm',
    'faultline.role=vantage',
    'faultline.stack=fl-ref',
  ]);
  t.deepEqual(args.slice(-5), ['--entrypoint', 'bash', 'img:1', '-c', LEASE_LOOP]);
});

test('a relay listens on its slot, dials one task address and serves only the bridge gateway', (t) => {
  const cmd = relayCommand(3, '10.213.27.9', 3306, '172.18.0.1');
  t.deepEqual(cmd.slice(0, 2), ['bash', '-c']);
  t.deepEqual(cmd.slice(-4), [String(SLOT_BASE + 3), '10.213.27.9', '3306', '172.18.0.1']);
  t.regex(cmd[4]!, /peerhost ne \$allow/);
});

test('docker port lines: loopback mappings only', (t) => {
  const ports = parsePorts('40000/tcp -> 127.0.0.1:49153\n40001/tcp -> 127.0.0.1:49154\n40002/tcp -> 0.0.0.0:49155\n\n');
  t.deepEqual(
    [...ports],
    [
      [40000, 49153],
      [40001, 49154],
    ],
  );
});

test('loopback hosts are dialled as they are', (t) => {
  t.true(isLoopback('127.0.0.1'));
  t.true(isLoopback('::1'));
  t.true(isLoopback('localhost'));
  t.false(isLoopback('10.213.27.5'));
});

const base = { project: 'p', endpoint: { url: 'https://127.0.0.1:8445', insecure: true } };

test('vantage: belongs to swarm descriptions, with the operator alias by default', (t) => {
  t.deepEqual(parseStackSpec({ ...base, kind: 'swarm', vantage: {} }, 'x.yaml').vantage, { alias: 'faultline-operator' });
  t.deepEqual(parseStackSpec({ ...base, kind: 'swarm', vantage: { networks: ['p_internal'], alias: 'ops' } }, 'x.yaml').vantage, {
    networks: ['p_internal'],
    alias: 'ops',
  });
  t.throws(() => parseStackSpec({ ...base, vantage: {} }, 'x.yaml'), { message: /a vantage is for a swarm stack/ });
  t.throws(() => parseStackSpec({ ...base, kind: 'swarm', vantage: { alias: 'Not A Name' } }, 'x.yaml'), { message: /a DNS name/ });
});

test('a swarm stack’s containers: its running tasks and what faultline started, not the exited containers of shut-down tasks', async (t) => {
  const c = (id: string, labels: Record<string, string>, state = 'running'): ContainerSummary => ({
    id,
    name: id,
    service: 'lb',
    stack: 'fl-ref',
    role: labels['faultline.role'],
    server: labels['faultline.server'],
    component: labels['faultline.component'],
    state,
    health: 'none',
    labels: { 'faultline.stack': 'fl-ref', ...labels },
    addresses: {},
    ports: [],
    networkMode: '',
    host: false,
  });
  const task = c('a1@vm', { 'com.docker.stack.namespace': 'fl-ref', 'faultline.component': 'host', 'faultline.server': 'lb', 'faultline.role': 'lb' });
  const oldTask = c('b2@vm', { 'com.docker.stack.namespace': 'fl-ref', 'faultline.component': 'host' }, 'exited');
  const vantage = c('c3@vm', { 'faultline.helper': 'vantage', 'faultline.role': 'vantage' });
  class Stub extends SwarmEngine {
    override stackContainers = async () => [{ ...task, server: 'lb', role: 'lb', component: 'host', host: true }];
    override listContainers = async () => [task, oldTask, vantage];
  }
  const spec = parseStackSpec({ kind: 'swarm', project: 'fl-ref', endpoint: { url: 'https://127.0.0.1:8445', insecure: true } }, 'x.yaml');
  const list = await listStackContainers(new Stub(new DockerClient(), {}), 'fl-ref', spec);
  t.deepEqual(list.map((x) => x.id).sort(), ['a1@vm', 'c3@vm']);
});
