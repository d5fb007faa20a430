// What the compare report reads from probes' looks in a run: a field of a probe's value (the worst look), the
// data-path hops the internal-encryption probe lists, and the qps probe's client-against-Prometheus rows (pure).

import type { ExperimentJournal } from '../experiment/journal.js';
import { gradeRank } from '../probes/grade.js';
import type { QpsDetails, QpsValue } from '../probes/qps.js';
import type { DataPathHop } from '../probes/internal-encryption.js';

/** One hop on the data path, as the internal-encryption probe lists it. */
export type Hop = DataPathHop;

export interface MonitoringRow {
  /** "all" for the LB frontend, else a web server. */
  server: string;
  clientQps: number | null;
  prometheusQps: number | null;
  /** |client − Prometheus| / client. */
  difference: number | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isHop(v: unknown): v is Hop {
  return isRecord(v) && typeof v.from === 'string' && typeof v.to === 'string' && typeof v.encrypted === 'boolean' && typeof v.detail === 'string';
}

/** A probe's looks in a run, in order: one per activity, or a series (which keeps values, not details). */
export function observationsOf(e: ExperimentJournal, probe: string): Array<{ value: unknown; details: unknown }> {
  return [...e.steadyStateBefore.activities, ...e.method, ...e.steadyStateAfter.activities]
    .filter((a) => a.kind === 'probe' && a.name === probe && a.status !== 'error' && isRecord(a.output))
    .flatMap((a) => {
      const out = a.output as Record<string, unknown>;
      return Array.isArray(out.observations)
        ? out.observations.map((o: unknown) => ({ value: isRecord(o) ? o.value : null, details: null }))
        : [{ value: out.value, details: out.details }];
    });
}

/**
 * A field of a probe's value over its looks in the run: the worst one by the figure's direction (grades by rank),
 * else the last. Null when no look has it.
 */
export function probeField(e: ExperimentJournal, probe: string, field: string, unit: string, better: 'higher' | 'lower' | null): number | string | null {
  const values = observationsOf(e, probe)
    .map((o) => (isRecord(o.value) ? o.value[field] : undefined))
    .filter((v): v is number | string => typeof v === 'number' || typeof v === 'string');
  if (!values.length) return null;
  if (better === null) return values.at(-1)!;
  const badness = (v: number | string) => (unit === 'grade' ? gradeRank(v) : typeof v === 'number' ? (better === 'lower' ? v : -v) : Number.NEGATIVE_INFINITY);
  return values.reduce((worst, v) => (badness(v) > badness(worst) ? v : worst));
}

/** The hops of the look with the most plaintext hops; null when the probe listed none. */
export function hopsOf(e: ExperimentJournal, probe: string): Hop[] | null {
  let worst: Hop[] | null = null;
  for (const o of observationsOf(e, probe)) {
    if (!isRecord(o.value)) continue;
    const listed = o.value.hops ?? (isRecord(o.details) ? o.details.hops : undefined);
    if (!Array.isArray(listed)) continue;
    const hops = listed.filter(isHop);
    const plain = (list: Hop[]) => list.filter((x) => !x.encrypted).length;
    if (!worst || plain(hops) > plain(worst)) worst = hops;
  }
  return worst;
}

/**
 * The QPS probe's last look that kept its details (a single look; a series keeps none), preferring one with the
 * client's view: a steady-state look before load has none, the one after compares the run's.
 */
function qpsLook(e: ExperimentJournal): { value: QpsValue; details: QpsDetails } | null {
  const looks = observationsOf(e, 'qps').filter((o) => isRecord(o.value) && isRecord(o.details)) as Array<{ value: QpsValue; details: QpsDetails }>;
  return looks.findLast((o) => typeof o.value.clientQps === 'number') ?? looks.at(-1) ?? null;
}

/** Client against Prometheus, all and per server; null when the run has no qps look with details. */
export function monitoringRowsOf(e: ExperimentJournal): MonitoringRow[] | null {
  const look = qpsLook(e);
  if (!look) return null;
  const v = look.value;
  // The probe divides both totals by the same run length; it is recovered from whichever view counted something.
  const seconds = v.clientQps && v.clientTotal ? v.clientTotal / v.clientQps : v.serverQps ? v.serverTotal / v.serverQps : null;
  const rate = (n: number | undefined) => (n === undefined || seconds === null ? null : n / seconds);
  const lb = look.details.lbPerServer ?? {};
  const nginx = look.details.nginxPerServer ?? {};
  const servers = [...new Set([...Object.keys(lb), ...Object.keys(nginx)])].sort();
  return [
    { server: 'all', clientQps: v.clientQps, prometheusQps: v.serverQps, difference: v.difference },
    ...servers.map((s) => {
      const sent = lb[s];
      const counted = nginx[s];
      return {
        server: s,
        clientQps: rate(sent),
        prometheusQps: rate(counted),
        difference: sent && counted !== undefined ? Math.abs(counted - sent) / sent : null,
      };
    }),
  ];
}

export const MONITORING_NOTES = [
  'Row "all": requests the load client sent per second vs the HAProxy frontend counter in Prometheus.',
  'Per server, the client column is HAProxy’s count of the client’s requests it passed to that server (the load client cannot tell which ' +
    'server answered); the Prometheus column is the server’s own count of the client’s requests, from its own monitoring client, ' +
    'HAProxy health checks and exporter scrapes left out (the stack description’s web_per_server; n/a where it names none).',
];
