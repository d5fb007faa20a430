// One paced request as undici's dispatch handler sees it: when it reached a socket (so whether a write may have
// reached the server, and when it was really sent), its status and, for writes, its body; the outcome is the driver's.

import type { Dispatcher } from 'undici';
import type { InFlightRequest } from './driver.js';

/** What a request reports back to the driver that owns it. */
export interface PacedOwner {
  readonly ctx: { now(): number };
  complete(r: PacedRequest): void;
  fail(r: PacedRequest, err: Error): void;
  /** Right before the write: notes its wire lag (and whether it is late). */
  onWire(r: PacedRequest, nowMs: number): void;
}

export class PacedRequest implements InFlightRequest {
  status = 0;
  /** ms since t = 0 when undici put the request on a socket (its bytes are written right after); -1 until then. */
  sentAtMs = -1;
  /** ms since t = 0 when it was handed to undici (left the driver's queue); -1 while queued. */
  handedMs = -1;
  chunks: Buffer[] | null;
  /** Reached the wire past the late bound: whatever the server says, its outcome is late. */
  late = false;
  /** Set once the outcome is recorded (answer, error or the client-side deadline): later callbacks are ignored. */
  settled = false;
  abort: ((err: Error) => void) | null = null;
  /** What to dispatch; dropped once handed to undici. */
  opts: Dispatcher.DispatchOptions | null = null;

  constructor(
    private readonly driver: PacedOwner,
    readonly tMs: number,
    readonly ledger: number,
    readonly dispatchedMs: number,
    readonly expect: readonly number[] | null | undefined,
  ) {
    this.chunks = ledger >= 0 ? [] : null;
  }

  onConnect(abort: (err: Error) => void): void {
    // Its deadline passed while it waited for a socket (only with a pool smaller than the in-flight bound): its
    // outcome is taken, so it must never reach the server.
    if (this.settled) {
      abort(new Error('faultline: request deadline'));
      return;
    }
    // undici calls this synchronously before it writes the request's bytes to the socket: the moment it leaves. A
    // late one still leaves (aborting it here would destroy the fresh connection that may serve the next request).
    this.sentAtMs = this.driver.ctx.now();
    this.abort = abort;
    this.driver.onWire(this, this.sentAtMs);
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    // Only writes need the body (for the id); everything else is drained unread.
    if (this.chunks && this.chunks.length < 64) this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.driver.complete(this);
  }

  onError(err: Error): void {
    this.driver.fail(this, err);
  }

  onUpgrade(): void {
    // Never asked for; present because undici checks handler shape.
  }
}
