// One load agent (a swarm task): `node dist/load/agents-entry.js <spec>` with FAULTLINE_AGENT_SLOT set. It waits for
// the run's shared start instant, runs its share, ships the buckets no answer can change any more every checkpoint
// (so a death loses only the rest, and faultline shows the run live), and at the end its whole result: framed lines on stdout, read from the task's log.

import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FaultlineError } from '../errors.js';
import { agentShare, decodeSpec, frameMessage, type AgentMessage, type AgentSpec } from './agents.js';
import { startLoad } from './engine.js';
import { loadResultToJSON } from './result-json.js';
import { sleep } from '../util/sleep.js';
import type { TimelineBucket } from './timeline.js';

/**
 * How long after its end a bucket may still receive a request: a paced sender that fell behind files a late request
 * under its intended time. Past it, a bucket whose requests all have an outcome ships (faultline merges it live).
 */
export const FINAL_SLACK_MS = 1000;

const settledBucket = (b: TimelineBucket | null) => b !== null && b.responses + b.errors >= b.sent;

/**
 * Runs agent `slot` of `spec`; `write` gets each framed line. Resolves with the exit code. `stop` (SIGTERM: the run was
 * stopped, the service scaled to 0) ends sending and lets requests in flight keep their deadlines; `signal` aborts.
 */
export async function runAgent(spec: AgentSpec, slot: number, write: (line: string) => void, signal?: AbortSignal, stop?: AbortSignal): Promise<number> {
  let seq = 0;
  const ship = (m: AgentMessage) => {
    seq += 1;
    for (const line of frameMessage(m, seq)) write(line);
  };
  try {
    const input = agentShare(spec.input, spec.agents, slot);
    ship({ type: 'ready', slot, host: hostname() });
    const wait = spec.startAtMs - Date.now();
    if (wait > 0) await sleep(wait, stop ? AbortSignal.any([stop, ...(signal ? [signal] : [])]) : signal).catch(() => undefined);
    signal?.throwIfAborted();
    const job = startLoad(input, { originMs: spec.startAtMs - (Date.now() - (performance.timeOrigin + performance.now())), ...(signal ? { signal } : {}) });
    stop?.addEventListener('abort', () => job.stop(), { once: true });
    if (stop?.aborted) job.stop();
    const timeline = job.timeline;
    let shipped = 0;
    const checkpoint = () => {
      if (!timeline) return;
      const b = job.options.bucketMs;
      const elapsed = job.elapsedMs();
      // Quiet buckets exist once they are over (up to the planned end while sending), so a slow rate still ships them.
      if (!stop?.aborted) timeline.extendTo(Math.min(elapsed - FINAL_SLACK_MS, job.options.durationMs));
      // Final at the latest once every request filed under it had its deadline (plus a second for the sweep); earlier
      // when it is over by FINAL_SLACK_MS and it and every bucket before it hold an outcome for each request sent.
      let upTo = Math.max(shipped, Math.min(Math.floor((elapsed - job.options.timeoutMs - 1000) / b), timeline.length));
      const over = Math.min(Math.floor((elapsed - FINAL_SLACK_MS) / b), timeline.length);
      while (upTo < over && settledBucket(timeline.bucket(upTo))) upTo += 1;
      if (upTo <= shipped) return;
      const fromMs = shipped * b;
      const toMs = upTo * b;
      const writes = (job.ledger?.records() ?? []).filter((w) => w.intendedMs >= fromMs && w.intendedMs < toMs);
      ship({ type: 'checkpoint', slot, from: shipped, buckets: timeline.toJSONRange(shipped, upTo).buckets, writes });
      shipped = upTo;
    };
    const timer = setInterval(checkpoint, spec.checkpointMs);
    try {
      const result = await job.result;
      ship({ type: 'result', slot, result: loadResultToJSON(result) });
      return 0;
    } finally {
      clearInterval(timer);
    }
  } catch (err) {
    const code = err instanceof FaultlineError ? err.code : 'INTERNAL';
    ship({ type: 'error', slot, code, message: err instanceof Error ? err.message : String(err) });
    return 3;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const controller = new AbortController();
  const stopping = new AbortController();
  process.once('SIGTERM', () => stopping.abort());
  process.once('SIGINT', () => controller.abort());
  const slot = Number(process.env.FAULTLINE_AGENT_SLOT ?? '1');
  let spec: AgentSpec;
  try {
    spec = decodeSpec(process.argv[2] ?? '');
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n`);
    process.exit(2);
  }
  void runAgent(spec, slot, (line) => process.stdout.write(`${line}\n`), controller.signal, stopping.signal).then((code) => {
    process.exitCode = code;
  });
}
