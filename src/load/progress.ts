// Live progress: listens to engine events and writes a line per second on an interactive terminal;
// in CI (CI set, or not a TTY) it stays silent, so the log holds only the final line.

import { formatTick } from './render.js';
import type { LoadEvent } from './types.js';

/** Progress is drawn only for a person at a terminal. */
export function isInteractive(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  return stream.isTTY === true && !env.CI;
}

/** An onEvent listener that writes progress lines through `write`. */
export function progressListener(write: (text: string) => void): (event: LoadEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'start': {
        const how = event.driver === 'paced' ? 'paced' : `closed, ${event.options.connections} connections`;
        write(`faultline load: ${how} → ${event.options.url} (run ${event.runId}); Ctrl-C stops\n`);
        break;
      }
      case 'tick':
        write(`${formatTick(event.tick)}\n`);
        break;
      case 'fault':
        write(`      fault ${event.name} ${event.active ? 'on' : 'off'} at ${(event.elapsedMs / 1000).toFixed(2)} s\n`);
        break;
      case 'done':
        break;
    }
  };
}

/** How often a plain progress line is written outside a terminal: often enough that a CI log shows the run is alive. */
export const PLAIN_PROGRESS_EVERY_S = 10;

/**
 * An onEvent listener for a log, not a person: every PLAIN_PROGRESS_EVERY_S seconds of load one plain line
 * ("load: t=20 s, 1000 sent, 99.8 % ok, p99 12 ms"), counted from the run's start; the p99 is the worst one-second
 * p99 since the last line (percentiles of seconds do not add up, and the worst is what a reader looks for).
 */
export function plainProgressListener(write: (text: string) => void, everyS = PLAIN_PROGRESS_EVERY_S): (event: LoadEvent) => void {
  let sent = 0;
  let ok = 0;
  let answered = 0;
  let worstP99: number | null = null;
  let lastLine = 0;
  return (event) => {
    if (event.type === 'start') {
      // A run of several experiments starts a load per experiment: each is counted from its own t = 0.
      [sent, ok, answered, worstP99, lastLine] = [0, 0, 0, null, 0];
      return;
    }
    if (event.type !== 'tick') return;
    const t = event.tick;
    sent += t.sent;
    ok += t.successes;
    answered += t.successes + t.failedResponses + t.errors;
    if (t.p99Ms !== null) worstP99 = Math.max(worstP99 ?? 0, t.p99Ms);
    const period = Math.floor(t.second / everyS);
    if (period <= lastLine) return;
    lastLine = period;
    const okShare = answered ? `${((ok / answered) * 100).toFixed(1)} % ok` : 'no answers yet';
    write(`load: t=${period * everyS} s, ${sent} sent, ${okShare}, p99 ${worstP99 === null ? '-' : `${Math.round(worstP99)} ms`}\n`);
    worstP99 = null;
  };
}
