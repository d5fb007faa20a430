// The generic probes against the running reference stack: http on the endpoint (through the stack's CA), promql against
// its Prometheus, checked against what Prometheus itself reports of its targets. Read-only: nothing is injected.

import { itest as test, runCli } from '../helpers/stack.js';
import { attachStack } from '../../src/stack/attach.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { getProbe, renderObservation, runProbe, type Observation, type ProbeContext } from '../../src/probes/index.js';
import type { HttpValue } from '../../src/probes/http.js';
import type { PromqlValue } from '../../src/probes/promql.js';
import { prometheusUrl } from '../../src/probes/prometheus.js';
import { stepVerdict } from '../../src/experiment/activities.js';
import { request } from '../../src/util/http.js';

let stack: AttachedStack;
let ctx: ProbeContext;

test.before(async () => {
  stack = await attachStack();
  ctx = { stack, docker: stack.docker };
});

const probe = <V>(name: string, params: unknown) => runProbe(getProbe(name), ctx, params, AbortSignal.timeout(60_000)) as Promise<Observation<V>>;

/** Prometheus' own count of the targets it scraped successfully (/api/v1/targets), the ground truth for sum(up). */
async function targetsUp(): Promise<number> {
  const res = await request(`${await prometheusUrl(stack)}/api/v1/targets?state=active`, { timeoutMs: 10_000 });
  const body = JSON.parse(res.body) as { data: { activeTargets: Array<{ health: string }> } };
  return body.data.activeTargets.filter((x) => x.health === 'up').length;
}

test('http: /whoami on the endpoint answers 200 through the stack CA, and a body naming a web server', async (t) => {
  const o = await probe<HttpValue>('http', { path: '/whoami', body_match: 'web[123]', max_latency: '5s' });
  t.log(renderObservation(o));
  t.true(o.passed, renderObservation(o));
  t.is(o.value.status, 200);
  t.true(o.value.matched);
  t.is(o.details.url, `${stack.httpsUrl}/whoami`);
});

test('http: expecting 500 of /whoami fails, with the status finding', async (t) => {
  const o = await probe<HttpValue>('http', { path: '/whoami', status: 500 });
  t.false(o.passed);
  t.is(o.error, undefined);
  t.deepEqual(
    o.findings.map((f) => f.message),
    ['status 200, expected 500'],
  );
});

test('http: the plain-HTTP entry redirects, which the default 2xx/3xx accepts and status 200 does not', async (t) => {
  const o = await probe<HttpValue>('http', { url: stack.httpUrl });
  t.true(o.passed, renderObservation(o));
  t.is(o.value.status, 301);
  t.false((await probe<HttpValue>('http', { url: stack.httpUrl, status: 200 })).passed);
});

test('promql: sum(up) is the number of targets Prometheus reports up', async (t) => {
  // A target may change health between the two looks: compare looks taken back to back, a few times at most.
  const seen: Array<[number | null, number]> = [];
  for (let i = 0; i < 3; i++) {
    const before = await targetsUp();
    const o = await probe<PromqlValue>('promql', { query: 'sum(up)', expect: '>= 1' });
    t.log(renderObservation(o));
    t.true(o.passed, renderObservation(o));
    seen.push([o.value.value, before]);
    if (o.value.value === before && before === (await targetsUp())) return t.pass();
  }
  t.fail(`sum(up) and /api/v1/targets disagreed: ${JSON.stringify(seen)}`);
});

test("promql: a step's tolerance reads the number (the natural YAML), and each checks every series", async (t) => {
  const o = await probe<PromqlValue>('promql', { query: 'sum(up)' });
  const n = o.value.value!;
  t.true(stepVerdict(getProbe('promql'), { tolerance: `>= ${n}` }, o));
  t.false(stepVerdict(getProbe('promql'), { tolerance: `>= ${n + 1}` }, o));
  const each = await probe<PromqlValue>('promql', { query: 'up', aggregate: 'each', expect: '>= 1' });
  t.true(each.passed, renderObservation(each));
  t.is(each.value.series, n);
});

test('promql: a query that yields no series fails with the no-series finding; several series without aggregate is an error', async (t) => {
  const o = await probe<PromqlValue>('promql', { query: 'up{job="no-such-job"}' });
  t.log(renderObservation(o));
  t.false(o.passed);
  t.is(o.error, undefined);
  t.deepEqual(
    o.findings.map((f) => f.id),
    ['no-series'],
  );
  const several = await probe<PromqlValue>('promql', { query: 'up' });
  t.is(several.error?.code, 'INVALID_INPUT');
  t.regex(several.error?.message ?? '', /up returned \d+ series \(up\{instance=/);
});

test('the CLI: probe http path=/whoami passes (exit 0); probe promql --param with a bound it misses fails (exit 1)', async (t) => {
  const ok = await runCli(['probe', 'http', 'path=/whoami'], { timeoutMs: 120_000 });
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /probe http: passed[\s\S]*GET https:\/\/localhost:\d+\/whoami → 200 in/);
  const low = await runCli(['probe', 'promql', '--param', 'query=sum(up)', '--param', 'expect=>= 100000'], { timeoutMs: 120_000 });
  t.is(low.code, 1, low.stderr);
  t.regex(low.stdout, /out-of-tolerance: sum\(up\) = \d+, expected ≥ 100000/);
});
