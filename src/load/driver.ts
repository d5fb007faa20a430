// What both drivers share: the context they record into, the report they hand back, and the one place
// that turns an answer or a failure into timeline counts and ledger outcomes, so both count the same way.

import type { Timeline } from './timeline.js';
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
  /** Sent but unanswered when the run ended. */
  abandoned: number;
  dropped: number;
  /** When sending stopped, ms since t = 0. */
  sendingEndedMs: number;
  schedule: ScheduleAccuracy | null;
}

export interface Driver {
  /** Starts sending; settles after sending stopped and answers drained (or the drain time ran out). */
  run(): Promise<DriverReport>;
  /** Stop sending now; wait up to drainMs for answers in flight (0: abandon them at once). Idempotent. */
  stop(drainMs: number): void;
  inFlight(): number;
}

/** One request between send and answer. */
export interface InFlightRequest {
  /** Time the timeline files it under: intended send time (paced) or send time (closed). */
  tMs: number;
  /** Ledger handle for writes, -1 otherwise. */
  ledger: number;
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
  ctx.timeline.recordResponse(req.tMs, status, (nowMs - req.tMs) * 1000, uncorrectedUs);
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
