// The pure parts of the fault proxy and of the narrowed network faults (issue 22 items 1, 3, 4): the toxics' math in
// the proxy script, the nftables text that diverts a port and opens the firewall to diverted connections only, the
// parameters, and net-latency's choice between netem and the proxy on a fake engine.

import test from 'ava';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import {
  admittedSources,
  applyScript,
  firewallRules,
  helperScript,
  moveEstablished,
  probeScript,
  redirectRuleset,
  undoScript,
  type Diversion,
} from '../../src/faults/proxy-config.js';
import { lossScripts, netemScripts, partitionScripts } from '../../src/faults/network-scripts.js';
import { FaultRegistry, injectFault } from '../../src/faults/index.js';
import { networkFaults } from '../../src/faults/network-faults.js';
import { proxyFaults } from '../../src/faults/proxy-faults.js';
import { FakeDocker, fakeContext, stackLabels } from '../helpers/fake-docker.js';
import { repoRoot } from '../helpers/stack.js';

interface ProxyScript {
  start(config: Record<string, unknown>): import('node:net').Server;
  chunkDelay(latencyMs: number, jitterMs: number, random?: () => number): number;
  paceSlices(bytes: number, rate: number, from: number): Array<{ offset: number; length: number; at: number }>;
  requestMatches(rule: { path?: string; method?: string }, method: string, url: string): boolean;
}
const script = (await import(pathToFileURL(join(repoRoot, 'compose/images/proxy/proxy.mjs')).href)) as ProxyScript;

const registry = new FaultRegistry([...networkFaults, ...proxyFaults]);
const diversion: Diversion = {
  table: 'fl_abc',
  port: 80,
  proxyPort: 61001,
  peers: [],
  firewall: { table: 'inet faultline', chain: 'input', sources: ['10.213.7.10'] },
};

test('latency toxic: each chunk waits the latency ± at most the jitter, never less than 0', (t) => {
  t.is(script.chunkDelay(200, 0), 200);
  t.is(
    script.chunkDelay(200, 20, () => 0),
    180,
  );
  t.is(
    script.chunkDelay(200, 20, () => 1),
    220,
  );
  t.is(
    script.chunkDelay(5, 20, () => 0),
    0,
  );
});

test('bandwidth toxic: 1 MB at 1 MB/s leaves in 10 ms slices and its last byte goes 1 s later', (t) => {
  const slices = script.paceSlices(1_000_000, 1_000_000, 0);
  t.is(slices.length, 100);
  t.is(slices[0]!.length, 10_000);
  t.is(Math.round(slices.at(-1)!.at), 1000);
  t.is(
    slices.reduce((n, s) => n + s.length, 0),
    1_000_000,
  );
  t.deepEqual(script.paceSlices(10, 1000, 50), [{ offset: 0, length: 10, at: 60 }]);
});

test('HTTP toxics match a method (any case) and a path prefix; unset matches everything', (t) => {
  t.true(script.requestMatches({}, 'GET', '/x'));
  t.true(script.requestMatches({ method: 'post', path: '/items' }, 'POST', '/items/42'));
  t.false(script.requestMatches({ method: 'POST' }, 'GET', '/items'));
  t.false(script.requestMatches({ path: '/items' }, 'GET', '/health'));
});

test('the redirect diverts the port from outside and local traffic except the proxy’s own uid; peers narrow it to them', (t) => {
  const text = redirectRuleset(diversion);
  t.regex(text, /type nat hook prerouting priority dstnat; policy accept; tcp dport 80 redirect to :61001;/);
  t.regex(text, /meta skuid != 64017 ip daddr 127\.0\.0\.1 tcp dport 80 redirect to :61001;/);
  const narrowed = redirectRuleset({ ...diversion, peers: ['10.0.0.1', '10.0.0.2'] });
  t.regex(narrowed, /ip saddr \{ 10\.0\.0\.1, 10\.0\.0\.2 \} tcp dport 80 redirect/);
  t.notRegex(narrowed, /hook output/, 'local traffic is no peer');
  t.throws(() => redirectRuleset({ ...diversion, table: 'fl_x; rm -rf /' }));
});

test('the firewall admits diverted connections only from whom it admits to the real port, marked with the fault', (t) => {
  t.deepEqual(firewallRules(diversion, 'proxy-latency-1-abc'), [
    'insert rule inet faultline input ip saddr 10.213.7.10 tcp dport 61001 ct status dnat ct original proto-dst 80 accept comment "faultline-proxy-latency-1-abc"',
  ]);
  t.deepEqual(firewallRules({ ...diversion, firewall: null }, 'x-1'), []);
  t.regex(applyScript(diversion, 'x-1'), /insert rule[\s\S]*table inet fl_abc/, 'admissions before the redirect');
  const undo = undoScript(diversion, 'x-1');
  t.true(undo.indexOf('delete table inet fl_abc') < undo.indexOf('delete rule'), 'redirect first');
  t.regex(undo, /comment "faultline-x-1" # handle/);
  t.regex(probeScript(diversion, 'x-1'), /grep -F 'faultline-x-1'/);
  t.throws(() => undoScript(diversion, "x'; reboot"));
});

test('admitted sources are read from the firewall listing: addresses, sets and anyone; other shapes admit no one', (t) => {
  const listing = [
    'table inet faultline {',
    '  chain input {',
    '    iif "lo" accept',
    '    ip saddr 10.213.7.5 tcp dport 9100 accept comment "node exporter"',
    '    ip saddr { 10.213.7.21, 10.213.7.22 } tcp dport 3306 accept comment "app servers"',
    '    ip saddr 10.213.7.1 tcp dport 3306 accept comment "operator"',
    '    iifname "eth0" tcp dport 3306 accept',
    '    tcp dport { 80, 443 } accept comment "public web"',
  ].join('\n');
  t.deepEqual(admittedSources(listing, 3306), ['10.213.7.1', '{ 10.213.7.21, 10.213.7.22 }']);
  t.deepEqual(admittedSources(listing, 443), ['any']);
  t.deepEqual(admittedSources(listing, 8080), []);
});

test('the helper starts the proxy, diverts, says so, and its switch removes the redirect before the proxy', (t) => {
  const s = helperScript(diversion, 'x-1', 90, 'READY');
  const lines = s.split('\n');
  t.true(lines.findIndex((l) => l.startsWith('node ')) < lines.findIndex((l) => l.includes('nft -f -')), 'listening before diverting');
  t.regex(s, /sleep 90 & wait \$!\nundo$/);
  t.true(
    s.includes('then undo; exit 1; fi\nconntrack -D -p tcp --orig-port-dst 80 --reply-port-src 80 >/dev/null 2>&1; true\necho READY'),
    'pooled connections are moved onto the proxy once it diverts, then it says so',
  );
  t.is(
    moveEstablished({ ...diversion, peers: ['10.0.0.1'] }),
    'conntrack -D -p tcp --orig-port-dst 80 --reply-port-src 80 --orig-src 10.0.0.1 >/dev/null 2>&1; true',
    'only the peers’ connections',
  );
  t.regex(lines[0]!, /^undo\(\) \{ nft delete table inet fl_abc.*; kill \$p/);
});

test('parameters: shares, rates, ports, methods; a bare number above 1 is no share', (t) => {
  const p = registry.configure('http-abort', { params: { ratio: '30%', path: '/items', method: 'post' } }).params as Record<string, unknown>;
  t.like(p, { ratio: 0.3, port: 80, status: 503, path: '/items', method: 'POST' });
  t.is((registry.configure('proxy-latency', { target: 'server=web1', params: { port: 80, ratio: 0.25 } }).params as { ratio: number }).ratio, 0.25);
  t.is((registry.configure('proxy-bandwidth', { target: 'server=web1', params: { port: '80', rate: '1MB' } }).params as { rate: number }).rate, 1_000_000);
  t.is((registry.configure('proxy-bandwidth', { target: 'server=web1', params: { port: 80, rate: '500k' } }).params as { rate: number }).rate, 500_000);
  t.throws(() => registry.configure('proxy-latency', { target: 'server=web1', params: { port: 80, ratio: 30 } }), { message: /ratio: 30 must be a share/ });
  t.throws(() => registry.configure('proxy-latency', { target: 'server=web1', params: {} }), { message: /port/ });
  t.throws(() => registry.configure('http-abort', { params: { path: 'items' } }), { message: /path: must start with \// });
  t.throws(() => registry.configure('net-loss', { target: 'server=web1', params: { port: 70000 } }), { message: /port/ });
});

test('narrowed loss and partition: peers by address and a port at either end; unnarrowed is as before', (t) => {
  t.regex(lossScripts('fl_a', 30).apply, /oifname != "lo" numgen random mod 10000 < 3000 drop;/);
  const loss = lossScripts('fl_a', 100, ['10.0.0.31'], 3306).apply;
  t.regex(loss, /oifname != "lo" ip daddr \{ 10\.0\.0\.31 \} tcp sport 3306 drop; oifname != "lo" ip daddr \{ 10\.0\.0\.31 \} tcp dport 3306 drop;/);
  const part = partitionScripts('fl_b', ['10.0.0.21'], 9100).apply;
  t.regex(part, /hook input .* ip saddr \{ 10\.0\.0\.21 \} tcp sport 9100 drop; ip saddr \{ 10\.0\.0\.21 \} tcp dport 9100 drop;/);
  t.regex(partitionScripts('fl_b', ['10.0.0.21']).apply, /ip daddr \{ 10\.0\.0\.21 \} drop;/);
});

test('narrowed netem: a prio qdisc under faultline’s handle, netem in its fourth band, u32 filters for the peers and port', (t) => {
  const s = netemScripts('delay 100ms 0ms', { peerAddrs: ['10.0.0.31'], port: 3306 });
  t.regex(s.apply, /root handle fa17: prio bands 4/);
  t.regex(s.apply, /parent fa17:4 handle fa18: netem delay 100ms 0ms/);
  t.regex(s.apply, /u32 match ip dst 10\.0\.0\.31\/32 match ip sport 3306 0xffff flowid fa17:4/);
  t.regex(s.revert, /tc qdisc del dev \$i root handle fa17:/);
  t.is(netemScripts('delay 1ms 0ms').probe, "tc qdisc show | grep '^qdisc netem fa17: ' || true", 'unnarrowed as before');
});

function netemless(docker: FakeDocker) {
  docker.handlers.push((_c, cmd) =>
    cmd.join(' ').includes('netem delay')
      ? { result: { exitCode: 3, stdout: '', stderr: 'this kernel has no netem (CONFIG_NET_SCH_NETEM is not set)\n' } }
      : undefined,
  );
}

test('net-latency on a kernel without netem and no port: refused in one line, and nothing is left recorded', async (t) => {
  const docker = new FakeDocker();
  docker.add({ name: 'web1', labels: stackLabels('web1', 'host'), addresses: { flunit_internal: '10.0.0.21' } });
  netemless(docker);
  const ctx = await fakeContext(docker);
  await t.throwsAsync(injectFault(ctx, registry.configure('net-latency', { target: 'server=web1' }), AbortSignal.timeout(5000)), {
    message: 'net-latency: this kernel has no netem; give --param port=<port> to delay one port through the fault proxy',
  });
  t.deepEqual(await ctx.store.list(), []);
});

test('net-latency plans the proxy as its fallback only with a port, narrowed to the peers', async (t) => {
  const docker = new FakeDocker();
  docker.add({ name: 'web1', labels: stackLabels('web1', 'host'), addresses: { flunit_internal: '10.0.0.21' } });
  docker.add({ name: 'lb', labels: stackLabels('lb', 'host'), addresses: { flunit_internal: '10.0.0.10', flunit_edge: '10.0.1.10' } });
  const ctx = await fakeContext(docker);
  const def = registry.get('net-latency');
  const plan = await def.plan(
    ctx,
    'server=web1',
    registry.configure('net-latency', { target: 'server=web1', params: { port: 80, peer: 'server=lb' } }).params,
    AbortSignal.timeout(5000),
  );
  const effect = (plan.data as { servers: Array<{ effect: { kind: string; peerAddrs: string[]; fallback: Diversion } }> }).servers[0]!.effect;
  t.is(effect.kind, 'netem');
  t.deepEqual(effect.peerAddrs, ['10.0.0.10', '10.0.1.10']);
  t.like(effect.fallback, { port: 80, peers: ['10.0.0.10', '10.0.1.10'] });
  t.regex(plan.steps.join('\n'), /where the kernel has no netem, the fault proxy delays what tcp\/80 sends instead/);
  const bare = await def.plan(ctx, 'server=web1', registry.configure('net-latency', { target: 'server=web1' }).params, AbortSignal.timeout(5000));
  t.falsy((bare.data as { servers: Array<{ effect: { fallback?: unknown } }> }).servers[0]!.effect.fallback);
});

test('reset at once: a server that speaks first (MariaDB greets) never gets a byte through, on any of 50 connections', async (t) => {
  const net = await import('node:net');
  const upstream = net.createServer((c) => c.end('greeting from the server\n'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as import('node:net').AddressInfo).port;
  const proxy = script.start({
    mode: 'tcp',
    listen: 0,
    listenHost: '127.0.0.1',
    upstreamHost: '127.0.0.1',
    upstreamPort,
    ratio: 1,
    toxics: { reset: { afterMs: 0 } },
  });
  await new Promise<void>((r) => (proxy.listening ? r() : proxy.once('listening', () => r())));
  const port = (proxy.address() as import('node:net').AddressInfo).port;
  const bytes = (): Promise<number> =>
    new Promise((resolve) => {
      let n = 0;
      const c = net.connect(port, '127.0.0.1');
      c.on('data', (d) => (n += d.length));
      c.on('error', () => undefined);
      c.on('close', () => resolve(n));
    });
  try {
    const got = await Promise.all(Array.from({ length: 50 }, bytes));
    t.deepEqual(
      got.filter((n) => n > 0),
      [],
    );
  } finally {
    proxy.close();
    upstream.close();
  }
});
