// The generic probes: the http probe's pure parts and one request against a local server (status, body regex, latency
// bound, refusal of a non-loopback URL before anything is sent); the promql probe's reading of fixed answers.

import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpProbe, judgeHttp, knownSafe, parseStatusSpec, resolveTarget, statusMatches, type HttpValue } from '../../src/probes/http.js';
import { judgePromql, parseInstant, promqlProbe, seriesName } from '../../src/probes/promql.js';
import { parseProbeParams } from '../../src/probes/params.js';
import { runProbe } from '../../src/probes/runner.js';
import { renderObservation } from '../../src/probes/render.js';
import { headlineOf, stepVerdict } from '../../src/experiment/activities.js';
import type { Observation, ProbeContext } from '../../src/probes/types.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { probeParamsFrom } from '../../src/cli/commands/probe.js';
import { activityReason } from '../../src/report/format.js';

// --- http: pure parts

test('status specs: a code, a class, a span, a list; anything else is refused', (t) => {
  t.deepEqual(parseStatusSpec(200)?.ranges, [[200, 200]]);
  t.deepEqual(parseStatusSpec('2xx')?.ranges, [[200, 299]]);
  t.deepEqual(parseStatusSpec('200-204')?.ranges, [[200, 204]]);
  t.deepEqual(parseStatusSpec('2xx,3xx')?.ranges, [
    [200, 299],
    [300, 399],
  ]);
  t.deepEqual(parseStatusSpec([200, '301'])?.ranges, [
    [200, 200],
    [301, 301],
  ]);
  for (const bad of ['ok', '6xx', '299-200', 99, '', []]) t.is(parseStatusSpec(bad), null, JSON.stringify(bad));
  const spec = parseStatusSpec('2xx, 404')!;
  t.true(statusMatches(spec, 204));
  t.true(statusMatches(spec, 404));
  t.false(statusMatches(spec, 500));
});

test('defaults: GET, 2xx/3xx, 10 s timeout; bad fields are named', (t) => {
  const p = parseProbeParams('http', httpProbe.params, {});
  t.is(p.method, 'GET');
  t.is(p.status.text, '2xx, 3xx');
  t.is(p.timeout, 10_000);
  t.is(parseProbeParams('http', httpProbe.params, { max_latency: '500ms' }).max_latency, 500);
  t.deepEqual(parseProbeParams('http', httpProbe.params, { headers: 'x-a: 1; x-b: two' }).headers, { 'x-a': '1', 'x-b': 'two' });
  t.throws(() => parseProbeParams('http', httpProbe.params, { status: 'ok' }), { message: /probe http: status: "ok" is not a status/ });
  t.throws(() => parseProbeParams('http', httpProbe.params, { url: 'ftp://x/' }), { message: /url: must be an http/ });
  t.throws(() => parseProbeParams('http', httpProbe.params, { url: '/a', path: '/b' }), { message: /path: give a path either/ });
  t.throws(() => parseProbeParams('http', httpProbe.params, { body_match: '(' }), { message: /body_match: "\(" is not a regular expression/ });
  t.throws(() => parseProbeParams('http', httpProbe.params, { colour: 'red' }), { message: /colour/ });
});

test('target: a path on the endpoint, an absolute URL, a path on that URL', (t) => {
  const e = 'https://localhost:8443/';
  t.is(resolveTarget({}, e).href, 'https://localhost:8443/');
  t.is(resolveTarget({ path: '/whoami' }, e).href, 'https://localhost:8443/whoami');
  t.is(resolveTarget({ url: '/healthz' }, e).href, 'https://localhost:8443/healthz');
  t.is(resolveTarget({ url: 'http://127.0.0.1:9/x' }, e).href, 'http://127.0.0.1:9/x');
  t.is(resolveTarget({ url: 'http://127.0.0.1:9/x', path: '/y' }, e).href, 'http://127.0.0.1:9/y');
});

test('loopback and the stack entries are known safe, nothing else is', (t) => {
  const origins = ['https://shop.example:443', 'http://shop.example'];
  for (const ok of ['http://127.0.0.1:1/', 'http://[::1]:8080/', 'https://LOCALHOST/', 'https://shop.example/a']) t.true(knownSafe(new URL(ok), origins), ok);
  for (const no of ['http://shop.example:8080/', 'https://example.com/', 'http://10.0.0.1/', 'http://127.0.0.2/']) t.false(knownSafe(new URL(no), origins), no);
});

test('verdict: one finding per failed check, none when all hold', (t) => {
  const p = parseProbeParams('http', httpProbe.params, { status: 200, body_match: '"server"', max_latency: '100ms' });
  const ok = judgeHttp({ status: 200, latencyMs: 12.34, body: '{"server":"web1"}', error: null }, p);
  t.deepEqual(ok.value, { status: 200, latencyMs: 12.3, bodyBytes: 17, matched: true });
  t.deepEqual(ok.findings, []);
  const bad = judgeHttp({ status: 503, latencyMs: 250, body: 'down', error: null }, p);
  t.deepEqual(
    bad.findings.map((f) => f.id),
    ['status', 'body-mismatch', 'too-slow'],
  );
  t.is(bad.findings[0]!.message, 'status 503, expected 200');
  const gone = judgeHttp({ status: null, latencyMs: 1, body: '', error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } }, p);
  t.deepEqual(gone.value, { status: null, latencyMs: 1, bodyBytes: 0, matched: null });
  t.deepEqual(
    gone.findings.map((f) => f.id),
    ['request-failed'],
  );
});

test('the CLI: --param key=value is the same as a key=value word (probe http --param path=/whoami)', (t) => {
  t.deepEqual(probeParamsFrom([], { param: ['path=/whoami'] }), { path: '/whoami' });
  t.deepEqual(probeParamsFrom(['status=200'], { param: ['path=/a', 'url=http://127.0.0.1:9/'] }), { status: '200', path: '/a', url: 'http://127.0.0.1:9/' });
  t.throws(() => probeParamsFrom([], { param: ['path'] }), { message: /^params: expected key=value/ });
});

// --- http: against a local server

function fakeStack(endpoint: string): AttachedStack {
  return {
    project: 'unit',
    httpsUrl: endpoint,
    httpUrl: endpoint,
    spec: { endpoint: { url: endpoint, insecure: false, hostnames: [] } },
    ca: () => Promise.resolve(undefined),
    tlsOptions: () => ({}),
    containers: () => Promise.resolve([]),
    internalNetwork: 'unit_internal',
    edgeNetwork: 'unit_edge',
  } as unknown as AttachedStack;
}

let base = '';
let ctx: ProbeContext;
let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  const answer = () => {
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ server: 'local', path: req.url, method: req.method }));
  };
  if (req.url === '/slow') setTimeout(answer, 300);
  else answer();
});

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ctx = { stack: fakeStack(base), docker: {} as ProbeContext['docker'] };
});
test.after.always(() => new Promise<void>((resolve) => server.close(() => resolve())));

const look = (params: unknown) => runProbe(httpProbe, ctx, params, AbortSignal.timeout(10_000)) as Promise<Observation<HttpValue>>;

test.serial('a path on the endpoint that answers 200 with a matching body passes', async (t) => {
  const o = await look({ path: '/whoami', body_match: '"server":"local"' });
  t.log(renderObservation(o));
  t.true(o.passed);
  t.is(o.value.status, 200);
  t.true(o.value.matched);
  t.true(o.value.bodyBytes > 0);
  t.regex(renderObservation(o), /GET http:\/\/127\.0\.0\.1:\d+\/whoami → 200 in [\d.]+ ms/);
});

test.serial('a status other than the expected one fails, with its finding; the step tolerance reads the status', async (t) => {
  const o = await look({ path: '/missing' });
  t.false(o.passed);
  t.deepEqual(
    o.findings.map((f) => f.message),
    ['status 404, expected 2xx, 3xx'],
  );
  t.true((await look({ path: '/missing', status: 404 })).passed);
  t.is(headlineOf(httpProbe, o.value), 404);
  t.true(stepVerdict(httpProbe, { tolerance: 404 }, o));
  t.false(stepVerdict(httpProbe, { tolerance: [200, 299] }, o));
});

test.serial('a body that does not match fails', async (t) => {
  const o = await look({ body_match: '/"server":"elsewhere"/' });
  t.false(o.passed);
  t.false(o.value.matched);
  t.deepEqual(
    o.findings.map((f) => f.id),
    ['body-mismatch'],
  );
});

test.serial('an answer after 300 ms fails max_latency 100ms and passes 1s', async (t) => {
  const slow = await look({ path: '/slow', max_latency: '100ms' });
  t.false(slow.passed);
  t.true(slow.value.latencyMs >= 290, String(slow.value.latencyMs));
  t.deepEqual(
    slow.findings.map((f) => f.id),
    ['too-slow'],
  );
  t.true((await look({ path: '/slow', max_latency: '1s' })).passed);
});

test.serial('no answer within the timeout is a failed look, not an error', async (t) => {
  const o = await look({ path: '/slow', timeout: '50ms' });
  t.false(o.passed);
  t.is(o.error, undefined);
  t.is(o.value.status, null);
  t.deepEqual(
    o.findings.map((f) => f.id),
    ['timeout'],
  );
});

test.serial('method, headers and body are sent as given', async (t) => {
  const o = await look({ path: '/items', method: 'post', body: { key: 'k1' }, status: 200, body_match: '"method":"POST"' });
  t.true(o.passed, renderObservation(o));
});

test.serial('a URL that is neither loopback nor the stack is refused before anything is sent', async (t) => {
  const before = requests;
  for (const url of ['https://example.com/', 'http://192.0.2.1/']) {
    const o = await look({ url });
    t.false(o.passed);
    t.is(o.error?.code, 'UNSAFE_TARGET');
    t.regex(o.error?.message ?? '', /is not a loopback address, the stack's endpoint .* or one of its containers/);
  }
  t.is(requests, before);
});

// --- promql: reading answers (fixed JSON, as Prometheus' /api/v1/query gives it)

const vector = (...series: Array<[Record<string, string>, string]>) => ({
  resultType: 'vector',
  result: series.map(([metric, v]) => ({ metric, value: [1765000000.123, v] })),
});

test('answers: a scalar, a vector, an empty vector; a range vector is refused', (t) => {
  t.deepEqual(parseInstant({ resultType: 'scalar', result: [1765000000, '14'] }), [{ labels: {}, value: 14 }]);
  t.deepEqual(parseInstant(vector([{}, '14'])), [{ labels: {}, value: 14 }]);
  t.deepEqual(parseInstant(vector([{ __name__: 'up', job: 'node' }, '1'])), [{ labels: { __name__: 'up', job: 'node' }, value: 1 }]);
  t.deepEqual(parseInstant(vector()), []);
  t.throws(() => parseInstant({ resultType: 'matrix', result: [] }), { message: /matrix result/ });
  t.is(seriesName({ job: 'node', __name__: 'up', instance: 'a:1' }), 'up{instance="a:1", job="node"}');
});

const upTargets = parseInstant(
  vector([{ __name__: 'up', instance: 'a' }, '1'], [{ __name__: 'up', instance: 'b' }, '0'], [{ __name__: 'up', instance: 'c' }, '1']),
);

test('one number: a scalar or one series, within expect or not', (t) => {
  const expect = parseProbeParams('promql', promqlProbe.params, { expect: '>= 10' }).expect;
  const ok = judgePromql('sum(up)', parseInstant(vector([{}, '14'])), 'single', expect);
  t.deepEqual(ok, { value: { value: 14, aggregate: 'single', series: 1, outside: 0 }, findings: [] });
  const low = judgePromql('sum(up)', parseInstant(vector([{}, '9'])), 'single', expect);
  t.deepEqual(
    low.findings.map((f) => f.message),
    ['sum(up) = 9, expected ≥ 10'],
  );
  t.is(headlineOf(promqlProbe, low.value), 9);
});

test('several series: an error naming them without aggregate; sum, min, max; each checks every series', (t) => {
  const none = judgePromql('up', upTargets, 'single', undefined);
  t.regex(none.error ?? '', /^up returned 3 series \(up\{instance="a"\}, up\{instance="b"\}, up\{instance="c"\}\); give aggregate/);
  t.is(judgePromql('up', upTargets, 'sum', undefined).value.value, 2);
  t.is(judgePromql('up', upTargets, 'min', undefined).value.value, 0);
  t.is(judgePromql('up', upTargets, 'max', undefined).value.value, 1);
  const each = judgePromql('up', upTargets, 'each', { type: 'atLeast', min: 1 });
  t.deepEqual(each.value, { value: null, aggregate: 'each', series: 3, outside: 1 });
  t.deepEqual(
    each.findings.map((f) => f.message),
    ['up{instance="b"} = 0, expected ≥ 1'],
  );
  t.false(headlineOf(promqlProbe, each.value) as boolean);
  t.throws(() => parseProbeParams('promql', promqlProbe.params, { aggregate: 'each' }), { message: /expect: aggregate each needs expect/ });
});

test('no series is a failed look with its finding, and fails a step tolerance too', (t) => {
  const j = judgePromql('up{job="nope"}', [], 'single', undefined);
  t.is(j.error, undefined);
  t.deepEqual(j.findings, [{ id: 'no-series', severity: 'high', message: 'up{job="nope"} returned no series' }]);
  const o = { probe: 'promql', timestamp: '', durationMs: 1, value: j.value, passed: false, tolerance: null, details: {}, findings: j.findings };
  t.false(stepVerdict(promqlProbe, { tolerance: '>= 0' }, o));
});

test('the default query counts the targets that are up', (t) => {
  const p = parseProbeParams('promql', promqlProbe.params, {});
  t.is(p.query, 'sum(up)');
  t.is(p.aggregate, 'single');
});

test('reports: a failed look says which check failed (its findings), an error says itself, a success nothing', (t) => {
  const findings = [{ id: 'status', severity: 'high', message: 'status 200, expected 500' }];
  t.is(activityReason({ status: 'failed', output: { findings } }), 'status 200, expected 500');
  t.is(activityReason({ status: 'error', error: 'TARGET_UNREACHABLE', output: { findings } }), 'TARGET_UNREACHABLE');
  t.is(activityReason({ status: 'succeeded', output: { findings } }), '');
  t.is(activityReason({ status: 'failed', output: { observations: [] } }), '');
});
