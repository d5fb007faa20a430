// MariaDB access for probes (replication, data-loss read-backs): one short-lived connection per question, as the
// operator (the Docker host, which the DB firewalls admit), with a deadline and an abort signal.

import mysql from 'mysql2/promise';
import { FaultlineError } from '../errors.js';

export interface DbTarget {
  host: string;
  port?: number;
  user: string;
  password: string;
  database?: string;
  /** PEM of the CA that signed the server's certificate: TLS, verified against it for the address dialled. */
  ca?: string;
}

export type Row = Record<string, unknown>;

/** Opens a connection, runs fn, always closes; aborting (or the deadline) destroys the socket. */
export async function withConnection<T>(
  target: DbTarget,
  fn: (conn: mysql.Connection) => Promise<T>,
  options: { signal: AbortSignal; timeoutMs?: number },
): Promise<T> {
  const deadline = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 10_000)]);
  deadline.throwIfAborted();
  let conn: mysql.Connection | undefined;
  const onAbort = () => conn?.destroy();
  deadline.addEventListener('abort', onAbort, { once: true });
  try {
    conn = await mysql.createConnection({
      host: target.host,
      port: target.port ?? 3306,
      user: target.user,
      password: target.password,
      ...(target.database ? { database: target.database } : {}),
      ...(target.ca ? { ssl: { ca: target.ca, rejectUnauthorized: true } } : {}),
      connectTimeout: 3000,
    });
    if (deadline.aborted) conn.destroy();
    return await fn(conn);
  } catch (err) {
    if (options.signal.aborted) throw new FaultlineError('ABORTED', 'interrupted', { cause: err });
    const code = (err as { code?: string }).code;
    throw new FaultlineError('TARGET_UNREACHABLE', `MariaDB at ${target.host}:${target.port ?? 3306}: ${(err as Error).message}${code ? ` (${code})` : ''}`, {
      cause: err,
    });
  } finally {
    deadline.removeEventListener('abort', onAbort);
    await conn?.end().catch(() => conn?.destroy());
  }
}

export async function queryRows(conn: mysql.Connection, sql: string, values: unknown[] = []): Promise<Row[]> {
  const [rows] = await conn.query(sql, values);
  return rows as Row[];
}

/**
 * The first column of every row, as text (NULLs skipped): a read-back query names its key column however it likes,
 * so it is taken by position, not by name.
 */
export async function firstColumn(conn: mysql.Connection, sql: string, values: unknown[] = []): Promise<string[]> {
  const [rows] = await conn.query({ sql, values, rowsAsArray: true });
  const out: string[] = [];
  for (const row of rows as unknown[][]) {
    const v = row[0];
    if (v === null || v === undefined) continue;
    out.push(Buffer.isBuffer(v) ? v.toString('utf8') : v instanceof Date ? v.toISOString() : String(v));
  }
  return out;
}

/** MariaDB GTID positions ("0-1-42,1-1-7") as domain → sequence number. Pure. */
export function parseGtidPos(pos: string | null | undefined): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of (pos ?? '').split(',')) {
    const m = /^\s*(\d+)-(\d+)-(\d+)\s*$/.exec(part);
    if (m) out.set(Number(m[1]), Math.max(out.get(Number(m[1])) ?? 0, Number(m[3])));
  }
  return out;
}

/** Transactions the replica still lacks, summed over the primary's domains (0 = caught up). Pure. */
export function gtidGap(primaryPos: string | null | undefined, replicaPos: string | null | undefined): number {
  const p = parseGtidPos(primaryPos);
  const r = parseGtidPos(replicaPos);
  let gap = 0;
  for (const [domain, seq] of p) gap += Math.max(0, seq - (r.get(domain) ?? 0));
  return gap;
}
