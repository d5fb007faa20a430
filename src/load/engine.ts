// The load engine: validate, pick a driver, emit start / per-second tick / done, keep fault windows,
// and assemble the LoadResult. It only measures and emits; drawing progress and printing are elsewhere.

import { FaultlineError } from '../errors.js';
import { ClosedDriver } from './driver-closed.js';
import { PacedDriver } from './driver-paced.js';
import type { Driver, DriverContext, DriverReport } from './driver.js';
import { WriteLedger } from './ledger.js';
import { toSettings, validateLoadOptions } from './options.js';
import { Timeline } from './timeline.js';
import { Workload } from './workload.js';
import { FaultWindows, finishJob, round3, safeEmitter } from './job-shared.js';
import { startOnWorkers } from './workers.js';
import type { LoadContext, LoadJob, LoadOptionsInput, LoadResult, LoadTick, StopReason } from './types.js';

/**
 * Starts load and returns its handle at once. All input is validated first: bad input throws
 * FaultlineError('INVALID_INPUT') synchronously and nothing is sent; an already aborted signal throws ABORTED.
 */
export function startLoad(input: LoadOptionsInput, context: LoadContext = {}): LoadJob {
  const options = validateLoadOptions(input);
  const { signal, onEvent } = context;
  if (signal?.aborted) throw new FaultlineError('ABORTED', 'load: aborted before it started', { cause: signal.reason });
  if (options.workers > 1) return startOnWorkers(options, input, context);

  const origin = context.originMs === undefined ? performance.now() : context.originMs - performance.timeOrigin;
  const startedAt = Math.round(performance.timeOrigin + origin);
  const now = () => performance.now() - origin;
  // Both drivers keep the answered-only latency beside the one that counts timed-out requests at their deadline.
  const timeline = new Timeline({ bucketMs: options.bucketMs, startedAt, uncorrected: true });
  const ledger = new WriteLedger(options.runId, startedAt, options.keySpace);
  const workload = new Workload(options, ledger);
  const ctx: DriverContext = { options, timeline, ledger, workload, now };
  const settings = toSettings(options);

  const emit = safeEmitter(onEvent);
  const windows = new FaultWindows(now, emit);
  let stopReason: StopReason = 'completed';
  let tickTimer: NodeJS.Timeout | null = null;
  let second = 0;
  let done = false;
  let sendingEnded = false;

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
      faults: windows.active(),
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
  tickTimer = setTimeout(tick, Math.max(0, 1000 - now()));

  const finish = (report: DriverReport): LoadResult => {
    done = true;
    if (tickTimer) clearTimeout(tickTimer);
    signal?.removeEventListener('abort', onAbort);
    const durationMs = Math.max(report.sendingEndedMs, 0);
    timeline.extendTo(durationMs);
    timeline.seal();
    return finishJob(options, settings, windows, emit, {
      startedAtMs: startedAt,
      durationMs: round3(durationMs),
      stopReason,
      timeline,
      ledger,
      dropped: report.dropped,
      schedule: report.schedule,
    });
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
    openFault: (name: string, startMs?: number) => windows.open(name, startMs),
    markFault: (name: string, active: boolean) => windows.mark(name, active),
    elapsedMs: now,
    inFlightTimes: (fromMs: number, toMs: number) => driver.inFlightTimes(fromMs, toMs),
    timeline,
    ledger,
  };
}

/** Runs load to the end (or until the signal aborts, which resolves with what was measured so far). */
export async function runLoad(input: LoadOptionsInput, context: LoadContext = {}): Promise<LoadResult> {
  return startLoad(input, context).result;
}
