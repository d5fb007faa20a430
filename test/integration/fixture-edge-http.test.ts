// edge-abort on a stack faultline did not start: the shop fixture's nginx gate (stack.edge, kind nginx). A client with
// the fixture's CA and SNI sees the share of 503s over HTTPS while the fault is in place, none after the revert, and the
// gate's files are byte for byte what they were; edge-delay is refused on nginx in one line, nothing touched. Its own
// project, port and subnets, so it runs beside the other shop tests.

import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { itest as test } from '../helpers/stack.js';
import { SHOP_HOSTNAME, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { shopGate, type ShopGate } from '../helpers/shop-gate.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { createFaultContext, defaultRegistry, injectFault, type FaultContext } from '../../src/faults/index.js';

const OPTIONS: ShopOptions = { project: 'shophttp', httpsPort: 9745, frontPrefix: '10.219.43', backPrefix: '10.219.44' };
const N = 2000;

let gate: ShopGate;
let shop: ShopStack | undefined;
let ctx: FaultContext;
let ca: string;

test.before(async (t) => {
  t.timeout(20 * 60_000);
  gate = await shopGate(OPTIONS, new DockerClient());
  shop = gate.shop;
  ctx = createFaultContext(gate.stack, { holdMs: 300_000 });
  ca = await readFile(gate.shop.caPath, 'utf8');
});

test.after.always(async () => {
  await shop?.down();
});

/** The statuses of `n` GETs of /healthz over HTTPS on 8 keep-alive connections, verified with the fixture's CA. */
async function statuses(n: number): Promise<Array<number | string>> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca });
  const one = () =>
    new Promise<number | string>((resolve) => {
      https
        .get({ host: '127.0.0.1', port: OPTIONS.httpsPort, path: '/healthz', agent, servername: SHOP_HOSTNAME }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
  const out: Array<number | string> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        next += 1;
        out.push(await one());
      }
    }),
  );
  agent.destroy();
  return out;
}

test.serial('edge-abort 30 % on the nginx gate: about 30 % of HTTPS requests answered 503, none after the revert, the files as they were', async (t) => {
  t.timeout(300_000);
  const before = await gate.gateFiles();
  t.true((await statuses(100)).every((s) => s === 200));
  const active = await injectFault(ctx, defaultRegistry().configure('edge-abort', { params: { percent: 30 } }), AbortSignal.timeout(60_000));
  t.teardown(() => active.revert());
  t.true((await active.check()).active);
  const during = await statuses(N);
  const failed = during.filter((s) => s !== 200);
  const ratio = failed.length / N;
  t.log(`nginx gate: ${(ratio * 100).toFixed(2)} % of ${N} answered ${[...new Set(failed)].join(', ')}`);
  // nginx picks by a hash of the request id, so the share is a sample: ±4 pp is about 4 standard deviations at 2 000.
  t.true(Math.abs(ratio - 0.3) <= 0.04, `${(ratio * 100).toFixed(2)} %`);
  t.true(
    failed.every((s) => s === 503),
    'every failure is the 503 of the gate',
  );
  await active.revert();
  t.true(
    (await statuses(200)).every((s) => s === 200),
    'no failure after the revert',
  );
  t.deepEqual(await gate.gateFiles(), before, 'nginx.conf byte for byte, nothing left in /run/faultline');
});

test.serial('edge-delay on the nginx gate is refused in one line, nothing touched or recorded', async (t) => {
  const before = await gate.gateFiles();
  await t.throwsAsync(injectFault(ctx, defaultRegistry().configure('edge-delay'), AbortSignal.timeout(30_000)), {
    message: /edge-delay: stock nginx has no per-request delay/,
  });
  t.deepEqual(await gate.gateFiles(), before);
  t.deepEqual(await ctx.store.list(), [], 'nothing recorded');
});
