// The swarm reference stack's pure parts: the manager's task list, readiness, what each worker is shipped, and the
// placement table held together with the stack file's constraints.

import test from 'ava';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { notRunning, parseTasks, swarmStackOptions } from '../../src/swarm/reference-swarm.js';
import { kindsIn, orderWorkers, SERVERS, shipPlan, swarmStackFile } from '../../src/swarm/swarm-images.js';
import { formatTasks } from '../../src/cli/commands/swarm-stack.js';

const line = (...f: string[]) => f.join('\t');
const ps = [
  line('t1', 'fl-ref_lb.1', 'vm', 'Running', 'Running 5 seconds ago', ''),
  line('t2', 'fl-ref_web1.1', 'node-1', 'Running', 'Starting 3 seconds ago', ''),
  line('t3', ' \\_ fl-ref_web1.1', 'node-1', 'Shutdown', 'Failed 9 seconds ago', '"task: non-zero exit (1)"'),
  line('t4', 'fl-ref_db-primary.1', 'vm', 'Running', 'Running 1 second ago', ''),
].join('\n');

test('parseTasks names each task by server, without the stack prefix, the slot or the history marker', (t) => {
  const tasks = parseTasks(`${ps}\n`, 'fl-ref');
  t.deepEqual(
    tasks.map((x) => [x.server, x.node, x.desired, x.state]),
    [
      ['lb', 'vm', 'running', 'running'],
      ['web1', 'node-1', 'running', 'starting'],
      ['web1', 'node-1', 'shutdown', 'failed'],
      ['db-primary', 'vm', 'running', 'running'],
    ],
  );
  t.is(tasks[2]!.error, '"task: non-zero exit (1)"');
});

test('notRunning lists every server without a running task, with its state', (t) => {
  const waiting = notRunning(parseTasks(ps, 'fl-ref'));
  t.deepEqual(waiting, ['web1: starting', 'web2: no task', 'web3: no task', 'db-replica: no task', 'monitor: no task']);
  const all = Object.keys(SERVERS).map((s, i) => line(`id${i}`, `fl-ref_${s}.1`, 'vm', 'Running', 'Running now', ''));
  t.deepEqual(notRunning(parseTasks(all.join('\n'), 'fl-ref')), []);
});

test('each worker is shipped only the images of the servers placed on it', (t) => {
  const tags = { lb: 'l', web: 'w', db: 'd', monitor: 'm' };
  t.deepEqual(shipPlan({ A: 'node-1', B: 'node-2' }, tags), { 'node-1': ['w'], 'node-2': ['w', 'd'] });
  t.deepEqual(kindsIn('manager').sort(), ['db', 'lb', 'monitor', 'web']);
});

test('the placement table is the stack file’s: manager role or worker A/B by hostname, web1-3 on three slots', async (t) => {
  const file = parse(await readFile(swarmStackFile, 'utf8')) as { services: Record<string, { deploy: { placement: { constraints: string[] } } }> };
  t.deepEqual(Object.keys(file.services).sort(), Object.keys(SERVERS).sort());
  for (const [server, { slot }] of Object.entries(SERVERS)) {
    const constraints = file.services[server]!.deploy.placement.constraints;
    const want = slot === 'manager' ? 'node.role == manager' : `node.hostname == \${FAULTLINE_SWARM_NODE_${slot}`;
    t.true(
      constraints.some((c) => c.startsWith(want)),
      `${server}: ${constraints.join(', ')}`,
    );
  }
  t.is(new Set(['web1', 'web2', 'web3'].map((w) => SERVERS[w]!.slot)).size, 3);
});

test('swarm stack options default apart from the compose profiles and refuse a bad port or name', (t) => {
  const o = swarmStackOptions({}, {});
  t.like(o, { project: 'fl-ref', httpsPort: 8445, httpPort: 8082, netPrefix: '10.213.27' });
  t.throws(() => swarmStackOptions({ httpsPort: 70000 }, {}), { message: /https-port/ });
  t.throws(() => swarmStackOptions({ project: 'Bad Name' }, {}), { message: /project/ });
});

test('formatTasks prints each running server with its node', (t) => {
  t.is(
    formatTasks(parseTasks(ps, 'fl-ref')),
    '  lb          vm                  running\n  web1        node-1              starting\n  db-primary  vm                  running',
  );
});

test('orderWorkers: faultline’s workers in the order it made them, then any other by name', (t) => {
  t.deepEqual(orderWorkers(['zeta', 'faultline-node-2', 'alpha', 'faultline-node-1'], ['faultline-node-1', 'faultline-node-2']), [
    'faultline-node-1',
    'faultline-node-2',
    'alpha',
    'zeta',
  ]);
  t.deepEqual(orderWorkers(['b', 'a'], []), ['a', 'b']);
});
