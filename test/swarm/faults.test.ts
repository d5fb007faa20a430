// Issue 20 items 2 and 3 on the real swarm: a user's swarm stack attached through its description (kind: swarm), its
// tasks found by service and node, and faults acting on the task that runs on the worker faultline-node-1 through that
// node's own engine — seen from the web task on the manager, reverted, also by `faultline revert` after faultline was
// SIGKILLed mid-fault. The fixture is the swarm stack fl-tasks (test/fixtures/swarm/), deployed here and removed after.

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
const NAME = 'fl-tasks';
const NODE = 'faultline-node-1';
const DESCRIPTION = 'test/fixtures/swarm/fl-tasks.stack.yaml';
const manager = new DockerClient();
let stack: AttachedStack;

/** The running task of a service: its id (`<container>@<node>`). */
async function taskOf(service: string): Promise<string> {
  const found = (await stack.containers()).filter((c) => c.service === service && c.state === 'running' && !c.labels[LABEL.helper]);
  if (found.length !== 1) throw new Error(`${service}: ${found.length} running tasks`);
  return found[0]!.id;
}

/**
 * What the web task (on the manager) gets from the app task (on the worker) over the overlay: an HTTP status, 000 for
 * none. 9100 is open; the app's own firewall refuses 9101.
 */
async function appFromWeb(port = 9100): Promise<string> {
  const res = await stack.docker.exec(await taskOf('web'), ['curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://app:${port}/metrics`]);
  return res.stdout.trim();
}

/** Fault helpers of this stack on every engine of the swarm (the worker's included). */
async function helpers(): Promise<string[]> {
  return (await stack.docker.listContainers({ [LABEL.stack]: NAME, [LABEL.fault]: undefined })).map((c) => c.id);
}

async function recorded(): Promise<Array<{ fault: string; targets: Array<{ node?: string }> }>> {
  return createFaultContext(stack).store.list();
}

const served = () => retryUntil(appFromWeb, (s) => s === '200', { timeoutMs: 60_000, intervalMs: 1_000, what: 'app to answer web' });

test.before(async () => {
  const up = await runCli(['swarm', 'up', '--nodes', '2'], { timeoutMs: 240_000 });
  if (up.code !== 0) throw new Error(`swarm up: ${up.stderr}`);
  // The reference stack's host image (nft, curl, sh): on the manager already, shipped to the worker (no registry).
  const image = await (await sharedStack()).helperImage();
  const engines = (await readSwarmRecord(resolveStackOptions().home))!.engines;
  await shipImages(manager, { [NODE]: engines[NODE]! }, [image]);
  await run('docker', ['stack', 'deploy', '-c', 'test/fixtures/swarm/docker-stack.yml', NAME], {
    cwd: repoRoot,
    env: { ...process.env, FL_TASKS_IMAGE: image },
  });
  stack = await attachStack({ stackFile: DESCRIPTION });
  await retryUntil(
    async () => (await stack.containers()).filter((c) => c.state === 'running').map((c) => c.service),
    (s) => s.includes('app') && s.includes('web'),
    { timeoutMs: 90_000, intervalMs: 1_000, what: 'both tasks running' },
  );
  await served();
});

test.after.always(async () => {
  await runCli(['revert', '--all', '--stack', DESCRIPTION]);
  await run('docker', ['stack', 'rm', NAME]).catch(() => undefined);
});

test.serial("attached through its description: each service's task found with its node, the app's on the worker", async (t) => {
  const list = (await stack.containers()).filter((c) => !c.labels[LABEL.helper]);
  const app = list.find((c) => c.service === 'app')!;
  t.is(nodeOfId(app.id), NODE);
  t.deepEqual([app.role, app.server, app.host], ['app', 'app', true]);
  t.truthy(app.addresses[`${NAME}_back`], 'its address on the overlay network');
  t.is((await stack.docker.inspect(app.id)).running, true, "inspected through the worker's engine");
});

/** One fault in this process: in effect (seen by the probe), reverted, nothing left. */
async function roundTrip(
  t: ExecutionContext,
  fault: string,
  target: string | undefined,
  params: Record<string, unknown>,
  seen: (s: string) => boolean,
  port = 9100,
) {
  const ctx = createFaultContext(stack, { log: (l) => t.log(l), holdMs: 60_000 });
  const configured = defaultRegistry().configure(fault, { target, params });
  const active = await injectFault(ctx, configured, AbortSignal.timeout(60_000));
  try {
    t.true(
      active.record.targets.some((r) => r.node === NODE),
      `the record names the node: ${JSON.stringify(active.record.targets)}`,
    );
    t.is((await recorded())[0]?.targets.find((r) => r.node)?.node, NODE, 'and so does the record on disk');
    t.true((await active.check()).active);
    const status = await appFromWeb(port);
    t.true(seen(status), `web → app:${port} during ${fault}: ${status}`);
  } finally {
    await active.revert();
  }
  t.is(await served(), '200');
  t.deepEqual(await helpers(), [], 'no helper left on any node');
  t.deepEqual(await recorded(), []);
}

test.serial('container-kill on the worker task: the app stops answering web, the swarm replaces it there, revert waits for it', async (t) => {
  const before = await taskOf('app');
  const started = Date.now();
  await roundTrip(t, 'container-kill', 'service=app', {}, (s) => s !== '200');
  const after = await taskOf('app');
  t.not(after, before, 'a new task (a new container)');
  t.is(nodeOfId(after), NODE, 'on the node its constraint names');
  t.false((await stack.docker.inspect(before)).running, 'the old container was not started again');
  t.log(`kill → replacement task healthy and reverted in ${((Date.now() - started) / 1000).toFixed(1)} s (restart_policy delay 5 s)`);
});

test.serial('net-loss 100% and net-partition on the worker task: web gets nothing from app, and everything back on revert', async (t) => {
  await roundTrip(t, 'net-loss', 'service=app', { loss: 100 }, (s) => s === '000');
  await roundTrip(t, 'net-partition', undefined, { from: 'service=app', to: 'service=web' }, (s) => s === '000');
  const tables = await stack.docker.exec(await taskOf('app'), ['nft', 'list', 'tables']);
  t.notRegex(tables.stdout, /table inet fl_(?!tasks\b)/, 'no table of faultline left in the task (fl_tasks is its own firewall)');
});

test.serial("firewall-open-port on the worker task: its own firewall's closed port answers web, and the exact table comes back", async (t) => {
  const table = async () => (await stack.docker.exec(await taskOf('app'), ['nft', 'list', 'table', 'inet', 'fl_tasks'])).stdout;
  const before = await table();
  t.is(await appFromWeb(9101), '000', 'closed by the firewall before');
  await roundTrip(t, 'firewall-open-port', 'service=app', { port: 9101 }, (s) => s === '200', 9101);
  t.is(await appFromWeb(9101), '000', 'closed again');
  t.is(await table(), before, 'the same table');
});

test.serial('net-latency refuses on this kernel, naming the missing netem, and leaves nothing behind', async (t) => {
  const ctx = createFaultContext(stack, { holdMs: 10_000 });
  const err = await t.throwsAsync(injectFault(ctx, defaultRegistry().configure('net-latency', { target: 'service=app' }), AbortSignal.timeout(60_000)));
  t.regex(err!.message, /netem|qdisc/);
  t.deepEqual(await recorded(), []);
  t.deepEqual(await helpers(), []);
});

/** A CLI holding `fault` for 60 s, SIGKILLed once it is active: the effect stays until `faultline revert` undoes it. */
async function killedMidFault(t: ExecutionContext, args: string[], inEffect: () => Promise<boolean>): Promise<void> {
  const held = startCli(['fault', 'inject', ...args, '--stack', DESCRIPTION, '--for', '60s']);
  t.teardown(() => void held.child.kill('SIGKILL'));
  await held.waitFor(/fault \S+ active after/, 60_000);
  held.child.kill('SIGKILL');
  t.is((await held.exited).signal, 'SIGKILL');
  t.true(await inEffect(), 'the effect outlived faultline');
  t.is((await recorded()).length, 1);
  const revert = await runCli(['revert', '--stack', DESCRIPTION]);
  t.is(revert.code, 0, revert.stderr);
  t.regex(revert.stdout, /^reverted /m);
  t.is(await served(), '200');
  t.deepEqual(await recorded(), []);
  t.deepEqual(await helpers(), [], "the dead man's switch on the worker is gone too");
}

test.serial('faultline SIGKILLed holding container-pause on the worker task: `faultline revert` (a fresh process) unpauses it there', async (t) => {
  const app = await taskOf('app');
  await killedMidFault(
    t,
    ['container-pause', '--target', 'service=app'],
    async () => (await stack.docker.inspect(app)).paused && (await appFromWeb()) === '000',
  );
  t.false((await stack.docker.inspect(app)).paused);
  t.is(await taskOf('app'), app, 'the same task runs on');
});

test.serial('faultline SIGKILLed holding net-loss on the worker task: `faultline revert` removes the table and its helper on the worker', async (t) => {
  await killedMidFault(t, ['net-loss', '--target', 'service=app', '--param', 'loss=100'], async () => (await appFromWeb()) === '000');
});
