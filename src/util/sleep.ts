// The one abortable sleep. node:timers/promises does the timer; an abort rejects with the signal's own
// reason (not Node's generic AbortError), as every caller here expects: `interrupted by SIGINT` stays that.

import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms` (negative counts as 0); an abort, before or during, rejects with `signal.reason`. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  try {
    await delay(Math.max(0, ms), undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
