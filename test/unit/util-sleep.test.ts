// The one abortable sleep: it waits, and an abort (before or during) rejects with the signal's own reason.

import test from 'ava';
import { sleep } from '../../src/util/sleep.js';

test('sleeps, and a negative wait is no wait', async (t) => {
  const start = Date.now();
  await sleep(30);
  t.true(Date.now() - start >= 25);
  await t.notThrowsAsync(sleep(-5, new AbortController().signal));
});

test("an abort before or during the sleep rejects with the signal's reason", async (t) => {
  const reason = new Error('interrupted by SIGINT');
  t.is(await t.throwsAsync(sleep(10_000, AbortSignal.abort(reason))), reason);
  const controller = new AbortController();
  const pending = sleep(10_000, controller.signal);
  setTimeout(() => controller.abort(reason), 10);
  const start = Date.now();
  t.is(await t.throwsAsync(pending), reason);
  t.true(Date.now() - start < 5000, 'cut short');
});

test('issue 18 finding 9: a wait longer than one timer allows is waited in steps, not ended at once', async (t) => {
  // Node fires a timer of more than 2^31-1 ms after 1 ms: with the real limit a 24.8-day hold reverted at once. The
  // step size is the sleep's third argument, so a short stand-in limit shows the chaining without waiting weeks.
  const start = Date.now();
  await sleep(300, undefined, 40);
  t.true(Date.now() - start >= 290, `${Date.now() - start} ms`);
  const controller = new AbortController();
  const pending = sleep(10_000, controller.signal, 40);
  setTimeout(() => controller.abort(new Error('stop')), 100);
  await t.throwsAsync(pending, { message: 'stop' });
});
