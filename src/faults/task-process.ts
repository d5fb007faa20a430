// What the process faults mean on a swarm task (measured on this project's local swarm, Docker 20.10): a task's
// container that exits — killed, stopped — is never started again; the swarm marks the task failed within a quarter
// second and, by the service's restart policy, starts a replacement task (a new container, on any node the placement
// allows) after the policy's delay (1 s in the fixture: answering again 2.2 s after the kill). So:
// - kill and stop end the task; `restart` is a stop too, since `docker restart` on a task's container leaves the old
//   container running outside the swarm beside the replacement (measured: two copies answering);
// - revert never starts the old container (it would run outside the swarm, unmanaged): it waits until the service runs
//   a healthy task again, and a pause is undone by unpause on the task's node as on one engine;
// - the dead man's switch of a task only unpauses (the swarm replaces what was ended by itself).

import { FaultlineError } from '../errors.js';
import { nodeOfId, splitId } from '../stack/engine.js';
import { retryUntil } from '../util/retry.js';
import { stackContainers } from './targets.js';
import type { ContainerUndo } from './switch.js';
import type { FaultContext } from './types.js';

/** A container of a fault's record as the switch and the revert need it. */
interface Planned {
  id: string;
  name: string;
  wasRunning: boolean;
  wasPaused: boolean;
  dependents: string[];
}

/** True for a swarm task (its id names its node). Pure. */
export const isTask = (id: string): boolean => nodeOfId(id) !== undefined;

/**
 * The containers of a process fault grouped by the engine they live on (one switch helper per node, since a helper
 * reaches only its own node's Docker API), each with the undo its switch runs, in bare container ids. A compose
 * stack's are one group, as before. Pure.
 */
export function switchGroups(list: Planned[], pause: boolean): Array<{ first: string; undo: ContainerUndo[] }> {
  const groups = new Map<string, { first: string; undo: ContainerUndo[] }>();
  for (const c of list) {
    const key = nodeOfId(c.id) ?? '';
    const group = groups.get(key) ?? { first: c.id, undo: [] };
    const task = isTask(c.id);
    group.undo.push({
      id: splitId(c.id).container,
      unpause: !c.wasPaused,
      // A task that was ended is the swarm's to replace: starting its old container would run it outside the swarm.
      start: c.wasRunning && !task,
      restart: pause || task ? [] : c.dependents.map((d) => splitId(d).container),
    });
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * The slot a task fills, from its container's name `<service>.<slot or node id>.<task id>`: its replacement fills the
 * same one (a replicated service's slot, a global service's node). Undefined for a name of another shape. Pure.
 */
export function taskSlot(containerName: string): string | undefined {
  return /^(.+\.[A-Za-z0-9]+)\.[a-z0-9]{25}$/.exec(containerName)?.[1];
}

/** What a process fault's plan says it does to a swarm task. Pure. */
export function taskSteps(action: 'kill' | 'stop' | 'pause' | 'restart', names: string, graceS: number): string[] {
  const on = `${names} (through the engine of the node each task runs on)`;
  if (action === 'pause') return [`freeze (docker pause) ${on}`, 'revert: unpause'];
  const verb = action === 'kill' ? 'send SIGKILL to' : `stop (SIGTERM, SIGKILL after ${graceS} s)`;
  return [
    `${verb} ${on}; the swarm starts a replacement task by the service's restart policy${action === 'restart' ? ' (a task is not restarted in place)' : ''}`,
    'revert: wait until the service runs a healthy task again (the old container is not started: it would run outside the swarm)',
  ];
}

const HEALTHY_TIMEOUT_MS = 90_000;

/**
 * Reverts a process fault on one swarm task: a paused task is unpaused and waited for; an ended one is replaced by the
 * swarm, and the revert waits until its service runs a healthy task again. REVERT_FAILED names the service when the
 * swarm does not replace it (restart policy none, or on-failure after a clean stop).
 */
export async function revertTask(
  ctx: FaultContext,
  c: Planned,
  target: { service: string; name: string } | undefined,
  waitHealthy: (id: string, name: string) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const now = await ctx.docker.findContainer(c.id);
  if (now?.paused && !c.wasPaused) {
    await ctx.docker.unpause(c.id).catch(async (err: unknown) => {
      if ((await ctx.docker.findContainer(c.id))?.paused !== false) throw err;
    });
  }
  if (now?.running) return waitHealthy(c.id, c.name);
  const service = target?.service;
  if (!c.wasRunning || !service) return;
  // Its own slot's replacement, not another replica that was running all along.
  const slot = taskSlot(target.name);
  const serving = (list: Awaited<ReturnType<typeof stackContainers>>) =>
    list.find(
      (x) =>
        x.service === service &&
        x.id !== c.id &&
        (slot === undefined || taskSlot(x.name) === slot) &&
        x.state === 'running' &&
        (x.health === 'healthy' || x.health === 'none'),
    );
  const replacement = await retryUntil(
    () => stackContainers(ctx),
    (list) => serving(list) !== undefined,
    { timeoutMs: HEALTHY_TIMEOUT_MS, intervalMs: 500, signal, what: `a running task of ${service} to replace ${c.name}` },
  ).catch((err: unknown) => {
    throw new FaultlineError('REVERT_FAILED', `${c.name}: the swarm started no task of ${service} to replace it: ${(err as Error).message}`, {
      cause: err,
      hint: `docker service update --force ${ctx.stack.project}_${service} (on the manager) starts one`,
    });
  });
  ctx.log(`${c.name}: replaced by the swarm with ${serving(replacement)!.name} on ${nodeOfId(serving(replacement)!.id)}`);
}
