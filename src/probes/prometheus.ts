// A small client for the Prometheus HTTP API of the stack's monitor (reachable from the operator address).

import { FaultlineError } from '../errors.js';
import { request } from '../util/http.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { stackServers } from './targets.js';
import { reach } from '../swarm/vantage.js';

export interface RangeSeries {
  metric: Record<string, string>;
  /** [unix seconds, value] */
  values: Array<[number, number]>;
}

/**
 * The stack's Prometheus, as its description declares it: a loopback URL, or the internal address of a server
 * (or service) of the stack. Nothing else is ever asked.
 */
export async function prometheusUrl(stack: AttachedStack): Promise<string> {
  const p = stack.spec.prometheus;
  if (!p) throw new FaultlineError('UNKNOWN_TARGET', `stack.prometheus: not declared for stack ${stack.project} (${stack.spec.file})`);
  if (p.url) {
    const host = new URL(p.url).hostname.replace(/^\[|\]$/g, '');
    if (!['127.0.0.1', '::1', 'localhost'].includes(host))
      throw new FaultlineError('UNSAFE_TARGET', `stack.prometheus.url: ${p.url} is not a loopback address`);
    return p.url.replace(/\/+$/, '');
  }
  const servers = await stackServers(stack);
  const containers = p.service ? await stack.containers() : [];
  const server = p.server ?? containers.find((c) => c.service === p.service)?.server;
  const host = servers.find((s) => s.server === server)?.internal;
  if (!host)
    throw new FaultlineError(
      'UNKNOWN_TARGET',
      `stack.prometheus: stack ${stack.project} has no running ${p.server ? `server ${p.server}` : `service ${p.service}`}`,
    );
  // On a swarm, through faultline's vantage on the overlay (127.0.0.1 relay); as it is on a compose stack.
  const at = await reach(stack, host, p.port);
  return `http://${at.host}:${at.port}`;
}

interface ApiAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; values?: Array<[number, string]>; value?: [number, string] }> };
}

async function api(base: string, path: string, query: Record<string, string>, signal: AbortSignal): Promise<ApiAnswer> {
  const url = `${base}${path}?${new URLSearchParams(query).toString()}`;
  let res;
  try {
    res = await request(url, { timeoutMs: 10_000, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new FaultlineError('TARGET_UNREACHABLE', `Prometheus at ${base}: ${(err as Error).message}`, { cause: err });
  }
  let body: ApiAnswer;
  try {
    body = JSON.parse(res.body) as ApiAnswer;
  } catch {
    throw new FaultlineError('TARGET_UNREACHABLE', `Prometheus at ${base} answered ${res.status} with no JSON`);
  }
  if (body.status !== 'success') throw new FaultlineError('TARGET_UNREACHABLE', `Prometheus query ${query.query}: ${body.error ?? res.status}`);
  return body;
}

/** query_range with the given step; values parsed to numbers. */
export async function queryRange(
  base: string,
  query: string,
  range: { startS: number; endS: number; stepS: number },
  signal: AbortSignal,
): Promise<RangeSeries[]> {
  const body = await api(base, '/api/v1/query_range', { query, start: String(range.startS), end: String(range.endS), step: String(range.stepS) }, signal);
  return (body.data?.result ?? []).map((r) => ({ metric: r.metric, values: (r.values ?? []).map(([t, v]) => [Number(t), Number(v)] as [number, number]) }));
}

/**
 * Per-step increments of a counter series (pure): v[k] − v[k−1], and on a reset (value went down) the new
 * value itself, as Prometheus' increase() treats resets. Returns [time, increment] for k ≥ 1.
 */
export function counterDeltas(values: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 1; k < values.length; k++) {
    const [t, v] = values[k]!;
    const prev = values[k - 1]![1];
    out.push([t, v >= prev ? v - prev : v]);
  }
  return out;
}

/** An instant query's single value (e.g. a scalar aggregate); null when the result is empty. */
export async function queryScalar(base: string, query: string, signal: AbortSignal): Promise<number | null> {
  const body = await api(base, '/api/v1/query', { query }, signal);
  const v = body.data?.result[0]?.value?.[1];
  return v === undefined ? null : Number(v);
}

/** An instant query's whole answer (`data` as Prometheus gives it: its resultType and result), for callers that read every series. */
export async function queryInstant(base: string, query: string, signal: AbortSignal): Promise<{ resultType: string; result: unknown }> {
  const body = await api(base, '/api/v1/query', { query }, signal);
  return { resultType: body.data?.resultType ?? '', result: body.data?.result ?? [] };
}
