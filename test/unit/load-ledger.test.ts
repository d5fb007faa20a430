// Write outcome classification and the ledger's bookkeeping (pure).
import test from 'ava';
import { WriteLedger, checkWrites, classifyWrite, parseId } from '../../src/load/index.js';
import { isExpectedStatus } from '../../src/load/ledger.js';

test('without a rule, 2xx is ok and carries the id from the body', (t) => {
  t.deepEqual(classifyWrite({ status: 201, body: '{"id": 42, "key": "r-1"}', sent: true }), { outcome: 'ok', id: 42 });
  t.deepEqual(classifyWrite({ status: 200, body: 'not json', sent: true }), { outcome: 'ok', id: null });
});

test('a definite refusal is fail: 4xx, 5xx from the app, or a connect error before any byte was sent', (t) => {
  t.is(classifyWrite({ status: 409, sent: true }).outcome, 'fail');
  t.is(classifyWrite({ status: 400, sent: true }).outcome, 'fail');
  t.is(classifyWrite({ status: 503, sent: true }).outcome, 'fail');
  t.is(classifyWrite({ status: 500, sent: true }).outcome, 'fail');
  t.is(classifyWrite({ errorCode: 'ECONNREFUSED', sent: false }).outcome, 'fail');
  t.is(classifyWrite({ errorCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', sent: false }).outcome, 'fail');
});

test('anything that may have reached the database is unknown', (t) => {
  t.is(classifyWrite({ errorCode: 'ECONNRESET', sent: true }).outcome, 'unknown');
  t.is(classifyWrite({ errorCode: 'ETIMEDOUT', sent: true }).outcome, 'unknown');
  // A proxy's gateway errors do not say the backend refused.
  t.is(classifyWrite({ status: 502, sent: true }).outcome, 'unknown');
  t.is(classifyWrite({ status: 504, sent: true }).outcome, 'unknown');
});

test("a request's expected statuses decide what acknowledges a write; the id is at its dot path", (t) => {
  const rule = { expect: [201], idPath: ['order', 'order_id'] };
  t.deepEqual(classifyWrite({ status: 201, body: '{"order":{"order_id":"ord-7"}}', sent: true }, rule), { outcome: 'ok', id: 'ord-7' });
  t.deepEqual(classifyWrite({ status: 201, body: '{"order":{"order_id":12}}', sent: true }, rule), { outcome: 'ok', id: 12 });
  t.deepEqual(classifyWrite({ status: 201, body: '{"id":12}', sent: true }, rule), { outcome: 'ok', id: null }, 'acknowledged, no id there');
  // A 2xx the request does not expect is not its acknowledgement: it may or may not have been written.
  t.is(classifyWrite({ status: 200, body: '{"order":{"order_id":1}}', sent: true }, rule).outcome, 'unknown');
  t.is(classifyWrite({ status: 500, sent: true }, rule).outcome, 'fail');
  t.is(classifyWrite({ status: 502, sent: true }, rule).outcome, 'unknown');
  // An expected 409 (already there) acknowledges too.
  t.is(classifyWrite({ status: 409, sent: true }, { expect: [201, 409], idPath: null }).outcome, 'ok');
  t.is(classifyWrite({ errorCode: 'ECONNRESET', sent: true }, rule).outcome, 'unknown');
  t.is(isExpectedStatus(204, null), true);
  t.is(isExpectedStatus(302, null), false, 'the default is any 2xx');
  t.is(isExpectedStatus(404, [404]), true);
});

test('the ledger classifies each write by the rule it began with', (t) => {
  const l = new WriteLedger('r2');
  const custom = l.begin(l.nextKey(), 1, { expect: [201], idPath: ['data', 'ref'] });
  const plain = l.begin(l.nextKey(), 2);
  l.complete(custom, 3, { status: 200, body: '{"data":{"ref":"x"}}', sent: true });
  l.complete(plain, 4, { status: 200, body: '{"id":5}', sent: true });
  t.deepEqual(
    l.records().map((w) => [w.outcome, w.id]),
    [
      ['unknown', null],
      ['ok', 5],
    ],
  );
});

test('parseId reads a dot path; ids are positive integers or short safe strings', (t) => {
  t.is(parseId('{"order":{"order_id":3}}', 'order.order_id'), 3);
  t.is(parseId('{"order":{"order_id":"8b1c-44"}}', ['order', 'order_id']), '8b1c-44');
  t.is(parseId('{"order":[{"order_id":3}]}', 'order.order_id'), null, 'no arrays on the way');
  t.is(parseId('{"order":null}', 'order.order_id'), null);
  t.is(parseId('{"order":{}}', 'order.order_id'), null);
  t.is(parseId('{"id":"a b"}'), null, 'would need escaping in a path');
  t.is(parseId('{"id":"a\\"b"}'), null, 'would need escaping in JSON');
  t.is(parseId('{"id":"99999999999999999"}'), '99999999999999999', 'digits past a safe integer stay text');
  t.is(parseId('{"id":true}'), null);
  t.is(parseId(`{"id":"${'x'.repeat(129)}"}`), null);
  t.is(parseId('{"__proto__":{"id":1}}', '__proto__.id'), 1, 'own keys only, read as data');
  t.is(parseId('{}', 'constructor'), null);
});

test('parseId accepts positive integer ids only', (t) => {
  t.is(parseId('{"id":1}'), 1);
  t.is(parseId('{"id":"17"}'), 17);
  t.is(parseId('{"id":0}'), null);
  t.is(parseId('{"id":-3}'), null);
  t.is(parseId('{"id":1.5}'), null);
  t.is(parseId('[1]'), null);
  t.is(parseId(''), null);
  t.is(parseId(undefined), null);
});

test('keys carry the run id prefix; the ledger counts outcomes and round-trips JSON', (t) => {
  const l = new WriteLedger('run42', 1_700_000_000_000);
  const k1 = l.nextKey();
  const k2 = l.nextKey();
  const k3 = l.nextKey();
  t.is(k1, 'run42-1');
  t.true([k1, k2, k3].every((k) => k.startsWith(l.keyPrefix)));
  t.is(l.likePattern(), 'run42-%');
  const h1 = l.begin(k1, 1.23456);
  const h2 = l.begin(k2, 2);
  l.begin(k3, 3); // never completed: stays unknown
  l.complete(h1, 4, { status: 201, body: '{"id":9}', sent: true });
  l.complete(h2, 5, { errorCode: 'ECONNREFUSED', sent: false });
  t.deepEqual(l.counts(), { attempted: 3, ok: 1, fail: 1, unknown: 1 });
  t.deepEqual(l.acknowledgedKeys(), ['run42-1']);
  t.deepEqual(l.okIds(), [9]);
  const rec = l.records();
  t.is(rec[0]?.intendedMs, 1.235);
  t.is(rec[1]?.error, 'ECONNREFUSED');
  t.is(rec[2]?.completedMs, null);
  const back = WriteLedger.fromJSON(JSON.parse(JSON.stringify(l)));
  t.deepEqual(back.records(), l.records());
  t.is(back.nextKey(), 'run42-4');
});

test('run ids must be LIKE-safe', (t) => {
  t.throws(() => new WriteLedger('a_b'), { message: /runId/ });
  t.throws(() => new WriteLedger('a%'), { message: /runId/ });
  t.throws(() => new WriteLedger('a-b'), { message: /runId/ });
  t.throws(() => new WriteLedger(''), { message: /runId/ });
});

test('checkWrites finds lost, unexpected and recovered writes', (t) => {
  const l = new WriteLedger('r1');
  const keys = [l.nextKey(), l.nextKey(), l.nextKey(), l.nextKey()];
  const handles = keys.map((k, i) => l.begin(k, i));
  l.complete(handles[0] as number, 1, { status: 201, body: '{"id":1}', sent: true }); // ok, present
  l.complete(handles[1] as number, 1, { status: 201, body: '{"id":2}', sent: true }); // ok, lost
  l.complete(handles[2] as number, 1, { errorCode: 'ECONNRESET', sent: true }); // unknown, present
  l.complete(handles[3] as number, 1, { status: 503, sent: true }); // fail, absent
  const c = checkWrites(l, ['r1-1', 'r1-3', 'r1-99', 'other-1']);
  t.deepEqual(c.lost, ['r1-2']);
  t.deepEqual(c.unexpected, ['r1-99']);
  t.deepEqual(c.recovered, ['r1-3']);
  t.deepEqual(c.failedButPresent, []);
  t.false(c.valid);
  t.is(c.read, 3);
  t.true(checkWrites(l, ['r1-1', 'r1-2']).valid);
});
