// Shared by the monitoring tests of both profiles and the swarm (test/integration/, test/hardened/, test/swarm/monitoring.test.ts):
// requests driven through the LB, then each web server's own count of the client's requests (the description's
// web_per_server, as the QPS probe reads it) set against the LB's count for that server, and the database exporters.

import type { ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { request } from '../../src/util/http.js';
import { getProbe } from '../../src/probes/registry.js';
import { runProbe } from '../../src/probes/runner.js';
import { prometheusUrl, queryInstant } from '../../src/probes/prometheus.js';
import type { QpsDetails } from '../../src/probes/qps.js';
import type { Observation } from '../../src/probes/types.js';

/** What the QPS probe counted per web server over a window that holds the driven requests: the LB's and the server's own. */
export interface PerServerCounts {
  lb: Record<string, number>;
  web: Record<string, number>;
}

/** The counts with the QPS probe's look they came from, and how long the requests took. */
export interface DrivenCounts extends PerServerCounts {
  observation: Observation;
  loadS: number;
}

/**
 * Sends `total` GETs of /whoami through the LB (verified against the stack's CA, `concurrency` at a time), waits until
 * Prometheus has scraped past them, then runs the QPS probe over a window that starts before the first request and ends
 * after the last: its per-server figures are differenced raw counters, as in a run's report. HAProxy checks every web
 * server each second all the while, and Prometheus scrapes every exporter: a count that took them in would be off by
 * well over 5 %.
 */
export async function countThroughLb(stack: AttachedStack, total: number, concurrency = 8): Promise<DrivenCounts> {
  const ca = (await stack.ca()) ?? undefined;
  const started = Date.now();
  let next = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const res = await request(`${stack.httpsUrl}/whoami`, { ...(ca ? { ca } : {}), timeoutMs: 10_000 }).catch((e: Error) => ({
          status: 0,
          body: e.message,
        }));
        if (res.status !== 200) failures.push(`${res.status} ${res.body.slice(0, 80)}`);
      }
    }),
  );
  const loadS = (Date.now() - started) / 1000;
  if (failures.length) throw new Error(`${failures.length} of ${total} requests failed through the LB: ${failures.slice(0, 3).join('; ')}`);
  // Scrapes run every second: 4 s after the last answer every exporter has been read past it.
  await sleep(4000);
  const windowS = Math.ceil((Date.now() - started) / 1000) + 3;
  // 120 s: on a swarm the probe asks Prometheus through the vantage, which may have to start first.
  const o = await runProbe(getProbe('qps'), { stack, docker: stack.docker }, { window: `${windowS}s` }, AbortSignal.timeout(120_000));
  const d = o.details as unknown as QpsDetails;
  return { lb: d.lbPerServer, web: d.nginxPerServer, observation: o, loadS };
}

/** Each web server's own count of the client's requests is the LB's count for it within `tolerance`; every server took a share. */
export function assertPerServerMatch(t: ExecutionContext, counts: PerServerCounts, servers: string[], total: number, tolerance = 0.05): void {
  t.deepEqual(
    Object.keys(counts.web).sort(),
    servers,
    `every web server has its own count (web_per_server): ${JSON.stringify({ lb: counts.lb, web: counts.web })}`,
  );
  for (const s of servers) {
    const lb = counts.lb[s] ?? 0;
    const web = counts.web[s] ?? 0;
    t.true(lb >= total / servers.length / 2, `${s}: the LB passed it ${lb} of ${total} requests`);
    t.true(
      Math.abs(web - lb) <= tolerance * lb,
      `${s}: its own count ${web}, the LB's ${lb} (${((100 * Math.abs(web - lb)) / Math.max(lb, 1)).toFixed(1)} % apart)`,
    );
  }
}

/** mysql_up of every database exporter Prometheus scrapes, by server. */
export async function mysqlUp(stack: AttachedStack): Promise<Record<string, number>> {
  const base = await prometheusUrl(stack);
  const { result } = await queryInstant(base, 'mysql_up', AbortSignal.timeout(10_000));
  const out: Record<string, number> = {};
  for (const r of result as Array<{ metric: Record<string, string>; value: [number, string] }>) out[r.metric.server ?? '?'] = Number(r.value[1]);
  return out;
}
