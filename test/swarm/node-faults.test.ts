// Issue 20 item 3, node faults on the real swarm, on faultline-node-3 only (node-1 and node-2 are shared by other
// tests): node-partition cuts node-3 off the manager's overlay traffic and revert restores it, node-drain moves the
// fixture's app task off node-3 and revert restores the availability, node-down freeze outlives a SIGKILLed faultline
// until `faultline revert` unfreezes it. The fixture is the swarm stack fl-node (test/fixtures/swarm/fl-node-stack.yml),
// deployed here and removed after; node-3 is left up, ready and active.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { itest as test, repoRoot, runCli, sharedStack } from '../helpers/stack.js';
import { startCli } from '../helpers/faults.js';
import { attachStack } from '../../src/stack/attach.js';
import { resolveStackOptions } from '../../src/stack/config.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { DockerClient, LABEL } from '../../src/stack/docker-client.js';
import { nodeOfId } from '../../src/stack/engine.js';
import { readSwarmRecord } from '../../src/swarm/swarm-record.js';
import { shipImages } from '../../src/swarm/ship-images.js';
import { createFaultContext, defaultRegistry, injectFault } from '../../src/faults/index.js';
import { retryUntil } from '../../src/util/retry.js';

const run = promisify(execFile);
const NAME = 'fl-node';
const NODE = 'faultline-node-3';
const DESCRIPTION = 'test/fixtures/swarm/fl-node.stack.yaml';
const manager = new DockerClient();
let stack: AttachedStack;

const running = async (service: string) =>
  (await stack.containers()).filter((c) => c.service === service && c.state === 'running' && !c.labels[LABEL.helper]).map((c) => c.id);

/** web (on the manager) → app over the overlay: an HTTP status, 000 for none. */
async function appFromWeb(): Promise<string> {
  const [web] = await running('web');
  if (!web) return 'no web task';
  const res = await stack.docker.exec(web, ['curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', 'http://app:9100/metrics']);
  return res.stdout.trim();
}

const served = () => retryUntil(appFromWeb, (s) => s === '200', { timeoutMs: 60_000, intervalMs: 1_000, what: 'app to answer web' });
const node3 = async () => (await manager.swarm.nodes()).find((n) => n.hostname === NODE && n.state === 'ready');
const recorded = () => createFaultContext(stack).store.list();

/** The app task on node-3 again (spread puts a rescheduled task on node-3: the manager runs many more). */
async function appOnNode3(): Promise<void> {
  const where = async () => (await running('app')).map((id) => nodeOfId(id));
  if ((await where()).join() === NODE) return;
  await run('docker', ['service', 'update', '--force', '--detach', `${NAME}_app`]);
  await retryUntil(where, (n) => n.join() === NODE, { timeoutMs: 90_000, intervalMs: 2_000, what: `the app task on ${NODE}` });
  await served();
}

test.before(async () => {
  const up = await runCli(['swarm', 'up', '--nodes', '3'], { timeoutMs: 240_000 });
  if (up.code !== 0) throw new Error(`swarm up: ${up.stderr}`);
  const image = await (await sharedStack()).helperImage();
  const engines = (await readSwarmRecord(resolveStackOptions().home))!.engines;
  await shipImages(manager, { [NODE]: engines[NODE]! }, [image]);
  await run('docker', ['stack', 'deploy', '-c', 'test/fixtures/swarm/fl-node-stack.yml', NAME], {
    cwd: repoRoot,
    env: { ...process.env, FL_TASKS_IMAGE: image },
  });
  stack = await attachStack({ stackFile: DESCRIPTION });
  await retryUntil(
    async () => (await running('web')).length + (await running('app')).length,
    (n) => n === 2,
    {
      timeoutMs: 90_000,
      intervalMs: 2_000,
      what: 'both tasks running',
    },
  );
  await appOnNode3();
});

test.after.always(async () => {
  await runCli(['revert', '--all', '--stack', DESCRIPTION]);
  await run('docker', ['stack', 'rm', NAME]).catch(() => undefined);
});

async function inProcess(t: ExecutionContext, fault: string, params: Record<string, unknown>, during: () => Promise<void>): Promise<void> {
  const ctx = createFaultContext(stack, { log: (l) => t.log(l), holdMs: 120_000 });
  const active = await injectFault(ctx, defaultRegistry().configure(fault, { target: `node=${NODE}`, params }), AbortSignal.timeout(60_000));
  try {
    t.true((await active.check()).active);
    await during();
  } finally {
    await active.revert();
  }
  t.deepEqual(await recorded(), []);
}

test.serial('node-partition node-3 ↔ manager: web on the manager gets nothing from app on node-3; revert restores it', async (t) => {
  await appOnNode3();
  await inProcess(t, 'node-partition', { peer: 'manager' }, async () => {
    t.is(await appFromWeb(), '000');
    const rules = await manager.exec(NODE, ['iptables', '-S']);
    t.is(rules.stdout.split('\n').filter((l) => l.includes('--comment faultline-node-partition-')).length, 2, rules.stdout);
  });
  t.is(await served(), '200');
  const rules = await manager.exec(NODE, ['iptables', '-S']);
  t.false(rules.stdout.includes('faultline-node-partition-'), 'exactly those rules are gone');
});

test.serial('node-drain node-3: the app task moves off node-3 and keeps answering; revert restores the availability', async (t) => {
  await appOnNode3();
  await inProcess(t, 'node-drain', {}, async () => {
    t.is((await manager.swarm.nodes()).find((n) => n.hostname === NODE)?.availability, 'drain');
    const moved = await retryUntil(
      async () => (await running('app')).map((id) => nodeOfId(id)),
      (n) => n.length === 1 && n[0] !== NODE,
      { timeoutMs: 60_000, intervalMs: 2_000, what: 'the app task off node-3' },
    );
    t.log(`app moved to ${moved.join()}`);
    t.is(await served(), '200');
  });
  t.is((await node3())?.availability, 'active');
});

test.serial('node-down freeze, faultline SIGKILLed: node-3 stays frozen until `faultline revert` unfreezes it, ready again', async (t) => {
  const held = startCli(['fault', 'inject', 'node-down', '--target', `node=${NODE}`, '--param', 'mode=freeze', '--stack', DESCRIPTION, '--for', '120s']);
  t.teardown(() => void held.child.kill('SIGKILL'));
  await held.waitFor(/fault \S+ active after/, 60_000);
  held.child.kill('SIGKILL');
  t.is((await held.exited).signal, 'SIGKILL');
  t.true((await manager.inspect(NODE)).paused, 'the freeze outlived faultline');
  t.is((await recorded()).length, 1);
  const revert = await runCli(['revert', '--stack', DESCRIPTION]);
  t.is(revert.code, 0, revert.stderr);
  t.regex(revert.stdout, /^reverted /m);
  t.false((await manager.inspect(NODE)).paused);
  t.like(await node3(), { state: 'ready', availability: 'active' });
  t.deepEqual(await recorded(), []);
  t.deepEqual(await manager.listContainers({ [LABEL.stack]: NAME, [LABEL.fault]: undefined }), [], "the dead man's switch helper is gone");
});
