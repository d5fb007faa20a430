// Load agents as a LoadJob, the handle an experiment's runner holds: fault windows on the agents' shared clock (t = 0 is
// their start instant), stop() ends their sending (SIGTERM through a scale to 0), and the result is the exact merge.
// Like load on worker threads it has no live timeline: stop conditions on the timeline see it only at the end.

import { FaultWindows, safeEmitter } from '../load/job-shared.js';
import { toSettings, validateLoadOptions } from '../load/options.js';
import type { LoadContext, LoadJob, LoadResult, StopReason } from '../load/types.js';
import { runAgents, type AgentsRunOptions } from './agents.js';

export interface AgentsJob {
  job: LoadJob;
  /** Settles once the agents' service exists and t = 0 is known (rejects when the run failed before). */
  started: Promise<void>;
}

export function startAgentsJob(o: Omit<AgentsRunOptions, 'stop' | 'onStarted' | 'signal'>, context: LoadContext = {}): AgentsJob {
  const options = validateLoadOptions({ ...o.input, allowRemoteTarget: true });
  const input = { ...o.input, runId: options.runId };
  // Until the agents' start instant is known the job's clock reads far below zero, as on worker threads.
  let startAtMs = Date.now() + 3_600_000;
  const now = () => Date.now() - startAtMs;
  const emit = safeEmitter(context.onEvent);
  const windows = new FaultWindows(now, emit);
  const stopper = new AbortController();
  let stopReason: StopReason = 'completed';
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const onAbort = () => {
    stopReason = 'aborted';
    stopper.abort();
  };
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const run = runAgents({
    ...o,
    input,
    stop: stopper.signal,
    ...(context.signal ? { signal: context.signal } : {}),
    onStarted: (s) => {
      startAtMs = s.startAtMs;
      emit({ type: 'start', runId: options.runId, driver: options.driver, startedAt: new Date(s.startAtMs).toISOString(), options: toSettings(options) });
      markStarted();
    },
  });
  const result = run
    .then(({ result: merged }): LoadResult => {
      windows.closeAll();
      const r: LoadResult = { ...merged, faults: windows.list, stopReason: stopReason === 'completed' ? merged.stopReason : stopReason };
      emit({ type: 'done', result: r });
      return r;
    })
    .finally(() => context.signal?.removeEventListener('abort', onAbort));
  const job: LoadJob = {
    runId: options.runId,
    options,
    result,
    stop: () => {
      if (stopReason === 'completed') stopReason = 'stopped';
      stopper.abort();
    },
    openFault: (name: string, startMs?: number) => windows.open(name, startMs),
    markFault: (name: string, active: boolean) => windows.mark(name, active),
    elapsedMs: now,
  };
  return { job, started: Promise.race([started, result.then(() => undefined)]) };
}
