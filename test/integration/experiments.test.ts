// The main job end to end on the real stack: `faultline run` as a user runs it, judged by what the user
// reads afterwards (exit code, journal.json, report.md, junit.xml, report.html) and by the stack itself.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, sharedStack, runCli, repoRoot } from '../helpers/stack.js';
import { snapshot, faultContext } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { Timeline } from '../../src/load/timeline.js';
import { seriesOf } from '../../src/report/series.js';
import { ExitCode } from '../../src/errors.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

const outDir = () => mkdtemp(join(tmpdir(), 'faultline-exp-'));
const readJournal = async (dir: string) => JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;

async function writeExperiment(dir: string, yaml: string): Promise<string> {
  const path = join(dir, 'experiment.yaml');
  await writeFile(path, yaml);
  return path;
}

/** Every container of the stack is running and nothing faultline injected is left. */
async function assertWhole(t: import('ava').ExecutionContext): Promise<void> {
  const snap = await snapshot(stack);
  t.deepEqual(
    Object.entries(snap.states).filter(([, s]) => s !== 'running'),
    [],
    'every container runs',
  );
  t.is(snap.helpers, 0, 'no helper container left');
  t.deepEqual(await faultContext(stack).store.list(), [], 'the state file lists no fault');
}

let dpk: { dir: string; code: number | null; journal: ExperimentJournal } | undefined;

test.serial('db-primary-kill: a write outage while reads go on, a time to recover and the lost-writes verdict', async (t) => {
  const dir = await outDir();
  const res = await runCli(['run', 'experiments/db-primary-kill.yaml', '--out', dir], { env: { CI: '1' } });
  t.log(res.stderr.split('\n').slice(-8).join('\n'));
  t.true(res.code === ExitCode.ok || res.code === ExitCode.failed, `exit ${res.code}: ${res.stderr}`);
  const j = await readJournal(dir);
  dpk = { dir, code: res.code, journal: j };
  const m = j.metrics;

  // Writes were down while the primary was, and reads kept being answered (from the replica).
  t.true(typeof m.write_outage_s === 'number' && m.write_outage_s > 0, `write outage ${m.write_outage_s}`);
  t.true(typeof m.write_error_ratio === 'number' && m.write_error_ratio > 0);
  t.true(
    typeof m.read_error_ratio_during_faults === 'number' && m.read_error_ratio_during_faults <= 0.05,
    `read errors during fault ${m.read_error_ratio_during_faults}`,
  );
  t.not(m.time_to_recover_s, null, 'a time to recover was measured');
  t.true(['valid', 'invalid'].includes(String(m.data_loss_status)), `data-loss verdict ${m.data_loss_status}`);
  t.is(m.lost_writes, 0, 'no acknowledged write was lost (the replica never took writes)');

  // The journal's numbers are the timeline's numbers.
  const timeline = Timeline.fromJSON(j.load!.timeline);
  const buckets = j.load!.timeline.buckets;
  const sent = buckets.reduce((n, b) => n + b.sent, 0);
  const ok = buckets.reduce((n, b) => n + b.successes, 0);
  const completed = buckets.reduce((n, b) => n + b.responses + b.errors, 0);
  t.is(m.requests, sent);
  t.true(Math.abs((m.availability as number) - ok / completed) < 1e-9);
  t.deepEqual(j.load!.summary.statuses, timeline.summary(j.load!.durationMs).statuses, 'whole-run figures are merged from the buckets');

  // The report says it in words.
  const md = await readFile(join(dir, 'report.md'), 'utf8');
  t.regex(md, /write outage \*\*[\d.]+ s\*\*/);
  t.regex(md, /time to recover \*\*[\d.]+ s\*\*/);
  t.regex(md, /lost writes \*\*0\*\*/);
  t.regex(md, /db-primary-kill \| db-primary/);
  for (const f of ['report.html', 'junit.xml', 'journal.json', 'faultline-db-primary-kill.tar.gz']) t.true((await stat(join(dir, f))).size > 0, f);
  await assertWhole(t);
});

test.serial('the HTML report shows its charts in headless Chromium, one point per second of load', async (t) => {
  if (!dpk) return t.fail('needs the db-primary-kill run above');
  const html = join(dpk.dir, 'report.html');
  const expected = Math.ceil(dpk.journal.load!.durationMs / 1000);
  const chromium = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 90_000,
      });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.on('close', (code) => resolve({ code, out }));
      p.on('error', () => resolve({ code: -1, out: '' }));
    });
  const dom = await chromium(['--dump-dom', `file://${html}`]);
  t.is(dom.code, 0, 'chromium ran (apt-get install chromium)');
  const charts = [...dom.out.matchAll(/<svg class="chart" data-metric="([^"]+)" data-points="(\d+)"[\s\S]*?<\/svg>/g)];
  t.deepEqual(charts.map((c) => c[1]).sort(), ['errors', 'p99', 'rps'].sort());
  const series = seriesOf(dpk.journal);
  t.true(Math.abs(series.t.length - expected) <= 1, `${series.t.length} seconds in the series for ${expected} s of load`);
  const want: Record<string, number> = { rps: series.t.length, errors: series.t.length, p99: series.p99.filter((v) => v !== null).length };
  for (const c of charts) {
    // One point per second of load; p99 has none for a second in which nothing completed.
    const drawn = (c[0].match(/<circle class="pt"/g) ?? []).length;
    t.is(drawn, want[c[1]!] ?? -1, `${c[1]}: points drawn`);
    t.is(Number(c[2]), drawn, `${c[1]}: data-points agrees with what is drawn`);
    t.regex(c[0], /class="fault-window"/, `${c[1]}: the fault window is shaded`);
  }
  const shot = join(dpk.dir, 'report.png');
  t.is((await chromium([`--screenshot=${shot}`, '--window-size=1280,2000', `file://${html}`])).code, 0);
  t.true((await stat(shot)).size > 10_000, `screenshot at ${shot}`);
  t.log(`screenshot: ${shot}`);
});

test.serial('cert-expired: the TLS finding is in the report and the TLS assertion fails with exit code 1', async (t) => {
  const before = await snapshot(stack);
  const dir = await outDir();
  const res = await runCli(['run', 'experiments/cert-expired.yaml', '--out', dir], { env: { CI: '1' } });
  t.is(res.code, ExitCode.failed, res.stderr);
  const j = await readJournal(dir);
  t.is(j.status, 'failed');
  const tls = j.assertions.find((a) => a.metric === 'tls_grade');
  t.false(tls?.passed ?? true, 'the TLS assertion failed');
  t.regex(await readFile(join(dir, 'report.md'), 'utf8'), /expired/i);
  const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
  t.regex(junit, /<testcase[^>]*name="[^"]*TLS grade[^"]*"[^>]*>\s*<failure/i);
  t.is((await snapshot(stack)).fingerprint, before.fingerprint, 'the original certificate is back');
  await assertWhole(t);
});

test.serial('firewall-hole-db: the hole is found during the fault and gone after it', async (t) => {
  const before = await snapshot(stack);
  const dir = await outDir();
  const res = await runCli(['run', 'experiments/firewall-hole-db.yaml', '--out', dir], { env: { CI: '1' } });
  t.true(res.code === ExitCode.ok || res.code === ExitCode.failed, res.stderr);
  const j = await readJournal(dir);
  const holesOf = (a: { output?: unknown }) => (a.output as { value?: { holes?: number } }).value?.holes ?? -1;
  const during = j.method.filter((a) => a.kind === 'probe' && a.name === 'exposure');
  t.true(during.length > 0 && during.every((a) => holesOf(a) >= 1), 'the exposure probe during the fault found the hole');
  const details = JSON.stringify(during.map((a) => (a.output as { details?: unknown }).details));
  t.regex(details, /3306/);
  const after = j.steadyStateAfter.activities.filter((a) => a.name === 'exposure');
  t.true(after.length === 1 && holesOf(after[0]!) === 0, 'no hole after the revert');
  t.deepEqual((await snapshot(stack)).network, before.network, 'the same nft rulesets as before');
  await assertWhole(t);
});

test.serial('a steady state that fails up front injects nothing', async (t) => {
  const dir = await outDir();
  const web1 = (await stack.containers()).find((c) => c.service === 'web1-app')!.id;
  const startedBefore = (await stack.docker.inspect(web1)).startedAt;
  const file = await writeExperiment(
    dir,
    `title: steady state that cannot hold
load: { driver: paced, rate: 10, duration: 5s }
steady_state:
  - probe: replication
    tolerance: false
method:
  - fault: container-kill
    target: service=web1-app
    at: 1s
    for: 2s
`,
  );
  const res = await runCli(['run', file, '--out', dir], { env: { CI: '1' } });
  t.is(res.code, ExitCode.failed, res.stderr);
  const j = await readJournal(dir);
  t.is(j.status, 'steady-state-failed');
  t.regex(j.reason, /no fault was injected/);
  t.deepEqual(j.method, []);
  t.is(j.load, null, 'no load was sent either');
  t.is((await stack.docker.inspect(web1)).startedAt, startedBefore, 'web1 was never touched');
  await assertWhole(t);
});

test.serial('Ctrl-C during a fault: rollbacks run, the journal says interrupted, the stack is whole', async (t) => {
  const dir = await outDir();
  const file = await writeExperiment(
    dir,
    `title: interrupted mid-fault
load: { driver: paced, rate: 20, duration: 60s }
method:
  - fault: container-pause
    target: service=web2-nginx
    at: 2s
    for: 50s
  - fault: firewall-open-port
    target: server=db-primary
    params: { port: 3306 }
    at: 2s
    for: 50s
`,
  );
  const child = spawn(process.execPath, ['--import=tsx', 'src/cli/main.ts', 'run', file, '--out', dir], {
    cwd: repoRoot,
    env: { ...process.env, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const injected = new Promise<void>((resolve) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if ((stderr.match(/inject /g) ?? []).length >= 2) resolve();
    });
  });
  const code = new Promise<number | null>((resolve) => child.on('close', resolve));
  await Promise.race([injected, code]);
  // Interrupt once the pause is in effect (the runner logs "inject" when it starts injecting).
  const deadline = Date.now() + 60_000;
  let paused = false;
  while (!paused && Date.now() < deadline) {
    paused = (await stack.containers()).some((c) => c.service === 'web2-nginx' && c.state === 'paused');
    if (!paused) await new Promise((r) => setTimeout(r, 250));
  }
  t.true(paused, `web2 is paused before the interrupt\n${stderr}`);
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  t.is(await code, ExitCode.interrupted, stderr);
  const j = await readJournal(dir);
  t.is(j.status, 'interrupted');
  t.true(j.rollbacks.length > 0 && j.rollbacks.every((r) => r.status === 'succeeded'), JSON.stringify(j.rollbacks));
  await assertWhole(t);
});
