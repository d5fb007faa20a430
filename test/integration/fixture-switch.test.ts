// Issue 18 finding 8 on a stack faultline did not start: the shop fixture's nginx gate (config pointed at a new
// certificate, its own files mounted read-only, nginx under docker-init). A certificate fault whose holder never
// reverts is undone by the sleeper armed in the gate once the run's maximum duration has passed: the very files
// and the original certificate are back, and a later revert finds nothing to undo. Its own project and subnets.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { itest as test } from '../helpers/stack.js';
import { SHOP_HOSTNAME, shopStack, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { COMPOSE_PROJECT, DockerClient } from '../../src/stack/docker-client.js';
import { attachStack } from '../../src/stack/attach.js';
import { createFaultContext, defaultRegistry, injectFault, type FaultContext } from '../../src/faults/index.js';
import { handshake, legacyHandshake } from '../../src/faults/tls-check.js';
import { retryUntil } from '../../src/util/retry.js';
import { loadStackSpec } from '../../src/stack/spec.js';

const OPTIONS: ShopOptions = { project: 'shopswitch', httpsPort: 9746, frontPrefix: '10.219.61', backPrefix: '10.219.62' };
const GATE_FILES = ['/etc/shop/tls/gate.crt', '/etc/shop/tls/gate.key', '/etc/nginx/nginx.conf', '/etc/ssl/openssl.cnf'];

let shop: ShopStack | undefined;
let ctx: FaultContext;
let gateId: string;
let ca: string;
const docker = new DockerClient();

test.before(async (t) => {
  t.timeout(20 * 60_000);
  shop = await shopStack({ ...OPTIONS, log: (line) => console.log(line) });
  const spec = await loadStackSpec(shop.specFile, { ...process.env, ...shop.env });
  const stack = await attachStack({ spec }, docker);
  // A run whose faults last at most 4 s: the switch fires then, as it would at hold + margin after a SIGKILL.
  ctx = { ...createFaultContext(stack, { holdMs: 300_000 }), maxDurationMs: 4000 };
  const gate = (await docker.listContainers({ [COMPOSE_PROJECT]: shop.project })).find((c) => c.service === 'gate');
  if (!gate) throw new Error('no gate container');
  gateId = gate.id;
  ca = await readFile(shop.caPath, 'utf8');
});

test.after.always(async () => {
  await shop?.down();
});

const served = () => handshake({ port: OPTIONS.httpsPort!, servername: SHOP_HOSTNAME, ca });

async function gateFiles(): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const path of GATE_FILES) {
    const content = await docker.readFile(gateId, path);
    out[path] = content ? createHash('sha256').update(content).digest('hex') : null;
  }
  const left = await docker.exec(gateId, ['sh', '-c', 'ls /run/faultline 2>/dev/null || true']);
  out['/run/faultline'] = left.stdout.trim();
  return out;
}

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
