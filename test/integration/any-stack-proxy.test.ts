// The fault proxy on a stack faultline did not start: the shop fixture (test/fixtures/shop/), attached through its
// description, its servers named there (gate, api, store) and none of the reference stack's labels. Each effect is
// seen by a client of the shop (HTTPS through its gate, with the fixture's CA) or by the operator's own TCP connection
// to the store (the Docker host, which the store's firewall admits), never through the fault code: the gate → api :8080
// hop delayed, then a share of its requests aborted; the api → store :3306 hop reset, held by `faultline fault inject
// --stack` as a user runs it, and blackholed by a faultline that is then SIGKILLed and undone by `faultline revert
// --stack`. After each revert: the effect gone, every server's nftables ruleset as before, no helper
// left, nothing recorded, and the shop healthy by its own compose healthchecks. Its own project, port and subnets.

import net from 'node:net';
import type { ExecutionContext } from 'ava';
import { itest as test, runCli } from '../helpers/stack.js';
import { startCli } from '../helpers/faults.js';
import { shopStack, SHOP_SERVICES, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { COMPOSE_PROJECT, DockerClient, LABEL } from '../../src/stack/docker-client.js';
import { attachStack } from '../../src/stack/attach.js';
import { loadStackSpec } from '../../src/stack/spec.js';
import { createFaultContext, defaultRegistry, injectFault, type FaultContext } from '../../src/faults/index.js';
import { retryUntil } from '../../src/util/retry.js';

const OPTIONS: ShopOptions = { project: 'shopproxy', httpsPort: 9747, frontPrefix: '10.219.71', backPrefix: '10.219.72' };

const docker = new DockerClient();
let shop: ShopStack;
let ctx: FaultContext;
const registry = defaultRegistry();

test.before(async (t) => {
  t.timeout(10 * 60_000);
  shop = await shopStack({ ...OPTIONS, log: (line) => console.log(line) });
  // `startCli` runs faultline with this process's environment: the description's variables must be in it.
  Object.assign(process.env, shop.env);
  const spec = await loadStackSpec(shop.specFile, { ...process.env, ...shop.env });
  ctx = createFaultContext(await attachStack({ spec }, docker), { holdMs: 120_000 });
});

test.after.always(async () => {
  await shop?.down();
});

/** One HTTPS GET through the gate: its status, the fault header if any, and the client's time for it. */
async function get(path: string, timeoutMs = 5000): Promise<{ status: number; fault: string | undefined; ms: number }> {
  const started = performance.now();
  const res = await shop.request(path, { timeoutMs }).catch(() => ({ status: 0, headers: {} as Record<string, string | undefined> }));
  return { status: res.status, fault: res.headers['x-faultline-fault'] as string | undefined, ms: performance.now() - started };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The client times of `n` sequential GETs of /healthz, each answered 200: their median and their fastest. */
async function healthzMs(t: ExecutionContext, n = 7): Promise<{ median: number; min: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const r = await get('/healthz');
    t.is(r.status, 200);
    times.push(r.ms);
  }
  return { median: median(times), min: Math.min(...times) };
}

/** The statuses of `n` GETs of /healthz on 4 concurrent clients (a fresh TLS connection each: nothing pooled). */
async function statuses(n: number): Promise<Array<{ status: number; fault: string | undefined }>> {
  const out: Array<{ status: number; fault: string | undefined }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < n) {
        next += 1;
        out.push(await get('/healthz'));
      }
    }),
  );
  return out;
}

/**
 * A plain TCP connection from the test process to the store :3306 (MariaDB greets first): whether it connected, the
 * bytes the store sent within `waitMs`, and whether it was still open then (a blackhole: connected, silent, open).
 */
function dial(waitMs = 1500): Promise<{ connected: boolean; bytes: number; open: boolean }> {
  return new Promise((resolve) => {
    let connected = false;
    let bytes = 0;
    let open = false;
    const socket = net.connect({ host: shop.addresses.store, port: 3306 });
    const done = () => {
      socket.destroy();
      resolve({ connected, bytes, open });
    };
    socket.on('connect', () => {
      connected = true;
      open = true;
    });
    socket.setTimeout(waitMs, done);
    socket.on('data', (c: Buffer) => {
      bytes += c.length;
      done();
    });
    const closed = () => {
      open = false;
      done();
    };
    socket.on('error', closed);
    socket.on('close', closed);
  });
}

const greeting = async (waitMs?: number) => (await dial(waitMs)).bytes;

/** Every shop server's nftables ruleset and the helpers faultline runs for the project: what a revert must restore. */
async function network(): Promise<{ rules: Record<string, string>; helpers: string[] }> {
  const rules: Record<string, string> = {};
  for (const c of await docker.listContainers({ [COMPOSE_PROJECT]: shop.project }))
    rules[c.service] = (await docker.exec(c.id, ['nft', 'list', 'ruleset'])).stdout;
  const helpers = (await docker.listContainers({ [LABEL.stack]: shop.project }, true)).map((c) => c.name);
  return { rules, helpers };
}

/** The shop whole: every service healthy by its compose healthcheck, /healthz 200, nothing recorded as injected. */
async function whole(t: ExecutionContext, before: Awaited<ReturnType<typeof network>>) {
  const healthy = await retryUntil(
    async () => {
      const list = await docker.listContainers({ [COMPOSE_PROJECT]: shop.project });
      return SHOP_SERVICES.every((s) => list.some((c) => c.service === s && c.state === 'running' && c.health === 'healthy'));
    },
    (ok) => ok,
    { timeoutMs: 30_000, intervalMs: 2000 },
  ).catch(() => false);
  t.true(healthy, 'gate, api and store healthy by their own healthchecks');
  t.is((await get('/healthz')).status, 200);
  t.deepEqual(await ctx.store.list(), [], 'nothing recorded as injected');
  t.deepEqual(await network(), before, 'nftables rulesets as before, no helper left');
}

test.serial('proxy-latency 200 ms on the api (gate → api :8080, by its described server name): the client sees it, and not after revert', async (t) => {
  t.timeout(120_000);
  const before = await network();
  const base = await healthzMs(t);
  const fault = await injectFault(
    ctx,
    registry.configure('proxy-latency', { target: 'server=api', params: { port: 8080, delay: '200ms' } }),
    AbortSignal.timeout(60_000),
  );
  t.teardown(() => fault.revert());
  t.true((await fault.check()).active);
  const during = await healthzMs(t);
  await fault.revert();
  const after = await healthzMs(t);
  t.log(`/healthz median: ${base.median.toFixed(1)} ms before, ${during.median.toFixed(1)} ms during, ${after.median.toFixed(1)} ms after`);
  // The proxy holds the api's answer 200 ms: no request is faster (its timers fire late on a busy machine, never early).
  t.true(during.min >= 195, `the fastest answer during the fault took ${during.min.toFixed(1)} ms`);
  t.true(during.median - base.median < 400, `added ${(during.median - base.median).toFixed(1)} ms at the median`);
  t.true(after.median < Math.max(base.median + 100, 150), `${after.median.toFixed(1)} ms after the revert (${base.median.toFixed(1)} ms before)`);
  await whole(t, before);
});

test.serial('http-abort 30 % on the web role (the api :8080): about 30 % of HTTPS requests answered 503 by the proxy, none after revert', async (t) => {
  t.timeout(120_000);
  const before = await network();
  const fault = await injectFault(ctx, registry.configure('http-abort', { params: { port: 8080, ratio: '30%' } }), AbortSignal.timeout(60_000));
  t.teardown(() => fault.revert());
  t.deepEqual(
    fault.record.targets.map((x) => x.server),
    ['api'],
    'the default target all:role=web is the api, by the description',
  );
  const during = await statuses(300);
  await fault.revert();
  const failed = during.filter((r) => r.status !== 200);
  const ratio = failed.length / during.length;
  t.log(`${failed.length} of ${during.length} aborted (${(ratio * 100).toFixed(1)} %)`);
  // A binomial sample of 300 at 30 %: ±8 pp is about three standard deviations.
  t.true(Math.abs(ratio - 0.3) <= 0.08, `${(ratio * 100).toFixed(1)} %`);
  t.true(
    failed.every((r) => r.status === 503 && r.fault === 'http-abort'),
    `every failure is the proxy's 503: ${JSON.stringify(failed.filter((r) => r.fault !== 'http-abort').slice(0, 5))}`,
  );
  t.true(
    (await statuses(60)).every((r) => r.status === 200),
    'no abort after the revert',
  );
  await whole(t, before);
});

test.serial(
  'proxy-reset on the store :3306 through `faultline fault inject --stack`: orders fail with 503, the operator gets no greeting; both back after',
  async (t) => {
    t.timeout(120_000);
    const before = await network();
    t.true((await greeting()) > 0, 'the store greets the operator before');
    t.is((await get('/orders?prefix=proxy-it-')).status, 200);
    // Held longer than the checks need; Ctrl-C (SIGINT) reverts at once, as a user ends it.
    const cli = startCli(['fault', 'inject', 'proxy-reset', '--stack', shop.specFile, '--target', 'server=store', '--param', 'port=3306', '--for', '2m']);
    t.teardown(async () => {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
      cli.child.kill('SIGINT');
      await cli.exited;
    });
    await cli.waitFor(/fault \S+ active after/, 60_000);
    t.is(await greeting(), 0, 'the operator is reset before any greeting');
    const orders = await Promise.all(Array.from({ length: 5 }, () => get('/orders?prefix=proxy-it-')));
    t.deepEqual(
      orders.map((r) => r.status),
      [503, 503, 503, 503, 503],
      'the api cannot reach the store',
    );
    cli.child.kill('SIGINT');
    await cli.exited;
    t.regex(cli.output().stdout + cli.output().stderr, /fault proxy-reset-\S+ reverted/);
    t.true((await greeting()) > 0, 'the store greets again');
    // The api's pool reconnects on its next query.
    const back = await retryUntil(
      async () => (await get('/orders?prefix=proxy-it-')).status,
      (s) => s === 200,
      { timeoutMs: 10_000, intervalMs: 500 },
    ).catch(() => 0);
    t.is(back, 200, 'orders served again');
    await whole(t, before);
  },
);

test.serial('proxy-timeout on the store :3306, faultline SIGKILLed while holding it: `faultline revert --stack` undoes it from a fresh process', async (t) => {
  t.timeout(120_000);
  const before = await network();
  const cli = startCli(['fault', 'inject', 'proxy-timeout', '--stack', shop.specFile, '--target', 'server=store', '--param', 'port=3306', '--for', '2m']);
  t.teardown(async () => {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await runCli(['revert', '--stack', shop.specFile], { env: shop.env });
  });
  await cli.waitFor(/fault \S+ active after/, 60_000);
  cli.child.kill('SIGKILL');
  await cli.exited;
  // Nobody reverted: the helper holds the blackhole (accepted, then nothing either way).
  t.deepEqual(await dial(), { connected: true, bytes: 0, open: true }, 'the store accepts and stays silent');
  const revert = await runCli(['revert', '--stack', shop.specFile], { env: shop.env });
  t.is(revert.code, 0, revert.stderr);
  t.regex(revert.stdout + revert.stderr, /proxy-timeout-\S+/);
  t.true((await greeting()) > 0, 'the store greets again');
  await whole(t, before);
});
