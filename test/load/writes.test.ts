// Writes: every one is in the ledger with a unique, run-prefixed key; ok writes are exactly what the store holds,
// and across an outage no write classified `fail` is in the store (the set check a later data-loss test runs).
import test from 'ava';
import { checkWrites, runLoad, startLoad } from '../../src/load/index.js';
import type { LoadOptionsInput } from '../../src/load/index.js';
import { itemStore, sleep, startServer } from './_support.js';

const drivers: Array<[string, Partial<LoadOptionsInput>]> = [
  ['paced', { rate: 300 }],
  ['closed', { connections: 4 }],
];

for (const [name, driver] of drivers) {
  test.serial(`${name}: ok writes in the ledger are exactly the rows the store holds; reads use their ids`, async (t) => {
    const store = itemStore();
    const server = await startServer({ handler: store.handler });
    t.teardown(() => server.close());
    const r = await runLoad({ url: server.url, ...driver, durationMs: 1500, mix: 'read=1,write=1', runId: `w${name}` });
    const c = r.ledger.counts();
    t.true(c.attempted > 50);
    t.is(c.ok, c.attempted);
    t.is(c.ok, store.keys.size);
    const check = checkWrites(r.ledger, store.keys.keys());
    t.true(check.valid);
    t.deepEqual(check.lost, []);
    t.is(r.ledger.likePattern(), `w${name}-%`);
    for (const w of r.ledger.records()) {
      t.is<unknown, unknown>(store.keys.get(w.key), w.id ?? undefined, w.key);
      t.true(w.completedMs !== null && w.completedMs >= w.intendedMs);
    }
    // After the first write, reads ask for ids that exist: nearly every read is a 200.
    t.true((r.summary.statuses['200'] ?? 0) >= c.attempted * 0.9, JSON.stringify(r.summary.statuses));
    t.is(r.summary.statuses['409'], undefined, 'keys are unique');
  });

  test.serial(`${name}: across an outage, fail means not written and ok means written`, async (t) => {
    const store = itemStore();
    const server = await startServer({ handler: store.handler });
    t.teardown(() => server.close());
    const job = startLoad({ url: server.url, ...driver, durationMs: 2500, mix: 'write=1' });
    await sleep(800 - job.elapsedMs());
    await server.kill();
    await sleep(1600 - job.elapsedMs());
    await server.restart();
    const r = await job.result;
    const c = r.ledger.counts();
    t.true(c.fail > 0, JSON.stringify(c));
    t.true(c.ok > 0);
    const check = checkWrites(r.ledger, store.keys.keys());
    t.true(check.valid, JSON.stringify({ lost: check.lost.length, unexpected: check.unexpected.length }));
    t.deepEqual(check.failedButPresent, []);
    for (const w of r.ledger.records()) {
      // LATE: given up before it was sent (a starved machine), so not written either.
      if (w.outcome === 'fail') t.true(w.error === 'ECONNREFUSED' || w.error === 'LATE' || w.status !== null, JSON.stringify(w));
    }
  });
}
