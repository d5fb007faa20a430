// Issue 18, blast radius on the real stack: `faultline run --dry-run` resolves every fault step's targets against the
// running stack and prints the timeline without touching anything, and max_targets refuses a run before any fault.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { itest as test, sharedStack, runCli } from '../helpers/stack.js';
import { exclusive, faultContext, snapshot, type StackSnapshot } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { ExitCode } from '../../src/errors.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

/** What must be as it was: container states, helpers, network, LB files, the served certificate, the fault records. */
async function assertUnchanged(t: ExecutionContext, before: StackSnapshot, after: StackSnapshot): Promise<void> {
  t.deepEqual(after.states, before.states, 'every container in the state it was');
  t.is(after.helpers, before.helpers, 'no helper container started');
  t.deepEqual(after.network, before.network, 'no firewall or qdisc change');
  t.deepEqual(after.lbFiles, before.lbFiles, 'the LB files as they were');
  t.is(after.fingerprint, before.fingerprint, 'the same certificate served');
  t.is(after.faultsJson, before.faultsJson, 'faults.json as it was');
  t.deepEqual(await faultContext(stack).store.list(), [], 'no fault recorded');
}

async function experimentFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-dry-'));
  const path = join(dir, 'blast.yaml');
  await writeFile(path, yaml);
  return path;
}

test.serial('run --dry-run prints each fault step with its resolved targets and times, and changes nothing', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const res = await runCli(['run', '--dry-run', 'experiments/web-server-kill.yaml']);
    t.log(res.stdout);
    t.is(res.code, ExitCode.ok, res.stderr);
    t.regex(res.stdout, /^dry run: One web server dies \(web-server-kill\) on stack faultline, load 25s$/m);
    t.regex(res.stdout, /^ {2}t=6s–14s {2}fault container-kill on server=web1,component=nginx$/m);
    t.regex(res.stdout, /^ +→ web1-nginx \([0-9a-f]{12}\)$/m);
    t.regex(res.stdout, /1 fault step\(s\); nothing was injected/);

    const suite = await runCli(['run', '--dry-run', 'experiments/partition-app-db.yaml']);
    t.is(suite.code, ExitCode.ok, suite.stderr);
    t.regex(suite.stdout, /t=6s–12s {2}fault net-partition/);
    for (const server of ['web1', 'web2', 'web3', 'db-primary']) t.regex(suite.stdout, new RegExp(`[→,] ${server} \\(`), server);
    await assertUnchanged(t, before, await snapshot(stack));
  });
});

test.serial('run --dry-run: count: and percent: resolve to that many; over max_targets or over the match is one REFUSED line, exit 2', async (t) => {
  const file = await experimentFile(`title: Blast radius
max_targets: 2
stack: { bring_up: false }
load: { rate: 5, duration: 20s }
method:
  - fault: container-kill
    target: count:2:role=web,component=nginx
    at: 2s
    for: 3s
  - fault: container-kill
    target: percent:50:role=web,component=app
    at: 4s
  - fault: container-kill
    target: all:component=nginx
    at: 6s
    for: 2s
  - fault: container-kill
    target: count:4:role=web,component=app
    at: 9s
    for: 2s
`);
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const res = await runCli(['run', '--dry-run', file]);
    t.log(res.stdout);
    t.is(res.code, ExitCode.invalidInput, res.stderr);
    const blocks = res.stdout.split(/\n(?= {2}t=)/);
    const targetsOf = (i: number) => (/→ (.*)/.exec(blocks[i] ?? '')?.[1] ?? '').split(', ').filter(Boolean);
    t.is(targetsOf(1).length, 2, 'count:2 picks two');
    t.true(targetsOf(1).every((x) => /^web\d-nginx /.test(x)));
    t.is(targetsOf(2).length, 2, 'percent:50 of three rounds up to two');
    t.regex(
      blocks[3] ?? '',
      /REFUSED: container-kill on "all:component=nginx" resolves to 3 targets \(web1-nginx, web2-nginx, web3-nginx\), more than max_targets 2/,
    );
    t.regex(blocks[4] ?? '', /REFUSED: target: "count:4:role=web,component=app" asks for 4 containers but matches only 3 \(web1-app, web2-app, web3-app\)/);
    t.regex(res.stdout, /4 fault step\(s\), 2 refused; nothing was injected/);
    await assertUnchanged(t, before, await snapshot(stack));
  });
});

test.serial('run: a fault step over max_targets refuses the run before any fault is injected or load is sent (exit 2)', async (t) => {
  const file = await experimentFile(`title: Too wide
max_targets: 1
stack: { bring_up: false }
load: { rate: 5, duration: 10s, warmup: 1s }
method:
  - fault: container-kill
    target: count:1:role=web,component=nginx
    at: 1s
    for: 1s
  - fault: container-kill
    target: all:role=web,component=nginx
    at: 4s
    for: 1s
`);
  const out = await mkdtemp(join(tmpdir(), 'faultline-dry-out-'));
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const res = await runCli(['run', file, '--out', out, '--no-bundle']);
    t.is(res.code, ExitCode.invalidInput, `${res.stdout}\n${res.stderr}`);
    const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as ExperimentJournal;
    t.is(journal.status, 'error');
    t.is(journal.errorCode, 'INVALID_INPUT');
    t.regex(journal.error ?? '', /resolves to 3 targets .*more than max_targets 1; nothing was injected/);
    t.deepEqual(journal.method, [], 'no step ran, not even the one within the limit');
    t.falsy(journal.load, 'no load was sent');
    await assertUnchanged(t, before, await snapshot(stack));
  });
});
