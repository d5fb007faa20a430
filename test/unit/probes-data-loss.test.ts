// The Jepsen set check on hand-built ledgers and table contents: lost, unexpected, recovered, unknown.

import test from 'ava';
import { WriteLedger, type WriteRecord } from '../../src/load/ledger.js';
import { dataLossFindings, diverge, judgeDataLoss } from '../../src/probes/data-loss.js';

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

test('all acknowledged writes present: valid, recovered = unacknowledged ones present', (t) => {
  const r = judgeDataLoss(l, { ok: true, keys: ['run1-1', 'run1-2', 'run1-4', 'run1-6'] }, { ok: true, keys: ['run1-1', 'run1-2', 'run1-4', 'run1-6'] }, true);
  t.is(r.status, 'valid');
  t.deepEqual(r.check!.lost, []);
  t.deepEqual(r.check!.unexpected, []);
  t.deepEqual(r.check!.recovered, ['run1-4']);
  t.deepEqual(r.divergence, { onlyPrimary: [], onlyReplica: [] });
});

test('lost = acknowledged − read', (t) => {
  const r = judgeDataLoss(l, { ok: true, keys: ['run1-1', 'run1-5'] }, null, true);
  t.is(r.status, 'invalid');
  t.deepEqual(r.check!.lost.sort(), ['run1-2', 'run1-6']);
  t.deepEqual(r.check!.recovered, ['run1-5']);
  t.true(dataLossFindings(r).some((f) => f.id === 'lost-writes' && f.severity === 'critical'));
});

test('unexpected = read − attempted (keys of this run only); a fail present is flagged', (t) => {
  const r = judgeDataLoss(l, { ok: true, keys: ['run1-1', 'run1-2', 'run1-6', 'run1-3', 'run1-99', 'other-7'] }, null, true);
  t.is(r.status, 'invalid');
  t.deepEqual(r.check!.unexpected, ['run1-99']);
  t.deepEqual(r.check!.recovered, ['run1-3']);
  t.deepEqual(r.check!.failedButPresent, ['run1-3']);
  t.deepEqual(r.check!.lost, []);
});

test('unknown when the final read failed', (t) => {
  const r = judgeDataLoss(l, { ok: false, error: 'connect ETIMEDOUT' }, { ok: true, keys: [] }, false);
  t.is(r.status, 'unknown');
  t.is(r.check, null);
  t.regex(r.error!, /ETIMEDOUT/);
  t.true(dataLossFindings(r).some((f) => f.id === 'data-unknown'));
});

test('divergence: rows on one node but not the other', (t) => {
  t.deepEqual(diverge(['a', 'b', 'c'], ['b', 'c', 'd']), { onlyPrimary: ['a'], onlyReplica: ['d'] });
  const r = judgeDataLoss(l, { ok: true, keys: ['run1-1', 'run1-2', 'run1-6'] }, { ok: true, keys: ['run1-1', 'run1-2'] }, false);
  t.deepEqual(r.divergence, { onlyPrimary: ['run1-6'], onlyReplica: [] });
  const ids = dataLossFindings(r).map((f) => f.id);
  t.true(ids.includes('divergence') && ids.includes('replica-behind'));
});
