// Issue 19 item 6: `--json` on run, validate, list, doctor and revert gives one JSON document on stdout (human lines
// on stderr, exit codes unchanged); the documents come from pure functions, checked here without a run.

import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/stack.js';
import { ExitCode, FaultlineError } from '../../src/errors.js';
import { doctorJSON, dryRunJSON, listJSON, revertJSON, runJSON, validateJSON } from '../../src/cli/json-output.js';
import { reportFormats } from '../../src/report/formats.js';
import type { FaultRecord } from '../../src/faults/types.js';

const home = async () => ({ FAULTLINE_HOME: join(await mkdtemp(join(tmpdir(), 'faultline-json-')), 'home') });
const noDocker = { DOCKER_HOST: 'unix:///nonexistent.sock' };

test('validate --json: one document, ok with a summary per good file, the problems per bad one, exit 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-json-'));
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'title: x\nload: { driver: paced, rate: 10, duration: 48h }\nmethod:\n  - probe: health\n');
  const res = await runCli(['validate', '--json', 'db-latency', bad], { env: await home() });
  t.is(res.code, ExitCode.invalidInput, res.stderr);
  const doc = JSON.parse(res.stdout) as ReturnType<typeof validateJSON>;
  t.false(doc.ok);
  t.is(doc.exitCode, ExitCode.invalidInput);
  t.deepEqual(
    doc.files.map((f) => [f.file, f.ok]),
    [
      ['db-latency', true],
      [bad, false],
    ],
  );
  const problems = doc.files[1]!.ok ? [] : (doc.files[1] as { problems: string[] }).problems;
  t.true(problems.some((p) => /load\.duration: 48h is out of range/.test(p)));
  // The human lines are still written, to stderr.
  t.regex(res.stderr, /ok {2}db-latency/);
});

test('validate --json of good files only: ok, exit 0', async (t) => {
  const res = await runCli(['validate', '--json', 'db-latency'], { env: await home() });
  t.is(res.code, ExitCode.ok, res.stderr);
  t.like(JSON.parse(res.stdout), { ok: true, exitCode: 0, files: [{ file: 'db-latency', ok: true }] });
});

test('list --json: the shipped experiments with their titles, a suite with its experiments', async (t) => {
  const res = await runCli(['list', '--json'], { env: await home() });
  t.is(res.code, ExitCode.ok, res.stderr);
  const doc = JSON.parse(res.stdout) as { dir: string; experiments: Array<{ name: string; title?: string; suite?: string[] }> };
  const latency = doc.experiments.find((e) => e.name === 'db-latency');
  t.truthy(latency?.title);
  t.true((doc.experiments.find((e) => e.name === 'before-after')?.suite?.length ?? 0) > 1);
});

test('doctor --json without an engine: still one document, the failed engine check in it, exit 3', async (t) => {
  const res = await runCli(['doctor', '--json'], { env: { ...(await home()), ...noDocker } });
  t.is(res.code, ExitCode.environment, res.stderr);
  const doc = JSON.parse(res.stdout) as ReturnType<typeof doctorJSON>;
  t.false(doc.ok);
  t.is(doc.exitCode, ExitCode.environment);
  t.is(doc.checks.find((c) => c.name === 'docker engine')?.status, 'fail');
});

test('revert --json without an engine: no document at all, a one-line error on stderr, exit 3', async (t) => {
  // revert must attach to the stack before it has a summary to print, so there is nothing to put in a document.
  const res = await runCli(['revert', '--json'], { env: { ...(await home()), ...noDocker } });
  t.is(res.code, ExitCode.environment);
  t.is(res.stdout, '');
  t.regex(res.stderr.split('\n')[0]!, /^faultline: Docker engine not reachable/);
});

test('run --json without an engine: no document, the error on stderr, exit 3 as without --json', async (t) => {
  const res = await runCli(['run', '--json', 'db-latency'], { env: { ...(await home()), ...noDocker } });
  t.is(res.code, ExitCode.environment);
  t.is(res.stdout, '');
  t.regex(res.stderr, /^faultline: Docker engine not reachable/);
});

test('runJSON: the journal path, status, exit code and report files, not the journal', (t) => {
  const format = reportFormats.list()[0]!;
  const doc = runJSON('failed', 'A title', ExitCode.failed, {
    dir: '/o',
    journal: '/o/journal.json',
    reports: [{ format, path: `/o/${format.file}` }],
    bundle: '/o/b.tar.gz',
  });
  t.deepEqual(doc, {
    status: 'failed',
    title: 'A title',
    exitCode: 1,
    journal: '/o/journal.json',
    reports: [{ format: format.name, path: `/o/${format.file}` }],
    bundle: '/o/b.tar.gz',
  });
  t.false('bundle' in runJSON('passed', 't', 0, { dir: '/o', journal: '/o/journal.json', reports: [] }));
});

test('validateJSON, listJSON and doctorJSON: plain data in, the same data out', (t) => {
  t.deepEqual(validateJSON([{ file: 'a', ok: true, summary: 's' }], 0), { ok: true, exitCode: 0, files: [{ file: 'a', ok: true, summary: 's' }] });
  t.deepEqual(listJSON('/d', [{ name: 'x', invalid: ['bad'] }]), { dir: '/d', experiments: [{ name: 'x', invalid: ['bad'] }] });
  t.deepEqual(doctorJSON([{ name: 'node', status: 'warn', detail: 'old' }], 0), {
    ok: true,
    exitCode: 0,
    checks: [{ name: 'node', status: 'warn', detail: 'old' }],
  });
});

test('revertJSON: reverted, skipped (with why), failed (with the error) and helpers removed; secrets masked', (t) => {
  const rec = (id: string, params: unknown) => ({ id, fault: 'container-kill', params }) as unknown as FaultRecord;
  const doc = revertJSON(
    {
      reverted: [rec('f1', { target: 'web1' })],
      skipped: [{ record: rec('f2', {}), reason: 'held by pid 7' }],
      failed: [{ record: rec('f3', {}), error: new FaultlineError('REVERT_FAILED', 'gone') }],
      helpersRemoved: 2,
    },
    5,
  );
  t.deepEqual(doc.reverted, [{ id: 'f1', fault: 'container-kill', params: { target: 'web1' } }]);
  t.deepEqual(doc.skipped, [{ id: 'f2', fault: 'container-kill', params: {}, reason: 'held by pid 7' }]);
  t.deepEqual(doc.failed, [{ id: 'f3', fault: 'container-kill', params: {}, code: 'REVERT_FAILED', error: 'gone' }]);
  t.is(doc.helpersRemoved, 2);
  t.is(doc.exitCode, 5);
  JSON.parse(JSON.stringify(doc));
});

test('dryRunJSON: each experiment with its steps, the targets each fault resolved to, and the error of a step that cannot plan', (t) => {
  const header = { title: 'One web server dies', id: 'web-server-kill', stack: 'faultline', loadMs: 25_000, maxTargets: 1 };
  const doc = dryRunJSON(
    [
      {
        header,
        entries: [
          { kind: 'probe', name: 'health', everyMs: 1_000 },
          {
            kind: 'fault',
            name: 'container-kill',
            target: 'role=web',
            atMs: 6_000,
            forMs: 8_000,
            plan: {
              targets: [{ id: 'a3a836f7cc14deadbeef', name: 'web1-nginx', service: 'web1-nginx' }],
              steps: ['send SIGKILL to web1-nginx'],
              slots: [],
              data: {},
            },
          },
          { kind: 'fault', name: 'container-pause', target: 'role=nope', atMs: 1_000, error: new FaultlineError('INVALID_INPUT', 'role=nope matches nothing') },
        ],
      },
    ],
    ExitCode.invalidInput,
  );
  t.is(doc.exitCode, ExitCode.invalidInput);
  t.false(doc.injected);
  t.deepEqual(doc.experiments[0]!.steps, [
    { kind: 'probe', name: 'health', everyMs: 1_000 },
    {
      kind: 'fault',
      name: 'container-kill',
      target: 'role=web',
      atMs: 6_000,
      forMs: 8_000,
      targets: [{ name: 'web1-nginx', id: 'a3a836f7cc14' }],
      steps: ['send SIGKILL to web1-nginx'],
    },
    { kind: 'fault', name: 'container-pause', target: 'role=nope', atMs: 1_000, error: { code: 'INVALID_INPUT', message: 'role=nope matches nothing' } },
  ]);
  t.is(doc.experiments[0]!.id, 'web-server-kill');
  t.notThrows(() => JSON.parse(JSON.stringify(doc)));
});
