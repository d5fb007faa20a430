// A partition between two swarm nodes measured with the same truth checks as on one machine (issue 20's goal): paced
// load (100 req/s, 100 ms buckets, 2 s timeout) from 127.0.0.1 through the fixture's HAProxy front on the manager to
// `app`, whose only replica is pinned to faultline-node-3 (test/fixtures/swarm/fl-pt-stack.yml), so every request
// crosses node-3 ↔ manager. node-partition (node=faultline-node-3, peer=manager) is held HOLD_MS and reverted, and the
// load's own account (each request filed at its intended time, every one with one outcome) gives:
//   - failed share of the requests intended while the rules were in place (from the inject's return to the revert's
//     call): must be ≥ 98 %; the same over the journal's window (from the inject's call), which holds the apply's time;
//   - time to detect (the recovery analysis of the one-machine runs, src/probes/recovery.ts): must be ≤ 1 s from the
//     inject's call, and the first second with failures;
//   - recovery after the revert: first success, and the recovery analysis' time to recover (a 3 s healthy run).
// Stack: fl-pt (FL_PT_STACK), deployed and removed here. Run: node --import=tsx bench/swarm-partition.ts
// BENCH_RUNS (default 1) rounds on one deploy.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { attachStack } from '../src/stack/attach.js';
import { resolveStackOptions } from '../src/stack/config.js';
import { DockerClient } from '../src/stack/docker-client.js';
import { readSwarmRecord } from '../src/swarm/swarm-record.js';
import { shipImages } from '../src/swarm/ship-images.js';
import { createFaultContext, defaultRegistry, injectFault } from '../src/faults/index.js';
import { startLoad } from '../src/load/index.js';
import type { Timeline } from '../src/load/timeline.js';
import { analyzeRecovery } from '../src/probes/recovery.js';
import { retryUntil } from '../src/util/retry.js';
import { sleep } from '../src/util/sleep.js';

const run = promisify(execFile);
export const PT_STACK = process.env.FL_PT_STACK ?? 'fl-pt';
export const PT_NODE = 'faultline-node-3';
export const PT_DESCRIPTION = 'test/fixtures/swarm/fl-pt.stack.yaml';
const URL_ = 'http://127.0.0.1:18092/';
const RATE = 100;
const BUCKET_MS = 100;
const TIMEOUT_MS = 2000;
const LEAD_MS = 8000;
const HOLD_MS = 10_000;
const TAIL_MS = 15_000;
const manager = new DockerClient();

async function image(prefix: string): Promise<string> {
  const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', prefix]);
  const tag = stdout.split('\n')[0]?.trim();
  if (!tag) throw new Error(`no ${prefix} image: run faultline stack up first`);
  return tag;
}

const answers = async () => (await fetch(URL_, { signal: AbortSignal.timeout(2000) })).ok;

/** Deploys fl-pt (app on node-3, front on the manager) and waits until the front answers through app. */
export async function deployPartitionStack(repoRoot = process.cwd()): Promise<void> {
  const host = await image('faultline/host');
  const lb = await image('faultline/lb');
  const engines = (await readSwarmRecord(resolveStackOptions().home))!.engines;
  await shipImages(manager, { [PT_NODE]: engines[PT_NODE]! }, [host]);
  await run('docker', ['stack', 'deploy', '-c', 'test/fixtures/swarm/fl-pt-stack.yml', PT_STACK], {
    cwd: repoRoot,
    env: { ...process.env, FL_TASKS_IMAGE: host, FL_FRONT_IMAGE: lb },
  });
  // Three answers in a row: the front's check has app up and the name resolves.
  let inRow = 0;
  await retryUntil(
    async () => (inRow = (await answers().catch(() => false)) ? inRow + 1 : 0),
    (n) => n >= 3,
    { timeoutMs: 180_000, intervalMs: 1000, what: `app on ${PT_NODE} answering through the front on 18092` },
  );
}

export async function removePartitionStack(): Promise<void> {
  await run('docker', ['stack', 'rm', PT_STACK]).catch(() => undefined);
}

export interface PartitionFigures {
  /** Load time (ms) of the inject's call (the journal's window start), its return, the revert's call and return. */
  startMs: number;
  effectiveMs: number;
  endMs: number;
  revertedMs: number;
  /** Requests intended while the rules were in place [effectiveMs, endMs): outcomes, failed, failed share. */
  crossed: { outcomes: number; failed: number; failedShare: number; statuses: Record<string, number>; errorCodes: Record<string, number> };
  /** The same over the journal's window [startMs, endMs). */
  journal: { outcomes: number; failed: number; failedShare: number };
  /** Successes intended inside [effectiveMs, endMs): when (bucket starts, ms), to tell where a miss came from. */
  successBuckets: number[];
  /** Recovery analysis (100 ms buckets): fault start → first bucket below baseline; fault end → a 3 s healthy run. */
  timeToDetectMs: number | null;
  timeToRecoverMs: number | null;
  /** The first whole second holding a failure, and the second of the inject's call. */
  firstFailedSecond: number | null;
  startSecond: number;
  /** The first bucket after the revert's call with a success, − the revert's call (ms). */
  firstSuccessAfterEndMs: number | null;
  /** Requests intended in the 2 s before the inject's call that failed (in flight when the rules went in). */
  failedBefore: number;
  perSecond: Array<{ s: number; outcomes: number; successes: number }>;
  baselineRatio: number | null;
}

/** The truth figures from a finished run's timeline and the fault's four instants. Pure. */
export function partitionFigures(timeline: Timeline, w: { startMs: number; effectiveMs: number; endMs: number; revertedMs: number }): PartitionFigures {
  const share = (from: number, to: number) => {
    const x = timeline.window(from, to);
    const failed = x.outcomes - x.successes;
    return { outcomes: x.outcomes, failed, failedShare: x.outcomes ? failed / x.outcomes : 0, statuses: x.statuses, errorCodes: x.errorCodes };
  };
  const b = timeline.bucketMs;
  // Whole buckets inside the window: a bucket the window only partly covers holds requests from either side.
  const inFrom = Math.ceil(w.effectiveMs / b) * b;
  const inTo = Math.floor(w.endMs / b) * b;
  const crossed = share(inFrom, inTo);
  const journalAll = share(Math.floor(w.startMs / b) * b, inTo);
  const successBuckets: number[] = [];
  for (let i = inFrom / b; i < inTo / b; i++) if ((timeline.bucket(i)?.successes ?? 0) > 0) successBuckets.push(i * b);
  const rec = analyzeRecovery(timeline, [{ name: 'node-partition', startMs: w.startMs, endMs: w.endMs }]);
  const perSecond = timeline.perSecond().map((x) => ({ s: Math.round(x.startMs / 1000), outcomes: x.outcomes, successes: x.successes }));
  const startSecond = Math.floor(w.startMs / 1000);
  const firstFailedSecond = perSecond.find((x) => x.s >= startSecond && x.outcomes > x.successes)?.s ?? null;
  let firstSuccessAfterEndMs: number | null = null;
  for (let i = Math.floor(w.endMs / b); i < timeline.length; i++)
    if ((timeline.bucket(i)?.successes ?? 0) > 0) {
      firstSuccessAfterEndMs = Math.max(0, i * b - w.endMs);
      break;
    }
  const before = share(Math.max(0, w.startMs - 2000), Math.floor(w.startMs / b) * b);
  return {
    ...w,
    crossed,
    journal: { outcomes: journalAll.outcomes, failed: journalAll.failed, failedShare: journalAll.failedShare },
    successBuckets,
    timeToDetectMs: rec.faults[0]?.timeToDetectMs ?? null,
    timeToRecoverMs: rec.faults[0]?.timeToRecoverMs ?? null,
    firstFailedSecond,
    startSecond,
    firstSuccessAfterEndMs,
    failedBefore: before.failed,
    perSecond,
    baselineRatio: rec.baseline.successRatio,
  };
}

/** One round on a deployed fl-pt: load, the partition held HOLD_MS and reverted, the figures. */
export async function measurePartition(
  log: (line: string) => void = console.log,
  signal: AbortSignal = AbortSignal.timeout(180_000),
): Promise<PartitionFigures> {
  const stack = await attachStack({ stackFile: PT_DESCRIPTION });
  const ctx = createFaultContext(stack, { log: (l) => log(`        ${l}`), holdMs: HOLD_MS + 60_000 });
  const job = startLoad({ url: URL_, rate: RATE, durationMs: LEAD_MS + HOLD_MS + TAIL_MS, timeoutMs: TIMEOUT_MS, bucketMs: BUCKET_MS }, { signal });
  try {
    await sleep(LEAD_MS - job.elapsedMs(), signal);
    const startMs = job.elapsedMs();
    const active = await injectFault(ctx, defaultRegistry().configure('node-partition', { target: `node=${PT_NODE}`, params: { peer: 'manager' } }), signal, {
      holdMs: HOLD_MS,
    });
    // As the experiment runner does: the window opens at the inject's call and closes at the revert's.
    const window = job.openFault('node-partition', startMs);
    const effectiveMs = job.elapsedMs();
    let endMs = effectiveMs;
    try {
      await sleep(HOLD_MS, signal);
    } finally {
      endMs = job.elapsedMs();
      window.close(endMs);
      await active.revert();
    }
    const revertedMs = job.elapsedMs();
    const result = await job.result;
    return partitionFigures(result.timeline, { startMs, effectiveMs, endMs, revertedMs });
  } finally {
    job.stop();
    await job.result.catch(() => undefined);
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const sec = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);

export function formatFigures(f: PartitionFigures): string[] {
  const lines = [
    `inject called at ${sec(f.startMs)}, in effect at ${sec(f.effectiveMs)} (apply ${sec(f.effectiveMs - f.startMs)}), revert called at ${sec(f.endMs)}, returned at ${sec(f.revertedMs)}`,
    `crossed while in effect: ${f.crossed.failed}/${f.crossed.outcomes} failed = ${pct(f.crossed.failedShare)} (goal ≥ 98 %); statuses ${JSON.stringify(f.crossed.statuses)}, errors ${JSON.stringify(f.crossed.errorCodes)}`,
    `journal window (from the inject's call): ${f.journal.failed}/${f.journal.outcomes} failed = ${pct(f.journal.failedShare)}`,
    `successes inside the window: ${f.successBuckets.length ? f.successBuckets.map((ms) => sec(ms)).join(', ') : 'none'}`,
    `time to detect ${sec(f.timeToDetectMs)} (goal ≤ 1 s); first failed second ${f.firstFailedSecond ?? 'none'} (inject in second ${f.startSecond})`,
    `in flight at the inject (2 s before it) and failed: ${f.failedBefore}`,
    `recovery: first success ${sec(f.firstSuccessAfterEndMs)} after the revert's call; time to recover (3 s healthy) ${sec(f.timeToRecoverMs)}; baseline ${f.baselineRatio === null ? '?' : pct(f.baselineRatio)}`,
    '   s  outcomes  ok',
  ];
  for (const x of f.perSecond)
    if (x.outcomes !== x.successes || Math.abs(x.s * 1000 - f.startMs) < 2000 || Math.abs(x.s * 1000 - f.endMs) < 3000)
      lines.push(`${String(x.s).padStart(4)} ${String(x.outcomes).padStart(9)} ${String(x.successes).padStart(4)}`);
  return lines;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_RUNS ?? 1);
  await deployPartitionStack();
  for (let i = 1; i <= rounds; i++) {
    console.log(`\n## round ${i}: node-partition ${PT_NODE} ↔ manager, ${HOLD_MS / 1000} s under ${RATE} req/s`);
    for (const l of formatFigures(await measurePartition())) console.log(l);
    if (i < rounds) await sleep(5000);
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  await main()
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => (process.env.BENCH_KEEP ? undefined : removePartitionStack()));
