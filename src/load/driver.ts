// What both drivers share: the context they record into, the report they hand back, and the one place
// that turns an answer or a failure into timeline counts and ledger outcomes, so both count the same way.

import type { Timeline } from './timeline.js';
import { isExpectedStatus } from './ledger.js';
import type { WriteLedger } from './ledger.js';
import type { Workload } from './workload.js';
import type { LoadOptions, ScheduleAccuracy } from './types.js';

export interface DriverContext {
  options: LoadOptions;
  timeline: Timeline;
  ledger: WriteLedger;
  workload: Workload;
  /** Milliseconds since t = 0 (monotonic). */
  now(): number;
}

export interface DriverReport {
  dropped: number;
  /** When sending stopped, ms since t = 0. */
  sendingEndedMs: number;
  schedule: ScheduleAccuracy | null;
}

export interface Driver {
  /** Starts sending; settles after sending stopped and every request sent has an outcome. */
  run(): Promise<DriverReport>;
  /**
   * Stop sending now. `wait`: requests in flight keep their deadlines; otherwise (an abort) each gets the outcome
   * ABORTED at once. Idempotent; an abort may follow a wait.
   */
  stop(wait: boolean): void;
  inFlight(): number;
  /** The latest deadline among requests in flight (ms since t = 0), or null when none is. */
  lastDeadlineMs(): number | null;
  /** The timeline times (tMs) of the requests in flight filed in [fromMs, toMs): live checks read their age. */
  inFlightTimes(fromMs: number, toMs: number): number[];
}

/** One request between send and answer. */
export interface InFlightRequest {
  /** Time the timeline files it under: intended send time (paced) or send time (closed). */
  tMs: number;
  /** Ledger handle for writes, -1 otherwise. */
  ledger: number;
  /** The statuses its request expects (null: any 2xx); undefined for GET <url>, where 2xx and 3xx succeed. */
  expect?: readonly number[] | null | undefined;
}

/** Records an answer: latency from tMs (and, for paced, uncorrected from the actual send). */
export function recordResponse(
  ctx: DriverContext,
  req: InFlightRequest,
  status: number,
  body: string | undefined,
  nowMs: number,
  uncorrectedUs?: number,
): void {
  const ok = req.expect === undefined ? undefined : isExpectedStatus(status, req.expect);
  ctx.timeline.recordResponse(req.tMs, status, (nowMs - req.tMs) * 1000, uncorrectedUs, ok);
  if (req.ledger >= 0) {
    const w = ctx.ledger.complete(req.ledger, nowMs, { status, body, sent: true });
    if (w.outcome === 'ok' && w.id !== null) ctx.workload.noteId(w.id);
  }
}

/** Records a failure without an answer; `sent` says whether request bytes may have reached the server. */
export function recordFailure(ctx: DriverContext, req: InFlightRequest, code: string, sent: boolean, nowMs: number): void {
  ctx.timeline.recordError(req.tMs, code);
  if (req.ledger >= 0) ctx.ledger.complete(req.ledger, nowMs, { errorCode: code, sent });
}

/** Records a request that had no answer by its deadline: ETIMEDOUT, with its latency censored at the deadline. */
export function recordTimeout(ctx: DriverContext, req: InFlightRequest, deadlineMs: number, sent: boolean): void {
  ctx.timeline.recordTimeout(req.tMs, Math.max(0, deadlineMs - req.tMs) * 1000);
  if (req.ledger >= 0) ctx.ledger.complete(req.ledger, deadlineMs, { errorCode: 'ETIMEDOUT', sent });
}

/** The outcome of a request still in flight when the run was aborted (Ctrl-C): a failure of its own code. */
export const ABORTED_CODE = 'ABORTED';

/** How often drivers look for requests past their deadline. */
export const DEADLINE_SWEEP_MS = 25;
