// A swarm stack's tasks: the description's kind and engines, the pure mapping of the manager's task list to
// containers, the engine that routes each call on a task to its node's engine (with fake engines), and the fault
// record that names the node, so that a fresh process reverts through the same engine.

import test from 'ava';
import { parseStackSpec } from '../../src/stack/spec.js';
import type { DockerClient } from '../../src/stack/docker-client.js';
import type { SwarmTask } from '../../src/stack/docker-swarm.js';
import type { ContainerSummary, RunOptions } from '../../src/stack/docker-types.js';
import { nodeOfId, splitId, taskContainerId } from '../../src/stack/engine.js';
import { SwarmEngine } from '../../src/stack/swarm-engine.js';
import { shortServiceName, tasksToContainers } from '../../src/stack/swarm-tasks.js';
import { withRoles } from '../../src/stack/stack-containers.js';
import { belongsToStack, toRef } from '../../src/faults/targets.js';
import { switchGroups, taskSlot, taskSteps } from '../../src/faults/task-process.js';
import { faultRecordSchema } from '../../src/faults/types.js';

const C1 = 'a'.repeat(64);
const C2 = 'b'.repeat(64);
const C3 = 'c'.repeat(64);

const described = (extra: Record<string, unknown>) => ({ project: 'fl-tasks', endpoint: { url: 'http://127.0.0.1:9/' }, ...extra });

test('a description is compose unless it says kind: swarm; engines belong to a swarm and are DOCKER_HOST-style endpoints', (t) => {
  t.is(parseStackSpec(described({}), '<inline>').kind, 'compose');
  const swarm = parseStackSpec(described({ kind: 'swarm', engines: { 'worker-1': 'ssh://admin@worker-1', 'worker-2': 'unix:///run/w2.sock' } }), '<inline>');
  t.is(swarm.kind, 'swarm');
  t.deepEqual(swarm.engines, { 'worker-1': 'ssh://admin@worker-1', 'worker-2': 'unix:///run/w2.sock' });
  const compose = t.throws(() => parseStackSpec(described({ engines: { w: 'unix:///x' } }), '<inline>'));
  t.regex(compose!.message, /engines.*kind: swarm/s);
  const bad = t.throws(() => parseStackSpec(described({ kind: 'swarm', engines: { w: 'http://w:2375' } }), '<inline>'));
  t.regex(bad!.message, /engines\.w.*unix:\/\/, tcp:\/\/ or ssh:\/\//s);
  t.throws(() => parseStackSpec(described({ kind: 'kubernetes' }), '<inline>'));
});

test('ids: a task is <container id>@<node>; a plain container id, or a name, has no node', (t) => {
  t.is(taskContainerId(C1, 'faultline-node-1'), `${C1}@faultline-node-1`);
  t.deepEqual(splitId(`${C1}@faultline-node-1`), { container: C1, node: 'faultline-node-1' });
  t.deepEqual(splitId(C1), { container: C1, node: undefined });
  t.deepEqual(splitId('web1-nginx'), { container: 'web1-nginx', node: undefined });
  t.is(nodeOfId(`${C1.slice(0, 12)}@vm`), 'vm');
  t.is(shortServiceName('fl-tasks', 'fl-tasks_app'), 'app');
  t.is(shortServiceName('fl-tasks', 'other_app'), 'other_app');
});

const task = (over: Partial<SwarmTask>): SwarmTask => ({
  id: 't1',
  service: 'fl-tasks_app',
  slot: 1,
  nodeId: 'N1',
  state: 'running',
  desiredState: 'running',
  containerId: C1,
  labels: { 'com.docker.stack.namespace': 'fl-tasks' },
  addresses: { 'fl-tasks_back': '10.0.1.5' },
  ...over,
});

const summary = (id: string, over: Partial<ContainerSummary> = {}): ContainerSummary => ({
  id,
  name: 'fl-tasks_app.1.t1',
  service: '',
  stack: undefined,
  role: undefined,
  server: undefined,
  component: 'image-host',
  state: 'running',
  health: 'healthy',
  labels: { 'com.docker.stack.namespace': 'fl-tasks', 'faultline.component': 'image-host' },
  addresses: {},
  ports: [],
  networkMode: 'default',
  host: false,
  ...over,
});

test("the manager's task list becomes the stack's containers: running tasks by service and node, state from the node's engine", (t) => {
  const tasks = [
    task({}),
    task({ id: 't2', service: 'fl-tasks_web', nodeId: 'M', containerId: C2, addresses: { 'fl-tasks_back': '10.0.1.6' } }),
    // History (shut down), and a task still being scheduled (no container yet), are not containers of the stack.
    task({ id: 't0', desiredState: 'shutdown', state: 'failed', containerId: C3 }),
    task({ id: 't3', service: 'fl-tasks_web', slot: 2, state: 'pending', containerId: '' }),
  ];
  const hostnames = new Map([
    ['N1', 'faultline-node-1'],
    ['M', 'vm'],
  ]);
  // The manager's engine did not answer: its task is still listed, from the task itself.
  const onNode = new Map<string, ContainerSummary[] | undefined>([
    ['faultline-node-1', [summary(C1)]],
    ['vm', undefined],
  ]);
  const list = tasksToContainers('fl-tasks', tasks, hostnames, onNode);
  t.deepEqual(
    list.map((c) => [c.service, c.id, c.state, c.health, c.addresses['fl-tasks_back']]),
    [
      ['app', `${C1}@faultline-node-1`, 'running', 'healthy', '10.0.1.5'],
      ['web', `${C2}@vm`, 'running', 'none', '10.0.1.6'],
    ],
  );
  // Roles come from the description, not from a label the image carries.
  t.is(list[0]!.component, undefined);
  const spec = parseStackSpec(described({ kind: 'swarm', services: { app: { role: 'app', component: 'exporter' } } }), '<inline>');
  const roled = withRoles(list, spec);
  t.deepEqual([roled[0]!.role, roled[0]!.server, roled[0]!.component, roled[0]!.host], ['app', 'app', 'exporter', true]);
});

interface Call {
  engine: string;
  op: string;
  arg: unknown;
}

/** A fake engine: records each call with the id it was given. */
function fakeEngine(name: string, calls: Call[], extra: Partial<Record<string, unknown>> = {}): DockerClient {
  const rec =
    (op: string, result: unknown = undefined) =>
    async (arg: unknown) => {
      calls.push({ engine: name, op, arg });
      return result;
    };
  return {
    kill: rec('kill'),
    stop: rec('stop'),
    exec: rec('exec', { exitCode: 0, stdout: '', stderr: '' }),
    inspect: async (id: string) => {
      calls.push({ engine: name, op: 'inspect', arg: id });
      return {
        id,
        name: 'x',
        image: 'img',
        labels: {},
        status: 'running',
        running: true,
        paused: false,
        health: 'none',
        startedAt: '',
        exitCode: 0,
        networkMode: `container:${C3}`,
        pid: 1,
      };
    },
    runDetached: async (o: RunOptions) => {
      calls.push({ engine: name, op: 'runDetached', arg: o.networkMode });
      return C3;
    },
    listContainers: async () => [summary(C1)],
    ...extra,
  } as unknown as DockerClient;
}

function swarmOf(calls: Call[]): { engine: SwarmEngine; opened: string[] } {
  const opened: string[] = [];
  const manager = fakeEngine('manager', calls, {
    swarm: {
      membership: async () => ({ state: 'active', nodeId: 'M', isManager: true, nodeAddr: '' }),
      nodes: async () => [
        { id: 'M', hostname: 'vm' },
        { id: 'N1', hostname: 'faultline-node-1' },
      ],
      stackTasks: async () => [task({})],
    },
  });
  const engine = new SwarmEngine(manager, { 'faultline-node-1': 'unix:///n1.sock' }, (endpoint) => {
    opened.push(endpoint);
    return fakeEngine(endpoint, calls);
  });
  return { engine, opened };
}

test("each call on a task goes to the engine of its node, with the node's own container id; the manager's node is the manager", async (t) => {
  const calls: Call[] = [];
  const { engine, opened } = swarmOf(calls);
  await engine.kill(`${C1}@faultline-node-1`, 'SIGKILL');
  await engine.stop(`${C1}@faultline-node-1`, 2);
  await engine.exec(`${C2}@vm`, ['true']);
  const info = await engine.inspect(`${C1}@faultline-node-1`);
  t.deepEqual(
    calls.map((c) => [c.engine, c.op, c.arg]),
    [
      ['unix:///n1.sock', 'kill', C1],
      ['unix:///n1.sock', 'stop', C1],
      ['manager', 'exec', C2],
      ['unix:///n1.sock', 'inspect', C1],
    ],
  );
  t.deepEqual(opened, ['unix:///n1.sock'], "a node's engine is opened once");
  // What the node says comes back in the stack's ids.
  t.is(info.id, `${C1}@faultline-node-1`);
  t.is(info.networkMode, `container:${C3}@faultline-node-1`);
  t.is(await engine.socketFor(`${C1}@faultline-node-1`), '/var/run/docker.sock');
  t.is(await engine.socketFor(`${C2}@vm`), undefined, "the manager's socket is the one DOCKER_HOST names");
});

test('a helper starts on the node of the task whose namespace it joins (or that it is near), and its id names that node', async (t) => {
  const calls: Call[] = [];
  const { engine } = swarmOf(calls);
  const base = { image: 'img', cmd: [], labels: {} };
  t.is(await engine.runDetached({ ...base, networkMode: `container:${C1}@faultline-node-1` }), `${C3}@faultline-node-1`);
  t.is(await engine.runDetached({ ...base, networkMode: 'none', near: `${C1}@faultline-node-1` }), `${C3}@faultline-node-1`);
  t.is(await engine.runDetached({ ...base, networkMode: 'none' }), `${C3}@vm`);
  t.deepEqual(
    calls.map((c) => [c.engine, c.arg]),
    [
      ['unix:///n1.sock', `container:${C1}`],
      ['unix:///n1.sock', 'none'],
      ['manager', 'none'],
    ],
  );
});

test('a task on a node whose engine is not known is refused in one line naming the node and where to give it', async (t) => {
  const { engine } = swarmOf([]);
  const err = await t.throwsAsync(engine.kill(`${C1}@worker-9`));
  t.is((err as { code?: string }).code, 'INVALID_INPUT');
  t.regex(err!.message, /no engine known for swarm node worker-9 \(known: faultline-node-1\)/);
});

test("the stack's containers: the manager's tasks, with state from each node's engine; labels ask every engine", async (t) => {
  const { engine } = swarmOf([]);
  const list = await engine.stackContainers('fl-tasks');
  t.deepEqual(
    list.map((c) => [c.service, c.id]),
    [['app', `${C1}@faultline-node-1`]],
  );
  const labelled = await engine.listContainers({ 'faultline.stack': 'fl-tasks' });
  t.deepEqual(
    labelled.map((c) => c.id),
    [`${C1}@vm`, `${C1}@faultline-node-1`],
  );
});

test("a fault's record names the node of each task it acts on (TargetRef.node and the id), and reads back", (t) => {
  const ref = toRef(summary(`${C1}@faultline-node-1`, { service: 'app', server: 'app' }));
  t.is(ref.node, 'faultline-node-1');
  t.is(ref.id, `${C1}@faultline-node-1`);
  t.false('node' in toRef(summary(C1)), 'a compose container has no node: its record is as before');
  const record = {
    id: 'container-kill-x',
    fault: 'container-kill',
    stack: 'fl-tasks',
    params: {},
    targets: [ref],
    slots: [],
    steps: [],
    status: 'active',
    createdAt: '',
    pid: 1,
    hostname: 'h',
    data: {},
  };
  t.deepEqual(faultRecordSchema.parse(JSON.parse(JSON.stringify(record))).targets[0], ref);
});

test("a process fault's dead man's switch: one helper per node, bare ids; a task is never started again (the swarm replaces it)", (t) => {
  const planned = (id: string, dependents: string[] = []) => ({ id, name: id.slice(0, 4), wasRunning: true, wasPaused: false, dependents });
  // Compose: one group, as before (start, unpause, restart the namespace's dependents).
  t.deepEqual(switchGroups([planned(C1, [C3]), planned(C2)], false), [
    {
      first: C1,
      undo: [
        { id: C1, unpause: true, start: true, restart: [C3] },
        { id: C2, unpause: true, start: true, restart: [] },
      ],
    },
  ]);
  // Swarm: a group per node, each with its node's own container ids, nothing started.
  t.deepEqual(switchGroups([planned(`${C1}@n1`), planned(`${C2}@n2`), planned(`${C3}@n1`)], false), [
    {
      first: `${C1}@n1`,
      undo: [
        { id: C1, unpause: true, start: false, restart: [] },
        { id: C3, unpause: true, start: false, restart: [] },
      ],
    },
    { first: `${C2}@n2`, undo: [{ id: C2, unpause: true, start: false, restart: [] }] },
  ]);
  t.regex(taskSteps('restart', 'app', 2).join('\n'), /stop \(SIGTERM.*not restarted in place.*old container is not started/s);
  t.deepEqual(taskSteps('pause', 'app', 2).at(-1), 'revert: unpause');
});

test("a swarm task belongs to the stack by its stack namespace; a compose stack's check is as before", (t) => {
  const labels = { 'com.docker.stack.namespace': 'fl-tasks' };
  t.true(belongsToStack(labels, 'fl-tasks', true));
  t.false(belongsToStack(labels, 'fl-tasks'), 'a compose stack does not take a swarm namespace for its project');
  t.true(belongsToStack({ 'com.docker.compose.project': 'shop' }, 'shop'));
  t.false(belongsToStack({ 'com.docker.compose.project': 'shop' }, 'shop', true));
  t.true(belongsToStack({ 'faultline.stack': 'fl-tasks' }, 'fl-tasks', true));
});

test('a node whose engine does not answer fails a listing by label in one line naming the node and its endpoint', async (t) => {
  const manager = swarmOf([]).engine.manager;
  const engine = new SwarmEngine(manager, { 'faultline-node-1': 'unix:///gone.sock' }, () =>
    fakeEngine('gone', [], { listContainers: async () => Promise.reject(new Error('connect ENOENT /gone.sock')) }),
  );
  const err = await t.throwsAsync(engine.listContainers({ 'faultline.stack': 'fl-tasks' }));
  t.is((err as { code?: string }).code, 'DOCKER_UNAVAILABLE');
  t.regex(err!.message, /swarm node faultline-node-1 \(unix:\/\/\/gone\.sock\) does not answer: connect ENOENT/);
  // Its tasks are still listed (state from the manager): acting on one is what fails.
  t.deepEqual(
    (await engine.stackContainers('fl-tasks')).map((c) => [c.id, c.health]),
    [[`${C1}@faultline-node-1`, 'none']],
  );
});

test("a task's slot, from its container's name: the one its replacement fills (not another replica's)", (t) => {
  t.is(taskSlot('fl-tasks_app.1.3momcn6ll4ejsgpo5h687nnx5'), 'fl-tasks_app.1');
  t.is(taskSlot('fl-tasks_app.2.yqdnduhd8901q7q9b4wh6kh1h'), 'fl-tasks_app.2');
  // A global service's task is named by its node's id.
  t.is(taskSlot('mon_agent.wfgkfq15yxeaigpn6kcn96z9n.b0c49p5h4gjan6k7fb4dia0yf'), 'mon_agent.wfgkfq15yxeaigpn6kcn96z9n');
  t.is(taskSlot('app'), undefined);
});
