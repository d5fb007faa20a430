// Load agents, live: their framed lines read as they stream (a follow of the service's log), and the merge of the
// buckets each agent ships as they become final into one timeline that progress, stop conditions and remote-write
// follow while the run goes on. A bucket of the merged timeline exists only once every agent's share of it has arrived,
// or the agent is known dead (its share from its last shipped bucket counted as failed, as mergeAgents does at the
// end). Pure: no I/O, no clock.

import { gunzipSync } from 'node:zlib';
import { AGENT_LINE, AGENT_LOST, lostPerBucket, type AgentMessage } from './agents.js';
import { Timeline, type TimelineBucketJSON, type TimelineJSON } from './timeline.js';
import type { LoadOptions } from './types.js';

/** Framed lines read as they come (chunks of a stream, cut anywhere): each whole message once, in arrival order. */
export class MessageStream {
  private rest = '';
  private readonly parts = new Map<string, { n: number; chunks: string[] }>();
  private readonly seen = new Set<string>();

  push(text: string): AgentMessage[] {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.flatMap((l) => this.line(l));
  }

  /** The last line, when the stream ended without a newline. */
  end(): AgentMessage[] {
    const last = this.rest;
    this.rest = '';
    return last ? this.line(last) : [];
  }

  private line(line: string): AgentMessage[] {
    const at = line.indexOf(`${AGENT_LINE} `);
    if (at < 0) return [];
    const m = /^(\d+) (\d+) (\d+)\/(\d+) (\S*)/.exec(line.slice(at + AGENT_LINE.length + 1).trimEnd());
    if (!m) return [];
    const key = `${m[1]}/${m[2]}`;
    // A message read twice (a follow started again from the beginning of the log) counts once.
    if (this.seen.has(key)) return [];
    const [i, n] = [Number(m[3]), Number(m[4])];
    const p = this.parts.get(key) ?? { n, chunks: [] };
    p.chunks[i - 1] = m[5] as string;
    this.parts.set(key, p);
    if (p.chunks.filter((c) => c !== undefined).length !== p.n) return [];
    this.parts.delete(key);
    this.seen.add(key);
    try {
      return [JSON.parse(gunzipSync(Buffer.from(p.chunks.join(''), 'base64')).toString('utf8')) as AgentMessage];
    } catch {
      return [];
    }
  }
}

interface SlotState {
  buckets: TimelineBucketJSON[];
  /** Shipped its result: nothing more of it will come (its share past its timeline's end is none). */
  complete: boolean;
  /** Reported dead: its share from `buckets.length` on is AGENT_LOST. */
  dead: boolean;
}

/**
 * The live merge of n agents' shipped buckets: `timeline` is one Timeline for the whole run (stop conditions and
 * remote-write hold it) that grows by whole final buckets, each step merging only the new ones.
 */
export class LiveMerge {
  private readonly slots = new Map<number, SlotState>();
  readonly timeline: Timeline;

  constructor(
    private readonly options: LoadOptions,
    private readonly n: number,
    private readonly startAtMs: number,
  ) {
    for (let s = 1; s <= n; s++) this.slots.set(s, { buckets: [], complete: false, dead: false });
    this.timeline = new Timeline({ bucketMs: options.bucketMs, startedAt: startAtMs, uncorrected: true });
  }

  /** ms since t = 0 up to which the merged timeline is final. */
  get finalMs(): number {
    return this.timeline.length * this.options.bucketMs;
  }

  /** Every agent has shipped its result or is dead. */
  get over(): boolean {
    return [...this.slots.values()].every((s) => s.complete || s.dead);
  }

  /** Takes one agent message; answers whether the merged timeline grew. */
  add(m: AgentMessage): boolean {
    const s = this.slots.get(m.slot);
    if (!s || s.complete || s.dead) return false;
    if (m.type === 'checkpoint') {
      // A gap would misplace buckets: only the contiguous continuation is taken.
      if (m.from !== s.buckets.length) return false;
      s.buckets.push(...m.buckets);
    } else if (m.type === 'result') {
      s.buckets = m.result.timeline.buckets;
      s.complete = true;
    } else return false;
    return this.advance();
  }

  /** The agent died (its task ended without a result): its share from its last shipped bucket counts as failed. */
  markDead(slot: number): boolean {
    const s = this.slots.get(slot);
    if (!s || s.complete || s.dead) return false;
    s.dead = true;
    return this.advance();
  }

  /** Bucket count every agent's share has arrived for: live agents bound it; complete and dead ones do not. */
  private finalCount(): number {
    const live = [...this.slots.values()].filter((s) => !s.complete && !s.dead);
    if (live.length) return Math.min(...live.map((s) => s.buckets.length));
    // All over: up to the longest shipped timeline (the end-of-run merge takes it from there).
    return Math.max(this.timeline.length, ...[...this.slots.values()].filter((s) => s.complete).map((s) => s.buckets.length));
  }

  private advance(): boolean {
    const from = this.timeline.length;
    const to = this.finalCount();
    if (to <= from) return false;
    const bucketMs = this.options.bucketMs;
    // Buckets [from, to) of every agent, each part starting at its own index 0 (`from` of the run).
    const json = (buckets: TimelineBucketJSON[]): TimelineJSON => ({
      version: 1,
      bucketMs,
      startedAt: new Date(this.startAtMs + from * bucketMs).toISOString(),
      uncorrected: true,
      buckets,
    });
    const alive: Timeline[] = [];
    for (const s of this.slots.values()) if (!s.dead) alive.push(Timeline.fromJSON(json(s.buckets.slice(from, to))));
    const parts = [...alive];
    // A dead agent: what it shipped, then its share (its schedule; closed: its peers' pace) as AGENT_LOST.
    const merged = alive.length ? Timeline.merge(alive) : null;
    const peers = merged ? { bucket: (i: number) => merged.bucket(i - from) } : null;
    for (const [slot, s] of this.slots) {
      if (!s.dead) continue;
      const part = Timeline.fromJSON(json(s.buckets.slice(from, Math.min(s.buckets.length, to))));
      const lostFrom = Math.max(from, s.buckets.length);
      lostPerBucket(this.options, this.n, slot, peers, lostFrom * bucketMs, to * bucketMs, bucketMs).forEach((k, i) => {
        for (let j = 0; j < k; j++) part.recordError((lostFrom - from + i) * bucketMs, AGENT_LOST);
      });
      parts.push(part);
    }
    const chunk = parts.length ? Timeline.merge(parts) : new Timeline({ bucketMs, startedAt: this.startAtMs, uncorrected: true });
    chunk.extendTo((to - from) * bucketMs);
    this.timeline.append(chunk);
    return true;
  }
}
