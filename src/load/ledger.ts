// The WriteLedger: every write this run sent, with its key, times and outcome (ok | fail | unknown).
// A later data-loss check compares it with what the database holds: select the run's rows with likePattern().

import { FaultlineError } from '../errors.js';

export type WriteOutcome = 'ok' | 'fail' | 'unknown';

export interface WriteRecord {
  key: string;
  /** ms since t = 0 of the load (the intended send time for the paced driver, the send time for closed). */
  intendedMs: number;
  /** ms since t = 0 when the answer or the error came; null when none came before the run ended. */
  completedMs: number | null;
  outcome: WriteOutcome;
  /** The id the app answered with (ok only). */
  id: number | null;
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
 * Classifies one write, Jepsen style: `ok` only when the app acknowledged it (2xx; id taken from the body),
 * `fail` only when it definitely did not happen, `unknown` whenever it might have.
 */
export function classifyWrite(answer: WriteAnswer): { outcome: WriteOutcome; id: number | null } {
  if (answer.status !== undefined) {
    const s = answer.status;
    if (s >= 200 && s < 300) return { outcome: 'ok', id: parseId(answer.body) };
    // A proxy's 502/504 says the backend did not answer in time, not that the write was refused: it may have committed.
    if (s === 502 || s === 504) return { outcome: 'unknown', id: null };
    if (s >= 400) return { outcome: 'fail', id: null };
    // 1xx/3xx to a POST: the app never does this; we cannot know what happened.
    return { outcome: 'unknown', id: null };
  }
  return { outcome: answer.sent ? 'unknown' : 'fail', id: null };
}

/** The id from `{"id": <n>, ...}`; null when the body does not carry a positive integer id. */
export function parseId(body: string | undefined): number | null {
  if (!body) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const id = (parsed as { id?: unknown }).id;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return id;
      if (typeof id === 'string' && /^[1-9]\d{0,15}$/.test(id)) return Number(id);
    }
  } catch {
    // Not JSON: the write is still acknowledged by its status, just without an id.
  }
  return null;
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
  private seq = 0;

  constructor(runId: string, startedAt: number = Date.now()) {
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
    return `${this.runId}-${this.seq}`;
  }

  /** Records a write as it is sent; returns its handle for complete(). Outcome stays `unknown` until completed. */
  begin(key: string, intendedMs: number): number {
    this.writes.push({ key, intendedMs: round3(intendedMs), completedMs: null, outcome: 'unknown', id: null, status: null, error: null });
    return this.writes.length - 1;
  }

  complete(handle: number, completedMs: number, answer: WriteAnswer): WriteRecord {
    const w = this.writes[handle];
    if (!w) throw new FaultlineError('INTERNAL', `ledger: no write with handle ${handle}`);
    const { outcome, id } = classifyWrite(answer);
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
  okIds(): number[] {
    return this.writes.filter((w) => w.outcome === 'ok' && w.id !== null).map((w) => w.id as number);
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
