// Helper containers (Pumba-style: the stack's host image sharing a server's network namespace) and small
// Docker helpers shared by the fault catalogues. Every helper carries faultline.stack and faultline.fault
// so that leftovers are found and removed by label, also after faultline was killed.

import { FaultlineError } from '../errors.js';
import { LABEL, type ExecResult } from '../stack/docker-client.js';
import { holderAlive } from './state-store.js';
import type { FaultContext } from './types.js';

export const READY_LINE = 'faultline-fault-applied';

/** How long an in-container change may run once started; it is never cut short by an interrupt. */
export const APPLY_EXEC_MS = 30_000;

/**
 * Runs a command in a stack container and throws (with its stderr) when it fails. With `toEnd`, the
 * caller's signal does not cut it short: aborting `docker exec` only stops the client side while nft/tc
 * go on in the container, so a change is always let finish (bounded by APPLY_EXEC_MS), then reverted.
 */
export async function execOk(
  ctx: FaultContext,
  id: string,
  cmd: string[],
  options: { stdin?: string; signal?: AbortSignal; what: string; toEnd?: boolean },
): Promise<ExecResult> {
  const signal = options.toEnd ? AbortSignal.timeout(APPLY_EXEC_MS) : options.signal;
  const res = await ctx.docker.exec(id, cmd, { ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(signal ? { signal } : {}) });
  if (res.exitCode !== 0) {
    throw new FaultlineError('INTERNAL', `${options.what} failed (exit ${res.exitCode}): ${(res.stderr || res.stdout).trim().slice(0, 400)}`);
  }
  return res;
}

export interface HelperSpec {
  faultId: string;
  /** The host container whose network namespace the helper joins. */
  hostId: string;
  /** Shell run once to apply the fault; must be safe to interrupt. */
  apply: string;
  /** Shell that undoes it; idempotent. Runs on SIGTERM and when maxDurationMs has passed. */
  revert: string;
  /** Long-running command after apply (e.g. stress-ng), instead of waiting; it is bounded by maxDurationMs. */
  run?: string;
  capAdd?: string[];
  /** Default: the host's network namespace. A helper that only talks to the Docker API needs none ("none"). */
  networkMode?: string;
  binds?: string[];
}

/**
 * Starts a helper that applies, prints READY_LINE, then waits; SIGTERM or the end of ctx.maxDurationMs
 * runs the revert (a dead man's switch if faultline dies), and a failed apply reverts before exiting.
 * Resolves with the helper id once the effect is in place.
 */
export async function startHelper(ctx: FaultContext, spec: HelperSpec, onCreated: (id: string) => Promise<void>, signal: AbortSignal): Promise<string> {
  const seconds = Math.max(1, Math.ceil(ctx.maxDurationMs / 1000));
  const script = [
    `undo() { ${spec.revert || ':'} ; }`,
    "trap 'undo; exit 0' TERM INT",
    `if ! ( set -e; ${spec.apply || ':'} ); then undo; exit 1; fi`,
    `echo ${READY_LINE}`,
    spec.run ? `timeout -s KILL ${seconds} sh -c '${spec.run.replace(/'/g, `'\\''`)}' & wait $!` : `sleep ${seconds} & wait $!`,
    'undo',
  ].join('\n');
  const image = await ctx.stack.helperImage(spec.hostId);
  const id = await ctx.docker.runDetached({
    image,
    entrypoint: ['sh', '-c', script],
    cmd: [],
    helper: 'fault',
    labels: { [LABEL.stack]: ctx.stack.project, [LABEL.fault]: spec.faultId, 'faultline.helper-for': spec.hostId.slice(0, 12) },
    networkMode: spec.networkMode ?? `container:${spec.hostId}`,
    // On a swarm, the helper starts on the node of the task it serves (a single engine ignores this).
    near: spec.hostId,
    capAdd: spec.capAdd ?? ['NET_ADMIN'],
    ...(spec.binds ? { binds: spec.binds } : {}),
  });
  await onCreated(id);
  await ctx.docker.waitForOutput(id, new RegExp(READY_LINE), { timeoutMs: 20_000, signal }).catch((err: unknown) => {
    throw new FaultlineError('INTERNAL', `helper for fault ${spec.faultId} did not apply: ${(err as Error).message}`, { cause: err });
  });
  return id;
}

/** Fault helper containers of this stack: of one fault, or all of them. */
export async function listHelpers(ctx: FaultContext, faultId?: string): Promise<Array<{ id: string; fault: string; state: string }>> {
  const list = await ctx.docker.listContainers({ [LABEL.stack]: ctx.stack.project, [LABEL.fault]: faultId });
  return list.map((c) => ({ id: c.id, fault: c.labels[LABEL.fault] ?? '', state: c.state }));
}

/**
 * Containers faultline started for this stack that nothing needs any more: fault helpers whose fault is no
 * longer recorded, and other helpers (probe vantage points) whose faultline is gone (with `all`, every one).
 */
export async function orphanHelpers(ctx: FaultContext, recorded: Set<string>, all: boolean): Promise<string[]> {
  const list = await ctx.docker.listContainers({ [LABEL.stack]: ctx.stack.project });
  return list
    .filter((c) => {
      const fault = c.labels[LABEL.fault];
      if (fault) return !recorded.has(fault);
      if (!c.labels[LABEL.helper]) return false;
      const [pid, host] = (c.labels[LABEL.holder] ?? '').split(' ');
      return all || !pid || !host || !holderAlive(Number(pid), host);
    })
    .map((c) => c.id);
}

/**
 * Force-removes helpers, each only after checking it is one: it carries this stack's label and a helper
 * label (and, when `faultId` is given, that fault's). An id from a state file is never trusted on its own.
 * A helper that is already gone is fine.
 */
export async function removeHelpers(ctx: FaultContext, ids: string[], faultId?: string): Promise<void> {
  const outcomes = await Promise.allSettled(
    ids.map(async (id) => {
      const info = await ctx.docker.findContainer(id);
      if (!info) return;
      const labels = info.labels;
      const isHelper = labels[LABEL.fault] !== undefined || labels[LABEL.helper] !== undefined;
      if (labels[LABEL.stack] !== ctx.stack.project || !isHelper || (faultId !== undefined && labels[LABEL.fault] !== faultId)) {
        throw new FaultlineError(
          'UNSAFE_TARGET',
          `container ${info.name} (${id.slice(0, 12)}) is not a helper of ${faultId ?? `stack ${ctx.stack.project}`}; refusing to remove it`,
        );
      }
      await ctx.docker.remove(id);
    }),
  );
  throwFirstRejection(outcomes);
}

/** Removes every helper of a fault, known by id or found by label. */
export async function removeFaultHelpers(ctx: FaultContext, faultId: string, known: string[] = []): Promise<void> {
  const found = (await listHelpers(ctx, faultId)).map((h) => h.id);
  await removeHelpers(ctx, [...new Set([...known, ...found])], faultId);
}

/** The first rejection of settled outcomes, thrown: for steps on several targets that must all finish first. */
export function throwFirstRejection(outcomes: PromiseSettledResult<unknown>[]): void {
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}
