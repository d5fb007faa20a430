// Synthetic runs for the judge's tests (no Docker): a timeline of 10 requests per 100 ms bucket, a write ledger of
// given outcomes, and the load result the judge reads them from.

import { Timeline } from '../../src/load/timeline.js';
import { WriteLedger, type WriteRecord } from '../../src/load/ledger.js';
import type { JudgeInput } from '../../src/experiment/judge.js';

/** 10 requests per 100 ms bucket for `ms`; those for which `ok` is false fail with ECONNREFUSED. */
export function timeline(ms: number, ok: (t: number) => boolean = () => true): Timeline {
  const t = new Timeline({ bucketMs: 100, startedAt: 0 });
  for (let at = 0; at < ms; at += 10) {
    if (ok(at)) t.recordResponse(at, 200, 5000);
    else t.recordError(at, 'ECONNREFUSED');
  }
  return t;
}

export function ledger(writes: Array<[intendedMs: number, outcome: WriteRecord['outcome']]>): WriteLedger {
  return WriteLedger.fromJSON({
    version: 1,
    runId: 'run1',
    keyPrefix: 'run1-',
    startedAt: new Date(0).toISOString(),
    counts: {
      attempted: writes.length,
      ok: writes.filter(([, o]) => o === 'ok').length,
      fail: writes.filter(([, o]) => o === 'fail').length,
      unknown: writes.filter(([, o]) => o === 'unknown').length,
    },
    writes: writes.map(([intendedMs, outcome], i) => ({
      key: `run1-${i}`,
      intendedMs,
      completedMs: intendedMs + 5,
      outcome,
      id: outcome === 'ok' ? i : null,
      status: null,
      error: null,
    })),
  });
}

export function load(t: Timeline, l: WriteLedger = ledger([])): JudgeInput['load'] {
  const w = t.window(0, t.length * t.bucketMs);
  return {
    timeline: t,
    ledger: l,
    summary: { intended: w.outcomes, errorRatio: w.outcomes ? 1 - w.successes / w.outcomes : null, latency: { p99: w.latency.p99 } } as never,
  };
}
