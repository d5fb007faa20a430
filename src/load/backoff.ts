// Reconnect back-off for the closed driver: 10 ms doubling to 1 s, reset by the first answer on a connection,
// so a dead target costs a handful of attempts per connection and second instead of thousands.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 10, maxMs: 1000 };

export class Backoff {
  private failures = 0;
  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Delay before the next attempt after one more failure. */
  fail(): number {
    this.failures += 1;
    return backoffDelay(this.failures, this.policy);
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}

/** Delay after n consecutive failures (n ≥ 1): initial · 2^(n−1), capped. */
export function backoffDelay(n: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (n <= 0) return 0;
  const exp = Math.min(n - 1, 30);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exp);
}
