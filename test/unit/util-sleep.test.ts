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
