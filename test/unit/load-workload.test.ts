// Workloads as data (pure): templates compiled once and filled in, named requests compiled, the plan a workload
// hands the drivers, and what validation says about a workload, its mix and its ids.
import test from 'ava';
import { WriteLedger, validateLoadOptions } from '../../src/load/index.js';
import { Workload, compileRequest, compileTemplate, expandTemplate } from '../../src/load/workload.js';
import { REFERENCE_REQUESTS, parseWorkload, requestSpecSchema, usesId } from '../../src/load/workload-spec.js';
import type { LoadOptionsInput } from '../../src/load/index.js';
import { FaultlineError } from '../../src/errors.js';

const url = 'http://127.0.0.1:8080/';

const ORDERS: LoadOptionsInput['workload'] = {
  requests: {
    place: { method: 'POST', path: '/orders', body: '{"ref":"${key}","n":${seq}}', write: true, id: 'order.order_id', expect: 201 },
    lookup: { path: '/orders/${id}?from=${prefix}' },
    health: { path: '/healthz', headers: { 'x-probe': 'faultline' } },
  },
  mix: 'place=1,lookup=3',
};

function workloadOf(input: Omit<LoadOptionsInput, 'url'> & { url?: string }): { w: Workload; ledger: WriteLedger } {
  const o = validateLoadOptions({ url, runId: 'r1', ...input });
  const ledger = new WriteLedger(o.runId);
  return { w: new Workload(o, ledger), ledger };
}

test('templates compile into parts once; ${prefix} is filled in then, the rest per request', (t) => {
  t.is(compileTemplate('/items', 'p-'), '/items', 'no variable: the text itself');
  t.is(compileTemplate('/runs/${prefix}', 'r1-'), '/runs/r1-');
  const body = compileTemplate('{"ref":"${key}","seq":${seq},"of":"${id}","p":"${prefix}"}', 'r1-');
  t.deepEqual(body, ['{"ref":"', 0, '","seq":', 1, ',"of":"', 2, '","p":"r1-"}']);
  t.is(expandTemplate(body, 'r1-7', '12', '99'), '{"ref":"r1-7","seq":12,"of":"99","p":"r1-"}');
  t.is(expandTemplate(compileTemplate('${id}${id}', ''), '', '', 'x'), 'xx');
  t.is(expandTemplate(compileTemplate('/a/${seq}', ''), '', '3', ''), '/a/3');
  t.throws(() => compileTemplate('/a/${nope}', ''), { message: /unknown variable \$\{nope\}/ });
});

test('a compiled request sits under the URL path, merges headers once and knows what it needs', (t) => {
  const spec = requestSpecSchema.parse({ method: 'POST', path: '/orders/${seq}', body: '{"ref":"${key}"}', write: true, expect: [201, 202] });
  const r = compileRequest('place', spec, { basePath: '/api', prefix: 'r1-', hostHeader: 'shop.test' });
  t.is(expandTemplate(r.path, 'k', '5', ''), '/api/orders/5');
  t.deepEqual(r.headers, { host: 'shop.test', 'content-type': 'application/json' });
  t.deepEqual(r.expect, [201, 202]);
  t.deepEqual(r.idPath, ['id'], 'a write reads its id at `id` unless told');
  t.true(r.needsSeq);
  t.false(r.needsId);
  const typed = compileRequest('put', requestSpecSchema.parse({ method: 'PUT', path: '/x', body: 'a=${seq}', headers: { 'Content-Type': 'text/plain' } }), {
    basePath: '',
    prefix: '',
    hostHeader: null,
  });
  t.deepEqual(typed.headers, { 'Content-Type': 'text/plain' }, 'a declared content type is kept, not doubled');
  t.is(typed.idPath, null, 'a read has no id to take');
});

test('the workload plans named requests by the mix: keys for writes only, a per-run seq, ids from the pool', (t) => {
  const { w, ledger } = workloadOf({ workload: ORDERS, idRange: { min: 5, max: 5 } });
  t.false(w.isStatic);
  const plans = Array.from({ length: 8 }, () => w.next());
  t.deepEqual(
    plans.map((p) => p.kind),
    ['lookup', 'place', 'lookup', 'lookup', 'lookup', 'place', 'lookup', 'lookup'],
  );
  const place = plans[1]!;
  t.is(place.method, 'POST');
  t.is(place.path, '/orders');
  t.is(place.key, 'r1-1');
  t.is(place.body, '{"ref":"r1-1","n":2}', '${seq} counts every planned request of the run');
  t.is(place.request?.name, 'place');
  t.deepEqual(place.headers, { 'content-type': 'application/json' });
  t.is(plans[0]!.key, null, 'reads take no ledger key');
  t.is(plans[0]!.path, '/orders/5?from=r1-', 'no id yet: the id range');
  t.is(ledger.nextKey(), 'r1-3', 'two writes took two keys');
  w.noteId('ord-9');
  t.is(w.next().path, '/orders/ord-9?from=r1-', 'an acknowledged id is used from then on');
});

test('seed ids are read from the first request on; GET <url> and a single plain read are static', (t) => {
  const { w } = workloadOf({ workload: ORDERS, mix: 'lookup=1', seedIds: [41, 'a-42'] });
  const seen = new Set(Array.from({ length: 50 }, () => w.next().path));
  t.deepEqual([...seen].sort(), ['/orders/41?from=r1-', '/orders/a-42?from=r1-']);
  t.true(workloadOf({}).w.isStatic);
  t.deepEqual(workloadOf({ url: 'http://127.0.0.1:8080/a?b=1' }).w.next(), {
    kind: 'url',
    method: 'GET',
    path: '/a?b=1',
    body: null,
    headers: {},
    key: null,
    request: null,
  });
  const health = workloadOf({ workload: ORDERS, mix: 'health=1', url: 'http://127.0.0.1:8080/api/' }).w;
  t.true(health.isStatic);
  t.is(health.next().path, '/api/healthz');
});

test('without a workload the reference preset serves --mix exactly as before', (t) => {
  const { w } = workloadOf({ mix: 'read=1,write=1,whoami=1', idRange: { min: 3, max: 3 } });
  const [read, write, whoami] = [w.next(), w.next(), w.next()];
  t.deepEqual([read.method, read.path, read.body], ['GET', '/items/3', null]);
  t.deepEqual([write.method, write.path, write.key], ['POST', '/items', 'r1-1']);
  t.deepEqual(JSON.parse(write.body ?? ''), { key: 'r1-1', value: 'faultline r1-1' });
  t.deepEqual(write.headers, { 'content-type': 'application/json' });
  t.deepEqual([whoami.method, whoami.path], ['GET', '/whoami']);
  t.true(usesId(REFERENCE_REQUESTS.read!));
});

test('options: the workload mix is the default, names are checked, only the named requests are kept', (t) => {
  const o = validateLoadOptions({ url, workload: ORDERS });
  t.deepEqual(o.mix, [
    { kind: 'place', weight: 1 },
    { kind: 'lookup', weight: 3 },
  ]);
  t.deepEqual(Object.keys(o.workload ?? {}), ['place', 'lookup']);
  t.is(validateLoadOptions({ url, workload: ORDERS, mix: 'health=1' }).mix?.[0]?.kind, 'health');
  t.is(validateLoadOptions({ url }).workload, null, 'no mix: GET <url>, no requests');
  // A bare map of requests is a workload too.
  t.is(validateLoadOptions({ url, workload: { ping: { path: '/ping' } }, mix: 'ping=1' }).workload?.ping?.method, 'GET');
  // A preset extended by a request of its own.
  t.deepEqual(
    Object.keys(validateLoadOptions({ url, workload: { preset: 'reference', requests: { ping: { path: '/p' } } }, mix: 'ping=1,read=1' }).workload ?? {}),
    ['ping', 'read'],
  );
  const msg = (input: Omit<LoadOptionsInput, 'url'>) => {
    const err = t.throws(() => validateLoadOptions({ url, ...input }), { instanceOf: FaultlineError });
    t.is(err?.code, 'INVALID_INPUT');
    t.false(err?.message.includes('\n'));
    return err?.message;
  };
  t.is(msg({ workload: ORDERS, mix: 'read=1' }), 'mix: unknown request "read" (requests: place, lookup, health)');
  t.is(msg({ workload: { requests: { a: { path: '/a' } }, mix: 'b=1' } }), 'workload.mix: unknown request "b" (requests: a)');
  t.is(msg({ workload: { requests: { a: { path: 'a' } } } }), 'workload: requests.a.path: must start with /');
  t.regex(msg({ workload: { requests: { a: { path: '/a/${nope}' } } } }) ?? '', /^workload: requests\.a\.path: unknown variable \$\{nope\}/);
  t.regex(msg({ workload: { requests: { a: { path: '/a', body: '${key}' } } } }) ?? '', /^workload: requests\.a\.path: \$\{key\} is a write's ledger key/);
  t.regex(msg({ workload: { requests: { a: { method: 'POST', path: '/a', write: true } } } }) ?? '', /a write must send its \$\{key\}/);
  t.regex(
    msg({ workload: { requests: { a: { path: '/a', headers: { Host: 'x' } } } } }) ?? '',
    /^workload: requests\.a\.headers\.Host: Host is set by the client/,
  );
  t.regex(msg({ workload: { requests: { Bad: { path: '/a' } } } }) ?? '', /request names are lowercase/);
  t.is(msg({ workload: [] as never }), 'workload: must be a map (requests, mix, preset)');
  t.regex(msg({ workload: ORDERS, connections: 4, workers: 2 }) ?? '', /^workers: a write mix needs one write ledger/);
  t.regex(msg({ seedIds: ['a b'] }) ?? '', /^seedIds: "a b" is not an id/);
  t.is(
    msg({ workload: { h: { method: 'HEAD', path: '/h' } }, mix: 'h=1', connections: 2 }),
    'mix: h is a HEAD request: use the paced driver (--rate); the closed driver cannot read HEAD answers',
  );
  t.is(validateLoadOptions({ url, workload: { h: { method: 'HEAD', path: '/h' } }, mix: 'h=1', rate: 10 }).workload?.h?.method, 'HEAD');
});

test('parseWorkload names its source (a file) and every problem, in one line', (t) => {
  const err = t.throws(() => parseWorkload({ requests: { a: { path: 'x', expect: 700 } }, extra: 1 }, 'workload: shop.yaml'));
  t.is(
    err?.message,
    'workload: shop.yaml: requests.a.path: must start with /; requests.a.expect: Number must be less than or equal to 599; unknown field "extra"',
  );
});
