// Readiness as small waits that compose: the containers (failing fast on one that exited or is unhealthy), the
// endpoint's ready path, and an answer from each server of a role through the endpoint. Each wait ends at a shared
// deadline and names what it waited for.

import { FaultlineError } from '../errors.js';
import { request } from '../util/http.js';
import { retryUntil } from '../util/retry.js';
import type { ContainerSummary } from './docker-client.js';
import { isHelper, isReady, listWords } from './servers.js';

export type Log = (line: string) => void;

export interface WaitOptions {
  /** Epoch ms by which the wait must be over. */
  deadline: number;
  signal?: AbortSignal;
  log?: Log;
}

const signalOf = (o: WaitOptions) => (o.signal ? { signal: o.signal } : {});

/** A container seen exited or dead this long is down for good: a restart passes through "exited" for far less. */
export const DOWN_FOR_GOOD_MS = 3000;

/**
 * Waits until at least `expected` containers (helpers aside) exist and every one is running and healthy. A container
 * that stays exited or dead for DOWN_FOR_GOOD_MS ends the wait at once, naming it: waiting longer would not bring it
 * back. An unhealthy one is waited for (health checks recover; a cluster node waits for its peers), and named if the
 * wait times out.
 */
export async function waitContainers(
  list: () => Promise<ContainerSummary[]>,
  expected: number,
  o: WaitOptions,
  now: () => number = Date.now,
): Promise<ContainerSummary[]> {
  let lastReport = '';
  const downSince = new Map<string, number>();
  return retryUntil(
    list,
    (all) => {
      const services = all.filter((c) => !isHelper(c));
      const ready = services.filter(isReady).length;
      const t = now();
      for (const c of services) {
        if (c.state === 'exited' || c.state === 'dead') downSince.set(c.id, downSince.get(c.id) ?? t);
        else downSince.delete(c.id);
      }
      const failed = services.filter((c) => t - (downSince.get(c.id) ?? t) >= DOWN_FOR_GOOD_MS);
      if (failed.length) {
        throw new FaultlineError('STACK_FAILED', failed.map((c) => `${c.service || c.name} is ${c.state}`).join(', '), {
          hint: `see \`faultline stack logs ${failed[0]?.service ?? ''}\``,
        });
      }
      const unhealthy = services.filter((c) => c.health === 'unhealthy').map((c) => c.service || c.name);
      const report = `${ready}/${Math.max(expected, services.length)} containers ready${unhealthy.length ? ` (unhealthy: ${unhealthy.join(', ')})` : ''}`;
      if (report !== lastReport) o.log?.(report);
      lastReport = report;
      return services.length >= expected && ready === services.length;
    },
    { timeoutMs: Math.max(1000, o.deadline - Date.now()), intervalMs: 500, what: 'every container to be healthy', ...signalOf(o) },
  ).catch((err: unknown) => {
    throw err instanceof FaultlineError && err.code !== 'TIMEOUT' ? err : new FaultlineError('STACK_FAILED', (err as Error).message, { cause: err });
  });
}

export interface EndpointCheck {
  /** The full URL of the ready path. */
  url: string;
  /** TLS options of the stack's endpoint (CA or insecure, SNI). */
  tls: { ca?: string; insecure?: boolean; servername?: string };
}

/** Waits until the ready path answers with a 2xx. */
export async function waitEndpoint(e: EndpointCheck, o: WaitOptions): Promise<void> {
  await retryUntil(
    async () => (await request(e.url, { ...e.tls, timeoutMs: 2000, ...signalOf(o) })).status,
    (status) => status >= 200 && status < 300,
    { timeoutMs: Math.max(2000, o.deadline - Date.now()), intervalMs: 200, what: `a 2xx answer from ${e.url}`, ...signalOf(o) },
  ).catch((err: unknown) => {
    throw new FaultlineError('TARGET_UNREACHABLE', `stack.endpoint.url: ${e.url} did not answer with a 2xx: ${(err as Error).message}`, { cause: err });
  });
}

/**
 * Waits until the ready path has answered from each of `servers`, told apart by the JSON field `field` of the answer
 * (a stack whose servers are not labelled still has to answer once).
 */
export async function waitEachServer(e: EndpointCheck, servers: string[], field: string, o: WaitOptions): Promise<void> {
  const seen = new Set<string>();
  await retryUntil(
    async () => {
      const res = await request(e.url, { ...e.tls, timeoutMs: 2000, ...signalOf(o) });
      if (res.status === 200) seen.add(String((JSON.parse(res.body) as Record<string, unknown>)[field]));
      return seen.size;
    },
    () => (servers.length ? servers.every((w) => seen.has(w)) : seen.size > 0),
    {
      timeoutMs: Math.max(5000, o.deadline - Date.now()),
      intervalMs: 100,
      what: `answers from every server (${servers.join(', ')}) at ${e.url}`,
      ...signalOf(o),
    },
  );
  o.log?.(servers.length ? `${e.url} answers from ${listWords(servers)}` : `${e.url} answers`);
}
