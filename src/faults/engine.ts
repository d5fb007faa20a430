// Injecting and reverting: record before effect, revert on any failure, hold for a while, and revert
// everything a state file lists (also after faultline was SIGKILLed). Rollbacks use fresh signals.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { asFaultlineError, FaultlineError } from '../errors.js';
import type { ContainerEngine } from '../stack/engine.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { checkBlastRadius } from './blast-radius.js';
import { orphanHelpers, removeHelpers } from './helpers.js';
import { sleep } from '../util/sleep.js';
import type { ConfiguredFault, FaultRegistry } from './registry.js';
import { FaultStore, holderAlive, processStart } from './state-store.js';
import { faultOrigin } from './origins.js';
import type { ActiveFault, AnyFaultDefinition, FaultCheck, FaultContext, FaultPlan, FaultRecord } from './types.js';

/** How long a revert may take before it is reported as failed. */
export const REVERT_TIMEOUT_MS = 120_000;
/**
 * The one limit on holding a fault past its planned hold (the runner keeps a fault while probes `during` it
 * are still looking). The dead man's switch in helpers is derived from it with a margin, so it can never
 * undo a fault that its holder still wants.
 */
export const MAX_HOLD_EXTENSION_MS = 60_000;
/** What the switch waits beyond the longest legitimate hold: the holder's own revert must come first. */
const SWITCH_MARGIN_MS = 30_000;

/**
 * When a helper undoes its fault by itself: after the longest a holder may keep it, plus a margin. A holder that never
 * keeps a fault past its hold (`fault inject --for`: nothing looks during it) passes an extension of 0, so a fault it
 * left behind is undone a minute sooner.
 */
export function deadMansSwitchMs(holdMs: number, extensionMs = MAX_HOLD_EXTENSION_MS): number {
  return holdMs + extensionMs + SWITCH_MARGIN_MS;
}

export function createFaultContext(
  stack: AttachedStack,
  options: { log?: (line: string) => void; random?: () => number; holdMs?: number; holdExtensionMs?: number; docker?: ContainerEngine } = {},
): FaultContext {
  return {
    stack,
    docker: options.docker ?? stack.docker,
    store: new FaultStore(stack.stateDir),
    log: options.log ?? (() => undefined),
    random: options.random ?? Math.random,
    maxDurationMs: deadMansSwitchMs(options.holdMs ?? 3_600_000, options.holdExtensionMs),
  };
}

function freshSignal(): AbortSignal {
  return AbortSignal.timeout(REVERT_TIMEOUT_MS);
}

/** Plans only: resolves targets and says what would be done. Nothing is recorded or changed. */
export async function planFault(ctx: FaultContext, fault: ConfiguredFault, signal: AbortSignal): Promise<FaultPlan> {
  const plan = await fault.definition.plan(ctx, fault.target, fault.params, signal);
  checkBlastRadius(fault, plan);
  return plan;
}

class ActiveFaultHandle implements ActiveFault {
  private done = false;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly ctx: FaultContext,
    private readonly definition: AnyFaultDefinition,
    readonly record: FaultRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get name(): string {
    return this.record.fault;
  }
  get reverted(): boolean {
    return this.done;
  }

  check(signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<FaultCheck> {
    return this.definition.check(this.ctx, this.record, signal);
  }

  revert(signal: AbortSignal = freshSignal()): Promise<void> {
    if (this.done) return Promise.resolve();
    // Concurrent calls share one attempt; a failed attempt may be retried by calling again.
    this.pending ??= revertRecord(this.ctx, this.definition, this.record, signal, { onlyIfRecorded: true })
      .then(() => {
        this.done = true;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

/**
 * Injects a fault: plan, write the record, apply, verify it is in effect. If anything fails after the record
 * is written (including an abort), the fault is reverted with a fresh signal before the error is thrown.
 */
export async function injectFault(ctx: FaultContext, fault: ConfiguredFault, signal: AbortSignal, options: { holdMs?: number } = {}): Promise<ActiveFault> {
  const { definition } = fault;
  const plan = await definition.plan(ctx, fault.target, fault.params, signal);
  checkBlastRadius(fault, plan); // before the record: a refused fault leaves nothing behind
  signal.throwIfAborted();
  const record: FaultRecord = {
    id: `${definition.name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    fault: definition.name,
    stack: ctx.stack.project,
    params: fault.params,
    targets: plan.targets,
    slots: plan.slots,
    steps: plan.steps,
    status: 'injecting',
    createdAt: new Date().toISOString(),
    ...(faultOrigin(definition.name) ? { plugin: faultOrigin(definition.name) } : {}),
    pid: process.pid,
    hostname: hostname(),
    pidStart: processStart(process.pid),
    until: options.holdMs !== undefined ? new Date(Date.now() + options.holdMs).toISOString() : undefined,
    data: plan.data,
  };
  await ctx.store.add(record, signal);
  const update = async (patch: Record<string, unknown>) => {
    record.data = { ...(record.data as Record<string, unknown>), ...patch };
    if (!(await ctx.store.update(record.id, { data: record.data }))) throw revertedUnder(record);
  };
  applying.add(record.id);
  try {
    await definition.apply(ctx, record, update, signal);
    // apply() may have updated the record's data in the store (helper ids): keep ours in step.
    record.data = (await ctx.store.get(record.id))?.data ?? record.data;
    record.status = 'active';
    if (!(await ctx.store.update(record.id, { status: 'active' }))) throw revertedUnder(record);
    applying.delete(record.id);
  } catch (err) {
    applying.delete(record.id);
    const cause = asFaultlineError(err);
    try {
      const stored = await ctx.store.get(record.id);
      // Removed under us (`faultline revert --all` from elsewhere): recorded again before anything is undone, so the
      // effect never stands without a record, then reverted like any failed apply.
      if (stored) record.data = stored.data;
      else await ctx.store.add(record, freshSignal());
      await revertRecord(ctx, definition, record, freshSignal());
    } catch (revertErr) {
      throw new FaultlineError('REVERT_FAILED', `${definition.name} failed (${cause.message}) and could not be reverted: ${(revertErr as Error).message}`, {
        cause: revertErr,
        hint: `it is recorded in ${ctx.store.path}; run \`faultline revert --all --project ${ctx.stack.project}\``,
      });
    }
    throw cause;
  }
  return new ActiveFaultHandle(ctx, definition, record);
}

function revertedUnder(record: FaultRecord): FaultlineError {
  return new FaultlineError('ABORTED', `${record.id}: its record was removed while it was being injected (faultline revert --all); it is undone again`);
}

/** The faults this process is applying right now (their records say `injecting` until apply returns). */
const applying = new Set<string>();

/** How long `revert --all` waits for a fault that a live process is still applying before it reverts it. */
const INJECTING_WAIT_MS = 30_000;

/**
 * The record as it stands once no live process is applying it any more (undefined: gone meanwhile). Reverting a fault
 * while its apply is still running would race it: the effect could land after the revert, its record already gone.
 */
async function settled(ctx: FaultContext, record: FaultRecord): Promise<FaultRecord | undefined> {
  const deadline = Date.now() + INJECTING_WAIT_MS;
  let current: FaultRecord | undefined = record;
  const stillApplying = (r: FaultRecord) =>
    r.pid === process.pid && r.hostname === hostname() ? applying.has(r.id) : r.status === 'injecting' && holderAlive(r.pid, r.hostname, r.pidStart);
  while (current && stillApplying(current) && Date.now() < deadline) {
    await sleep(100);
    current = await ctx.store.get(record.id);
  }
  return current;
}

/**
 * Reverts one recorded fault and then removes its record (only after success). With onlyIfRecorded, a fault
 * whose record is gone was reverted by someone else (`faultline revert --all`) and is left alone, so a late
 * revert cannot undo a newer fault on the same resource.
 */
export async function revertRecord(
  ctx: FaultContext,
  definition: AnyFaultDefinition,
  record: FaultRecord,
  signal: AbortSignal,
  options: { onlyIfRecorded?: boolean } = {},
): Promise<void> {
  if (options.onlyIfRecorded && !(await ctx.store.get(record.id))) return;
  const parsed = definition.data.safeParse(record.data);
  if (!parsed.success)
    throw new FaultlineError('REVERT_FAILED', `${record.id}: the recorded data is not what ${definition.name} wrote (${parsed.error.issues[0]?.message})`);
  try {
    await ctx.store.update(record.id, { status: 'reverting' });
    await definition.revert(ctx, { ...record, data: parsed.data }, signal);
  } catch (err) {
    const e = asFaultlineError(err);
    throw e.code === 'REVERT_FAILED'
      ? e
      : new FaultlineError('REVERT_FAILED', `could not revert ${record.fault} (${record.id}): ${e.message}`, {
          cause: err,
          hint: `still recorded in ${ctx.store.path}; fix the cause and run \`faultline revert --all\``,
        });
  }
  await ctx.store.remove(record.id);
}

export interface RevertSummary {
  reverted: FaultRecord[];
  skipped: Array<{ record: FaultRecord; reason: string }>;
  failed: Array<{ record: FaultRecord; error: FaultlineError }>;
  helpersRemoved: number;
}

/**
 * Reverts what the state file lists, newest first (so stacked changes unwind in order). Without `all`, only
 * faults whose holding process is gone, and with `own`, also this process's (a run's final safety net: its
 * faults whose apply and own revert both failed are still recorded, and this process is their holder);
 * with `all`, every one. Then removes helper containers nothing needs any more. Continues past failures and
 * reports them all.
 */
export async function revertRecorded(
  ctx: FaultContext,
  registry: FaultRegistry,
  options: { all?: boolean; own?: boolean; log?: (line: string) => void } = {},
): Promise<RevertSummary> {
  const summary: RevertSummary = { reverted: [], skipped: [], failed: [], helpersRemoved: 0 };
  const records = (await ctx.store.list()).filter((r) => r.stack === ctx.stack.project).reverse();
  for (const record of records) {
    const mine = record.pid === process.pid && record.hostname === hostname();
    if (!options.all && !(options.own && mine) && holderAlive(record.pid, record.hostname, record.pidStart)) {
      summary.skipped.push({ record, reason: `held by live process ${record.pid} (use --all to revert it anyway)` });
      continue;
    }
    try {
      const current = await settled(ctx, record);
      if (!current) continue;
      const definition = registry.get(current.fault);
      options.log?.(`reverting ${current.fault} (${current.id}) on ${current.targets.map((t) => t.service || t.name).join(', ')}`);
      await revertRecord(ctx, definition, current, freshSignal());
      summary.reverted.push(current);
    } catch (err) {
      summary.failed.push({ record, error: asFaultlineError(err, 'REVERT_FAILED') });
    }
  }
  const remaining = new Set((await ctx.store.list()).map((r) => r.id));
  const orphans = await orphanHelpers(ctx, remaining, options.all ?? false);
  await removeHelpers(ctx, orphans);
  summary.helpersRemoved = orphans.length;
  return summary;
}

/**
 * Holds an active fault for `ms` (or until the signal aborts), then reverts it with a fresh signal. An abort
 * is rethrown after a revert that succeeded; a revert that failed is thrown as REVERT_FAILED in any case
 * (also after an abort), naming what is left, so no caller can report a revert that did not happen.
 */
export async function holdFault(fault: ActiveFault, ms: number, signal: AbortSignal): Promise<void> {
  let interrupted: unknown;
  try {
    await sleep(ms, signal);
  } catch (err) {
    interrupted = err;
  }
  try {
    await fault.revert(freshSignal());
  } catch (err) {
    const e = asFaultlineError(err, 'REVERT_FAILED');
    throw new FaultlineError(
      'REVERT_FAILED',
      `${interrupted !== undefined ? 'interrupted, and ' : ''}fault ${fault.id} could not be reverted; it is still in effect: ${e.message}`,
      {
        cause: err,
        hint: e.hint ?? `run \`faultline revert --all --project ${fault.record.stack}\``,
      },
    );
  }
  if (interrupted !== undefined) throw interrupted;
}
