// The fault proxy's figures (issue 22), each against a reference measured in the same run, and their ratio to it:
//   overhead   the proxy with no toxic at 1 000 req/s (keep-alive): p50 through it minus p50 direct, the same server
//              and load generator, 1 000 req/s each way interleaved request by request (Toxiproxy claims < 100 µs
//              for its Go proxy); and one request at a time;
//   latency    200 ms of proxy-latency: the added p50 a client sees, locally (proxy.mjs in front of a local server)
//              and on the stack: proxy-latency on web1 :80 only, HTTPS requests through the LB one at a time, each
//              answer told apart by the server that gave it (/whoami), so the reference is web2's and web3's answers
//              of the same seconds through the same client, docker-proxy and HAProxy;
//   bandwidth  1 MB/s: measured throughput, locally (a 5 MB download) and on the stack (a 900 kB upload from the LB's
//              namespace to web1 :80 with stream=up), against the same transfer without the fault.
// Locally the proxy is compose/images/proxy/proxy.mjs run by this Node (the helper runs Debian's Node 18).
//
// Run:  npx tsx bench/proxy.ts [overhead|latency|bandwidth|stack|stack-latency|stack-bandwidth ...]   (default: all)
// About 1 min on a quiet machine (the stack part about 40 s of it; the stack must be up; BENCH_LOCAL_ONLY=1 skips it).
// BENCH_RATE (default 1000 req/s each way), BENCH_SECONDS (default 5), BENCH_STACK_REQUESTS (default 150).

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
const lines: string[][] = [['figure', 'goal', 'measured', 'reference (same run)', 'ratio', 'verdict']];
/** `ratio`: the measured path's figure over the reference's (p50 over p50, rate over rate); `ok` undefined: no verdict (the machine could not do the run). */
const row = (figure: string, goal: string, measured: string, ref: string, ratio: number, ok: boolean | undefined) =>
  lines.push([figure, goal, measured, ref, Number.isFinite(ratio) ? `${ratio.toFixed(ratio < 10 ? 2 : 0)}×` : '-', ok === undefined ? '?' : ok ? '✓' : '✗']);
const parts = process.argv.slice(2);
/** Whether a part was asked for ("stack" covers stack-latency and stack-bandwidth). */
const wanted = (part: string) =>
  parts.length === 0 || parts.some((x) => x === part || part.startsWith(`${x}-`) || (part === 'stack' && x.startsWith('stack-')));

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

interface Paced {
  /** Latencies (ms) per port, from each request's send to its end. */
  ms: number[][];
  errors: number;
  /** Requests per second actually sent; how late the sends were against their intended times (p99, ms); the share more than 10 ms late. */
  sentRate: number;
  lagP99: number;
  lateShare: number;
}

/**
 * `rate` requests/s for `seconds` on keep-alive pools, alternating between `ports` request by request (so each sees
 * the same machine at the same moments).
 */
async function paced(ports: number[], rate: number, seconds: number): Promise<Paced> {
  const agents = ports.map(() => new http.Agent({ keepAlive: true, maxSockets: 256 }));
  const out: number[][] = ports.map(() => []);
  const lags: number[] = [];
  let errors = 0;
  const total = rate * seconds;
  const t0 = performance.now();
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent += 1) {
      const k = sent % ports.length;
      const start = performance.now();
      lags.push(start - (t0 + (sent / rate) * 1000));
      const req = new Promise<void>((resolve) =>
        http
          .get({ host: '127.0.0.1', port: ports[k], path: '/small', agent: agents[k] }, (res) => {
            res.resume();
            res.on('end', () => {
              out[k]!.push(performance.now() - start);
              resolve();
            });
          })
          .on('error', () => {
            errors += 1;
            resolve();
          }),
      );
      inflight.add(req);
      void req.then(() => inflight.delete(req));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const sentRate = total / ((performance.now() - t0) / 1000);
  await Promise.all(inflight);
  for (const a of agents) a.destroy();
  return { ms: out, errors, sentRate, lagP99: p(lags, 0.99), lateShare: lags.filter((x) => x > 10).length / lags.length };
}

async function one(port: number, path: string, agent: http.Agent | false = false): Promise<number> {
  const start = performance.now();
  await new Promise<void>((resolve, reject) =>
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
  );
  return performance.now() - start;
}

if (wanted('overhead')) {
  const RATE = Number(process.env.BENCH_RATE ?? 1000);
  const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
  const plain = await startProxy({ mode: 'tcp', toxics: {} });
  // Warm both paths (connections, the JIT) before counting.
  await paced([upstreamPort, plain.port], 2 * RATE, 1);
  // Interleaved: RATE req/s through the proxy and RATE req/s direct in the same seconds (2 × RATE in all).
  const run = await paced([upstreamPort, plain.port], 2 * RATE, SECONDS);
  const [direct = [], through = []] = run.ms;
  // One at a time, warm: the proxy's own hop when nothing else waits for the cores.
  const sharedAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const seqDirect: number[] = [];
  const seqThrough: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    seqDirect.push(await one(upstreamPort, '/small', sharedAgent));
    seqThrough.push(await one(plain.port, '/small', sharedAgent));
  }
  plain.child.kill();
  sharedAgent.destroy();
  const overhead = p(through, 0.5) - p(direct, 0.5);
  // The figure is the proxy's only while the machine keeps up with the rate: when more than a tenth of the sends fall
  // 10 ms behind or the direct path itself queues (p50 above 5 ms for a 100-byte answer on loopback), both sides
  // measure the run queue. A few late sends (the whole machine stalled) move p99, not p50.
  const saturated = run.lateShare > 0.1 || p(direct, 0.5) > 5;
  row(
    `overhead, no toxic, ${RATE} req/s (interleaved with ${RATE} req/s direct): p50 through − p50 direct`,
    '< 1 ms (Toxiproxy claims < 0.1 ms)',
    `${f(overhead * 1000, 0)} µs (p50 ${f(p(through, 0.5), 3)} ms, p99 ${f(p(through, 0.99))} ms, n=${through.length}; ` +
      `sent ${f(run.sentRate, 0)} req/s in all, ${f(run.lateShare * 100, 1)} % over 10 ms late, p99 ${f(run.lagP99, 1)} ms late, ${run.errors} errors)` +
      (saturated ? ' — NOT A FIGURE: this machine did not keep up with the rate (sends late or the direct path queued); rerun on a quieter one' : ''),
    `direct p50 ${f(p(direct, 0.5), 3)} ms, p99 ${f(p(direct, 0.99))} ms, n=${direct.length}`,
    p(through, 0.5) / p(direct, 0.5),
    saturated ? undefined : overhead < 1 && run.errors === 0,
  );
  const seqOverhead = p(seqThrough, 0.5) - p(seqDirect, 0.5);
  row(
    'overhead, no toxic, one request at a time (keep-alive): p50 through − p50 direct',
    '< 1 ms (Toxiproxy claims < 0.1 ms)',
    `${f(seqOverhead * 1000, 0)} µs (p50 ${f(p(seqThrough, 0.5), 3)} ms, n=${seqThrough.length})`,
    `direct p50 ${f(p(seqDirect, 0.5), 3)} ms`,
    p(seqThrough, 0.5) / p(seqDirect, 0.5),
    seqOverhead < 1,
  );
}

if (wanted('latency')) {
  const delayed = await startProxy({ mode: 'tcp', toxics: { down: { latency: { ms: 200, jitter: 0 } } } });
  const dl: number[] = [];
  const dd: number[] = [];
  for (let i = 0; i < 40; i += 1) {
    dd.push(await one(upstreamPort, '/small'));
    dl.push(await one(delayed.port, '/small'));
  }
  delayed.child.kill();
  const addedLocal = p(dl, 0.5) - p(dd, 0.5);
  row(
    'latency 200 ms, local: p50 through − p50 direct, interleaved',
    '200 ± 10 ms',
    `${f(addedLocal, 1)} ms (p50 ${f(p(dl, 0.5), 1)} ms, n=${dl.length})`,
    `direct p50 ${f(p(dd, 0.5))} ms`,
    p(dl, 0.5) / p(dd, 0.5),
    Math.abs(addedLocal - 200) <= 10,
  );
}

if (wanted('bandwidth')) {
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
    rateLocal / (BIG / (refMs / 1000)),
    Math.abs(rateLocal - 1e6) <= 1e5,
  );
}
serverChild.kill();

// ---------------------------------------------------------------------------------------------------------
// On the stack.

/** One GET through the LB over HTTPS: the web server that answered (its /whoami body), the status, the time. */
interface Answer {
  ms: number;
  status: number;
  server: string;
  /** Another engineer's HTTP fault on the shared stack (the proxy's or the edge's header): not this bench's figure. */
  foreign: boolean;
  error?: string;
}

if (!process.env.BENCH_LOCAL_ONLY && wanted('stack')) {
  const stack = await attachStack();
  const ctx = createFaultContext(stack, { holdMs: 600_000 });
  const registry = defaultRegistry();
  const ca = await stack.ca();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...(ca ? { ca } : {}) });
  const url = new URL('/whoami', stack.httpsUrl);
  const get = () =>
    new Promise<Answer>((resolve) => {
      const start = performance.now();
      https
        .get(url, { agent, servername: 'localhost' }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({
              ms: performance.now() - start,
              status: res.statusCode ?? 0,
              server: /"server":"([^"]+)"/.exec(body)?.[1] ?? '?',
              foreign: res.headers['x-faultline-fault'] !== undefined,
            }),
          );
        })
        .on('error', (err: NodeJS.ErrnoException) => resolve({ ms: NaN, status: 0, server: '?', foreign: false, error: err.code ?? err.message }));
    });
  // One request at a time, 50 ms apart: HAProxy's round robin sends every third one to web1, so web1's requests and
  // the other servers' are interleaved in the same seconds, through the same client, docker-proxy and HAProxy.
  const sample = async (n: number) => {
    const out: Answer[] = [];
    for (let i = 0; i < n; i += 1) {
      out.push(await get());
      await new Promise((res) => setTimeout(res, 50));
    }
    return out;
  };
  const ok = (xs: Answer[], on: (s: string) => boolean) => xs.filter((a) => a.status === 200 && !a.foreign && on(a.server)).map((a) => a.ms);
  const isWeb1 = (s: string) => s === 'web1';
  const others = (s: string) => s !== 'web1' && s !== '?';
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
    if (wanted('stack-latency')) {
      const N = Number(process.env.BENCH_STACK_REQUESTS ?? 150);
      const before = await sample(60);
      const fault = await injectFault(
        ctx,
        registry.configure('proxy-latency', { target: 'server=web1', params: { port: 80, delay: '200ms' } }),
        AbortSignal.timeout(300_000),
      );
      let during: Answer[] = [];
      try {
        during = await sample(N);
        const still = await fault.check();
        if (!still.active)
          throw new Error(`proxy-latency was no longer in effect at the end of the run (${still.detail}): reverted by another process? run again`);
      } finally {
        await fault.revert();
      }
      const after = await sample(30);
      const delayed = ok(during, isWeb1);
      const ref = ok(during, others);
      const added = p(delayed, 0.5) - p(ref, 0.5);
      // Every answer from web1 crossed the proxy, which holds it ≥ 200 ms: one faster came past it (a pooled connection).
      const bypassed = delayed.filter((ms) => ms < 200).length;
      const failed = during.filter((a) => a.status !== 200 && !a.foreign);
      const foreign = during.filter((a) => a.foreign).length;
      // What the first version of this bench computed: the fault's window against a window measured before it.
      const sequential =
        p(delayed, 0.5) -
        p(
          ok(before, () => true),
          0.5,
        );
      row(
        "latency 200 ms, stack (HTTPS via the LB, proxy-latency on web1 :80): p50 of web1's answers − p50 of web2/web3's, same window",
        '200 ± 10 ms',
        `${f(added, 1)} ms (web1 p50 ${f(p(delayed, 0.5), 1)} ms, n=${delayed.length}; ${bypassed} under 200 ms; ` +
          `${failed.length} failed${failed.length ? ` [${failed.map((a) => `#${during.indexOf(a) + 1} ${a.error ?? a.status}`).join(', ')}]` : ''}` +
          `${foreign ? `, ${foreign} with another fault's header left out` : ''})`,
        `web2/web3 p50 ${f(p(ref, 0.5), 1)} ms (n=${ref.length}); window before ${f(
          p(
            ok(before, () => true),
            0.5,
          ),
          1,
        )} ms, after ${f(
          p(
            ok(after, () => true),
            0.5,
          ),
          1,
        )} ms; against the window before (the first version's method): ${f(sequential, 1)} ms`,
        p(delayed, 0.5) / p(ref, 0.5),
        Math.abs(added - 200) <= 10 && bypassed === 0,
      );
    }

    if (wanted('stack-bandwidth')) {
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
        `without the fault ${f(900_000 / refUp / 1e6, 1)} MB/s (${f(refUp, 3)} s)`,
        rateStack / (900_000 / refUp),
        Math.abs(rateStack - 1e6) <= 1e5,
      );
    }
  } finally {
    await revertRecorded(ctx, registry, { own: true });
    agent.destroy();
  }
}

const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
console.log(`\nfault proxy figures (2 cores shared; load average ${load}; node ${process.version} here, Debian's node 18 in the helper)\n`);
const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i]!)).join('  '));
