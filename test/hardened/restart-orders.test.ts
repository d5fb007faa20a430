// The hardened profile's Galera tier after each restart order of issue 21 (npm run test:hardened, nightly): rows are
// written, the order is applied with docker kill/stop/start on the tier's containers, and the tier must come back by
// itself to one Primary component of three Synced nodes that each hold every row written before. Each test starts from
// a healthy stack (`stack up` is idempotent) and ends as soon as the tier has converged. Timeouts are generous (two
// busy cores make a full SST slow), the properties are not.

import type { ExecutionContext } from 'ava';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { DockerClient, type ContainerSummary } from '../../src/stack/docker-client.js';
import { itest, runCli } from '../helpers/stack.js';
import { converged, galeraNodes, logSince, rowsOf, sql, upHardened as upStack, waitLog, wsrep } from '../helpers/galera.js';

/** Writes `n` rows through one node (any member of the Primary component); the rows every node must then hold. */
async function writeRows(stack: AttachedStack, id: string, tag: string, n = 20): Promise<void> {
  const values = Array.from({ length: n }, (_, i) => `('restart-${tag}-${Date.now()}-${i}', 'before', 'test')`).join(', ');
  await sql(stack, id, `INSERT INTO faultline.items (item_key, value, server) VALUES ${values}`);
}

/** What each node logged since `sinceIso`. */
const logsSince = (stack: AttachedStack, nodes: ContainerSummary[], sinceIso: string): Promise<string[]> =>
  Promise.all(nodes.map((n) => logSince(stack, n, sinceIso)));

/** Until `id` is no longer in the Primary component of size `size` seen from `id`. */
async function waitSize(stack: AttachedStack, id: string, size: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await wsrep(stack, id)).wsrep_cluster_size !== size) {
    if (Date.now() > deadline) throw new Error(`cluster size never reached ${size}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Prepared {
  stack: AttachedStack;
  nodes: ContainerSummary[];
  before: string;
}

async function prepare(tag: string): Promise<Prepared> {
  const stack = await upStack();
  const nodes = await galeraNodes(stack);
  if (nodes.length !== 3) throw new Error(`expected three Galera nodes, found ${nodes.length}`);
  await writeRows(stack, nodes[0]!.id, tag);
  return { stack, nodes, before: await rowsOf(stack, nodes[0]!.id) };
}

const stopAll = (p: Prepared, which = p.nodes) => Promise.all(which.map((n) => p.stack.docker.stop(n.id, 30)));
const killAll = (p: Prepared, which: ContainerSummary[]) => Promise.all(which.map((n) => p.stack.docker.kill(n.id)));
const startAll = (p: Prepared, which = p.nodes) => Promise.all(which.map((n) => p.stack.docker.start(n.id)));

/** The shared checks once the order was applied and the nodes started: converged, every row on every node, no broken IST. */
async function checkBack(t: ExecutionContext, p: Prepared, sinceIso: string, since: number): Promise<string[]> {
  const s = await converged(p.stack, p.nodes, since);
  t.log(`one Primary component of three Synced nodes ${s.toFixed(1)} s after the nodes were started`);
  for (const n of p.nodes) t.is(await rowsOf(p.stack, n.id), p.before, `${n.server} holds every row it held before`);
  const logs = await logsSince(p.stack, p.nodes, sinceIso);
  t.false(
    logs.some((l) => /IST didn't contain all write sets/.test(l)),
    'no node joined beside another (IST without all write sets)',
  );
  return logs;
}

itest.serial('all three stopped together: the node that has every transaction bootstraps, the others join one at a time', async (t) => {
  const p = await prepare('stopped');
  const sinceIso = new Date().toISOString();
  await stopAll(p);
  const since = Date.now();
  await startAll(p);
  const logs = await checkBack(t, p, sinceIso, since);
  t.is(logs.filter((l) => /bootstrapping from its state/.test(l)).length, 1, 'exactly one node bootstrapped');
});

itest.serial('one crashed, then the other two stopped cleanly: all three started together come back', async (t) => {
  // Before: the crashed node answered on 4567 outside any Primary component and blocked the election; the clean
  // nodes waited 900 s and exited.
  const p = await prepare('crash-then-stop');
  const sinceIso = new Date().toISOString();
  const [g1, g2, g3] = p.nodes as [ContainerSummary, ContainerSummary, ContainerSummary];
  await killAll(p, [g2]);
  await waitSize(p.stack, g1.id, '2');
  // Rows the crashed node never saw: it is behind, and must not be the one the tier restarts from.
  await writeRows(p.stack, g1.id, 'crash-then-stop-after');
  p.before = await rowsOf(p.stack, g1.id);
  await stopAll(p, [g1, g3]);
  const since = Date.now();
  await startAll(p);
  const logs = await checkBack(t, p, sinceIso, since);
  t.false(/bootstrapping from its state/.test(logs[1]!), 'the crashed node, behind the others, did not bootstrap');
});

itest.serial('two crashed and started together: the survivor takes the Primary component back and they join one at a time', async (t) => {
  // Before: crashed nodes kept gvwstate.dat, skipped the one-joiner-at-a-time gate and joined at once.
  const p = await prepare('two-crashed');
  const sinceIso = new Date().toISOString();
  const [, g2, g3] = p.nodes as [ContainerSummary, ContainerSummary, ContainerSummary];
  await killAll(p, [g2, g3]);
  const since = Date.now();
  await startAll(p, [g2, g3]);
  const logs = await checkBack(t, p, sinceIso, since);
  for (const l of logs.slice(1))
    t.regex(l, /every node of the cluster is Synced and none before this one waits: joining/, 'each crashed node joined through the gate');
});

itest.serial('all three crashed: the node with the highest recovered seqno bootstraps, the others join', async (t) => {
  const p = await prepare('all-crashed');
  const sinceIso = new Date().toISOString();
  await killAll(p, p.nodes);
  const since = Date.now();
  await startAll(p);
  const logs = await checkBack(t, p, sinceIso, since);
  t.is(logs.filter((l) => /bootstrapping from its state/.test(l)).length, 1, 'exactly one node bootstrapped');
  t.is(logs.filter((l) => /recovered position/.test(l)).length, 3, 'every node recovered its position from InnoDB');
});

itest.serial('a node with an empty datadir while its peers hold data joins by SST and never bootstraps over them', async (t) => {
  // Before: galera1 (the designated first node) with an empty datadir made a new empty cluster when no peer answered
  // on 4567, and the others then joined it by SST: their data was wiped.
  const p = await prepare('empty-datadir');
  const [g1] = p.nodes as [ContainerSummary];
  const sinceIso = new Date().toISOString();
  await stopAll(p);
  const docker = new DockerClient();
  const volume = (await docker.listVolumes({ 'faultline.stack': p.stack.project })).find((v) => v.name.endsWith('galera1-data'));
  t.truthy(volume, 'galera1 has its volume');
  const wiped = await docker.runToCompletion({
    helper: 'test-wipe',
    image: (await p.stack.docker.inspect(g1.id)).image,
    entrypoint: ['bash', '-c'],
    cmd: ['find /d -mindepth 1 -delete && ls -A /d | wc -l'],
    labels: { 'faultline.stack': p.stack.project },
    networkMode: 'none',
    binds: [`${volume!.name}:/d`],
  });
  t.is(wiped.stdout.trim(), '0', `galera1's datadir is empty: ${wiped.stderr}`);
  const since = Date.now();
  await startAll(p);
  const logs = await checkBack(t, p, sinceIso, since);
  t.regex(logs[0]!, /empty datadir: joining by full state transfer/);
  t.false(
    logs.some((l) => /creating the cluster/.test(l)),
    'no node created a new cluster',
  );
});

itest.serial('a node started alone after its peers were removed waits, says what to do, and shows it in stack status', async (t) => {
  const p = await prepare('alone');
  const [g1, g2, g3] = p.nodes as [ContainerSummary, ContainerSummary, ContainerSummary];
  const sinceIso = new Date().toISOString();
  await stopAll(p);
  await Promise.all([g2, g3].map((n) => p.stack.docker.remove(n.id)));
  await startAll(p, [g1]);
  const log = await waitLog(p.stack, g1, sinceIso, /will not bootstrap alone/, 120_000);
  t.regex(log, /touch \/run\/galera-bootstrap/, 'the log says what an operator can do');
  // It still waits a while later: it did not bootstrap over the cluster its volume belonged to.
  await new Promise((r) => setTimeout(r, 10_000));
  const check = await p.stack.docker.exec(g1.id, ['galera-check', '--exit-code']);
  t.regex(check.stdout, /^waiting: no other node answers/);
  const status = await runCli(['stack', 'status', '--profile', 'hardened']);
  t.regex(status.stdout, /mariadb\s+running\s+\w+: waiting: no other node answers/, status.stdout);
  // The peers come back (stack up makes their containers again, on their volumes): the tier converges.
  const since = Date.now();
  const stack = await upStack();
  p.stack = stack;
  p.nodes = await galeraNodes(stack);
  await checkBack(t, p, sinceIso, since);
});
