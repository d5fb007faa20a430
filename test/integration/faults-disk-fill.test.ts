// disk-fill against the shared reference stack. Its databases keep /var/lib/mysql on a volume of the host's disk, which
// disk-fill refuses (filling it would fill the machine); the fills here go to the primary's /dev/shm, a 64 MiB tmpfs
// of the same container: a writer there gets ENOSPC during the fault and writes again after the revert, after a
// SIGKILL followed by `faultline revert`, and with no revert at all (the sleeper in the container).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { exclusive, idOf, startCli } from '../helpers/faults.js';
import { deadMansSwitchMs } from '../../src/faults/index.js';
import { retryUntil } from '../../src/util/retry.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let db: string;

test.before(async () => {
  stack = await sharedStack();
  db = await idOf(stack, 'db-primary-mariadb');
});

const TARGET = ['--target', 'server=db-primary,component=mariadb', '--param', 'path=/dev/shm'];

/** What a writer of 1 MiB into the directory gets: ok, or the error it failed with. */
async function write(): Promise<string> {
  const res = await stack.docker.exec(db, [
    'sh',
    '-c',
    'dd if=/dev/zero of=/dev/shm/it-probe bs=1M count=1 2>&1 >/dev/null; r=$?; rm -f /dev/shm/it-probe; exit $r',
  ]);
  return res.exitCode === 0 ? 'ok' : res.stdout.trim() || res.stderr.trim();
}

async function fills(): Promise<string[]> {
  const res = await stack.docker.exec(db, ['sh', '-c', 'ls -a /dev/shm | grep faultline-fill || true']);
  return res.stdout.split('\n').filter(Boolean);
}

test.serial("the primary's data directory is on the host's disk: disk-fill refuses it in one line, exit 2, nothing written", async (t) => {
  const res = await runCli(['fault', 'inject', 'disk-fill', '--target', 'server=db-primary,component=mariadb', '--for', '5s']);
  t.is(res.code, 2, res.stdout + res.stderr);
  t.regex(res.stderr, /\/var\/lib\/mysql in db-primary-mariadb is on a \d+ GiB file system .*larger than max_fs_size 4\.00 GiB/);
});

test.serial('disk-fill to full: a writer gets ENOSPC during the fault and writes again after the revert (held, then Ctrl-C)', async (t) => {
  t.timeout(240_000);
  await exclusive(stack, async () => {
    t.is(await write(), 'ok');
    const h = startCli(['fault', 'inject', 'disk-fill', ...TARGET, '--for', '2m']);
    t.teardown(async () => {
      h.child.kill('SIGKILL');
      await runCli(['revert']);
    });
    await h.waitFor(/fault \S+ active after/, 120_000);
    t.regex(await write(), /No space left on device/);
    t.is((await fills()).length, 1);
    h.child.kill('SIGINT');
    await h.exited;
    t.is(await write(), 'ok');
    t.deepEqual(await fills(), []);
  });
});

test.serial('disk-fill to 50 %: df says half; SIGKILL, then `faultline revert` removes the file', async (t) => {
  t.timeout(240_000);
  await exclusive(stack, async () => {
    const h = startCli(['fault', 'inject', 'disk-fill', ...TARGET, '--param', 'percent=50', '--for', '2m']);
    t.teardown(async () => {
      h.child.kill('SIGKILL');
      await runCli(['revert']);
    });
    await h.waitFor(/fault \S+ active after/, 120_000);
    const df = await stack.docker.exec(db, ['df', '-P', '/dev/shm']);
    const pct = Number(/(\d+)%/.exec(df.stdout.split('\n')[1] ?? '')?.[1]);
    t.true(pct >= 49 && pct <= 52, df.stdout);
    t.is(await write(), 'ok', 'half full still takes a small write');
    h.child.kill('SIGKILL');
    await h.exited;
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
    t.deepEqual(await fills(), []);
  });
});

// Frozen (SIGSTOP), not killed, while the deadline runs: a dead holder's fault is taken by anyone's `faultline revert` on
// this shared stack, which would undo it before the sleeper could show it does. SIGKILLed once the sleeper fired.
test.serial('disk-fill held by a frozen, then SIGKILLed faultline, no revert: the sleeper in the container removes the file by the deadline', async (t) => {
  t.timeout(400_000);
  await exclusive(stack, async () => {
    const h = startCli(['fault', 'inject', 'disk-fill', ...TARGET, '--for', '5s']);
    t.teardown(async () => {
      h.child.kill('SIGKILL');
      await runCli(['revert']);
    });
    await h.waitFor(/fault \S+ active after/, 120_000);
    h.child.kill('SIGSTOP');
    const killedAt = Date.now();
    t.regex(await write(), /No space left on device/, 'the fault outlives what faultline does');
    const deadline = deadMansSwitchMs(5_000, 0); // `fault inject` holds exactly: no extension
    await retryUntil(fills, (f) => f.length === 0, { timeoutMs: deadline + 60_000, intervalMs: 5_000, what: 'the sleeper to remove the file' });
    t.true(Date.now() - killedAt >= deadline - 20_000, 'not undone long before the deadline');
    t.true((await readFile(join(stack.stateDir, 'faults.json'), 'utf8')).includes('"disk-fill"'), 'the record is still there: the sleeper did it, no revert');
    h.child.kill('SIGKILL');
    await h.exited;
    t.is(await write(), 'ok');
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
  });
});
