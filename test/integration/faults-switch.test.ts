// Issue 18 finding 8, against the shared reference stack: one fault of every kind held by a faultline that is
// SIGKILLed, and nobody runs `faultline revert`. Once the dead man's switches' deadline has passed (hold + the
// longest extension + the margin, engine.ts deadMansSwitchMs) the stack is whole again by itself.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { exclusive, idOf, snapshot, startCli, type HeldCli, type StackSnapshot } from '../helpers/faults.js';
import { deadMansSwitchMs } from '../../src/faults/index.js';
import { handshake } from '../../src/faults/tls-check.js';
import { retryUntil } from '../../src/util/retry.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let ca: string;

test.before(async () => {
  stack = await sharedStack();
  ca = (await stack.ca())!;
});

/** The faults recorded in the state file, read directly. */
async function recorded(): Promise<string[]> {
  const text = await readFile(join(stack.stateDir, 'faults.json'), 'utf8').catch(() => '{"faults":[]}');
  return (JSON.parse(text) as { faults: Array<{ fault: string }> }).faults.map((f) => f.fault).sort();
}

/** The stack itself, without faultline's own bookkeeping (the records stay until someone runs `faultline revert`). */
function whole(s: StackSnapshot): Omit<StackSnapshot, 'faultsJson'> {
  const { faultsJson: _records, network, ...rest } = s;
  // Servers in a fixed order, so two snapshots compare as text too.
  return { ...rest, network: Object.fromEntries(Object.entries(network).sort(([a], [b]) => a.localeCompare(b))) };
}

// Long enough for all six injections to finish before the first one's switch fires.
const HOLD = '30s';
const HOLD_MS = 30_000;

// Short holds; each holder is killed as soon as its fault is in effect, well before its own revert would come.
const FAULTS: Array<{ kind: string; args: string[] }> = [
  { kind: 'process (kill)', args: ['container-kill', '--target', 'service=web3-nginx'] },
  { kind: 'process (pause)', args: ['container-pause', '--target', 'service=web2-nginx'] },
  { kind: 'firewall', args: ['firewall-open-port', '--target', 'server=db-primary', '--port', '3306'] },
  { kind: 'certificate', args: ['cert-expired'] },
  { kind: 'resource', args: ['cpu-stress', '--target', 'server=db-replica', '--param', 'workers=1', '--param', 'load=10'] },
  { kind: 'network', args: ['net-loss', '--target', 'server=monitor', '--loss', '1%'] },
];

test.serial(
  "issue 18 finding 8: faultline SIGKILLed while holding a fault of every kind, no `faultline revert`: after the switches' deadline the stack is whole",
  async (t) => {
    t.timeout(600_000);
    await exclusive(stack, async () => {
      const before = await snapshot(stack);
      const held: HeldCli[] = [];
      t.teardown(async () => {
        for (const h of held) h.child.kill('SIGKILL');
        await runCli(['revert', '--all']);
      });
      // One at a time: each holder is killed the moment its fault is in effect (its own hold never ends).
      for (const f of FAULTS) {
        const h = startCli(['fault', 'inject', ...f.args, '--for', HOLD]);
        held.push(h);
        await h.waitFor(/fault \S+ active after/, 120_000);
        h.child.kill('SIGKILL');
        t.is((await h.exited).signal, 'SIGKILL', f.kind);
      }
      const killedAt = Date.now();
      t.deepEqual(await recorded(), ['container-kill', 'container-pause', 'cert-expired', 'cpu-stress', 'firewall-open-port', 'net-loss'].sort());

      // Everything outlived faultline, seen directly.
      const web2 = await idOf(stack, 'web2-nginx');
      const web3 = await idOf(stack, 'web3-nginx');
      t.true((await stack.docker.inspect(web2)).paused, 'web2-nginx frozen');
      t.false((await stack.docker.inspect(web3)).running, 'web3-nginx down');
      t.is((await handshake({ port: stack.options.httpsPort, ca })).authorizationError, 'CERT_HAS_EXPIRED');
      const during = await snapshot(stack);
      t.notDeepEqual(during.network, before.network, 'firewall hole and qdisc in place');
      t.true(during.helpers >= 3, 'switches, stress-ng and netem helpers are running');

      // No revert of any kind: wait for the deadline (the switch of the last one armed is the latest).
      const deadline = deadMansSwitchMs(HOLD_MS, 0); // `fault inject` holds exactly: no extension
      const now = await retryUntil(
        async () => whole(await snapshot(stack)),
        (s) => JSON.stringify(s) === JSON.stringify(whole(before)) || Date.now() - killedAt > deadline + 45_000,
        { timeoutMs: deadline + 60_000, intervalMs: 5_000, what: 'the switches to undo every fault' },
      );
      t.deepEqual(now, whole(before), 'firewall rules, qdiscs, container states, certificate files and fingerprint as before; no helper left');
      t.true(Date.now() - killedAt >= deadline - 15_000, 'not undone long before the deadline (a holder may still want it)');
      t.falsy((await handshake({ port: stack.options.httpsPort, ca })).authorizationError, 'the original certificate is served and trusted');

      // The records are faultline's; a later revert finds the stack already whole and only clears them.
      const revert = await runCli(['revert', '--all']);
      t.is(revert.code, 0, revert.stderr);
      t.deepEqual(await recorded(), []);
      t.deepEqual(await snapshot(stack), before);
    });
  },
);
