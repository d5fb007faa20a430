// Issue 18, finding 10: readiness fails fast on a container that is down for good, instead of waiting out the whole
// ready timeout (180 s on the reference stack, 600 s hardened); a restart's brief "exited" does not count.

import test from 'ava';
import { waitContainers } from '../../src/stack/ready.js';
import { retryUntil } from '../../src/util/retry.js';
import { containerSummary } from '../helpers/fake-docker.js';

test('issue 18 finding 10: a crashed container ends the wait within seconds, naming it', async (t) => {
  const list = async () => [
    containerSummary({ id: 'a', name: 'web1-app', service: 'web1-app', state: 'exited' }),
    containerSummary({ id: 'b', service: 'lb' }),
  ];
  const started = Date.now();
  const err = await t.throwsAsync(waitContainers(list, 2, { deadline: Date.now() + 120_000 }));
  t.regex(err.message, /web1-app is exited/);
  // The defect waited the whole deadline (here 120 s); fail-fast takes DOWN_FOR_GOOD_MS plus a poll.
  t.true(Date.now() - started < 20_000, `${Date.now() - started} ms`);
});

test('issue 18 finding 10: a container that passes through "exited" while it restarts is waited for', async (t) => {
  let polls = 0;
  const list = async () => {
    polls += 1;
    return [containerSummary({ id: 'a', service: 'web1-app', state: polls <= 2 ? 'exited' : 'running' })];
  };
  const settled = await waitContainers(list, 1, { deadline: Date.now() + 30_000 });
  t.is(settled[0]?.state, 'running');
});

test('issue 18 finding 10: an error thrown by the predicate ends retryUntil at once; one thrown by the poll is "not yet"', async (t) => {
  let calls = 0;
  const fatal = retryUntil(
    async () => (calls += 1),
    () => {
      throw new Error('down for good');
    },
    { timeoutMs: 60_000, intervalMs: 10 },
  );
  await t.throwsAsync(fatal, { message: 'down for good' });
  t.is(calls, 1);
  let tries = 0;
  const value = await retryUntil(
    async () => {
      tries += 1;
      if (tries < 3) throw new Error('not yet');
      return tries;
    },
    (v) => v === 3,
    { timeoutMs: 10_000, intervalMs: 10 },
  );
  t.is(value, 3);
});
