// disk-fill: fills the file system of a directory in a target container (a database's data directory by default)
// to a percentage of its size, or to full, with one file it writes there (fallocate, dd where that is refused).
// Only bounded file systems: a data directory on a volume of the host's disk shares that disk with the machine and
// every container on it, so a file system larger than max_fs_size is refused in one line. The file is recorded
// before it is written, a sleeper in the container removes it at the switch's deadline, revert removes it.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { byteSize, percent } from './params.js';
import { execOk } from './helpers.js';
import { armScript, disarmScript, plainPath, switchArgv, switchSeconds } from './switch.js';
import { assertStackContainer, resolveContainers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultRecord } from './types.js';

/** A file system as `df -B1 -P` reports it: bytes in use and available to a writer. */
export interface FsUsage {
  size: number;
  used: number;
  avail: number;
}

/** Where a MariaDB/MySQL server keeps its data: the default path when the target is one of the described databases. */
export const DB_DATA_DIR = '/var/lib/mysql';
/** The default bound on the file systems disk-fill will fill. */
export const DEFAULT_MAX_FS = 4 * 1024 ** 3;

/**
 * Bytes to write so that the file system is `pct` % in use, as df counts it (used / (used + avail): blocks reserved
 * for root are in neither), or everything available at 100 %. Pure; 0 when it is already that full.
 */
export function fillBytes(fs: FsUsage, pct: number): number {
  if (pct >= 100) return fs.avail;
  const target = Math.ceil(((fs.used + fs.avail) * pct) / 100);
  return Math.max(0, Math.min(fs.avail, target - fs.used));
}

/** `df -B1 -P PATH` output → its usage (pure). */
export function parseDf(out: string): FsUsage {
  const line = out.trim().split('\n').pop() ?? '';
  const cols = line.trim().split(/\s+/);
  const [size, used, avail] = [cols[1], cols[2], cols[3]].map(Number);
  if (![size, used, avail].every((n) => Number.isFinite(n))) throw new FaultlineError('INTERNAL', `disk-fill: cannot read df's answer: ${line.slice(0, 200)}`);
  return { size: size!, used: used!, avail: avail! };
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(n < 10 * 1024 ** 3 ? 2 : 0)} GiB`;

/** The refusal of a file system larger than the bound (pure), or undefined when it may be filled. */
export function refuseLarge(where: string, fs: FsUsage, maxFs: number): string | undefined {
  if (fs.size <= maxFs) return undefined;
  return (
    `disk-fill: ${where} is on a ${gib(fs.size)} file system (${gib(fs.avail)} free), larger than max_fs_size ${gib(maxFs)}: ` +
    `that is most likely the host's disk, shared with the machine and every container on it, so faultline will not fill it; ` +
    `give the directory a file system of bounded size (a tmpfs, a loop-mounted volume) or raise max_fs_size if this one is meant to be filled`
  );
}

const params = z
  .object({
    path: z.string().optional(),
    percent: percent({ min: 1 }).default(100),
    max_fs_size: byteSize(64 * 1024 ** 3).default('4G'),
  })
  .strict();
type Params = z.output<typeof params>;

const dataSchema = z.object({
  path: z.string(),
  percent: z.number(),
  targets: z.array(z.object({ id: z.string(), name: z.string(), file: z.string(), bytes: z.number() })),
});
type DiskData = z.infer<typeof dataSchema>;

const fileOf = (path: string, faultId: string) => `${path.replace(/\/+$/, '')}/.faultline-fill-${faultId}`;

async function usage(ctx: FaultContext, id: string, path: string, signal?: AbortSignal): Promise<FsUsage> {
  const res = await execOk(ctx, id, ['df', '-B1', '-P', path], { what: `df ${path}`, ...(signal ? { signal } : {}) });
  return parseDf(res.stdout);
}

/**
 * Whether a container runs one of the described databases: a `databases` entry names its server or its service (the
 * shop's `store: { service: store }` names only the service). Pure.
 */
export function runsDatabase(
  databases: Record<string, { server?: string | undefined; service?: string | undefined }>,
  c: { server?: string; service: string },
): boolean {
  return Object.values(databases).some((d) => (d.server !== undefined && d.server === c.server) || (d.service !== undefined && d.service === c.service));
}

async function defaultPath(ctx: FaultContext, target: string): Promise<string> {
  const containers = await resolveContainers(ctx, target);
  if (containers.some((c) => runsDatabase(ctx.stack.spec.databases ?? {}, c))) return DB_DATA_DIR;
  throw new FaultlineError('INVALID_INPUT', `disk-fill: path: required for ${target} (no database of ${ctx.stack.spec.file ?? 'the description'} runs there)`);
}

async function check(ctx: FaultContext, record: FaultRecord<DiskData>, signal: AbortSignal): Promise<FaultCheck> {
  const seen: string[] = [];
  let full = 0;
  for (const t of record.data.targets) {
    const res = await ctx.docker
      .exec(t.id, ['sh', '-c', `test -e '${plainPath(t.file)}' && df -B1 -P '${plainPath(record.data.path)}'`], { signal })
      .catch(() => undefined);
    if (!res || res.exitCode !== 0) {
      seen.push(`${t.name}: no fill file`);
      continue;
    }
    const fs = parseDf(res.stdout);
    const pct = (100 * fs.used) / (fs.used + fs.avail);
    // At most a few blocks short of the target (other writers come and go).
    if (record.data.percent >= 100 ? fs.avail < 1024 * 1024 : pct >= record.data.percent - 1) full += 1;
    seen.push(`${t.name}: ${record.data.path} ${pct.toFixed(1)} % in use, ${fs.avail} bytes free`);
  }
  return { active: full > 0 && full === record.data.targets.length, detail: seen.join('; ') };
}

export const diskFill: FaultDefinition<Params, DiskData> = {
  name: 'disk-fill',
  kind: 'resource',
  description:
    "fill the file system of a directory (default: a described database's data dir) to percent (default 100 %); refuses file systems over max_fs_size",
  params,
  data: dataSchema,
  async plan(ctx, target, p, signal) {
    if (!target) throw new FaultlineError('INVALID_INPUT', 'disk-fill: target: required (e.g. --target service=db-primary-mariadb)');
    const path = plainPath(p.path ?? (await defaultPath(ctx, target)));
    const found = await resolveContainers(ctx, target, (c) => c.state === 'running');
    // The containers of the target that have the directory (a server's database container, not its host or exporter).
    const withDir: typeof found = [];
    for (const c of found) if ((await ctx.docker.exec(c.id, ['test', '-d', path], { signal }).catch(() => undefined))?.exitCode === 0) withDir.push(c);
    if (!withDir.length) throw new FaultlineError('UNKNOWN_TARGET', `disk-fill: no running container of ${target} has a directory ${path}`);
    const targets: DiskData['targets'] = [];
    const steps: string[] = [];
    for (const c of withDir) {
      const fs = await usage(ctx, c.id, path, signal);
      const refusal = refuseLarge(`${path} in ${c.service || c.name}`, fs, p.max_fs_size);
      if (refusal) throw new FaultlineError('INVALID_INPUT', refusal);
      const bytes = fillBytes(fs, p.percent);
      targets.push({ id: c.id, name: c.service || c.name, file: '', bytes });
      steps.push(
        `write ${bytes} bytes into ${path} of ${c.service || c.name} (${gib(fs.size)} file system, ${((100 * fs.used) / (fs.used + fs.avail)).toFixed(1)} % in use → ${p.percent} %)`,
      );
    }
    return {
      targets: withDir.map(toRef),
      steps: [...steps, 'revert: remove the file (a sleeper in the container removes it at the deadline if faultline died)'],
      slots: withDir.map((c) => `${c.service || c.name}:disk`),
      data: { path, percent: p.percent, targets },
    };
  },
  async apply(ctx, record, update, signal) {
    const targets = record.data.targets.map((t) => ({ ...t, file: fileOf(record.data.path, record.id) }));
    // The file's name is in the record before a byte is written.
    await update({ targets });
    for (const t of targets) {
      await assertStackContainer(ctx, t.id);
      const file = plainPath(t.file);
      // Bytes computed again now (the plan's may be stale); fallocate is instant where the file system has it, dd fills
      // the rest (ENOSPC ends it, which at 100 % is the point).
      const bytesNow = `$(df -B1 -P '${plainPath(record.data.path)}' | awk 'NR==2 { t = ($3 + $4) * ${record.data.percent} / 100; b = ${record.data.percent >= 100 ? '$4' : 't - $3'}; if (b < 0) b = 0; printf "%d", b }')`;
      const script = [
        `b=${bytesNow}`,
        `[ "$b" -gt 0 ] || exit 0`,
        `fallocate -l "$b" '${file}' 2>/dev/null || dd if=/dev/zero of='${file}' bs=1M count=$(( (b + 1048575) / 1048576 )) 2>/dev/null || true`,
        // dd wrote whole MiB: at a percentage, trim back to the bytes asked.
        record.data.percent < 100 ? `truncate -s "$b" '${file}' 2>/dev/null || true` : 'true',
      ].join('\n');
      // One exec: the switch is armed first in the same script (its sleeper is a child of this named shell), then the
      // file written. No sync: df counts the blocks at once, and a sync would flush the whole host's dirty pages.
      const armed = armScript(record.id, switchSeconds(ctx.maxDurationMs), `rm -f '${file}'`);
      await execOk(ctx, t.id, switchArgv(record.id, `${armed}\n( ${script}\n)`), { what: `disk-fill: arming its switch and writing ${file}`, toEnd: true });
    }
    const seen = await check(ctx, { ...record, data: { ...record.data, targets } }, signal);
    if (!seen.active) throw new FaultlineError('INTERNAL', `disk-fill: the file system did not fill: ${seen.detail}`);
  },
  async revert(ctx, record) {
    const left: string[] = [];
    for (const t of record.data.targets) {
      if (!t.file) continue;
      const info = await ctx.docker.findContainer(t.id);
      if (!info) {
        ctx.log(`disk-fill: ${t.name} no longer exists; its file went with it`);
        continue;
      }
      if (!info.running) {
        // A stopped container's file stays until it runs again; the record stays too, so a later revert removes it.
        left.push(`${t.name} is not running (its ${t.file} is still there)`);
        continue;
      }
      const file = plainPath(t.file);
      await execOk(ctx, t.id, ['sh', '-c', `${disarmScript(record.id)}; rm -f '${file}'; ! test -e '${file}'`], { what: `disk-fill: removing ${file}` });
    }
    if (left.length) throw new FaultlineError('REVERT_FAILED', `disk-fill: ${left.join('; ')}`);
  },
  check,
};

export const diskFaults = [diskFill];
