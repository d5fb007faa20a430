// The WriteLedger: every write this run sent, with its key, times and outcome (ok | fail | unknown).
// A later data-loss check compares it with what the database holds: select the run's rows with likePattern().

import { FaultlineError } from '../errors.js';

export type WriteOutcome = 'ok' | 'fail' | 'unknown';

/** An id a write's answer carried: a positive integer, or a short URL- and JSON-safe string (e.g. a UUID). */
export type WriteId = number | string;

/** What makes a write acknowledged, and where its id is: from the workload's request (workload.ts). */
export interface WriteRule {
  /** Statuses that acknowledge the write; null: any 2xx. */
  expect: readonly number[] | null;
  /** Dot path of the id in the JSON answer, split at the dots; null: no id. */
  idPath: readonly string[] | null;
}

/** The reference app's writes: any 2xx acknowledges, the id is the answer's `id`. */
export const DEFAULT_WRITE_RULE: WriteRule = { expect: null, idPath: ['id'] };

/** Whether a status counts as success: one of `expect`, or any 2xx when none is given. */
export function isExpectedStatus(status: number, expect: readonly number[] | null): boolean {
  return expect === null ? status >= 200 && status < 300 : expect.includes(status);
}

export interface WriteRecord {
  key: string;
  /** ms since t = 0 of the load (the intended send time for the paced driver, the send time for closed). */
  intendedMs: number;
  /** ms since t = 0 when the answer or the error came; null when none came before the run ended. */
  completedMs: number | null;
  outcome: WriteOutcome;
  /** The id the app answered with (ok only). */
  id: WriteId | null;
  status: number | null;
  error: string | null;
}

export interface WriteLedgerJSON {
  version: 1;
  runId: string;
  /** Every key starts with this. */
  keyPrefix: string;
  startedAt: string;
  counts: LedgerCounts;
  writes: WriteRecord[];
}

export interface LedgerCounts {
  attempted: number;
  ok: number;
  fail: number;
  unknown: number;
}

/** What a finished write looked like, for classification. */
export interface WriteAnswer {
  /** HTTP status, when a response came. */
  status?: number;
  /** Response body (only needed for 2xx). */
  body?: string;
  /** Stable error code when no response came. */
  errorCode?: string;
  /** Whether any request byte may have reached the server (false for a refused connect or a TLS failure). */
  sent: boolean;
}

/**
 * Classifies one write, Jepsen style: `ok` only when the app acknowledged it (an expected status, default any 2xx;
 * id taken from the body), `fail` only when it definitely did not happen, `unknown` whenever it might have.
 */
export function classifyWrite(answer: WriteAnswer, rule: WriteRule = DEFAULT_WRITE_RULE): { outcome: WriteOutcome; id: WriteId | null } {
  if (answer.status !== undefined) {
    const s = answer.status;
    if (isExpectedStatus(s, rule.expect)) return { outcome: 'ok', id: rule.idPath ? parseId(answer.body, rule.idPath) : null };
    // A proxy's 502/504 says the backend did not answer in time, not that the write was refused: it may have committed.
    if (s === 502 || s === 504) return { outcome: 'unknown', id: null };
    if (s >= 400) return { outcome: 'fail', id: null };
    // 1xx/3xx, or a 2xx the request does not expect: not the app's acknowledgement; we cannot know what happened.
    return { outcome: 'unknown', id: null };
  }
  return { outcome: answer.sent ? 'unknown' : 'fail', id: null };
}

const DEFAULT_ID_PATH = ['id'];

/** String ids go into paths and JSON bodies as they are: only characters that need no escaping in either. */
const STRING_ID = /^[A-Za-z0-9._~:-]{1,128}$/;

/** An id as a write answer may carry it, or null: a positive safe integer (also as digits in a string), or a safe string. */
export function idValue(v: unknown): WriteId | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : null;
  if (typeof v !== 'string' || !STRING_ID.test(v)) return null;
  if (/^[1-9]\d{0,15}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return v;
}

/**
 * The id at a dot path of a JSON answer (`id`, `order.order_id`); null when the body is not JSON or carries no usable
 * id there. A write without one is still acknowledged by its status, only reads cannot use it.
 */
export function parseId(body: string | undefined, path: string | readonly string[] = DEFAULT_ID_PATH): WriteId | null {
  if (!body) return null;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return null;
  }
  for (const step of typeof path === 'string' ? path.split('.') : path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, step)) return null;
    v = (v as Record<string, unknown>)[step];
  }
  return idValue(v);
}

/** Run ids go into SQL LIKE patterns: letters and digits only, so `_` and `%` can never act as wildcards. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9]{1,40}$/;

export function newRunId(now = Date.now()): string {
  const rand = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `fl${now.toString(36)}${rand}`;
}

export class WriteLedger {
  readonly runId: string;
  readonly startedAt: number;
  private readonly writes: WriteRecord[] = [];
  /** By handle: how each write is classified (kept beside the records, which are plain data for the JSON). */
  private readonly rules: Array<WriteRule | undefined> = [];
  private seq = 0;

  /**
   * `keySpace` (letters and digits, e.g. `a2n`) goes between the run's prefix and the counter: load agents of one run
   * share its runId, so the data-loss check reads their ledgers together, and each has keys of its own.
   */
  constructor(
    runId: string,
    startedAt: number = Date.now(),
    private readonly keySpace = '',
  ) {
    if (!RUN_ID_PATTERN.test(runId)) {
      throw new FaultlineError('INVALID_INPUT', `runId: must be 1-40 letters or digits, got ${JSON.stringify(runId)}`);
    }
    this.runId = runId;
    this.startedAt = startedAt;
  }

  /** Every key of this run starts with this. */
  get keyPrefix(): string {
    return `${this.runId}-`;
  }

  /** `key LIKE ?` pattern that selects exactly this run's rows. */
  likePattern(): string {
    return `${this.keyPrefix}%`;
  }

  /** A fresh unique key for the next write. */
  nextKey(): string {
    this.seq += 1;
    return `${this.runId}-${this.keySpace}${this.seq}`;
  }

  /**
   * Records a write as it is sent; returns its handle for complete(). Outcome stays `unknown` until completed. `rule`:
   * its request's expected statuses and id path (default: the reference app's).
   */
  begin(key: string, intendedMs: number, rule?: WriteRule): number {
    this.writes.push({ key, intendedMs: round3(intendedMs), completedMs: null, outcome: 'unknown', id: null, status: null, error: null });
    this.rules.push(rule);
    return this.writes.length - 1;
  }

  complete(handle: number, completedMs: number, answer: WriteAnswer): WriteRecord {
    const w = this.writes[handle];
    if (!w) throw new FaultlineError('INTERNAL', `ledger: no write with handle ${handle}`);
    const { outcome, id } = classifyWrite(answer, this.rules[handle]);
    w.completedMs = round3(completedMs);
    w.outcome = outcome;
    w.id = id;
    w.status = answer.status ?? null;
    w.error = answer.errorCode ?? null;
    return w;
  }

  get size(): number {
    return this.writes.length;
  }

  /** All writes in send order (copies, so callers cannot change the ledger). */
  records(): WriteRecord[] {
    return this.writes.map((w) => ({ ...w }));
  }

  counts(): LedgerCounts {
    const c: LedgerCounts = { attempted: this.writes.length, ok: 0, fail: 0, unknown: 0 };
    for (const w of this.writes) c[w.outcome] += 1;
    return c;
  }

  /** Keys the app acknowledged. */
  acknowledgedKeys(): string[] {
    return this.writes.filter((w) => w.outcome === 'ok').map((w) => w.key);
  }

  /** Ids the app answered with (ok writes that carried one). */
  okIds(): WriteId[] {
    return this.writes.filter((w) => w.outcome === 'ok' && w.id !== null).map((w) => w.id as WriteId);
  }

  attemptedKeys(): string[] {
    return this.writes.map((w) => w.key);
  }

  toJSON(): WriteLedgerJSON {
    return {
      version: 1,
      runId: this.runId,
      keyPrefix: this.keyPrefix,
      startedAt: new Date(this.startedAt).toISOString(),
      counts: this.counts(),
      writes: this.records(),
    };
  }

  static fromJSON(json: WriteLedgerJSON): WriteLedger {
    if (!json || json.version !== 1 || !Array.isArray(json.writes)) {
      throw new FaultlineError('INVALID_INPUT', 'ledger: not a version 1 write ledger');
    }
    const l = new WriteLedger(json.runId, Date.parse(json.startedAt));
    for (const w of json.writes) l.writes.push({ ...w });
    l.seq = l.writes.length;
    return l;
  }
}

export interface SetCheck {
  attempted: number;
  acknowledged: number;
  read: number;
  /** Acknowledged but not in the database. */
  lost: string[];
  /** In the database but never sent by this run. */
  unexpected: string[];
  /** Not acknowledged (fail or unknown) yet in the database. */
  recovered: string[];
  /** Writes classified `fail` that are in the database anyway: a refusal that was not one. */
  failedButPresent: string[];
  valid: boolean;
}

/**
 * The Jepsen "set" check (docs/architecture.md): compare the ledger with the keys read back from the database
 * (e.g. `SELECT key FROM items WHERE key LIKE ledger.likePattern()`).
 */
export function checkWrites(ledger: WriteLedger, readKeys: Iterable<string>): SetCheck {
  const read = new Set<string>();
  for (const k of readKeys) if (k.startsWith(ledger.keyPrefix)) read.add(k);
  const byKey = new Map(ledger.records().map((w) => [w.key, w] as const));
  const lost: string[] = [];
  const recovered: string[] = [];
  const failedButPresent: string[] = [];
  let acknowledged = 0;
  for (const w of byKey.values()) {
    if (w.outcome === 'ok') {
      acknowledged += 1;
      if (!read.has(w.key)) lost.push(w.key);
    } else if (read.has(w.key)) {
      recovered.push(w.key);
      if (w.outcome === 'fail') failedButPresent.push(w.key);
    }
  }
  const unexpected = [...read].filter((k) => !byKey.has(k));
  return {
    attempted: byKey.size,
    acknowledged,
    read: read.size,
    lost,
    unexpected,
    recovered,
    failedButPresent,
    valid: lost.length === 0 && unexpected.length === 0,
  };
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
