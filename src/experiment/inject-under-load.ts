// One fault held under load, stopped when it hurts: `faultline fault inject NAME --under-load --stop-when ...`. The load starts
// first, the fault is injected once it runs and held; stop conditions are checked live on the load's timeline by the
// one watcher (stop-conditions.ts), and a breach reverts the fault at once and stops the load. The experiment layer
// owns this because it is the one that may use both the load engine and the faults.

import { holdFault, injectFault, type ActiveFault, type ConfiguredFault, type FaultContext } from '../faults/index.js';
import { LOAD_DEFAULTS, startLoad, type LoadEvent, type LoadJob, type LoadOptionsInput, type LoadResult } from '../load/index.js';
import { invalidInput } from '../errors.js';
import { MAX_HOLD_MS } from '../util/duration.js';
import { sleep } from '../util/sleep.js';
import { describeStop, stopWhenProblems, watchStop, type StopCondition, type StopRecord } from './stop-conditions.js';

/** How long the load may run past the hold: injecting and reverting take time too, and the load is stopped after the revert anyway. */
const INJECT_REVERT_ALLOWANCE_MS = 120_000;

export interface InjectUnderLoadOptions {
  /** The load beside the fault (URL, rate or connections, mix, TLS); its duration is the hold's plus an allowance, unless given. */
  load: LoadOptionsInput;
  holdMs: number;
  /** Metric conditions only: a probe condition needs the experiment's catalogue. */
  stopWhen: readonly StopCondition[];
  /** Ctrl-C: the fault is reverted, the load stopped, and the interrupt thrown. */
  signal: AbortSignal;
  log?: (line: string) => void;
  /** The load's events, and its job once started (live outputs follow it: `--out prometheus`). */
  onLoadEvent?: (event: LoadEvent) => void;
  onLoadStart?: (job: LoadJob) => void;
  /** Called once the fault is in effect (the CLI prints it), with ms from its inject call. */
  onActive?: (fault: ActiveFault, effectiveAfterMs: number) => void;
}

export interface InjectUnderLoadOutcome {
  fault: ActiveFault;
  load: LoadResult;
  /** The stop condition that ended the hold early. */
  stop?: StopRecord;
}

/**
 * What is wrong with stop conditions for a hold of `holdMs` under a load with `bucketMs` buckets (the experiment's own
 * check, the hold as the load's duration): a window shorter than a bucket, or longer than the hold, which never fills.
 */
export function stopWhenProblemsForHold(
  stopWhen: StopCondition[],
  holdMs: number,
  bucketMs: number = LOAD_DEFAULTS.bucketMs,
): Array<{ index: number; message: string }> {
  return stopWhenProblems({ stop_when: stopWhen, load: { bucket: bucketMs, duration: holdMs } }).map((p) => ({ index: Number(p.path[1]), message: p.message }));
}

/**
 * Starts the load, injects `fault` once the load runs, holds it for `holdMs` while `stopWhen` is watched, reverts it,
 * stops the load and answers what happened. A breach ends the hold at once (the revert follows); a revert that fails
 * throws REVERT_FAILED, an interrupt is thrown after the revert; the load is stopped and settled on every path.
 */
export async function injectUnderLoad(ctx: FaultContext, fault: ConfiguredFault, o: InjectUnderLoadOptions): Promise<InjectUnderLoadOutcome> {
  const { signal, holdMs } = o;
  const log = o.log ?? (() => undefined);
  if (o.stopWhen.some((c) => c.kind !== 'metric')) throw invalidInput('stop-when', 'only metric conditions can be watched beside `fault inject`');
  const job = startLoad(
    { ...o.load, durationMs: o.load.durationMs ?? Math.min(holdMs + INJECT_REVERT_ALLOWANCE_MS, MAX_HOLD_MS) },
    { signal, ...(o.onLoadEvent ? { onEvent: o.onLoadEvent } : {}) },
  );
  o.onLoadStart?.(job);
  // A stop ends the hold, never the revert (holdFault reverts with a fresh signal).
  const stopped = new AbortController();
  const watching = new AbortController();
  let stop: StopRecord | undefined;
  try {
    const { watched } = watchStop(
      o.stopWhen,
      job,
      (s) => {
        stop = s;
        stopped.abort(new Error(`stop condition: ${s.condition}`));
        job.stop();
        log(`${describeStop(s)}: reverting the fault, stopping the load`);
      },
      AbortSignal.any([signal, watching.signal]),
    );
    if (o.stopWhen.length && !watched) throw invalidInput('stop-when', 'this load has no live timeline to watch (worker threads)');
    // The fault goes in once the load runs, so the timeline shows the time before it too.
    await sleep(-job.elapsedMs(), signal);
    const startMs = job.elapsedMs();
    log(`t=${(startMs / 1000).toFixed(1)}s inject ${fault.definition.name}`);
    const active = await injectFault(ctx, fault, signal, { holdMs });
    const window = job.openFault(fault.definition.name, startMs);
    o.onActive?.(active, job.elapsedMs() - startMs);
    // The hold ends at --for, on a breach or on an interrupt; the revert follows each (holdFault then throws the interrupt).
    let cut: unknown;
    await sleep(holdMs, AbortSignal.any([signal, stopped.signal])).catch((err: unknown) => {
      if (signal.aborted || !stopped.signal.aborted) cut = err;
    });
    const endMs = job.elapsedMs();
    window.close(endMs);
    if (stop) stop.firstRevertAfterMs = Math.max(0, endMs - stop.atMs);
    log(`t=${(endMs / 1000).toFixed(1)}s revert ${fault.definition.name}`);
    await holdFault(active, 0, signal);
    if (cut !== undefined) throw cut;
    watching.abort();
    job.stop();
    return { fault: active, load: await job.result, ...(stop ? { stop } : {}) };
  } catch (err) {
    // The load never outlives the command: stopped and settled before the error goes up.
    watching.abort();
    job.stop();
    await job.result.catch(() => undefined);
    throw err;
  }
}
