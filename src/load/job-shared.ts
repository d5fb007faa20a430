// What a load job shares whichever way it runs (one thread or several): its fault windows on the job's clock, and an
// event emitter that a throwing listener cannot break.

import { FaultlineError } from '../errors.js';
import type { FaultWindow, FaultWindowHandle, LoadEvent } from './types.js';

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
