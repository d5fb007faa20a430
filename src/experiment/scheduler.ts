// The method on its schedule while load runs: each fault injected at its `at`, held for its `for` (and
// while probes `during` it still look), then reverted; each probe once `at` an offset, `every` interval, or
// `during` a fault as soon as that fault is in effect (the latch). A failed step is recorded, not thrown;
// only a revert that failed is (REVERT_FAILED), after every other step has settled. A stop condition that fires
// (stop-conditions.ts) ends every hold at once, so each fault is reverted, stops the load and skips what had not begun.

import { asFaultlineError, isAbortError } from '../errors.js';
import { createFaultContext, injectFault, MAX_HOLD_EXTENSION_MS, type ActiveFault, type FaultRegistry } from '../faults/index.js';
import type { FaultWindow, LoadJob, LoadResult } from '../load/index.js';
import { runProbe } from '../probes/runner.js';
import type { AnyProbe } from '../probes/types.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { sleep } from '../util/sleep.js';
import { iso, probeOnce, probeSeries } from './activities.js';
import type { ActivityRecord } from './journal.js';
import { describeStop, watchProbeStop, watchStop, type StopCondition, type StopRecord } from './stop-conditions.js';
import type { FaultStep, ProbeStep } from './schema.js';

/**
 * How much longer than its `for` a fault is held while probes `during` it are still looking: the fault
 * engine's limit, from which the helpers' dead man's switch is derived (so it never fires first).
 */
const PROBE_HOLD_LIMIT_MS = MAX_HOLD_EXTENSION_MS;

/** Between a repeated fault's revert (which waits until healthy) and its next injection at least this long: the recovery analysis's healthy run. */
export const SETTLE_MS = 3000;

export interface MethodContext {
  stack: AttachedStack;
  faults: FaultRegistry;
  probe(name: string): AnyProbe;
  /** Faults in effect: the runner's rollbacks revert what is still here. */
  active: Set<ActiveFault>;
  signal: AbortSignal;
  log: (line: string) => void;
  /** The run's load duration: a series of looks stops by then at the latest (plus a margin). */
  loadDurationMs: number;
  /** The experiment's stop_when, checked live on the load's timeline. */
  stopWhen?: readonly StopCondition[];
  /** The load's end_after_faults: stop it this long after the last fault step (every injection) was reverted. */
  endAfterFaultsMs?: number | undefined;
}

export interface MethodOutcome {
  /** Every method activity, by start. */
  activities: ActivityRecord[];
  /** The load job's fault windows (its one record of them), by start. */
  faultWindows: FaultWindow[];
  load: LoadResult;
  /** A revert that failed (REVERT_FAILED) or another reason the method could not settle. */
  failure?: unknown;
  /** The stop condition that ended the method early. */
  stop?: StopRecord;
}

/** "Fault X is in effect": probes `during` X wait on it; it resolves false when X never took effect. */
class EffectLatch {
  private readonly latches = new Map<string, { promise: Promise<boolean>; resolve: (v: boolean) => void }>();
  private readonly lookers = new Map<string, Array<Promise<unknown>>>();

  private of(name: string) {
    let e = this.latches.get(name);
    if (!e) {
      let resolve!: (v: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      this.latches.set(name, (e = { promise, resolve }));
    }
    return e;
  }

  set(name: string, inEffect: boolean): void {
    this.of(name).resolve(inEffect);
  }

  wait(name: string): Promise<boolean> {
    return this.of(name).promise;
  }

  /** Ends every wait (the method is over): a fault not yet in effect will not be. */
  close(): void {
    for (const e of this.latches.values()) e.resolve(false);
  }

  /** A probe looking during `name`; the fault is held at least until it is done. */
  look(name: string, task: Promise<unknown>): void {
    const list = this.lookers.get(name) ?? [];
    list.push(task.catch(() => undefined));
    this.lookers.set(name, list);
  }

  looking(name: string): Array<Promise<unknown>> {
    return this.lookers.get(name) ?? [];
  }
}

export async function runMethod(steps: Array<FaultStep | ProbeStep>, job: LoadJob, ctx: MethodContext): Promise<MethodOutcome> {
  const { signal, log } = ctx;
  const loadDone = new AbortController();
  // A stop ends every hold and wait of the method, never a revert (reverts take fresh signals).
  const stopped = new AbortController();
  const methodSignal = AbortSignal.any([signal, loadDone.signal, stopped.signal]);
  const holdSignal = AbortSignal.any([signal, stopped.signal]);
  const latch = new EffectLatch();
  methodSignal.addEventListener('abort', () => latch.close(), { once: true });
  let stop: StopRecord | undefined;
  const fire = (s: StopRecord) => {
    if (stop) return;
    stop = s;
    stopped.abort(new Error(`stop condition: ${s.condition}`));
    job.stop();
    log(`t=${(s.atMs / 1000).toFixed(1)}s ${describeStop(s)}: reverting every fault, stopping the load`);
  };
  watchStop(ctx.stopWhen ?? [], job, fire, methodSignal);
  const probeCtx = { stack: ctx.stack, docker: ctx.stack.docker };
  const probeWatches = (ctx.stopWhen ?? []).map(async (c, i) => {
    if (c.kind !== 'probe') return;
    let probe: AnyProbe;
    try {
      probe = ctx.probe(c.probe); // validate checked the name against the catalogue; a catalogue without it is said, not thrown
    } catch (err) {
      return log(`stop_when[${i}]: ${asFaultlineError(err).message}; not watched`);
    }
    const look = async (lookSignal: AbortSignal) => {
      const o = await runProbe(probe, probeCtx, c.params, lookSignal);
      return o.error ? o.error.message : o.passed || `not within tolerance: ${JSON.stringify(o.value)}`.slice(0, 200);
    };
    await watchProbeStop(c, i, look, () => job.elapsedMs(), fire, methodSignal);
  });
  const firstRevert = () => {
    if (stop && stop.firstRevertAfterMs === undefined) stop.firstRevertAfterMs = Math.max(0, job.elapsedMs() - stop.atMs);
  };
  /** A hold cut short by a stop ends normally (the revert follows); an interrupt still throws. */
  const unlessStopped = (err: unknown) => {
    if (signal.aborted || !stopped.signal.aborted) throw err;
  };

  /** One injection of a fault step: at `atMs`, held `for`, reverted (a revert waits until the stack is healthy). */
  const faultTask = async (step: FaultStep, atMs: number, injection?: number): Promise<ActivityRecord> => {
    const record: ActivityRecord = {
      kind: 'fault',
      name: step.fault,
      title: step.title,
      phase: 'method',
      status: 'succeeded',
      start: '',
      end: '',
      target: step.target,
      params: step.params,
      ...(injection ? { injection } : {}),
    };
    try {
      await sleep(atMs - job.elapsedMs(), holdSignal);
      const configured = ctx.faults.configure(step.fault, { target: step.target, params: step.params });
      const faultCtx = createFaultContext(ctx.stack, { log, holdMs: step.for ?? 0 });
      record.start = iso();
      record.startMs = job.elapsedMs();
      const nth = injection ? ` (${injection} of ${step.times})` : '';
      log(`t=${(record.startMs / 1000).toFixed(1)}s inject ${step.fault}${step.target ? ` on ${step.target}` : ''}${nth}`);
      const fault = await injectFault(faultCtx, configured, signal, { holdMs: step.for ?? 0 });
      ctx.active.add(fault);
      // The window opens when the inject started, as the recovery analysis counts a fault's time.
      const window = job.openFault(step.fault, record.startMs);
      record.target = fault.record.targets.map((t) => t.service || t.name).join(', ');
      const servers = [...new Set(fault.record.targets.map((t) => t.server).filter((s): s is string => Boolean(s)))];
      record.output = { id: fault.id, steps: fault.record.steps, effectiveAfterMs: job.elapsedMs() - record.startMs, servers };
      latch.set(step.fault, true);
      try {
        await sleep(step.for ?? 0, holdSignal).catch(unlessStopped);
        const looked = new AbortController();
        await Promise.race([
          Promise.all(latch.looking(step.fault)).finally(() => looked.abort()),
          sleep(PROBE_HOLD_LIMIT_MS, AbortSignal.any([holdSignal, looked.signal])).catch((err: unknown) => {
            if (signal.aborted) throw err;
          }),
        ]);
      } finally {
        // The fault ends when its revert starts: the time a revert takes (a restart, a reload) is recovery
        // time the stack needs, and belongs after the window, not hidden inside it.
        const endMs = job.elapsedMs();
        record.endMs = endMs;
        window.close(endMs);
        log(`t=${(endMs / 1000).toFixed(1)}s revert ${step.fault}`);
        firstRevert();
        await fault.revert(AbortSignal.timeout(120_000));
        ctx.active.delete(fault);
        record.output = { ...(record.output as Record<string, unknown>), revertMs: Math.round(job.elapsedMs() - endMs) };
        log(`t=${(job.elapsedMs() / 1000).toFixed(1)}s reverted ${step.fault}`);
      }
    } catch (err) {
      const e = asFaultlineError(err);
      latch.set(step.fault, false);
      const skipped = !signal.aborted && stopped.signal.aborted && record.startMs === undefined;
      record.status = skipped ? 'skipped' : signal.aborted || isAbortError(err) ? 'interrupted' : 'error';
      record.error = skipped ? 'not injected: a stop condition fired first' : e.message;
      if (e.code === 'REVERT_FAILED') throw e;
    } finally {
      record.end = iso();
    }
    return record;
  };

  const probeTask = async (step: ProbeStep): Promise<ActivityRecord[]> => {
    const probe = ctx.probe(step.probe);
    if (step.every !== undefined) return [await probeSeries(probe, { ...step, every: step.every }, probeCtx, methodSignal, job, ctx.loadDurationMs + 5000)];
    if (step.during !== undefined) {
      // A fault that never took effect leaves nothing to look at: the probe is skipped, not failed.
      if (!(await latch.wait(step.during))) return [];
      return [await probeOnce(probe, step, 'method', probeCtx, signal, job)];
    }
    await sleep((step.at ?? 0) - job.elapsedMs(), methodSignal).catch(() => undefined);
    if (methodSignal.aborted && !signal.aborted && step.at !== undefined && step.at > job.elapsedMs()) return [];
    return [await probeOnce(probe, step, 'method', probeCtx, signal, job)];
  };

  /**
   * A fault injected `times` times, one after the other: each at its time (`at` + k·`every`), or SETTLE_MS after the
   * previous revert finished when that is later, so each recovery can be seen; one the load has no room left for
   * (its hold and the settle) is skipped and says so.
   */
  const repeatedFault = async (step: FaultStep): Promise<ActivityRecord[]> => {
    const records: ActivityRecord[] = [];
    let ready = 0;
    for (let k = 0; k < (step.times ?? 1); k++) {
      const atMs = Math.max(step.at + k * (step.every ?? 0), ready);
      if (methodSignal.aborted || atMs + (step.for ?? 0) + SETTLE_MS > ctx.loadDurationMs) {
        const why = methodSignal.aborted
          ? 'the load ended (or a stop condition fired) first'
          : `the load had no room left for it (it would start at ${(atMs / 1000).toFixed(1)} s)`;
        records.push({
          kind: 'fault',
          name: step.fault,
          phase: 'method',
          status: 'skipped',
          start: iso(),
          end: iso(),
          injection: k + 1,
          error: `not injected: ${why}`,
        });
        continue;
      }
      const record = await faultTask(step, atMs, k + 1);
      records.push(record);
      if (record.status !== 'succeeded') break;
      ready = job.elapsedMs() + SETTLE_MS;
    }
    return records;
  };

  const tasks = steps.map((step) => {
    if ('fault' in step) return (step.times ?? 1) > 1 ? repeatedFault(step) : faultTask(step, step.at).then((r) => [r]);
    const task = probeTask(step);
    if (step.during !== undefined) latch.look(step.during, task);
    return task;
  });
  const faultTasks = tasks.filter((_, i) => 'fault' in steps[i]!);
  if (ctx.endAfterFaultsMs !== undefined && faultTasks.length) {
    const tail = ctx.endAfterFaultsMs;
    void Promise.allSettled(faultTasks)
      .then(() => sleep(tail, methodSignal))
      .then(
        () => {
          log(`t=${(job.elapsedMs() / 1000).toFixed(1)}s the faults are over: ending the load (end_after_faults)`);
          job.stop();
        },
        () => undefined,
      );
  }
  const loadResult = job.result.finally(() => loadDone.abort());
  const settled = await Promise.allSettled(tasks);
  const load = await loadResult;
  await Promise.allSettled(probeWatches); // ended with the load (methodSignal); a look in progress is waited for
  const activities = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  activities.sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  return { activities, faultWindows: load.faults, load, ...(failure ? { failure: failure.reason } : {}), ...(stop ? { stop } : {}) };
}
