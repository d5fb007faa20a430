// Plugins on the real stack, through the installed CLI (bin/faultline.js over dist/): the example plugin's fault puts a
// maintenance page on web1 while load runs, its probe sees it, its report format writes report.csv, and afterwards the
// stack answers normally with nothing left to revert. Once with the experiment's own `plugins:`, once with --plugin and
// an experiment that names none; and the CLI's refusals are one line, exit 2, before anything runs.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { itest as test, repoRoot, sharedStack, type CliResult } from '../helpers/stack.js';
import { exclusive, faultContext } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { ExitCode } from '../../src/errors.js';
import { request } from '../../src/util/http.js';

const EXPERIMENT = 'examples/plugins/maintenance-page.yaml';
const PLUGIN = 'examples/plugins/maintenance-page.mjs';

let stack: AttachedStack;

/** `node bin/faultline.js …` in the repository, as a user runs the built CLI; FAULTLINE_PLUGINS is cleared unless given. */
function faultline(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/faultline.js', ...args], {
      cwd: repoRoot,
      env: { ...process.env, FAULTLINE_PLUGINS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function build(): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'ignore', timeout: 240_000 });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

test.before(async () => {
  // The CLI a user runs is the compiled one: build what changed first (incremental, seconds when nothing did).
  if ((await build()) !== 0) throw new Error('npm run build failed');
  stack = await sharedStack();
});

/** Maintenance pages among `n` requests to the stack's endpoint, one at a time (round robin shows each web server). */
async function pagesSeen(n: number): Promise<{ pages: number; statuses: number[] }> {
  const tls = stack.tlsOptions(await stack.ca());
  const statuses: number[] = [];
  let pages = 0;
  for (let i = 0; i < n; i += 1) {
    const r = await request(`${stack.httpsUrl}/whoami`, { ...tls, timeoutMs: 5000 });
    statuses.push(r.status);
    if (r.status === 503 || r.headers['x-maintenance'] !== undefined) pages += 1;
  }
  return { pages, statuses };
}

/** What a user checks after the run: the fault was seen, it is gone, nothing is left to revert, and report.csv says so. */
async function checkRun(t: ExecutionContext, res: CliResult, out: string): Promise<void> {
  t.is(res.code, ExitCode.ok, `${res.stdout}\n${res.stderr}`);
  t.regex(res.stdout, /^PASSED: A maintenance page/m);
  t.regex(res.stdout, /^ {2}csv: {4}.*report\.csv$/m, 'the summary lists the plugin report');
  const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as ExperimentJournal;
  const fault = journal.method.find((a) => a.kind === 'fault');
  t.is(fault?.name, 'maintenance-page');
  t.is(fault?.status, 'succeeded');
  t.is(fault?.target, 'web1-nginx');
  const during = journal.method.find((a) => a.kind === 'probe')?.output as { value: number };
  t.true(during.value >= 1, `the probe saw the page while the fault was on (${during.value})`);
  const after = journal.steadyStateAfter.activities[0]?.output as { value: number };
  t.is(after.value, 0, 'and nobody got it after the revert');
  const statuses = journal.load?.summary.statuses ?? {};
  t.true((statuses[503] ?? 0) > 0, `the load got 503s (${JSON.stringify(statuses)})`);
  t.is(journal.metrics.error_ratio_outside_faults, 0, 'only while the fault was on');
  // The stack answers normally afterwards: every server, no page, nothing recorded, nothing for revert to do.
  const now = await pagesSeen(9);
  t.deepEqual(now, { pages: 0, statuses: Array(9).fill(200) });
  const conf = (await stack.docker.readFile((await stack.containers()).find((c) => c.service === 'web1-nginx')!.id, '/etc/nginx/conf.d/faultline.conf'))!;
  t.false(conf.toString('utf8').includes('maintenance'), "web1's nginx has its own configuration back");
  t.deepEqual(await faultContext(stack).store.list(), [], 'no fault recorded');
  const revert = await faultline(['revert', '--json']);
  t.is(revert.code, ExitCode.ok, revert.stderr);
  const summary = JSON.parse(revert.stdout) as { reverted: unknown[]; failed: unknown[] };
  t.deepEqual([summary.reverted, summary.failed], [[], []], '`faultline revert` finds nothing');
  // The plugin's report: a header and one row per activity, the fault with its target and its window in ms.
  const csv = (await readFile(join(out, 'report.csv'), 'utf8')).split('\r\n');
  t.is(csv[0], 'experiment,phase,kind,name,status,start,end,start_ms,end_ms,target,error');
  t.regex(csv.find((l) => l.includes(',fault,')) ?? '', /^[a-z-]+,method,fault,maintenance-page,succeeded,[^,]+,[^,]+,\d+,\d+,web1-nginx,$/);
  t.is(csv.filter((l) => l.includes(',probe,maintenance-seen,succeeded,')).length, 3, 'before, during and after');
  t.true(csv.some((l) => /,rollback,rollback,revert-faults,succeeded,/.test(l)));
}

test.serial("the example experiment names its plugin: the fault is seen, reverted, and the plugin's report written", async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'faultline-plugin-run-'));
  const res = await exclusive(stack, () => faultline(['run', EXPERIMENT, '--out', out, '--no-bundle']));
  t.log(res.stderr);
  await checkRun(t, res, out);
  // The journal names the plugin, so the reports render again, the plugin's csv too, without --plugin.
  const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as ExperimentJournal;
  t.deepEqual(journal.plugins, [join(repoRoot, PLUGIN)]);
  const again = join(out, 'again');
  const report = await faultline(['report', join(out, 'journal.json'), '--out', again, '--json']);
  t.is(report.code, ExitCode.ok, report.stderr);
  const doc = JSON.parse(report.stdout) as { status: string; reports: Array<{ format: string; path: string }> };
  t.is(doc.status, 'passed');
  t.deepEqual(doc.reports.map((r) => r.format).sort(), ['csv', 'html', 'junit', 'markdown']);
  t.is(await readFile(join(again, 'report.csv'), 'utf8'), await readFile(join(out, 'report.csv'), 'utf8'));
});

test.serial('an experiment without plugins: runs the same with --plugin; without it the fault is unknown, exit 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-plugin-flag-'));
  const yaml = (await readFile(join(repoRoot, EXPERIMENT), 'utf8')).replace(/^plugins:.*\n/m, '');
  t.false(yaml.includes('plugins:'));
  const file = join(dir, 'no-plugins.yaml');
  await writeFile(file, yaml);

  const refused = await faultline(['run', file, '--out', join(dir, 'refused'), '--no-bundle']);
  t.is(refused.code, ExitCode.invalidInput);
  t.regex(refused.stderr, /method\[0\]\.fault: unknown fault "maintenance-page"/);

  const out = join(dir, 'out');
  const res = await exclusive(stack, () => faultline(['run', file, '--plugin', PLUGIN, '--out', out, '--no-bundle']));
  t.log(res.stderr);
  await checkRun(t, res, out);
});

test.serial('the CLI with plugins: listed, loaded once when named twice, and every refusal one line, exit 2, before anything runs', async (t) => {
  const list = await faultline(['fault', 'list', '--plugin', PLUGIN]);
  t.is(list.code, ExitCode.ok, list.stderr);
  t.regex(list.stdout, /^maintenance-page +process +random:role=web +health=true/m);
  const help = await faultline(['probe', '--help'], { FAULTLINE_PLUGINS: join(repoRoot, PLUGIN) });
  t.regex(help.stdout.replace(/\s+/g, ' '), /maintenance-seen/);
  // The experiment's plugins: and --plugin name the same file: one load, no "registered twice".
  const twice = await faultline(['validate', EXPERIMENT, '--plugin', `./${PLUGIN}`], { FAULTLINE_PLUGINS: join(repoRoot, PLUGIN) });
  t.is(twice.code, ExitCode.ok, twice.stderr);

  const dir = await mkdtemp(join(tmpdir(), 'faultline-plugin-bad-'));
  const throws = join(dir, 'throws.mjs');
  await writeFile(throws, "export default () => { throw new Error('FOO_TOKEN is not set'); };\n");
  const clash = join(dir, 'clash.mjs');
  await writeFile(clash, "export default (f) => f.probes.register({ name: 'health', description: '', params: f.z.object({}), run: async () => null });\n");
  const before = await faultContext(stack).store.list();
  for (const [args, line] of [
    [['fault', 'list', '--plugin', join(dir, 'missing.mjs')], /^faultline: plugin .*missing\.mjs: not found\n$/],
    [['run', EXPERIMENT, '--plugin', throws], /^faultline: plugin .*throws\.mjs: FOO_TOKEN is not set\n$/],
    [['--plugin', clash, 'probe', 'health'], /^faultline: plugin .*clash\.mjs: registers probe "health", which exists already .*\n$/],
  ] as const) {
    const res = await faultline([...args]);
    t.is(res.code, ExitCode.invalidInput, `${args.join(' ')}: ${res.stderr}`);
    t.regex(res.stderr, line);
    t.is(res.stdout, '');
  }
  t.deepEqual(await faultContext(stack).store.list(), before, 'nothing was injected');
});

test.serial(
  "a plugin's fault left behind by a SIGKILLed faultline: its record names the plugin, so `faultline revert` undoes it without --plugin",
  async (t) => {
    await exclusive(stack, async () => {
      const child = spawn(process.execPath, ['bin/faultline.js', '--plugin', PLUGIN, 'fault', 'inject', 'maintenance-page', '--for', '120s', '--json'], {
        cwd: repoRoot,
        env: { ...process.env, FAULTLINE_PLUGINS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
      try {
        // --json prints the record once the fault is in effect.
        const deadline = Date.now() + 90_000;
        while (!stdout.trim().endsWith('}') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        const record = JSON.parse(stdout) as { fault: string; plugin?: string };
        t.is(record.fault, 'maintenance-page');
        t.is(record.plugin, join(repoRoot, PLUGIN), 'the record names the plugin file');
      } finally {
        child.kill('SIGKILL');
      }
      t.is(await exited, 'SIGKILL');
      t.true((await pagesSeen(6)).pages > 0, 'the page is still up after faultline died');

      const revert = await faultline(['revert', '--json']);
      t.is(revert.code, ExitCode.ok, revert.stderr);
      const summary = JSON.parse(revert.stdout) as { reverted: Array<{ fault: string }>; failed: unknown[] };
      t.deepEqual(
        summary.reverted.map((r) => r.fault),
        ['maintenance-page'],
      );
      t.deepEqual(summary.failed, []);
      t.deepEqual(await pagesSeen(6), { pages: 0, statuses: Array(6).fill(200) });
      t.deepEqual(await faultContext(stack).store.list(), []);
    });
  },
);
