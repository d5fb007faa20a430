// "Stop when it hurts" (issue 18), goal: breach → first revert call < 1 s. A local server starts failing at a known
// time under paced load while two fake faults are held; stop_when (availability < 0.5 over 500 ms) fires, and the
// fault engine's revert of each is timed on the load's clock. Printed against the bucket width of the same run.
// Run: node --import=tsx bench/stop.ts [repetitions, default 3]

import { z } from 'zod';
import { startLoad } from '../src/load/index.js';
import { FaultRegistry, type AnyFaultDefinition } from '../src/faults/index.js';
import { runMethod } from '../src/experiment/scheduler.js';
import { stopConditionSchema } from '../src/experiment/stop-conditions.js';
import { FakeDocker, fakeContext } from '../test/helpers/fake-docker.js';
import { okHandler, sleep, startServer } from '../test/load/_support.js';

const BUCKET = 100;
const FAIL_AT = 2500;
const OVER = '500ms';

interface Row {
  /** The check that saw the breach → the scheduler calling the first fault's revert(). */
  checkToRevertCallMs: number;
  /** The check that saw the breach → the first fault definition's revert running (after the engine reads its record). */
  checkToRevertMs: number;
  /** The server's first failure → the check that saw it (the window filling, plus the check's cadence). */
  failToCheckMs: number;
  /** The server's first failure → the first revert call. */
  failToRevertMs: number;
}

async function once(): Promise<Row> {
  let failing = false;
  const server = await startServer({ handler: (req, res) => (failing ? res.writeHead(500).end() : okHandler(req, res)) });
  try {
    const faultCtx = await fakeContext(new FakeDocker());
    const reverts: number[] = [];
    const job = startLoad({ url: server.url, rate: 300, durationMs: 15_000, timeoutMs: 2000, bucketMs: BUCKET });
    const fake = (name: string): AnyFaultDefinition => ({
      name,
      kind: 'process',
      description: 'bench',
      params: z.object({}),
      data: z.object({}),
      plan: async () => ({ targets: [], steps: [], slots: [name], data: {} }),
      apply: async () => undefined,
      revert: async () => void reverts.push(job.elapsedMs()),
      check: async () => ({ active: true, detail: '' }),
    });
    const failedAt = (async () => {
      await sleep(FAIL_AT - job.elapsedMs());
      failing = true;
      return job.elapsedMs();
    })();
    const method = await runMethod(
      [
        { fault: 'fake-a', at: 0, for: 12_000, params: {} },
        { fault: 'fake-b', at: 300, for: 12_000, params: {} },
      ],
      job,
      {
        stack: faultCtx.stack,
        faults: new FaultRegistry([fake('fake-a'), fake('fake-b')]),
        probe: () => {
          throw new Error('no probes in this bench');
        },
        active: new Set(),
        signal: AbortSignal.timeout(60_000),
        log: () => undefined,
        loadDurationMs: 15_000,
        stopWhen: [stopConditionSchema.parse({ metric: 'availability', below: 0.5, over: OVER })],
      },
    );
    const fail = await failedAt;
    const stop = method.stop;
    if (!stop || !reverts.length) throw new Error('the stop condition did not fire');
    const firstRevert = Math.min(...reverts);
    return {
      checkToRevertCallMs: stop.firstRevertAfterMs ?? Number.NaN,
      checkToRevertMs: firstRevert - stop.atMs,
      failToCheckMs: stop.atMs - fail,
      failToRevertMs: firstRevert - fail,
    };
  } finally {
    await server.close();
  }
}

const reps = Number(process.argv[2] ?? 3);
const rows: Row[] = [];
for (let i = 0; i < reps; i++) rows.push(await once());
const fmt = (ms: number) => `${ms.toFixed(1).padStart(7)} ms  (${(ms / BUCKET).toFixed(3)} × bucket)`;
const worst = (k: keyof Row) => Math.max(...rows.map((r) => r[k]));
const median = (k: keyof Row) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)] as number;
console.log(`stop when it hurts: ${reps} runs, paced 300 req/s, bucket ${BUCKET} ms, stop_when availability < 0.5 over ${OVER}`);
console.log('                              median                         worst');
for (const [label, k] of [
  ['breach seen → revert() called', 'checkToRevertCallMs'],
  ['breach seen → fault reverting', 'checkToRevertMs'],
  ['failure start → breach seen', 'failToCheckMs'],
  ['failure start → first revert', 'failToRevertMs'],
] as const)
  console.log(`${label.padEnd(30)}${fmt(median(k))}   ${fmt(worst(k))}`);
console.log(`goal: breach → first revert < 1000 ms: ${worst('checkToRevertMs') < 1000 ? 'met' : 'NOT met'}`);
