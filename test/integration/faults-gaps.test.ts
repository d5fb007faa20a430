// The review's gaps in the fault lifecycle, on the real stack through the CLI where a user would meet them:
// a revert that fails after Ctrl-C, a closed terminal, an LB that is down at revert time, a qdisc that was
// there before, a vantage container of a killed faultline, and a private key in --json output.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { exclusive, faultContext, hostOf, idOf, snapshot, startCli } from '../helpers/faults.js';
import { defaultRegistry, injectFault, LB_FILES, revertRecorded } from '../../src/faults/index.js';
import { LABEL } from '../../src/stack/docker-client.js';
import { retryUntil } from '../../src/util/retry.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;

test.before(async () => {
  stack = await sharedStack();
});

const recorded = async () => readFile(join(stack.stateDir, 'faults.json'), 'utf8').catch(() => '');

async function waitHealthy(service: string): Promise<void> {
  await retryUntil(
    async () => (await stack.containers()).find((c) => c.service === service),
    (c) => c?.state === 'running' && (c.health === 'healthy' || c.health === 'none'),
    { timeoutMs: 60_000, intervalMs: 250, what: `${service} healthy` },
  );
}

test.serial('item 1: Ctrl-C whose revert fails exits 4 and says what is left, never "reverted"', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const web3 = await hostOf(stack, 'web3');
    const held = startCli(['fault', 'inject', 'firewall-open-port', '--target', 'server=web3', '--port', '9999', '--for', '5m']);
    t.teardown(async () => {
      held.child.kill('SIGKILL');
      await stack.docker.exec(web3, ['sh', '-c', 'test -e /usr/sbin/nft.off && mv /usr/sbin/nft.off /usr/sbin/nft; true']);
      await runCli(['revert', '--all']);
    });
    await held.waitFor(/fault \S+ active after/, 60_000);
    // The revert's nft is gone: the restore cannot run.
    await stack.docker.exec(web3, ['mv', '/usr/sbin/nft', '/usr/sbin/nft.off']);
    held.child.kill('SIGINT');
    const exit = await held.exited;
    const { stderr } = held.output();
    t.is(exit.code, 4, stderr);
    t.notRegex(stderr, /reverted after interrupt/);
    t.regex(stderr, /could not be reverted; it is still in effect/);
    t.regex(stderr, /faultline revert --all/);
    t.regex(await recorded(), /firewall-open-port/, 'still recorded for `faultline revert`');

    await stack.docker.exec(web3, ['mv', '/usr/sbin/nft.off', '/usr/sbin/nft']);
    const revert = await runCli(['revert', '--all']);
    t.is(revert.code, 0, revert.stderr);
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('item 15: a closed terminal (SIGHUP) reverts the held fault and exits 130', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const nginx = await idOf(stack, 'web3-nginx');
    const held = startCli(['fault', 'inject', 'container-pause', '--target', 'service=web3-nginx', '--for', '5m']);
    t.teardown(async () => {
      held.child.kill('SIGKILL');
      await runCli(['revert', '--all']);
    });
    await held.waitFor(/fault \S+ active after/, 60_000);
    t.true((await stack.docker.inspect(nginx)).paused);
    held.child.kill('SIGHUP');
    const exit = await held.exited;
    t.is(exit.signal, null, 'not killed by the hang-up');
    t.is(exit.code, 130, held.output().stderr);
    t.false((await stack.docker.inspect(nginx)).paused, 'unfrozen');
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('item 5: cert-weak-key reverted while HAProxy is stopped puts back openssl.cnf and the certificate', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const lb = await idOf(stack, 'lb-haproxy');
    const ctx = faultContext(stack);
    const registry = defaultRegistry();
    t.teardown(async () => {
      await stack.docker.start(lb).catch(() => undefined);
      await revertRecorded(ctx, registry, { all: true });
    });
    await injectFault(ctx, registry.configure('cert-weak-key'), AbortSignal.timeout(60_000));
    t.regex((await stack.docker.readFile(lb, LB_FILES.openssl))!.toString(), /SECLEVEL=0/);
    await stack.docker.stop(lb, 2);
    const summary = await revertRecorded(ctx, registry, { all: true });
    t.is(summary.failed.length, 0, summary.failed.map((f) => f.error.message).join());
    // Seen in the stopped container, before anything starts it again.
    t.notRegex((await stack.docker.readFile(lb, LB_FILES.openssl))!.toString(), /faultline_ssl|SECLEVEL=0/);
    const stopped = await snapshot(stack);
    t.deepEqual(stopped.lbFiles, before.lbFiles, 'certificate, config and openssl.cnf byte for byte');
    await stack.docker.start(lb);
    await waitHealthy('lb-haproxy');
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('item 5: an LB restarted with cert-sha1 still in place starts with the pristine openssl.cnf', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const lb = await idOf(stack, 'lb-haproxy');
    const ctx = faultContext(stack);
    const registry = defaultRegistry();
    t.teardown(async () => {
      await revertRecorded(ctx, registry, { all: true });
    });
    await injectFault(ctx, registry.configure('cert-sha1'), AbortSignal.timeout(60_000));
    await stack.docker.restart(lb, 2); // not through faultline: the record stays
    await waitHealthy('lb-haproxy');
    t.notRegex((await stack.docker.readFile(lb, LB_FILES.openssl))!.toString(), /faultline_ssl/);
    const summary = await revertRecorded(ctx, registry, { all: true });
    t.is(summary.failed.length, 0, summary.failed.map((f) => f.error.message).join());
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('item 16: no private key in the state file nor in `fault inject --json` / `fault status --json`', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const held = startCli(['fault', 'inject', 'cert-self-signed', '--json', '--for', '5m']);
    t.teardown(async () => {
      held.child.kill('SIGKILL');
      await runCli(['revert', '--all']);
    });
    await held.waitFor(/^\{.*\}$/m, 60_000);
    const status = await runCli(['fault', 'status', '--json']);
    const texts = { inject: held.output().stdout, status: status.stdout, 'faults.json': await recorded() };
    for (const [what, text] of Object.entries(texts)) {
      const base64 = [...text.matchAll(/"([A-Za-z0-9+/]{64,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1'));
      t.false(text.includes('PRIVATE KEY') || base64.some((b) => b.includes('PRIVATE KEY')), `${what} holds a private key`);
    }
    held.child.kill('SIGINT');
    t.is((await held.exited).code, 130);
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('item 10: net-latency on a server that has a root qdisc of its own fails cleanly and leaves that qdisc alone', async (t) => {
  await exclusive(stack, async () => {
    const host = await hostOf(stack, 'db-replica');
    const qdisc = async () => (await stack.docker.exec(host, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).stdout;
    const add = await stack.docker.exec(host, ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'pfifo']);
    t.is(add.exitCode, 0, add.stderr);
    t.teardown(async () => {
      await stack.docker.exec(host, ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
    });
    const users = await qdisc();
    const before = await snapshot(stack);
    const res = await runCli(['fault', 'inject', 'net-latency', '--target', 'server=db-replica', '--for', '5s']);
    t.not(res.code, 0);
    t.regex(res.stderr, /already has a root qdisc that is not faultline's|no netem/);
    t.is(await qdisc(), users, "the user's qdisc is still there");
    t.deepEqual(await snapshot(stack), before);
  });
});

test.serial('item 7: the vantage container of a SIGKILLed `probe exposure` is labelled, and `revert` removes it', async (t) => {
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const held = startCli(['probe', 'exposure', '--json']);
    t.teardown(() => held.child.kill('SIGKILL'));
    const vantage = await retryUntil(
      async () => (await stack.containers()).filter((c) => c.role === 'vantage'),
      (list) => list.length > 0,
      { timeoutMs: 60_000, intervalMs: 50, what: 'a vantage container' },
    );
    held.child.kill('SIGKILL');
    await held.exited;
    t.is(vantage[0]!.labels[LABEL.helper], 'vantage');
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
    t.deepEqual(
      (await stack.containers()).filter((c) => c.role === 'vantage'),
      [],
      'gone (removed by revert, or by itself when done)',
    );
    t.deepEqual(await snapshot(stack), before);
  });
});
