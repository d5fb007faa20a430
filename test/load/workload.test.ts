// A workload of its own against a local shop: POST /orders with {"ref":"${key}"} answered 201 {"order":{"order_id":N}},
// GET /orders/${id}. Every write's key reaches the server once with the body as templated, the ledger's ok writes
// are the server's 201s, reads ask for ids the server handed out, and a status the request does not expect fails.
import test from 'ava';
import { runLoad } from '../../src/load/index.js';
import type { LoadOptionsInput } from '../../src/load/index.js';
import { seedWrites } from '../../src/load/workload.js';
import { parseWorkload } from '../../src/load/workload-spec.js';
import type { Handler } from './_support.js';
import { startServer } from './_support.js';

const SHOP = parseWorkload({
  requests: {
    place: { method: 'POST', path: '/orders', body: '{"ref":"${key}"}', write: true, id: 'order.order_id', expect: 201 },
    lookup: { path: '/orders/${id}' },
  },
});

/** The shop: every 10th order is refused with a 500 (not stored); the rest get ids from 1001 on. */
function shop() {
  const bodies = new Map<string, number>();
  const handedOut = new Set<number>();
  const lookedUp: string[] = [];
  const answered = { created: new Map<string, number>(), refused: new Set<string>() };
  let posts = 0;
  let wrongType = 0;
  const handler: Handler = (req, res) => {
    if (req.method === 'POST' && req.url === '/orders') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.set(body, (bodies.get(body) ?? 0) + 1);
        if (req.headers['content-type'] !== 'application/json') wrongType += 1;
        const { ref } = JSON.parse(body) as { ref: string };
        posts += 1;
        if (posts % 10 === 0) {
          answered.refused.add(ref);
          res.writeHead(500).end();
          return;
        }
        const id = 1000 + handedOut.size + 1;
        handedOut.add(id);
        answered.created.set(ref, id);
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ order: { order_id: id, ref } }));
      });
      return;
    }
    const m = /^\/orders\/(.+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && m) {
      lookedUp.push(m[1] as string);
      const known = handedOut.has(Number(m[1]));
      res.writeHead(known ? 200 : 404).end(known ? '{}' : '');
      return;
    }
    res.writeHead(400).end();
  };
  return { handler, bodies, handedOut, lookedUp, answered, wrongType: () => wrongType };
}

const drivers: Array<[string, Partial<LoadOptionsInput>]> = [
  ['paced', { rate: 400 }],
  ['closed', { connections: 4 }],
];

for (const [name, driver] of drivers) {
  test.serial(`${name}: a custom workload's writes, ids and statuses`, async (t) => {
    const s = shop();
    const server = await startServer({ handler: s.handler });
    t.teardown(() => server.close());
    // As the runner does: a few writes first, so reads have ids from the start.
    const seeded = await seedWrites(server.url, ['place', SHOP.requests.place!], 5, {}, AbortSignal.timeout(10_000));
    t.deepEqual(seeded, [1001, 1002, 1003, 1004, 1005]);
    s.lookedUp.length = 0;

    const runId = `wl${name}`;
    const r = await runLoad({ url: server.url, ...driver, durationMs: 1500, workload: SHOP, mix: 'place=2,lookup=8', runId, seedIds: seeded });
    const ledger = r.ledger.records();
    const c = r.ledger.counts();
    t.true(c.attempted > 50, JSON.stringify(c));
    t.is(s.wrongType(), 0, 'a body without a declared type goes as JSON');

    // Every write's key reached the server exactly once, with the body as templated.
    const runBodies = [...s.bodies].filter(([b]) => b.includes(`"${runId}-`));
    t.is(runBodies.length, c.attempted);
    for (const w of ledger) t.is(s.bodies.get(`{"ref":"${w.key}"}`), 1, w.key);

    // ok writes are exactly the 201s, with the ids the server gave; the refused ones are fail.
    const created = [...s.answered.created].filter(([ref]) => ref.startsWith(`${runId}-`));
    t.is(c.ok, created.length);
    for (const w of ledger.filter((x) => x.outcome === 'ok')) t.is<unknown, unknown>(w.id, s.answered.created.get(w.key), w.key);
    t.is(c.fail, [...s.answered.refused].filter((ref) => ref.startsWith(`${runId}-`)).length);
    t.true(c.fail > 0);
    t.is(c.unknown, 0);

    // Reads asked only for ids the server handed out (seeded ones from the first read on).
    t.true(s.lookedUp.length > c.attempted, `${s.lookedUp.length} reads`);
    t.deepEqual(
      s.lookedUp.filter((id) => !s.handedOut.has(Number(id))),
      [],
    );
    t.true(new Set(s.lookedUp).size > seeded.length, 'reads moved on to ids this run got back');

    // The refused writes count as failures in the timeline too; everything else succeeded.
    t.is(r.summary.statuses['500'], c.fail);
    t.is(r.summary.statuses['404'], undefined);
    t.is(r.summary.successes, r.summary.intended - c.fail);
  });
}

test.serial('a write answered with a status it does not expect is not acknowledged', async (t) => {
  const server = await startServer({
    handler: (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"order":{"order_id":1}}'));
    },
  });
  t.teardown(() => server.close());
  const r = await runLoad({ url: server.url, rate: 100, durationMs: 500, workload: SHOP, mix: 'place=1' });
  const c = r.ledger.counts();
  t.true(c.attempted > 20);
  // 200 where 201 acknowledges: the server may have written it, so unknown, never ok.
  t.is(c.ok, 0);
  t.is(c.unknown, c.attempted);
  t.deepEqual(r.ledger.okIds(), []);
});
