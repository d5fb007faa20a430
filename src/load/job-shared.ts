// What a load job shares whichever way it runs (one thread or several): fault marks on the job's clock, and an event
// emitter that a throwing listener cannot break.

import { FaultlineError } from '../errors.js';
import type { FaultMark, LoadEvent } from './types.js';

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

/** Fault marks: a fault is on from mark(name, true) to mark(name, false); shown in progress and kept in the result. */
export class FaultMarks {
  readonly list: FaultMark[] = [];

  constructor(
    private readonly now: () => number,
    private readonly emit: (event: LoadEvent) => void,
  ) {}

  mark(name: string, active: boolean): void {
    if (typeof name !== 'string' || name === '') throw new FaultlineError('INVALID_INPUT', 'fault: needs a name');
    const open = this.list.find((f) => f.name === name && f.endMs === null);
    const t = round3(this.now());
    if (active && !open) this.list.push({ name, startMs: t, endMs: null });
    else if (!active && open) open.endMs = t;
    else return;
    this.emit({ type: 'fault', name, active, elapsedMs: t });
  }

  active(): string[] {
    return this.list.filter((f) => f.endMs === null).map((f) => f.name);
  }

  /** Closes the marks still open at the end of the run. */
  closeAll(): void {
    const t = round3(this.now());
    for (const f of this.list) if (f.endMs === null) f.endMs = t;
  }
}
