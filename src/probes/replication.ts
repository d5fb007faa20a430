// Replication probe: is the replica's IO/SQL threads running, how far behind (seconds and GTID gap), who is
// read-only and which node accepts writes, for the description's primary and replica. Facts are gathered over
// mysql2; the verdict is pure.

import { z } from 'zod';
import { gtidGap, queryRows, withConnection, type Row } from './mysql.js';
import { FaultlineError } from '../errors.js';
import { databaseLabel, databasesByRole, resolveDatabase, type DatabaseRole } from './databases.js';
import { numberField } from './params.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe, ProbeContext } from './types.js';

export interface DbNodeFacts {
  server: string;
  reachable: boolean;
  error: string | null;
  readOnly: boolean | null;
  gtidBinlogPos: string | null;
  gtidSlavePos: string | null;
  /** Replica only (SHOW SLAVE STATUS); null when the node is not replicating. */
  ioRunning: string | null;
  sqlRunning: string | null;
  secondsBehind: number | null;
  lastError: string | null;
}

export interface ReplicationFacts {
  primary: DbNodeFacts;
  replica: DbNodeFacts;
}

export interface ReplicationValue {
  running: boolean;
  /** Seconds_Behind_Master; null when unknown. */
  lagSeconds: number | null;
  /** Transactions the replica lacks (primary gtid_binlog_pos vs replica gtid_slave_pos). */
  gtidGap: number | null;
  /** Servers that accept writes (read_only = 0). */
  writers: string[];
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Turns one node's raw rows into facts (pure). */
export function nodeFacts(server: string, vars: Row | undefined, status: Row | undefined): DbNodeFacts {
  return {
    server,
    reachable: true,
    error: null,
    readOnly: vars ? Number(vars.ro) === 1 : null,
    gtidBinlogPos: str(vars?.binlog),
    gtidSlavePos: str(vars?.slave),
    ioRunning: str(status?.Slave_IO_Running),
    sqlRunning: str(status?.Slave_SQL_Running),
    secondsBehind: status?.Seconds_Behind_Master === null || status?.Seconds_Behind_Master === undefined ? null : Number(status.Seconds_Behind_Master),
    lastError: str(status?.Last_IO_Error) || str(status?.Last_SQL_Error) || null,
  };
}

export function unreachableNode(server: string, error: string): DbNodeFacts {
  return {
    server,
    reachable: false,
    error,
    readOnly: null,
    gtidBinlogPos: null,
    gtidSlavePos: null,
    ioRunning: null,
    sqlRunning: null,
    secondsBehind: null,
    lastError: null,
  };
}

/** Verdict and findings from facts (pure). */
export function judgeReplication(f: ReplicationFacts, maxLagSeconds: number): { value: ReplicationValue; passed: boolean; findings: Finding[] } {
  const findings: Finding[] = [];
  const r = f.replica;
  const running = r.ioRunning === 'Yes' && r.sqlRunning === 'Yes';
  const gap = f.primary.reachable && r.reachable ? gtidGap(f.primary.gtidBinlogPos, r.gtidSlavePos) : null;
  const writers = [f.primary, f.replica].filter((n) => n.readOnly === false).map((n) => n.server);
  for (const n of [f.primary, f.replica])
    if (!n.reachable) findings.push({ id: 'db-unreachable', severity: 'critical', message: `${n.server} unreachable: ${n.error}`, where: n.server });
  if (r.reachable && !running) {
    findings.push({
      id: 'replication-stopped',
      severity: 'high',
      message: `replica threads IO=${r.ioRunning ?? 'none'} SQL=${r.sqlRunning ?? 'none'}${r.lastError ? `: ${r.lastError}` : ''}`,
      where: r.server,
    });
  }
  if (r.secondsBehind !== null && r.secondsBehind > maxLagSeconds) {
    findings.push({ id: 'replication-lag', severity: 'medium', message: `replica is ${r.secondsBehind} s behind (limit ${maxLagSeconds} s)`, where: r.server });
  }
  if (f.replica.readOnly === false) findings.push({ id: 'replica-writable', severity: 'high', message: 'the replica is not read_only', where: r.server });
  if (f.primary.reachable && f.primary.readOnly === true)
    findings.push({ id: 'primary-read-only', severity: 'high', message: 'the primary is read_only: no node accepts writes', where: f.primary.server });
  const lag = r.secondsBehind;
  const passed =
    f.primary.reachable && r.reachable && running && lag !== null && lag <= maxLagSeconds && writers.length === 1 && writers[0] === f.primary.server;
  return { value: { running, lagSeconds: lag, gtidGap: gap, writers }, passed, findings };
}

async function readNode(ctx: ProbeContext, role: DatabaseRole, signal: AbortSignal): Promise<DbNodeFacts> {
  const [name, db] = databasesByRole(ctx.stack.spec, role)[0]!;
  const server = databaseLabel(db);
  try {
    const target = await resolveDatabase(ctx.stack, name);
    return await withConnection(
      target,
      async (conn) => {
        const [vars] = await queryRows(conn, 'SELECT @@read_only AS ro, @@gtid_binlog_pos AS `binlog`, @@gtid_slave_pos AS slave');
        const [status] = await queryRows(conn, 'SHOW SLAVE STATUS');
        return nodeFacts(server, vars, status);
      },
      { signal, timeoutMs: 8000 },
    );
  } catch (err) {
    if (signal.aborted) throw err;
    return unreachableNode(server, (err as Error).message);
  }
}

/**
 * The first declared primary and replica, each read over its own connection. A description without both cannot be
 * judged: UNKNOWN_TARGET, which the probe runner records as an error observation with this message.
 */
export async function gatherReplication(ctx: ProbeContext, signal: AbortSignal): Promise<ReplicationFacts> {
  const missing = (['primary', 'replica'] as const).filter((role) => databasesByRole(ctx.stack.spec, role).length === 0);
  if (missing.length) {
    throw new FaultlineError(
      'UNKNOWN_TARGET',
      `stack.databases: no ${missing.join(' and no ')} database declared; the replication probe needs a primary and a replica (role: primary | replica)`,
    );
  }
  const [primary, replica] = await Promise.all([readNode(ctx, 'primary', signal), readNode(ctx, 'replica', signal)]);
  return { primary, replica };
}

const params = z.object({ maxLag: numberField({ min: 0 }).default(2) }).strict();
type Params = z.infer<typeof params>;

function renderReplication(o: Observation<ReplicationValue>): string[] {
  const v = o.value;
  const f = o.details as unknown as ReplicationFacts;
  return [
    `replica    IO=${f.replica?.ioRunning ?? '–'} SQL=${f.replica?.sqlRunning ?? '–'} lag ${v.lagSeconds ?? '–'} s, GTID gap ${v.gtidGap ?? '–'}`,
    `read_only  primary=${f.primary?.readOnly ?? '–'} replica=${f.replica?.readOnly ?? '–'}; accepts writes: ${v.writers.join(', ') || 'none'}`,
    `GTID       primary ${f.primary?.gtidBinlogPos ?? '–'}, replica ${f.replica?.gtidSlavePos ?? '–'}`,
  ];
}

export const replicationProbe: Probe<Params, ReplicationValue> = {
  name: 'replication',
  description: 'replica IO/SQL threads running, lag (seconds and GTID gap), read_only, which node accepts writes',
  params,
  render: renderReplication,
  headline: (v) => v.running,
  metrics: [{ metric: 'replication_lag_s', over: 'all', of: (l) => l.value.lagSeconds }],
  async run(ctx, p, signal): Promise<Observation<ReplicationValue>> {
    const started = startMark();
    const facts = await gatherReplication(ctx, signal);
    const j = judgeReplication(facts, p.maxLag);
    return observation('replication', started, {
      value: j.value,
      tolerance: { type: 'atMost', max: p.maxLag },
      passed: j.passed,
      details: { ...facts },
      findings: j.findings,
    });
  },
};
