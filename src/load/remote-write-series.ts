// What `--out prometheus` pushes, as pure data: a run's timeline and fault windows turned into Prometheus samples, one
// per series per second, each pushed once that second is final (see docs/architecture.md, "Live metrics").
//
// Why per-second gauges stamped with the second's start, and not counters: the timeline files every request under its
// *intended* send time, and a request's outcome may come seconds later (up to its deadline). A second's figures are
// therefore pushed only once no request of it is still in flight; a remote-write sample cannot be overwritten, so
// nothing provisional is ever sent. What Prometheus holds is then exactly the journal's per-second view, and
// sum_over_time() over any range is exact, where counters would need rate()/increase() and their extrapolation.

import type { FaultWindow } from './types.js';
import type { Timeline } from './timeline.js';
import type { TimelineWindow } from './buckets.js';

export interface Label {
  name: string;
  value: string;
}

export interface Sample {
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** One series and its new samples, labels sorted by name with `__name__` among them (as remote-write requires). */
export interface TimeSeries {
  labels: Label[];
  samples: Sample[];
}

/** A fault the run plans (an experiment's method step): its series shows 0 from the first second, 1 while it is on. */
export interface PlannedFault {
  name: string;
  /** The target as the step gives it (or the fault's default): a label, known before the fault resolves it. */
  target: string;
  /** When the step injects (ms since t = 0 of the load): its window cannot start before. */
  atMs: number;
}

/** Prometheus' staleness marker: ends a series at the run's end, so a graph does not draw its last value for 5 minutes. */
export const STALE_NAN = Buffer.from('7ff0000000000002', 'hex').readDoubleBE(0);

export const QUANTILES: ReadonlyArray<[label: string, key: 'p50' | 'p90' | 'p99' | 'p999']> = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
  ['0.999', 'p999'],
];

/** The series' names, in one place (the docs and the report name them too). */
export const SERIES = {
  requests: 'faultline_requests',
  errors: 'faultline_request_errors',
  responses: 'faultline_responses',
  latency: 'faultline_latency_ms',
  rate: 'faultline_rate',
  faultActive: 'faultline_fault_active',
} as const;

/** Labels sorted by name, `__name__` first among equals of sort order (it sorts before lowercase names anyway). */
export function sortedLabels(name: string, labels: Record<string, string>): Label[] {
  return Object.entries({ ...labels, __name__: name })
    .map(([n, value]) => ({ name: n, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether a fault window was on at any moment of [loMs, hiMs): a fault of 300 ms shows in the second it fell in. */
export function windowCovers(w: Pick<FaultWindow, 'startMs' | 'endMs'>, loMs: number, hiMs: number): boolean {
  if (w.startMs >= hiMs) return false;
  if (w.endMs === null) return true;
  return w.endMs > loMs || (w.endMs === w.startMs && w.startMs >= loMs);
}

/** The figures of one final second as samples (pure): counts by outcome, by error code and status, latency, rates. */
export function secondSamples(
  win: TimelineWindow,
  widthMs: number,
  seen: { codes: Set<string>; statuses: Set<string> },
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  const add = (name: string, labels: Record<string, string>, value: number) => out.push({ name, labels, value });
  add(SERIES.requests, { outcome: 'ok' }, win.successes);
  add(SERIES.requests, { outcome: 'failed_status' }, win.responses - win.successes);
  add(SERIES.requests, { outcome: 'error' }, win.errors);
  add(SERIES.requests, { outcome: 'dropped' }, win.dropped);
  // A code or status once seen is pushed every second after (0 when absent), so an instant query never shows a stale value.
  for (const c of Object.keys(win.errorCodes)) seen.codes.add(c);
  for (const s of Object.keys(win.statuses)) seen.statuses.add(s);
  for (const c of [...seen.codes].sort()) add(SERIES.errors, { code: c }, win.errorCodes[c] ?? 0);
  for (const s of [...seen.statuses].sort()) add(SERIES.responses, { status: s }, win.statuses[s] ?? 0);
  const perS = 1000 / widthMs;
  add(SERIES.rate, { kind: 'intended' }, (win.sent + win.dropped) * perS);
  add(SERIES.rate, { kind: 'sent' }, win.sent * perS);
  for (const [view, summary] of [
    ['corrected', win.latency],
    ['uncorrected', win.uncorrected],
  ] as const) {
    if (!summary) continue;
    for (const [q, key] of QUANTILES) {
      const v = summary[key];
      if (v !== null) add(SERIES.latency, { quantile: q, view }, v);
    }
  }
  return out;
}

/** The part of a load job the series read: its timeline (absent on worker threads: then everything goes at the end). */
export interface SeriesSource {
  timeline?: Timeline | undefined;
}

/**
 * A run's series as they become final, one second at a time and in order (a series' samples must arrive in time
 * order). Clock-free: the caller says what time it is; `due` answers the samples of every second that closed since.
 */
export class RunSeries {
  private nextRequests = 0;
  private nextFaults = 0;
  private finished = false;
  private readonly seen = { codes: new Set<string>(), statuses: new Set<string>() };
  private readonly windows: FaultWindow[] = [];
  private readonly faultKeys = new Map<string, Record<string, string>>();
  private readonly pushed = new Map<string, Label[]>();
  private readonly base: Record<string, string>;

  constructor(
    labels: { run: string; experiment: string },
    private readonly startedAtMs: number,
    private readonly widthMs: number,
    private readonly planned: readonly PlannedFault[] = [],
    /** How long after its end a second may still gain a request (a send late on the schedule). */
    private readonly graceMs = 1000,
  ) {
    this.base = { ...labels };
    for (const p of planned) this.faultKeys.set(faultKey(p.name, p.target), { fault: p.name, target: p.target });
  }

  /** A fault event of the load (its window opens, possibly dated back to its inject, or closes). */
  noteFault(name: string, active: boolean, elapsedMs: number): void {
    if (active) this.windows.push({ name, startMs: elapsedMs, endMs: null });
    else {
      const open = this.windows.find((w) => w.name === name && w.endMs === null);
      if (open) open.endMs = elapsedMs;
    }
  }

  /**
   * Seconds that are final at `nowMs`: over by the grace, every request of them answered (or timed out), and within the
   * time the load was still sending at (`sendingAtMs`, so no second past the run's end is invented).
   */
  due(timeline: Timeline, nowMs: number, sendingAtMs: number): TimeSeries[] {
    const out = new SeriesBatch();
    if (this.finished) return [];
    while (this.nextRequests * this.widthMs + this.widthMs <= Math.min(nowMs - this.graceMs, sendingAtMs)) {
      const lo = this.nextRequests * this.widthMs;
      if (!settled(timeline, lo, lo + this.widthMs)) break;
      this.addSecond(out, timeline.window(lo, lo + this.widthMs), this.nextRequests);
      this.nextRequests += 1;
    }
    while (this.nextFaults * this.widthMs + this.widthMs <= Math.min(nowMs, sendingAtMs)) {
      const hi = (this.nextFaults + 1) * this.widthMs;
      if (this.pendingFaultBefore(hi)) break;
      this.addFaults(out, this.nextFaults, this.windows);
      this.nextFaults += 1;
    }
    return out.list();
  }

  /** Everything left once the load is over, from its final timeline and windows, then a staleness marker per series. */
  finish(timeline: Timeline, faultWindows: readonly FaultWindow[]): TimeSeries[] {
    const out = new SeriesBatch();
    if (this.finished) return [];
    this.finished = true;
    const count = Math.ceil((timeline.length * timeline.bucketMs) / this.widthMs - 1e-9);
    for (; this.nextRequests < count; this.nextRequests++) {
      const lo = this.nextRequests * this.widthMs;
      this.addSecond(out, timeline.window(lo, lo + this.widthMs), this.nextRequests);
    }
    for (; this.nextFaults < count; this.nextFaults++) this.addFaults(out, this.nextFaults, faultWindows);
    const endTs = this.startedAtMs + count * this.widthMs;
    for (const labels of this.pushed.values()) out.add(labels, STALE_NAN, endTs);
    this.pushed.clear();
    return out.list();
  }

  private addSecond(out: SeriesBatch, win: TimelineWindow, index: number): void {
    const ts = this.startedAtMs + index * this.widthMs;
    for (const s of secondSamples(win, this.widthMs, this.seen)) out.add(this.labelsOf(s.name, s.labels), s.value, ts);
  }

  private addFaults(out: SeriesBatch, index: number, windows: readonly FaultWindow[]): void {
    const lo = index * this.widthMs;
    const ts = this.startedAtMs + lo;
    const on = new Set<string>();
    for (const w of windows) {
      const key = this.keyOfWindow(w);
      if (windowCovers(w, lo, lo + this.widthMs)) on.add(key);
    }
    for (const [key, labels] of this.faultKeys) out.add(this.labelsOf(SERIES.faultActive, labels), on.has(key) ? 1 : 0, ts);
  }

  /** The planned step a window belongs to: the latest of its name that was due by the window's start. */
  private keyOfWindow(w: FaultWindow): string {
    const step = this.planned
      .filter((p) => p.name === w.name && p.atMs <= w.startMs + 1)
      .reduce<PlannedFault | undefined>((best, p) => (!best || p.atMs >= best.atMs ? p : best), undefined);
    const target = step?.target ?? this.planned.find((p) => p.name === w.name)?.target ?? '';
    const key = faultKey(w.name, target);
    if (!this.faultKeys.has(key)) this.faultKeys.set(key, { fault: w.name, target });
    return key;
  }

  /**
   * A planned fault due before `hiMs`, or within the next second, whose window has not opened yet: its inject may still
   * date it back into the second. The next second counts too because a step is due on the scheduler's clock, not the
   * timeline's: a fault due at 3 s was seen opening at 2 999.x ms of the load (CI, 2 busy cores), inside second 2.
   */
  private pendingFaultBefore(hiMs: number): boolean {
    const opened = new Map<string, number>();
    for (const w of this.windows) opened.set(w.name, (opened.get(w.name) ?? 0) + 1);
    const due = new Map<string, number>();
    for (const p of this.planned) if (p.atMs < hiMs + this.widthMs) due.set(p.name, (due.get(p.name) ?? 0) + 1);
    return [...due].some(([name, n]) => (opened.get(name) ?? 0) < n);
  }

  private labelsOf(name: string, labels: Record<string, string>): Label[] {
    const all = { ...labels, ...this.base };
    const key = `${name}${JSON.stringify(Object.entries(all).sort())}`;
    let sorted = this.pushed.get(key);
    if (!sorted) this.pushed.set(key, (sorted = sortedLabels(name, all)));
    return sorted;
  }
}

function faultKey(name: string, target: string): string {
  return `${name}\u0000${target}`;
}

/** Every request filed under [lo, hi) has an outcome: sent = answered + failed (dropped ones have theirs at once). */
function settled(timeline: Timeline, loMs: number, hiMs: number): boolean {
  let sent = 0;
  let done = 0;
  const first = timeline.indexOf(loMs);
  for (let i = first; i * timeline.bucketMs < hiMs && i < timeline.length; i++) {
    const b = timeline.bucket(i);
    if (!b) break;
    sent += b.sent;
    done += b.responses + b.errors;
  }
  return done >= sent;
}

/** Samples grouped by series (the same label array object), in the order they were added. */
class SeriesBatch {
  private readonly bySeries = new Map<Label[], Sample[]>();

  add(labels: Label[], value: number, timestamp: number): void {
    let list = this.bySeries.get(labels);
    if (!list) this.bySeries.set(labels, (list = []));
    list.push({ value, timestamp });
  }

  list(): TimeSeries[] {
    return [...this.bySeries].map(([labels, samples]) => ({ labels, samples }));
  }
}
