// What `--out prometheus` costs the paced driver: the same paced run at 5 000 req/s against a local fast server, with
// and without a remote-write output (to a local receiver that accepts and discards), interleaved rounds, process CPU
// time per run (process.cpuUsage: the load's own process; server and receiver run in a child process). The bar: the
// output costs under 2 % of one core. Besides the A/B difference (noisy on a shared machine), the output's own work is
// timed directly: its synchronous part (series of final seconds, encoding) and its pushes (CPU per push measured alone).
// Run: node --import=tsx bench/remote-write.ts   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_RATE, BENCH_AA=1 for the noise)

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startLoad, type LoadEvent } from '../src/load/index.js';
import { RemoteWriteOutput } from '../src/load/remote-write.js';
import { RunSeries } from '../src/load/remote-write-series.js';

const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_AA=1: both sides without the output, to see how large the machine's noise is against the difference. */
const AA = process.env.BENCH_AA === '1';

/** Wall time spent inside the output's synchronous work (series of final seconds, encoding, queueing), summed. */
let ownMs = 0;
function timed<T extends object>(proto: T, name: keyof T): void {
  const orig = proto[name] as (...args: unknown[]) => unknown;
  (proto as Record<keyof T, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return orig.apply(this, args);
    } finally {
      ownMs += performance.now() - t;
    }
  };
}

/** The child: a fast plain-HTTP server (200 "ok") and a receiver that reads each push and answers 204. */
async function child(): Promise<void> {
  const { createServer } = await import('node:http');
  let pushes = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    if (req.url === '/api/v1/write') {
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        pushes += 1;
        res.writeHead(204).end();
      });
    } else if (req.url === '/stats') res.end(JSON.stringify({ pushes, bytes }));
    else {
      req.resume();
      res.end('ok\n');
    }
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
}

interface Round {
  cpuMs: number;
  /** Of it, the output's own synchronous work (0 without it). */
  ownMs: number;
  sent: number;
}

async function round(base: string, withOutput: boolean): Promise<Round> {
  const output = withOutput ? new RemoteWriteOutput({ url: `${base}/api/v1/write` }) : null;
  const cpu = process.cpuUsage();
  ownMs = 0;
  let listen: ((e: LoadEvent) => void) | null = null;
  const job = startLoad({ url: `${base}/`, rate: RATE, durationMs: SECONDS * 1000, connections: 64 }, { onEvent: (e) => listen?.(e) });
  if (output) listen = output.follow(job, { experiment: 'bench' });
  const result = await job.result;
  await output?.close();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, ownMs, sent: result.summary.sent };
}

/** CPU ms of one push of a typical second's series (about 25 series), the median of 50. */
async function pushCost(base: string): Promise<number> {
  const out = new RemoteWriteOutput({ url: `${base}/api/v1/write` });
  const series = Array.from({ length: 25 }, (_, i) => ({
    labels: [
      { name: '__name__', value: `faultline_x${i}` },
      { name: 'run', value: 'bench' },
    ],
    samples: [{ value: i, timestamp: Date.now() }],
  }));
  const costs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const cpu = process.cpuUsage();
    out.enqueue(series);
    await out.close();
    const used = process.cpuUsage(cpu);
    costs.push((used.user + used.system) / 1000);
  }
  return median(costs);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)} %`;

async function main(): Promise<void> {
  timed(RunSeries.prototype, 'due');
  timed(RunSeries.prototype, 'finish');
  timed(RemoteWriteOutput.prototype, 'enqueue');
  const proc = fork(fileURLToPath(import.meta.url), ['child'], { execArgv: ['--import=tsx'], stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => proc.once('message', (m) => resolve(Number(m))));
  const base = `http://127.0.0.1:${port}`;
  try {
    await round(base, false); // warm-up: JIT, sockets
    await round(base, true); // and fetch's first use
    const plain: Round[] = [];
    const output: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, so drift in the machine's load (it is shared) falls on both sides alike.
      plain.push(await round(base, false));
      output.push(await round(base, !AA));
    }
    const stats = JSON.parse(await (await fetch(`${base}/stats`)).text()) as { pushes: number; bytes: number };
    // A share of one core over the load's own duration: CPU ms per ms of load (every run lasts SECONDS).
    const share = (ms: number) => ms / (SECONDS * 1000);
    const a = share(median(plain.map((r) => r.cpuMs)));
    const b = share(median(output.map((r) => r.cpuMs)));
    const own = share(median(output.map((r) => r.ownMs)));
    const perPush = await pushCost(base);
    const pushesPerRun = stats.pushes / (ROUNDS + 1);
    const pushes = share(perPush * pushesPerRun);
    console.log(`paced ${RATE} req/s for ${SECONDS} s, ${ROUNDS} interleaved rounds each (median), process CPU as a share of one core:`);
    console.log(`  without output (reference): ${pct(a)}  (${median(plain.map((r) => r.cpuMs)).toFixed(0)} ms CPU, ${median(plain.map((r) => r.sent))} sent)`);
    console.log(
      `  with --out prometheus:      ${pct(b)}  (${median(output.map((r) => r.cpuMs)).toFixed(0)} ms CPU, ${median(output.map((r) => r.sent))} sent)`,
    );
    console.log(`  difference (A/B):           ${pct(b - a)} of one core, ratio with/without ${(b / a).toFixed(3)}  (bar: < 2 %)`);
    console.log(
      `  the output's own work:      ${pct(own, 3)} (series, encoding) + ${pct(pushes, 3)} (${pushesPerRun.toFixed(1)} pushes × ${perPush.toFixed(2)} ms CPU) = ${pct(own + pushes, 3)} of one core, ${pct((own + pushes) / a)} of the reference's CPU`,
    );
    console.log(
      `  rounds (CPU ms): without ${plain.map((r) => r.cpuMs.toFixed(0)).join(' ')}; with ${output.map((r) => r.cpuMs.toFixed(0)).join(' ')}${AA ? ' (A/A: both without)' : ''}`,
    );
    console.log(`  receiver: ${stats.pushes} pushes, ${(stats.bytes / 1024).toFixed(1)} KiB`);
  } finally {
    proc.kill();
  }
}

if (process.argv[2] === 'child') await child();
else await main();
