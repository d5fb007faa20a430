// Timeline bucketing, merging, roll-ups and the JSON round trip (pure, no sockets).
import test from 'ava';
import { Timeline, isSuccessStatus, loadResultFromJSON, loadResultToJSON, WriteLedger } from '../../src/load/index.js';
import type { LoadResult } from '../../src/load/index.js';

/** HdrHistogram keeps 3 significant digits: compare within 0.1%. */
function near(t: import('ava').ExecutionContext, actual: number | null | undefined, expected: number): void {
  t.true(actual !== null && actual !== undefined && Math.abs(actual - expected) <= expected * 0.001, `${actual} ≉ ${expected}`);
}

function timeline(): Timeline {
  return new Timeline({ bucketMs: 100, startedAt: Date.UTC(2025, 0, 1), uncorrected: true });
}

test('requests land in the bucket of their (intended) time', (t) => {
  const tl = timeline();
  tl.recordSent(0);
  tl.recordSent(99.999);
  tl.recordSent(100);
  tl.recordSent(-5); // clock skew before t = 0 goes to the first bucket
  tl.recordSent(1050);
  t.is(tl.length, 11);
  t.is(tl.bucket(0)?.sent, 3);
  t.is(tl.bucket(1)?.sent, 1);
  t.is(tl.bucket(5)?.sent, 0);
  t.is(tl.bucket(10)?.sent, 1);
  t.is(tl.bucket(10)?.startMs, 1000);
  t.is(tl.bucket(11), null);
});

test('success is 2xx/3xx; statuses and error codes are counted per bucket', (t) => {
  t.true(isSuccessStatus(200));
  t.true(isSuccessStatus(304));
  t.false(isSuccessStatus(404));
  t.false(isSuccessStatus(503));
  t.false(isSuccessStatus(199));
  const tl = timeline();
  tl.recordResponse(10, 200, 500);
  tl.recordResponse(20, 301, 700);
  tl.recordResponse(30, 503, 900);
  tl.recordError(40, 'ECONNREFUSED');
  tl.recordError(50, 'ECONNREFUSED');
  tl.recordError(150, 'ECONNRESET');
  const b0 = tl.bucket(0);
  t.deepEqual(b0?.statuses, { '200': 1, '301': 1, '503': 1 });
  t.deepEqual(b0?.errorCodes, { ECONNREFUSED: 2 });
  t.is(b0?.successes, 2);
  t.is(b0?.responses, 3);
  t.is(tl.successRatio(0), 2 / 5);
  t.is(tl.successRatio(1), 0);
  t.deepEqual(tl.bucket(1)?.errorCodes, { ECONNRESET: 1 });
});

test('per-bucket percentiles and null for empty buckets', (t) => {
  const tl = timeline();
  for (let i = 1; i <= 100; i++) tl.recordResponse(10, 200, i * 1000); // 1..100 ms
  tl.recordSent(250);
  near(t, tl.p99(0), 99);
  near(t, tl.percentile(0, 50), 50);
  t.is(tl.p99(2), null);
  t.is(tl.successRatio(2), null);
  t.is(tl.p99(99), null);
});

test('windows and per-second roll-ups merge counts and histograms', (t) => {
  const tl = timeline();
  for (let ms = 0; ms < 2500; ms += 10) {
    tl.recordSent(ms);
    if (ms >= 1000 && ms < 1500) tl.recordError(ms, 'ECONNREFUSED');
    else tl.recordResponse(ms, 200, ms < 1000 ? 1000 : 3000);
  }
  const secs = tl.perSecond();
  t.is(secs.length, 3);
  t.is(secs[0]?.sent, 100);
  t.is(secs[0]?.rate, 100);
  t.is(secs[0]?.successRatio, 1);
  near(t, secs[0]?.latency.p50, 1);
  t.is(secs[1]?.errors, 50);
  t.is(secs[1]?.successRatio, 0.5);
  near(t, secs[1]?.latency.p99, 3);
  t.is(secs[2]?.sent, 50);
  t.is(secs[2]?.rate, 100); // a partial last second is rated over its own span
  const w = tl.window(1000, 1200);
  t.is(w.sent, 20);
  t.deepEqual(w.errorCodes, { ECONNREFUSED: 20 });
  t.throws(() => tl.rollUp(150), { message: /not a multiple/ });
});

test('whole-run summary is merged from the buckets', (t) => {
  const tl = timeline();
  for (let i = 0; i < 90; i++) {
    tl.recordSent(i * 10);
    tl.recordResponse(i * 10, 200, 2000, 1000);
  }
  for (let i = 0; i < 5; i++) {
    tl.recordSent(900 + i);
    tl.recordResponse(900 + i, 500, 4000, 4000);
  }
  for (let i = 0; i < 5; i++) {
    tl.recordSent(950 + i);
    tl.recordError(950 + i, 'ETIMEDOUT');
  }
  const s = tl.summary(1000);
  t.is(s.sent, 100);
  t.is(s.responses, 95);
  t.is(s.successes, 90);
  t.is(s.errors, 5);
  t.is(s.intended, 100);
  t.is(s.errorRatio, 0.1);
  t.is(s.rate, 100);
  t.is(s.latency.count, 95);
  near(t, s.latency.p50, 2);
  near(t, s.latency.max, 4);
  near(t, s.uncorrected?.p50, 1);
  t.deepEqual(s.statuses, { '200': 90, '500': 5 });
  t.deepEqual(s.errorCodes, { ETIMEDOUT: 5 });
});

test('sealed buckets still answer queries and accept late values', (t) => {
  const tl = timeline();
  tl.recordResponse(10, 200, 1000);
  tl.recordResponse(110, 200, 5000);
  tl.seal(150); // seals bucket 0 only
  near(t, tl.p99(0), 1);
  tl.recordResponse(20, 200, 9000); // a late answer for a sealed bucket
  t.is(tl.bucket(0)?.responses, 2);
  near(t, tl.percentile(0, 100), 9);
  tl.seal();
  near(t, tl.p99(1), 5);
  t.is(tl.summary(200).latency.count, 3);
});

test('JSON round trip keeps counts and histograms', (t) => {
  const tl = timeline();
  for (let i = 0; i < 500; i++) {
    tl.recordSent(i);
    if (i % 50 === 0) tl.recordError(i, 'ECONNRESET');
    else tl.recordResponse(i, i % 7 === 0 ? 404 : 200, 100 + i * 13, 50 + i);
  }
  const json = JSON.parse(JSON.stringify(tl));
  t.is(json.version, 1);
  t.is(typeof json.buckets[0].latency.hdr, 'string');
  t.is(typeof json.buckets[0].latency.summary.p99, 'number');
  const back = Timeline.fromJSON(json);
  t.deepEqual(back.bucketList(), tl.bucketList());
  t.deepEqual(back.summary(500), tl.summary(500));
  t.deepEqual(back.perSecond(), tl.perSecond());
  t.is(back.p99(3), tl.p99(3));
  t.is(back.startedAt, tl.startedAt);
  t.throws(() => Timeline.fromJSON({ version: 2 } as never), { message: /timeline/ });
});

test('a whole LoadResult survives JSON and re-hydrates', (t) => {
  const tl = timeline();
  tl.recordSent(5);
  tl.recordResponse(5, 201, 1200, 800);
  const ledger = new WriteLedger('abc123', Date.UTC(2025, 0, 1));
  const h = ledger.begin(ledger.nextKey(), 5);
  ledger.complete(h, 6.2, { status: 201, body: '{"id":7,"key":"abc123-1"}', sent: true });
  const result = {
    runId: 'abc123',
    driver: 'paced',
    options: {} as LoadResult['options'],
    startedAt: new Date(tl.startedAt).toISOString(),
    durationMs: 100,
    stopReason: 'completed',
    timeline: tl,
    ledger,
    summary: tl.summary(100),
    dropped: 0,
    faults: [{ name: 'kill', startMs: 10, endMs: 20 }],
    schedule: null,
  } satisfies LoadResult;
  const text = JSON.stringify(loadResultToJSON(result));
  const back = loadResultFromJSON(JSON.parse(text));
  t.is(back.timeline.p99(0), tl.p99(0));
  t.deepEqual(back.ledger.okIds(), [7]);
  t.deepEqual(back.faults, result.faults);
  t.deepEqual(back.summary, result.summary);
});

test('a timed-out request is an error that enters latency at its deadline; the answered-only view leaves it out', (t) => {
  const tl = timeline();
  for (let i = 0; i < 98; i++) {
    tl.recordSent(i * 10);
    tl.recordResponse(i * 10, 200, 1000, 900);
  }
  tl.recordSent(500);
  tl.recordTimeout(500, 4_000_000);
  tl.recordSent(510);
  tl.recordTimeout(510, 4_000_000);
  const s = tl.summary(1000);
  t.is(s.intended, 100);
  t.is(s.errors, 2);
  t.is(s.timedOut, 2);
  t.deepEqual(s.errorCodes, { ETIMEDOUT: 2 });
  t.is(s.latency.count, 100);
  near(t, s.latency.p99, 4000);
  near(t, s.uncorrected?.p99, 0.9);
  t.is(s.uncorrected?.count, 98);
  t.is(s.availability, 0.98);
  t.is(tl.bucket(5)?.timedOut, 2);
});

test('dropped requests are failures in every ratio: bucket, window and summary', (t) => {
  const tl = timeline();
  for (let i = 0; i < 10; i++) {
    tl.recordSent(i);
    tl.recordResponse(i, 200, 1000);
  }
  for (let i = 0; i < 10; i++) tl.recordDropped(150 + i);
  t.is(tl.successRatio(0), 1);
  t.is(tl.successRatio(1), 0, 'a bucket of drops only is a bucket that failed, not one without data');
  const w = tl.window(0, 200);
  t.is(w.outcomes, 20);
  t.is(w.successRatio, 0.5);
  const s = tl.summary(200);
  t.is(s.intended, 20);
  t.is(s.sent, 10);
  t.is(s.availability, 0.5);
  t.is(s.errorRatio, 0.5);
});

test('a journal written before timeouts were counted apart reads back with timedOut 0', (t) => {
  const tl = timeline();
  tl.recordSent(10);
  tl.recordError(10, 'ECONNREFUSED');
  const json = tl.toJSON();
  delete (json.buckets[0] as { timedOut?: number }).timedOut;
  const back = Timeline.fromJSON(json);
  t.is(back.bucket(0)?.timedOut, 0);
  t.is(back.summary(100).errors, 1);
});
