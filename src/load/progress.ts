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
