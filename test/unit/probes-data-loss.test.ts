// The Jepsen set check on hand-built ledgers and named read-backs: lost, unexpected, recovered, unknown, and the
// divergence between every pair of read-backs.

import test from 'ava';
import { WriteLedger, type WriteRecord } from '../../src/load/ledger.js';
import { dataLossFindings, diverge, judgeDataLoss, type FinalRead } from '../../src/probes/data-loss.js';

function ledger(outcomes: Array<WriteRecord['outcome']>): WriteLedger {
  return WriteLedger.fromJSON({
    version: 1,
    runId: 'run1',
    keyPrefix: 'run1-',
    startedAt: new Date(0).toISOString(),
    counts: { attempted: outcomes.length, ok: 0, fail: 0, unknown: 0 },
    writes: outcomes.map((outcome, i) => ({
      key: `run1-${i + 1}`,
      intendedMs: i,
      completedMs: i + 1,
      outcome,
      id: outcome === 'ok' ? i + 1 : null,
      status: null,
      error: null,
    })),
  });
}

// run1-1 ok, run1-2 ok, run1-3 fail, run1-4 unknown, run1-5 unknown, run1-6 ok
const l = ledger(['ok', 'ok', 'fail', 'unknown', 'unknown', 'ok']);
const keys = (...k: string[]): FinalRead => ({ ok: true, keys: k });
const named = (...reads: Array<[string, FinalRead]>) => reads.map(([name, read]) => ({ name, read }));

test('all acknowledged writes present: valid, recovered = unacknowledged ones present', (t) => {
  const both = keys('run1-1', 'run1-2', 'run1-4', 'run1-6');
  const r = judgeDataLoss(l, named(['primary', both], ['replica', both]), { replica: true });
  t.is(r.status, 'valid');
  t.is(r.authority, 'primary');
  t.deepEqual(r.check!.lost, []);
  t.deepEqual(r.check!.unexpected, []);
  t.deepEqual(r.check!.recovered, ['run1-4']);
  t.deepEqual(r.divergences, [{ between: ['primary', 'replica'], only: { primary: [], replica: [] } }]);
  t.deepEqual(r.divergence, { onlyPrimary: [], onlyReplica: [] });
  t.deepEqual(r.reads, [
    { name: 'primary', ok: true, keys: 4, error: null },
    { name: 'replica', ok: true, keys: 4, error: null },
  ]);
  t.true(r.replicaCaughtUp);
  t.deepEqual(
    dataLossFindings(r).map((f) => f.id),
    ['recovered-writes'],
  );
});

test('lost = acknowledged − read', (t) => {
  const r = judgeDataLoss(l, named(['orders', keys('run1-1', 'run1-5')]), null);
  t.is(r.status, 'invalid');
  t.deepEqual(r.check!.lost.sort(), ['run1-2', 'run1-6']);
  t.deepEqual(r.check!.recovered, ['run1-5']);
  t.deepEqual(r.divergences, []);
  t.is(r.divergence, null);
  t.is(r.replicaCaughtUp, null);
  t.true(dataLossFindings(r).some((f) => f.id === 'lost-writes' && f.severity === 'critical'));
});

test('unexpected = read − attempted (keys of this run only); a fail present is flagged', (t) => {
  const r = judgeDataLoss(l, named(['primary', keys('run1-1', 'run1-2', 'run1-6', 'run1-3', 'run1-99', 'other-7')]), null);
  t.is(r.status, 'invalid');
  t.deepEqual(r.check!.unexpected, ['run1-99']);
  t.deepEqual(r.check!.recovered, ['run1-3']);
  t.deepEqual(r.check!.failedButPresent, ['run1-3']);
  t.deepEqual(r.check!.lost, []);
  t.is(r.reads[0]!.keys, 5, 'only keys of this run are counted');
});

test('unknown when the first (authoritative) read failed, whatever the others found', (t) => {
  const r = judgeDataLoss(l, named(['primary', { ok: false, error: 'connect ETIMEDOUT' }], ['replica', keys()]), { replica: false });
  t.is(r.status, 'unknown');
  t.is(r.check, null);
  t.regex(r.error!, /^final read failed: connect ETIMEDOUT/);
  t.deepEqual(r.reads[0], { name: 'primary', ok: false, keys: null, error: 'connect ETIMEDOUT' });
  const ids = dataLossFindings(r).map((f) => f.id);
  t.true(ids.includes('data-unknown') && ids.includes('replica-behind'));
});

test('a later read-back that fails does not make the check unknown; the error names it', (t) => {
  const r = judgeDataLoss(
    l,
    named(['primary', keys('run1-1', 'run1-2', 'run1-6')], ['api', { ok: false, error: 'readback[1].http.get: GET /x answered 503' }]),
    null,
  );
  t.is(r.status, 'valid');
  t.is(r.error, 'api read failed: readback[1].http.get: GET /x answered 503');
  t.deepEqual(r.divergences, []);
});

test('divergence: rows on one node but not the other', (t) => {
  t.deepEqual(diverge('primary', ['a', 'b', 'c'], 'replica', ['b', 'c', 'd']), { between: ['primary', 'replica'], only: { primary: ['a'], replica: ['d'] } });
  const r = judgeDataLoss(l, named(['primary', keys('run1-1', 'run1-2', 'run1-6')], ['replica', keys('run1-1', 'run1-2')]), { replica: false });
  t.deepEqual(r.divergence, { onlyPrimary: ['run1-6'], onlyReplica: [] });
  const f = dataLossFindings(r);
  t.deepEqual(
    f.map((x) => x.id),
    ['divergence', 'replica-behind'],
  );
  t.is(f[0]!.message, 'primary and replica differ: 1 only on primary, 0 only on replica');
  t.is(f[1]!.where, 'replica');
});

test('divergence between every pair of named read-backs, over the keys of this run only', (t) => {
  const r = judgeDataLoss(
    l,
    named(
      ['primary', keys('run1-1', 'run1-2', 'run1-6', 'zz-1')],
      ['replica', keys('run1-1', 'run1-2', 'run1-6')],
      ['api', keys('run1-1', 'run1-6', 'run1-4')],
    ),
    { replica: true },
  );
  t.is(r.status, 'valid');
  t.deepEqual(r.divergences, [
    { between: ['primary', 'replica'], only: { primary: [], replica: [] } },
    { between: ['primary', 'api'], only: { primary: ['run1-2'], api: ['run1-4'] } },
    { between: ['replica', 'api'], only: { replica: ['run1-2'], api: ['run1-4'] } },
  ]);
  const divergent = dataLossFindings(r).filter((f) => f.id === 'divergence');
  t.deepEqual(
    divergent.map((f) => f.where),
    ['primary/api', 'replica/api'],
  );
});
