// The load engine: validate, pick a driver, emit start / per-second tick / done, keep fault marks,
// and assemble the LoadResult. It only measures and emits; drawing progress and printing are elsewhere.

import { FaultlineError } from '../errors.js';
import { ClosedDriver } from './driver-closed.js';
import { PacedDriver } from './driver-paced.js';
import type { Driver, DriverContext, DriverReport } from './driver.js';
import { WriteLedger } from './ledger.js';
import { toSettings, validateLoadOptions } from './options.js';
import { Timeline } from './timeline.js';
import { Workload } from './workload.js';
import type { FaultMark, LoadContext, LoadEvent, LoadJob, LoadOptionsInput, LoadResult, LoadTick, StopReason } from './types.js';

/**
 * Starts load and returns its handle at once. All input is validated first: bad input throws
 * FaultlineError('INVALID_INPUT') synchronously and nothing is sent; an already aborted signal throws ABORTED.
 */
export function startLoad(input: LoadOptionsInput, context: LoadContext = {}): LoadJob {
  const options = validateLoadOptions(input);
  const { signal, onEvent } = context;
  if (signal?.aborted) throw new FaultlineError('ABORTED', 'load: aborted before it started', { cause: signal.reason });

  const startedAt = Date.now();
  const origin = performance.now();
  const now = () => performance.now() - origin;
  const timeline = new Timeline({ bucketMs: options.bucketMs, startedAt, uncorrected: options.driver === 'paced' });
  const ledger = new WriteLedger(options.runId, startedAt);
  const workload = new Workload(options, ledger);
  const ctx: DriverContext = { options, timeline, ledger, workload, now };
  const settings = toSettings(options);

  const faults: FaultMark[] = [];
  let stopReason: StopReason = 'completed';
  let tickTimer: NodeJS.Timeout | null = null;
  let second = 0;
  let done = false;
  let sendingEnded = false;

  const emit = (event: LoadEvent) => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (err) {
      // A broken listener must not break the measurement; say so once per event instead.
      process.emitWarning(`load: ${event.type} listener threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const activeFaults = () => faults.filter((f) => f.endMs === null).map((f) => f.name);

  const driver: Driver = options.driver === 'closed' ? new ClosedDriver(ctx) : new PacedDriver(ctx);

  const tick = () => {
    second += 1;
    const w = timeline.window((second - 1) * 1000, second * 1000);
    const t: LoadTick = {
      second,
      elapsedMs: Math.round(now()),
      sent: w.sent,
      successes: w.successes,
      errors: w.errors,
      failedResponses: w.responses - w.successes,
      dropped: w.dropped,
      inFlight: driver.inFlight(),
      p99Ms: w.latency.p99,
      faults: activeFaults(),
      waitingUntilMs: sendingEnded || now() >= options.durationMs ? driver.lastDeadlineMs() : null,
    };
    emit({ type: 'tick', tick: t });
    // Buckets no answer can reach any more are encoded, so long runs keep memory flat.
    timeline.seal(now() - options.timeoutMs - 2000);
    if (!done) tickTimer = setTimeout(tick, Math.max(0, (second + 1) * 1000 - now()));
  };

  const stop = (reason: StopReason, wait: boolean) => {
    if (reason === 'aborted' || (stopReason === 'completed' && reason !== 'completed')) stopReason = reason;
    sendingEnded = true;
    driver.stop(wait);
  };
  const onAbort = () => stop('aborted', false);
  signal?.addEventListener('abort', onAbort, { once: true });

  emit({ type: 'start', runId: options.runId, driver: options.driver, startedAt: new Date(startedAt).toISOString(), options: settings });
  tickTimer = setTimeout(tick, 1000);

  const finish = (report: DriverReport): LoadResult => {
    done = true;
    if (tickTimer) clearTimeout(tickTimer);
    signal?.removeEventListener('abort', onAbort);
    const endMs = now();
    for (const f of faults) if (f.endMs === null) f.endMs = round3(endMs);
    const durationMs = Math.max(report.sendingEndedMs, 0);
    timeline.extendTo(durationMs);
    timeline.seal();
    const result: LoadResult = {
      runId: options.runId,
      driver: options.driver,
      options: settings,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: round3(durationMs),
      stopReason,
      timeline,
      ledger,
      summary: timeline.summary(round3(durationMs)),
      dropped: report.dropped,
      faults,
      schedule: report.schedule,
    };
    emit({ type: 'done', result });
    return result;
  };

  const result = driver.run().then(finish, (err: unknown) => {
    done = true;
    if (tickTimer) clearTimeout(tickTimer);
    signal?.removeEventListener('abort', onAbort);
    throw err;
  });

  return {
    runId: options.runId,
    options,
    result,
    stop: () => stop('stopped', true),
    markFault: (name: string, active: boolean) => {
      if (typeof name !== 'string' || name === '') throw new FaultlineError('INVALID_INPUT', 'fault: needs a name');
      const open = faults.find((f) => f.name === name && f.endMs === null);
      const t = round3(now());
      if (active && !open) faults.push({ name, startMs: t, endMs: null });
      else if (!active && open) open.endMs = t;
      else return;
      emit({ type: 'fault', name, active, elapsedMs: t });
    },
    elapsedMs: now,
  };
}

/** Runs load to the end (or until the signal aborts, which resolves with what was measured so far). */
export async function runLoad(input: LoadOptionsInput, context: LoadContext = {}): Promise<LoadResult> {
  return startLoad(input, context).result;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
