// Load from many agents on a swarm: N agents as one service on the target's own network, each with its share, one shared
// start instant; their timelines come back through the service's log and merge exactly (src/load/agents.ts). The
// service is recorded before it exists and removed on every path; `faultline revert` removes a leftover one.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError, invalidInput } from '../errors.js';
import { agentShare, checkAgents, encodeSpec, mergeAgents, readMessages, type AgentReport, type AgentSpec, type AgentsResult } from '../load/agents.js';
import { LiveMerge } from '../load/agents-live.js';
import { validateLoadOptions } from '../load/options.js';
import type { LoadOptionsInput } from '../load/types.js';
import { DockerClient } from '../stack/docker-client.js';
import { isLoopbackHost } from '../util/remote-target.js';
import { sleep } from '../util/sleep.js';
import {
  agentLogs,
  agentTasks,
  engineName,
  createAgentService,
  inspectNetwork,
  isTerminal,
  readyNodeCount,
  removeService,
  servicesByLabel,
  servicesOnNetwork,
  type AgentTask,
} from './agents-docker.js';
import { followAgentLogs, type AgentFollow } from './agents-follow.js';
import { buildAgentImage } from './agents-image.js';
import { shipImages } from './ship-images.js';
import { readSwarmRecord } from './swarm-record.js';

/** How long after its task ended badly an agent counts as dead in the live merge (its last lines may still be coming). */
const DEAD_AFTER_MS = 3000;

/** The label every agent service (and its containers) carries, valued with the run id. */
export const AGENTS_LABEL = 'faultline.agents';
/** When an agent service's run is over for sure (epoch ms): past it, a service left behind is anyone's to remove. */
export const AGENTS_UNTIL_LABEL = 'faultline.agents.until';

export interface AgentsRunOptions {
  /** The whole run's load, as `faultline load` would run it alone; each agent takes its share. */
  input: LoadOptionsInput;
  agents: number;
  /** The swarm network the target is on; the agents join it. */
  network: string;
  /** faultline's state folder: the swarm record (the workers' engines) and the record of agent services. */
  home: string;
  /** Service names start with this (default FAULTLINE_AGENTS_PREFIX, else faultline-agents). */
  namePrefix?: string;
  /** From the service's creation to t = 0: covers the tasks' start on every node (default 10 s). */
  startMarginMs?: number;
  /** t = 0 itself (epoch ms), for runs that must start together (a bench comparing two); overrides startMarginMs. */
  startAtMs?: number;
  /** Swarm placement constraints for the agents; with any, no per-node limit (they may all have to share a node). */
  constraints?: string[];
  checkpointMs?: number;
  docker?: DockerClient;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Stops the run early: the agents stop sending (SIGTERM), requests in flight keep their deadlines, results merge. */
  stop?: AbortSignal;
  /** Called once the service exists, with its name, t = 0 (epoch ms) and, with onSeconds, the live merge. */
  onStarted?: (info: { service: string; startAtMs: number; live: LiveMerge | null }) => void;
  /**
   * Live: the agents' log is followed while they run and the buckets they ship merged as every agent's share arrives
   * (or the agent is known dead); called each time the merged timeline grew.
   */
  onSeconds?: (live: LiveMerge) => void;
}

/**
 * The safety rule for agents (pure): they send only to loopback (their own node's) or to a name that resolves on the
 * swarm network they join, a service or container of the stack's own; the refusal's text, or null.
 */
export function agentTargetRefusal(url: string, network: string, names: string[]): string | null {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return `url: not a valid URL: ${JSON.stringify(url)}`;
  }
  if (isLoopbackHost(host) || names.some((n) => n.toLowerCase() === host.toLowerCase())) return null;
  return `url: ${host} is neither a service on network ${network} nor loopback: load agents send only to the stack's own services`;
}

/** The rule against the swarm as it is; refused (exit 2) before anything is built or deployed. */
export async function checkAgentTarget(url: string, network: string, signal?: AbortSignal): Promise<void> {
  const net = await inspectNetwork(network, signal);
  if (!net || net.scope !== 'swarm')
    throw invalidInput('network', `${network} is not a swarm network on this manager (docker network ls --filter scope=swarm)`);
  const refusal = agentTargetRefusal(url, network, [...(await servicesOnNetwork(net, signal)), ...net.containers]);
  if (refusal) throw new FaultlineError('INVALID_INPUT', refusal);
}

const recordFile = (home: string) => join(home, 'agents.json');

/** An agent service and the faultline process that holds it (so revert leaves a live run's agents alone). */
interface AgentRecord {
  service: string;
  pid: number;
}

async function readRecord(home: string): Promise<AgentRecord[]> {
  try {
    return (JSON.parse(await readFile(recordFile(home), 'utf8')) as { services: AgentRecord[] }).services.filter((r) => typeof r.service === 'string');
  } catch {
    return [];
  }
}

/** Record changes of one process, one after another (several runs may share a process: the bench does). */
let recordQueue: Promise<unknown> = Promise.resolve();

function updateRecord(home: string, change: (records: AgentRecord[]) => AgentRecord[]): Promise<void> {
  const next = recordQueue.then(async () => writeRecord(home, change(await readRecord(home))));
  recordQueue = next.catch(() => undefined);
  return next;
}

async function writeRecord(home: string, services: AgentRecord[]): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const tmp = `${recordFile(home)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ version: 1, services }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, recordFile(home));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the agent services whose faultline is gone (killed with SIGKILL), with `all` every recorded one, and any
 * labelled one whose run is over for sure (its `until` has passed: recorded under another home, or its record lost).
 * A live run's service is never taken from under it by another home's revert. Answers their names; on an engine that
 * is no swarm manager there are none.
 */
export async function revertAgentServices(home: string, options: { all?: boolean; nowMs?: number } = {}): Promise<string[]> {
  const records = await readRecord(home);
  const now = options.nowMs ?? Date.now();
  const labelled = (await servicesByLabel(AGENTS_LABEL).catch(() => [])).filter((s) => Number(s.labels[AGENTS_UNTIL_LABEL]) < now).map((s) => s.name);
  const gone = records.filter((r) => options.all || !alive(r.pid)).map((r) => r.service);
  const names = [...new Set([...gone, ...labelled])];
  if (names.length === 0) return [];
  for (const n of names) await removeService(n);
  await updateRecord(home, (records) => records.filter((r) => !names.includes(r.service)));
  return names;
}

/**
 * Stops a run early: SIGTERM to each running agent's container through its node's engine (the manager's own is this
 * client), so each stops sending, lets its requests in flight end and ships its result. Scaling the service to 0 would
 * delete the tasks and their logs with them. An agent on a node whose engine faultline does not know runs to its end.
 */
async function stopAgents(service: string, manager: DockerClient, engines: Record<string, string>, log: (line: string) => void): Promise<void> {
  const here = await engineName().catch(() => '');
  for (const t of await agentTasks(service)) {
    if (isTerminal(t) || !t.containerId) continue;
    const engine = engines[t.node] ? DockerClient.at(engines[t.node]!) : t.node === here ? manager : null;
    if (engine) await engine.kill(t.containerId, 'SIGTERM');
    else log(`agent ${t.slot} on ${t.node}: its node's engine is unknown, it runs to its end`);
  }
}

/** Why a task ended badly, or null when it completed. */
function taskFailure(t: AgentTask | undefined): string | null {
  if (!t) return 'its task never appeared';
  if (t.state === 'complete' && (t.exitCode ?? 0) === 0) return null;
  return `task ${t.state}${t.exitCode !== null ? `, exit ${t.exitCode}` : ''}${t.error ? `: ${t.error}` : ''} on ${t.node || 'no node'}`;
}

/** Runs the agents to the end and merges what they shipped. */
export async function runAgents(o: AgentsRunOptions): Promise<AgentsResult> {
  const { signal } = o;
  const log = o.log ?? (() => undefined);
  await checkAgentTarget(o.input.url, o.network, signal);
  const options = validateLoadOptions({ ...o.input, allowRemoteTarget: true });
  checkAgents(options, o.agents);
  for (let slot = 1; slot <= o.agents; slot++) validateLoadOptions(agentShare(o.input, o.agents, slot));
  const docker = o.docker ?? new DockerClient();
  const image = await buildAgentImage(docker, { ...(signal ? { signal } : {}), log });
  const engines = (await readSwarmRecord(o.home))?.engines ?? {};
  await shipImages(docker, engines, [image], { ...(signal ? { signal } : {}), log });

  // On a shared swarm each team deploys under its own prefix (FAULTLINE_AGENTS_PREFIX), the experiment's agents too.
  const service = `${o.namePrefix ?? (process.env.FAULTLINE_AGENTS_PREFIX || 'faultline-agents')}-${options.runId.toLowerCase()}`;
  const spec: AgentSpec = {
    version: 1,
    agents: o.agents,
    startAtMs: o.startAtMs ?? Date.now() + (o.startMarginMs ?? 10_000),
    checkpointMs: o.checkpointMs ?? 1_000,
    input: { ...o.input, runId: options.runId, ...(options.ca ? { ca: options.ca } : {}) },
  };
  await updateRecord(o.home, (records) => [...records.filter((r) => r.service !== service), { service, pid: process.pid }]);
  const live = o.onSeconds ? new LiveMerge(options, o.agents, spec.startAtMs) : null;
  const grew = (yes: boolean) => void (yes && live && o.onSeconds?.(live));
  let follow: AgentFollow | null = null;
  try {
    const nodes = Math.max(1, await readyNodeCount(signal));
    await createAgentService(
      {
        name: service,
        image,
        replicas: o.agents,
        maxPerNode: o.constraints?.length ? o.agents : Math.ceil(o.agents / nodes),
        ...(o.constraints?.length ? { constraints: o.constraints } : {}),
        network: o.network,
        labels: { [AGENTS_LABEL]: options.runId, [AGENTS_UNTIL_LABEL]: String(spec.startAtMs + options.durationMs + options.timeoutMs + 120_000) },
        args: [encodeSpec(spec)],
        stopGraceS: Math.ceil(options.timeoutMs / 1000) + 5,
      },
      signal,
    );
    log(`${o.agents} agent(s) as service ${service}, t = 0 at ${new Date(spec.startAtMs).toISOString()}`);
    if (live) follow = followAgentLogs(service, (m) => grew(live.add(m)), log);
    o.onStarted?.({ service, startAtMs: spec.startAtMs, live });
    const onStop = () => void stopAgents(service, docker, engines, log).catch((err: Error) => log(`stopping the agents failed: ${err.message}`));
    if (o.stop?.aborted) onStop();
    else o.stop?.addEventListener('abort', onStop, { once: true });
    // Every agent ends by itself: its duration, then each request's deadline; past that, a task still running is lost.
    const deadline = spec.startAtMs + options.durationMs + options.timeoutMs + 60_000;
    let tasks: AgentTask[] = [];
    let missing = 0;
    const failedSince = new Map<number, number>();
    for (;;) {
      // Right after its creation the manager may not list the service yet; later, someone else may have removed it.
      const now = await agentTasks(service, signal).catch((err: Error) => {
        if (/no such service/i.test(err.message)) return null;
        throw err;
      });
      missing = now === null ? missing + 1 : 0;
      if (now) tasks = now;
      if (missing >= 3 && Date.now() > spec.startAtMs) {
        log(`the agents' service ${service} is gone (removed from outside faultline): its agents are reported dead`);
        tasks = tasks.map((t) => (isTerminal(t) ? t : { ...t, state: 'removed', error: 'its service was removed from outside faultline' }));
        break;
      }
      // An agent whose task ended badly is dead for the live merge too, once what it shipped last had time to come
      // through the follow: its seconds do not hold up the others'.
      for (const t of tasks) if (isTerminal(t) && taskFailure(t)) failedSince.set(t.slot, failedSince.get(t.slot) ?? Date.now());
      for (const [slot, since] of failedSince) if (Date.now() - since >= DEAD_AFTER_MS) grew(live?.markDead(slot) ?? false);
      const bySlot = new Set(tasks.filter(isTerminal).map((t) => t.slot));
      if (bySlot.size >= o.agents || Date.now() > deadline) break;
      await sleep(2_000, signal);
    }
    await follow?.stop();
    const messages = readMessages(missing ? '' : await agentLogs(service, log, signal).catch(() => ''));
    // An agent whose result did not come through the manager is read from its container on its node, when reachable.
    const here = await engineName().catch(() => '');
    for (const t of tasks) {
      if (!t.containerId || messages.get(t.slot)?.some((m) => m.type === 'result')) continue;
      const engine = engines[t.node] ? DockerClient.at(engines[t.node]!) : t.node === here ? docker : null;
      const text = await engine?.logs(t.containerId, 1_000_000).catch(() => '');
      const own = text ? readMessages(text).get(t.slot) : undefined;
      if (own && own.length >= (messages.get(t.slot)?.length ?? 0)) messages.set(t.slot, own);
    }
    const reports: AgentReport[] = [];
    for (let slot = 1; slot <= o.agents; slot++) {
      const task = tasks.filter((t) => t.slot === slot).at(-1);
      const msgs = messages.get(slot) ?? [];
      const ready = msgs.find((m) => m.type === 'ready');
      reports.push({ slot, node: task?.node ?? (ready?.type === 'ready' ? ready.host : null), messages: msgs, failure: taskFailure(task) });
    }
    const merged = mergeAgents(options, spec, reports);
    for (const a of merged.agents)
      if (a.state === 'died')
        log(`agent ${a.slot} on ${a.node ?? '?'} died (${a.reason}): ${a.lostRequests} request(s) of its share counted as failed from t=${a.lostFromMs} ms`);
    return merged;
  } catch (err) {
    if (signal?.aborted) throw new FaultlineError('ABORTED', 'load agents: interrupted; the agents were removed', { cause: err });
    throw err;
  } finally {
    await follow?.stop();
    await removeService(service);
    await updateRecord(o.home, (records) => records.filter((r) => r.service !== service));
  }
}
