// `action: exec` (issue 19 item 3): the experiment file's syntax in the method and the rollbacks with every bad field
// named, the pure parts of running it (argv, tails, the verdict, the kill script), the dry-run line, and one run on a
// fake Docker (targets resolved as a fault's, max_targets, the activity record).

import test from 'ava';
import { InvalidFileError, validateExperiment } from '../../src/experiment/schema.js';
import {
  argvOf,
  describeAction,
  describeCommand,
  execTimelineEntry,
  execVerdict,
  KILL_SCRIPT,
  runExecAction,
  tail,
  TAIL_BYTES,
  wrappedArgv,
  type ExecTargetResult,
} from '../../src/experiment/exec-action.js';
import { verdict } from '../../src/experiment/judge.js';
import { checkMethodBlastRadius } from '../../src/experiment/dry-run.js';
import { BlastRadiusError } from '../../src/faults/blast-radius.js';
import { faults } from '../../src/faults/registry.js';
import { formatTimeline } from '../../src/faults/format.js';
import { REDACTED } from '../../src/faults/redact.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { FakeDocker, fakeContext, stackLabels } from '../helpers/fake-docker.js';

const base = { title: 't', load: { rate: 5, duration: '20s' } };
const validate = (doc: Record<string, unknown>) => validateExperiment({ ...base, ...doc }, 'exp.yaml', undefined, {});
/** The problems of a file that does not validate, as "path: message" lines. */
function problems(doc: Record<string, unknown>): string[] {
  try {
    validate(doc);
  } catch (err) {
    if (err instanceof InvalidFileError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

test('schema: an exec in the method takes an argv list or a string, with defaults for timeout (30 s), expect_exit (0) and at (0)', (t) => {
  const e = validate({
    method: [
      { action: 'exec', target: 'server=db-primary,component=mariadb', command: ['mysql', '-e', 'FLUSH LOGS'], timeout: '10s', at: '5s' },
      {
        action: 'exec',
        target: 'all:role=web,component=app',
        command: 'echo hi; exit 3',
        expect_exit: 3,
        user: 'nobody',
        env: { A: 'x', PORT: 3306 },
        title: 'say hi',
      },
      { action: 'exec', target: 'service=web1-app', command: ['sleep', 60] },
    ],
  });
  t.deepEqual(e.method[0], {
    action: 'exec',
    target: 'server=db-primary,component=mariadb',
    command: ['mysql', '-e', 'FLUSH LOGS'],
    timeout: 10_000,
    expect_exit: 0,
    at: 5000,
  });
  t.like(e.method[1], { command: 'echo hi; exit 3', expect_exit: 3, user: 'nobody', env: { A: 'x', PORT: '3306' }, title: 'say hi', timeout: 30_000, at: 0 });
  t.deepEqual((e.method[2] as { command: string[] }).command, ['sleep', '60'], 'YAML reads [sleep, 60] with a number: an argument is its text');
});

test('schema: an exec in the rollbacks, beside the other actions, without `at`', (t) => {
  const e = validate({
    method: [{ probe: 'health' }],
    rollbacks: [{ action: 'exec', target: 'service=web1-app', command: 'rm -f /tmp/x', timeout: '5s' }, { action: 'wait-healthy' }],
  });
  t.deepEqual(e.rollbacks, [
    { action: 'exec', target: 'service=web1-app', command: 'rm -f /tmp/x', timeout: 5000, expect_exit: 0 },
    { action: 'wait-healthy' },
  ]);
  t.deepEqual(problems({ method: [{ probe: 'health' }], rollbacks: [{ action: 'exec', target: 'x', command: 'y', at: '1s' }] }), [
    'rollbacks[0]: unknown field "at"',
  ]);
});

test('schema: each bad field of an exec is named, never hidden behind "fault: required"', (t) => {
  const method = (entry: Record<string, unknown>) => problems({ method: [{ probe: 'health' }, { action: 'exec', target: 'service=x', ...entry }] });
  const COMMAND = 'expected an argv list (["mysql", "-e", "FLUSH LOGS"]) or a string, which runs with sh -c';
  t.deepEqual(method({}), [`method[1].command: ${COMMAND}`]);
  t.deepEqual(method({ command: 5 }), [`method[1].command: ${COMMAND}`]);
  t.deepEqual(method({ command: [] }), [`method[1].command: ${COMMAND}`]);
  t.deepEqual(method({ command: '' }), [`method[1].command: ${COMMAND}`]);
  t.deepEqual(method({ command: ['ok', { no: 1 }] }), ['method[1].command[1]: expected a string (an argument of the command)']);
  t.deepEqual(method({ command: 'x', expect_exit: 300 }), ['method[1].expect_exit: expected an exit code from 0 to 255']);
  t.deepEqual(method({ command: 'x', expect_exit: 1.5 }), ['method[1].expect_exit: expected integer, got float']);
  t.deepEqual(method({ command: 'x', timeout: 'soon' }), ['method[1].timeout: "soon" is not a duration (e.g. 250ms, 30s, 5m; not negative)']);
  t.deepEqual(method({ command: 'x', timeout: '2h' }), ['method[1].timeout: 2h is out of range (1 ms to 3600000 ms)']);
  t.deepEqual(method({ command: 'x', env: { 'NOT-A-NAME': 'v' } }), ['method[1].env.NOT-A-NAME: expected an environment variable name (letters, digits, _)']);
  t.deepEqual(method({ command: 'x', bogus: 1 }), ['method[1]: unknown field "bogus"']);
  t.deepEqual(method({ command: 'x', target: '' }), ['method[1].target: expected a target such as service=db-primary-mariadb or all:role=web,component=app']);
  t.deepEqual(method({ command: 'x', at: '25s' }), ['method[1].at: must fall inside the load (duration 20 s)']);
  t.deepEqual(problems({ method: [{ action: 'exce', target: 'x', command: 'y' }] }), ['method[0].action: expected "exec"']);
  t.deepEqual(problems({ method: [{ probe: 'health' }], rollbacks: [{ action: 'exec', target: 'x' }] }), [`rollbacks[0].command: ${COMMAND}`]);
});

test('schema: faults, probes and the other rollbacks keep their own messages', (t) => {
  t.deepEqual(problems({ method: [{ fault: 'container-kill', for: 'xyz' }] }), ['method[0].for: "xyz" is not a duration (e.g. 250ms, 30s, 5m; not negative)']);
  t.deepEqual(problems({ method: [{ probe: 'health', every: 'x' }] }), ['method[0].every: "x" is not a duration (e.g. 250ms, 30s, 5m; not negative)']);
  t.deepEqual(problems({ method: ['kill it'] }), [
    'method[0]: expected a fault activity ({fault, at, for}), a probe activity ({probe, at|every|during}) or an action ({action: exec, target, command})',
  ]);
  t.deepEqual(problems({ method: [{ probe: 'health' }], rollbacks: [{ action: 'restart', command: 'x' }] }), ['rollbacks[0]: unknown field "command"']);
  t.deepEqual(problems({ method: [{ probe: 'health' }], rollbacks: [{ action: 'restat' }] }), ['rollbacks[0].action: unknown "restat"; did you mean restart?']);
});

test('schema: no exec in the steady state, which is probes only', (t) => {
  const found = problems({ steady_state: [{ action: 'exec', target: 'x', command: 'y' }], method: [{ probe: 'health' }] });
  t.true(found.length > 0 && found.every((p) => p.startsWith('steady_state[0]')), found.join('\n'));
});

test('argvOf and describeCommand: a string runs with sh -c; a list as it is, quoted where a shell would need it', (t) => {
  t.deepEqual(argvOf('echo hi; exit 3'), ['sh', '-c', 'echo hi; exit 3']);
  t.deepEqual(argvOf(['mysql', '-e', 'FLUSH LOGS']), ['mysql', '-e', 'FLUSH LOGS']);
  t.is(describeCommand(['mysql', '-e', 'FLUSH LOGS']), 'mysql -e "FLUSH LOGS"');
  t.is(describeCommand('echo hi; exit 3'), 'echo hi; exit 3');
});

test('wrappedArgv: the argv untouched after the wrapper, a backstop timeout 30 s past the deadline', (t) => {
  const argv = wrappedArgv(['sleep', '60'], 2000);
  t.deepEqual(argv.slice(0, 2), ['sh', '-c']);
  t.deepEqual(argv.slice(3), ['faultline-exec', '32', 'sleep', '60']);
  t.regex(argv[2]!, /exec timeout -s KILL "\$b" "\$@"/);
  t.regex(argv[2]!, /exec "\$@"$/, 'without GNU timeout, the command itself');
  t.is(wrappedArgv(['true'], 1500)[4], '32', 'whole seconds, rounded up');
});

test('KILL_SCRIPT: needs only sh builtins, cat and /proc; spares PID 1 and itself', (t) => {
  t.notRegex(KILL_SCRIPT, /\b(ps|grep|pkill|pgrep|awk|sed)\b/);
  t.regex(KILL_SCRIPT, /"\$pid" = 1/);
  t.regex(KILL_SCRIPT, /"\$pid" = "\$\$"/);
  t.regex(KILL_SCRIPT, /kill -KILL/);
});

test('tail: the last 2 KB of a stream, marked when cut; private keys redacted', (t) => {
  t.is(tail('hi\n'), 'hi\n');
  const long = `${'a'.repeat(5000)}THE END`;
  const cut = tail(long);
  t.true(cut.startsWith('…') && cut.endsWith('THE END'));
  t.is(Buffer.byteLength(cut.slice(1)), TAIL_BYTES);
  t.is(tail('-----BEGIN PRIVATE KEY-----\nMIIE...\n'), REDACTED);
});

const result = (over: Partial<ExecTargetResult>): ExecTargetResult => ({
  target: 'web1-app',
  container: 'abc',
  exitCode: 0,
  durationMs: 10,
  stdout: '',
  stderr: '',
  ...over,
});

test('execVerdict: the expected exit succeeds; another exit or a timeout fails with the reason; an interrupt or an error says so', (t) => {
  const spec = { expect_exit: 3, timeout: 2000 };
  t.deepEqual(execVerdict(spec, [result({ exitCode: 3 }), result({ target: 'web2-app', exitCode: 3 })]), { status: 'succeeded' });
  t.deepEqual(execVerdict(spec, [result({ exitCode: 3 }), result({ target: 'web2-app', exitCode: 0 })]), {
    status: 'failed',
    error: 'exit 0 on web2-app, expected 3',
  });
  t.deepEqual(execVerdict(spec, [result({ exitCode: 137, timedOut: true, killed: 2 })]), {
    status: 'failed',
    error: 'timed out after 2 s on web1-app (killed)',
  });
  t.deepEqual(execVerdict(spec, [result({ exitCode: null, error: 'container is not running' })]), {
    status: 'error',
    error: 'web1-app: container is not running',
  });
  t.deepEqual(execVerdict(spec, [result({ exitCode: 137, interrupted: true })]), {
    status: 'interrupted',
    error: 'interrupted; the command was killed on web1-app',
  });
});

test('verdict: a failed action fails the run with its reason, as a failed assertion does', (t) => {
  const action = {
    kind: 'action' as const,
    name: 'exec',
    phase: 'method' as const,
    start: '',
    end: '',
    status: 'failed' as const,
    error: 'exit 1 on web1-app, expected 0',
  };
  const v = verdict({ assertions: [], metrics: {}, method: [action], steadyStateAfterMet: true });
  t.is(v.status, 'failed');
  t.is(v.reason, 'failed: exec: exit 1 on web1-app, expected 0');
  t.is(verdict({ assertions: [], metrics: {}, method: [{ ...action, status: 'succeeded', error: undefined }], steadyStateAfterMet: true }).status, 'passed');
});

async function fakeStack() {
  const docker = new FakeDocker();
  for (const server of ['web1', 'web2', 'web3']) docker.add({ name: `flunit-${server}-app-1`, labels: stackLabels(server, 'app') });
  docker.add({ name: 'someone-else', labels: { 'com.docker.compose.project': 'other', 'com.docker.compose.service': 'other' } });
  const ctx = await fakeContext(docker);
  return { docker, stack: Object.assign(ctx.stack, { docker }) as unknown as AttachedStack };
}

test('runExecAction: runs on each container the target resolves to, with the exec marker, and records exit codes and output', async (t) => {
  const { docker, stack } = await fakeStack();
  const seen: Array<{ name: string; cmd: string[] }> = [];
  docker.handlers.push((c, cmd) => {
    seen.push({ name: c.name, cmd });
    return { result: { exitCode: 3, stdout: 'hi\n', stderr: '' } };
  });
  const log: string[] = [];
  const spec = { target: 'all:role=web,component=app', command: 'echo hi; exit 3', timeout: 5000, expect_exit: 3 };
  const record = await runExecAction(stack, spec, { phase: 'method', signal: new AbortController().signal, log: (l) => log.push(l) });
  t.like(record, { kind: 'action', name: 'exec', phase: 'method', status: 'succeeded', target: 'web1-app, web2-app, web3-app' });
  t.deepEqual(record.params, { command: 'echo hi; exit 3', timeoutMs: 5000, expect_exit: 3 });
  const targets = (record.output as { targets: ExecTargetResult[] }).targets;
  t.deepEqual(
    targets.map((r) => [r.target, r.exitCode, r.stdout]),
    [
      ['web1-app', 3, 'hi\n'],
      ['web2-app', 3, 'hi\n'],
      ['web3-app', 3, 'hi\n'],
    ],
  );
  t.deepEqual(seen.map((s) => s.name).sort(), ['flunit-web1-app-1', 'flunit-web2-app-1', 'flunit-web3-app-1'], 'never the other project');
  t.deepEqual(seen[0]!.cmd.slice(-3), ['sh', '-c', 'echo hi; exit 3']);
  t.regex(log[0]!, /^exec on web1-app, web2-app, web3-app: echo hi; exit 3 \(timeout 5 s\)$/);
  t.regex(describeAction(record), /^method exec `echo hi; exit 3` on web1-app, web2-app, web3-app: succeeded \(web1-app: exit 3 in 0\.\d s, /);
});

test('runExecAction: over max_targets, or outside the stack, nothing runs and the record says why', async (t) => {
  const { docker, stack } = await fakeStack();
  const ran: string[] = [];
  docker.handlers.push((c) => {
    ran.push(c.name);
    return undefined;
  });
  const options = { phase: 'method' as const, signal: new AbortController().signal, log: () => undefined };
  const spec = { target: 'all:role=web', command: 'true', timeout: 1000, expect_exit: 0 };
  const over = await runExecAction(stack, spec, { ...options, maxTargets: 2 });
  t.is(over.status, 'error');
  t.regex(over.error!, /^exec on "all:role=web" resolves to 3 targets \(web1-app, web2-app, web3-app\), more than max_targets 2; nothing was run$/);
  const foreign = await runExecAction(stack, { ...spec, target: 'someone-else' }, options);
  t.is(foreign.status, 'error');
  t.regex(foreign.error!, /does not belong to stack flunit/);
  t.deepEqual(ran, []);
});

test('the dry run shows an exec step: when, the command, where it would run; a rollback exec after the method', async (t) => {
  const { docker, stack } = await fakeStack();
  const id = (server: string) => [...docker.containers.values()].find((c) => c.name === `flunit-${server}-app-1`)!.id.slice(0, 12);
  const signal = new AbortController().signal;
  const step = { target: 'count:3:role=web', command: ['mysql', '-e', 'FLUSH LOGS'], timeout: 10_000, expect_exit: 0, at: 5000 };
  const entries = [
    await execTimelineEntry(stack, step, undefined, signal),
    await execTimelineEntry(stack, { ...step, target: 'all:role=web' }, 2, signal),
    {
      ...(await execTimelineEntry(
        stack,
        { target: 'service=web1-app', command: 'rm -f /tmp/x', timeout: 5000, expect_exit: 0, user: 'root' },
        undefined,
        signal,
      )),
      rollback: true,
    },
  ];
  t.is(
    formatTimeline({ title: 'Flush', id: 'flush', stack: 'flunit', loadMs: 20_000 }, entries),
    [
      'dry run: Flush (flush) on stack flunit, load 20s',
      '  t=5s      action exec on count:3:role=web',
      `            → web1-app (${id('web1')}), web2-app (${id('web2')}), web3-app (${id('web3')})`,
      '              1. run mysql -e "FLUSH LOGS"; expect exit 0; killed after 10 s',
      '  t=5s      action exec on all:role=web',
      '            REFUSED: exec on "all:role=web" resolves to 3 targets (web1-app, web2-app, web3-app), more than max_targets 2; nothing was run',
      '  rollback  action exec on service=web1-app',
      `            → web1-app (${id('web1')})`,
      '              1. run rm -f /tmp/x (sh -c) as root; expect exit 0; killed after 5 s',
      '  0 fault step(s), 3 action step(s), 1 refused; nothing was injected or run',
    ].join('\n'),
  );
});

test('max_targets refuses a run whose exec step, in the method or the rollbacks, resolves to more containers, before load starts', async (t) => {
  const { stack } = await fakeStack();
  const exp = (rollbacks: unknown[], method: unknown[] = [{ probe: 'health' }]) => ({
    ...validate({ max_targets: 2, method, rollbacks }),
    file: 'exp.yaml',
    id: 'exp',
  });
  const signal = new AbortController().signal;
  const wide = { action: 'exec', target: 'all:role=web', command: 'true' };
  await t.throwsAsync(checkMethodBlastRadius(exp([], [wide]), stack, faults, signal), { instanceOf: BlastRadiusError, message: /more than max_targets 2/ });
  await t.throwsAsync(checkMethodBlastRadius(exp([wide]), stack, faults, signal), { instanceOf: BlastRadiusError });
  await t.notThrowsAsync(checkMethodBlastRadius(exp([{ ...wide, target: 'count:2:role=web' }]), stack, faults, signal));
});
