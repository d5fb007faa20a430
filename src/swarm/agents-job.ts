// Load agents as a LoadJob, the handle an experiment's runner and `faultline load --agents` hold: fault windows on the
// agents' shared clock (t = 0 is their start instant), stop() ends their sending (SIGTERM to each agent), and the result
// is the exact merge. Live as one process is: its timeline is the live merge of the buckets the agents ship (a second
// is there once every agent's share of it arrived, or the agent is known dead), so stop conditions and remote-write
// follow it, and a tick per such second drives the progress lines.

import { FaultWindows, safeEmitter } from '../load/job-shared.js';
import { toSettings, validateLoadOptions } from '../load/options.js';
import type { LoadContext, LoadJob, LoadResult, LoadTick, StopReason } from '../load/types.js';
import type { AgentsResult } from '../load/agents.js';
import { FINAL_SLACK_MS } from '../load/agents-entry.js';
import type { LiveMerge } from '../load/agents-live.js';
import type { FaultWindow } from '../probes/types.js';
import { runAgents, type AgentsRunOptions } from './agents.js';

export interface AgentsJob {
  job: LoadJob;
  /** Settles once the agents' service exists and t = 0 is known (rejects when the run failed before). */
  started: Promise<void>;
  /** The merged result with each agent's outcome and ledger (the command prints them). */
  outcome: Promise<AgentsResult>;
}

/** The tick of second `second` (1-based) of the live merge: what one process's tick says of that second. Pure. */
export function agentsTick(live: Pick<LiveMerge, 'timeline' | 'finalMs'>, second: number, faults: readonly FaultWindow[], nowMs: number): LoadTick {
  const w = live.timeline.window((second - 1) * 1000, second * 1000);
  return {
    second,
    // As far as the merge can vouch for: every agent's second is final FINAL_SLACK_MS after its end, as on one machine.
    elapsedMs: Math.round(Math.min(nowMs, live.finalMs + FINAL_SLACK_MS)),
    sent: w.sent,
    successes: w.successes,
    errors: w.errors,
    failedResponses: w.responses - w.successes,
    dropped: w.dropped,
    inFlight: 0,
    p99Ms: w.latency.p99,
    faults: faults.filter((f) => f.startMs < second * 1000 && (f.endMs === null || f.endMs > (second - 1) * 1000)).map((f) => f.name),
    waitingUntilMs: null,
  };
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
  let live: LiveMerge | null = null;
  let second = 0;
  const onSeconds = (l: LiveMerge) => {
    while ((second + 1) * 1000 <= l.finalMs) {
      second += 1;
      emit({ type: 'tick', tick: agentsTick(l, second, windows.list, now()) });
    }
  };
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
    onSeconds,
    onStarted: (s) => {
      startAtMs = s.startAtMs;
      live = s.live;
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
    get timeline() {
      return live?.timeline;
    },
  };
  return { job, started: Promise.race([started, result.then(() => undefined)]), outcome: run };
}
