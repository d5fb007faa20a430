// The HTTP faults at the TLS edge against their goal (issue 22): edge-abort of 30 % → the client's failure ratio over
// HTTPS within ±2 pp of 30 %; edge-delay of 30 % by D ms → the share of requests delayed and the delay they got.
// Ground truth is the client: N GETs over HTTPS (verified against the stack's CA) on keep-alive connections, each
// request's status and latency as this process saw it. The reference is the same requests without a fault, measured
// in the same run right before (failure ratio, p50), so the delay is read against the p50 of the same machine.
//
// Run (the stack must be up; uses FAULTLINE_* like the CLI):  node --import=tsx bench/edge-http.ts
// BENCH_REQUESTS (default 10 000), BENCH_DELAY_MS (default 200). Each fault is reverted, also on Ctrl-C.

import https from 'node:https';
import { attachStack } from '../src/stack/attach.js';
import { createFaultContext, defaultRegistry, injectFault, type ActiveFault } from '../src/faults/index.js';

const N = Number(process.env.BENCH_REQUESTS ?? 10_000);
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 200);
const CONCURRENCY = 16;

const stack = await attachStack();
const ctx = createFaultContext(stack, { holdMs: 900_000 });
const registry = defaultRegistry();
const ca = await stack.ca();
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));

interface Outcome {
  ok: boolean;
  status: number | string;
  ms: number;
}

async function requests(n: number, path: string): Promise<Outcome[]> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ...(ca ? { ca } : { rejectUnauthorized: false }) });
  const one = () =>
    new Promise<Outcome>((resolve) => {
      const t0 = performance.now();
      https
        .get({ host: '127.0.0.1', port: new URL(stack.httpsUrl).port || 443, path, agent, servername: 'localhost' }, (res) => {
          res.resume();
          res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode ?? 0, ms: performance.now() - t0 }));
        })
        .on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, status: err.code ?? 'error', ms: performance.now() - t0 }));
    });
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n && !interrupt.signal.aborted) {
        next += 1;
        out.push(await one());
      }
    }),
  );
  agent.destroy();
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};
const failRatio = (xs: Outcome[]) => xs.filter((o) => !o.ok).length / xs.length;

async function during(fault: string, params: Record<string, unknown>, n: number): Promise<Outcome[]> {
  let active: ActiveFault | undefined;
  try {
    active = await injectFault(ctx, registry.configure(fault, { params }), AbortSignal.any([interrupt.signal, AbortSignal.timeout(60_000)]), {
      holdMs: 900_000,
    });
    const out = await requests(n, '/whoami');
    // On a shared stack another process's `faultline revert --all` may take the fault mid-run: then the figures are not the fault's.
    const still = await active.check();
    if (!still.active) throw new Error(`${fault} was no longer in effect at the end of the run (${still.detail}): reverted by another process? run again`);
    return out;
  } finally {
    await active?.revert().catch((err: unknown) => console.error(`revert: ${(err as Error).message}`));
  }
}

const reference = await requests(N, '/whoami');
const refP50 = quantile(
  reference.map((o) => o.ms),
  0.5,
);
const abort = await during('edge-abort', { percent: 30, path: '/whoami' }, N);
const after = await requests(Math.min(N, 2000), '/whoami');
const delayN = Math.min(N, 3000);
const delayed = await during('edge-delay', { percent: 30, delay: `${DELAY_MS}ms`, path: '/whoami' }, delayN);

const aborted = failRatio(abort);
const off = Math.abs(aborted - 0.3) * 100;
// A request counts as delayed when it took at least the delay plus the reference p50 minus a margin of half the delay.
const slowBound = refP50 + DELAY_MS / 2;
const slow = delayed.filter((o) => o.ms >= slowBound);
const added = quantile(
  slow.map((o) => o.ms),
  0.5,
);

console.log(`\nfaultline edge HTTP faults, stack ${stack.project}, ${stack.httpsUrl} (HTTPS, ${CONCURRENCY} keep-alive connections; 2 cores shared)\n`);
console.log(
  `reference, no fault:     ${reference.length} requests, failure ratio ${pct(failRatio(reference))}, p50 ${refP50.toFixed(1)} ms, p99 ${quantile(
    reference.map((o) => o.ms),
    0.99,
  ).toFixed(1)} ms`,
);
console.log(
  `edge-abort 30 %:         ${abort.length} requests, failure ratio ${pct(aborted)} (goal 30 % ± 2 pp: ${off.toFixed(2)} pp off ${off <= 2 ? '✓' : '✗'}); ` +
    `statuses ${JSON.stringify(Object.fromEntries([...new Set(abort.map((o) => o.status))].map((s) => [s, abort.filter((o) => o.status === s).length])))}`,
);
console.log(`after its revert:        ${after.length} requests, failure ratio ${pct(failRatio(after))}`);
console.log(
  `edge-delay 30 % ${DELAY_MS} ms:  ${delayed.length} requests, ${pct(slow.length / delayed.length)} took ≥ p50 + ${DELAY_MS / 2} ms; ` +
    `their p50 ${added.toFixed(1)} ms = reference p50 + ${(added - refP50).toFixed(1)} ms (asked ${DELAY_MS} ms); failure ratio ${pct(failRatio(delayed))}`,
);
console.log('\nHAProxy picks by a counter (request n of the matching ones when n·373 mod 1000 < 300): the share is exact per 1 000, not a sample.');
