// Data-loss probe: the Jepsen "set" check (docs/architecture.md) of the write ledger against what the stack's first
// read-back finds once the replicas caught up, plus the divergence of the run's keys between every pair of read-backs.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { checkWrites, type SetCheck, type WriteLedger } from '../load/ledger.js';
import { retryUntil } from '../util/retry.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { databasesByRole, resolveDatabase } from './databases.js';
import { gtidGap, queryRows, withConnection, type DbTarget } from './mysql.js';
import { readBack, type FinalRead, type NamedRead } from './readback.js';
import { clusterStatus, nodeSynced } from './cluster.js';
import { durationField } from './params.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe } from './types.js';

export type { FinalRead, NamedRead } from './readback.js';

export type DataLossStatus = 'valid' | 'invalid' | 'unknown';

/** Keys of this run on one read-back and not on the other, for one pair of read-backs (in declaration order). */
export interface Divergence {
  between: [string, string];
  /** Read-back name → the run's keys only it holds. */
  only: Record<string, string[]>;
}

/** One read-back as the result keeps it: how many of the run's keys it found, or why it failed. */
export interface ReadSummary {
  name: string;
  ok: boolean;
  keys: number | null;
  error: string | null;
}

export interface DataLossResult {
  status: DataLossStatus;
  /** The set check against the first (authoritative) read-back. */
  check: SetCheck | null;
  /** The read-back the set check used. */
  authority: string | null;
  reads: ReadSummary[];
  /** Every pair of read-backs that both answered. */
  divergences: Divergence[];
  /**
   * The first pair in the primary/replica words of before (onlyPrimary = only on the first read-back): kept for the
   * readers of that shape (the probe renderer) until they read `divergences`; then it goes.
   */
  divergence: { onlyPrimary: string[]; onlyReplica: string[] } | null;
  /** Why the status is unknown, or why a divergence could not be measured. */
  error: string | null;
  /** Every declared replica caught up with the primary; null when the description does not declare both. */
  replicaCaughtUp: boolean | null;
  /** Per replica database; null as above. */
  caughtUp: Record<string, boolean> | null;
}

/** The run's keys one read-back holds and the other does not, both ways (pure). */
export function diverge(a: string, aKeys: Iterable<string>, b: string, bKeys: Iterable<string>): Divergence {
  const x = new Set(aKeys);
  const y = new Set(bKeys);
  return {
    between: [a, b],
    only: { [a]: [...x].filter((k) => !y.has(k)).sort(), [b]: [...y].filter((k) => !x.has(k)).sort() },
  };
}

/** Whether a divergence found any key on one side only. */
export function diverges(d: Divergence): boolean {
  return Object.values(d.only).some((keys) => keys.length > 0);
}

/**
 * The set check and its status (pure): the first read-back is authoritative (unknown when it failed); every pair
 * of read-backs that answered is compared over this run's keys.
 */
export function judgeDataLoss(ledger: WriteLedger, reads: NamedRead[], caughtUp: Record<string, boolean> | null): DataLossResult {
  const runKeys = (r: FinalRead) => (r.ok ? r.keys.filter((k) => k.startsWith(ledger.keyPrefix)) : []);
  const summaries = reads.map(({ name, read }) => ({
    name,
    ok: read.ok,
    keys: read.ok ? new Set(runKeys(read)).size : null,
    error: read.ok ? null : read.error,
  }));
  const divergences: Divergence[] = [];
  for (let i = 0; i < reads.length; i += 1)
    for (let j = i + 1; j < reads.length; j += 1)
      if (reads[i]!.read.ok && reads[j]!.read.ok) divergences.push(diverge(reads[i]!.name, runKeys(reads[i]!.read), reads[j]!.name, runKeys(reads[j]!.read)));
  const first = divergences.find((d) => d.between[0] === reads[0]?.name && d.between[1] === reads[1]?.name);
  const waited = Object.values(caughtUp ?? {});
  const replicaCaughtUp = waited.length ? waited.every(Boolean) : null;
  const authority = reads[0];
  const others = reads.slice(1).flatMap(({ name, read }) => (read.ok ? [] : [`${name} read failed: ${read.error}`]));
  const base = {
    authority: authority?.name ?? null,
    reads: summaries,
    divergences,
    divergence: first ? { onlyPrimary: first.only[first.between[0]]!, onlyReplica: first.only[first.between[1]]! } : null,
    replicaCaughtUp,
    caughtUp,
  };
  if (!authority) return { ...base, status: 'unknown', check: null, error: 'no read-back declared' };
  if (!authority.read.ok) return { ...base, status: 'unknown', check: null, error: [`final read failed: ${authority.read.error}`, ...others].join('; ') };
  const check = checkWrites(ledger, authority.read.keys);
  return { ...base, status: check.valid ? 'valid' : 'invalid', check, error: others.length ? others.join('; ') : null };
}

export function dataLossFindings(r: DataLossResult): Finding[] {
  const out: Finding[] = [];
  const sample = (keys: string[]) => `${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
  if (r.status === 'unknown') out.push({ id: 'data-unknown', severity: 'high', message: r.error ?? 'final read failed' });
  if (r.check?.lost.length)
    out.push({ id: 'lost-writes', severity: 'critical', message: `${r.check.lost.length} acknowledged write(s) lost: ${sample(r.check.lost)}` });
  if (r.check?.unexpected.length)
    out.push({ id: 'unexpected-writes', severity: 'high', message: `${r.check.unexpected.length} row(s) never sent: ${sample(r.check.unexpected)}` });
  if (r.check?.recovered.length)
    out.push({ id: 'recovered-writes', severity: 'info', message: `${r.check.recovered.length} unacknowledged write(s) committed anyway` });
  if (r.check?.failedButPresent.length)
    out.push({ id: 'failed-but-present', severity: 'medium', message: `${r.check.failedButPresent.length} write(s) answered as failed are in the database` });
  for (const d of r.divergences.filter(diverges)) {
    const [a, b] = d.between;
    out.push({
      id: 'divergence',
      severity: 'high',
      message: `${a} and ${b} differ: ${d.only[a]!.length} only on ${a}, ${d.only[b]!.length} only on ${b}`,
      where: `${a}/${b}`,
    });
  }
  for (const [name, ok] of Object.entries(r.caughtUp ?? {}))
    if (!ok)
      out.push({
        id: 'replica-behind',
        severity: 'medium',
        message: `${name} did not catch up (with the primary, or Synced in the cluster) before the deadline`,
        where: name,
      });
  return out;
}

/** Waits (bounded) until the replica's gtid_slave_pos reaches the primary's gtid_binlog_pos. */
export async function waitReplicaCaughtUp(primary: DbTarget, replica: DbTarget, options: { timeoutMs: number; signal: AbortSignal }): Promise<boolean> {
  const posOf = (t: DbTarget, v: string) =>
    withConnection(t, async (c) => String((await queryRows(c, `SELECT @@${v} AS p`))[0]?.p ?? ''), { signal: options.signal, timeoutMs: 5000 });
  try {
    const target = await posOf(primary, 'gtid_binlog_pos');
    await retryUntil(
      () => posOf(replica, 'gtid_slave_pos'),
      (pos) => gtidGap(target, pos) === 0,
      { timeoutMs: options.timeoutMs, intervalMs: 200, signal: options.signal, what: 'the replica to catch up' },
    );
    return true;
  } catch (err) {
    if (options.signal.aborted) throw err;
    return false;
  }
}

/**
 * Waits (bounded, all at once) for every declared cluster node (role node) to be Synced in the Primary component, so
 * that a node that was killed and rejoined (IST) is read with everything it missed; null when none is declared.
 */
export async function waitNodesSynced(
  stack: AttachedStack,
  options: { timeoutMs: number; signal: AbortSignal; env?: Record<string, string | undefined> },
): Promise<Record<string, boolean> | null> {
  const nodes = databasesByRole(stack.spec, 'node');
  if (nodes.length === 0) return null;
  const waited = await Promise.all(
    nodes.map(async ([name]) => {
      const target = await resolveDatabase(stack, name, options.env).catch(() => null);
      if (!target) return [];
      const synced = await retryUntil(() => clusterStatus(target, options.signal).catch(() => ({})), nodeSynced, {
        timeoutMs: options.timeoutMs,
        intervalMs: 250,
        signal: options.signal,
        what: `${name} to be Synced`,
      }).then(
        () => true,
        (err: unknown) => {
          if (options.signal.aborted) throw err;
          return false;
        },
      );
      return [[name, synced] as const];
    }),
  );
  return Object.fromEntries(waited.flat());
}

/**
 * Waits (bounded, all at once) for every declared replica database to catch up with the first declared primary;
 * null when the description does not declare both. One that cannot be reached in time counts as behind; one that
 * cannot even be resolved (no such server, no password) is left out, since its read-back already says why, and a
 * primary that cannot be resolved leaves nothing to wait for (null).
 */
export async function waitReplicasCaughtUp(
  stack: AttachedStack,
  options: { timeoutMs: number; signal: AbortSignal; env?: Record<string, string | undefined> },
): Promise<Record<string, boolean> | null> {
  const primary = databasesByRole(stack.spec, 'primary')[0];
  const replicas = databasesByRole(stack.spec, 'replica');
  if (!primary || replicas.length === 0) return null;
  const p = await resolveDatabase(stack, primary[0], options.env).catch(() => null);
  if (!p) return null;
  const waited = await Promise.all(
    replicas.map(async ([name]) => {
      const r = await resolveDatabase(stack, name, options.env).catch(() => null);
      return r ? [[name, await waitReplicaCaughtUp(p, r, options)] as const] : [];
    }),
  );
  return Object.fromEntries(waited.flat());
}

/**
 * Waits for the replicas, reads every read-back the description declares and judges; an unreachable database or
 * a failing read is "unknown", never a throw. No read-back declared is an error (UNKNOWN_TARGET) naming the field.
 */
export async function checkDataLoss(
  ctx: { stack: AttachedStack },
  ledger: WriteLedger,
  options: { catchUpMs: number; readTimeoutMs?: number; signal: AbortSignal; env?: Record<string, string | undefined> },
): Promise<DataLossResult> {
  if (ctx.stack.spec.readback.length === 0)
    throw new FaultlineError('UNKNOWN_TARGET', 'stack.readback: none declared; the data-loss check needs one', {
      hint: `declare how written keys are read back (sql or http) in ${ctx.stack.spec.file}`,
    });
  const env = options.env ? { env: options.env } : {};
  const wait = { timeoutMs: options.catchUpMs, signal: options.signal, ...env };
  const [replicas, nodes] = await Promise.all([waitReplicasCaughtUp(ctx.stack, wait), waitNodesSynced(ctx.stack, wait)]);
  const caughtUp = replicas || nodes ? { ...replicas, ...nodes } : null;
  const tls = async () => ctx.stack.tlsOptions(await ctx.stack.ca());
  const reads = await readBack(ctx.stack, ledger, { signal: options.signal, timeoutMs: options.readTimeoutMs ?? 30_000, tls, ...env });
  return judgeDataLoss(ledger, reads, caughtUp);
}

const params = z
  .object({
    catchUp: durationField({ min: 0, max: 600_000 }).default('30s'),
    /** Deadline of each read-back (a query, or all the GETs of one). */
    readTimeout: durationField({ min: 1000, max: 600_000 }).default('30s'),
  })
  .strict();
type Params = z.infer<typeof params>;

function renderDataLoss(o: Observation<DataLossStatus>): string[] {
  const r = o.details as unknown as DataLossResult;
  const c = r.check;
  const lines = [`status     ${r.status}${r.error ? ` (${r.error})` : ''}`];
  if (c)
    lines.push(
      `writes     attempted ${c.attempted}, acknowledged ${c.acknowledged}, read ${c.read}; lost ${c.lost.length}, unexpected ${c.unexpected.length}, recovered ${c.recovered.length}`,
    );
  for (const d of r.divergences ?? []) {
    const [a, b] = d.between;
    lines.push(`diverge    ${a} vs ${b}: only on ${a} ${d.only[a]?.length ?? 0}, only on ${b} ${d.only[b]?.length ?? 0}`);
  }
  // Journals written before read-backs were named.
  const old = (r as unknown as { divergence?: { onlyPrimary: string[]; onlyReplica: string[] } }).divergence;
  if (!r.divergences && old) lines.push(`replica    only on primary ${old.onlyPrimary.length}, only on replica ${old.onlyReplica.length}`);
  return lines;
}

export const dataLossProbe: Probe<Params, DataLossStatus> = {
  name: 'data-loss',
  description: "Jepsen set check of the write ledger against the stack's first read-back; divergence between read-backs",
  params,
  render: renderDataLoss,
  async run(ctx, p, signal): Promise<Observation<DataLossStatus>> {
    if (!ctx.ledger) throw new FaultlineError('INVALID_INPUT', 'probe data-loss: ledger: needs the write ledger of a load run');
    const started = startMark();
    const result = await checkDataLoss(ctx, ctx.ledger, { catchUpMs: p.catchUp, readTimeoutMs: p.readTimeout, signal });
    const findings = dataLossFindings(result);
    return observation('data-loss', started, {
      value: result.status,
      tolerance: { type: 'regex', pattern: '^valid$' },
      passed: result.status === 'valid' && !findings.some((f) => f.id === 'divergence'),
      details: { ...result },
      findings,
    });
  },
};
