// Benchmark of the load engine against references measured in the same run, on the same local nginx:
// closed driver vs bare autocannon CLI vs wrk (max req/s, median of interleaved rounds), the paced driver's schedule
// accuracy at rising rates, and "truth under faults" (bench/load-truth.ts) against a server that logs what it answered.
// Run: node --import=tsx bench/load.ts   (installs nginx and wrk from Debian if missing; stops its nginx at the end)
// BENCH_SECTIONS=closed,paced,truth picks sections; BENCH_ROUNDS (default 5), BENCH_SECONDS, BENCH_CONNECTIONS.

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../src/load/index.js';
import { truthUnderFaults } from './load-truth.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CLOSED_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'closed,paced,truth').split(','));
const PACED_SECONDS = 5;
const PACED_RATES = (process.env.BENCH_RATES ?? '1000,5000,10000,15000,20000').split(',').map(Number);

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureTools(): void {
  const missing = ['nginx', 'wrk'].filter((c) => !which(c) && !existsSync(`/usr/sbin/${c}`));
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} from Debian …`);
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk'], { stdio: 'inherit' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/** A private nginx on a loopback port: one worker (the other core is the client's), a static 200, no logs. */
async function startNginx(): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const nginxBin = which('nginx') ? 'nginx' : '/usr/sbin/nginx';
  const child: ChildProcess = spawn(nginxBin, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Wait until it accepts connections (bounded).
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i === 99) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: async () => {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function bareAutocannon(url: string): Promise<number> {
  const out = await run(join(root, 'node_modules/.bin/autocannon'), ['-c', String(CONNECTIONS), '-d', String(CLOSED_SECONDS), '-n', '-j', url]);
  const r = JSON.parse(out) as { requests: { total: number }; duration: number; non2xx: number; errors: number };
  return r.requests.total / r.duration;
}

async function wrk(url: string): Promise<number> {
  const out = await run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${CLOSED_SECONDS}s`, url]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot read wrk output: ${out}`);
  return Number(m[1]);
}

async function closedDriver(url: string, workers = 1): Promise<{ rate: number; p99: number | null; errors: number }> {
  const r = await runLoad({ url, connections: CONNECTIONS, workers, durationMs: CLOSED_SECONDS * 1000 });
  return { rate: (r.summary.successes * 1000) / r.summary.durationMs, p99: r.summary.latency.p99, errors: r.summary.errors };
}

function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined ? '–' : n.toFixed(digits);
}

async function main(): Promise<void> {
  ensureTools();
  const nginx = await startNginx();
  const onSignal = () => {
    void nginx.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`target ${nginx.url} (nginx, 1 worker); ${cpus().length} cores; load average ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`);
    // Warm both the target and this process's JIT before measuring.
    await runLoad({ url: nginx.url, connections: CONNECTIONS, durationMs: 2000 });

    if (SECTIONS.has('closed')) await closedRounds(nginx.url);
    if (SECTIONS.has('paced')) await pacedAccuracy(nginx.url);
  } finally {
    await nginx.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (SECTIONS.has('truth')) await truthUnderFaults();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function closedRounds(url: string): Promise<void> {
  console.log(`\n## closed: max req/s, ${CONNECTIONS} connections, ${CLOSED_SECONDS} s, median of ${ROUNDS} interleaved rounds`);
  const got = { autocannon: [] as number[], ours: [] as number[], ours2: [] as number[], wrk: [] as number[], p99: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    const ac = await bareAutocannon(url);
    const ours = await closedDriver(url);
    const ours2 = await closedDriver(url, 2);
    const w = await wrk(url);
    console.log(
      `round ${round}: autocannon ${fmt(ac)}  faultline closed ${fmt(ours.rate)} (p99 ${fmt(ours.p99, 2)} ms, errors ${ours.errors})  ` +
        `--workers 2 ${fmt(ours2.rate)}  wrk ${fmt(w)}  ratio ${(ours.rate / ac).toFixed(2)} / ${(ours.rate / w).toFixed(2)}`,
    );
    got.autocannon.push(ac);
    got.ours.push(ours.rate);
    got.ours2.push(ours2.rate);
    got.wrk.push(w);
    if (ours.p99 !== null) got.p99.push(ours.p99);
  }
  const m = { autocannon: median(got.autocannon), ours: median(got.ours), ours2: median(got.ours2), wrk: median(got.wrk) };
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log('\n| tool | median req/s | faultline 1 thread / tool | faultline 2 workers / tool | goal |');
  console.log('|---|---:|---:|---:|---|');
  console.log(`| faultline closed, 1 thread (timeline recorded) | ${fmt(m.ours)} | 1.00 | ${ratio(m.ours2, m.ours)} | |`);
  console.log(`| faultline closed, --workers 2 | ${fmt(m.ours2)} | ${ratio(m.ours, m.ours2)} | 1.00 | |`);
  console.log(
    `| autocannon CLI | ${fmt(m.autocannon)} | ${ratio(m.ours, m.autocannon)} | ${ratio(m.ours2, m.autocannon)} | ≥ 0.95 (1 thread): ${m.ours >= 0.95 * m.autocannon ? 'met' : 'NOT met'} |`,
  );
  console.log(
    `| wrk -t1 | ${fmt(m.wrk)} | ${ratio(m.ours, m.wrk)} | ${ratio(m.ours2, m.wrk)} | ≥ 0.7: ${Math.max(m.ours, m.ours2) >= 0.7 * m.wrk ? 'met' : 'NOT met'} |`,
  );
  console.log(`faultline closed p99 (median of rounds) ${fmt(got.p99.length ? median(got.p99) : null, 2)} ms`);
}

async function pacedAccuracy(url: string): Promise<void> {
  console.log(`\n## paced: schedule accuracy, ${PACED_SECONDS} s per rate`);
  console.log('| target req/s | achieved req/s | deviation | send lag p50 | send lag p99 | dropped | latency p50 | latency p99 | ok |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|:---:|');
  let sustained = 0;
  let allHeld = true;
  for (const rate of PACED_RATES) {
    const r = await runLoad({ url, rate, durationMs: PACED_SECONDS * 1000 });
    const s = r.schedule;
    if (!s) throw new Error('paced run without schedule figures');
    const dev = s.achievedRate / rate - 1;
    const ok = Math.abs(dev) <= 0.01 && (s.lag.p99 ?? Infinity) < 2 && r.dropped === 0 && r.summary.errors === 0;
    // The sustained rate is the top of the unbroken run of rates that all held.
    if (ok && allHeld) sustained = rate;
    else allHeld = false;
    console.log(
      `| ${rate} | ${fmt(s.achievedRate, 1)} | ${(dev * 100).toFixed(2)}% | ${fmt(s.lag.p50, 3)} ms | ${fmt(s.lag.p99, 3)} ms | ${r.dropped} | ` +
        `${fmt(r.summary.latency.p50, 2)} ms | ${fmt(r.summary.latency.p99, 2)} ms | ${ok ? 'yes' : 'no'} |`,
    );
  }
  console.log(`\nhighest rate held within ±1% with send lag p99 < 2 ms and nothing dropped: ${sustained || 'none of those tried'} req/s`);
}

await main();
