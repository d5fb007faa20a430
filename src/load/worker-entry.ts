// One worker thread of a closed run on several threads (workers.ts): says when it is loaded, waits for the shared
// start instant, runs its share of the connections, streams its ticks and hands back its result as JSON.

import { parentPort, workerData } from 'node:worker_threads';
import { startLoad } from './engine.js';
import { loadResultToJSON } from './result-json.js';
import { FaultlineError } from '../errors.js';
import type { LoadOptionsInput } from './types.js';

export interface WorkerStart {
  input: LoadOptionsInput;
}

/** To a worker: start at this instant, on the clock every thread shares (performance.timeOrigin + now()); stop; abort. */
export type ToWorker = { type: 'start'; startAtMs: number } | { type: 'stop' } | { type: 'abort' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'tick'; tick: import('./types.js').LoadTick }
  | { type: 'done'; result: import('./result-json.js').LoadResultJSON }
  | { type: 'error'; code: string; message: string };

const port = parentPort;
if (port) {
  const { input } = workerData as WorkerStart;
  const controller = new AbortController();
  let job: ReturnType<typeof startLoad> | null = null;
  let stopAsked = false;
  let startAtMs = 0;
  const post = (m: WorkerMessage) => port.postMessage(m);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      startAtMs = m.startAtMs;
      setTimeout(begin, Math.max(0, startAtMs - (performance.timeOrigin + performance.now())));
    } else if (m.type === 'abort') {
      controller.abort();
      if (!job) post(errorMessage(new FaultlineError('ABORTED', 'load: aborted before it started')));
    } else if (job) job.stop();
    else stopAsked = true;
  });
  const begin = () => {
    try {
      job = startLoad(input, { signal: controller.signal, originMs: startAtMs, onEvent: (e) => e.type === 'tick' && post({ type: 'tick', tick: e.tick }) });
      if (stopAsked) job.stop();
      job.result.then(
        (r) => post({ type: 'done', result: loadResultToJSON(r) }),
        (err: unknown) => post(errorMessage(err)),
      );
    } catch (err) {
      post(errorMessage(err));
    }
  };
  post({ type: 'ready' });
}

function errorMessage(err: unknown): WorkerMessage {
  if (err instanceof FaultlineError) return { type: 'error', code: err.code, message: err.message };
  return { type: 'error', code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
