// Reading back what a run wrote, the way the stack description says (stack.readback): the run's keys a SQL query
// returns on a declared database, or what the app's HTTP API reports (a GET per key, or one list). Every read is
// bounded (deadline, per-request timeout, abort signal) and ends as a FinalRead: the keys, or why it failed.

import { FaultlineError } from '../errors.js';
import { request } from '../util/http.js';
import { WriteLedger } from '../load/ledger.js';
import type { ReadbackSpec } from '../stack/spec.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import { atDotPath, resolveDatabase } from './databases.js';
import { firstColumn, withConnection, type DbTarget } from './mysql.js';
import type { EndpointTlsOptions } from '../stack/endpoint-tls.js';

/** Keys of this run a read-back found, or the error that stopped it (the set check is then unknown). */
export type FinalRead = { ok: true; keys: string[] } | { ok: false; error: string };

/** One read-back's result under its name (unique among the stack's read-backs). */
export interface NamedRead {
  name: string;
  read: FinalRead;
}

export type HttpReadbackSpec = NonNullable<ReadbackSpec['http']>;

/** A GET on the stack's public endpoint: path (with query) → status and body. Injected so tests use fakes. */
export type Fetch = (path: string, signal: AbortSignal) => Promise<{ status: number; body: string }>;

export interface ReadbackOptions {
  signal: AbortSignal;
  /** Deadline of one read-back as a whole (its connection and query, or all its requests). */
  timeoutMs: number;
  /** Each HTTP request's own timeout. */
  requestTimeoutMs?: number;
  /** GETs per key in flight at once: enough to be quick, few enough not to become load on a stack just healed. */
  concurrency?: number;
  env?: Record<string, string | undefined>;
  /** How HTTP read-backs verify the endpoint (a run reads the CA once and hands it on); asked only when one is declared. */
  tls: () => Promise<EndpointTlsOptions> | EndpointTlsOptions;
}

/** Names for reports: the declared name, else the database, else "http"; a repeated one gets its index. Pure. */
export function readbackNames(list: readonly ReadbackSpec[]): string[] {
  const seen = new Set<string>();
  return list.map((r, i) => {
    const base = r.name ?? r.sql?.db ?? 'http';
    const name = seen.has(base) ? `${base}#${i}` : base;
    seen.add(name);
    return name;
  });
}

/** Replaces ${key} / ${prefix} in a path template, URL-encoded. Pure. */
export function fillTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{(\w+)\}/g, (whole, name: string) => (vars[name] === undefined ? whole : encodeURIComponent(vars[name])));
}

/** How many values a query's `?` placeholders take: each one is bound to the run's LIKE pattern. Pure. */
export function placeholderCount(sql: string): number {
  return Math.max(1, (sql.match(/\?/g) ?? []).length);
}

/** The keys in a list answer: the array at the dot path, the field of each element (or the element itself). Pure. */
export function keysFromList(answer: unknown, h: Pick<HttpReadbackSpec, 'array' | 'field'>, index: number): FinalRead {
  const where = `readback[${index}].http`;
  const list = atDotPath(answer, h.array);
  if (!Array.isArray(list))
    return { ok: false, error: h.array ? `${where}.array: "${h.array}" is not an array in the answer` : `${where}.array: the answer is not an array` };
  const keys: string[] = [];
  for (const [n, element] of list.entries()) {
    const v = h.field ? atDotPath(element, h.field) : element;
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) keys.push(String(v));
    else
      return {
        ok: false,
        error: h.field ? `${where}.field: element ${n} has no "${h.field}" string or number` : `${where}.field: element ${n} is not a string or number`,
      };
  }
  return { ok: true, keys };
}

/** Runs fn over items with at most `limit` in flight; stops taking new items once the signal aborts. */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

/**
 * A GET per attempted key: `found` means present, `missing` absent; any other answer (or none) means the read
 * failed, since a key neither found nor missing cannot be counted either way. The first failure stops the rest.
 */
export async function readByGet(
  h: HttpReadbackSpec,
  index: number,
  keys: readonly string[],
  fetch: Fetch,
  signal: AbortSignal,
  concurrency = 16,
): Promise<FinalRead> {
  const where = `readback[${index}].http.get`;
  const present: string[] = [];
  let failure: string | undefined;
  let done = 0;
  const stop = new AbortController();
  const running = AbortSignal.any([signal, stop.signal]);
  await forEachBounded(
    [...new Set(keys)],
    concurrency,
    async (key) => {
      const path = fillTemplate(h.get!, { key });
      try {
        const { status } = await fetch(path, running);
        if (status === h.found) present.push(key);
        else if (status !== h.missing) failure ??= `${where}: GET ${path} answered ${status} (found: ${h.found}, missing: ${h.missing})`;
        done += 1;
      } catch (err) {
        if (!running.aborted) failure ??= `${where}: GET ${path}: ${(err as Error).message}`;
      }
      if (failure) stop.abort();
    },
    running,
  );
  if (failure) return { ok: false, error: failure };
  if (done < new Set(keys).size) return { ok: false, error: `${where}: the deadline passed after ${done} of ${new Set(keys).size} keys` };
  return { ok: true, keys: present };
}

/** One GET of the list endpoint (a 2xx JSON answer) and the keys in it. */
export async function readByList(h: HttpReadbackSpec, index: number, prefix: string, fetch: Fetch, signal: AbortSignal): Promise<FinalRead> {
  const where = `readback[${index}].http.list`;
  const path = fillTemplate(h.list!, { prefix });
  let answer: { status: number; body: string };
  try {
    answer = await fetch(path, signal);
  } catch (err) {
    return { ok: false, error: signal.aborted ? `${where}: GET ${path}: the deadline passed` : `${where}: GET ${path}: ${(err as Error).message}` };
  }
  if (answer.status < 200 || answer.status > 299) return { ok: false, error: `${where}: GET ${path} answered ${answer.status}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return { ok: false, error: `${where}: GET ${path}: the answer is not JSON` };
  }
  return keysFromList(parsed, h, index);
}

/** GETs on the stack's public endpoint, verified as the description says (its CA, or insecure), each with a timeout. */
export function stackFetch(stack: AttachedStack, tls: EndpointTlsOptions, requestTimeoutMs: number): Fetch {
  return async (path, signal) => {
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    try {
      const res = await request(`${stack.httpsUrl}${path}`, {
        ...tls,
        timeoutMs: requestTimeoutMs,
        signal: AbortSignal.any([signal, timeout]),
      });
      return { status: res.status, body: res.body };
    } catch (err) {
      if (timeout.aborted && !signal.aborted) throw new Error(`no answer within ${requestTimeoutMs} ms`);
      throw err;
    }
  };
}

/** The SQL read-back: the query's first column over one bounded connection; a failing query names the field. */
async function readSql(stack: AttachedStack, index: number, sql: NonNullable<ReadbackSpec['sql']>, pattern: string, o: ReadbackOptions): Promise<FinalRead> {
  const where = `readback[${index}].sql`;
  let target: DbTarget;
  try {
    target = await resolveDatabase(stack, sql.db, o.env);
  } catch (err) {
    // The resolution's own message already names the field (stack.databases.<db>.…).
    return { ok: false, error: (err as Error).message };
  }
  const deadline = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
  const values = new Array<string>(placeholderCount(sql.query)).fill(pattern);
  try {
    return await withConnection(
      target,
      async (conn): Promise<FinalRead> => {
        try {
          // A cluster node answers only once it has applied everything committed before the read (causal read).
          if (stack.spec.databases[sql.db]?.role === 'node') await conn.query('SET SESSION wsrep_sync_wait = 1');
          return { ok: true, keys: await firstColumn(conn, sql.query, values) };
        } catch (err) {
          if (deadline.aborted) throw err;
          return { ok: false, error: `${where}.query: ${(err as Error).message}` };
        }
      },
      { signal: o.signal, timeoutMs: o.timeoutMs },
    );
  } catch (err) {
    if (o.signal.aborted) throw err;
    return { ok: false, error: deadline.aborted ? `${where}: no answer from ${sql.db} within ${o.timeoutMs} ms` : `${where}: ${(err as Error).message}` };
  }
}

/** Every read-back of the description for the ledger's run, side by side; only an abort throws. */
export async function readBack(stack: AttachedStack, ledger: WriteLedger, o: ReadbackOptions): Promise<NamedRead[]> {
  const list = stack.spec.readback;
  const names = readbackNames(list);
  let fetch: Fetch | undefined;
  let caProblem: string | undefined;
  if (list.some((r) => r.http)) {
    try {
      fetch = stackFetch(stack, await o.tls(), o.requestTimeoutMs ?? 5000);
    } catch (err) {
      caProblem = (err as Error).message;
    }
  }
  const reads = await Promise.all(
    list.map(async (r, i): Promise<FinalRead> => {
      if (r.sql) return readSql(stack, i, r.sql, ledger.likePattern(), o);
      if (!fetch) return { ok: false, error: caProblem ?? 'stack.endpoint.ca: unreadable' };
      const deadline = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
      const h = r.http!;
      return h.get ? readByGet(h, i, ledger.attemptedKeys(), fetch, deadline, o.concurrency) : readByList(h, i, ledger.keyPrefix, fetch, deadline);
    }),
  );
  if (o.signal.aborted) throw new FaultlineError('ABORTED', 'interrupted');
  return reads.map((read, i) => ({ name: names[i]!, read }));
}

/**
 * Runs every read-back once for a run that wrote nothing, before anything is injected: a query that fails (a
 * misspelt table, a refused login, an unset password variable) is one line naming the field, not an "unknown"
 * data-loss verdict found after the faults. Bad input is INVALID_INPUT; a database that does not answer, TARGET_UNREACHABLE.
 */
export async function checkReadbacks(stack: AttachedStack, signal: AbortSignal, tls: ReadbackOptions['tls']): Promise<void> {
  if (stack.spec.readback.length === 0) return;
  const probeLedger = new WriteLedger(`preflight${Date.now().toString(36)}`);
  const reads = await readBack(stack, probeLedger, { signal, timeoutMs: 15_000, tls });
  const failed = reads.find((r) => !r.read.ok);
  if (!failed || failed.read.ok) return;
  const unreachable = /ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|no answer|connect/i.test(failed.read.error) && !/\.query: /.test(failed.read.error);
  throw new FaultlineError(unreachable ? 'TARGET_UNREACHABLE' : 'INVALID_INPUT', `stack.${failed.read.error}`.replace(/^stack\.stack\./, 'stack.'), {
    hint: `fix it in ${stack.spec.file}; nothing was injected`,
  });
}
