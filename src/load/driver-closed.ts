// The closed driver: autocannon's clients drive N connections as fast as the target answers ("how much can it take"),
// while we own the parts autocannon gets wrong across failures (its latency after a connection error, its error count
// of reconnect attempts, its TLS without verification):
//  - timing: our own FIFO of send times per connection, cleared when a connection dies, so latency after an error is right;
//  - errors: every request that was on a dead connection is one failed request, by code; reconnect attempts are not errors;
//  - deadlines: a request unanswered after the timeout fails with ETIMEDOUT, enters latency at its deadline, and the
//    connection it hung on is replaced, so a hang shows in the percentiles and the recovery after it is seen;
//  - reconnects: back off 10 ms doubling to 1 s (reset by the first answer), instead of reconnecting in a tight loop;
//  - TLS: we open the sockets ourselves, verifying against the CA unless --insecure (autocannon hardcodes no verification).
// This patches a few methods on autocannon's per-connection Client (_connect, _doRequest, _destroyConnection) through
// its documented setupClient hook; request building, response parsing and the run loop stay autocannon's. Those
// internals are private, so package.json pins the exact version and autocannon-internals.ts checks them first.

import autocannon from 'autocannon';
import { Backoff } from './backoff.js';
import { errorCodeOf } from './error-code.js';
import { ABORTED_CODE, DEADLINE_SWEEP_MS, recordFailure, recordResponse } from './driver.js';
import { assertAutocannonClient, assertAutocannonPrototype } from './autocannon-internals.js';
import type { AcClient } from './autocannon-internals.js';
import { killSocket, openConnection, settlePending } from './closed-connection.js';
import type { ClientState, Connection } from './closed-connection.js';
import type { Driver, DriverContext, DriverReport } from './driver.js';
import type { PlannedRequest } from './workload.js';
import { FaultlineError } from '../errors.js';

/** autocannon's own timeout fires this much after ours: it is only a backstop. */
const BACKSTOP_MS = 5_000;

export class ClosedDriver implements Driver {
  private readonly states: ClientState[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private sent = 0;
  private lastSendMs = 0;
  private inflightTotal = 0;
  private sendingEndedMs: number | null = null;
  private finished = false;
  private instance: autocannon.Instance | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private resolve: ((r: DriverReport) => void) | null = null;
  private reject: ((err: unknown) => void) | null = null;
  private acDone = false;
  private report: DriverReport | null = null;

  constructor(private readonly ctx: DriverContext) {
    const u = ctx.options.url;
    this.secure = u.protocol === 'https:';
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port ? Number(u.port) : this.secure ? 443 : 80;
  }

  inFlight(): number {
    return this.inflightTotal;
  }

  inFlightTimes(fromMs: number, toMs: number): number[] {
    return this.states.flatMap((s) => s.inflight.filter((r) => r.tMs >= fromMs && r.tMs < toMs).map((r) => r.tMs));
  }

  lastDeadlineMs(): number | null {
    let last: number | null = null;
    for (const s of this.states) {
      const tail = s.inflight[s.inflight.length - 1];
      if (tail) last = Math.max(last ?? 0, tail.tMs + this.ctx.options.timeoutMs);
    }
    return last;
  }

  run(): Promise<DriverReport> {
    const o = this.ctx.options;
    // Fails with one line naming what is missing, before a socket opens, when autocannon is not the version we patch.
    assertAutocannonPrototype();
    const workload = this.ctx.workload;
    const first = workload.isStatic ? workload.next() : null;
    // autocannon writes Content-Length into the headers it is given: each request gets its own copy of the plan's.
    const request = first
      ? { method: first.method, path: first.path, headers: { ...first.headers }, ...(first.body !== null ? { body: first.body } : {}) }
      : {
          // Built per request by autocannon's iterator; the plan rides on the per-connection context.
          setupRequest: (req: Record<string, unknown>, context: { plan?: PlannedRequest }) => {
            const plan = workload.next();
            context.plan = plan;
            return { ...req, method: plan.method, path: plan.path, body: plan.body ?? undefined, headers: { ...plan.headers } };
          },
        };
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      const opts = {
        url: o.url.toString(),
        connections: o.connections,
        pipelining: o.pipelining,
        // Our deadline sweep decides timeouts (and censors their latency); autocannon's own is a backstop only.
        timeout: (o.timeoutMs + BACKSTOP_MS) / 1000,
        // We stop autocannon ourselves; its own duration is only a backstop so it can never run on.
        duration: Math.ceil((o.durationMs + o.timeoutMs + BACKSTOP_MS) / 1000) + 5,
        // Its sampling interval is how soon it notices stop(); the samples themselves are unused.
        sampleInt: 100,
        headers: o.hostHeader ? { host: o.hostHeader } : {},
        requests: [request],
        setupClient: (client: unknown) => this.setupClient(client as AcClient),
      } as unknown as autocannon.Options;
      try {
        this.instance = autocannon(opts, (err: Error | null) => {
          this.acDone = true;
          if (err && !this.report) reject(new FaultlineError('INTERNAL', `closed driver: ${err.message}`, { cause: err }));
          else this.settle();
        });
      } catch (err) {
        reject(err instanceof FaultlineError ? err : new FaultlineError('INTERNAL', `closed driver: ${(err as Error).message}`, { cause: err }));
        return;
      }
      this.sweeper = setInterval(this.sweep, DEADLINE_SWEEP_MS);
      this.armDeadline();
    });
  }

  /** Requests past their deadline fail with ETIMEDOUT, and the connection they hang on is replaced. */
  private readonly sweep = (): void => {
    const now = this.ctx.now();
    for (const state of this.states) {
      const head = state.inflight[0];
      if (head && state.conn && !state.conn.down && now >= head.tMs + this.ctx.options.timeoutMs) {
        this.connectionDown(state, state.conn, 'ETIMEDOUT');
      }
    }
  };

  /** Node timers run on a millisecond clock and may fire a little early: re-arm until the deadline has really passed. */
  private armDeadline(): void {
    const left = this.ctx.options.durationMs - this.ctx.now();
    if (left <= 0) this.stop(true);
    else this.deadlineTimer = setTimeout(() => this.armDeadline(), Math.ceil(left));
  }

  stop(wait: boolean): void {
    if (this.sendingEndedMs === null) {
      this.sendingEndedMs = Math.min(this.ctx.now(), this.ctx.options.durationMs);
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
      for (const s of this.states) this.clearReconnect(s);
    }
    if (!wait && !this.finished) {
      // An abort: whatever is still in flight gets its outcome now, so the result still adds up.
      const now = this.ctx.now();
      for (const s of this.states) {
        const pending = s.inflight;
        s.inflight = [];
        this.inflightTotal -= pending.length;
        for (const req of pending) recordFailure(this.ctx, req, ABORTED_CODE, s.conn?.connected ?? false, now);
      }
    }
    this.checkDrained();
  }

  /** `nowMs`: the time the caller will file the send under, so the check and the record agree on one clock reading. */
  private maySend(nowMs = this.ctx.now()): boolean {
    if (this.sendingEndedMs !== null || this.finished) return false;
    if (this.countReached()) return false;
    if (nowMs >= this.ctx.options.durationMs) {
      this.stop(true);
      return false;
    }
    return true;
  }

  private setupClient(client: AcClient): void {
    try {
      assertAutocannonClient(client);
    } catch (err) {
      this.failRun(err);
      return;
    }
    const state: ClientState = { client, conn: null, inflight: [], backoff: new Backoff(), reconnectTimer: null };
    this.states.push(state);
    const first = client.requestIterator.requests[0];
    if (first) first.onResponse = (status, body) => this.onAnswer(state, status, body);
    client.on('headers', (info: { shouldKeepAlive?: boolean }) => {
      if (info.shouldKeepAlive === false && state.conn) state.conn.closing = true;
    });
    client._connect = () => this.connect(state);
    client._doRequest = () => this.sendOne(state);
    // autocannon calls this on its request timeout (then _connect) and when it destroys the client at the end.
    client._destroyConnection = () => {
      if (this.finished || client.destroyed) this.teardown(state);
      else if (state.conn && !state.conn.down) this.connectionDown(state, state.conn, 'ETIMEDOUT');
    };
  }

  private connect(state: ClientState): void {
    const { client } = state;
    if (this.finished || client.destroyed || state.reconnectTimer) return;
    if (state.conn && !state.conn.down) return;
    if (!this.maySend()) {
      this.checkDrained();
      return;
    }
    const o = this.ctx.options;
    // A fresh parser state: a connection that died mid-response must not leave half a message behind.
    client.parser.initialize('RESPONSE');
    client.pipelinedRequests.clear();
    const conn = openConnection(o, this.host, this.port, this.secure);
    const { socket } = conn;
    state.conn = conn;
    client.conn = socket;
    socket.on('data', (chunk: Buffer) => {
      if (conn.down) return;
      client.pipelinedRequests.addByteCount(chunk.length);
      const r = client.parser.execute(chunk);
      if (r instanceof Error && !conn.down) this.connectionDown(state, conn, 'EPROTO');
    });
    socket.on('error', (err) => this.connectionDown(state, conn, errorCodeOf(err)));
    // A close without an error: the server hung up (FIN). Requests on it are failed with the same name undici uses.
    socket.on('end', () => this.connectionDown(state, conn, 'ECONNRESET'));
    socket.on('close', () => this.connectionDown(state, conn, 'ECONNRESET'));
    for (let i = 0; i < o.pipelining; i++) this.sendOne(state);
  }

  private sendOne(state: ClientState): void {
    const { client } = state;
    const conn = state.conn;
    const tMs = this.ctx.now();
    if (client.destroyed || !conn || conn.down || conn.closing || !this.maySend(tMs)) return;
    const it = client.requestIterator;
    if (client.reqsMade > 0) it.nextRequest();
    client.pipelinedRequests.insertRequest(it.currentRequest);
    const plan = it.context.plan;
    const handle = plan && plan.key !== null ? this.ctx.ledger.begin(plan.key, tMs, plan.request ?? undefined) : -1;
    state.inflight.push({ tMs, ledger: handle, expect: plan?.request?.expect });
    this.inflightTotal += 1;
    this.sent += 1;
    this.ctx.timeline.recordSent(tMs);
    conn.socket.write(it.currentRequest.requestBuffer);
    client.timeoutTicker.reschedule(client.timeout);
    client.reqsMade += 1;
    this.lastSendMs = tMs;
    // The count is reached: the run ends when the answers are in (each bounded by its deadline). Sending stays
    // possible, since a request taken back (see connectionDown) does not count and is replaced.
  }

  private countReached(): boolean {
    return this.ctx.options.requests !== null && this.sent >= this.ctx.options.requests;
  }

  private onAnswer(state: ClientState, status: number, body: string): void {
    if (this.finished) return;
    const req = state.inflight.shift();
    if (!req) return;
    this.inflightTotal -= 1;
    if (state.conn) {
      state.conn.answered = true;
      if (state.conn.closing) state.conn.closed = true;
    }
    state.backoff.reset();
    const now = this.ctx.now();
    recordResponse(this.ctx, req, status, req.ledger >= 0 ? body : undefined, now, (now - req.tMs) * 1000);
    this.checkDrained();
  }

  private connectionDown(state: ClientState, conn: Connection, code: string): void {
    if (conn.down || state.conn !== conn) return;
    killSocket(conn);
    state.client.pipelinedRequests.clear();
    const pending = state.inflight;
    state.inflight = [];
    this.inflightTotal -= pending.length;
    if (!this.finished) this.sent -= settlePending(this.ctx, conn, pending, code, this.ctx.now());
    // A keep-alive connection closed while idle, or after the server announced it, is not a failure: reconnect now.
    const clean = conn.closing || (pending.length === 0 && conn.answered);
    if (this.finished || !this.maySend()) {
      this.checkDrained();
      return;
    }
    if (clean) {
      this.connect(state);
    } else {
      const delay = state.backoff.fail();
      state.reconnectTimer = setTimeout(() => {
        state.reconnectTimer = null;
        this.connect(state);
      }, delay);
    }
  }

  private clearReconnect(state: ClientState): void {
    if (state.reconnectTimer) clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
  }

  private teardown(state: ClientState): void {
    this.clearReconnect(state);
    if (state.conn && !state.conn.down) killSocket(state.conn);
    state.client.pipelinedRequests.clear();
  }

  private checkDrained(): void {
    if ((this.sendingEndedMs !== null || this.countReached()) && this.inflightTotal === 0) this.finish();
  }

  /** autocannon is not the version whose internals we patch: stop it and reject with the check's one line. */
  private failRun(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.sweeper) clearInterval(this.sweeper);
    for (const s of this.states) this.teardown(s);
    queueMicrotask(() => this.instance?.stop());
    this.reject?.(err);
  }

  private finish(): void {
    if (this.finished) return;
    if (this.sendingEndedMs === null) {
      // Ended by the request count: load lasted until the last send.
      this.sendingEndedMs = Math.min(this.countReached() ? this.lastSendMs : this.ctx.now(), this.ctx.options.durationMs);
    }
    this.finished = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.sweeper) clearInterval(this.sweeper);
    // Every request has its outcome by now (answered, failed, timed out at its deadline, or aborted).
    for (const s of this.states) this.teardown(s);
    this.inflightTotal = 0;
    this.report = { dropped: 0, sendingEndedMs: this.sendingEndedMs, schedule: null };
    // autocannon notices stop() on its next sample tick and then calls back; settle() waits for that so no timer leaks.
    if (this.instance && !this.acDone) this.instance.stop();
    else this.settle();
  }

  private settle(): void {
    if (!this.report) {
      // autocannon ended on its own (backstop duration): treat as the end of sending.
      this.finish();
      return;
    }
    if (this.acDone || !this.instance) this.resolve?.(this.report);
  }
}
