// Node faults on a swarm (issue 20 item 3): a node down (its node container stopped, or frozen), a node drained, two
// nodes partitioned from each other. Only nodes faultline runs itself (the docker-in-docker workers of `faultline swarm
// up`, named in ~/.faultline/swarm.json) are touched: their node containers live on the manager's engine, so stop,
// pause and the partition's iptables rules act on a container faultline made, never on a user's machine.
// Dead man's switches: node-down, the process faults' helper with the manager's Docker socket (switch.ts) that starts
// or unpauses the node container; node-partition, a sleeper armed in the node container that deletes its rules;
// node-drain has none (a drained node costs capacity, not service): `faultline revert` restores it.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { DockerClient, LABEL } from '../stack/docker-client.js';
import { SwarmEngine } from '../stack/swarm-engine.js';
import { readSwarmRecord, type SwarmRecord } from '../swarm/swarm-record.js';
import { shipImages } from '../swarm/ship-images.js';
import { retryUntil } from '../util/retry.js';
import { removeFaultHelpers, startHelper } from './helpers.js';
import { armScript, containersUndo, disarmScript, DOCKER_API_CHECK, DOCKER_API_SHELL, dockerSocket, switchArgv, switchSeconds } from './switch.js';
import { parseTarget } from './targets.js';
import type { AnyFaultDefinition, FaultContext, FaultDefinition, FaultPlan } from './types.js';

const run = promisify(execFile);
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const READY_TIMEOUT_MS = 120_000;

/** The hostname a node fault's target names (`node=<hostname>`, nothing else). Pure. */
export function targetNode(name: string, target: string | undefined): string {
  if (!target) throw new FaultlineError('INVALID_INPUT', `${name}: target: required (e.g. --target node=faultline-node-3)`);
  const sel = parseTarget(target);
  const [term, ...rest] = sel.match;
  if (sel.pick !== 'one' || rest.length || !term || term[0] !== 'node' || !HOSTNAME.test(term[1]))
    throw new FaultlineError('INVALID_INPUT', `${name}: target: "${target}" is not node=<hostname> (one node, e.g. node=faultline-node-3)`);
  return term[1];
}

/** Refuses a node faultline did not start (a user's machine is out of reach): UNSAFE_TARGET, exit 2. Pure. */
export function assertOwnNode(record: SwarmRecord | undefined, node: string): void {
  if (!record?.nodes.includes(node))
    throw new FaultlineError(
      'UNSAFE_TARGET',
      `node ${node} is not a node faultline runs (its workers: ${record?.nodes.join(', ') || 'none'}); node faults only touch faultline swarm up's own nodes`,
    );
}

/** The iptables rules (without -I/-D) that cut a node container off from `peer`, both ways, marked with the fault's id. Pure. */
export function partitionRules(faultId: string, peer: string): string[][] {
  if (!IPV4.test(peer)) throw new FaultlineError('INTERNAL', `node-partition: ${JSON.stringify(peer)} is not an IPv4 address`);
  if (!/^[a-z0-9-]{1,80}$/.test(faultId)) throw new FaultlineError('INTERNAL', `node-partition: ${JSON.stringify(faultId)} is not a fault id`);
  const mark = ['-m', 'comment', '--comment', `faultline-${faultId}`, '-j', 'DROP'];
  return [
    ['INPUT', '-s', peer, ...mark],
    ['OUTPUT', '-d', peer, ...mark],
  ];
}

/** Shell deleting every copy of those rules (revert and the switch; idempotent). Pure. */
export function partitionUndo(rules: string[][]): string {
  return rules.map((r) => `while iptables -D ${r.join(' ')} 2>/dev/null; do :; done`).join('; ');
}

const dataSchema = z.object({
  node: z.string(),
  /** The node container on the manager's engine. */
  container: z.string(),
  mode: z.enum(['stop', 'freeze']).optional(),
  availability: z.string().optional(),
  peer: z.object({ name: z.string(), addr: z.string() }).optional(),
  rules: z.array(z.array(z.string())).optional(),
  /** Images the node's engine had (a stopped node comes back without them: they were on a tmpfs). */
  images: z.array(z.string()).optional(),
});
type NodeData = z.infer<typeof dataSchema>;

/** The manager's client: a swarm stack's own, else this engine (DOCKER_HOST), which swarm up made the manager. */
function managerOf(ctx: FaultContext): DockerClient {
  return ctx.docker instanceof SwarmEngine ? ctx.docker.manager : new DockerClient();
}

const home = (ctx: FaultContext) => ctx.stack.options.home;

async function planNode(ctx: FaultContext, name: string, target: string | undefined): Promise<{ node: string; container: string; record: SwarmRecord }> {
  const node = targetNode(name, target);
  const record = await readSwarmRecord(home(ctx));
  assertOwnNode(record, node);
  const container = (await managerOf(ctx).swarm.nodeContainers()).find((c) => c.hostname === node);
  if (!container) throw new FaultlineError('UNKNOWN_TARGET', `${name}: node ${node} has no node container on this engine`, { hint: 'faultline swarm up' });
  return { node, container: container.id, record: record! };
}

async function swarmNode(manager: DockerClient, hostname: string) {
  const all = (await manager.swarm.nodes()).filter((n) => n.hostname === hostname);
  return all.find((n) => n.state === 'ready') ?? all[0];
}

async function waitNodeReady(ctx: FaultContext, node: string, signal: AbortSignal): Promise<void> {
  const manager = managerOf(ctx);
  await retryUntil(
    async () => (await manager.swarm.nodes()).some((n) => n.hostname === node && n.state === 'ready'),
    (ok) => ok,
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 1_000, signal, what: `${node} ready on the manager` },
  );
}

async function nodeImages(manager: DockerClient, container: string): Promise<string[]> {
  const res = await manager.exec(container, ['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}']);
  return res.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('<none>'));
}

/**
 * A node container that was stopped comes back with an empty engine (its /var/lib/docker is a tmpfs): no swarm
 * state, no images. The old entry (down) goes, the images it had are shipped again from the manager, then it joins.
 */
async function rejoin(ctx: FaultContext, data: NodeData, signal: AbortSignal): Promise<void> {
  const manager = managerOf(ctx);
  const record = await readSwarmRecord(home(ctx));
  const endpoint = record?.engines[data.node];
  if (!record || !endpoint) throw new FaultlineError('REVERT_FAILED', `node ${data.node} is no longer in faultline's swarm record`);
  const engine = DockerClient.at(endpoint);
  const wait = { timeoutMs: READY_TIMEOUT_MS, intervalMs: 1_000, signal };
  await retryUntil(
    () => engine.ping(),
    () => true,
    { ...wait, what: `the Docker engine of ${data.node}` },
  );
  if ((await engine.swarm.membership()).state === 'active') return;
  for (const gone of (await manager.swarm.nodes()).filter((n) => n.hostname === data.node && n.role === 'worker' && n.state !== 'ready'))
    await manager.swarm.removeNode(gone.id);
  const have = (await Promise.all((data.images ?? []).map(async (t) => ((await manager.images.exists(t)) ? t : undefined)))).filter((t): t is string => !!t);
  await shipImages(manager, { [data.node]: endpoint }, have, { log: ctx.log, signal });
  const token = await manager.swarm.workerToken();
  const join = await manager.exec(data.container, ['docker', 'swarm', 'join', '--token', token, `${record.advertiseAddr}:2377`]);
  if (join.exitCode !== 0) throw new FaultlineError('REVERT_FAILED', `${data.node} could not rejoin the swarm: ${(join.stderr || join.stdout).trim()}`);
}

const modeParams = z.object({ mode: z.enum(['stop', 'freeze']).default('stop').describe('stop: the node container stopped; freeze: docker pause') }).strict();

const nodeDown: FaultDefinition<z.infer<typeof modeParams>, NodeData> = {
  name: 'node-down',
  kind: 'process',
  description: 'a swarm node faultline runs goes down: its node container stopped (mode=stop) or frozen (mode=freeze); revert brings it back, ready',
  params: modeParams,
  data: dataSchema,
  plan: async (ctx, target, params): Promise<FaultPlan<NodeData>> => {
    const { node, container } = await planNode(ctx, 'node-down', target);
    const images = params.mode === 'stop' ? await nodeImages(managerOf(ctx), container) : [];
    return {
      targets: [{ id: container, name: node, service: '', node }],
      steps: [
        params.mode === 'stop' ? `stop the node container ${node} (its engine and every task on it)` : `freeze the node container ${node} (docker pause)`,
        "dead man's switch: a helper with the manager's Docker socket that starts/unpauses it if no revert came by the run's maximum duration",
        params.mode === 'stop'
          ? `revert: start it, rejoin the swarm (its engine comes back empty), ship its ${images.length} image(s) again, wait until ready`
          : 'revert: unpause, wait until ready',
      ],
      slots: [`node:${node}`, `container:${container}`],
      data: { node, container, mode: params.mode, images },
    };
  },
  apply: async (ctx, record, _update, signal) => {
    const { container, mode } = record.data;
    const manager = managerOf(ctx);
    await startHelper(
      ctx,
      {
        faultId: record.id,
        hostId: container,
        apply: `${DOCKER_API_SHELL}\n${DOCKER_API_CHECK}`,
        revert: `${DOCKER_API_SHELL}\n${containersUndo([{ id: container, unpause: mode === 'freeze', start: mode === 'stop', restart: [] }])}`,
        networkMode: 'none',
        capAdd: [],
        binds: [`${dockerSocket()}:/var/run/docker.sock`],
      },
      async () => undefined,
      signal,
    );
    if (mode === 'freeze') await manager.pause(container);
    else await manager.stop(container, 10);
  },
  revert: async (ctx, record, signal) => {
    const { container, mode, node } = record.data;
    const manager = managerOf(ctx);
    const s = await manager.findContainer(container);
    if (!s) {
      // `faultline swarm up` replaces a node that is not ready (a frozen one too) with a fresh container: that is a fresh start.
      if (!(await swarmNode(manager, node).then((n) => n?.state === 'ready')))
        throw new FaultlineError('REVERT_FAILED', `the node container of ${node} is gone`, { hint: 'faultline swarm up makes it again' });
      ctx.log(`${node}: its node container was replaced (faultline swarm up) and the node is ready; counts as reverted`);
      return removeFaultHelpers(ctx, record.id);
    }
    if (s.paused) await manager.unpause(container).catch(async (err: unknown) => ((await manager.inspect(container)).paused ? Promise.reject(err) : undefined));
    if (!s.running)
      await manager.start(container).catch((err: unknown) => ((err as { statusCode?: number }).statusCode === 304 ? undefined : Promise.reject(err)));
    if (mode === 'stop') await rejoin(ctx, record.data, signal);
    await waitNodeReady(ctx, node, signal);
    // A thawed engine resets the connections that were waiting on it; helpers are listed on every node's engine.
    await retryUntil(
      () => ctx.docker.listContainers({ [LABEL.fault]: record.id }),
      () => true,
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 1_000, signal, what: `every engine of the swarm answering after ${node} came back` },
    );
    await removeFaultHelpers(ctx, record.id);
  },
  check: async (ctx, record) => {
    const s = await managerOf(ctx).findContainer(record.data.container);
    const n = await swarmNode(managerOf(ctx), record.data.node);
    const down = !s || (record.data.mode === 'freeze' ? s.paused : !s.running);
    return {
      active: down,
      detail: `${record.data.node}: container ${s ? (s.paused ? 'paused' : s.running ? 'running' : 'stopped') : 'gone'}, node ${n?.state ?? 'unknown'}`,
    };
  },
};

async function setAvailability(node: string, availability: string, signal?: AbortSignal): Promise<void> {
  if (!/^(active|pause|drain)$/.test(availability)) throw new FaultlineError('INTERNAL', `availability ${availability}`);
  await run('docker', ['node', 'update', '--availability', availability, node], { timeout: 30_000, ...(signal ? { signal } : {}) });
}

const nodeDrain: FaultDefinition<Record<string, never>, NodeData> = {
  name: 'node-drain',
  kind: 'process',
  description: 'drain a swarm node faultline runs (its tasks move to other nodes); revert sets the availability it had before',
  params: z.object({}).strict() as z.ZodType<Record<string, never>, z.ZodTypeDef, unknown>,
  data: dataSchema,
  plan: async (ctx, target): Promise<FaultPlan<NodeData>> => {
    const { node, container } = await planNode(ctx, 'node-drain', target);
    const n = await swarmNode(managerOf(ctx), node);
    if (!n) throw new FaultlineError('UNKNOWN_TARGET', `node-drain: ${node} is not in the swarm`, { hint: 'faultline swarm up' });
    return {
      targets: [{ id: container, name: node, service: '', node }],
      steps: [
        `set ${node}'s availability to drain (was ${n.availability})`,
        `revert: availability ${n.availability} again (no dead man's switch: faultline revert)`,
      ],
      slots: [`node:${node}`],
      data: { node, container, availability: n.availability },
    };
  },
  apply: (_ctx, record, _update, signal) => setAvailability(record.data.node, 'drain', signal),
  revert: async (_ctx, record) => setAvailability(record.data.node, record.data.availability ?? 'active'),
  check: async (ctx, record) => {
    const n = await swarmNode(managerOf(ctx), record.data.node);
    return { active: n?.availability === 'drain', detail: `${record.data.node}: ${n?.availability ?? 'not in the swarm'}` };
  },
};

const peerParams = z
  .object({
    peer: z
      .string()
      .regex(/^(manager|[A-Za-z0-9][A-Za-z0-9_.-]{0,252})$/, 'manager or a node hostname')
      .default('manager'),
  })
  .strict();

const iptables = (ctx: FaultContext, data: NodeData, verb: '-I' | '-D') =>
  Promise.all(
    (data.rules ?? []).map(async (r) => {
      const res = await managerOf(ctx).exec(data.container, ['iptables', verb, ...r]);
      if (res.exitCode !== 0 && verb === '-I') throw new FaultlineError('INTERNAL', `iptables ${verb} ${r.join(' ')}: ${res.stderr.trim()}`);
    }),
  );

const nodePartition: FaultDefinition<z.infer<typeof peerParams>, NodeData> = {
  name: 'node-partition',
  kind: 'network',
  description: 'partition a swarm node faultline runs from a peer (manager or another node): iptables DROP both ways in its network namespace',
  params: peerParams,
  data: dataSchema,
  plan: async (ctx, target, params, _signal): Promise<FaultPlan<NodeData>> => {
    const { node, container, record } = await planNode(ctx, 'node-partition', target);
    if (params.peer === node) throw new FaultlineError('INVALID_INPUT', `node-partition: peer: ${node} cannot be partitioned from itself`);
    const addr = params.peer === 'manager' ? record.advertiseAddr : (await swarmNode(managerOf(ctx), params.peer))?.addr;
    if (!addr || !IPV4.test(addr)) throw new FaultlineError('UNKNOWN_TARGET', `node-partition: peer ${params.peer} has no IPv4 address in the swarm`);
    return {
      targets: [{ id: container, name: node, service: '', node }],
      steps: [
        `iptables DROP in ${node}'s network namespace from and to ${params.peer} (${addr})`,
        `dead man's switch: a sleeper in ${node} that deletes exactly those rules at the run's maximum duration`,
        'revert: delete exactly those rules',
      ],
      slots: [`node:${node}:partition:${params.peer}`],
      data: { node, container, peer: { name: params.peer, addr }, rules: [] },
    };
  },
  apply: async (ctx, record, update) => {
    const rules = partitionRules(record.id, record.data.peer!.addr);
    await update({ rules });
    record.data.rules = rules;
    const arm = await managerOf(ctx).exec(
      record.data.container,
      switchArgv(record.id, armScript(record.id, switchSeconds(ctx.maxDurationMs), partitionUndo(rules))),
    );
    if (arm.exitCode !== 0) throw new FaultlineError('INTERNAL', `node-partition: arming the switch failed: ${arm.stderr.trim()}`);
    await iptables(ctx, record.data, '-I');
  },
  revert: async (ctx, record) => {
    const undo = `${partitionUndo(record.data.rules ?? [])}; ${disarmScript(record.id)}`;
    const res = await managerOf(ctx).exec(record.data.container, ['sh', '-c', undo]);
    if (res.exitCode !== 0) throw new FaultlineError('REVERT_FAILED', `node-partition: ${res.stderr.trim()}`);
  },
  check: async (ctx, record) => {
    const res = await managerOf(ctx).exec(record.data.container, ['iptables', '-S']);
    const n = res.stdout.split('\n').filter((l) => l.includes(`faultline-${record.id}`)).length;
    return { active: n > 0, detail: `${record.data.node} ↔ ${record.data.peer?.name}: ${n} rule(s)` };
  },
};

export const nodeFaults: AnyFaultDefinition[] = [nodeDown, nodeDrain, nodePartition];
