// Hangs on the real stack, through `faultline run` as a user runs it: a frozen load balancer and a partition
// between the LB and every web server. Every intended request must have one outcome, the hang must show in p99,
// the partition's failures must be counted where they happened, and the report must agree with the timeline.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { itest as test, sharedStack, runCli } from '../helpers/stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { Timeline } from '../../src/load/timeline.js';
import { ExitCode } from '../../src/errors.js';

// The experiments attach to the shared stack by its project name; bring it up (idempotent) first.
test.before(async () => {
  await sharedStack();
});

async function runExperiment(yaml: string): Promise<{ code: number | null; stderr: string; journal: ExperimentJournal }> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-hang-'));
  const file = join(dir, 'experiment.yaml');
  await writeFile(file, yaml);
  const res = await runCli(['run', file, '--out', dir], { env: { CI: '1' } });
  const journal = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;
  return { code: res.code, stderr: res.stderr, journal };
}

/** Every intended request has exactly one outcome, in every bucket and in the summary; nothing is abandoned. */
function assertOutcomes(t: ExecutionContext, j: ExperimentJournal): Timeline {
  const load = j.load!;
  const s = load.summary;
  t.is(s.intended, s.sent + s.dropped);
  t.is(s.sent, s.responses + s.errors, 'every request sent was answered, failed or timed out');
  t.false('abandoned' in s, 'no "abandoned" figure: nothing is left without an outcome');
  const timeline = Timeline.fromJSON(load.timeline);
  for (const b of timeline.bucketList()) t.is(b.sent, b.responses + b.errors, `bucket ${b.index}`);
  // The report's availability is the timeline's own count: successes over intended requests.
  const whole = timeline.window(0, timeline.length * timeline.bucketMs);
  t.true(Math.abs((j.metrics.availability as number) - whole.successes / whole.outcomes) < 1e-9, `availability ${j.metrics.availability}`);
  t.is(j.metrics.requests, s.intended);
  return timeline;
}

test.serial('container-pause of the LB for 5 s: every request has an outcome and the hang shows in p99', async (t) => {
  const {
    code,
    stderr,
    journal: j,
  } = await runExperiment(`
title: The load balancer freezes
load: { driver: paced, rate: 80, mix: "whoami=1", duration: 15s, warmup: 2s }
method:
  - fault: container-pause
    target: server=lb,component=haproxy
    at: 4s
    for: 5s
`);
  t.true(code === ExitCode.ok || code === ExitCode.failed, `exit ${code}: ${stderr}`);
  const timeline = assertOutcomes(t, j);
  const s = j.load!.summary;
  t.log(`intended ${s.intended}: ok ${s.successes}, errors ${JSON.stringify(s.errorCodes)}, dropped ${s.dropped}; p99 ${s.latency.p99} ms`);
  t.true(Math.abs(s.intended - 1200) <= 2, `intended ${s.intended}`);
  // Requests sent in the first second of the freeze waited 4–5 s for their answer: that is more than 1 % of the run.
  t.true((s.latency.p99 ?? 0) >= 4000, `p99 ${s.latency.p99} ms`);
  const f = j.faultWindows[0]!;
  const inside = timeline.window(f.startMs + 200, f.startMs + 1000);
  t.true((inside.latency.p50 ?? 0) >= 3500, `p50 of requests due in the first second of the freeze: ${inside.latency.p50} ms`);
});

test.serial('net-partition LB ↔ web for 12 s: failures where they happened, detected within 1 s, the report agrees', async (t) => {
  const {
    code,
    stderr,
    journal: j,
  } = await runExperiment(`
title: The load balancer loses every web server
load: { driver: paced, rate: 80, mix: "whoami=1", duration: 26s, warmup: 2s }
method:
  - fault: net-partition
    params: { from: "server=lb", to: "role=web" }
    at: 5s
    for: 12s
`);
  t.true(code === ExitCode.ok || code === ExitCode.failed, `exit ${code}: ${stderr}`);
  const timeline = assertOutcomes(t, j);
  const f = j.faultWindows[0]!;
  t.true(f.endMs !== null && f.endMs - f.startMs >= 11_500, JSON.stringify(f));
  const during = timeline.window(f.startMs, f.endMs as number);
  // The fault's edges are recorded around the nft calls that apply and lift it; on a busy machine a request or two
  // per 100 ms at either edge can still pass. Inside the window, away from the edges, every request must fail.
  const core = timeline.window(f.startMs + 1000, (f.endMs as number) - 1000);
  const failedShare = (core.outcomes - core.successes) / core.outcomes;
  t.log(
    `during the partition: ${during.outcomes} intended, ${during.successes} ok, statuses ${JSON.stringify(during.statuses)}, errors ${JSON.stringify(during.errorCodes)}`,
  );
  t.true(during.outcomes >= 900, `${during.outcomes} requests intended during the partition`);
  t.true(during.successes <= 0.1 * during.outcomes, `${during.successes} of ${during.outcomes} requests intended during the partition succeeded`);
  t.true(failedShare >= 0.99, `${(failedShare * 100).toFixed(1)} % of the requests intended 1 s inside the partition's edges failed`);
  t.true(typeof j.metrics.time_to_detect_s === 'number' && j.metrics.time_to_detect_s <= 1, `time to detect ${j.metrics.time_to_detect_s} s`);
  const before = timeline.window(2000, f.startMs - 200);
  t.is(before.successes, before.outcomes, 'nothing failed before the partition');
});
