// `faultline swarm up|down|status`: a real multi-node Docker Swarm on one machine. This engine is the manager; each
// worker is a container running its own Docker engine (docker-in-docker), joined with the manager's worker token.
// With a swarm faultline did not make (the user's), up refuses to add nodes and down removes nothing.

import { FaultlineError } from '../errors.js';
import { ensureBaseImage } from '../stack/base-image.js';
import { DockerClient } from '../stack/docker-client.js';
import type { SwarmNode } from '../stack/docker-swarm.js';
import { buildImageSet, imagesDir } from '../stack/images.js';
import { LABEL } from '../stack/docker-types.js';
import { retryUntil } from '../util/retry.js';
import { mkdir, rm } from 'node:fs/promises';
import { dropSwarmRecord, nodeEngine, nodeNames, nodeSocketDir, readSwarmRecord, writeSwarmRecord, type SwarmRecord } from './swarm-record.js';

export interface SwarmUpOptions {
  /** Worker nodes beside this engine (the manager). */
  nodes: number;
  /** faultline's state folder (~/.faultline): where the record of what was made lives. */
  home: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** How long each worker may take to start its engine and show as ready on the manager. */
  nodeTimeoutMs?: number;
}

export interface SwarmStatus {
  state: string;
  /** Whether faultline made this swarm (and so may remove it). */
  madeByFaultline: boolean;
  nodes: SwarmNode[];
  /** Each worker faultline started, with its own engine's endpoint (DOCKER_HOST form). */
  engines: Record<string, string>;
}

/** The most workers one machine is asked to run: each is a full Docker engine. */
export const MAX_LOCAL_NODES = 8;

async function nodeImage(docker: DockerClient, options: Pick<SwarmUpOptions, 'signal' | 'log'>): Promise<string> {
  const base = await ensureBaseImage(docker, { ...(options.signal ? { signal: options.signal } : {}), ...(options.log ? { log: options.log } : {}) });
  const set = { dir: imagesDir, names: ['swarm-node'] as const, repo: 'faultline', labels: () => ({ [LABEL.component]: 'image-swarm-node' }) };
  const tags = await buildImageSet(docker, base.image, set, {
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (e) => e.status === 'building' && options.log?.(`building ${e.tag}`),
  });
  return tags['swarm-node'];
}

const readyWorkers = (nodes: SwarmNode[], names: string[]) => names.filter((h) => nodes.some((n) => n.hostname === h && n.state === 'ready'));

/**
 * Makes (or completes) a swarm of this engine and at least `nodes` workers. The record is written before anything is made,
 * so `swarm down` finds every node even when up was interrupted. Idempotent: nodes already up are kept.
 */
export async function swarmUp(docker: DockerClient, options: SwarmUpOptions): Promise<SwarmStatus> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > MAX_LOCAL_NODES)
    throw new FaultlineError('INVALID_INPUT', `nodes: ${options.nodes} is not a number of workers from 1 to ${MAX_LOCAL_NODES}`);
  const log = options.log ?? (() => undefined);
  const member = await docker.swarm.membership();
  const existing = await readSwarmRecord(options.home);
  if (member.state === 'active' && !existing)
    throw new FaultlineError('SWARM_FAILED', 'this Docker engine is already in a swarm faultline did not make: faultline uses it as it is and adds no nodes', {
      hint: 'faultline swarm status',
    });
  if (member.state === 'active' && !member.isManager)
    throw new FaultlineError('SWARM_FAILED', 'this Docker engine is a swarm worker; faultline needs a manager');
  // At least `nodes` workers: more that are up already stay (swarm down removes them), so callers asking for fewer share them.
  const count = Math.max(options.nodes, existing?.nodes.length ?? 0);

  const advertiseAddr = existing?.advertiseAddr ?? member.nodeAddr ?? '';
  const record: SwarmRecord = {
    version: 1,
    madeSwarm: existing?.madeSwarm ?? member.state !== 'active',
    advertiseAddr: advertiseAddr || (await docker.swarm.bridgeGateway()),
    nodes: nodeNames(count),
    engines: Object.fromEntries(nodeNames(count).map((h) => [h, nodeEngine(options.home, h)])),
    createdAt: existing?.createdAt ?? new Date().toISOString(),
  };
  await writeSwarmRecord(options.home, record);
  if (member.state !== 'active') {
    log(`making this engine a swarm manager on ${record.advertiseAddr}`);
    await docker.swarm.init(record.advertiseAddr);
  }
  const image = await nodeImage(docker, options);
  const token = await docker.swarm.workerToken();
  const running = await docker.swarm.nodeContainers();
  const timeoutMs = options.nodeTimeoutMs ?? 120_000;
  for (const hostname of record.nodes) {
    options.signal?.throwIfAborted();
    if ((await docker.swarm.nodes()).some((n) => n.hostname === hostname && n.state === 'ready')) continue;
    const stale = running.find((c) => c.hostname === hostname);
    if (stale) await docker.swarm.removeNodeContainer(stale.id);
    // A worker whose engine went away (the machine restarted: its images and state were on a tmpfs) is still listed,
    // down; it goes before its successor joins under the same hostname, so placement by hostname finds one node.
    for (const gone of (await docker.swarm.nodes()).filter((n) => n.hostname === hostname && n.role === 'worker')) await docker.swarm.removeNode(gone.id);
    log(`starting worker ${hostname}`);
    const sockets = nodeSocketDir(options.home, hostname);
    await mkdir(sockets, { recursive: true, mode: 0o700 });
    const id = await docker.swarm.startNodeContainer({ name: hostname, hostname, image, labels: {}, binds: [`${sockets}:/run/faultline-node`] });
    const wait = { timeoutMs, intervalMs: 1_000, ...(options.signal ? { signal: options.signal } : {}) };
    // Its own engine answers on the socket faultline will reach this node's tasks through.
    const engine = DockerClient.at(record.engines[hostname]!);
    await retryUntil(
      () => engine.ping(),
      () => true,
      { ...wait, what: `the Docker engine of ${hostname} on ${record.engines[hostname]}` },
    );
    const join = await docker.exec(id, ['docker', 'swarm', 'join', '--token', token, `${record.advertiseAddr}:2377`]);
    if (join.exitCode !== 0) throw new FaultlineError('SWARM_FAILED', `${hostname} could not join the swarm: ${(join.stderr || join.stdout).trim()}`);
    await retryUntil(
      () => docker.swarm.nodes(),
      (nodes) => readyWorkers(nodes, [hostname]).length === 1,
      { ...wait, what: `${hostname} ready on the manager` },
    );
  }
  return swarmStatus(docker, options.home);
}

export async function swarmStatus(docker: DockerClient, home: string): Promise<SwarmStatus> {
  const member = await docker.swarm.membership();
  const record = await readSwarmRecord(home);
  const nodes = member.state === 'active' && member.isManager ? await docker.swarm.nodes() : [];
  return { state: member.state, madeByFaultline: record?.madeSwarm === true, nodes, engines: record?.engines ?? {} };
}

export interface SwarmDownSummary {
  removedNodes: string[];
  leftSwarm: boolean;
  /** Why this engine stays a (one-node) swarm manager, when faultline made the swarm but did not leave it. */
  stayed?: string;
}

/**
 * Measured on Docker 20.10 (Debian 12): `docker swarm leave` drops the network attachments and published ports of
 * every running container on the engine, not only the swarm's, so a compose stack beside the swarm stops answering
 * until it is recreated. A one-node swarm costs nothing, so `swarm down` leaves only when asked to.
 */
export const LEAVE_BREAKS_CONTAINERS =
  'this engine stays a one-node swarm manager: leaving a swarm drops the network attachments of every running container on this engine (swarm down --leave leaves anyway; recreate compose stacks afterwards)';

/**
 * Removes exactly what `swarm up` made: its worker containers (found by label, so also those of an interrupted up) and
 * their entries on the manager. The swarm itself is left only when faultline made it and `leave` is set; then the
 * record goes too. Without a record no node entry is removed and no swarm left: a swarm faultline did not make is
 * never touched.
 */
export async function swarmDown(
  docker: DockerClient,
  home: string,
  options: { leave?: boolean; log?: (line: string) => void } = {},
): Promise<SwarmDownSummary> {
  const log = options.log ?? (() => undefined);
  const record = await readSwarmRecord(home);
  const containers = await docker.swarm.nodeContainers();
  const member = await docker.swarm.membership();
  const removedNodes: string[] = [];
  for (const c of containers) {
    log(`removing worker ${c.hostname}`);
    await docker.swarm.removeNodeContainer(c.id);
    await rm(nodeSocketDir(home, c.hostname), { recursive: true, force: true });
    removedNodes.push(c.hostname);
  }
  const ours = new Set([...(record?.nodes ?? []), ...removedNodes]);
  if (member.state === 'active' && member.isManager) {
    for (const n of await docker.swarm.nodes()) if (n.role === 'worker' && ours.has(n.hostname)) await docker.swarm.removeNode(n.id);
  }
  if (!record?.madeSwarm || member.state !== 'active') {
    await dropSwarmRecord(home);
    return { removedNodes, leftSwarm: false };
  }
  if (!options.leave) {
    await writeSwarmRecord(home, { ...record, nodes: [], engines: {} });
    return { removedNodes, leftSwarm: false, stayed: LEAVE_BREAKS_CONTAINERS };
  }
  log('leaving the swarm faultline made');
  await docker.swarm.leave();
  await dropSwarmRecord(home);
  return { removedNodes, leftSwarm: true };
}
