// The one abortable sleep. node:timers/promises does the timer; an abort rejects with the signal's own
// reason (not Node's generic AbortError), as every caller here expects: `interrupted by SIGINT` stays that.

import { setTimeout as delay } from 'node:timers/promises';

/** The longest wait one Node timer takes; a longer one fires after 1 ms (with a warning), so longer waits are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits `ms` (negative counts as 0; longer than one timer allows, in steps); an abort, before or during, rejects with `signal.reason`. */
export async function sleep(ms: number, signal?: AbortSignal, timerMs = MAX_TIMER_MS): Promise<void> {
  signal?.throwIfAborted();
  try {
    for (let left = Math.max(0, ms); ; left -= timerMs) {
      await delay(Math.min(left, timerMs), undefined, signal ? { signal } : {});
      if (left <= timerMs) return;
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
