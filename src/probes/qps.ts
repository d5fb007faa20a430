// QPS probe: two independent views that must agree. The client view is the load timeline's per-second
// roll-up; the server view is Prometheus' raw request counters (HAProxy frontend, HAProxy per web server, each
// web server's own count of the client's requests) read with query_range at a 1 s step and differenced per step, so
// no extrapolation (as increase() does) blurs the totals. The verdict compares totals over a window covering the run.

import { FaultlineError } from '../errors.js';
import type { StackSpec } from '../stack/spec.js';
import { z } from 'zod';
import type { Timeline } from '../load/timeline.js';
import { retryUntil, systemClock } from '../util/retry.js';
import { counterDeltas, prometheusUrl, queryRange, queryScalar, type RangeSeries } from './prometheus.js';
import { durationField, numberField } from './params.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe } from './types.js';
import { pct } from './text.js';

/** One second: client-sent requests and what the LB frontend counted in that second. */
export interface QpsSecond {
  /** Unix seconds at the end of the step. */
  t: number;
  client: number | null;
  server: number | null;
}

export interface QpsValue {
  windowStart: string;
  windowEnd: string;
  clientTotal: number | null;
  serverTotal: number;
  clientQps: number | null;
  serverQps: number;
  /** |client − server| / client; null without a client view. */
  difference: number | null;
}

export interface QpsDetails {
  perSecond: QpsSecond[];
  /** HAProxy's count of responses per web server over the window. */
  lbPerServer: Record<string, number>;
  /**
   * Each web server's own count of the client's requests (the description's web_per_server: its monitoring client,
   * health checks and scrapes left out). The name stays from when only nginx was counted (journals keep it).
   */
  nginxPerServer: Record<string, number>;
  /** The web server's count − HAProxy's, per web server: what one counted and the other did not. */
  perServerDifference: Record<string, number>;
  /** What each web server counted that was not the client's (health checks, scrapes) and was left out of its count. */
  webNotClientPerServer?: Record<string, number>;
}

/** The four queries of the server view; nginxPerServer (web_per_server) is null where the description names no web servers' own counter. */
export interface QpsQueries {
  frontend: string;
  /** Time of the newest frontend sample: the server view is complete only once a scrape lies past the window. */
  freshness: string;
  lbPerServer: string;
  nginxPerServer: string | null;
}

/**
 * The queries the description names (prometheus.queries), the rest derived from its qps_query, the per-server
 * counter: its sum is the total and its newest sample the freshness (pure).
 */
export function qpsQueries(spec: Pick<StackSpec, 'prometheus'>): QpsQueries {
  const q = spec.prometheus?.qps_query;
  const named = spec.prometheus?.queries ?? {};
  const perServer = named.per_server ?? q;
  if (!perServer) throw new FaultlineError('INVALID_INPUT', 'stack.prometheus.qps_query: not declared; the server view needs the query of a requests counter');
  return {
    frontend: named.frontend ?? `sum(${perServer})`,
    freshness: named.freshness ?? `max(timestamp(${perServer}))`,
    lbPerServer: perServer,
    nginxPerServer: named.web_per_server ?? null,
  };
}

function total(series: RangeSeries | undefined): number {
  return series ? counterDeltas(series.values).reduce((s, [, d]) => s + d, 0) : 0;
}

function byLabel(series: RangeSeries[], label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) out[s.metric[label] ?? '?'] = total(s);
  return out;
}

/**
 * A web server's own count of the client's requests, by server (pure): a series labelled `not_client` (requests the
 * server counted that were not the client's, e.g. health checks a log-based exporter counted beside a counter of every
 * request) is subtracted from its server's other series. Each counter is differenced on its own before: the difference
 * of two counters scraped at different instants is no counter (it dips when one is read before the other), and its
 * dips would read as resets. Servers with only `not_client` series are left out.
 */
export function webClientCounts(series: RangeSeries[]): { client: Record<string, number>; notClient: Record<string, number> } {
  const all: Record<string, number> = {};
  const notClient: Record<string, number> = {};
  for (const s of series) {
    const server = s.metric.server ?? '?';
    const into = s.metric.not_client === undefined ? all : notClient;
    into[server] = (into[server] ?? 0) + total(s);
  }
  const client: Record<string, number> = {};
  for (const [server, n] of Object.entries(all)) client[server] = n - (notClient[server] ?? 0);
  return { client, notClient };
}

/** Client requests per wall-clock second (unix seconds → count), from the timeline's per-second roll-up. Pure. */
export function clientPerSecond(timeline: Pick<Timeline, 'startedAt' | 'perSecond'>): Map<number, number> {
  const out = new Map<number, number>();
  for (const w of timeline.perSecond()) {
    // Bucket [start, end) of the run lands in the step that ends after it (Prometheus samples are "as of t").
    const t = Math.ceil((timeline.startedAt + w.endMs) / 1000);
    out.set(t, (out.get(t) ?? 0) + w.sent);
  }
  return out;
}

/**
 * When the run's last answer can have come (ms since t = 0, pure): a request due in a second and answered
 * after that second's slowest (corrected) latency reached the LB no later than that. A slow stack answers
 * long after the schedule ended; a window cut at the schedule's end would miss what the LB counted then.
 */
export function lastActivityMs(timeline: Pick<Timeline, 'length' | 'bucketMs' | 'perSecond'>): number {
  let end = timeline.length * timeline.bucketMs;
  for (const w of timeline.perSecond()) end = Math.max(end, w.endMs + (w.latency.max ?? 0));
  return end;
}

/** Pure: puts both views together and computes the verdict figures. */
export function compareQps(input: {
  window: { startS: number; endS: number };
  client: Map<number, number> | null;
  frontend: RangeSeries | undefined;
  lbPerServer: RangeSeries[];
  nginxPerServer: RangeSeries[];
  /** Rates are per second of the load run when there is one (the window adds margins), else of the window. */
  runSeconds?: number;
}): { value: QpsValue; details: QpsDetails } {
  const deltas = input.frontend ? counterDeltas(input.frontend.values) : [];
  const seconds = input.runSeconds && input.runSeconds > 0 ? input.runSeconds : Math.max(1, input.window.endS - input.window.startS);
  const serverTotal = deltas.reduce((s, [, d]) => s + d, 0);
  const clientTotal = input.client ? [...input.client.values()].reduce((a, b) => a + b, 0) : null;
  const perSecond: QpsSecond[] = deltas.map(([t, d]) => ({ t, client: input.client ? (input.client.get(t) ?? 0) : null, server: d }));
  const lb = byLabel(input.lbPerServer, 'exported_server');
  const { client: nginx, notClient } = webClientCounts(input.nginxPerServer);
  const perServerDifference: Record<string, number> = {};
  for (const s of new Set([...Object.keys(lb), ...Object.keys(nginx)])) perServerDifference[s] = (nginx[s] ?? 0) - (lb[s] ?? 0);
  return {
    value: {
      windowStart: new Date(input.window.startS * 1000).toISOString(),
      windowEnd: new Date(input.window.endS * 1000).toISOString(),
      clientTotal,
      serverTotal,
      clientQps: clientTotal === null ? null : clientTotal / seconds,
      serverQps: serverTotal / seconds,
      difference: clientTotal === null ? null : clientTotal === 0 ? (serverTotal === 0 ? 0 : 1) : Math.abs(clientTotal - serverTotal) / clientTotal,
    },
    details: { perSecond, lbPerServer: lb, nginxPerServer: nginx, perServerDifference, webNotClientPerServer: notClient },
  };
}

/** Below this many requests at the LB a server's share is too small for a ratio to say anything. */
const MIN_PER_SERVER = 50;

/**
 * A web server whose own count of the client's requests is more than `max` apart from the LB's count for it (pure):
 * its monitoring misses requests or counts some that are not the client's. Servers without a count of their own, or
 * with fewer than MIN_PER_SERVER requests, are not judged.
 */
export function perServerFindings(details: Pick<QpsDetails, 'lbPerServer' | 'nginxPerServer'>, max: number): Finding[] {
  const out: Finding[] = [];
  for (const [server, lb] of Object.entries(details.lbPerServer).sort()) {
    const own = details.nginxPerServer[server];
    if (own === undefined || lb < MIN_PER_SERVER || Math.abs(own - lb) <= max * lb) continue;
    out.push({
      id: 'web-count-mismatch',
      severity: 'medium',
      message: `${server} counted ${own} of the client's requests, the LB passed it ${lb} (${((100 * Math.abs(own - lb)) / lb).toFixed(1)}% apart)`,
    });
  }
  return out;
}

/** How long to wait for Prometheus to have scraped past the window. */
const FRESH_TIMEOUT_MS = 20_000;

const params = z
  .object({
    /** Without a load timeline: how far back the server view looks. */
    window: durationField({ min: 2000, max: 3_600_000 }).default('30s'),
    /** Largest accepted relative difference between the views. */
    maxDifference: numberField({ min: 0, max: 1 }).default(0.05),
    /** Margin around the run, for scrape granularity and requests still in flight. */
    margin: durationField({ min: 0, max: 60_000 }).default('3s'),
  })
  .strict();
type Params = z.infer<typeof params>;

function renderQps(o: Observation<QpsValue>): string[] {
  const v = o.value;
  const d = o.details as unknown as QpsDetails;
  const lines = [
    `window     ${v.windowStart} → ${v.windowEnd}`,
    v.clientTotal === null
      ? 'client     no load timeline to compare with (CLI: --load <file> from `faultline load --json`)'
      : `client     ${v.clientTotal} requests (${v.clientQps?.toFixed(1) ?? '–'} req/s)`,
    `server     ${v.serverTotal} requests at the LB (${v.serverQps.toFixed(1)} req/s); difference ${pct(v.difference)}`,
  ];
  for (const s of Object.keys(d.lbPerServer ?? {}).sort()) {
    lines.push(
      `  ${s.padEnd(8)} LB ${d.lbPerServer[s]}  web server ${d.nginxPerServer[s] ?? '–'}  (web server − LB ${d.perServerDifference[s] ?? '–'}` +
        `${d.webNotClientPerServer?.[s] ? `; ${d.webNotClientPerServer[s]} health checks and scrapes left out` : ''})`,
    );
  }
  const busy = (d.perSecond ?? []).filter((s) => (s.client ?? 0) > 0 || (s.server ?? 0) > 0);
  if (busy.length) lines.push(`per second (client/server): ${busy.map((s) => `${s.client ?? '–'}/${s.server ?? '–'}`).join(' ')}`);
  return lines;
}

export const qpsProbe: Probe<Params, QpsValue> = {
  name: 'qps',
  description: 'requests per second as the load client saw them and as monitoring (HAProxy, each web server) counted them',
  params,
  render: renderQps,
  headline: (v) => v.difference,
  metrics: [{ metric: 'qps_difference_ratio', over: 'run', of: (l) => (l.value.difference === null ? null : Math.abs(l.value.difference)) }],
  async run(ctx, p, signal): Promise<Observation<QpsValue>> {
    const started = startMark();
    const clock = ctx.clock ?? systemClock;
    const tl = ctx.timeline;
    const marginS = Math.ceil(p.margin / 1000);
    const base = await prometheusUrl(ctx.stack);
    const queries = qpsQueries(ctx.stack.spec);
    let window: { startS: number; endS: number };
    let fresh = true;
    if (tl) {
      window = { startS: Math.floor(tl.startedAt / 1000) - marginS, endS: Math.ceil((tl.startedAt + lastActivityMs(tl)) / 1000) + marginS };
      const wait = window.endS * 1000 - clock.now();
      if (wait > 0) await clock.sleep(Math.min(wait, 60_000 + p.margin), signal);
      // Scrapes run every second but lag on a busy machine: wait (bounded) until one lies past the window's end.
      fresh = await retryUntil(
        () => queryScalar(base, queries.freshness, signal),
        (t) => t !== null && t >= window.endS,
        { timeoutMs: FRESH_TIMEOUT_MS, intervalMs: 500, signal, clock, what: 'a Prometheus scrape past the window' },
      ).then(
        () => true,
        (err: unknown) => {
          if (signal.aborted) throw err;
          return false;
        },
      );
    } else {
      const lastWindow = () => {
        const nowS = Math.floor(clock.now() / 1000) - 1;
        return { startS: nowS - Math.round(p.window / 1000), endS: nowS };
      };
      // A stack that has just started: Prometheus's first scrapes of the LB may still be coming (bounded).
      await retryUntil(
        () => queryRange(base, queries.frontend, { ...lastWindow(), stepS: 1 }, signal),
        (series) => series.length > 0,
        { timeoutMs: FRESH_TIMEOUT_MS, intervalMs: 1000, signal, clock, what: 'a Prometheus scrape of the LB' },
      ).catch((err: unknown) => {
        if (signal.aborted) throw err;
      });
      window = lastWindow();
    }
    const range = { ...window, stepS: 1 };
    const [frontend, lbPerServer, nginxPerServer] = await Promise.all([
      queryRange(base, queries.frontend, range, signal),
      queryRange(base, queries.lbPerServer, range, signal),
      queries.nginxPerServer ? queryRange(base, queries.nginxPerServer, range, signal) : Promise.resolve([]),
    ]);
    const { value, details } = compareQps({
      window,
      ...(tl ? { runSeconds: (tl.length * tl.bucketMs) / 1000 } : {}),
      client: tl ? clientPerSecond(tl) : null,
      frontend: frontend[0],
      lbPerServer,
      nginxPerServer,
    });
    const findings: Finding[] = [];
    if (!frontend[0]) findings.push({ id: 'no-server-view', severity: 'high', message: 'Prometheus has no HAProxy frontend counter for the window' });
    if (!fresh)
      findings.push({
        id: 'server-view-late',
        severity: 'medium',
        message: `no Prometheus scrape past ${new Date(window.endS * 1000).toISOString()} within ${FRESH_TIMEOUT_MS / 1000} s: the server view may miss the end of the run`,
      });
    findings.push(...perServerFindings(details, p.maxDifference));
    if (value.difference !== null && value.difference > p.maxDifference) {
      findings.push({
        id: 'qps-mismatch',
        severity: 'medium',
        message: `client sent ${value.clientTotal}, the LB counted ${value.serverTotal} (${(value.difference * 100).toFixed(1)}% apart)`,
      });
    }
    return observation('qps', started, {
      value,
      tolerance: { type: 'atMost', max: p.maxDifference },
      passed: frontend[0] !== undefined && (value.difference === null || value.difference <= p.maxDifference),
      details: { ...details, queries },
      findings,
    });
  },
};
