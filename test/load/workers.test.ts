// The closed driver on worker threads: every request counted once in one merged timeline, percentiles from the
// merged histograms, progress summed per second, and the limits said before anything is sent.
import test from 'ava';
import { startLoad } from '../../src/load/index.js';
import type { LoadTick } from '../../src/load/index.js';
import { startServer } from './_support.js';

test.serial('2 workers: the merged timeline counts exactly what the server received, and ticks are summed', async (t) => {
  const server = await startServer({ recordArrivals: true });
  t.teardown(() => server.close());
  const ticks: LoadTick[] = [];
  const job = startLoad({ url: server.url, connections: 6, workers: 2, durationMs: 2000 }, { onEvent: (e) => void (e.type === 'tick' && ticks.push(e.tick)) });
  job.markFault('mark', true);
  const r = await job.result;
  const s = r.summary;
  t.is(r.driver, 'closed');
  t.is(r.options.workers, 2);
  t.is(s.sent, server.arrivals.length, 'every request the server saw is counted once');
  t.is(s.successes, s.sent);
  t.is(s.intended, s.sent);
  t.is(s.latency.count, s.responses, 'one merged histogram holds every answered request');
  t.true(s.sent > 500, `${s.sent} requests`);
  t.true(Math.abs(r.timeline.length - 20) <= 1, `${r.timeline.length} buckets`);
  t.true(server.connections >= 6, `${server.connections} connections opened`);
  t.true(ticks.length >= 1);
  t.is(ticks[0]?.faults.join(), 'mark');
  t.deepEqual(
    r.faults.map((f) => f.name),
    ['mark'],
  );
  t.not(r.faults[0]?.endMs, null);
});

test('workers: refused for the paced driver, with writes, or with fewer connections than workers', (t) => {
  t.throws(() => startLoad({ url: 'http://127.0.0.1:1/', rate: 10, workers: 2 }), { message: /^workers: only applies to the closed driver/ });
  t.throws(() => startLoad({ url: 'http://127.0.0.1:1/', connections: 4, workers: 2, mix: 'read=1,write=1' }), {
    message: /^workers: a write mix needs one write ledger/,
  });
  t.throws(() => startLoad({ url: 'http://127.0.0.1:1/', connections: 1, workers: 2 }), { message: /^workers: 2 workers need at least as many connections/ });
});

test.serial('2 workers: a stop() reaches every thread', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const job = startLoad({ url: server.url, connections: 4, workers: 2, durationMs: 60_000 });
  // The job's clock starts once both threads are loaded; stop one second into the load.
  while (job.elapsedMs() < 1000) await new Promise((resolve) => setTimeout(resolve, 50));
  job.stop();
  const r = await job.result;
  t.is(r.stopReason, 'stopped');
  t.true(r.durationMs < 3000, `${r.durationMs} ms`);
  t.true(r.summary.successes > 10);
});
