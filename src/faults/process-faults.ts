// Process faults: kill, stop, pause (freeze) or restart containers, the db-primary-kill preset, and the
// "identical components" shared flaw (every container running one component taken down at once).
// Revert brings each container back to the state it had before and waits until it is healthy. A helper with the
// Docker socket does the same by itself if no revert came by the run's maximum duration (switch.ts).

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { isNotFound } from '../stack/docker-client.js';
import { retryUntil } from '../util/retry.js';
import { removeFaultHelpers, startHelper, throwFirstRejection } from './helpers.js';
import { containersUndo, DOCKER_API_CHECK, DOCKER_API_SHELL, dockerSocket } from './switch.js';
import { durationMs } from './params.js';
import { assertStackContainer, resolveContainers, stackContainers, toRef } from './targets.js';
import type { AnyFaultDefinition, FaultCheck, FaultContext, FaultDefinition, FaultPlan, FaultRecord } from './types.js';
import { isTask, revertTask, switchGroups, taskSteps } from './task-process.js';

type Action = 'kill' | 'stop' | 'pause' | 'restart';

const dataSchema = z.object({
  action: z.enum(['kill', 'stop', 'pause', 'restart']),
  graceS: z.number(),
  containers: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      /** State before the fault: revert restores it, no more. */
      wasRunning: z.boolean(),
      wasPaused: z.boolean(),
      startedAt: z.string(),
      /** Containers sharing this one's network namespace; they need a restart if it was (re)started. */
      dependents: z.array(z.string()),
    }),
  ),
});
type ProcessData = z.infer<typeof dataSchema>;

const HEALTHY_TIMEOUT_MS = 90_000;
/** How often a revert runs a starting container's own health check itself (waitHealthy). */
const CHECK_EVERY_MS = 500;

async function planContainers(ctx: FaultContext, target: string, action: Action, graceS: number): Promise<FaultPlan<ProcessData>> {
  const found = await resolveContainers(ctx, target);
  // Fault helpers and probe vantage points share a server's namespace too, but are not part of it: a restart
  // would reset a helper's dead man's switch, and one that is gone by revert time would fail the revert.
  const all = await stackContainers(ctx);
  const containers: ProcessData['containers'] = [];
  for (const c of found) {
    const info = await ctx.docker.inspect(c.id);
    const dependents: string[] = [];
    if (c.host) {
      for (const other of all) {
        if (other.id === c.id) continue;
        const mode = (await ctx.docker.inspect(other.id)).networkMode;
        if (mode === `container:${c.id}`) dependents.push(other.id);
      }
    }
    containers.push({ id: c.id, name: c.service || c.name, wasRunning: info.running, wasPaused: info.paused, startedAt: info.startedAt, dependents });
  }
  const verb = { kill: 'send SIGKILL to', stop: `stop (SIGTERM, SIGKILL after ${graceS} s)`, pause: 'freeze (docker pause)', restart: 'restart' }[action];
  const names = containers.map((c) => c.name).join(', ');
  const [act, revert] = containers.some((c) => isTask(c.id))
    ? taskSteps(action, names, graceS)
    : [`${verb} ${names}`, action === 'pause' ? 'revert: unpause' : 'revert: start again what was running, wait until healthy'];
  return {
    targets: found.map(toRef),
    steps: [act!, "dead man's switch: a helper with the Docker socket that unpauses/starts them if no revert came by the run's maximum duration", revert!],
    slots: found.map((c) => `container:${c.id}`),
    data: { action, graceS, containers },
  };
}

/**
 * The dead man's switch, before the effect (a container that is down has no process to arm one in): a helper
 * with the Docker socket (no network, no capabilities) that, if no revert removed it by the run's maximum
 * duration, does what revert does through the Docker API. It checks the API answers before the fault goes on.
 */
async function startSwitch(ctx: FaultContext, record: FaultRecord<ProcessData>, signal: AbortSignal): Promise<void> {
  // One per engine: a helper reaches only its own node's Docker API (a compose stack's containers are one group).
  for (const group of switchGroups(record.data.containers, record.data.action === 'pause')) {
    const socket = (await ctx.docker.socketFor?.(group.first)) ?? dockerSocket();
    await startHelper(
      ctx,
      {
        faultId: record.id,
        hostId: group.first,
        apply: `${DOCKER_API_SHELL}\n${DOCKER_API_CHECK}`,
        revert: `${DOCKER_API_SHELL}\n${containersUndo(group.undo)}`,
        networkMode: 'none',
        capAdd: [],
        binds: [`${socket}:/var/run/docker.sock`],
      },
      async () => undefined,
      signal,
    );
  }
}

async function applyAction(ctx: FaultContext, record: FaultRecord<ProcessData>, signal: AbortSignal): Promise<void> {
  const { action, graceS } = record.data;
  for (const c of record.data.containers) await assertStackContainer(ctx, c.id);
  signal.throwIfAborted();
  await startSwitch(ctx, record, signal);
  // All at once: the shared-flaw fault is about everything going down together. Settled, not raced: one
  // target failing fast must not start the revert while the others are still going down.
  const outcomes = await Promise.allSettled(
    record.data.containers.map(async (c) => {
      if (!c.wasRunning && action !== 'restart') return;
      if (action === 'kill') await ctx.docker.kill(c.id, 'SIGKILL');
      // A swarm task is not restarted in place (task-process.ts): it is stopped, and the swarm replaces it.
      else if (action === 'stop' || (action === 'restart' && isTask(c.id))) await ctx.docker.stop(c.id, graceS);
      else if (action === 'pause') {
        if (!c.wasPaused) await pause(ctx, c.id);
      } else await ctx.docker.restart(c.id, graceS);
    }),
  );
  throwFirstRejection(outcomes);
}

/**
 * docker pause, tried again when the cgroup v1 freezer gives up ("unable to freeze"), which it does now and
 * then on a loaded machine; runc thaws the cgroup again before it reports that.
 */
async function pause(ctx: FaultContext, id: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ctx.docker.pause(id);
      return;
    } catch (err) {
      if (attempt >= 3 || !/unable to freeze/i.test((err as Error).message)) throw err;
      if ((await ctx.docker.inspect(id).catch(() => undefined))?.paused) return;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

/** The container's state, or undefined only when Docker says it does not exist (404); other errors reject. */
async function containerState(
  ctx: FaultContext,
  id: string,
): Promise<{ running: boolean; paused: boolean; health: string; startedAt: string; healthTest?: string[] | undefined } | undefined> {
  const info = await ctx.docker.findContainer(id);
  if (!info) return undefined;
  return { running: info.running, paused: info.paused, health: info.health, startedAt: info.startedAt, healthTest: info.healthTest };
}

async function waitHealthy(ctx: FaultContext, id: string, name: string, signal: AbortSignal): Promise<void> {
  let checkedAt = 0;
  await retryUntil(
    async () => {
      const s = await containerState(ctx, id);
      // Docker runs the health check only every interval (5 s on the reference stack, 30 s by default): between two
      // of its runs, the container's own check, run now, says the same sooner. Only for a container that (re)started
      // ("starting"): one Docker already calls unhealthy (a frozen one, unpaused) stays so until Docker's next check,
      // and compose refuses to start what depends on it meanwhile, so that wait is Docker's.
      if (s?.running && !s.paused && s.health === 'starting' && Date.now() - checkedAt >= CHECK_EVERY_MS) {
        checkedAt = Date.now();
        const test = s.healthTest;
        const r = test
          ? await ctx.docker.exec(id, test, { signal: AbortSignal.any([signal, AbortSignal.timeout(CHECK_EVERY_MS * 4)]) }).catch(() => null)
          : null;
        if (r?.exitCode === 0) return { ...s, health: 'healthy' };
      }
      return s;
    },
    // Undefined is only a 404 (gone: nothing to wait for); a Docker error is "not yet", never healthy.
    (s) => s === undefined || (s.running && !s.paused && (s.health === 'healthy' || s.health === 'none')),
    { timeoutMs: HEALTHY_TIMEOUT_MS, intervalMs: 100, signal, what: `${name} to be running and healthy` },
  );
}

/**
 * The container that stands for a target now: itself, or (after `stack down` + `stack up`, or compose
 * recreating it) the stack's current container of the same service. Undefined when neither exists.
 */
async function currentContainer(
  ctx: FaultContext,
  c: ProcessData['containers'][number],
  service: string | undefined,
): Promise<{ id: string; recreated: boolean } | undefined> {
  if (await containerState(ctx, c.id)) return { id: c.id, recreated: false };
  if (!service) return undefined;
  const now = (await stackContainers(ctx)).find((x) => x.service === service);
  return now ? { id: now.id, recreated: true } : undefined;
}

/** docker start where 304 ("already started": a concurrent revert, or the dead man's switch, was first) is success. */
async function startOnce(ctx: FaultContext, id: string): Promise<void> {
  await ctx.docker.start(id).catch((err: unknown) => {
    if ((err as { statusCode?: number }).statusCode !== 304) throw err;
  });
}

/** docker unpause where a container someone else thawed meanwhile (Docker answers 409/500 "not paused") is success. */
async function unpauseOnce(ctx: FaultContext, id: string): Promise<void> {
  await ctx.docker.unpause(id).catch(async (err: unknown) => {
    if ((await containerState(ctx, id))?.paused !== false) throw err;
  });
}

async function revertAction(ctx: FaultContext, record: FaultRecord<ProcessData>, signal: AbortSignal): Promise<void> {
  const outcomes = await Promise.allSettled(
    record.data.containers.map(async (c) => {
      const service = record.targets.find((t) => t.id === c.id)?.service || undefined;
      if (isTask(c.id))
        return revertTask(
          ctx,
          c,
          record.targets.find((t) => t.id === c.id),
          (id, name) => waitHealthy(ctx, id, name, signal),
          signal,
        );
      const current = await currentContainer(ctx, c, service);
      if (!current) {
        // Gone with its whole stack (taken down): nothing is left to bring back. Gone alone: it cannot be.
        if ((await stackContainers(ctx)).length === 0) return;
        throw new FaultlineError('REVERT_FAILED', `${c.name} (${c.id.slice(0, 12)}) no longer exists and its service was not recreated`, {
          hint: `\`faultline stack up --project ${ctx.stack.project}\` recreates it`,
        });
      }
      if (current.recreated) {
        // A new container of the same service is a fresh start: the fault does not apply to it.
        ctx.log(`${c.name}: recreated as ${current.id.slice(0, 12)}; counts as reverted once it is healthy`);
        await waitHealthy(ctx, current.id, c.name, signal);
        return;
      }
      const s = (await containerState(ctx, c.id))!;
      await assertStackContainer(ctx, c.id);
      if (s.paused && !c.wasPaused) await unpauseOnce(ctx, c.id);
      if (c.wasRunning && !s.running) await startOnce(ctx, c.id);
      if (c.wasRunning) await waitHealthy(ctx, c.id, c.name, signal);
      // Components that joined a restarted host's network namespace are left without a network. One that is
      // gone meanwhile has nothing to restart.
      if (c.dependents.length && (record.data.action !== 'pause' || !s.running)) {
        const live = (await Promise.all(c.dependents.map(async (d) => ((await containerState(ctx, d)) ? d : undefined)))).filter(
          (d): d is string => d !== undefined,
        );
        await Promise.all(
          live.map((d) =>
            ctx.docker.restart(d, 2).catch((err: unknown) => {
              if (!isNotFound(err)) throw err;
            }),
          ),
        );
        await Promise.all(live.map((d) => waitHealthy(ctx, d, d.slice(0, 12), signal)));
      }
    }),
  );
  throwFirstRejection(outcomes);
  // Only once every container is back: a revert that failed keeps the switch.
  await removeFaultHelpers(ctx, record.id);
}

async function checkAction(ctx: FaultContext, record: FaultRecord<ProcessData>): Promise<FaultCheck> {
  const states = await Promise.all(record.data.containers.map(async (c) => ({ c, s: await containerState(ctx, c.id) })));
  const hit = states.filter(({ c, s }) => {
    if (!s) return true;
    switch (record.data.action) {
      case 'pause':
        return s.paused;
      case 'restart':
        return isTask(c.id) ? !s.running : s.startedAt !== c.startedAt;
      default:
        return !s.running;
    }
  });
  const word = { kill: 'down', stop: 'down', pause: 'frozen', restart: 'restarted' }[record.data.action];
  return { active: hit.length === states.length, detail: `${hit.length}/${states.length} ${word}` };
}

const targetParams = z.object({}).strict();
const graceParams = z.object({ grace: durationMs({ max: 120_000 }).default('2s').describe('(SIGTERM → SIGKILL)') }).strict();

function processFault(name: string, action: Action, description: string, defaultTarget?: string): FaultDefinition<{ grace?: number }, ProcessData> {
  return {
    name,
    kind: 'process',
    description,
    defaultTarget,
    params: (action === 'stop' || action === 'restart' ? graceParams : targetParams) as z.ZodType<{ grace?: number }, z.ZodTypeDef, unknown>,
    data: dataSchema,
    plan: (ctx, target, params) => {
      if (!target) throw new FaultlineError('INVALID_INPUT', `${name}: target: required (e.g. --target service=web1-nginx or all:component=app)`);
      return planContainers(ctx, target, action, Math.ceil((params.grace ?? 2000) / 1000));
    },
    apply: (ctx, record, _update, signal) => applyAction(ctx, record, signal),
    revert: (ctx, record, signal) => revertAction(ctx, record, signal),
    check: (ctx, record) => checkAction(ctx, record),
  };
}

const componentParams = z
  .object({
    component: z
      .string({ required_error: 'required (e.g. nginx, app)' })
      .regex(/^[a-z0-9-]+$/, 'a component label value, e.g. nginx')
      .describe('(required)'),
    action: z.enum(['kill', 'stop', 'pause']).default('kill'),
  })
  .strict();

/** The "identical components" weakness: one flaw in a shared component takes all its copies down at once. */
const componentDown: FaultDefinition<z.infer<typeof componentParams>, ProcessData> = {
  name: 'component-down',
  kind: 'process',
  description: 'the shared flaw: take down every container running one component (e.g. all nginx) at once',
  params: componentParams,
  data: dataSchema,
  plan: (ctx, target, params) => {
    if (target) throw new FaultlineError('INVALID_INPUT', 'component-down: target: not used; choose the component with --param component=<name>');
    return planContainers(ctx, `all:component=${params.component}`, params.action, 2);
  },
  apply: (ctx, record, _update, signal) => applyAction(ctx, record, signal),
  revert: (ctx, record, signal) => revertAction(ctx, record, signal),
  check: (ctx, record) => checkAction(ctx, record),
};

export const processFaults: AnyFaultDefinition[] = [
  processFault('container-kill', 'kill', 'SIGKILL a container (any service); revert starts it again and waits until healthy'),
  processFault('container-stop', 'stop', 'stop a container (SIGTERM, then SIGKILL after the grace); revert starts it again'),
  processFault('container-pause', 'pause', 'freeze a container (cgroup freezer): it holds its sockets but answers nothing'),
  processFault('container-restart', 'restart', 'restart a container; revert waits until it is healthy again'),
  processFault(
    'db-primary-kill',
    'kill',
    'the headline fault: SIGKILL the database primary (writes fail until it is back)',
    'role=db-primary,component=mariadb',
  ),
  componentDown,
];
