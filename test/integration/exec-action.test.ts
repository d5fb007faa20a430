// `action: exec` on the real stack (issue 19 item 3): a command in a stack container as a method step and a rollback,
// its exit code and output in the journal, and a timeout or an interrupt that really ends it — no process left behind.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, sharedStack, runCli } from '../helpers/stack.js';
import { exclusive, startCli } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ActivityRecord, ExperimentJournal } from '../../src/experiment/journal.js';
import { runExecAction, type ExecTargetResult } from '../../src/experiment/exec-action.js';
import { ExitCode } from '../../src/errors.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

const EXPERIMENT = `title: Exec actions
stack: { bring_up: false }
load: { rate: 20, duration: 5s, warmup: 1s }
method:
  - action: exec
    title: say hi
    target: server=web1,component=app
    command: ["sh", "-c", "echo hi; exit 3"]
    expect_exit: 3
    at: 1s
  - action: exec
    target: server=web2,component=app
    command: "echo started; sleep 60; echo never"
    timeout: 2s
    at: 1s
rollbacks:
  - action: exec
    target: service=web3-app
    command: [sh, -c, "echo rolled back"]
`;

/** The command lines of what runs in a container now (docker top), without the container's own processes. */
async function processes(service: string): Promise<string[]> {
  const c = (await stack.containers()).find((x) => x.service === service);
  if (!c) throw new Error(`no ${service}`);
  const res = await stack.docker.exec(c.id, ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done']);
  return res.stdout.split('\n').filter((l) => l.trim() && !l.includes('/proc/[0-9]'));
}

const targetsOf = (a: ActivityRecord | undefined) => ((a?.output as { targets?: ExecTargetResult[] } | undefined)?.targets ?? []) as ExecTargetResult[];

test.serial('faultline run: exec steps in the method and the rollbacks, exit codes and output in the journal, a timeout kills the command', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-exec-'));
  const file = join(dir, 'exec.yaml');
  await writeFile(file, EXPERIMENT);

  const dry = await runCli(['run', '--dry-run', file]);
  t.is(dry.code, ExitCode.ok, dry.stderr);
  t.regex(dry.stdout, /^ {2}t=1s {6}action exec on server=web1,component=app$/m);
  t.regex(dry.stdout, /^ +1\. run sh -c "echo hi; exit 3"; expect exit 3; killed after 30 s$/m);
  t.regex(dry.stdout, /^ {2}rollback {2}action exec on service=web3-app$/m);
  t.regex(dry.stdout, /0 fault step\(s\), 3 action step\(s\); nothing was injected or run/);

  await exclusive(stack, async () => {
    const res = await runCli(['run', file, '--out', dir], { env: { CI: '1' } });
    t.log(res.stderr.split('\n').slice(-12).join('\n'));
    t.is(res.code, ExitCode.failed, `exit ${res.code}: the timed-out exec fails the run`);
    const j = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;
    t.regex(j.reason, /exec: timed out after 2 s on web2-app \(killed\)/);

    const [hi, sleeper] = [j.method.find((a) => a.title === 'say hi'), j.method.find((a) => a.title === undefined && a.kind === 'action')];
    t.like(hi, { kind: 'action', name: 'exec', phase: 'method', status: 'succeeded', target: 'web1-app' });
    t.like(targetsOf(hi)[0], { target: 'web1-app', exitCode: 3, stdout: 'hi\n' });

    t.like(sleeper, { kind: 'action', name: 'exec', status: 'failed', target: 'web2-app', error: 'timed out after 2 s on web2-app (killed)' });
    const slept = targetsOf(sleeper)[0]!;
    t.true(slept.timedOut && slept.durationMs >= 1900 && slept.durationMs <= 6000, `ended after ${slept.durationMs} ms`);
    t.is(slept.stdout, 'started\n');
    t.true((slept.killed ?? 0) >= 1, `killed ${slept.killed}`);
    const left = (await processes('web2-app')).filter((l) => /sleep|echo started/.test(l));
    t.deepEqual(left, [], 'nothing of the command runs in web2-app');

    const rollback = j.rollbacks.find((a) => a.kind === 'action');
    t.like(rollback, { name: 'exec', phase: 'rollback', status: 'succeeded', target: 'web3-app' });
    t.is(targetsOf(rollback)[0]?.stdout, 'rolled back\n');
    t.true(Date.parse(rollback!.start) >= Date.parse(sleeper!.end), 'the rollback ran after the method');

    const md = await readFile(join(dir, 'report.md'), 'utf8');
    t.regex(md, /^- t=1\.\ds say hi `sh -c "echo hi; exit 3"` on web1-app: succeeded \(web1-app: exit 3 in \d+\.\d s\)$/m);
    t.regex(md, /^- rollback exec `sh -c "echo rolled back"` on web3-app: succeeded/m);
    t.regex(md, /action exec: timed out after 2 s on web2-app \(killed\)/);
  });
});

test.serial('an interrupt kills a running exec on every target at once, and nothing of it is left', async (t) => {
  const abort = new AbortController();
  const started = Date.now();
  setTimeout(() => abort.abort(new Error('interrupted by SIGINT')), 1500);
  const record = await runExecAction(
    stack,
    { target: 'all:role=web,component=app', command: 'sleep 60 & sleep 61; echo never', timeout: 60_000, expect_exit: 0 },
    { phase: 'method', signal: abort.signal, log: (l) => t.log(l) },
  );
  const took = Date.now() - started;
  t.is(record.status, 'interrupted', record.error);
  t.true(took < 12_000, `ended ${took} ms after it started (interrupt at 1.5 s)`);
  t.deepEqual(
    targetsOf(record)
      .map((r) => [r.target, r.interrupted, r.exitCode])
      .sort(),
    ['web1-app', 'web2-app', 'web3-app'].map((s) => [s, true, 137]),
    'every target ended by the kill',
  );
  for (const service of ['web1-app', 'web2-app', 'web3-app'])
    t.deepEqual(
      (await processes(service)).filter((l) => /sleep/.test(l)),
      [],
      `no sleep left in ${service}`,
    );
});

test.serial('Ctrl-C during faultline run kills the exec it runs: the run ends interrupted (130) and no sleep is left', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-exec-int-'));
  const file = join(dir, 'exec.yaml');
  await writeFile(
    file,
    `title: Exec interrupted
stack: { bring_up: false }
load: { rate: 20, duration: 20s, warmup: 1s }
method:
  - action: exec
    target: service=web1-app
    command: "sleep 60 & sleep 61"
    timeout: 50s
    at: 1s
`,
  );
  await exclusive(stack, async () => {
    const cli = startCli(['run', file, '--out', dir]);
    const deadline = Date.now() + 120_000;
    while (!/exec on web1-app/.test(cli.output().stderr) && Date.now() < deadline && cli.child.exitCode === null) await new Promise((r) => setTimeout(r, 500));
    t.regex(cli.output().stderr, /exec on web1-app/, 'the exec started');
    await new Promise((r) => setTimeout(r, 1500));
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const end = await cli.exited;
    t.is(end.code, ExitCode.interrupted, cli.output().stderr.split('\n').slice(-8).join('\n'));
    t.true(Date.now() - sent < 30_000, `ended ${Date.now() - sent} ms after Ctrl-C`);
    const j = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;
    t.is(j.status, 'interrupted');
    t.like(
      j.method.find((a) => a.kind === 'action'),
      { status: 'interrupted', target: 'web1-app' },
    );
    t.deepEqual(
      (await processes('web1-app')).filter((l) => /sleep/.test(l)),
      [],
      'no sleep left in web1-app',
    );
  });
});
