// Issue 18 finding 8 on a stack faultline did not start: the shop fixture's nginx gate (config pointed at a new
// certificate, its own files mounted read-only, nginx under docker-init). A certificate fault whose holder never
// reverts is undone by the sleeper armed in the gate once the run's maximum duration has passed: the very files
// and the original certificate are back, and a later revert finds nothing to undo. Its own project and subnets.

import { itest as test } from '../helpers/stack.js';
import { SHOP_HOSTNAME, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { GATE_FILES, shopGate, type ShopGate } from '../helpers/shop-gate.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { createFaultContext, defaultRegistry, injectFault, type FaultContext } from '../../src/faults/index.js';
import { legacyHandshake } from '../../src/faults/tls-check.js';
import { retryUntil } from '../../src/util/retry.js';

const OPTIONS: ShopOptions = { project: 'shopswitch', httpsPort: 9746, frontPrefix: '10.219.61', backPrefix: '10.219.62' };

let gate: ShopGate;
let shop: ShopStack | undefined;
let ctx: FaultContext;
const docker = new DockerClient();

test.before(async (t) => {
  // A machine that has never built the fixture's images builds them first (a few minutes).
  t.timeout(20 * 60_000);
  gate = await shopGate(OPTIONS, docker);
  shop = gate.shop;
  // A run whose faults last at most 4 s: the switch fires then, as it would at hold + margin after a SIGKILL.
  ctx = { ...createFaultContext(gate.stack, { holdMs: 300_000 }), maxDurationMs: 4000 };
});

test.after.always(async () => {
  await shop?.down();
});

const served = () => gate.served();
const gateFiles = () => gate.gateFiles();

for (const fault of ['cert-expired', 'tls-legacy'] as const) {
  test.serial(`issue 18 finding 8: ${fault} on the nginx gate, never reverted, is undone by the switch in the gate`, async (t) => {
    const before = await gateFiles();
    const original = (await served()).certificate?.fingerprint256;
    t.truthy(original);
    const active = await injectFault(ctx, defaultRegistry().configure(fault), AbortSignal.timeout(60_000));
    t.teardown(() => active.revert());
    t.true((await active.check()).active, 'in effect');

    // Nobody reverts: the gate serves what it served before once the switch has fired (4 s, then nginx's reload).
    const tls10 = async () => (await legacyHandshake({ port: OPTIONS.httpsPort!, servername: SHOP_HOSTNAME }, 'TLSv1')).ok;
    await retryUntil(
      async () => (await served()).certificate?.fingerprint256 === original && !(await tls10()),
      (ok) => ok,
      { timeoutMs: 30_000, intervalMs: 1000, what: `the switch to undo ${fault}` },
    );
    const after = await gateFiles();
    for (const path of GATE_FILES) t.is(after[path], before[path], `${path} is byte for byte what it was`);
    t.is((await served()).authorizationError, null);
    t.is((await shop!.request('/healthz')).status, 200);

    // A later revert finds the gate whole and only tidies faultline's folder in it.
    await active.revert();
    t.deepEqual(await gateFiles(), before);
  });
}
