// <stateDir>/faults.json: every fault is written here before it takes effect and removed only after its
// revert succeeded, so `faultline revert` can undo it from a fresh process. Writes are durable and atomic
// (tmp, fsync, rename) and serialised across processes by a lock file, since several holders may write at once.

import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { systemClock } from '../util/retry.js';
import { faultRecordSchema, type FaultRecord } from './types.js';

const fileSchema = z.object({ version: z.literal(1), faults: z.array(faultRecordSchema) });

const LOCK_TIMEOUT_MS = 10_000;
/** A takeover of a stale lock takes milliseconds; a takeover lock older than this was left by a killed process. */
const BREAK_STALE_MS = 5_000;
/** Creating the lock file and writing its holder take microseconds; an empty one older than this was abandoned. */
const EMPTY_STALE_MS = 1_000;

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined where
 * there is no /proc. With the pid it names one process: a pid reused by another process has another start.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * True when the process that wrote a record or a lock is still alive on this machine. With `start` (its
 * start time, when it was recorded), a live process under the same pid that started at another time is
 * someone else: the holder is gone.
 */
export function holderAlive(pid: number, host: string, start?: string): boolean {
  if (host !== hostname()) return true; // cannot tell: assume alive
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (start === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === start;
}

export class FaultStore {
  readonly path: string;
  private readonly lockPath: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'faults.json');
    this.lockPath = join(dir, 'faults.lock');
  }

  async list(): Promise<FaultRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new FaultlineError(
        'INVALID_INPUT',
        `${this.path}: not a faultline fault record (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
        {
          hint: 'it is written by faultline; if it was edited by hand, restore it or revert the faults yourself',
        },
      );
    }
    return parsed.data.faults as FaultRecord[];
  }

  async get(id: string): Promise<FaultRecord | undefined> {
    return (await this.list()).find((r) => r.id === id);
  }

  /** Adds a record; refuses when an active fault already occupies one of its slots. */
  async add(record: FaultRecord, signal?: AbortSignal): Promise<void> {
    await this.mutate((list) => {
      const clash = list.find((r) => r.slots.some((s) => record.slots.includes(s)));
      if (clash) {
        throw new FaultlineError(
          'INVALID_INPUT',
          `${record.fault} conflicts with active fault ${clash.fault} (${clash.id}) on ${clash.slots.filter((s) => record.slots.includes(s)).join(', ')}`,
          {
            hint: `wait until it ends, or revert it first: faultline revert --all --project ${record.stack}`,
          },
        );
      }
      return [...list, record];
    }, signal);
  }

  /** Changes a record; false (and nothing written) when the record is gone: someone reverted the fault meanwhile. */
  async update(id: string, patch: Partial<Pick<FaultRecord, 'status' | 'data'>>, signal?: AbortSignal): Promise<boolean> {
    let found = false;
    await this.mutate((list) => {
      found = list.some((r) => r.id === id);
      return list.map((r) => (r.id === id ? { ...r, ...patch } : r));
    }, signal);
    return found;
  }

  async remove(id: string, signal?: AbortSignal): Promise<void> {
    await this.mutate((list) => list.filter((r) => r.id !== id), signal);
  }

  private async mutate(fn: (list: FaultRecord[]) => FaultRecord[], signal?: AbortSignal): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const release = await this.lock(signal);
    try {
      const next = fn(await this.list());
      if (next.length === 0) {
        await rm(this.path, { force: true });
        return;
      }
      const tmp = `${this.path}.${process.pid}.tmp`;
      // fsync before the rename: after a crash the file is the old list or the new one, never empty.
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify({ version: 1, faults: next }, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } finally {
      await release();
    }
  }

  /**
   * An exclusive lock file holding our pid, host and start time; a lock whose holder died (or whose pid now
   * belongs to another process) is taken over. Bounded wait.
   *
   * Taking over is check-then-act (read the holder, find it dead, remove the file), so two processes could
   * both remove the stale lock and the second remove the first one's fresh lock. Takeovers are therefore
   * serialised by a second lock file, and the stale lock is re-read under it and removed only if it is still
   * the same one.
   */
  private async lock(signal?: AbortSignal): Promise<() => Promise<void>> {
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    const me = `${process.pid} ${hostname()} ${processStart(process.pid) ?? '-'}`;
    for (;;) {
      if (await createExclusive(this.lockPath, me)) return () => rm(this.lockPath, { force: true });
      const content = await readFile(this.lockPath, 'utf8').catch(() => '');
      if (content ? staleLock(content) : await this.emptyLockAbandoned()) await this.breakLock(content);
      if (Date.now() > deadline) throw new FaultlineError('TIMEOUT', `could not lock ${this.lockPath} within ${LOCK_TIMEOUT_MS} ms (held by ${content})`);
      // A fresh signal is used by rollbacks, so an abort here only ever cancels new work.
      await systemClock.sleep(10 + Math.floor(Math.random() * 20), signal);
    }
  }

  /**
   * A lock file is written in the same breath as it is created; one still empty after EMPTY_STALE_MS was left by a
   * process killed in between, and nobody would ever break it (every later write, `faultline revert` too, timed out).
   */
  private async emptyLockAbandoned(): Promise<boolean> {
    const age = await stat(this.lockPath).then(
      (s) => (s.size === 0 ? Date.now() - s.mtimeMs : 0),
      () => 0,
    );
    return age > EMPTY_STALE_MS;
  }

  /** Removes the lock only if it still holds `stale`, under the takeover lock. */
  private async breakLock(stale: string): Promise<void> {
    const breaker = `${this.lockPath}.break`;
    if (!(await createExclusive(breaker, String(process.pid)))) {
      // Another takeover is under way; one left by a killed process is cleared once it is old.
      const age = await stat(breaker).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > BREAK_STALE_MS) await rm(breaker, { force: true });
      return;
    }
    try {
      if ((await readFile(this.lockPath, 'utf8').catch(() => '')) === stale) await rm(this.lockPath, { force: true });
    } finally {
      await rm(breaker, { force: true });
    }
  }
}

/** Creates a file that must not exist yet, with `content`, synced; false when it exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/** A lock's content ("pid host [start]") names a holder that is gone. Pure apart from looking at the process. */
export function staleLock(content: string): boolean {
  const [pidText, host, start] = content.trim().split(' ');
  const pid = Number(pidText);
  if (!host || !Number.isInteger(pid) || pid <= 0) return false; // being written, or not ours: wait
  return !holderAlive(pid, host, start === '-' ? undefined : start);
}

/**
 * After `down`, every fault of the stack went with its containers (a killed container, a firewall or qdisc in
 * a removed namespace, a helper, the LB's swapped files): its records are dropped, so the next stack's
 * reverts and runs do not fail on containers that no longer exist. Returns the ids dropped.
 */
export async function dropStackRecords(dir: string, project: string): Promise<string[]> {
  const store = new FaultStore(dir);
  const gone = (await store.list().catch(() => [])).filter((r) => r.stack === project);
  for (const r of gone) await store.remove(r.id);
  return gone.map((r) => r.id);
}
