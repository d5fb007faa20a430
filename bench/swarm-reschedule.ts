// How long Swarm takes to notice and reschedule a task, and what clients saw meanwhile (issue 20 item 3), on one
// timeline: paced load (50 req/s) from 127.0.0.1 through an HAProxy task on the manager (published mode host on 18091)
// to the fixture's app task on faultline-node-3 (the only node this may take down), then
//   (a) the app task's container killed on node-3: until the manager marks the task failed, until a replacement is
//       running, until clients succeed again;
//   (b) node-down mode=stop on node-3 (the node container stopped): until the manager marks the node down, until the
//       task runs on another node, until clients succeed again; then revert (node-3 rejoins, images shipped again).
// The per-second availability around each event is printed. Stack: fl-node (test/fixtures/swarm/fl-node-stack.yml plus
// bench/swarm-reschedule-front.yml), removed at the end. Run: node --import=tsx bench/swarm-reschedule.ts

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { attachStack } from '../src/stack/attach.js';
import { resolveStackOptions } from '../src/stack/config.js';
import { DockerClient } from '../src/stack/docker-client.js';
import { readSwarmRecord } from '../src/swarm/swarm-record.js';
import { shipImages } from '../src/swarm/ship-images.js';
import { createFaultContext, defaultRegistry, injectFault } from '../src/faults/index.js';
import { startLoad } from '../src/load/index.js';
import { retryUntil } from '../src/util/retry.js';

const run = promisify(execFile);
const NAME = 'fl-node';
const NODE = 'faultline-node-3';
const RATE = 50;
const manager = new DockerClient();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function image(prefix: string): Promise<string> {
  const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', prefix]);
  const tag = stdout.split('\n')[0]?.trim();
  if (!tag) throw new Error(`no ${prefix} image: run faultline stack up first`);
  return tag;
}

async function appTasks() {
  const [tasks, nodes] = await Promise.all([manager.swarm.stackTasks(NAME), manager.swarm.nodes()]);
  const host = new Map(nodes.map((n) => [n.id, n.hostname]));
  return tasks.filter((t) => t.service === `${NAME}_app`).map((t) => ({ ...t, node: host.get(t.nodeId) ?? t.nodeId }));
}

/** Polls every 250 ms until `pred`, returning ms on the load's clock. */
async function when(elapsed: () => number, what: string, pred: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred().catch(() => false)) return elapsed();
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main(): Promise<void> {
  const host = await image('faultline/host');
  const lb = await image('faultline/lb');
  const engines = (await readSwarmRecord(resolveStackOptions().home))!.engines;
  await shipImages(manager, { [NODE]: engines[NODE]! }, [host]);
  await run('docker', ['stack', 'deploy', '-c', 'test/fixtures/swarm/fl-node-stack.yml', '-c', 'bench/swarm-reschedule-front.yml', NAME], {
    env: { ...process.env, FL_TASKS_IMAGE: host, FL_FRONT_IMAGE: lb },
  });
  const ok = async () => (await fetch('http://127.0.0.1:18091/', { signal: AbortSignal.timeout(2000) })).ok;
  // Spread usually picks node-3 (the manager runs many tasks); when it did not, a forced update places the task again.
  for (let i = 0; i < 3; i += 1) {
    await retryUntil(appTasks, (ts) => ts.some((x) => x.state === 'running'), { timeoutMs: 90_000, intervalMs: 2000, what: 'the app task running' });
    if ((await appTasks()).some((x) => x.state === 'running' && x.node === NODE)) break;
    await run('docker', ['service', 'update', '--force', '--detach', `${NAME}_app`]);
    await sleep(5000);
  }
  await retryUntil(
    async () => (await appTasks()).some((t) => t.state === 'running' && t.node === NODE) && (await ok()),
    (v) => v,
    { timeoutMs: 120_000, intervalMs: 2000, what: `app on ${NODE} answering through front` },
  );
  const stack = await attachStack({ stackFile: 'test/fixtures/swarm/fl-node.stack.yaml' });
  const job = startLoad({ url: 'http://127.0.0.1:18091/', rate: RATE, durationMs: 150_000, timeoutMs: 2000 });
  const t = () => job.elapsedMs();
  const events: Array<[number, string]> = [];
  const mark = (ms: number, what: string) => (events.push([ms, what]), console.log(`${(ms / 1000).toFixed(1).padStart(6)} s  ${what}`));
  const firstOk = (from: number) => when(t, 'clients to succeed', async () => (job.timeline?.window(from, t()).successes ?? 0) > 0 && (await ok()));
  await sleep(10_000);

  // (a) the task's container killed on node-3.
  const [victim] = (await appTasks()).filter((t) => t.state === 'running');
  const node3 = DockerClient.at(engines[NODE]!);
  const a0 = t();
  await node3.kill(victim!.containerId, 'SIGKILL');
  mark(a0, `(a) app task ${victim!.id.slice(0, 8)} killed on ${NODE}`);
  mark(await when(t, 'task failed', async () => (await appTasks()).some((x) => x.id === victim!.id && x.state === 'failed')), '(a) manager: task failed');
  mark(await when(t, 'replacement', async () => (await appTasks()).some((x) => x.id !== victim!.id && x.state === 'running')), '(a) replacement task running');
  mark(await firstOk(t()), '(a) clients succeed again');
  await sleep(20_000);

  // (b) node-3 down (its node container stopped).
  const ctx = createFaultContext(stack, { log: (l) => console.log(`        ${l}`), holdMs: 300_000 });
  const b0 = t();
  const active = await injectFault(
    ctx,
    defaultRegistry().configure('node-down', { target: `node=${NODE}`, params: { mode: 'stop' } }),
    AbortSignal.timeout(60_000),
  );
  try {
    mark(b0, `(b) node-down mode=stop on ${NODE} (applied after ${((t() - b0) / 1000).toFixed(1)} s)`);
    mark(
      await when(t, 'node down', async () => (await manager.swarm.nodes()).some((n) => n.hostname === NODE && n.state === 'down')),
      '(b) manager: node down',
    );
    mark(
      await when(t, 'rescheduled', async () => (await appTasks()).some((x) => x.state === 'running' && x.node !== NODE)),
      '(b) task running on another node',
    );
    mark(await firstOk(t()), '(b) clients succeed again');
    await sleep(20_000);
  } finally {
    const r0 = t();
    await active.revert();
    mark(t(), `(b) reverted: ${NODE} rejoined, images shipped, ready (${((t() - r0) / 1000).toFixed(1)} s)`);
  }
  job.stop();
  const result = await job.result;
  console.log('\n   s   sent    ok   avail  events');
  for (const w of result.timeline.perSecond()) {
    const s = Math.floor(w.startMs / 1000);
    const here = events.filter(([ms]) => Math.floor(ms / 1000) === s).map(([, e]) => e);
    const avail = w.sent ? (100 * w.successes) / w.sent : 100;
    if (avail < 100 || here.length)
      console.log(
        `${String(s).padStart(4)} ${String(w.sent).padStart(6)} ${String(w.successes).padStart(5)} ${avail.toFixed(0).padStart(6)}%  ${here.join('; ')}`,
      );
  }
  console.log('(seconds at 100 % without events left out)');
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => run('docker', ['stack', 'rm', NAME]).catch(() => undefined));
