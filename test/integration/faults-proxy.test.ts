// The fault proxy and the narrowed network faults against the shared reference stack (issue 22 items 1, 3, 4). Every
// effect is seen from inside another server's network namespace (curl and nc in its host container, timed by curl or
// the shell there), never through the fault code: the LB → web :80 hop from the LB, the app → database :3306 hop from
// web1. After each revert the servers' nftables rules and qdiscs are as before and no helper is left; a faultline
// SIGKILLed while holding a proxy fault is undone by `faultline revert` and, without it, by the helper's own switch.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { itest as test, runCli, sharedStack } from '../helpers/stack.js';
import { exclusive, faultContext, helperContainers, hostOf, startCli, snapshot } from '../helpers/faults.js';
import { deadMansSwitchMs, defaultRegistry, injectFault, type ActiveFault, type FaultContext } from '../../src/faults/index.js';
import { retryUntil } from '../../src/util/retry.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let ctx: FaultContext;
const registry = defaultRegistry();
const ip: Record<string, string> = {};
const host: Record<string, string> = {};

test.before(async () => {
  stack = await sharedStack();
  ctx = faultContext(stack);
  for (const c of await stack.containers()) {
    if (c.component !== 'host' || !c.server) continue;
    const addr = Object.values(c.addresses).find((a) => a.startsWith(`${stack.options.netPrefix}.`));
    if (addr) ip[c.server] = addr;
    host[c.server] = await hostOf(stack, c.server);
  }
});

/** Runs shell in a server's host container; its stdout. */
async function sh(server: string, script: string): Promise<string> {
  return (await stack.docker.exec(host[server]!, ['sh', '-c', script])).stdout.trim();
}

/** An HTTP request from `from` to `to`:80 as curl sees it: status and seconds (000 and curl's exit on failure). */
async function http(from: string, to: string, path = '/health', extra = ''): Promise<{ status: string; seconds: number }> {
  const out = await sh(from, `curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 ${extra} http://${ip[to]}${path}; echo " $?"`);
  const [status = '', seconds = '0'] = out.split(' ');
  return { status, seconds: Number(seconds) };
}

/** The bytes a server's greeting has when `from` connects to `to`:`port` and waits `wait` s (MariaDB greets first). */
async function greeting(from: string, to: string, port: number, wait = 2): Promise<number> {
  return Number(await sh(from, `timeout ${wait + 1} nc -w ${wait} ${ip[to]} ${port} </dev/null 2>/dev/null | wc -c`));
}

/** The network of every server (nft rules, qdiscs) and the helpers: what must be as before after a revert. */
async function networkState() {
  const s = await snapshot(stack);
  return { network: s.network, helpers: (await helperContainers(stack)).length };
}

async function inject(name: string, target: string | undefined, params: Record<string, unknown>): Promise<ActiveFault> {
  return injectFault(ctx, registry.configure(name, { ...(target ? { target } : {}), params }), AbortSignal.timeout(180_000));
}

/** Injects, checks the effect, reverts, checks it is gone and the network is as it was. */
async function around(
  t: ExecutionContext,
  name: string,
  target: string | undefined,
  params: Record<string, unknown>,
  during: (f: ActiveFault) => Promise<unknown>,
  after: () => Promise<unknown>,
) {
  await exclusive(stack, async () => {
    const before = await networkState();
    const fault = await inject(name, target, params);
    try {
      t.true((await fault.check()).active, `${name} in effect`);
      await during(fault);
    } finally {
      await fault.revert();
    }
    await after();
    t.deepEqual(await networkState(), before, `${name}: rules, qdiscs and helpers as before`);
  });
}

test.serial('proxy-latency 200 ms on web1:80: the LB sees each answer 200 ms later, and not after revert', async (t) => {
  t.timeout(300_000);
  const base = (await http('lb', 'web1')).seconds;
  await around(
    t,
    'proxy-latency',
    'server=web1',
    { port: 80, delay: '200ms' },
    async () => {
      const r = await http('lb', 'web1');
      t.is(r.status, '200');
      t.true(r.seconds >= 0.19 && r.seconds < base + 0.4, `${r.seconds} s through the proxy (${base} s without)`);
      t.true((await http('lb', 'web2')).seconds < 0.15, 'web2 is not delayed');
    },
    async () => t.true((await http('lb', 'web1')).seconds < 0.15, 'no delay after revert'),
  );
});

test.serial('proxy-bandwidth 100 kB/s upstream on web1:80: a 200 kB upload takes 2 s, and not after revert', async (t) => {
  t.timeout(300_000);
  const upload = "head -c 200000 /dev/zero | curl -s -o /dev/null -w '%{time_total}' --max-time 10 --data-binary @- http://";
  await around(
    t,
    'proxy-bandwidth',
    'server=web1',
    { port: 80, rate: '100k', stream: 'up' },
    async () => {
      const s = Number(await sh('lb', `${upload}${ip.web1}/items`));
      t.true(s >= 1.8 && s < 3, `${s} s for 200 kB at 100 kB/s`);
    },
    async () => t.true(Number(await sh('lb', `${upload}${ip.web1}/items`)) < 1, 'full speed after revert'),
  );
});

test.serial('proxy-reset on db-primary:3306 with peer=server=web1: web1 is reset, web2 still gets the greeting', async (t) => {
  t.timeout(300_000);
  t.true((await greeting('web1', 'db-primary', 3306)) > 0, 'greeting before');
  await around(
    t,
    'proxy-reset',
    'server=db-primary',
    { port: 3306, peer: 'server=web1' },
    async () => {
      t.is(await greeting('web1', 'db-primary', 3306), 0, 'web1 reset');
      t.true((await greeting('web2', 'db-primary', 3306)) > 0, 'web2 is not diverted');
    },
    async () => t.true((await greeting('web1', 'db-primary', 3306)) > 0, 'greeting after revert'),
  );
});

test.serial('proxy-timeout on db-primary:3306: accepted, then nothing for 2 s', async (t) => {
  t.timeout(300_000);
  await around(
    t,
    'proxy-timeout',
    'server=db-primary',
    { port: 3306 },
    async () => {
      const r = await sh('web1', `nc -z -w 1 ${ip['db-primary']} 3306; echo $?`);
      t.is(r, '0', 'the connection is accepted');
      t.is(await greeting('web1', 'db-primary', 3306), 0, 'no greeting');
    },
    async () => t.true((await greeting('web1', 'db-primary', 3306)) > 0),
  );
});

test.serial('proxy-slow-close 1.5 s on web1:80: an HTTP/1.0 exchange closes 1.5 s after the answer', async (t) => {
  t.timeout(300_000);
  const exchange = `s=$(date +%s%N); printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${'IP'} 80 >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 ))`;
  await around(
    t,
    'proxy-slow-close',
    'server=web1',
    { port: 80, delay: '1500ms' },
    async () => {
      const ms = Number(await sh('lb', exchange.replace('IP', ip.web1!)));
      t.true(ms >= 1450 && ms < 3000, `closed after ${ms} ms`);
    },
    async () => t.true(Number(await sh('lb', exchange.replace('IP', ip.web1!))) < 1000),
  );
});

test.serial('http-abort on web1:80 for /health: 503 there, /whoami untouched; gone after revert', async (t) => {
  t.timeout(300_000);
  await around(
    t,
    'http-abort',
    'server=web1',
    { path: '/health', status: 503 },
    async () => {
      t.is((await http('lb', 'web1', '/health')).status, '503');
      t.is((await http('lb', 'web1', '/whoami')).status, '200', 'another path passes');
    },
    async () => t.is((await http('lb', 'web1', '/health')).status, '200'),
  );
});

test.serial('http-delay 300 ms on web1:80 for GET only; http-reset on web1:80 resets every request', async (t) => {
  t.timeout(300_000);
  await around(
    t,
    'http-delay',
    'server=web1',
    { delay: '300ms', method: 'get' },
    async () => {
      t.true((await http('lb', 'web1')).seconds >= 0.29, 'GET delayed');
      t.true((await http('lb', 'web1', '/health', '-I')).seconds < 0.2, 'HEAD is not');
    },
    async () => t.true((await http('lb', 'web1')).seconds < 0.2),
  );
  await around(
    t,
    'http-reset',
    'server=web1',
    {},
    async () => t.is((await http('lb', 'web1')).status, '000'),
    async () => t.is((await http('lb', 'web1')).status, '200'),
  );
});

test.serial('net-latency on a kernel without netem: through the fault proxy with port=, refused in one line without', async (t) => {
  t.timeout(300_000);
  const refused = await runCli(['fault', 'inject', 'net-latency', '--target', 'server=web1', '--for', '2s']);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /this kernel has no netem; give --param port=<port>/);
  await around(
    t,
    'net-latency',
    'server=web1',
    { port: 80, delay: '200ms', jitter: '0ms' },
    async (f) => {
      t.regex((await f.check()).detail, /through the fault proxy on tcp\/80/);
      const stored = JSON.parse(await readFile(join(stack.stateDir, 'faults.json'), 'utf8')) as {
        faults: Array<{ id: string; data: { servers: Array<{ effect: { kind: string } }> } }>;
      };
      t.is(stored.faults.find((r) => r.id === f.id)?.data.servers[0]?.effect.kind, 'proxy', 'the record says the proxy');
      t.true((await http('lb', 'web1')).seconds >= 0.19);
    },
    async () => t.true((await http('lb', 'web1')).seconds < 0.15),
  );
});

test.serial('net-loss 100% with peer= and port=, net-partition with port=: only the filtered traffic is hit', async (t) => {
  t.timeout(300_000);
  const db = (server: string) => greeting('web1', server, 3306, 1);
  await around(
    t,
    'net-loss',
    'server=web1',
    { loss: '100%', peer: 'server=db-primary' },
    async () => {
      t.is(await db('db-primary'), 0, 'web1 → db-primary lost');
      t.true((await db('db-replica')) > 0, 'web1 → db-replica untouched');
    },
    async () => t.true((await db('db-primary')) > 0),
  );
  await around(
    t,
    'net-loss',
    'server=web1',
    { loss: '100%', port: 3306 },
    async () => {
      t.is(await db('db-replica'), 0, 'tcp/3306 lost');
      t.is((await http('lb', 'web1')).status, '200', 'web1:80 answers the LB');
    },
    async () => t.true((await db('db-replica')) > 0),
  );
  const nc = (port: number) => sh('monitor', `nc -z -w 1 ${ip.web1} ${port}; echo $?`);
  await around(
    t,
    'net-partition',
    undefined,
    { from: 'server=monitor', to: 'server=web1', port: 9100 },
    async () => {
      t.is(await nc(9100), '1', 'monitor → web1:9100 cut');
      t.is(await nc(9113), '0', 'monitor → web1:9113 open');
    },
    async () => t.is(await nc(9100), '0'),
  );
});

test.serial('a SIGKILLed holder of proxy faults: `faultline revert` undoes one, the helper’s own switch the other (redirect first)', async (t) => {
  t.timeout(600_000);
  await exclusive(stack, async () => {
    const before = await networkState();
    t.teardown(() => runCli(['revert', '--all']).then(() => undefined));
    const first = startCli(['fault', 'inject', 'proxy-latency', '--target', 'server=web1', '--param', 'port=80', '--for', '10s']);
    await first.waitFor(/fault \S+ active after/, 180_000);
    first.child.kill('SIGKILL');
    await first.exited;
    t.true((await http('lb', 'web1')).seconds >= 0.19, 'still delayed after the holder died');
    const revert = await runCli(['revert']);
    t.is(revert.code, 0, revert.stderr);
    t.deepEqual(await networkState(), before, 'faultline revert: as before');

    const second = startCli(['fault', 'inject', 'http-abort', '--target', 'server=web2', '--for', '10s']);
    await second.waitFor(/fault \S+ active after/, 180_000);
    second.child.kill('SIGKILL');
    const killedAt = Date.now();
    await second.exited;
    t.is((await http('lb', 'web2')).status, '503');
    const deadline = deadMansSwitchMs(10_000, 0); // `fault inject` holds exactly: no extension
    const now = await retryUntil(
      () => networkState(),
      (s) => JSON.stringify(s) === JSON.stringify(before) || Date.now() - killedAt > deadline + 30_000,
      { timeoutMs: deadline + 60_000, intervalMs: 5_000, what: 'the proxy helper to undo its fault' },
    );
    t.deepEqual(now, before, 'the switch removed the redirect and the helper');
    t.true(Date.now() - killedAt >= deadline - 15_000, 'not before the deadline');
    t.is((await http('lb', 'web2')).status, '200');
    t.is((await runCli(['revert', '--all'])).code, 0, 'the record is cleared');
  });
});
