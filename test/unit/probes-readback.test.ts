// Read-backs with fakes: names, templates, list answers by dot path and field, a GET per key (found, missing,
// anything else = failed, bounded concurrency, deadline), and the probes' error observations for what is not declared.

import test from 'ava';
import { WriteLedger } from '../../src/load/ledger.js';
import { fillTemplate, keysFromList, placeholderCount, readBack, readByGet, readByList, readbackNames, type Fetch } from '../../src/probes/readback.js';
import { dataLossProbe } from '../../src/probes/data-loss.js';
import { replicationProbe } from '../../src/probes/replication.js';
import { runProbe } from '../../src/probes/runner.js';
import type { ProbeContext } from '../../src/probes/types.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ContainerSummary } from '../../src/stack/docker-types.js';
import type { HttpReadbackSpec } from '../../src/probes/readback.js';
import type { DatabaseSpec, ReadbackSpec } from '../../src/stack/spec.js';

const never = new AbortController().signal;
const get = (path: string): HttpReadbackSpec => ({ get: path, found: 200, missing: 404 });
const list = (path: string, array?: string, field?: string): HttpReadbackSpec => ({
  list: path,
  found: 200,
  missing: 404,
  ...(array ? { array } : {}),
  ...(field ? { field } : {}),
});

/** A fake public endpoint: path → status (and body). */
function fakeFetch(answer: (path: string) => { status: number; body?: string } | Error, seen: string[] = []): Fetch {
  return (path) => {
    seen.push(path);
    const a = answer(path);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve({ status: a.status, body: a.body ?? '' });
  };
}

test('read-backs are named by name, db or "http"; a repeated name gets its index', (t) => {
  const r: ReadbackSpec[] = [
    { sql: { db: 'primary', query: 'SELECT k FROM t WHERE k LIKE ?' } },
    { name: 'api', http: get('/items/${key}') },
    { http: list('/items?prefix=${prefix}') },
    { http: get('/x/${key}') },
    { sql: { db: 'primary', query: 'SELECT 1' } },
  ];
  t.deepEqual(readbackNames(r), ['primary', 'api', 'http', 'http#3', 'primary#4']);
});

test('templates fill ${key} and ${prefix} URL-encoded; every ? takes the LIKE pattern', (t) => {
  t.is(fillTemplate('/items?key=${key}&x=${other}', { key: 'a b/c' }), '/items?key=a%20b%2Fc&x=${other}');
  t.is(fillTemplate('/orders?prefix=${prefix}', { prefix: 'fl1-' }), '/orders?prefix=fl1-');
  t.is(placeholderCount('SELECT k FROM t WHERE k LIKE ?'), 1);
  t.is(placeholderCount('SELECT k FROM a WHERE k LIKE ? UNION SELECT k FROM b WHERE k LIKE ?'), 2);
  t.is(placeholderCount('SELECT k FROM t'), 1, 'an extra value is ignored by the driver');
});

test('list answers: the array at a dot path, the key from a field of each element', (t) => {
  t.deepEqual(keysFromList(['a', 'b'], {}, 0), { ok: true, keys: ['a', 'b'] });
  t.deepEqual(keysFromList({ data: { items: [{ ref: 'k1' }, { ref: 7 }] } }, { array: 'data.items', field: 'ref' }, 2), { ok: true, keys: ['k1', '7'] });
  t.deepEqual(keysFromList({ items: [{ meta: { key: 'x' } }] }, { array: 'items', field: 'meta.key' }, 0), { ok: true, keys: ['x'] });
  t.deepEqual(keysFromList({ data: {} }, { array: 'data.items' }, 1), {
    ok: false,
    error: 'readback[1].http.array: "data.items" is not an array in the answer',
  });
  t.deepEqual(keysFromList({ items: [] }, {}, 0), { ok: false, error: 'readback[0].http.array: the answer is not an array' });
  t.deepEqual(keysFromList({ items: [{ ref: 'a' }, { id: 2 }] }, { array: 'items', field: 'ref' }, 0), {
    ok: false,
    error: 'readback[0].http.field: element 1 has no "ref" string or number',
  });
});

test('list read: a non-2xx or non-JSON answer fails, naming the field', async (t) => {
  const seen: string[] = [];
  const ok = await readByList(
    list('/items?prefix=${prefix}', 'items', 'key'),
    0,
    'run1-',
    fakeFetch(() => ({ status: 200, body: '{"items":[{"key":"run1-1"}]}' }), seen),
    never,
  );
  t.deepEqual(ok, { ok: true, keys: ['run1-1'] });
  t.deepEqual(seen, ['/items?prefix=run1-']);
  t.deepEqual(
    await readByList(
      list('/l'),
      3,
      'p',
      fakeFetch(() => ({ status: 500 })),
      never,
    ),
    { ok: false, error: 'readback[3].http.list: GET /l answered 500' },
  );
  t.deepEqual(
    await readByList(
      list('/l'),
      0,
      'p',
      fakeFetch(() => ({ status: 200, body: '<html>' })),
      never,
    ),
    {
      ok: false,
      error: 'readback[0].http.list: GET /l: the answer is not JSON',
    },
  );
  const down = await readByList(
    list('/l'),
    0,
    'p',
    fakeFetch(() => new Error('connect ECONNREFUSED')),
    never,
  );
  t.deepEqual(down, { ok: false, error: 'readback[0].http.list: GET /l: connect ECONNREFUSED' });
});

test('GET per key: found present, missing absent, anything else fails the read (unknown)', async (t) => {
  const status: Record<string, number> = { '/items?key=k1': 200, '/items?key=k2': 404, '/items?key=k3': 200 };
  const found = await readByGet(
    get('/items?key=${key}'),
    0,
    ['k1', 'k2', 'k3', 'k1'],
    fakeFetch((p) => ({ status: status[p] ?? 0 })),
    never,
  );
  t.true(found.ok);
  t.deepEqual(found.ok && found.keys.sort(), ['k1', 'k3']);
  const odd = await readByGet(
    get('/items?key=${key}'),
    1,
    ['k1', 'k2'],
    fakeFetch((p) => ({ status: p.endsWith('k2') ? 503 : 200 })),
    never,
  );
  t.deepEqual(odd, { ok: false, error: 'readback[1].http.get: GET /items?key=k2 answered 503 (found: 200, missing: 404)' });
  const custom = await readByGet(
    { get: '/o/${key}', found: 204, missing: 410 },
    0,
    ['a', 'b'],
    fakeFetch((p) => ({ status: p === '/o/a' ? 204 : 410 })),
    never,
  );
  t.deepEqual(custom, { ok: true, keys: ['a'] });
  const err = await readByGet(
    get('/i/${key}'),
    0,
    ['a'],
    fakeFetch(() => new Error('no answer within 5000 ms')),
    never,
  );
  t.deepEqual(err, { ok: false, error: 'readback[0].http.get: GET /i/a: no answer within 5000 ms' });
});

test('GET per key: never more than the bound in flight; a failure stops the rest; a deadline fails the read', async (t) => {
  let inFlight = 0;
  let most = 0;
  let calls = 0;
  const slow: Fetch = async (path) => {
    calls += 1;
    inFlight += 1;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight -= 1;
    return { status: path.endsWith('-50') ? 500 : 404, body: '' };
  };
  const keys = Array.from({ length: 200 }, (_, i) => `run1-${i + 1}`);
  const r = await readByGet(get('/i/${key}'), 0, keys, slow, never, 16);
  t.false(r.ok);
  t.is(most, 16);
  t.true(calls < 200, `stopped early (${calls} calls)`);
  const stop = new AbortController();
  const late = readByGet(get('/i/${key}'), 2, keys, async () => ({ status: 404, body: '' }), stop.signal, 4);
  stop.abort();
  const lateRead = await late;
  t.false(lateRead.ok);
  t.regex(lateRead.ok ? '' : lateRead.error, /^readback\[2\]\.http\.get: the deadline passed after \d+ of 200 keys$/);
});

/** A described stack with no Docker behind it: enough for the checks that come before any connection. */
function fakeStack(databases: Record<string, DatabaseSpec>, readback: ReadbackSpec[], containers: ContainerSummary[] = []): AttachedStack {
  return {
    spec: { file: '/x/stack.yaml', databases, readback },
    isReference: false,
    project: 'shop',
    internalNetwork: 'shop_internal',
    addresses: {},
    containers: () => Promise.resolve(containers),
  } as unknown as AttachedStack;
}

const db = (over: Partial<DatabaseSpec>): DatabaseSpec => ({ port: 3306, user: 'ops', role: 'primary', host: '127.0.0.1', ...over }) as DatabaseSpec;
const ledger = new WriteLedger('run1');

test('a SQL read-back whose password is missing fails with the field, before any connection', async (t) => {
  const stack = fakeStack({ main: db({ password_env: 'SHOP_DB_PASSWORD' }) }, [{ sql: { db: 'main', query: 'SELECT ref FROM orders WHERE ref LIKE ?' } }]);
  const reads = await readBack(stack, ledger, { signal: never, timeoutMs: 1000, env: {}, tls: () => ({ insecure: true }) });
  t.deepEqual(reads, [{ name: 'main', read: { ok: false, error: 'stack.databases.main.password_env: environment variable SHOP_DB_PASSWORD is not set' } }]);
});

test('data-loss with no read-back declared is an error observation saying so', async (t) => {
  const ctx = { stack: fakeStack({}, []), docker: undefined, ledger } as unknown as ProbeContext;
  const o = await runProbe(dataLossProbe, ctx, {}, never);
  t.false(o.passed);
  t.deepEqual(o.error, { code: 'UNKNOWN_TARGET', message: 'stack.readback: none declared; the data-loss check needs one' });
});

test('replication with no replica declared is an error observation saying so', async (t) => {
  const ctx = { stack: fakeStack({ main: db({ password_env: 'X' }) }, []), docker: undefined } as unknown as ProbeContext;
  const o = await runProbe(replicationProbe, ctx, {}, never);
  t.false(o.passed);
  t.is(o.error?.code, 'UNKNOWN_TARGET');
  t.regex(o.error!.message, /^stack\.databases: no replica database declared; the replication probe needs a primary and a replica/);
});
