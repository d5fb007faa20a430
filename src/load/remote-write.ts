// `--out prometheus=URL`: a run's per-second figures pushed by Prometheus remote-write (protobuf, snappy block) while it
// runs. What is pushed and when is remote-write-series.ts; this module encodes, queues and sends, and never slows or
// breaks the load: pushes go one at a time from a bounded queue, a failed one is retried a few times and then dropped
// with one warning line, and the end of a run waits for the queue a bounded time only.

import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { RunSeries, type PlannedFault, type TimeSeries } from './remote-write-series.js';
import type { LoadEvent, LoadJob } from './types.js';
import { sleep } from '../util/sleep.js';

/** prometheus/prompb's WriteRequest, as much of it as a sender needs (field numbers as in remote.proto / types.proto). */
const PROMPB = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;

/** The WriteRequest message type (protobufjs reflection, parsed once; tests decode with it too). */
export const WriteRequest = protobuf.parse(PROMPB, { keepCase: true }).root.lookupType('prometheus.WriteRequest');

/** A WriteRequest, protobuf-encoded and snappy block-compressed: the body of one push. */
export function encodeWriteRequest(timeseries: readonly TimeSeries[]): Buffer {
  return compressSync(WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish());
}

export const REMOTE_WRITE_HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
} as const;

export interface RemoteWriteOptions {
  /** The receiver (e.g. http://10.213.7.5:9090/api/v1/write), or its resolution (the attached stack's Prometheus). */
  url: string | Promise<string>;
  /** Tries per push (default 3), with a pause of 250 ms × try between them. */
  tries?: number;
  /** Time one try may take (default 5 s). */
  pushTimeoutMs?: number;
  /** Pushes waiting at most (default 120: two minutes of seconds); the oldest is dropped past it. */
  maxQueue?: number;
  /** Where the warning lines go (default stderr). */
  warn?: (line: string) => void;
  /** The HTTP client (default the global fetch, undici's). */
  fetch?: typeof fetch;
}

export interface RemoteWriteStats {
  /** Pushes the receiver accepted. */
  pushed: number;
  /** Pushes given up: failed every try, refused (4xx), pushed out of a full queue or left at the end's deadline. */
  dropped: number;
}

/** The live output of one CLI invocation: every load it follows pushes through the same ordered queue. */
export class RemoteWriteOutput {
  private readonly queue: Buffer[] = [];
  private readonly stats: RemoteWriteStats = { pushed: 0, dropped: 0 };
  private url: string | null = null;
  private disabled = false;
  private warned = false;
  private sending: Promise<void> | null = null;
  private readonly closing = new AbortController();
  private readonly ready: Promise<void>;
  private readonly tries: number;
  private readonly pushTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly warn: (line: string) => void;
  private readonly fetch: typeof fetch;

  constructor(options: RemoteWriteOptions) {
    this.tries = Math.max(1, options.tries ?? 3);
    this.pushTimeoutMs = options.pushTimeoutMs ?? 5000;
    this.maxQueue = Math.max(1, options.maxQueue ?? 120);
    this.warn = options.warn ?? ((line) => process.stderr.write(`${line}\n`));
    this.fetch = options.fetch ?? fetch;
    this.ready = Promise.resolve(options.url).then(
      (u) => void (this.url = u),
      (err: unknown) => {
        this.disabled = true;
        this.warnOnce(`live metrics: no remote-write URL (${err instanceof Error ? err.message : String(err)}); nothing is pushed`);
      },
    );
  }

  /** The URL pushes go to, once resolved (null before, or when it could not be). */
  get target(): string | null {
    return this.url;
  }

  /**
   * Follows one load job: returns the listener for its events. Each tick looks for seconds that became final (after
   * the driver's own callbacks of that turn, so a send due before the tick is counted); `done` pushes the rest.
   */
  follow(job: Pick<LoadJob, 'runId' | 'timeline'>, labels: { experiment: string; faults?: readonly PlannedFault[] }): (event: LoadEvent) => void {
    let series: RunSeries | null = null;
    let sendingAtMs = 0;
    const seriesFor = (startedAtMs: number, bucketMs: number): RunSeries => {
      const width = bucketMs >= 1000 || 1000 % bucketMs !== 0 ? bucketMs : 1000;
      return (series ??= new RunSeries({ run: job.runId, experiment: labels.experiment }, startedAtMs, width, labels.faults ?? []));
    };
    if (job.timeline) seriesFor(job.timeline.startedAt, job.timeline.bucketMs);
    return (event) => {
      if (this.disabled) return;
      if (event.type === 'fault') series?.noteFault(event.name, event.active, event.elapsedMs);
      else if (event.type === 'tick') {
        if (event.tick.waitingUntilMs === null) sendingAtMs = event.tick.elapsedMs;
        const [s, timeline, now, sending] = [series, job.timeline, event.tick.elapsedMs, sendingAtMs];
        if (s && timeline) setImmediate(() => this.guard(() => this.enqueue(s.due(timeline, now, sending))));
      } else if (event.type === 'done') {
        const r = event.result;
        this.guard(() => this.enqueue(seriesFor(Date.parse(r.startedAt), r.timeline.bucketMs).finish(r.timeline, r.faults)));
      }
    };
  }

  /** A fault in this output must never reach the load: it turns the output off with one line. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.disabled = true;
      this.warnOnce(`live metrics: ${err instanceof Error ? err.message : String(err)}; nothing more is pushed`);
    }
  }

  /** Queues one push of these series (nothing when empty); the oldest waiting push goes when the queue is full. */
  enqueue(timeseries: TimeSeries[]): void {
    if (this.disabled || !timeseries.length) return;
    this.queue.push(encodeWriteRequest(timeseries));
    while (this.queue.length > this.maxQueue) {
      this.queue.shift();
      this.drop('the queue is full (the receiver is slower than the run)');
    }
    this.sending ??= this.drain().finally(() => (this.sending = null));
  }

  /**
   * Waits until every queued push went out, at most `timeoutMs` (default 5 s): a receiver that never answers does not
   * hold up the end of a run. What is left is dropped, with one line. Never throws.
   */
  async close(timeoutMs = 5000): Promise<RemoteWriteStats> {
    const deadline = AbortSignal.timeout(timeoutMs);
    // Nothing queued: nothing to wait for, not even a URL that never resolved (no load ran).
    const idle = async () => {
      while (this.sending) await this.sending;
    };
    await Promise.race([idle(), new Promise((resolve) => deadline.addEventListener('abort', resolve, { once: true }))]);
    if (this.queue.length) {
      const left = this.queue.length; // the push on the wire is still at its head
      this.queue.length = 0;
      this.closing.abort(new Error('closed'));
      this.stats.dropped += left;
      this.warnOnce(`live metrics: ${left} push(es) to ${this.url ?? 'the receiver'} still waiting after ${timeoutMs / 1000} s at the end; dropped`);
    }
    return { ...this.stats };
  }

  private async drain(): Promise<void> {
    await this.ready;
    if (this.disabled) this.queue.length = 0;
    while (this.queue.length && !this.disabled && !this.closing.signal.aborted) {
      const body = this.queue[0] as Buffer;
      const outcome = await this.push(body);
      // close() may have emptied the queue meanwhile; only the push just tried leaves it.
      if (this.queue[0] === body) this.queue.shift();
      if (outcome === true) this.stats.pushed += 1;
      else if (!this.closing.signal.aborted) this.drop(outcome);
    }
  }

  /** One push, tried up to `tries` times; true, or why it was given up. A 4xx is not tried again: the same body would fail. */
  private async push(body: Buffer): Promise<true | string> {
    let why = '';
    for (let attempt = 1; attempt <= this.tries; attempt++) {
      if (this.closing.signal.aborted) return 'closed';
      try {
        const res = await this.fetch(this.url as string, {
          method: 'POST',
          headers: REMOTE_WRITE_HEADERS,
          body,
          signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.pushTimeoutMs)]),
        });
        const text = await res.text().catch(() => '');
        if (res.ok) return true;
        why = `HTTP ${res.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`;
        if (res.status >= 400 && res.status < 500) return why;
      } catch (err) {
        why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      }
      if (attempt < this.tries) await sleep(250 * attempt, this.closing.signal).catch(() => undefined);
    }
    return why;
  }

  private drop(why: string): void {
    this.stats.dropped += 1;
    this.warnOnce(`live metrics: a push to ${this.url ?? 'the receiver'} was dropped (${why}); the load goes on, further drops are counted, not printed`);
  }

  private warnOnce(line: string): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(line);
  }
}
