// When the paced driver may put another request on a socket. A base pool of N connections carries normal load (more
// sockets than that only cost a loaded machine connects and accepts). A connection whose request has waited far
// longer than answers take lately is hung, and does not count against N: the driver opens a fresh socket past it,
// so requests never queue behind a hang and the run sees the server the moment it answers again. A request waits
// for the base pool only as long as a socket of it would free up if answers came as they lately did; then it gets
// a fresh one, so it leaves on time. Pure: the caller passes the clock.

/** A request is hung when older than this factor × the slowest recent answer … */
const HANG_FACTOR = 4;
/** … and never sooner than this. */
const HANG_MIN_MS = 250;
/** "Recent" is the current and the previous window of this length. */
const WINDOW_MS = 1000;
/** Weight of each answer in the typical answer time (an exponential average over the last ~20 answers). */
const TYPICAL_WEIGHT = 0.05;

export class Admission {
  private windowStart = 0;
  private currentMax = 0;
  private previousMax = 0;
  /** Typical time an answered request held its socket lately, ms. */
  private typical = 0;

  constructor(readonly baseConnections: number) {}

  /** Notes how long an answered request held its socket. */
  answered(nowMs: number, socketMs: number): void {
    this.roll(nowMs);
    if (socketMs > this.currentMax) this.currentMax = socketMs;
    this.typical += TYPICAL_WEIGHT * (socketMs - this.typical);
  }

  /** Age past which a request on a socket counts as hung. */
  hangAfterMs(nowMs: number): number {
    this.roll(nowMs);
    return Math.max(HANG_MIN_MS, HANG_FACTOR * Math.max(this.currentMax, this.previousMax));
  }

  /**
   * How long a due request may wait for a socket of the base pool: twice the typical recent answer (a busy socket
   * usually frees within that while answers come; the slowest one, which hang detection goes by, can be an outlier
   * of hundreds of ms on a loaded machine), at least 1 ms, at most `capMs`.
   */
  spareAfterMs(capMs: number): number {
    return Math.min(capMs, Math.max(1, 2 * this.typical));
  }

  /**
   * Whether one more request may go onto a socket: when fewer than the base pool of those on sockets still work (are
   * younger than the hang threshold). `handedAtMs`: when each was handed to its socket, newest first, so at most
   * `base` of them are read, however many hang.
   */
  mayHandOff(nowMs: number, handedAtMs: Iterable<number>, onSockets: number): boolean {
    if (onSockets < this.baseConnections) return true;
    const hangAfter = this.hangAfterMs(nowMs);
    let working = 0;
    for (const t of handedAtMs) {
      // Handed in time order: past the first hung one, every older one hangs too.
      if (nowMs - t >= hangAfter) break;
      working += 1;
      if (working >= this.baseConnections) return false;
    }
    return true;
  }

  private roll(nowMs: number): void {
    const elapsed = nowMs - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    this.previousMax = elapsed < 2 * WINDOW_MS ? this.currentMax : 0;
    this.currentMax = 0;
    this.windowStart = nowMs;
  }
}
