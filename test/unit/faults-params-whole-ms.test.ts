// Issue 18, finding 7: a fractional millisecond (`delay: 0.0015`, seconds) wrote a fault record whose effect wants
// whole milliseconds, so apply threw after the record was written and every revert exited 4. Durations are whole
// milliseconds from the edge on, so the record holds what its own schema reads back.

import test from 'ava';
import { defaultRegistry } from '../../src/faults/index.js';
import { parseDurationMs } from '../../src/util/duration.js';

test('issue 18 finding 7: a duration in fractional seconds is a whole number of milliseconds', (t) => {
  t.is(parseDurationMs(0.0015), 2);
  t.is(parseDurationMs(0.0004), 0);
  t.is(parseDurationMs('1.5ms'), 2);
  t.is(parseDurationMs(2), 2000);
});

test('issue 18 finding 7: net-latency with delay 0.0015 is configured with whole milliseconds, and 0.0004 s is refused before anything is recorded', (t) => {
  const registry = defaultRegistry();
  const configured = registry.configure('net-latency', { target: 'server=web1', params: { delay: 0.0015, jitter: 0.0001 } });
  t.deepEqual(configured.params, { delay: 2, jitter: 0 });
  t.throws(() => registry.configure('net-latency', { target: 'server=web1', params: { delay: 0.0004 } }), { message: /delay/ });
});
