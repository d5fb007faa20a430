// Issue 19 item 5 on the real stack: `faultline run --out prometheus` pushes a run's per-second figures into the stack's
// own Prometheus by remote-write while it runs; read back with PromQL, every second equals the journal's own per-second
// view (exactly), and faultline_fault_active is 1 in exactly the seconds the journal's fault window covers.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, sharedStack, runCli } from '../helpers/stack.js';
import { exclusive } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { Timeline } from '../../src/load/index.js';
import { prometheusUrl } from '../../src/probes/prometheus.js';
import { request } from '../../src/util/http.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

interface Raw {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** Raw samples of every faultline series of one run (a range selector returns them as stored). */
async function rawSamples(base: string, run: string): Promise<Raw[]> {
  const query = `{__name__=~"faultline_.*",run="${run}"}[30m]`;
  const res = await request(`${base}/api/v1/query?${new URLSearchParams({ query }).toString()}`, { timeoutMs: 10_000 });
  const body = JSON.parse(res.body) as { status: string; data: { result: Raw[] } };
  if (body.status !== 'success') throw new Error(res.body);
  return body.data.result;
}

/** How many faultline_requests series of this experiment Prometheus has now. */
async function liveCount(base: string, experiment: string): Promise<number> {
  const query = `faultline_requests{experiment="${experiment}"}[10m]`;
  const res = await request(`${base}/api/v1/query?${new URLSearchParams({ query }).toString()}`, { timeoutMs: 5000 }).catch(() => null);
  return res ? ((JSON.parse(res.body) as { data?: { result?: unknown[] } }).data?.result?.length ?? 0) : 0;
}

test.serial('run --out prometheus: every second in Prometheus equals the journal, fault_active covers its window', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-rw-'));
  // A name of its own: the experiment label finds this run's series while it runs, before its run id is known.
  const id = `live-${Date.now().toString(36)}`;
  const file = join(dir, `${id}.yaml`);
  await writeFile(
    file,
    `title: Live metrics while one nginx is frozen
stack: { bring_up: false }
load: { driver: paced, rate: 50, duration: 8s }
method:
  - fault: container-pause
    target: service=web1-nginx
    at: 3s
    for: 2s
`,
  );
  const out = join(dir, 'out');
  const base = await prometheusUrl(stack);
  let firstSeenMs: number | null = null;
  let endedMs: number | null = null;
  const res = await exclusive(stack, async () => {
    const running = runCli(['run', file, '--out', 'prometheus', '--out', out, '--no-bundle']).finally(() => (endedMs = Date.now()));
    // Streamed while it runs: a second shows in Prometheus before the run is over.
    while (endedMs === null) {
      if (firstSeenMs === null && (await liveCount(base, id)) > 0) firstSeenMs = Date.now();
      await Promise.race([running, new Promise((r) => setTimeout(r, 2000))]);
    }
    return running;
  });
  t.log(res.stderr.split('\n').slice(-12).join('\n'));
  t.is(res.code, 0, res.stderr);
  t.notRegex(res.stderr, /live metrics:/, 'no push was dropped');
  const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as ExperimentJournal;
  t.true(firstSeenMs !== null && firstSeenMs < endedMs!, 'samples arrived while the run was going on');
  t.deepEqual(journal.outputs, [{ kind: 'prometheus', url: `${base}/api/v1/write` }], 'the journal names the receiver');
  const run = journal.load!.runId;
  t.regex(await readFile(join(out, 'report.md'), 'utf8'), new RegExp(`Live metrics: series labelled run="${run}"`));

  const t0 = Date.parse(journal.load!.startedAt);
  const seconds = Timeline.fromJSON(journal.load!.timeline).perSecond();
  t.is(seconds.length, 8);
  const raw = await rawSamples(base, run);
  const series = (name: string, labels: Record<string, string> = {}) => {
    const found = raw.filter((r) => r.metric.__name__ === name && Object.entries(labels).every(([k, v]) => r.metric[k] === v));
    t.true(found.length <= 1, `one series for ${name} ${JSON.stringify(labels)}`);
    const bySecond = new Map<number, number>();
    for (const [ts, v] of found[0]?.values ?? []) bySecond.set(Math.round((ts * 1000 - t0) / 1000), Number(v));
    for (const s of bySecond.keys()) t.true(s >= 0 && s < seconds.length, `${name}: a sample at second ${s}, outside the run`);
    return bySecond;
  };
  for (const r of raw) t.is(r.metric.experiment, journal.id, 'labelled by the experiment');

  const exact = (name: string, labels: Record<string, string>, expected: (i: number) => number | null) => {
    const got = series(name, labels);
    seconds.forEach((_, i) => t.is(got.get(i) ?? null, expected(i), `${name}${JSON.stringify(labels)} at second ${i}`));
  };
  exact('faultline_requests', { outcome: 'ok' }, (i) => seconds[i]!.successes);
  exact('faultline_requests', { outcome: 'failed_status' }, (i) => seconds[i]!.responses - seconds[i]!.successes);
  exact('faultline_requests', { outcome: 'error' }, (i) => seconds[i]!.errors);
  exact('faultline_requests', { outcome: 'dropped' }, (i) => seconds[i]!.dropped);
  exact('faultline_rate', { kind: 'intended' }, (i) => seconds[i]!.sent + seconds[i]!.dropped);
  exact('faultline_rate', { kind: 'sent' }, (i) => seconds[i]!.sent);
  for (const [q, key] of [
    ['0.5', 'p50'],
    ['0.99', 'p99'],
  ] as const) {
    exact('faultline_latency_ms', { quantile: q, view: 'corrected' }, (i) => seconds[i]!.latency[key]);
    exact('faultline_latency_ms', { quantile: q, view: 'uncorrected' }, (i) => seconds[i]!.uncorrected![key]);
  }
  // By code and status: a series from the second its label first appeared, equal to the journal in every second.
  const codes = new Set(seconds.flatMap((s) => Object.keys(s.errorCodes)));
  for (const code of codes) {
    const got = series('faultline_request_errors', { code });
    seconds.forEach((s, i) => t.is(got.get(i) ?? 0, s.errorCodes[code] ?? 0, `errors ${code} at second ${i}`));
  }
  const statuses = new Set(seconds.flatMap((s) => Object.keys(s.statuses)));
  t.true(statuses.has('200'));
  for (const status of statuses) {
    const got = series('faultline_responses', { status });
    seconds.forEach((s, i) => t.is(got.get(i) ?? 0, s.statuses[status] ?? 0, `status ${status} at second ${i}`));
  }

  // The fault: 0 before and after, 1 in exactly the seconds its window overlaps.
  const [w] = journal.faultWindows;
  t.truthy(w, 'the fault ran');
  const active = series('faultline_fault_active', { fault: 'container-pause', target: 'service=web1-nginx' });
  t.is(active.size, seconds.length, 'a sample every second');
  seconds.forEach((_, i) => t.is(active.get(i), w!.startMs < (i + 1) * 1000 && w!.endMs! > i * 1000 ? 1 : 0, `fault_active at second ${i}`));
  t.true([...active.values()].includes(1) && [...active.values()].includes(0));
});
