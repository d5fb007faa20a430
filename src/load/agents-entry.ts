// One load agent (a swarm task): `node dist/load/agents-entry.js <spec>` with FAULTLINE_AGENT_SLOT set. It waits for
// the run's shared start instant, runs its share, ships the buckets no answer can change any more every checkpoint
// (so a death loses only the rest), and at the end its whole result: framed lines on stdout, read from the task's log.

import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FaultlineError } from '../errors.js';
import { agentShare, decodeSpec, frameMessage, type AgentMessage, type AgentSpec } from './agents.js';
import { startLoad } from './engine.js';
import { loadResultToJSON } from './result-json.js';
import { sleep } from '../util/sleep.js';

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
    // A bucket is final once every request filed under it has had its deadline (plus a second of slack for the sweep).
    const checkpoint = () => {
      if (!timeline) return;
      const finalUpTo = Math.floor((job.elapsedMs() - job.options.timeoutMs - 1000) / job.options.bucketMs);
      const upTo = Math.min(finalUpTo, timeline.length);
      if (upTo <= shipped) return;
      const json = timeline.toJSON();
      const fromMs = shipped * job.options.bucketMs;
      const toMs = upTo * job.options.bucketMs;
      const writes = (job.ledger?.records() ?? []).filter((w) => w.intendedMs >= fromMs && w.intendedMs < toMs);
      ship({ type: 'checkpoint', slot, from: shipped, buckets: json.buckets.slice(shipped, upTo), writes });
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
