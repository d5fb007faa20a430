// Load from many agents (processes on other machines), the pure part: what each agent is told (its spec, as one base64
// word), its share of the rate or the connections, how it ships its timeline back through a log (framed lines), and
// the exact merge of what the agents shipped: bucket by bucket with the threads' own merge (Timeline.merge), never an
// average of percentiles. An agent that died is named and its share from its last shipped bucket on counts as failed.

import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { FaultlineError, invalidInput } from '../errors.js';
import { WriteLedger, type WriteLedgerJSON, type WriteRecord } from './ledger.js';
import { loadResultFromJSON, type LoadResultJSON } from './result-json.js';
import { RateSchedule, rateStages } from './schedule.js';
import { Timeline, type TimelineBucketJSON, type TimelineJSON } from './timeline.js';
import { split } from './workers.js';
import { toSettings } from './options.js';
import type { LoadOptions, LoadOptionsInput, LoadResult, RateInput, RateStage, ScheduleAccuracy } from './types.js';

/** The error code a dead agent's unmeasured share is filed under. */
export const AGENT_LOST = 'AGENT_LOST';
/** Every line an agent ships starts with this (and its slot), so faultline finds them among any other output. */
export const AGENT_LINE = 'FLAGENT1';
/** Characters of payload per line: under Docker's 16 KiB log-line split, so one line is one log message. */
export const CHUNK_CHARS = 12_000;

/** What every agent of a run is given; its slot (1..agents) comes from the orchestrator ({{.Task.Slot}}). */
export interface AgentSpec {
  version: 1;
  agents: number;
  /** t = 0 of every agent's timeline, epoch ms on the machines' (NTP-synchronised) clocks. */
  startAtMs: number;
  /** How often an agent ships the buckets no answer can change any more. */
  checkpointMs: number;
  /** The whole run's load input (the agent takes its share): JSON-safe, the CA as PEM text. */
  input: LoadOptionsInput;
}

const specSchema = z.object({
  version: z.literal(1),
  agents: z.number().int().min(1).max(64),
  startAtMs: z.number().positive(),
  checkpointMs: z.number().int().min(100).max(60_000),
  input: z.record(z.unknown()).refine((v) => typeof v.url === 'string', 'input.url is required'),
});

export function encodeSpec(spec: AgentSpec): string {
  return Buffer.from(JSON.stringify(spec)).toString('base64url');
}

export function decodeSpec(text: string): AgentSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidInput('spec', 'is not base64 JSON');
  }
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput('spec', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data as unknown as AgentSpec;
}

/** A rate divided by n: every stage's from and to, so the agents' schedules add up to the whole one. */
export function rateShare(rate: RateInput, n: number): RateInput {
  if (typeof rate === 'number') return rate / n;
  if (Array.isArray(rate)) return rate.map((s) => ({ ...s, from: s.from / n, to: s.to / n }));
  return { from: rate.from / n, to: rate.to / n };
}

/**
 * Agent `slot`'s (1-based) share of the run: 1/n of the rate (paced) or its part of the connections and requests
 * (closed), the run's id with a key space of its own (so the ledgers read together), one thread.
 */
export function agentShare(input: LoadOptionsInput, n: number, slot: number): LoadOptionsInput {
  if (!Number.isInteger(slot) || slot < 1 || slot > n) throw invalidInput('slot', `must be 1..${n}, got ${slot}`);
  const i = slot - 1;
  const share: LoadOptionsInput = { ...input, workers: 1, keySpace: `a${slot}n`, allowRemoteTarget: true };
  if (input.rate !== undefined) share.rate = rateShare(input.rate, n);
  else share.connections = split(input.connections ?? 10, n)[i] as number;
  if (input.requests !== undefined) share.requests = split(input.requests, n)[i] as number;
  return share;
}

/** Checks that n agents can each have a share (closed: a connection each at least). */
export function checkAgents(options: LoadOptions, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw invalidInput('agents', `must be a whole number from 1 to 64, got ${n}`);
  if (options.driver === 'closed' && options.connections < n)
    throw invalidInput('agents', `${n} agents need at least as many connections, got ${options.connections}`);
  if (options.requests !== null && options.requests < n) throw invalidInput('agents', `${n} agents need at least as many requests, got ${options.requests}`);
}

/** What an agent ships: a checkpoint (final buckets from `from` on, and the writes filed under them) or its result. */
export type AgentMessage =
  | { type: 'ready'; slot: number; host: string }
  | { type: 'checkpoint'; slot: number; from: number; buckets: TimelineBucketJSON[]; writes: WriteRecord[] }
  | { type: 'result'; slot: number; result: LoadResultJSON }
  | { type: 'error'; slot: number; code: string; message: string };

/** One message as log lines: gzip, base64, cut into chunks `AGENT_LINE slot seq i/n chunk`. */
export function frameMessage(m: AgentMessage, seq: number): string[] {
  const body = gzipSync(JSON.stringify(m)).toString('base64');
  const n = Math.max(1, Math.ceil(body.length / CHUNK_CHARS));
  return Array.from({ length: n }, (_, i) => `${AGENT_LINE} ${m.slot} ${seq} ${i + 1}/${n} ${body.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS)}`);
}

/** Messages found in log text, by slot, in order; lines of other output and incomplete messages are left out. */
export function readMessages(text: string): Map<number, AgentMessage[]> {
  const parts = new Map<string, { slot: number; seq: number; n: number; chunks: string[] }>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(`${AGENT_LINE} `);
    if (at < 0) continue;
    const m = /^(\d+) (\d+) (\d+)\/(\d+) (\S*)/.exec(line.slice(at + AGENT_LINE.length + 1).trimEnd());
    if (!m) continue;
    const [slot, seq, i, n] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    const key = `${slot}/${seq}`;
    const p = parts.get(key) ?? { slot, seq, n, chunks: [] };
    p.chunks[i - 1] = m[5] as string;
    parts.set(key, p);
  }
  const out = new Map<number, AgentMessage[]>();
  for (const p of [...parts.values()].sort((a, b) => a.seq - b.seq)) {
    if (p.chunks.filter((c) => c !== undefined).length !== p.n) continue;
    try {
      const msg = JSON.parse(gunzipSync(Buffer.from(p.chunks.join(''), 'base64')).toString('utf8')) as AgentMessage;
      out.set(p.slot, [...(out.get(p.slot) ?? []), msg]);
    } catch {
      // a message cut by the agent's death: as if never shipped
    }
  }
  return out;
}

/** How one agent ended, as the merged result reports it. */
export interface AgentOutcome {
  slot: number;
  /** The node it ran on, when known. */
  node: string | null;
  /** completed: shipped its result; died: did not (its share from `lostFromMs` counts as failed). */
  state: 'completed' | 'died';
  /** Why it died (the task's state and exit code, or its own error), when it did. */
  reason: string | null;
  /** ms since t = 0 from which its share is counted as failed (the end of its last shipped final bucket). */
  lostFromMs: number | null;
  /** Requests of its share filed as failed (AGENT_LOST). */
  lostRequests: number;
  /** Its own figures (a dead agent's: what it shipped and its lost share; no latency of its own then). */
  summary: { intended: number; successes: number; p50Ms?: number | null; p99Ms?: number | null } | null;
}

export interface AgentsResult {
  /** The merged run, as one load would have measured it: timeline merged bucket by bucket, ledgers read together. */
  result: LoadResult;
  agents: AgentOutcome[];
  /** Each agent's own ledger (completed agents; a dead one's shipped writes), for a person to read apart. */
  ledgers: WriteLedgerJSON[];
}

/** What faultline knows of one agent after its task ended: its messages and, for a task that failed, why. */
export interface AgentReport {
  slot: number;
  node: string | null;
  messages: AgentMessage[];
  /** Set when the task did not end well (killed, exit code, never started). */
  failure: string | null;
}

/** Requests a dead agent's share meant to send in [fromMs, toMs): its rate schedule (paced), else its peers' pace (closed). */
export function lostPerBucket(
  options: LoadOptions,
  n: number,
  slot: number,
  peers: Pick<Timeline, 'bucket'> | null,
  fromMs: number,
  toMs: number,
  bucketMs: number,
): number[] {
  const out: number[] = [];
  if (options.driver === 'paced') {
    const share = agentShare({ url: options.url.toString(), rate: options.stages }, n, slot).rate as RateStage[];
    const schedule = new RateSchedule(rateStages(share, options.durationMs));
    for (let t = fromMs; t < toMs; t += bucketMs)
      out.push(Math.round(schedule.expectedCount(Math.min(t + bucketMs, toMs))) - Math.round(schedule.expectedCount(t)));
    return out;
  }
  const mine = split(options.connections, n)[slot - 1] as number;
  const others = options.connections - mine;
  for (let t = fromMs; t < toMs; t += bucketMs) {
    const b = peers?.bucket(Math.floor(t / bucketMs));
    out.push(b && others > 0 ? Math.round(((b.responses + b.errors) * mine) / others) : 0);
  }
  return out;
}

function worst<T extends Record<string, number | null>>(list: T[]): T {
  const out = { ...list[0] } as Record<string, number | null>;
  for (const l of list.slice(1)) for (const [k, v] of Object.entries(l)) if (v !== null && (out[k] === null || (v as number) > (out[k] as number))) out[k] = v;
  return out as T;
}

/**
 * The exact merge (pure): completed agents' timelines as shipped; a dead agent's shipped final buckets, then its share
 * from there to the end of the run filed as AGENT_LOST failures (never dropped, never guessed as answered). Ledgers
 * are read together: one run id, a key space per agent. `options`: the whole run's validated options.
 */
export function mergeAgents(options: LoadOptions, run: { agents: number; startAtMs: number }, reports: AgentReport[]): AgentsResult {
  const n = run.agents;
  const bySlot = new Map(reports.map((r) => [r.slot, r]));
  const done: Array<{ slot: number; result: LoadResult }> = [];
  for (let slot = 1; slot <= n; slot++) {
    const r = bySlot.get(slot);
    const res = r?.messages.find((m): m is Extract<AgentMessage, { type: 'result' }> => m.type === 'result');
    if (res) done.push({ slot, result: loadResultFromJSON(res.result) });
  }
  // A run stopped early ends where its agents stopped; otherwise at its planned end, which a dead agent's share fills.
  const stopped = done.some((d) => d.result.stopReason !== 'completed');
  const durationMs = Math.max(stopped ? 0 : options.durationMs, ...done.map((d) => d.result.durationMs));
  const startedAt = run.startAtMs;
  const peers = done.length ? Timeline.merge(done.map((d) => d.result.timeline)) : null;
  const parts: Timeline[] = done.map((d) => d.result.timeline);
  const ledgers: WriteLedgerJSON[] = done.map((d) => d.result.ledger.toJSON());
  const agents: AgentOutcome[] = [];
  for (let slot = 1; slot <= n; slot++) {
    const r = bySlot.get(slot);
    const node = r?.node ?? null;
    const finished = done.find((d) => d.slot === slot);
    if (finished) {
      const s = finished.result.summary;
      agents.push({
        slot,
        node,
        state: 'completed',
        reason: null,
        lostFromMs: null,
        lostRequests: 0,
        summary: { intended: s.intended, successes: s.successes, p50Ms: s.latency.p50, p99Ms: s.latency.p99 },
      });
      continue;
    }
    const checkpoints = (r?.messages ?? []).filter((m): m is Extract<AgentMessage, { type: 'checkpoint' }> => m.type === 'checkpoint');
    const buckets: TimelineBucketJSON[] = [];
    const writes: WriteRecord[] = [];
    for (const c of checkpoints) {
      if (c.from !== buckets.length) continue; // a gap would misplace buckets: keep only the contiguous start
      buckets.push(...c.buckets);
      writes.push(...c.writes);
    }
    const json: TimelineJSON = { version: 1, bucketMs: options.bucketMs, startedAt: new Date(startedAt).toISOString(), uncorrected: true, buckets };
    const timeline = Timeline.fromJSON(json);
    const lostFromMs = buckets.length * options.bucketMs;
    const lost = lostPerBucket(options, n, slot, peers, lostFromMs, durationMs, options.bucketMs);
    lost.forEach((k, i) => {
      for (let j = 0; j < k; j++) timeline.recordError(lostFromMs + i * options.bucketMs, AGENT_LOST);
    });
    timeline.extendTo(durationMs);
    parts.push(timeline);
    const err = r?.messages.find((m): m is Extract<AgentMessage, { type: 'error' }> => m.type === 'error');
    const reason = r?.failure ?? (err ? `${err.code}: ${err.message}` : r ? 'ended without shipping its result' : 'never started');
    const lostRequests = lost.reduce((a, b) => a + b, 0);
    const s = timeline.summary(durationMs);
    agents.push({ slot, node, state: 'died', reason, lostFromMs, lostRequests, summary: { intended: s.intended, successes: s.successes } });
    ledgers.push(new WriteLedger(options.runId, startedAt).toJSON());
    (ledgers.at(-1) as WriteLedgerJSON).writes = writes;
  }
  if (parts.length === 0) throw new FaultlineError('INTERNAL', 'agents: nothing to merge');
  const timeline = Timeline.merge(parts);
  timeline.extendTo(durationMs);
  const allWrites = ledgers.flatMap((l) => l.writes).sort((a, b) => a.intendedMs - b.intendedMs);
  const ledger = WriteLedger.fromJSON({ ...new WriteLedger(options.runId, startedAt).toJSON(), writes: allWrites });
  const schedules = done.map((d) => d.result.schedule).filter((s): s is ScheduleAccuracy => s !== null);
  const schedule: ScheduleAccuracy | null = schedules.length
    ? {
        scheduled: schedules.reduce((a, s) => a + s.scheduled, 0),
        targetRate: schedules.reduce((a, s) => a + s.targetRate, 0),
        achievedRate: schedules.reduce((a, s) => a + s.achievedRate, 0),
        // Send lag has no histogram to merge: the worst agent's figures, a bound.
        lag: worst(schedules.map((s) => s.lag as unknown as Record<string, number | null>)) as unknown as ScheduleAccuracy['lag'],
      }
    : null;
  const stopReason = done.find((d) => d.result.stopReason !== 'completed')?.result.stopReason ?? 'completed';
  const result: LoadResult = {
    runId: options.runId,
    driver: options.driver,
    options: toSettings(options),
    startedAt: new Date(startedAt).toISOString(),
    durationMs,
    stopReason,
    timeline,
    ledger,
    summary: timeline.summary(durationMs),
    dropped: done.reduce((a, d) => a + d.result.dropped, 0),
    faults: [],
    schedule,
  };
  return { result, agents, ledgers };
}

/** One line per agent for a person: where it ran and how it ended (a dead one: why, and what of its share failed). */
export function formatAgents(agents: AgentOutcome[]): string {
  return agents
    .map((a) =>
      a.state === 'completed'
        ? `agent ${a.slot} on ${a.node ?? '?'}: completed, ${a.summary?.successes ?? 0}/${a.summary?.intended ?? 0} ok`
        : `agent ${a.slot} on ${a.node ?? '?'}: DIED (${a.reason}); its share from t=${((a.lostFromMs ?? 0) / 1000).toFixed(1)} s on, ${a.lostRequests} request(s), counted as failed (${AGENT_LOST})`,
    )
    .join('\n');
}
