// Printing is a pure function of the result; progress is drawn only for a person at a terminal.
import test from 'ava';
import { Timeline, WriteLedger, formatResult, formatResultLine, formatTick, isInteractive, progressListener } from '../../src/load/index.js';
import type { LoadResult, LoadSettings } from '../../src/load/index.js';

function result(): LoadResult {
  const tl = new Timeline({ bucketMs: 100, startedAt: 0, uncorrected: true });
  for (let i = 0; i < 1000; i++) {
    tl.recordSent(i);
    if (i < 10) tl.recordError(i, 'ECONNREFUSED');
    else tl.recordResponse(i, 200, 1500, 900);
  }
  const ledger = new WriteLedger('abc');
  ledger.complete(ledger.begin(ledger.nextKey(), 1), 2, { status: 201, body: '{"id":1}', sent: true });
  const options = {
    url: 'http://127.0.0.1:8080/',
    driver: 'paced',
    stages: [{ durationMs: 1000, from: 1000, to: 1000 }],
    connections: 64,
    pipelining: 1,
    insecure: false,
  } as unknown as LoadSettings;
  return {
    runId: 'abc',
    driver: 'paced',
    options,
    startedAt: new Date(0).toISOString(),
    durationMs: 1000,
    stopReason: 'completed',
    timeline: tl,
    ledger,
    summary: tl.summary(1000),
    dropped: 0,
    faults: [{ name: 'kill-db', startMs: 200, endMs: 400 }],
    schedule: { scheduled: 1000, targetRate: 1000, achievedRate: 999.5, lag: tl.summary(1000).uncorrected! },
  };
}

test('the CI line is one line with the key numbers', (t) => {
  const line = formatResultLine(result());
  t.false(line.includes('\n'));
  t.regex(line, /paced 1000 req\/s/);
  t.regex(line, /1000 requests in 1\.0 s \(1000 req\/s\)/);
  t.regex(line, /99\.00% ok, 10 errors \(ECONNREFUSED ×10\)/);
  t.regex(line, /p50 1\.50 ms/);
});

test('the terminal block names errors, latencies, schedule, writes and faults', (t) => {
  const text = formatResult(result());
  t.regex(text, /errors +ECONNREFUSED ×10/);
  t.regex(text, /latency +p50 1\.50 ms/);
  t.regex(text, /uncorrected +p50 0\.90 ms/);
  t.regex(text, /schedule +target 1000\.0 req\/s, achieved 999\.5/);
  t.regex(text, /writes +1 sent: 1 ok/);
  t.regex(text, /kill-db 0\.20–0\.40 s/);
});

test('after sending ends, the tick says what is still waited for and for how long at most', (t) => {
  const tick = {
    second: 31,
    elapsedMs: 31_000,
    sent: 0,
    successes: 3,
    errors: 0,
    failedResponses: 0,
    dropped: 0,
    inFlight: 40,
    p99Ms: null,
    faults: [],
    waitingUntilMs: 38_500,
  };
  t.regex(formatTick(tick), /sending done; waiting for 40 in flight, at most 7\.5 s more/);
  t.notRegex(formatTick({ ...tick, inFlight: 0 }), /waiting/);
});

test('ticks show the fault marker; progress only on a TTY outside CI', (t) => {
  const tick = {
    second: 3,
    elapsedMs: 3000,
    sent: 2000,
    successes: 1990,
    errors: 10,
    failedResponses: 0,
    dropped: 0,
    inFlight: 2,
    p99Ms: 1.234,
    faults: ['kill-db'],
    waitingUntilMs: null,
  };
  t.regex(formatTick(tick), /3s +2000 req\/s +ok +1990 +errors 10 +p99 1\.23 ms +in flight 2 +\[fault: kill-db\]/);
  t.false(isInteractive({ isTTY: true }, { CI: 'true' }));
  t.false(isInteractive({ isTTY: false }, {}));
  t.true(isInteractive({ isTTY: true }, {}));
  const out: string[] = [];
  const listen = progressListener((s) => out.push(s));
  listen({ type: 'tick', tick });
  listen({ type: 'fault', name: 'kill-db', active: true, elapsedMs: 2500 });
  t.is(out.length, 2);
  t.regex(out[1] ?? '', /fault kill-db on at 2\.50 s/);
});
