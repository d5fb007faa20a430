// The paced (open-model) driver: requests leave on an arrival schedule, evenly spaced, and latency is measured from
// the intended send time (coordinated-omission corrected, like wrk2), with the uncorrected latency kept alongside.
//
// Sockets: a base pool (--connections, default 64) carries normal load; a due request finding it busy waits in the
// driver's own queue for a tenth of the late bound at most, then gets a fresh socket (within --max-in-flight), and
// past connections that hang (see admission.ts) the driver opens fresh sockets at once. So every request goes onto
// the wire within the late bound of its intended time, or is given up as late (wire-clock.ts): a queue of the
// driver's making never moves a request out of a fault into the time after it.
//
// Client: undici's Pool through the raw dispatch() API. It keeps connections alive, lets us pin pipelining to 1, takes TLS
// `connect` options (ca, servername, rejectUnauthorized) as they are, calls onConnect right before a request is written to
// a socket (so we know whether a write may have reached the server, and when the real send was), and costs far less per
// request than request()/fetch(). node:http's Agent would add a socket-pool and per-request streams: slower at 10k req/s.

import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { newHistogram, clampUs, summarizeHistogram } from './histogram.js';
import { errorCodeOf } from './error-code.js';
import { RateSchedule } from './schedule.js';
import { Admission } from './admission.js';
import { ABORTED_CODE, DEADLINE_SWEEP_MS, recordFailure, recordResponse, recordTimeout } from './driver.js';
import type { Driver, DriverContext, DriverReport } from './driver.js';
import { PacedRequest } from './paced-request.js';
import { isLocalLimitCode, recordLate, WireClock } from './wire-clock.js';

/** Sleep with a timer only when the next send is further off than this; closer, spin on setImmediate for precision. */
const SPIN_MS = 2;

/** undici's own timeouts are a backstop only: the driver's deadline sweep decides, and censors the latency. */
const BACKSTOP_MS = 5_000;

export class PacedDriver implements Driver {
  private readonly schedule: RateSchedule;
  private readonly total: number;
  private readonly pool: Pool;
  private readonly lag = newHistogram();
  private next = 0;
  private nextDueMs = 0;
  private inflight = 0;
  private dropped = 0;
  private sent = 0;
  private lastSendMs = 0;
  private sendingEndedMs: number | null = null;
  private naturalEndMs: number | null = null;
  private finished = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** Every request in flight, in dispatch order (queued or on a socket). */
  private readonly live = new Set<PacedRequest>();
  /** Waiting for a socket, in dispatch order; settled ones are skipped when they reach the head. */
  private readonly queue: PacedRequest[] = [];
  private queueHead = 0;
  /** Handed to undici and not settled, in hand-off order: one socket each (pipelining 1). */
  private readonly onSockets = new Set<PacedRequest>();
  /** The same requests in hand-off order, settled ones left in place until compacted: read newest first. */
  private readonly handOffOrder: PacedRequest[] = [];
  private readonly admission: Admission;
  private readonly wire: WireClock<PacedRequest>;
  private sweeper: NodeJS.Timeout | null = null;
  /** Wakes the pump when the queue's head has waited long enough for a fresh socket. */
  private spareTimer: NodeJS.Timeout | null = null;
  private resolve: ((r: DriverReport) => void) | null = null;

  constructor(readonly ctx: DriverContext) {
    const o = ctx.options;
    this.schedule = new RateSchedule(o.stages);
    this.total = Math.min(this.schedule.total, o.requests ?? Number.POSITIVE_INFINITY);
    const tls = o.url.protocol === 'https:';
    this.admission = new Admission(o.connections);
    this.wire = new WireClock(o.lateAfterMs);
    this.pool = new Pool(o.url.origin, {
      // The admission decides how many sockets are busy; undici must never queue one of our requests itself.
      connections: Math.max(o.connections, o.maxInFlight),
      pipelining: 1,
      headersTimeout: o.timeoutMs + BACKSTOP_MS,
      bodyTimeout: o.timeoutMs + BACKSTOP_MS,
      keepAliveTimeout: 30_000,
      connect: {
        timeout: o.timeoutMs + BACKSTOP_MS,
        ...(tls ? { rejectUnauthorized: !o.insecure, ...(o.ca ? { ca: o.ca } : {}), ...(o.servername ? { servername: o.servername } : {}) } : {}),
      },
    });
  }

  run(): Promise<DriverReport> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.nextDueMs = this.total > 0 ? this.schedule.timeOf(0) : 0;
      this.sweeper = setInterval(this.sweep, DEADLINE_SWEEP_MS);
      this.loop();
    });
  }

  inFlight(): number {
    return this.inflight;
  }

  inFlightTimes(fromMs: number, toMs: number): number[] {
    return [...this.live].filter((r) => r.tMs >= fromMs && r.tMs < toMs).map((r) => r.tMs);
  }

  lastDeadlineMs(): number | null {
    let last: number | null = null;
    for (const req of this.live) last = Math.max(last ?? 0, req.dispatchedMs + this.ctx.options.timeoutMs);
    return last;
  }

  stop(wait: boolean): void {
    this.endSending();
    if (!wait) {
      // An abort: whatever is still in flight gets its outcome now, so the result still adds up.
      const now = this.ctx.now();
      for (const req of [...this.live]) {
        this.settle(req);
        recordFailure(this.ctx, req, ABORTED_CODE, req.sentAtMs >= 0, now);
      }
    }
    this.maybeDone();
  }

  private readonly loop = (): void => {
    this.timer = null;
    this.immediate = null;
    if (this.sendingEndedMs !== null) return;
    const durationMs = this.ctx.options.durationMs;
    const now = this.ctx.now();
    // Catch up: send everything whose intended time has passed, each stamped with its own intended time.
    while (this.next < this.total && this.nextDueMs <= now) {
      if (this.nextDueMs >= durationMs) {
        this.next = this.total;
        break;
      }
      this.send(this.nextDueMs, now);
      this.next += 1;
      this.nextDueMs = this.schedule.timeOf(this.next);
    }
    if (this.next >= this.total || this.nextDueMs >= durationMs) {
      // The schedule ran out: load lasted until its intended end, not until whenever this loop noticed.
      this.naturalEndMs = Math.min(durationMs, this.schedule.timeOf(this.total));
      this.stop(true);
      return;
    }
    const wait = this.nextDueMs - this.ctx.now();
    if (wait > SPIN_MS) this.timer = setTimeout(this.loop, Math.floor(wait) - 1);
    else this.immediate = setImmediate(this.loop);
  };

  private send(dueMs: number, nowMs: number): void {
    const { timeline, ledger, workload } = this.ctx;
    if (this.inflight >= this.ctx.options.maxInFlight) {
      this.dropped += 1;
      timeline.recordDropped(dueMs);
      return;
    }
    const plan = workload.next();
    const handle = plan.key !== null ? ledger.begin(plan.key, dueMs, plan.request ?? undefined) : -1;
    timeline.recordSent(dueMs);
    this.lag.recordValue(clampUs((nowMs - dueMs) * 1000));
    this.inflight += 1;
    this.sent += 1;
    this.lastSendMs = nowMs;
    const req = new PacedRequest(this, dueMs, handle, nowMs, plan.request?.expect);
    req.opts = {
      path: plan.path,
      method: plan.method,
      headers: plan.headers,
      ...(plan.body !== null ? { body: plan.body } : {}),
    };
    this.live.add(req);
    // The sending loop itself fell behind by more than the bound (a starved process): it cannot leave on time.
    if (this.wire.isLate(req, nowMs)) {
      this.giveUpLate(req, nowMs);
      return;
    }
    this.wire.track(req);
    this.queue.push(req);
    this.pump(nowMs);
  }

  /** Right before undici writes a request: its wire lag. Late only if handed to its socket past the bound (the connect is the server's time). */
  onWire(req: PacedRequest, nowMs: number): void {
    this.ctx.timeline.recordWireLag(req.tMs, this.wire.record(req, nowMs));
    req.late = this.wire.isLate(req, req.handedMs >= 0 ? req.handedMs : nowMs);
  }

  /** Gives a request that never reached the wire within the bound its outcome: late, never sent. */
  private giveUpLate(req: PacedRequest, nowMs: number): void {
    if (this.settle(req)) recordLate(this.ctx, req, nowMs, this.wire.record(req, nowMs));
  }

  /** Hands queued requests to sockets while the admission allows. */
  private pump(nowMs = this.ctx.now()): void {
    if (this.finished) return;
    const handed = () => this.handedTimes();
    const spareAfter = this.admission.spareAfterMs(this.wire.spareAfterMs);
    while (this.queueHead < this.queue.length) {
      const req = this.queue[this.queueHead] as PacedRequest;
      if (req.settled) {
        this.queueHead += 1;
        continue;
      }
      // Past its wait for a pooled socket a request stops waiting: undici opens a fresh one for it.
      if (nowMs - req.tMs < spareAfter && !this.admission.mayHandOff(nowMs, handed(), this.onSockets.size)) {
        this.wakeAt(req.tMs + spareAfter, nowMs);
        break;
      }
      this.queueHead += 1;
      req.handedMs = nowMs;
      this.onSockets.add(req);
      this.handOffOrder.push(req);
      const opts = req.opts as Dispatcher.DispatchOptions;
      req.opts = null;
      this.pool.dispatch(opts, req as unknown as Dispatcher.DispatchHandler);
    }
    // Keep the arrays short: drop the consumed head once it is most of the queue, and settled hand-offs.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.handOffOrder.length > 2 * this.onSockets.size + 1024) {
      const still = this.handOffOrder.filter((r) => !r.settled);
      this.handOffOrder.length = 0;
      this.handOffOrder.push(...still);
    }
  }

  private wakeAt(atMs: number, nowMs: number): void {
    if (this.spareTimer) return;
    this.spareTimer = setTimeout(
      () => {
        this.spareTimer = null;
        this.pump();
      },
      Math.max(0, Math.ceil(atMs - nowMs)),
    );
  }

  /** Hand-off times of the requests on sockets, newest first. */
  private *handedTimes(): Generator<number> {
    for (let i = this.handOffOrder.length - 1; i >= 0; i--) {
      const req = this.handOffOrder[i] as PacedRequest;
      if (!req.settled) yield req.handedMs;
    }
  }

  /**
   * The client-side deadline, from the moment the schedule dispatched the request: undici's own timeouts start only
   * once a request is on a socket, and a queued request must fail at its deadline too.
   */
  private readonly sweep = (): void => {
    const now = this.ctx.now();
    const limit = this.ctx.options.timeoutMs;
    for (const req of this.wire.overdue(now)) this.giveUpLate(req, now);
    // `live` is in dispatch order, so the first request not yet due ends the sweep.
    for (const req of this.live) {
      const deadline = req.dispatchedMs + limit;
      if (now < deadline) break;
      this.settle(req);
      if (req.late) recordLate(this.ctx, req, deadline, null, { errorCode: 'ETIMEDOUT', sent: true });
      else recordTimeout(this.ctx, req, deadline, req.sentAtMs >= 0);
      // Destroys the socket it hangs on (undici does so for a request already written): the pool opens a fresh one
      // for the next request, so the run sees the server again the moment it answers again.
      req.abort?.(new Error('faultline: request deadline'));
    }
    // Time alone can make a connection count as hung, which frees room for a fresh socket.
    this.pump(now);
    this.maybeDone();
  };

  /** Marks a request's outcome as taken; false when it already was. */
  private settle(req: PacedRequest): boolean {
    if (req.settled) return false;
    req.settled = true;
    req.opts = null;
    this.live.delete(req);
    this.onSockets.delete(req);
    this.inflight -= 1;
    return true;
  }

  complete(req: PacedRequest): void {
    if (this.finished || !this.settle(req)) return;
    const now = this.ctx.now();
    const body = req.chunks ? Buffer.concat(req.chunks).toString('utf8') : undefined;
    const from = req.sentAtMs >= 0 ? req.sentAtMs : req.handedMs;
    this.admission.answered(now, now - req.handedMs);
    if (req.late) recordLate(this.ctx, req, now, null, { status: req.status, body, sent: true });
    else recordResponse(this.ctx, req, req.status, body, now, (now - from) * 1000);
    this.pump(now);
    this.maybeDone();
  }

  fail(req: PacedRequest, err: Error): void {
    if (this.finished || req.settled) return;
    // Before onConnect, undici never wrote a byte of this request: a refused connect or a TLS failure, or the client's
    // own limits (file descriptors, local ports), which kept it off the wire: late, not the server's doing.
    const now = this.ctx.now();
    const code = errorCodeOf(err);
    if (req.sentAtMs < 0 && isLocalLimitCode(code)) this.giveUpLate(req, now);
    else if (this.settle(req)) {
      if (req.late) recordLate(this.ctx, req, now, null, { errorCode: code, sent: true });
      else recordFailure(this.ctx, req, code, req.sentAtMs >= 0, now);
    }
    this.pump(now);
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.sendingEndedMs !== null && this.inflight === 0) this.finish();
  }

  private endSending(): void {
    if (this.sendingEndedMs !== null) return;
    this.sendingEndedMs = this.naturalEndMs ?? Math.min(this.ctx.now(), this.ctx.options.durationMs);
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private finish(): void {
    if (this.finished) return;
    this.endSending();
    this.finished = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.spareTimer) clearTimeout(this.spareTimer);
    this.wire.clear();
    this.queue.length = 0;
    this.queueHead = 0;
    this.handOffOrder.length = 0;
    // Every request has its outcome by now; whatever undici still holds fails with "destroyed", which is ignored.
    this.pool.destroy().catch(() => undefined);
    const endedMs = this.sendingEndedMs ?? this.ctx.now();
    const scheduled = this.sent + this.dropped;
    const spanMs = Math.max(endedMs, this.lastSendMs, 1);
    const report: DriverReport = {
      dropped: this.dropped,
      sendingEndedMs: endedMs,
      schedule: {
        scheduled,
        targetRate: this.schedule.meanRate(),
        achievedRate: (this.sent * 1000) / spanMs,
        lag: summarizeHistogram(this.lag),
        wireLag: summarizeHistogram(this.wire.lag),
        lateAfterMs: this.wire.lateAfterMs,
      },
    };
    this.resolve?.(report);
  }
}
