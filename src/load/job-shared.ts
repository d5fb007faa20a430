// What a load job shares whichever way it runs (one thread or several): its fault windows on the job's clock, an event
// emitter that a throwing listener cannot break, and how its result is put together at the end.

import { FaultlineError } from '../errors.js';
import type { Timeline } from './timeline.js';
import type { WriteLedger } from './ledger.js';
import type { FaultWindow, FaultWindowHandle, LoadEvent, LoadOptions, LoadResult, LoadSettings, ScheduleAccuracy, StopReason } from './types.js';

/** Calls the listener; a broken listener must not break the measurement, so its error becomes a warning. */
export function safeEmitter(onEvent: ((event: LoadEvent) => void) | undefined): (event: LoadEvent) => void {
  return (event) => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (err) {
      process.emitWarning(`load: ${event.type} listener threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The job's fault windows, by start: the one record of when each fault was on. Progress shows them, the result keeps
 * them, and an experiment's journal is this list.
 */
export class FaultWindows {
  readonly list: FaultWindow[] = [];

  constructor(
    private readonly now: () => number,
    private readonly emit: (event: LoadEvent) => void,
  ) {}

  /** Opens a window from `startMs` (default now); two faults of one name each have their own. */
  open(name: string, startMs?: number): FaultWindowHandle {
    if (typeof name !== 'string' || name === '') throw new FaultlineError('INVALID_INPUT', 'fault: needs a name');
    const w: FaultWindow = { name, startMs: round3(startMs ?? this.now()), endMs: null };
    const later = this.list.findIndex((x) => x.startMs > w.startMs);
    this.list.splice(later < 0 ? this.list.length : later, 0, w);
    this.emit({ type: 'fault', name, active: true, elapsedMs: w.startMs });
    return { close: (endMs?: number) => this.close(w, endMs) };
  }

  /** By name, for callers that know only names: on opens a window unless one of that name is open, off closes it. */
  mark(name: string, active: boolean): void {
    if (typeof name !== 'string' || name === '') throw new FaultlineError('INVALID_INPUT', 'fault: needs a name');
    const open = this.list.find((f) => f.name === name && f.endMs === null);
    if (active && !open) this.open(name);
    else if (!active && open) this.close(open);
  }

  active(): string[] {
    return this.list.filter((f) => f.endMs === null).map((f) => f.name);
  }

  /** Closes the windows still open at the end of the run (a later close() leaves them as they are). */
  closeAll(): void {
    const t = round3(this.now());
    for (const f of this.list) if (f.endMs === null) f.endMs = t;
  }

  private close(w: FaultWindow, endMs?: number): void {
    if (w.endMs !== null) return;
    w.endMs = round3(endMs ?? this.now());
    this.emit({ type: 'fault', name: w.name, active: false, elapsedMs: w.endMs });
  }
}

/** What a run measured, for its result. */
export interface RunOutcome {
  startedAtMs: number;
  durationMs: number;
  stopReason: StopReason;
  timeline: Timeline;
  ledger: WriteLedger;
  dropped: number;
  schedule: ScheduleAccuracy | null;
}

/** The job's result once every request has its outcome: the windows still open close, and `done` is emitted with it. */
export function finishJob(options: LoadOptions, settings: LoadSettings, windows: FaultWindows, emit: (event: LoadEvent) => void, run: RunOutcome): LoadResult {
  windows.closeAll();
  const result: LoadResult = {
    runId: options.runId,
    driver: options.driver,
    options: settings,
    startedAt: new Date(run.startedAtMs).toISOString(),
    durationMs: run.durationMs,
    stopReason: run.stopReason,
    timeline: run.timeline,
    ledger: run.ledger,
    summary: run.timeline.summary(run.durationMs),
    dropped: run.dropped,
    faults: windows.list,
    schedule: run.schedule,
  };
  emit({ type: 'done', result });
  return result;
}
