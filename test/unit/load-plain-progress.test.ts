// Issue 19 item 6: outside a terminal a load writes one plain line every 10 s, so a CI log shows a run that is alive.
// Made-up ticks are fed straight to the listener: no timers, no load.

import test from 'ava';
import { plainProgressListener } from '../../src/load/progress.js';
import { progressFor } from '../../src/cli/commands/load.js';
import type { LoadEvent, LoadTick } from '../../src/load/types.js';

const tick = (second: number, over: Partial<LoadTick> = {}): LoadEvent => ({
  type: 'tick',
  tick: {
    second,
    elapsedMs: second * 1000,
    sent: 50,
    successes: 50,
    errors: 0,
    failedResponses: 0,
    dropped: 0,
    inFlight: 1,
    p99Ms: 10,
    faults: [],
    waitingUntilMs: null,
    ...over,
  },
});
const start = { type: 'start', runId: 'r', driver: 'paced', startedAt: '', options: {} } as unknown as LoadEvent;

function feed(events: LoadEvent[], everyS?: number): string[] {
  const lines: string[] = [];
  const listener = plainProgressListener((text) => lines.push(text), everyS);
  for (const e of events) listener(e);
  return lines;
}

test('one line per 10 s of load, with the totals so far, the share answered ok and the worst p99 since the last line', (t) => {
  const events = [
    start,
    ...Array.from({ length: 25 }, (_, i) => tick(i + 1, i + 1 === 15 ? { successes: 48, failedResponses: 1, errors: 1, p99Ms: 42.4 } : {})),
  ];
  t.deepEqual(feed(events), ['load: t=10 s, 500 sent, 100.0 % ok, p99 10 ms\n', 'load: t=20 s, 1000 sent, 99.8 % ok, p99 42 ms\n']);
});

test('nothing between the lines, and nothing for faults, the start or the end', (t) => {
  const events: LoadEvent[] = [start, ...Array.from({ length: 9 }, (_, i) => tick(i + 1)), { type: 'fault', name: 'x', active: true, elapsedMs: 5000 }];
  t.deepEqual(feed(events), []);
});

test('a second that had no answers and no latency is said plainly', (t) => {
  t.deepEqual(feed([start, tick(10, { sent: 0, successes: 0, p99Ms: null })]), ['load: t=10 s, 0 sent, no answers yet, p99 -\n']);
});

test('a skipped second does not lose the line, and every new load (a run of several experiments) counts from its own start', (t) => {
  const events = [start, tick(9), tick(11), start, tick(10)];
  t.deepEqual(feed(events), ['load: t=10 s, 100 sent, 100.0 % ok, p99 10 ms\n', 'load: t=10 s, 50 sent, 100.0 % ok, p99 10 ms\n']);
});

test('progressFor: plain lines outside a terminal (with or without --json), per-second lines at one, none at one with --json', (t) => {
  const lines: string[] = [];
  const stream = (isTTY: boolean) => ({ isTTY, write: (s: string) => lines.push(s) }) as unknown as NodeJS.WriteStream;
  const saved = process.env.CI;
  delete process.env.CI;
  try {
    for (const json of [false, true]) {
      const { onEvent } = progressFor(stream(false), json);
      for (let s = 1; s <= 10; s++) onEvent?.(tick(s));
    }
    t.deepEqual(lines, ['load: t=10 s, 500 sent, 100.0 % ok, p99 10 ms\n', 'load: t=10 s, 500 sent, 100.0 % ok, p99 10 ms\n']);
    t.is(progressFor(stream(true), true).onEvent, undefined);
    t.truthy(progressFor(stream(true), false).onEvent);
  } finally {
    if (saved !== undefined) process.env.CI = saved;
  }
});
