// <stateDir>/faults.json: every fault is written here before it takes effect and removed only after its
// revert succeeded, so `faultline revert` can undo it from a fresh process. Writes are atomic (tmp + rename)
// and serialised across processes by a lock file, since several holders may write at once.

import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { systemClock } from '../util/retry.js';
import type { FaultRecord } from './types.js';

const targetSchema = z.object({ id: z.string(), name: z.string(), service: z.string(), server: z.string().optional(), component: z.string().optional() });

const recordSchema = z.object({
  id: z.string(),
  fault: z.string(),
  stack: z.string(),
  params: z.unknown(),
  targets: z.array(targetSchema),
  slots: z.array(z.string()),
  steps: z.array(z.string()),
  status: z.enum(['injecting', 'active', 'reverting']),
  createdAt: z.string(),
  pid: z.number(),
  hostname: z.string(),
  until: z.string().optional(),
  data: z.unknown(),
});

const fileSchema = z.object({ version: z.literal(1), faults: z.array(recordSchema) });

const LOCK_TIMEOUT_MS = 10_000;

/** True when the process that wrote a record or a lock is still alive on this machine. */
export function holderAlive(pid: number, host: string): boolean {
  if (host !== hostname()) return true; // cannot tell: assume alive
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
      throw new FaultlineError('INVALID_INPUT', `${this.path}: not a faultline fault record (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`, {
        hint: 'it is written by faultline; if it was edited by hand, restore it or revert the faults yourself',
      });
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
        throw new FaultlineError('INVALID_INPUT', `${record.fault} conflicts with active fault ${clash.fault} (${clash.id}) on ${clash.slots.filter((s) => record.slots.includes(s)).join(', ')}`, {
          hint: `revert it first: faultline revert --all --project ${record.stack}`,
        });
      }
      return [...list, record];
    }, signal);
  }

  async update(id: string, patch: Partial<Pick<FaultRecord, 'status' | 'data'>>, signal?: AbortSignal): Promise<void> {
    await this.mutate((list) => list.map((r) => (r.id === id ? { ...r, ...patch } : r)), signal);
  }

  async remove(id: string, signal?: AbortSignal): Promise<void> {
    await this.mutate((list) => list.filter((r) => r.id !== id), signal);
  }

  private async mutate(fn: (list: FaultRecord[]) => FaultRecord[], signal?: AbortSignal): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const release = await this.lock(signal);
    try {
      const next = fn(await this.list());
      if (next.length === 0) {
        await rm(this.path, { force: true });
        return;
      }
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ version: 1, faults: next }, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.path);
    } finally {
      await release();
    }
  }

  /** An exclusive lock file holding our pid; a lock whose holder died is taken over. Bounded wait. */
  private async lock(signal?: AbortSignal): Promise<() => Promise<void>> {
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    const me = `${process.pid} ${hostname()}`;
    for (;;) {
      try {
        const fh = await open(this.lockPath, 'wx', 0o600);
        await fh.writeFile(me);
        await fh.close();
        return () => rm(this.lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = (await readFile(this.lockPath, 'utf8').catch(() => '')).split(' ');
      const pid = Number(holder[0]);
      if (holder.length === 2 && Number.isInteger(pid) && !holderAlive(pid, holder[1]!)) {
        await rm(this.lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new FaultlineError('TIMEOUT', `could not lock ${this.lockPath} within ${LOCK_TIMEOUT_MS} ms (held by ${holder.join(' ')})`);
      // A fresh signal is used by rollbacks, so an abort here only ever cancels new work.
      await systemClock.sleep(10 + Math.floor(Math.random() * 20), signal);
    }
  }
}
