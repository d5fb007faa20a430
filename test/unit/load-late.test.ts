// Requests that could not leave on schedule: the late outcome in the timeline (a failure under its own code and
// count), the wire lag beside the latency, the clock that finds overdue requests, and how they are shown.
import test from 'ava';
import { Timeline, formatResult, formatResultLine } from '../../src/load/index.js';
import type { LoadResult, LoadSettings } from '../../src/load/index.js';
import { WriteLedger } from '../../src/load/ledger.js';
import { Admission } from '../../src/load/admission.js';
import { WireClock, isLocalLimitCode } from '../../src/load/wire-clock.js';
import { validateLoadOptions } from '../../src/load/options.js';
import { FaultlineError } from '../../src/errors.js';

function timeline(): Timeline {
  const tl = new Timeline({ bucketMs: 100, startedAt: 0, uncorrected: true });
  for (let i = 0; i < 10; i++) {
    tl.recordSent(i * 10);
    if (i < 7) {
      tl.recordWireLag(i * 10, 1000 * (i + 1));
      tl.recordResponse(i * 10, 200, 2000);
    } else tl.recordLate(i * 10, 150_000);
  }
  return tl;
}

test('a late request is a failure of its own: counted in errors, under LATE, in every ratio, with its wire lag', (t) => {
  const tl = timeline();
  const s = tl.summary(100);
  t.is(s.intended, 10);
  t.is(s.late, 3);
  t.is(s.errors, 3);
  t.is(s.errorCodes.LATE, 3);
  t.is(s.sent, s.responses + s.errors);
  t.is(s.errorRatio, 0.3);
  t.is(tl.successRatio(0), 0.7);
  t.is(s.wireLag.count, 10);
  t.is(s.wireLag.max, 150);
  t.is(tl.bucket(0)?.late, 3);
  t.is(tl.window(0, 100).wireLag.p50, 5.003);
});

test('late counts and wire lag survive JSON and the merge of timelines', (t) => {
  const tl = timeline();
  const back = Timeline.fromJSON(JSON.parse(JSON.stringify(tl.toJSON())));
  const [was, is] = [tl.summary(100), back.summary(100)];
  t.deepEqual({ ...is, wireLag: null, latency: null }, { ...was, wireLag: null, latency: null });
  t.is(is.wireLag.count, was.wireLag.count);
  t.is(is.wireLag.p50, was.wireLag.p50);
  const merged = Timeline.merge([tl, back]);
  t.is(merged.summary(100).late, 6);
  t.is(merged.summary(100).wireLag.count, 20);
  // A timeline without late requests or wire lag writes neither (journals stay as they were).
  const plain = new Timeline({ bucketMs: 100, startedAt: 0 });
  plain.recordSent(1);
  plain.recordResponse(1, 200, 10);
  const json = plain.toJSON().buckets[0]!;
  t.false('late' in json);
  t.false('wireLag' in json);
});

test('the wire clock gives up requests off the wire past the bound, oldest first, and no others', (t) => {
  const clock = new WireClock<{ tMs: number; sentAtMs: number; handedMs: number; settled: boolean }>(100);
  t.is(clock.spareAfterMs, 10);
  const reqs = [0, 10, 20, 30, 40].map((tMs) => ({ tMs, sentAtMs: -1, handedMs: -1, settled: false }));
  for (const r of reqs) clock.track(r);
  reqs[0]!.handedMs = 1; // handed to undici: judged when it reaches the wire, never given up from the queue
  reqs[2]!.settled = true; // already has its outcome
  reqs[3]!.handedMs = 31;
  t.deepEqual(clock.overdue(99), []);
  t.deepEqual(
    clock.overdue(115).map((r) => r.tMs),
    [10],
  );
  t.deepEqual(
    clock.overdue(200).map((r) => r.tMs),
    [40],
  );
  t.true(clock.isLate({ tMs: 0, sentAtMs: -1, handedMs: -1, settled: false }, 100));
  t.false(clock.isLate({ tMs: 0, sentAtMs: -1, handedMs: -1, settled: false }, 99.9));
  t.true(isLocalLimitCode('EMFILE') && isLocalLimitCode('EADDRNOTAVAIL'));
  t.false(isLocalLimitCode('ECONNREFUSED'));
});

test('a due request waits for a pooled socket about twice the typical answer, within the cap', (t) => {
  const a = new Admission(4);
  t.is(a.spareAfterMs(10), 1, 'no answers yet: at once');
  for (let i = 0; i < 200; i++) a.answered(i, 2);
  t.true(Math.abs(a.spareAfterMs(10) - 4) < 0.01, `${a.spareAfterMs(10)}`);
  // One outlier of 600 ms (a starved machine) does not make every request wait the cap.
  a.answered(300, 600);
  t.true(a.spareAfterMs(10) <= 10);
  for (let i = 0; i < 200; i++) a.answered(400 + i, 1);
  t.true(a.spareAfterMs(10) < 3);
});

test('the late bound: 250 ms by default, paced only, a duration', (t) => {
  t.is(validateLoadOptions({ url: 'http://127.0.0.1/', rate: 10 }).lateAfterMs, 250);
  t.is(validateLoadOptions({ url: 'http://127.0.0.1/', rate: 10, lateAfterMs: 250 }).lateAfterMs, 250);
  const err = t.throws(() => validateLoadOptions({ url: 'http://127.0.0.1/', connections: 2, lateAfterMs: 250 }), { instanceOf: FaultlineError });
  t.regex(err.message, /lateAfter/);
  t.throws(() => validateLoadOptions({ url: 'http://127.0.0.1/', rate: 10, lateAfterMs: 0 }), { message: /lateAfter/ });
});

test('the summary says how many were late and how far behind requests went onto the wire', (t) => {
  const tl = timeline();
  const summary = tl.summary(100);
  const r: LoadResult = {
    runId: 'abc',
    driver: 'paced',
    options: {
      url: 'http://127.0.0.1:8080/',
      driver: 'paced',
      stages: [{ durationMs: 100, from: 100, to: 100 }],
      lateAfterMs: 100,
      insecure: false,
    } as unknown as LoadSettings,
    startedAt: new Date(0).toISOString(),
    durationMs: 100,
    stopReason: 'completed',
    timeline: tl,
    ledger: new WriteLedger('abc'),
    summary,
    dropped: 0,
    faults: [],
    schedule: { scheduled: 10, targetRate: 100, achievedRate: 100, lag: summary.wireLag, wireLag: summary.wireLag, lateAfterMs: 100 },
  };
  const block = formatResult(r);
  t.regex(block, /3 late \(not on the wire within 100 ms\)/);
  t.regex(block, /wire lag p50 5\.00 ms p99 150 ms/);
  t.regex(formatResultLine(r), /3 late, dropped 0/);
});
