// edge-abort and edge-delay against the shared reference stack's HAProxy, seen by a client over HTTPS
// (https://localhost:8443, verified against the stack's CA): the share of failed and delayed requests during the
// fault, nothing of it after revert, and the stack whole after the holder's revert, after a SIGKILL followed by
// `faultline revert`, and with no revert at all (the switch armed in the edge).

import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { exclusive, snapshot, startCli, type StackSnapshot } from '../helpers/faults.js';
import { deadMansSwitchMs } from '../../src/faults/index.js';
import { retryUntil } from '../../src/util/retry.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let ca: string;

test.before(async () => {
  stack = await sharedStack();
  ca = (await stack.ca())!;
});

interface Outcome {
  status: number | string;
  ms: number;
  body: string;
}

/** `n` GETs of `path` over HTTPS on `concurrency` keep-alive connections, as a client of the stack would send them. */
async function requests(n: number, path: string, concurrency = 16): Promise<Outcome[]> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const one = () =>
    new Promise<Outcome>((resolve) => {
      const t0 = performance.now();
      https
        .get({ host: '127.0.0.1', port: stack.options.httpsPort, path, agent, servername: 'localhost' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body }));
        })
        .on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', ms: performance.now() - t0, body: '' }));
    });
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        out.push(await one());
      }
    }),
  );
  agent.destroy();
  return out;
}

const share = (xs: Outcome[], f: (o: Outcome) => boolean) => xs.filter(f).length / xs.length;
/**
 * What the fault changes (the LB's files, the certificate it serves): the switch's wait is long on a stack other
 * engineers use, so the rest of the snapshot may change meanwhile for reasons of theirs.
 */
const edgeOf = (s: StackSnapshot) => ({ lbFiles: s.lbFiles, fingerprint: s.fingerprint });

test.serial('edge-abort 30 % of /whoami: 30 % ± 2 pp of 4 000 HTTPS requests answered 503 by the edge, none after the revert', async (t) => {
  t.timeout(300_000);
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const h = startCli(['fault', 'inject', 'edge-abort', '--param', 'percent=30', '--param', 'path=/whoami', '--for', '3m']);
    t.teardown(async () => {
      h.child.kill('SIGKILL');
      await runCli(['revert']);
    });
    await h.waitFor(/fault \S+ active after/, 120_000);
    const during = await requests(4000, '/whoami');
    const failed = share(during, (o) => o.status !== 200);
    t.log(`failure ratio ${(failed * 100).toFixed(2)} % of ${during.length}`);
    t.true(Math.abs(failed - 0.3) <= 0.02, `${(failed * 100).toFixed(2)} %`);
    t.true(
      during.filter((o) => o.status !== 200).every((o) => o.status === 503 && o.body === 'faultline edge-abort'),
      'every failure is the edge answer',
    );
    // Another path is not touched.
    t.is(
      share(await requests(200, '/health'), (o) => o.status !== 200),
      0,
    );
    // Ctrl-C: the holder reverts at once.
    h.child.kill('SIGINT');
    await h.exited;
    t.is(
      share(await requests(400, '/whoami'), (o) => o.status !== 200),
      0,
      'no failure after the revert',
    );
    t.deepEqual(await snapshot(stack), before, 'the LB config byte for byte, no record, no helper');
  });
});

test.serial('edge-delay 30 % by 300 ms: about a third of HTTPS requests 300 ms slower; SIGKILL, then `faultline revert`: the stack whole', async (t) => {
  t.timeout(300_000);
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const h = startCli(['fault', 'inject', 'edge-delay', '--param', 'percent=30', '--param', 'delay=300ms', '--for', '3m']);
    t.teardown(async () => {
      h.child.kill('SIGKILL');
      await runCli(['revert']);
    });
    await h.waitFor(/fault \S+ active after/, 120_000);
    const during = await requests(600, '/whoami', 8);
    const slow = share(during, (o) => o.ms >= 290);
    t.log(`delayed ≥ 290 ms: ${(slow * 100).toFixed(1)} % of ${during.length}`);
    t.true(slow >= 0.25 && slow <= 0.4, `${(slow * 100).toFixed(1)} %`);
    // The delay itself fails nothing; on this shared stack another engineer's fault on the web tier (a proxy's resets)
    // may fail a few meanwhile (seen: 14 of 600, ECONNRESET and 502, while proxy-slow-close was held on web1).
    const failed = during.filter((o) => o.status !== 200).map((o) => o.status);
    if (failed.length) t.log(`failed meanwhile: ${JSON.stringify(failed)}`);
    t.true(failed.length / during.length <= 0.03, `delayed, not failed: ${JSON.stringify(failed)}`);
    h.child.kill('SIGKILL');
    await h.exited;
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
    const after = await requests(300, '/whoami', 8);
    t.true(share(after, (o) => o.ms >= 290) < 0.05, 'the delay is gone');
    t.deepEqual(await snapshot(stack), before, 'the LB config byte for byte, no record, no helper');
  });
});

// The holder is frozen (SIGSTOP) rather than killed while the switch's deadline runs: a dead holder's fault is taken by
// anyone's `faultline revert` (the stack is shared, and other tests' teardowns run it), which would undo the fault before
// the switch could show it does. Frozen, it is alive to them and does nothing itself; it is SIGKILLed once the switch fired.
test.serial('edge-abort held by a frozen, then SIGKILLed faultline, no revert: the switch in the edge puts the config back by the deadline', async (t) => {
  t.timeout(400_000);
  await exclusive(stack, async () => {
    const before = await snapshot(stack);
    const h = startCli(['fault', 'inject', 'edge-abort', '--param', 'percent=100', '--param', 'path=/whoami', '--for', '5s']);
    t.teardown(async () => {
      h.child.kill('SIGKILL');
      await runCli(['revert']);
    });
    await h.waitFor(/fault \S+ active after/, 120_000);
    h.child.kill('SIGSTOP');
    const killedAt = Date.now();
    t.is(
      share(await requests(50, '/whoami'), (o) => o.status === 503),
      1,
      'the fault outlives what faultline does',
    );
    const deadline = deadMansSwitchMs(5_000, 0); // `fault inject` holds exactly: no extension
    await retryUntil(
      async () => edgeOf(await snapshot(stack)),
      (s) => JSON.stringify(s) === JSON.stringify(edgeOf(before)),
      { timeoutMs: deadline + 60_000, intervalMs: 5_000, what: 'the switch to put the config back' },
    );
    const elapsed = Date.now() - killedAt;
    // Checked first: when the record is gone, another process reverted the fault and the switch showed nothing.
    t.true(
      (await readFile(join(stack.stateDir, 'faults.json'), 'utf8')).includes('"edge-abort"'),
      `the record is still there after ${elapsed} ms: no revert did it`,
    );
    t.true(elapsed >= deadline - 20_000, `not undone long before the deadline (${elapsed} ms after the holder froze)`);
    h.child.kill('SIGKILL');
    await h.exited;
    t.is(
      share(await requests(200, '/whoami'), (o) => o.status !== 200),
      0,
      'no failure once the switch fired',
    );
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
    t.deepEqual(edgeOf(await snapshot(stack)), edgeOf(before));
  });
});
