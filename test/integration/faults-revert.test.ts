// The promises around the catalogue, through the CLI as a user runs it: faults outlive a SIGKILLed faultline
// and `faultline revert --all` undoes them; bad input is refused before anything is touched; containers
// without the stack's label are refused; --dry-run changes nothing.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { connectFrom, exclusive, faultContext, helperContainers, hostOf, idOf, snapshot, startCli, tcpConnect, type HeldCli } from '../helpers/faults.js';
import { defaultRegistry, injectFault, revertRecorded } from '../../src/faults/index.js';
import { handshake } from '../../src/faults/tls-check.js';
import { LABEL } from '../../src/stack/docker-client.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let ca: string;
const ip = (last: number) => `${stack.options.netPrefix}.${last}`;

test.before(async () => {
  stack = await sharedStack();
  ca = (await stack.ca())!;
});

/** The state file as it is on disk (read directly, not through FaultStore); [] when there is none. */
async function recorded(): Promise<Array<{ id: string; fault: string; pid: number }>> {
  const text = await readFile(join(stack.stateDir, 'faults.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? [] : (JSON.parse(text) as { faults: Array<{ id: string; fault: string; pid: number }> }).faults;
}

/** stderr lines that report an error: exactly one is expected for bad input (a hint line may follow). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('faultline:'));
}

test.serial('faultline SIGKILLed while holding three faults: `revert --all` restores all three, a second run finds nothing', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const nginx = await idOf(stack, 'web2-nginx');
    const monitor = await hostOf(stack, 'monitor');
    const primaryHost = await hostOf(stack, 'db-primary');
    const rulesetOf = async (id: string) => (await stack.docker.exec(id, ['nft', 'list', 'ruleset'])).stdout;
    const rulesBefore = await rulesetOf(primaryHost);
    t.false(await connectFrom(stack.docker, monitor, ip(31), 3306), 'monitoring may not reach 3306 before');

    // Three holders, as three users (or three experiment steps) would start them, each for 5 minutes.
    const held: HeldCli[] = [
      startCli(['fault', 'inject', 'firewall-open-port', '--target', 'server=db-primary', '--port', '3306', '--for', '5m']),
      startCli(['fault', 'inject', 'cert-expired', '--for', '5m']),
      startCli(['fault', 'inject', 'container-pause', '--target', 'service=web2-nginx', '--for', '5m']),
    ];
    t.teardown(async () => {
      for (const h of held) h.child.kill('SIGKILL');
      await runCli(['revert', '--all']);
    });
    await Promise.all(held.map((h) => h.waitFor(/fault \S+ active after/, 120_000)));
    t.is((await recorded()).length, 3, 'all three recorded before the kill');

    for (const h of held) h.child.kill('SIGKILL');
    const exits = await Promise.all(held.map((h) => h.exited));
    t.deepEqual(
      exits.map((e) => e.signal),
      ['SIGKILL', 'SIGKILL', 'SIGKILL'],
    );

    // Nothing reverted them: each effect is still there, seen without the fault code.
    t.true(await connectFrom(stack.docker, monitor, ip(31), 3306), 'the firewall hole outlived faultline');
    t.not(await rulesetOf(primaryHost), rulesBefore);
    const hs = await handshake({ port: stack.options.httpsPort, ca });
    t.is(hs.authorizationError, 'CERT_HAS_EXPIRED', 'the expired certificate outlived faultline');
    t.true((await stack.docker.inspect(nginx)).paused, 'web2-nginx is still frozen');
    t.deepEqual((await recorded()).map((r) => r.fault).sort(), ['cert-expired', 'container-pause', 'firewall-open-port']);

    const revert = await runCli(['revert', '--all']);
    t.is(revert.code, 0, revert.stderr);
    t.is(revert.stdout.split('\n').filter((l) => l.startsWith('reverted ')).length, 3, revert.stdout);

    t.deepEqual(await recorded(), [], 'state file empty');
    t.false(await connectFrom(stack.docker, monitor, ip(31), 3306), 'hole closed');
    t.is(await rulesetOf(primaryHost), rulesBefore, 'same nft ruleset');
    t.false((await stack.docker.inspect(nginx)).paused, 'web2-nginx runs again');
    t.deepEqual(await helperContainers(stack), [], 'no faultline.fault helper');
    t.deepEqual(await snapshot(stack), before, 'certificate fingerprint, rulesets, qdiscs, container states as before');

    const again = await runCli(['revert', '--all']);
    t.is(again.code, 0, again.stderr);
    t.is(again.stdout.trim(), 'nothing to revert');
  });
});

test.serial('a helper-based fault left by a SIGKILLed faultline is undone and its helper removed by `revert`', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const web1 = await hostOf(stack, 'web1');
    const held = startCli(['fault', 'inject', 'net-partition', '--from', 'role=web', '--to', 'server=db-primary', '--for', '5m']);
    t.teardown(async () => {
      held.child.kill('SIGKILL');
      await runCli(['revert', '--all']);
    });
    await held.waitFor(/fault \S+ active after/, 120_000);
    held.child.kill('SIGKILL');
    await held.exited;
    t.false(await connectFrom(stack.docker, web1, ip(31), 3306), 'partition outlived faultline');
    t.true((await helperContainers(stack)).length > 0, 'its helpers are still there');

    // Without --all: the holder is dead, so the fault is taken.
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
    t.regex(revert.stdout, /^reverted net-partition /m);
    t.true(await connectFrom(stack.docker, web1, ip(31), 3306));
    t.deepEqual(await helperContainers(stack), []);
    t.deepEqual(await recorded(), []);
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('a firewall fault whose saved table never reached the record (faultline died mid-apply) is restored from the copy in the server', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const ctx = faultContext(stack);
    const registry = defaultRegistry();
    const active = await injectFault(ctx, registry.configure('firewall-flush', { target: 'server=web1' }), AbortSignal.timeout(60_000));
    t.teardown(() => revertRecorded(ctx, registry, { all: true }));
    t.is(await tcpConnect(ip(21), 80), 'open', 'web1 has no firewall');
    // The record as a SIGKILL between the nft change and recording what it saved leaves it: no `saved`.
    const record = (await ctx.store.get(active.id))!;
    const data = record.data as { servers: Array<Record<string, unknown>> };
    await ctx.store.update(active.id, { data: { ...data, servers: data.servers.map(({ saved: _saved, ...rest }) => rest) } });
    t.false(JSON.stringify((await ctx.store.get(active.id))!.data).includes('"saved"'));

    const summary = await revertRecorded(ctx, registry, { all: true });
    t.deepEqual(summary.failed, []);
    t.deepEqual(
      summary.reverted.map((r) => r.id),
      [active.id],
    );
    t.not(await tcpConnect(ip(21), 80), 'open', 'the firewall is back');
    const copies = await stack.docker.exec(await hostOf(stack, 'web1'), ['sh', '-c', 'ls /run/faultline 2>/dev/null | wc -l']);
    t.is(copies.stdout.trim(), '0', 'the copy in the server is removed after the revert');
    t.deepEqual(await recorded(), []);
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('bad input: one error line naming the field, exit code 2, nothing injected', async (t) => {
  const cases: Array<{ args: string[]; error: RegExp }> = [
    { args: ['fault', 'inject', 'no-such-fault'], error: /unknown fault "no-such-fault"/ },
    { args: ['fault', 'inject', 'container-kill', '--target', 'no-such-service'], error: /target "no-such-service" matches no container of stack/ },
    { args: ['fault', 'inject', 'container-kill', '--target', 'colour=blue'], error: /target: unknown key "colour"/ },
    { args: ['fault', 'inject', 'container-kill', '--target', 'web1-app', '--for=-5s'], error: /^faultline: for: "-5s" is not a positive duration/ },
    { args: ['fault', 'inject', 'net-loss', '--target', 'server=db-primary', '--loss', '150%'], error: /net-loss: loss: must be at most 100%/ },
    { args: ['fault', 'inject', 'net-latency', '--target', 'server=db-primary', '--delay=-10ms'], error: /net-latency: delay: "-10ms" is not a duration/ },
    { args: ['fault', 'inject', 'cpu-stress', '--target', 'server=web3', '--param', 'bogus=1'], error: /cpu-stress: params: unknown parameter\(s\) bogus/ },
  ];
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    for (const c of cases) {
      const res = await runCli(c.args);
      const label = `faultline ${c.args.join(' ')}`;
      t.is(res.code, 2, `${label}: exit code 2 (invalid input); stderr: ${res.stderr}`);
      const lines = errorLines(res.stderr);
      t.is(lines.length, 1, `${label}: one error line: ${res.stderr}`);
      t.regex(lines[0] ?? '', c.error, label);
      t.is(res.stdout, '', `${label}: prints no result`);
    }
    t.deepEqual(await recorded(), [], 'nothing recorded');
    t.deepEqual(await snapshot(stack), before, 'stack unchanged');
  });
});

test.serial('a container without the stack’s label is refused, by name and by id, and left alone', async (t) => {
  const image = 'faultline/base:bookworm';
  const docker = stack.docker;
  const plain = await docker.runDetached({
    image,
    entrypoint: ['sleep', '300'],
    cmd: [],
    labels: {},
    networkMode: 'none',
    name: `flfaults-foreign-${process.pid}`,
  });
  // Claims to be a faultline container, but of another stack: just as foreign.
  const other = await docker.runDetached({
    image,
    entrypoint: ['sleep', '300'],
    cmd: [],
    labels: { [LABEL.stack]: 'someone-else', [LABEL.component]: 'app' },
    networkMode: 'none',
  });
  t.teardown(async () => {
    await docker.remove(plain).catch(() => undefined);
    await docker.remove(other).catch(() => undefined);
  });
  const attempts: Array<[string[], string]> = [
    [['fault', 'inject', 'container-kill', '--target', `flfaults-foreign-${process.pid}`], plain],
    [['fault', 'inject', 'container-pause', '--target', `id=${plain.slice(0, 12)}`], plain],
    [['fault', 'inject', 'firewall-flush', '--target', plain.slice(0, 12)], plain],
    [['fault', 'inject', 'container-stop', '--target', other.slice(0, 12)], other],
  ];
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    for (const [args, id] of attempts) {
      const res = await runCli(args);
      t.is(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      const lines = errorLines(res.stderr);
      t.is(lines.length, 1, res.stderr);
      t.regex(lines[0] ?? '', new RegExp(`^faultline: container \\S+ does not belong to stack ${stack.project} `), res.stderr);
      t.regex(lines[0] ?? '', id === plain ? /its stack is not labelled/ : /its stack is "someone-else"/);
      const state = await docker.inspect(id);
      t.true(state.running && !state.paused, 'the foreign container is untouched');
    }
    t.deepEqual(await recorded(), []);
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('--dry-run prints the plan and changes nothing', async (t) => {
  const cases: string[][] = [
    ['container-kill', '--target', 'web1-app'],
    ['db-primary-kill'],
    ['cert-expired'],
    ['tls-legacy'],
    ['firewall-open-port', '--port', '3306'],
    ['net-partition', '--from', 'role=web', '--to', 'server=db-primary'],
    ['cpu-stress', '--target', 'server=web3'],
  ];
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const startedAt = async () =>
      Object.fromEntries(await Promise.all((await stack.containers()).map(async (c) => [c.service, (await stack.docker.inspect(c.id)).startedAt] as const)));
    const started = await startedAt();
    for (const args of cases) {
      const res = await runCli(['fault', 'inject', ...args, '--dry-run']);
      t.is(res.code, 0, res.stderr);
      t.regex(res.stdout, new RegExp(`^dry run: ${args[0]} would act on \\S+`), res.stdout);
      t.regex(res.stdout, /^ {2}1\. /m, 'numbered steps');
      t.regex(res.stdout, /revert: /, 'says how it would be undone');
      t.regex(res.stdout, /nothing was changed\n$/);
      await assertUnchanged(t, before);
    }
    t.deepEqual(await startedAt(), started, 'no container was (re)started');
  });
});

async function assertUnchanged(t: ExecutionContext, before: Awaited<ReturnType<typeof snapshot>>): Promise<void> {
  t.deepEqual(await recorded(), []);
  t.deepEqual(await helperContainers(stack), []);
  t.deepEqual(await snapshot(stack), before);
}
