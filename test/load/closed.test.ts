// Closed driver details: pipelining, exact request counts, and servers that close keep-alive connections on purpose
// (like nginx after keepalive_requests) cause no false errors and no write that is counted wrongly.
import test from 'ava';
import { checkWrites, runLoad } from '../../src/load/index.js';
import { itemStore, startServer } from './_support.js';
import type { Handler } from './_support.js';

/** Says `Connection: close` on every 25th answer, then closes, as servers do at their keep-alive limit. */
function closingEvery(n: number, inner: Handler): Handler {
  let count = 0;
  return (req, res) => {
    count += 1;
    if (count % n === 0) res.setHeader('connection', 'close');
    inner(req, res);
  };
}

for (const pipelining of [1, 4]) {
  test.serial(`pipelining ${pipelining}: Connection: close is not an error, and an exact request count is kept`, async (t) => {
    const store = itemStore();
    const server = await startServer({ handler: closingEvery(25, store.handler) });
    t.teardown(() => server.close());
    const r = await runLoad({ url: server.url, connections: 3, pipelining, requests: 600, mix: 'whoami=1,write=1' });
    t.is(r.summary.errors, 0, JSON.stringify(r.summary.errorCodes));
    t.is(r.summary.sent, 600);
    t.is(r.summary.successes, 600);
    t.is(r.stopReason, 'completed');
    t.true(server.connections >= 20, `${server.connections} connections: the closes happened`);
    const check = checkWrites(r.ledger, store.keys.keys());
    t.true(check.valid);
    t.deepEqual(check.failedButPresent, []);
    // Every acknowledged write is stored; writes pipelined behind a close are `unknown` (Node's server runs them anyway).
    const c = r.ledger.counts();
    t.true(store.keys.size >= c.ok && store.keys.size <= c.ok + c.unknown, JSON.stringify({ ...c, stored: store.keys.size }));
    if (pipelining === 1) t.is(c.unknown, 0);
  });
}

test.serial('duration ends sending; answers in flight are waited for', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const r = await runLoad({ url: server.url, connections: 5, durationMs: 800 });
  t.is(r.durationMs, 800);
  t.is(r.summary.sent, r.summary.responses, 'every request sent has its answer');
  t.is(r.summary.intended, r.summary.sent);
  // Requests are filed by send time; one sent in the last instant before the deadline may land on a bucket edge.
  t.true(Math.abs(r.timeline.length - 8) <= 1, `${r.timeline.length} buckets for 800 ms`);
});
