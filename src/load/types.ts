// The load engine's shared vocabulary: options in and out, events, and the shape of a result.
// Timeline and WriteLedger are classes (timeline.ts, ledger.ts); everything here is plain data.

import type { Timeline } from './timeline.js';
import type { WriteLedger } from './ledger.js';
import type { OutcomeCounts } from './buckets.js';
import type { RequestSpec, WorkloadInput } from './workload-spec.js';
import type { WriteId } from './ledger.js';

/** closed: N connections, each sends as soon as its last answer came (autocannon). paced: an arrival schedule (undici). */
export type DriverKind = 'closed' | 'paced';

/** What a mix names: a request of the workload (lowercase letters, digits, - or _), e.g. read, write, place-order. */
export type MixKind = string;
/** A request's name, or `url` for the default: GET exactly the URL given (without a mix). */
export type RequestKind = MixKind;

export interface MixEntry {
  kind: MixKind;
  weight: number;
}

/** One piece of an arrival schedule: the rate goes linearly from `from` to `to` req/s over durationMs. */
export interface RateStage {
  durationMs: number;
  from: number;
  to: number;
}

/** Rate as callers may give it: constant, one ramp over the whole duration, or explicit stages. */
export type RateInput = number | { from: number; to: number } | RateStage[];

/** What a caller passes to startLoad/runLoad; validated and defaulted by validateLoadOptions. */
export interface LoadOptionsInput {
  url: string;
  /** Paced driver: arrival rate in requests per second. */
  rate?: RateInput;
  /** Closed driver: concurrent connections (default 10). With a rate: the paced driver's socket pool size. */
  connections?: number;
  /** Closed driver only: requests in flight per connection (default 1). */
  pipelining?: number;
  /**
   * Closed driver only: run on this many worker threads (default 1), connections split between them; their timelines
   * merge bucket by bucket (histograms merged, not averaged). Not with writes: a run has one write ledger.
   */
  workers?: number;
  /** How long load runs (default 30 s; with `requests`, it is a cap, default 10 min). */
  durationMs?: number;
  /** Stop after this many requests have been sent (paced: scheduled). */
  requests?: number;
  /**
   * "read=9,write=1" or parsed entries, naming the workload's requests; default the workload's own mix; without either,
   * every request is GET <url>.
   */
  mix?: string | MixEntry[];
  /**
   * The named requests a mix picks from (as `workload:` in a stack description, or just its `requests` map); default
   * the reference app's (whoami, read, write). Paths are under the URL's path.
   */
  workload?: WorkloadInput;
  /** Ids reads (${id}) use until this run's writes returned some, e.g. rows written before the run. */
  seedIds?: WriteId[];
  /** PEM of the CA(s) to trust; verification is on unless `insecure`. */
  ca?: string | Buffer;
  /** Skip certificate verification: an explicit, recorded choice. */
  insecure?: boolean;
  /** TLS SNI and the name the certificate is checked against (default: URL host, or hostHeader when the URL host is an IP). */
  servername?: string;
  /** Host header to send (default: the URL's host). */
  hostHeader?: string;
  /** Timeline bucket width (default 100 ms). */
  bucketMs?: number;
  /** Paced driver: bound on requests in flight; a due request over the bound is dropped and counted (default 1000). */
  maxInFlight?: number;
  /**
   * Paced driver: a request not on the wire this long after its intended send time is given up and counted as late,
   * a failure (default 100 ms; docs/load.md says why).
   */
  lateAfterMs?: number;
  /** A request with no answer after this long fails with ETIMEDOUT (default 10 s). */
  timeoutMs?: number;
  /** Needed for any target other than 127.0.0.1, ::1 or localhost. */
  allowRemoteTarget?: boolean;
  /** Prefix of every write key (letters and digits); default a fresh one per run. */
  runId?: string;
  /** Ids that reads use until writes in this run (or seedIds) have produced some (default 1..100). */
  idRange?: { min: number; max: number };
  /** Between the run's key prefix and each write's counter (load agents of one run: one each); letters and digits. */
  keySpace?: string;
}

/** Validated, defaulted options: what drivers see. */
export interface LoadOptions {
  url: URL;
  driver: DriverKind;
  /** Paced only; empty for closed. */
  stages: RateStage[];
  connections: number;
  pipelining: number;
  workers: number;
  durationMs: number;
  requests: number | null;
  mix: MixEntry[] | null;
  /** The requests the mix names, validated and defaulted; null without a mix. */
  workload: Record<string, RequestSpec> | null;
  seedIds: WriteId[];
  ca: string | null;
  insecure: boolean;
  servername: string | null;
  hostHeader: string | null;
  bucketMs: number;
  maxInFlight: number;
  /** Paced driver: the wire-lag bound past which a request is late (closed: unused). */
  lateAfterMs: number;
  timeoutMs: number;
  allowRemoteTarget: boolean;
  runId: string;
  idRange: { min: number; max: number };
  keySpace?: string;
}

/** The JSON-safe view of the options kept in a result (the CA itself is not copied). */
export interface LoadSettings extends Omit<LoadOptions, 'url' | 'ca'> {
  url: string;
  ca: boolean;
}

export interface LatencySummary {
  /** Number of recorded values. */
  count: number;
  /** All in milliseconds; null when nothing was recorded. */
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/**
 * Whole-run figures. Every intended request has exactly one outcome, filed under its intended send time:
 * intended = responses + errors + dropped, and errors include the timed-out ones. Ratios divide by intended.
 */
export interface LoadSummary extends OutcomeCounts {
  durationMs: number;
  /** Requests the run meant to send: sent + dropped (closed driver: sent). */
  intended: number;
  statuses: Record<string, number>;
  errorCodes: Record<string, number>;
  /** sent / duration. */
  rate: number;
  /** successes / duration. */
  successRate: number;
  /** successes / intended; null when nothing was intended. */
  availability: number | null;
  /** (intended − successes) / intended; null when nothing was intended. */
  errorRatio: number | null;
  /**
   * Paced: from the intended send time (corrected for coordinated omission). Closed: from the send. Timed-out
   * requests are in it at their deadline (censored), so a hang always shows.
   */
  latency: LatencySummary;
  /** Answered requests only, from the moment each went onto a socket: what a closed-loop tool would report. */
  uncorrected: LatencySummary | null;
  /**
   * Paced: intended send time → the request's bytes written to its socket, late requests at the moment they were given
   * up; count 0 for the closed driver (and absent in journals written before it was measured).
   */
  wireLag: LatencySummary;
}

/** Paced driver only: how well sends kept to the schedule. */
export interface ScheduleAccuracy {
  /** Requests the schedule asked for (sent + dropped). */
  scheduled: number;
  targetRate: number;
  achievedRate: number;
  /** Actual dispatch minus intended time, in ms: how well the sending loop kept up. */
  lag: LatencySummary;
  /**
   * Intended time → on the wire (bytes written to the socket), in ms: what the server could see. Late requests are
   * in it at the moment they were given up. Absent in journals written before it was measured.
   */
  wireLag?: LatencySummary;
  /** The bound past which a request not yet on the wire is late (ms). */
  lateAfterMs?: number;
}

/**
 * When a fault was on, on the load timeline's clock (ms since t = 0): the one record of it, kept by the load job and
 * read by progress, the recovery analysis and the journal. endMs is null while the fault is on.
 */
export interface FaultWindow {
  name: string;
  startMs: number;
  endMs: number | null;
}

/** An open fault window: close() ends it (at `endMs`, default now), once. */
export interface FaultWindowHandle {
  close(endMs?: number): void;
}

export type StopReason = 'completed' | 'stopped' | 'aborted';

export interface LoadResult {
  runId: string;
  driver: DriverKind;
  options: LoadSettings;
  /** Wall clock at t = 0 of the timeline (ISO 8601). */
  startedAt: string;
  durationMs: number;
  stopReason: StopReason;
  timeline: Timeline;
  ledger: WriteLedger;
  summary: LoadSummary;
  dropped: number;
  faults: FaultWindow[];
  schedule: ScheduleAccuracy | null;
}

/** One second of progress, as the engine emits it. */
export interface LoadTick {
  /** 1 for the first second of load. */
  second: number;
  elapsedMs: number;
  /** Requests due in that second (by intended/send time) that were sent. */
  sent: number;
  successes: number;
  errors: number;
  /** Non-2xx/3xx responses. */
  failedResponses: number;
  dropped: number;
  inFlight: number;
  p99Ms: number | null;
  faults: string[];
  /** Sending has ended; requests still in flight are waited for, each until its deadline (ms since t = 0). */
  waitingUntilMs: number | null;
}

export type LoadEvent =
  | { type: 'start'; runId: string; driver: DriverKind; startedAt: string; options: LoadSettings }
  | { type: 'tick'; tick: LoadTick }
  | { type: 'fault'; name: string; active: boolean; elapsedMs: number }
  | { type: 'done'; result: LoadResult };

export interface LoadContext {
  signal?: AbortSignal;
  onEvent?: (event: LoadEvent) => void;
  /**
   * t = 0 of the timeline on the clock every thread shares (performance.timeOrigin + performance.now()); default:
   * now. Worker threads of one run share it, so their buckets line up whenever each thread got going.
   */
  originMs?: number;
}

/** A running load job. */
export interface LoadJob {
  readonly runId: string;
  readonly options: LoadOptions;
  /**
   * Settles when sending is over and every request sent has an outcome (each waits at most until its deadline,
   * so a run lasts at most duration + timeout). Aborting resolves it at once with stopReason 'aborted'.
   */
  readonly result: Promise<LoadResult>;
  /** Stop sending now; requests in flight keep their deadlines. Idempotent. */
  stop(): void;
  /** Opens a fault's window from `startMs` (default now) until its close(): shown in progress, kept in the result. */
  openFault(name: string, startMs?: number): FaultWindowHandle;
  /** The same by name: a window of that name opens (unless one is open) or closes. */
  markFault(name: string, active: boolean): void;
  /** Milliseconds since t = 0 of the timeline (negative before load starts). */
  elapsedMs(): number;
  /** The timeline as it fills, for live checks (stop conditions) to read, never write; absent on worker threads (merged at the end). */
  readonly timeline?: Timeline;
  /**
   * The timeline times of the requests still without an outcome filed in [fromMs, toMs), for live checks: a request
   * hung for 8 s is already slower than 1 s though it has no latency yet. Absent where the load runs elsewhere.
   */
  inFlightTimes?(fromMs: number, toMs: number): number[];
  /** The write ledger as it fills (read-only, as the timeline); absent on worker threads. */
  readonly ledger?: WriteLedger;
}
