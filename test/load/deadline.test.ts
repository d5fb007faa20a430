// A request that gets no answer fails with ETIMEDOUT after the timeout, also when it never reached a socket
// because every connection was stuck: the paced driver must not leave such requests uncounted ("abandoned").
import test from 'ava';
import { runLoad } from '../../src/load/index.js';
import { startServer } from './_support.js';

test('paced: requests queued behind stalled connections time out and are counted as failed', async (t) => {
  // The server takes the requests and never answers; two connections, which the driver goes past with fresh sockets.
  const server = await startServer({ handler: () => undefined });
  t.teardown(() => server.close());
  const r = await runLoad({ url: server.url, rate: 50, durationMs: 1000, connections: 2, timeoutMs: 300 });
  t.is(r.summary.sent, 50);
  t.is(r.summary.intended, 50, 'every request has an outcome');
  // Requests leave on time on fresh sockets and time out there; a starved machine may keep some off the wire past
  // the late bound, which are counted late (code LATE), a failure of the client's own.
  t.is(r.summary.timedOut + r.summary.late, 50);
  t.is(r.summary.errors, 50, 'every request failed');
  t.deepEqual(
    Object.keys(r.summary.errorCodes).filter((c) => c !== 'LATE'),
    r.summary.timedOut > 0 ? ['ETIMEDOUT'] : [],
  );
  t.is(r.summary.successes, 0);
});
