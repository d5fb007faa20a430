// The closed driver on several worker threads, for targets one Node thread cannot saturate: each thread runs its
// share of the connections from one shared t = 0; ticks are summed per second, and at the end the timelines merge
// bucket by bucket (HdrHistograms merged, so percentiles are of every request). Fault windows live here, in the
// thread that owns the job.

import { Worker } from 'node:worker_threads';
import { FaultlineError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { WriteLedger } from './ledger.js';
import { toSettings } from './options.js';
import { Timeline } from './timeline.js';
import { FaultWindows, finishJob, safeEmitter } from './job-shared.js';
import type { LoadResultJSON } from './result-json.js';
import type { ToWorker, WorkerMessage, WorkerStart } from './worker-entry.js';
import type { LoadContext, LoadJob, LoadOptions, LoadOptionsInput, LoadResult, LoadTick, StopReason } from './types.js';

/** Once every thread has loaded the engine, they all start this long after the last one said so. */
const START_DELAY_MS = 50;

/** Splits n into k near-equal whole parts (the first ones one larger). */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** Sums the ticks of one second from every thread; p99 is the worst thread's (a bound, not a merged percentile). */
export function sumTicks(ticks: LoadTick[], faults: string[]): LoadTick {
  const first = ticks[0] as LoadTick;
  const sum = (f: (t: LoadTick) => number) => ticks.reduce((n, t) => n + f(t), 0);
  const p99s = ticks.map((t) => t.p99Ms).filter((v): v is number => v !== null);
  const waiting = ticks.map((t) => t.waitingUntilMs).filter((v): v is number => v !== null);
  return {
    second: first.second,
    elapsedMs: Math.max(...ticks.map((t) => t.elapsedMs)),
    sent: sum((t) => t.sent),
    successes: sum((t) => t.successes),
    errors: sum((t) => t.errors),
    failedResponses: sum((t) => t.failedResponses),
    dropped: sum((t) => t.dropped),
    inFlight: sum((t) => t.inFlight),
    p99Ms: p99s.length ? Math.max(...p99s) : null,
    faults,
    waitingUntilMs: waiting.length ? Math.max(...waiting) : null,
  };
}

/** Built: the sibling .js. From source (under tsx, as the tests run): the .ts, loaded through tsx's own register(). */
function spawnWorker(data: WorkerStart): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: data });
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

export function startOnWorkers(options: LoadOptions, input: LoadOptionsInput, context: LoadContext): LoadJob {
  const { signal, onEvent } = context;
  const n = options.workers;
  // t = 0 is set once every thread is loaded; until then the job's clock reads far below zero.
  let startAtMs = performance.timeOrigin + performance.now() + 3_600_000;
  const now = () => performance.timeOrigin + performance.now() - startAtMs;
  let ready = 0;
  const settings = toSettings(options);
  const emit = safeEmitter(onEvent);
  const windows = new FaultWindows(now, emit);

  const connections = split(options.connections, n);
  const requests = options.requests === null ? null : split(options.requests, n);
  const pending = new Map<number, LoadTick[]>();
  const workers: Worker[] = [];
  let stopReason: StopReason = 'completed';

  const tell = (m: ToWorker) => {
    for (const w of workers) w.postMessage(m);
  };

  const results = connections.map(
    (c, i) =>
      new Promise<LoadResultJSON>((resolve, reject) => {
        const share: LoadOptionsInput = { ...input, connections: c, workers: 1, ...(requests ? { requests: requests[i] } : {}) };
        const w = spawnWorker({ input: share });
        workers.push(w);
        w.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready') {
            ready += 1;
            if (ready === n) {
              startAtMs = performance.timeOrigin + performance.now() + START_DELAY_MS;
              tell({ type: 'start', startAtMs });
              emit({ type: 'start', runId: options.runId, driver: options.driver, startedAt: new Date(startAtMs).toISOString(), options: settings });
            }
          } else if (m.type === 'tick') {
            const got = pending.get(m.tick.second) ?? [];
            got.push(m.tick);
            pending.set(m.tick.second, got);
            if (got.length === n) {
              pending.delete(m.tick.second);
              emit({ type: 'tick', tick: sumTicks(got, windows.active()) });
            }
          } else if (m.type === 'done') resolve(m.result);
          else reject(new FaultlineError(m.code as ErrorCode, m.message));
        });
        w.on('error', (err) => reject(new FaultlineError('INTERNAL', `load worker ${i + 1}: ${err.message}`, { cause: err })));
        w.on('exit', (code) => reject(new FaultlineError('INTERNAL', `load worker ${i + 1} exited (${code}) before its result`)));
      }),
  );

  const onAbort = () => {
    stopReason = 'aborted';
    tell({ type: 'abort' });
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const result = Promise.all(results)
    .then((parts): LoadResult => {
      const timeline = Timeline.merge(parts.map((p) => Timeline.fromJSON(p.timeline)));
      const durationMs = Math.max(...parts.map((p) => p.durationMs));
      timeline.extendTo(durationMs);
      if (stopReason === 'completed') stopReason = parts.find((p) => p.stopReason !== 'completed')?.stopReason ?? 'completed';
      return finishJob(options, settings, windows, emit, {
        startedAtMs: startAtMs,
        durationMs,
        stopReason,
        timeline,
        ledger: new WriteLedger(options.runId, startAtMs),
        dropped: 0,
        schedule: null,
      });
    })
    .finally(() => {
      signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
    });

  return {
    runId: options.runId,
    options,
    result,
    stop: () => {
      if (stopReason === 'completed') stopReason = 'stopped';
      tell({ type: 'stop' });
    },
    openFault: (name: string, startMs?: number) => windows.open(name, startMs),
    markFault: (name: string, active: boolean) => windows.mark(name, active),
    elapsedMs: now,
  };
}
