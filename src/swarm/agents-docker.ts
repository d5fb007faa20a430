// The swarm calls load agents need, through the `docker` CLI of the manager (DOCKER_HOST as the user set it): the
// service API is not in the Docker client's parts yet and others are changing those files; the CLI speaks the same
// API and is how the swarm stacks are deployed too. Every call is bounded in time and takes the run's signal.

import { execFile } from 'node:child_process';
import { FaultlineError } from '../errors.js';

async function docker(
  args: string[],
  options: { signal?: AbortSignal; timeoutMs?: number; maxBuffer?: number; partial?: (warning: string) => void } = {},
): Promise<string> {
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 60_000), ...(options.signal ? [options.signal] : [])]);
  return new Promise((resolve, reject) =>
    execFile('docker', args, { signal, maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && options.partial && stdout && !options.signal?.aborted) {
        options.partial((stderr || err.message).trim().split('\n').slice(-1)[0] ?? '');
        resolve(stdout);
      } else if (err)
        reject(
          new FaultlineError('SWARM_FAILED', `docker ${args.slice(0, 2).join(' ')}: ${(stderr || err.message).trim().split('\n').slice(-2).join(' ')}`, {
            cause: err,
          }),
        );
      else resolve(stdout);
    }),
  );
}

/** A swarm network as the manager sees it; undefined when there is none of that name. */
export async function inspectNetwork(
  name: string,
  signal?: AbortSignal,
): Promise<{ id: string; name: string; scope: string; containers: string[] } | undefined> {
  let out: string;
  try {
    out = await docker(['network', 'inspect', name, '--format', '{{json .}}'], signal ? { signal } : {});
  } catch {
    return undefined;
  }
  const n = JSON.parse(out) as { Id: string; Name: string; Scope: string; Containers?: Record<string, { Name: string }> };
  return { id: n.Id, name: n.Name, scope: n.Scope, containers: Object.values(n.Containers ?? {}).map((c) => c.Name) };
}

/** The services attached to a network (by its id or name): their names, which resolve on it. */
export async function servicesOnNetwork(network: { id: string; name: string }, signal?: AbortSignal): Promise<string[]> {
  const ids = (await docker(['service', 'ls', '-q'], signal ? { signal } : {})).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const list = JSON.parse(await docker(['service', 'inspect', ...ids], signal ? { signal } : {})) as Array<{
    Spec: { Name: string; TaskTemplate?: { Networks?: Array<{ Target: string; Aliases?: string[] }> } };
  }>;
  const out: string[] = [];
  for (const s of list) {
    const nets = s.Spec.TaskTemplate?.Networks ?? [];
    const on = nets.find((n) => n.Target === network.id || n.Target === network.name);
    if (on) out.push(s.Spec.Name, `tasks.${s.Spec.Name}`, ...(on.Aliases ?? []));
  }
  return out;
}

export interface AgentServiceSpec {
  name: string;
  image: string;
  replicas: number;
  maxPerNode: number;
  network: string;
  labels: Record<string, string>;
  args: string[];
  /** From SIGTERM (a stopped run) to SIGKILL: the agents' request timeout and some, so requests in flight end. */
  stopGraceS: number;
  /** Swarm placement constraints (e.g. node.hostname==faultline-node-3), when the agents must run on given nodes. */
  constraints?: string[];
}

/** One service of N agents: no restarts (a dead agent stays dead and is reported), dnsrr (no VIP), spread over nodes. */
export async function createAgentService(spec: AgentServiceSpec, signal?: AbortSignal): Promise<void> {
  const labels = Object.entries(spec.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`, '--container-label', `${k}=${v}`]);
  await docker(
    [
      'service',
      'create',
      '--detach',
      '--name',
      spec.name,
      '--replicas',
      String(spec.replicas),
      '--replicas-max-per-node',
      String(spec.maxPerNode),
      '--restart-condition',
      'none',
      '--endpoint-mode',
      'dnsrr',
      '--network',
      spec.network,
      '--env',
      'FAULTLINE_AGENT_SLOT={{.Task.Slot}}',
      '--stop-grace-period',
      `${spec.stopGraceS}s`,
      ...(spec.constraints ?? []).flatMap((c) => ['--constraint', c]),
      ...labels,
      spec.image,
      ...spec.args,
    ],
    signal ? { signal } : {},
  );
}

export interface AgentTask {
  id: string;
  slot: number;
  node: string;
  /** The task's state: new … running, complete, failed, shutdown, rejected, orphaned. */
  state: string;
  error: string;
  exitCode: number | null;
  containerId: string | null;
}

const TERMINAL = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove', 'removed']);
export const isTerminal = (t: AgentTask) => TERMINAL.has(t.state);

/** The service's tasks with their slot, node, state, exit code and container. */
export async function agentTasks(service: string, signal?: AbortSignal): Promise<AgentTask[]> {
  const ids = (await docker(['service', 'ps', '-q', '--no-trunc', service], signal ? { signal } : {})).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const nodes = new Map<string, string>();
  for (const line of (await docker(['node', 'ls', '--format', '{{.ID}} {{.Hostname}}'], signal ? { signal } : {})).split('\n').filter(Boolean)) {
    const [id, host] = line.split(' ');
    nodes.set(id as string, host as string);
  }
  const list = JSON.parse(await docker(['inspect', ...ids], signal ? { signal } : {})) as Array<{
    ID: string;
    Slot?: number;
    NodeID?: string;
    Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  }>;
  return list.map((t) => ({
    id: t.ID,
    slot: t.Slot ?? 0,
    node: nodes.get(t.NodeID ?? '') ?? t.NodeID ?? '',
    state: t.Status?.State ?? 'unknown',
    error: t.Status?.Err ?? '',
    exitCode: t.Status?.ContainerStatus?.ExitCode ?? null,
    containerId: t.Status?.ContainerStatus?.ContainerID || null,
  }));
}

/**
 * Everything the service's tasks wrote, through the manager. A node that is not available (any node of the swarm, even
 * one without a task of this service, on Docker 20.10) makes the stream incomplete: what came is kept, with a warning.
 */
export async function agentLogs(service: string, warn: (line: string) => void, signal?: AbortSignal): Promise<string> {
  return docker(['service', 'logs', '--raw', '--no-trunc', service], {
    ...(signal ? { signal } : {}),
    timeoutMs: 120_000,
    maxBuffer: 512 * 1024 * 1024,
    partial: (w) => warn(`the service's log came incomplete (${w}); agents without a result are read from their nodes`),
  });
}

/** Removes a service; one that is gone already is not an error. */
export async function removeService(name: string): Promise<void> {
  try {
    await docker(['service', 'rm', name], { timeoutMs: 30_000 });
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
  }
}

/** Services carrying a label (key or key=value), with all their labels: how leftovers are found after faultline was killed. */
export async function servicesByLabel(label: string): Promise<Array<{ name: string; labels: Record<string, string> }>> {
  const ids = (await docker(['service', 'ls', '-q', '--filter', `label=${label}`])).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const list = JSON.parse(await docker(['service', 'inspect', ...ids])) as Array<{ Spec: { Name: string; Labels?: Record<string, string> } }>;
  return list.map((s) => ({ name: s.Spec.Name, labels: s.Spec.Labels ?? {} }));
}

export async function readyNodeCount(signal?: AbortSignal): Promise<number> {
  const out = await docker(['node', 'ls', '--format', '{{.Status}} {{.Availability}}'], signal ? { signal } : {});
  return out.split('\n').filter((l) => l.startsWith('Ready Active')).length;
}

/** This engine's node name (the manager's hostname as the swarm lists it). */
export async function engineName(): Promise<string> {
  return (await docker(['info', '--format', '{{.Name}}'], { timeoutMs: 15_000 })).trim();
}
