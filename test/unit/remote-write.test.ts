// --out prometheus: the pure mapping from a timeline to per-second samples (final seconds only, in order), the
// remote-write encoding (protobuf + snappy block) read back, and the sender against local HTTP servers on 127.0.0.1:
// what a push carries, retry then drop on 500, and an end flush bounded against a receiver that never answers.
import test from 'ava';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { uncompressSync } from 'snappy';
import { Timeline } from '../../src/load/index.js';
import { RunSeries, SERIES, STALE_NAN, secondSamples, sortedLabels, windowCovers, type TimeSeries } from '../../src/load/remote-write-series.js';
import { REMOTE_WRITE_HEADERS, RemoteWriteOutput, WriteRequest, encodeWriteRequest } from '../../src/load/remote-write.js';
import type { LoadEvent, LoadResult } from '../../src/load/types.js';
import { needsStack, parseOutFlags, plannedFaults, remoteWriteUrl } from '../../src/cli/out-flag.js';
import { liveMetricsLines } from '../../src/report/live-metrics.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';

const T0 = Date.UTC(2026, 0, 1);

function timeline(): Timeline {
  return new Timeline({ bucketMs: 100, startedAt: T0, uncorrected: true });
}

/** One series' samples by its labels other than run and experiment, e.g. "faultline_requests{outcome=ok}". */
function byName(list: TimeSeries[]): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const s of list) {
    const name = s.labels.find((l) => l.name === '__name__')?.value ?? '';
    const rest = s.labels.filter((l) => !['__name__', 'run', 'experiment'].includes(l.name)).map((l) => `${l.name}=${l.value}`);
    const key = `${name}{${rest.join(',')}}`;
    out.set(key, [...(out.get(key) ?? []), ...s.samples.map((x) => [x.timestamp, x.value] as [number, number])]);
  }
  return out;
}

function decode(body: Buffer): { timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }> } {
  const o = WriteRequest.toObject(WriteRequest.decode(uncompressSync(body) as Buffer), { longs: Number, defaults: true }) as ReturnType<typeof decode>;
  return o;
}

test('labels are sorted by name, __name__ among them', (t) => {
  t.deepEqual(
    sortedLabels('faultline_requests', { run: 'r1', outcome: 'ok', experiment: 'e' }).map((l) => l.name),
    ['__name__', 'experiment', 'outcome', 'run'],
  );
});

test('a fault window covers every second it overlaps, a zero-length one the second it falls in', (t) => {
  t.true(windowCovers({ startMs: 6020, endMs: 8050 }, 6000, 7000));
  t.true(windowCovers({ startMs: 6020, endMs: 8050 }, 8000, 9000));
  t.false(windowCovers({ startMs: 6020, endMs: 8000 }, 8000, 9000));
  t.false(windowCovers({ startMs: 6020, endMs: 8050 }, 5000, 6000));
  t.true(windowCovers({ startMs: 6020, endMs: null }, 20_000, 21_000));
  t.true(windowCovers({ startMs: 6500, endMs: 6500 }, 6000, 7000));
});

test('one second as samples: outcomes, codes and statuses once seen, rates, both latency views', (t) => {
  const tl = timeline();
  for (let i = 0; i < 5; i++) tl.recordSent(10 * i);
  tl.recordResponse(0, 200, 5000, 4000);
  tl.recordResponse(10, 200, 7000, 6000);
  tl.recordResponse(20, 503, 9000, 8000);
  tl.recordError(30, 'ECONNRESET');
  tl.recordTimeout(40, 10_000_000);
  tl.recordDropped(50);
  const seen = { codes: new Set<string>(), statuses: new Set<string>() };
  const first = secondSamples(tl.window(0, 1000), 1000, seen);
  const v = (name: string, labels: Record<string, string>) => first.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
  t.is(v(SERIES.requests, { outcome: 'ok' }), 2);
  t.is(v(SERIES.requests, { outcome: 'failed_status' }), 1);
  t.is(v(SERIES.requests, { outcome: 'error' }), 2);
  t.is(v(SERIES.requests, { outcome: 'dropped' }), 1);
  t.is(v(SERIES.errors, { code: 'ETIMEDOUT' }), 1);
  t.is(v(SERIES.errors, { code: 'ECONNRESET' }), 1);
  t.is(v(SERIES.responses, { status: '503' }), 1);
  t.is(v(SERIES.rate, { kind: 'intended' }), 6);
  t.is(v(SERIES.rate, { kind: 'sent' }), 5);
  t.is(v(SERIES.latency, { quantile: '0.99', view: 'corrected' }), tl.window(0, 1000).latency.p99!);
  t.is(v(SERIES.latency, { quantile: '0.5', view: 'uncorrected' }), tl.window(0, 1000).uncorrected!.p50!);
  // The next, quiet second still says 0 for what was seen, and has no latency.
  const quiet = secondSamples(tl.window(1000, 2000), 1000, seen);
  t.is(quiet.find((s) => s.name === SERIES.errors && s.labels.code === 'ECONNRESET')?.value, 0);
  t.false(quiet.some((s) => s.name === SERIES.latency));
});

test('a second is pushed only once it is final, in order, stamped with its start', (t) => {
  const tl = timeline();
  const rs = new RunSeries({ run: 'r1', experiment: 'e1' }, T0, 1000);
  // Second 0: one answered, one still in flight. Second 1: answered.
  tl.recordSent(100);
  tl.recordResponse(100, 200, 1000);
  tl.recordSent(900);
  tl.recordSent(1500);
  tl.recordResponse(1500, 200, 1000);
  t.deepEqual(rs.due(tl, 1200, 1200), [], 'within the grace nothing is final');
  t.deepEqual(rs.due(tl, 3000, 3000), [], 'second 0 has a request in flight: nothing, not even second 1 (order)');
  tl.recordResponse(900, 200, 2_000_000);
  const pushed = byName(rs.due(tl, 3100, 3000));
  t.deepEqual(pushed.get('faultline_requests{outcome=ok}'), [
    [T0, 2],
    [T0 + 1000, 1],
  ]);
  t.deepEqual(pushed.get('faultline_fault_active{}'), undefined, 'no fault planned, none seen');
  t.deepEqual(rs.due(tl, 3200, 3000), [], 'nothing twice');
  // Nothing past the time the load was still sending at is invented.
  t.deepEqual(byName(rs.due(tl, 9000, 3000)).get('faultline_requests{outcome=ok}'), [[T0 + 2000, 0]]);
  t.deepEqual(rs.due(tl, 20_000, 3000), []);
});

test('finish pushes the rest from the final timeline, then a staleness marker per series', (t) => {
  const tl = timeline();
  const rs = new RunSeries({ run: 'r1', experiment: 'e1' }, T0, 1000);
  tl.recordSent(100);
  tl.recordResponse(100, 200, 1000);
  tl.recordSent(1100);
  tl.extendTo(2500);
  rs.due(tl, 2100, 2100); // second 0
  tl.recordTimeout(1100, 10_000_000);
  const rest = byName(rs.finish(tl, []));
  const ok = rest.get('faultline_requests{outcome=ok}') ?? [];
  t.deepEqual(ok.slice(0, 2), [
    [T0 + 1000, 0],
    [T0 + 2000, 0],
  ]);
  t.is(ok[2]?.[0], T0 + 3000);
  t.true(Number.isNaN(ok[2]?.[1]));
  t.deepEqual(rest.get('faultline_request_errors{code=ETIMEDOUT}')?.[0], [T0 + 1000, 1]);
  t.deepEqual(rs.finish(tl, []), [], 'once');
});

test('fault_active: 0 from the start, 1 in the seconds its window covers, held while a planned inject may still date back', (t) => {
  const tl = timeline();
  const rs = new RunSeries({ run: 'r1', experiment: 'e1' }, T0, 1000, [{ name: 'container-pause', target: 'service=web1-nginx', atMs: 2000 }]);
  tl.extendTo(6000);
  const key = 'faultline_fault_active{fault=container-pause,target=service=web1-nginx}';
  // Second 1 waits too: a step due at 2 s may open on the timeline a hair before 2 s (seen on CI: 2 999.x ms for 3 s).
  t.deepEqual(byName(rs.due(tl, 2000, 2000)).get(key), [[T0, 0]]);
  // The inject began at 2.05 s and took 1.2 s: until its window opens, seconds 1 and 2 are not final.
  t.is(byName(rs.due(tl, 3200, 3200)).get(key), undefined);
  rs.noteFault('container-pause', true, 2050);
  t.deepEqual(byName(rs.due(tl, 3300, 3300)).get(key), [
    [T0 + 1000, 0],
    [T0 + 2000, 1],
  ]);
  rs.noteFault('container-pause', false, 4100);
  const later = byName(rs.due(tl, 6000, 6000)).get(key);
  t.deepEqual(later, [
    [T0 + 3000, 1],
    [T0 + 4000, 1],
    [T0 + 5000, 0],
  ]);
});

test('fault_active: a window the scheduler opened a hair before its due second counts in the second it opened in', (t) => {
  const tl = timeline();
  const rs = new RunSeries({ run: 'r1', experiment: 'e1' }, T0, 1000, [{ name: 'container-pause', target: 'service=web1-nginx', atMs: 3000 }]);
  tl.extendTo(6000);
  const key = 'faultline_fault_active{fault=container-pause,target=service=web1-nginx}';
  t.deepEqual(byName(rs.due(tl, 2500, 2500)).get(key), [
    [T0, 0],
    [T0 + 1000, 0],
  ]);
  t.is(byName(rs.due(tl, 3000, 3000)).get(key), undefined, 'second 2 waits for the window due at 3 s');
  rs.noteFault('container-pause', true, 2999.6);
  t.deepEqual(byName(rs.due(tl, 3400, 3400)).get(key), [[T0 + 2000, 1]], 'and is 1, as the journal will say');
});

test('the encoding reads back: snappy block, then the same protobuf type', (t) => {
  const series: TimeSeries[] = [
    {
      labels: sortedLabels(SERIES.requests, { outcome: 'ok', run: 'r1', experiment: 'e1' }),
      samples: [
        { value: 49, timestamp: T0 },
        { value: 50.5, timestamp: T0 + 1000 },
      ],
    },
    {
      labels: sortedLabels(SERIES.faultActive, { fault: 'f', target: 't', run: 'r1', experiment: 'e1' }),
      samples: [{ value: STALE_NAN, timestamp: T0 + 2000 }],
    },
  ];
  const back = decode(encodeWriteRequest(series));
  t.deepEqual(back.timeseries[0], series[0]);
  t.deepEqual(back.timeseries[1]?.labels, series[1]?.labels);
  t.true(Number.isNaN(back.timeseries[1]?.samples[0]?.value));
  // Prometheus knows the marker by its exact bits (0x7ff0000000000002, little-endian on the wire after tag 0x09).
  t.true((uncompressSync(encodeWriteRequest(series.slice(1))) as Buffer).includes(Buffer.from('09020000000000f07f', 'hex')), 'the exact staleness NaN');
});

/** A receiver on 127.0.0.1 answering each push with `answer`. */
async function receiver(answer: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<{ url: string; server: Server; pushes: Buffer[] }> {
  const pushes: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      pushes.push(body);
      answer(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, server, pushes };
}

test('a followed load pushes its final seconds with the remote-write headers; done pushes the rest', async (t) => {
  const headers: IncomingMessage['headers'][] = [];
  const r = await receiver((req, _body, res) => {
    headers.push(req.headers);
    res.writeHead(204).end();
  });
  t.teardown(() => r.server.close());
  const tl = timeline();
  const warnings: string[] = [];
  const out = new RemoteWriteOutput({ url: r.url, warn: (l) => warnings.push(l) });
  const listen = out.follow({ runId: 'run42', timeline: tl }, { experiment: 'load' });
  for (let i = 0; i < 20; i++) {
    tl.recordSent(i * 100);
    tl.recordResponse(i * 100, 200, 2000, 1000);
  }
  const tick = (second: number, waitingUntilMs: number | null = null): LoadEvent => ({
    type: 'tick',
    tick: {
      second,
      elapsedMs: second * 1000,
      sent: 0,
      successes: 0,
      errors: 0,
      failedResponses: 0,
      dropped: 0,
      inFlight: 0,
      p99Ms: null,
      faults: [],
      waitingUntilMs,
    },
  });
  listen(tick(1));
  listen(tick(2, 2000));
  await new Promise((resolve) => setImmediate(resolve));
  tl.extendTo(2000);
  listen({ type: 'done', result: { startedAt: new Date(T0).toISOString(), timeline: tl, faults: [] } as unknown as LoadResult });
  const stats = await out.close(2000);
  t.deepEqual(stats, { pushed: 2, dropped: 0 });
  t.deepEqual(warnings, []);
  t.is(headers[0]?.['content-encoding'], REMOTE_WRITE_HEADERS['Content-Encoding']);
  t.is(headers[0]?.['content-type'], 'application/x-protobuf');
  t.is(headers[0]?.['x-prometheus-remote-write-version'], '0.1.0');
  const [live, end] = r.pushes.map(decode);
  const ok = (w: ReturnType<typeof decode> | undefined) =>
    w?.timeseries.find((s) => s.labels.some((l) => l.name === 'outcome' && l.value === 'ok'))?.samples.map((s) => [s.timestamp, s.value]);
  t.deepEqual(ok(live), [[T0, 10]], 'second 0 live, once final and past the grace');
  t.deepEqual(ok(end)?.[0], [T0 + 1000, 10], 'second 1 at the end');
  t.deepEqual(
    live?.timeseries[0]?.labels.find((l) => l.name === 'run'),
    { name: 'run', value: 'run42' },
  );
});

test('a push answered 500 is tried again, then dropped with one warning line; the next one still goes', async (t) => {
  let n = 0;
  const r = await receiver((_req, _body, res) => {
    n += 1;
    res.writeHead(n <= 3 ? 500 : 204).end(n <= 3 ? 'boom' : undefined);
  });
  t.teardown(() => r.server.close());
  const warnings: string[] = [];
  const out = new RemoteWriteOutput({ url: r.url, tries: 3, warn: (l) => warnings.push(l) });
  const one: TimeSeries[] = [{ labels: sortedLabels('x', {}), samples: [{ value: 1, timestamp: T0 }] }];
  out.enqueue(one);
  out.enqueue(one);
  const stats = await out.close(5000);
  t.deepEqual(stats, { pushed: 1, dropped: 1 });
  t.is(r.pushes.length, 4);
  t.is(warnings.length, 1);
  t.regex(warnings[0] ?? '', /dropped \(HTTP 500: boom\)/);
});

test('a receiver that never answers holds the end no longer than the bound', async (t) => {
  const r = await receiver(() => undefined);
  t.teardown(() => {
    r.server.closeAllConnections();
    r.server.close();
  });
  const warnings: string[] = [];
  const out = new RemoteWriteOutput({ url: r.url, warn: (l) => warnings.push(l) });
  out.enqueue([{ labels: sortedLabels('x', {}), samples: [{ value: 1, timestamp: T0 }] }]);
  out.enqueue([{ labels: sortedLabels('x', {}), samples: [{ value: 2, timestamp: T0 + 1000 }] }]);
  const started = Date.now();
  const stats = await out.close(500);
  t.true(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  t.is(stats.dropped, 2);
  t.is(warnings.length, 1);
  t.regex(warnings[0] ?? '', /still waiting after 0.5 s/);
});

test('an unresolvable URL turns the output off with one line', async (t) => {
  const warnings: string[] = [];
  const out = new RemoteWriteOutput({ url: Promise.reject(new Error('stack.prometheus: not declared')), warn: (l) => warnings.push(l) });
  out.enqueue([{ labels: sortedLabels('x', {}), samples: [{ value: 1, timestamp: T0 }] }]);
  t.deepEqual(await out.close(500), { pushed: 0, dropped: 0 });
  t.deepEqual(warnings, ['live metrics: no remote-write URL (stack.prometheus: not declared); nothing is pushed']);
});

test('--out: prometheus[=URL] adds an output, anything else is the one reports folder, an unknown kind is refused', (t) => {
  t.deepEqual(parseOutFlags(['prometheus', 'out/x', 'prometheus=http://127.0.0.1:9090/api/v1/write']), {
    dir: 'out/x',
    prometheus: [null, 'http://127.0.0.1:9090/api/v1/write'],
  });
  t.deepEqual(parseOutFlags(undefined), { prometheus: [] });
  t.deepEqual(parseOutFlags('./a=b'), { dir: './a=b', prometheus: [] });
  t.throws(() => parseOutFlags(['kafka=http://x']), { message: /--out: kafka=http:\/\/x: unknown output kind kafka/ });
  t.throws(() => parseOutFlags(['a', 'b']), { message: /one folder for the reports, got a and b/ });
  t.throws(() => parseOutFlags(['prometheus=not a url']), { message: /not a URL/ });
  t.throws(() => parseOutFlags(['out'], { dir: false }), { message: /expected prometheus or prometheus=URL/ });
  t.false(needsStack(parseOutFlags(['prometheus=http://[::1]:9090/w']), false));
  t.true(needsStack(parseOutFlags(['prometheus=http://10.213.7.5:9090/api/v1/write']), false));
  t.false(needsStack(parseOutFlags(['prometheus=http://10.213.7.5:9090/api/v1/write']), true));
  t.true(needsStack(parseOutFlags(['prometheus']), true));
});

test('a receiver off loopback is refused unless it is a container of the stack or --allow-remote-target', async (t) => {
  const stack = { containers: async () => [{ addresses: { internal: '10.213.7.5' } }] } as unknown as AttachedStack;
  t.is(await remoteWriteUrl('http://10.213.7.5:9090/api/v1/write', stack, false), 'http://10.213.7.5:9090/api/v1/write');
  t.is(await remoteWriteUrl('http://127.0.0.1:9/w', undefined, false), 'http://127.0.0.1:9/w');
  await t.throwsAsync(remoteWriteUrl('http://192.0.2.1:9090/api/v1/write', stack, false), { message: /neither loopback nor a container/ });
  t.is(await remoteWriteUrl('http://192.0.2.1:9090/api/v1/write', stack, true), 'http://192.0.2.1:9090/api/v1/write');
  await t.throwsAsync(remoteWriteUrl(null, undefined, false), { message: /needs an attached stack/ });
});

test('an experiment plans its faults with their targets; the reports name the run to query', (t) => {
  const method = [
    { probe: 'health', at: 1000 },
    { fault: 'container-pause', target: 'service=web1-nginx', at: 3000 },
    { fault: 'db-primary-kill', at: 5000 },
  ];
  t.deepEqual(
    plannedFaults(method, (f) => (f === 'db-primary-kill' ? 'role=db-primary' : undefined)),
    [
      { name: 'container-pause', target: 'service=web1-nginx', atMs: 3000 },
      { name: 'db-primary-kill', target: 'role=db-primary', atMs: 5000 },
    ],
  );
  const j = {
    id: 'live',
    load: { runId: 'r7' },
    outputs: [{ kind: 'prometheus', url: 'http://10.213.7.5:9090/api/v1/write' }],
  } as unknown as ExperimentJournal;
  t.deepEqual(liveMetricsLines(j), [
    'Live metrics: series labelled run="r7", experiment="live" in http://10.213.7.5:9090 (remote-write http://10.213.7.5:9090/api/v1/write); e.g. sum by (outcome) (sum_over_time(faultline_requests{run="r7"}[1h]))',
  ]);
  t.deepEqual(liveMetricsLines({ ...j, outputs: undefined }), []);
});
