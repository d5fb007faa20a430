// The one polling helper: retry until a predicate holds, with a deadline, an abort signal and a clock tests can replace.

import { FaultlineError } from '../errors.js';
import { sleep } from './sleep.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};

export interface RetryOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Says what was awaited, for the timeout message. */
  what?: string;
}

/**
 * Calls fn until predicate(result) is true; errors thrown by fn count as "not yet". An error thrown by the predicate
 * ends the wait at once: that is how a wait fails fast (a crashed container will not become healthy by waiting).
 * Throws a TIMEOUT error naming `what` (and the last error) when the deadline passes.
 */
export async function retryUntil<T>(fn: () => Promise<T>, predicate: (value: T) => boolean, options: RetryOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const interval = options.intervalMs ?? 250;
  const deadline = clock.now() + options.timeoutMs;
  let lastError: unknown;
  let lastValue: T | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    let got = false;
    try {
      lastValue = await fn();
      got = true;
    } catch (err) {
      lastError = err;
    }
    if (got && predicate(lastValue as T)) return lastValue as T;
    if (clock.now() + interval > deadline) break;
    await clock.sleep(interval, options.signal);
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new FaultlineError('TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${options.what ?? 'condition'}${detail}`, {
    cause: lastError,
  });
}
