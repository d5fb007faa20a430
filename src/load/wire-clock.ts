// Whether paced requests leave on schedule: each request's wire lag (intended send time → its bytes written to the
// socket) and the requests not on the wire within the late bound, which the driver gives up as late. An open model
// means requests reach the server at their intended time; one that would reach it later must not count as on time.

import type { Histogram } from 'hdr-histogram-js';
import { clampUs, newHistogram } from './histogram.js';
import type { DriverContext, InFlightRequest } from './driver.js';
import type { WriteAnswer } from './ledger.js';
import { LATE_CODE } from './timeline.js';

/**
 * Connect failures that are the client's own limits, not the server's doing: the request could not be put on the
 * wire at all, so it is late rather than an error the server caused.
 */
const LOCAL_LIMITS = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS']);

export function isLocalLimitCode(code: string): boolean {
  return LOCAL_LIMITS.has(code);
}

/**
 * Records a late request's outcome: LATE in the timeline (with its wire lag when it was never on the wire: the moment
 * it was given up); in the write ledger, what became of the write: never sent, or what the server said to it.
 */
export function recordLate(ctx: DriverContext, req: InFlightRequest, nowMs: number, givenUpLagUs: number | null, write?: WriteAnswer): void {
  ctx.timeline.recordLate(req.tMs, givenUpLagUs);
  if (req.ledger >= 0) {
    const w = ctx.ledger.complete(req.ledger, nowMs, write ?? { errorCode: LATE_CODE, sent: false });
    if (w.outcome === 'ok' && w.id !== null) ctx.workload.noteId(w.id);
  }
}

/** The part of a request the clock reads. */
export interface WireBound {
  /** Intended send time, ms since t = 0. */
  readonly tMs: number;
  /** ms since t = 0 when it went onto the wire; -1 until then. */
  readonly sentAtMs: number;
  /** ms since t = 0 when it was handed to undici; -1 while in the driver's queue. */
  readonly handedMs: number;
  readonly settled: boolean;
}

export class WireClock<R extends WireBound> {
  /** Wire lag of every request, µs: on-time ones at their write, late ones at the moment they were given up. */
  readonly lag: Histogram = newHistogram();
  /**
   * The longest a due request may wait for a socket of the base pool before it gets a fresh one (admission.ts waits
   * less when answers come fast): a tenth of the bound, which leaves the rest for the connect and for a busy machine.
   */
  readonly spareAfterMs: number;
  /** Not yet on the wire, in intended-time order; settled or sent ones are skipped when they reach the head. */
  private readonly waiting: R[] = [];
  private head = 0;

  constructor(readonly lateAfterMs: number) {
    this.spareAfterMs = lateAfterMs / 10;
  }

  /** A request the schedule just dispatched (in intended-time order). */
  track(req: R): void {
    this.waiting.push(req);
  }

  /** Whether a request reaching the wire (or dispatched) at nowMs is past the bound. */
  isLate(req: R, nowMs: number): boolean {
    return nowMs - req.tMs >= this.lateAfterMs;
  }

  /** Notes one request's wire lag in µs, clamped as latencies are; returns the value recorded. */
  record(req: R, nowMs: number): number {
    const us = clampUs((nowMs - req.tMs) * 1000);
    this.lag.recordValue(us);
    return us;
  }

  /**
   * Takes the requests still in the driver's queue whose bound has passed, oldest first. One already handed to undici
   * is judged when it reaches the wire instead: giving it up then would destroy the fresh connection it waited for.
   */
  overdue(nowMs: number): R[] {
    const out: R[] = [];
    while (this.head < this.waiting.length) {
      const req = this.waiting[this.head] as R;
      if (!req.settled && req.handedMs < 0) {
        // Intended times only grow along the list: past the first one still within its bound, all are.
        if (!this.isLate(req, nowMs)) break;
        out.push(req);
      }
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  clear(): void {
    this.waiting.length = 0;
    this.head = 0;
  }
}
