// Data-loss probe: the Jepsen "set" check (docs/architecture.md) of the write ledger against the primary's final
// contents, after the replica caught up, plus primary-vs-replica divergence of the run's rows.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { checkWrites, type SetCheck, type WriteLedger } from '../load/ledger.js';
import { retryUntil } from '../util/retry.js';
import { gtidGap, queryRows, withConnection, type DbTarget } from './mysql.js';
import { dbTarget } from './targets.js';
import { durationField } from './params.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe } from './types.js';

export type DataLossStatus = 'valid' | 'invalid' | 'unknown';

export interface Divergence {
  /** Run rows on the primary but not on the replica. */
  onlyPrimary: string[];
  onlyReplica: string[];
}

export interface DataLossResult {
  status: DataLossStatus;
  check: SetCheck | null;
  divergence: Divergence | null;
  /** Why the status is unknown, or why divergence could not be measured. */
  error: string | null;
  replicaCaughtUp: boolean | null;
}

/** Keys of this run held by the database, or the error that stopped the read. */
export type FinalRead = { ok: true; keys: string[] } | { ok: false; error: string };

/** The set check and its status (pure): unknown when the final read failed. */
export function judgeDataLoss(ledger: WriteLedger, primary: FinalRead, replica: FinalRead | null, replicaCaughtUp: boolean | null): DataLossResult {
  if (!primary.ok) return { status: 'unknown', check: null, divergence: null, error: `final read failed: ${primary.error}`, replicaCaughtUp };
  const check = checkWrites(ledger, primary.keys);
  let divergence: Divergence | null = null;
  let error: string | null = null;
  if (replica?.ok)
    divergence = diverge(
      primary.keys.filter((k) => k.startsWith(ledger.keyPrefix)),
      replica.keys.filter((k) => k.startsWith(ledger.keyPrefix)),
    );
  else if (replica) error = `replica read failed: ${replica.error}`;
  return { status: check.valid ? 'valid' : 'invalid', check, divergence, error, replicaCaughtUp };
}

export function diverge(primaryKeys: Iterable<string>, replicaKeys: Iterable<string>): Divergence {
  const p = new Set(primaryKeys);
  const r = new Set(replicaKeys);
  return { onlyPrimary: [...p].filter((k) => !r.has(k)).sort(), onlyReplica: [...r].filter((k) => !p.has(k)).sort() };
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
  if (r.divergence && (r.divergence.onlyPrimary.length || r.divergence.onlyReplica.length)) {
    out.push({
      id: 'divergence',
      severity: 'high',
      message: `primary and replica differ: ${r.divergence.onlyPrimary.length} only on the primary, ${r.divergence.onlyReplica.length} only on the replica`,
    });
  }
  if (r.replicaCaughtUp === false) out.push({ id: 'replica-behind', severity: 'medium', message: 'the replica did not catch up before the deadline' });
  return out;
}

async function readKeys(target: DbTarget, pattern: string, signal: AbortSignal): Promise<FinalRead> {
  try {
    const rows = await withConnection(target, (c) => queryRows(c, 'SELECT item_key FROM items WHERE item_key LIKE ?', [pattern]), {
      signal,
      timeoutMs: 30_000,
    });
    return { ok: true, keys: rows.map((r) => String(r.item_key)) };
  } catch (err) {
    if (signal.aborted) throw err;
    return { ok: false, error: (err as Error).message };
  }
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

/** Reads the final state and judges it; never throws for an unreachable database (that is "unknown"). */
export async function checkDataLoss(
  ctx: { stack: Parameters<typeof dbTarget>[0] },
  ledger: WriteLedger,
  options: { catchUpMs: number; signal: AbortSignal },
): Promise<DataLossResult> {
  const [p, r] = await Promise.all([dbTarget(ctx.stack, 'db-primary'), dbTarget(ctx.stack, 'db-replica')]);
  const caughtUp = await waitReplicaCaughtUp(p, r, { timeoutMs: options.catchUpMs, signal: options.signal });
  const [primary, replica] = await Promise.all([readKeys(p, ledger.likePattern(), options.signal), readKeys(r, ledger.likePattern(), options.signal)]);
  return judgeDataLoss(ledger, primary, replica, caughtUp);
}

const params = z.object({ catchUp: durationField({ min: 0, max: 600_000 }).default('30s') }).strict();
type Params = z.infer<typeof params>;

export const dataLossProbe: Probe<Params, DataLossStatus> = {
  name: 'data-loss',
  description: 'Jepsen set check of the write ledger against the primary; primary/replica divergence',
  params,
  async run(ctx, p, signal): Promise<Observation<DataLossStatus>> {
    if (!ctx.ledger) throw new FaultlineError('INVALID_INPUT', 'probe data-loss: ledger: needs the write ledger of a load run');
    const started = startMark();
    const result = await checkDataLoss(ctx, ctx.ledger, { catchUpMs: p.catchUp, signal });
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
