// The fault proxy's figures (issue 22), each against a reference measured in the same run:
//   overhead   the proxy with no toxic at 1 000 req/s (keep-alive): p50 through it minus p50 direct, the same server
//              and load generator, rounds interleaved (Toxiproxy claims < 100 µs for its Go proxy);
//   latency    200 ms of proxy-latency: the added p50 a client sees, locally (proxy.mjs in front of a local server)
//              and on the stack (proxy-latency on every web server's :80, HTTPS requests through the endpoint);
//   bandwidth  1 MB/s: measured throughput, locally (a 5 MB download) and on the stack (a 900 kB upload from the LB's
//              namespace to web1 :80 with stream=up), against the same transfer without the fault.
// Locally the proxy is compose/images/proxy/proxy.mjs run by this Node (the helper runs Debian's Node 18).
//
// Run (the stack must be up for the stack part; BENCH_LOCAL_ONLY=1 skips it):  node --import=tsx bench/proxy.ts

import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachStack } from '../src/stack/attach.js';
import { createFaultContext, defaultRegistry, injectFault, revertRecorded } from '../src/faults/index.js';

const PROXY = join(dirname(fileURLToPath(import.meta.url)), '..', 'compose/images/proxy/proxy.mjs');
const p = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]! : NaN);
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const lines: string[][] = [['figure', 'goal', 'measured', 'reference (same run)', 'verdict']];
const row = (figure: string, goal: string, measured: string, ref: string, ok: boolean) => lines.push([figure, goal, measured, ref, ok ? '✓' : '✗']);

// ---------------------------------------------------------------------------------------------------------
// Locally: a server, the proxy in front of it, a paced client.

// The upstream server runs in a process of its own, so the client's event loop never waits on it (nor it on the client).
const BIG = 5_000_000;
const serverChild = spawn(
  process.execPath,
  [
    '-e',
    `const big = Buffer.alloc(${BIG}, 97); const s = require('http').createServer((q, r) => q.url === '/big' ? r.end(big) : r.end('x'.repeat(100)));
     s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const upstreamPort = await new Promise<number>((resolve) =>
  serverChild.stdout!.on('data', (c: Buffer) => {
    const m = /listening (\d+)/.exec(c.toString());
    if (m) resolve(Number(m[1]));
  }),
);

async function startProxy(config: Record<string, unknown>): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [PROXY], {
    env: { ...process.env, PROXY_CONFIG: JSON.stringify({ listen: 0, listenHost: '127.0.0.1', upstreamHost: '127.0.0.1', upstreamPort, ratio: 1, ...config }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      const m = /listening (\d+)/.exec(c.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('the proxy exited')));
  });
  return { port, child };
}

/**
 * `rate` requests/s for `seconds` on keep-alive pools, alternating between `ports` (so each sees the same machine at
 * the same moments); latencies (ms) per port from each request's send to its end.
 */
async function paced(ports: number[], rate: number, seconds: number): Promise<number[][]> {
  const agents = ports.map(() => new http.Agent({ keepAlive: true, maxSockets: 256 }));
  const out: number[][] = ports.map(() => []);
  const total = rate * seconds;
  const t0 = performance.now();
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent += 1) {
      const k = sent % ports.length;
      const start = performance.now();
      const req = new Promise<void>((resolve) =>
        http
          .get({ host: '127.0.0.1', port: ports[k], path: '/small', agent: agents[k] }, (res) => {
            res.resume();
            res.on('end', () => {
              out[k]!.push(performance.now() - start);
              resolve();
            });
          })
          .on('error', () => resolve()),
      );
      inflight.add(req);
      void req.then(() => inflight.delete(req));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  for (const a of agents) a.destroy();
  return out;
}

const sharedAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
async function one(port: number, path: string, agent: http.Agent | false = false): Promise<number> {
  const start = performance.now();
  await new Promise<void>((resolve, reject) =>
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
  );
  return performance.now() - start;
}

const plain = await startProxy({ mode: 'tcp', toxics: {} });
// Interleaved: 1 000 req/s through the proxy and 1 000 req/s direct in the same seconds (2 000 req/s in all).
const [direct = [], through = []] = await paced([upstreamPort, plain.port], 2000, 5);
// One at a time, warm: the proxy's own hop when nothing else waits for the cores.
const seqDirect: number[] = [];
const seqThrough: number[] = [];
for (let i = 0; i < 300; i += 1) {
  seqDirect.push(await one(upstreamPort, '/small', sharedAgent));
  seqThrough.push(await one(plain.port, '/small', sharedAgent));
}
plain.child.kill();
sharedAgent.destroy();
const overhead = p(through, 0.5) - p(direct, 0.5);
row(
  'overhead, no toxic, 1 000 req/s (interleaved with 1 000 req/s direct): p50 through − p50 direct',
  '< 1 ms (Toxiproxy claims < 0.1 ms)',
  `${f(overhead * 1000, 0)} µs (p50 ${f(p(through, 0.5))} ms, p99 ${f(p(through, 0.99))} ms, n=${through.length})`,
  `direct p50 ${f(p(direct, 0.5))} ms, p99 ${f(p(direct, 0.99))} ms`,
  overhead < 1,
);
const seqOverhead = p(seqThrough, 0.5) - p(seqDirect, 0.5);
row(
  'overhead, no toxic, one request at a time (keep-alive): p50 through − p50 direct',
  '< 1 ms (Toxiproxy claims < 0.1 ms)',
  `${f(seqOverhead * 1000, 0)} µs (p50 ${f(p(seqThrough, 0.5), 3)} ms, n=${seqThrough.length})`,
  `direct p50 ${f(p(seqDirect, 0.5), 3)} ms`,
  seqOverhead < 1,
);

const delayed = await startProxy({ mode: 'tcp', toxics: { down: { latency: { ms: 200, jitter: 0 } } } });
const dl: number[] = [];
const dd: number[] = [];
for (let i = 0; i < 40; i += 1) {
  dd.push(await one(upstreamPort, '/small'));
  dl.push(await one(delayed.port, '/small'));
}
delayed.child.kill();
const addedLocal = p(dl, 0.5) - p(dd, 0.5);
row('latency 200 ms, local: added p50', '200 ± 10 ms', `${f(addedLocal, 1)} ms`, `direct p50 ${f(p(dd, 0.5))} ms`, Math.abs(addedLocal - 200) <= 10);

const paced1 = await startProxy({ mode: 'tcp', toxics: { down: { bandwidth: 1_000_000 } } });
const refMs = await one(upstreamPort, '/big');
const bwMs = await one(paced1.port, '/big');
paced1.child.kill();
const rateLocal = BIG / (bwMs / 1000);
row(
  'bandwidth 1 MB/s, local: a 5 MB download',
  '1 MB/s ± 10 %',
  `${f(rateLocal / 1e6, 3)} MB/s`,
  `direct ${f(BIG / (refMs / 1000) / 1e6, 0)} MB/s`,
  Math.abs(rateLocal - 1e6) <= 1e5,
);
serverChild.kill();

// ---------------------------------------------------------------------------------------------------------
// On the stack.

if (!process.env.BENCH_LOCAL_ONLY) {
  const stack = await attachStack();
  const ctx = createFaultContext(stack, { holdMs: 600_000 });
  const registry = defaultRegistry();
  const ca = await stack.ca();
  const agent = new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
  const url = new URL('/health', stack.httpsUrl);
  const get = () =>
    new Promise<{ ms: number; status: number }>((resolve) => {
      const start = performance.now();
      https
        .get(url, { agent, servername: 'localhost' }, (res) =>
          res.resume().on('end', () => resolve({ ms: performance.now() - start, status: res.statusCode ?? 0 })),
        )
        .on('error', () => resolve({ ms: NaN, status: 0 }));
    });
  const sample = async (n: number) => {
    const ok: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const r = await get();
      if (r.status === 200) ok.push(r.ms);
      await new Promise((res) => setTimeout(res, 50));
    }
    return ok;
  };
  const lb = (await stack.containers()).find((c) => c.server === 'lb' && c.component === 'host')!;
  const upload = async () => {
    const res = await stack.docker.exec(lb.id, [
      'sh',
      '-c',
      `head -c 900000 /dev/zero | curl -s -o /dev/null -w '%{time_total}' --max-time 20 --data-binary @- http://${stack.addresses.web1}/items`,
    ]);
    return Number(res.stdout.trim());
  };
  try {
    const before = await sample(60);
    const fault = await injectFault(
      ctx,
      registry.configure('proxy-latency', { target: 'all:role=web', params: { port: 80, delay: '200ms' } }),
      AbortSignal.timeout(300_000),
    );
    const during = await sample(60).finally(() => fault.revert());
    const after = await sample(30);
    const added = p(during, 0.5) - p(before, 0.5);
    row(
      'latency 200 ms, stack (HTTPS via the LB, proxy on every web :80): added p50',
      '200 ± 10 ms',
      `${f(added, 1)} ms (p50 ${f(p(during, 0.5), 1)} ms, n=${during.length})`,
      `before ${f(p(before, 0.5), 1)} ms (n=${before.length}), after ${f(p(after, 0.5), 1)} ms`,
      Math.abs(added - 200) <= 10,
    );

    const refUp = await upload();
    const bw = await injectFault(
      ctx,
      registry.configure('proxy-bandwidth', { target: 'server=web1', params: { port: 80, rate: '1MB', stream: 'up' } }),
      AbortSignal.timeout(300_000),
    );
    const upS = await upload().finally(() => bw.revert());
    const rateStack = 900_000 / upS;
    row(
      'bandwidth 1 MB/s, stack (900 kB upload LB → web1 :80, stream=up)',
      '1 MB/s ± 10 %',
      `${f(rateStack / 1e6, 3)} MB/s (${f(upS, 2)} s)`,
      `without the fault ${f(refUp, 3)} s`,
      Math.abs(rateStack - 1e6) <= 1e5,
    );
  } finally {
    await revertRecorded(ctx, registry, { own: true });
    agent.destroy();
  }
}

const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
console.log(`\nfault proxy figures (2 cores shared; load average ${load}; node ${process.version} here, Debian's node 18 in the helper)\n`);
const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i]!)).join('  '));
