// Cluster probe: for a synchronous cluster (Galera; the description's databases with role node), is every node a
// Synced member of one Primary component, are its group links encrypted (socket.ssl), do clients need TLS, and
// which node the database LB sends writes to. Facts over mysql2 and the LB's admin socket; the verdict is pure.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { currentWriter } from '../stack/writer.js';
import { queryRows, withConnection, type DbTarget } from './mysql.js';
import { databasesByRole, resolveDatabase } from './databases.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe, ProbeContext } from './types.js';

/** Whether a cluster node is a Synced member of the Primary component (pure). */
export function nodeSynced(status: Record<string, string>): boolean {
  return status.wsrep_local_state === '4' && status.wsrep_cluster_status === 'Primary';
}

/** Whether a node's provider options put its group traffic on TLS (pure). */
export function socketSsl(providerOptions: string | undefined): boolean {
  return /\bsocket\.ssl\s*=\s*(YES|TRUE|ON|1)\b/i.test(providerOptions ?? '');
}

/** A cluster node's wsrep status (local state, cluster status, size, ready, provider options). */
export async function clusterStatus(target: DbTarget, signal: AbortSignal): Promise<Record<string, string>> {
  return withConnection(
    target,
    async (c) => {
      const rows = await queryRows(
        c,
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state','wsrep_cluster_status','wsrep_cluster_size','wsrep_ready')",
      );
      const [vars] = await queryRows(c, 'SELECT @@wsrep_provider_options AS provider, @@require_secure_transport AS rst');
      return {
        ...Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)])),
        wsrep_provider_options: String(vars?.provider ?? ''),
        require_secure_transport: String(vars?.rst ?? ''),
      };
    },
    { signal, timeoutMs: 5000 },
  );
}

export interface ClusterNodeFacts {
  name: string;
  reachable: boolean;
  error: string | null;
  /** SHOW GLOBAL STATUS wsrep_* and the provider options, as text. */
  status: Record<string, string>;
}

export interface ClusterFacts {
  nodes: ClusterNodeFacts[];
  /** The node the database LB sends writes to; null when the description declares no writer or none is up. */
  writer: string | null;
  writerError: string | null;
}

export interface ClusterValue {
  /** Nodes that are Synced members of the Primary component. */
  synced: string[];
  size: number | null;
  writer: string | null;
  /** Every node's group traffic is TLS (socket.ssl=YES). */
  encrypted: boolean;
}

/** Verdict and findings from facts (pure). */
export function judgeCluster(f: ClusterFacts): { value: ClusterValue; passed: boolean; findings: Finding[] } {
  const findings: Finding[] = [];
  const reachable = f.nodes.filter((n) => n.reachable);
  for (const n of f.nodes.filter((x) => !x.reachable))
    findings.push({ id: 'db-unreachable', severity: 'critical', message: `${n.name} unreachable: ${n.error}`, where: n.name });
  const synced = reachable.filter((n) => nodeSynced(n.status)).map((n) => n.name);
  for (const n of reachable.filter((x) => !nodeSynced(x.status)))
    findings.push({
      id: 'node-not-synced',
      severity: 'high',
      message: `${n.name}: wsrep_local_state=${n.status.wsrep_local_state ?? '?'} wsrep_cluster_status=${n.status.wsrep_cluster_status ?? '?'}`,
      where: n.name,
    });
  const sizes = [...new Set(reachable.map((n) => Number(n.status.wsrep_cluster_size)))];
  const size = sizes.length === 1 ? sizes[0]! : null;
  if (size !== null && size < f.nodes.length)
    findings.push({ id: 'cluster-degraded', severity: 'high', message: `the Primary component has ${size} of ${f.nodes.length} nodes` });
  const plainLinks = reachable.filter((n) => !socketSsl(n.status.wsrep_provider_options));
  if (plainLinks.length)
    findings.push({
      id: 'internal-plaintext-replication',
      severity: 'medium',
      message: `Galera group traffic is not TLS on ${plainLinks.map((n) => n.name).join(', ')} (socket.ssl off)`,
    });
  if (f.writerError) findings.push({ id: 'no-writer', severity: 'critical', message: f.writerError });
  const passed = synced.length === f.nodes.length && size === f.nodes.length && plainLinks.length === 0 && !f.writerError;
  return { value: { synced, size, writer: f.writer, encrypted: reachable.length > 0 && plainLinks.length === 0 }, passed, findings };
}

/** Every declared node, read at once; the writer from the database LB when the description declares one. */
export async function gatherCluster(ctx: ProbeContext, signal: AbortSignal): Promise<ClusterFacts> {
  const declared = databasesByRole(ctx.stack.spec, 'node');
  if (declared.length === 0)
    throw new FaultlineError('UNKNOWN_TARGET', 'stack.databases: no database with role node declared; the cluster probe reads every node of a Galera cluster');
  const nodes = await Promise.all(
    declared.map(async ([name]): Promise<ClusterNodeFacts> => {
      try {
        return { name, reachable: true, error: null, status: await clusterStatus(await resolveDatabase(ctx.stack, name), signal) };
      } catch (err) {
        if (signal.aborted) throw err;
        return { name, reachable: false, error: (err as Error).message, status: {} };
      }
    }),
  );
  if (!ctx.stack.spec.writer) return { nodes, writer: null, writerError: null };
  try {
    const writer = await currentWriter(ctx.stack.spec, await ctx.stack.containers(), (id, cmd) => ctx.docker.exec(id, cmd, { signal }));
    return { nodes, writer, writerError: null };
  } catch (err) {
    if (signal.aborted) throw err;
    return { nodes, writer: null, writerError: (err as Error).message };
  }
}

/** One line for the component and the writer, then one per node: its state, its group links, whether clients need TLS. */
function renderCluster(o: Observation<ClusterValue>): string[] {
  const v = o.value;
  const f = o.details as unknown as ClusterFacts;
  const nodes = f.nodes ?? [];
  const lines = [
    `component  ${v.synced.length} of ${nodes.length} node(s) Synced in the Primary component (size ${v.size ?? '–'}); group traffic ${v.encrypted ? 'TLS' : 'NOT all TLS'}`,
    `writer     ${v.writer ?? (f.writerError ? `none (${f.writerError})` : 'not declared')}`,
  ];
  for (const n of nodes) {
    if (!n.reachable) {
      lines.push(`${n.name.padEnd(10)} unreachable: ${n.error}`);
      continue;
    }
    lines.push(
      `${n.name.padEnd(10)} ${nodeSynced(n.status) ? 'Synced' : `state ${n.status.wsrep_local_state ?? '?'}`} ${n.status.wsrep_cluster_status ?? '?'}, socket.ssl ${socketSsl(n.status.wsrep_provider_options) ? 'on' : 'off'}, require_secure_transport ${n.status.require_secure_transport === '1' ? 'ON' : 'OFF'}`,
    );
  }
  return lines;
}

const params = z.object({}).strict();

export const clusterProbe: Probe<z.infer<typeof params>, ClusterValue> = {
  name: 'cluster',
  description: 'every Galera node Synced in one Primary component, group traffic over TLS, and the writer the database LB uses',
  params,
  render: renderCluster,
  headline: (v) => v.synced.length,
  async run(ctx, _p, signal): Promise<Observation<ClusterValue>> {
    const started = startMark();
    const facts = await gatherCluster(ctx, signal);
    const j = judgeCluster(facts);
    return observation('cluster', started, {
      value: j.value,
      tolerance: { type: 'boolean', expect: true },
      passed: j.passed,
      details: { ...facts },
      findings: j.findings,
    });
  },
};
