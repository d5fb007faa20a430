// The TLS edge's files and reload, per kind: finding the edge the stack description declares (stack.edge), reading
// its files in one exec, putting files with the archive API (which works in any container state) and reloading
// HAProxy (master-worker: SIGUSR2) or nginx (SIGHUP); both keep established connections.

import { FaultlineError } from '../errors.js';
import type { EdgeSpec } from '../stack/spec.js';
import { retryUntil } from '../util/retry.js';
import { execOk } from './helpers.js';
import { tarOf } from './tar.js';
import { assertStackContainer, resolveContainers, toRef } from './targets.js';
import type { FaultContext, TargetRef } from './types.js';

export type { EdgeKind } from '../stack/spec.js';
import type { EdgeKind } from '../stack/spec.js';
export type FileKey = 'certificate' | 'key' | 'config' | 'openssl';

/** A file of the edge: where it is, its permissions and its content. */
export interface EdgeFile {
  key: FileKey;
  path: string;
  mode: number;
  content: Buffer;
}

/** The reference stack's HAProxy files (compose/faultline.stack.yaml declares the same), for tests that look at them. */
export const LB_FILES = {
  certificate: '/etc/haproxy/certs/site.pem',
  config: '/etc/haproxy/haproxy.active.cfg',
  openssl: '/etc/ssl/openssl.cnf',
} as const;

/** Where faults keep files inside the edge: the original certificate beside a swap, new certificates nginx is pointed at. */
export const SAVE_DIR = '/run/faultline';

const RELOAD_SIGNAL: Record<EdgeKind, string> = { haproxy: 'SIGUSR2', nginx: 'SIGHUP' };

export const reloadWords: Record<EdgeKind, string> = {
  // Master-worker HAProxy re-executes on SIGUSR2: new workers take the new files, old ones finish their connections.
  haproxy: 'reload HAProxy with SIGUSR2 (established connections stay)',
  // nginx's master re-reads its configuration on SIGHUP and retires old workers gracefully.
  nginx: 'reload nginx with SIGHUP (established connections stay)',
};

/** The described edge, or a one-line refusal naming the field, for a fault called `fault`. */
export function edgeOf(ctx: FaultContext, fault: string): EdgeSpec {
  const edge = ctx.stack.spec.edge;
  if (!edge)
    throw new FaultlineError('INVALID_INPUT', `${fault}: ${ctx.stack.spec.file ?? 'the stack description'} declares no TLS edge (stack.edge)`, {
      hint: 'add edge: { target: role=lb, kind: haproxy|nginx, certificate: /path/in/container, key (nginx), config, ca_key } to the description',
    });
  return edge;
}

/** The running container the edge is: `target` if given, else the description's. */
export async function findEdge(ctx: FaultContext, edge: EdgeSpec, target: string | undefined): Promise<TargetRef> {
  const [c] = await resolveContainers(ctx, target ?? edge.target);
  if (!c) throw new FaultlineError('UNKNOWN_TARGET', `target "${target ?? edge.target}" matches no container of stack ${ctx.stack.project}`);
  if (c.state !== 'running')
    throw new FaultlineError('TARGET_UNREACHABLE', `${c.service || c.name} is ${c.state}; certificate faults need the running ${edge.kind} of the TLS edge`);
  return toRef(c);
}

/** Reads files of the edge in one exec: permissions then base64 content, one pair of lines per file. */
export async function readEdgeFiles(ctx: FaultContext, id: string, files: Array<{ key: FileKey; path: string }>, signal: AbortSignal): Promise<EdgeFile[]> {
  // Paths are validated by the description's schema (no quotes, no spaces), so single quotes suffice.
  const script = files.map((f) => `stat -c %a '${f.path}' && base64 -w0 '${f.path}' && echo`).join(' && ');
  const res = await execOk(ctx, id, ['sh', '-c', script], { signal, what: 'reading the TLS edge files' });
  const lines = res.stdout.split('\n');
  return files.map((f, i) => ({ ...f, mode: parseInt(lines[i * 2] ?? '644', 8), content: Buffer.from(lines[i * 2 + 1] ?? '', 'base64') }));
}

export function textOf(files: EdgeFile[], key: FileKey): string {
  const f = files.find((x) => x.key === key);
  if (!f) throw new FaultlineError('INTERNAL', `no saved ${key}`);
  return f.content.toString('utf8');
}

/** Puts files into the edge with the archive API, which works whatever its state (running, stopped, paused). */
export async function putEdgeFiles(ctx: FaultContext, id: string, files: EdgeFile[]): Promise<void> {
  await assertStackContainer(ctx, id);
  const archive = tarOf(files.map((f) => ({ path: f.path.replace(/^\//, ''), content: f.content, mode: f.mode })));
  await ctx.docker.putArchive(id, '/', archive);
}

/** Tells when a reload has settled: true once the edge no longer serves from processes that predate the signal. */
export type Settled = () => Promise<boolean>;

/**
 * Sends the reload signal. nginx's master starts new workers, then tells the old ones to stop accepting (100 ms later,
 * longer on a busy host): until then both generations answer new connections, so a check that sees the new files once
 * proves nothing. The result waits for every worker that served before the signal to be gone or shutting down.
 */
export async function reloadEdge(ctx: FaultContext, id: string, kind: EdgeKind): Promise<Settled> {
  if (kind === 'haproxy') {
    await ctx.docker.kill(id, RELOAD_SIGNAL[kind]);
    return async () => true;
  }
  const before = await nginxWorkers(ctx, id);
  await ctx.docker.kill(id, RELOAD_SIGNAL[kind]);
  return async () => {
    const now = await nginxWorkers(ctx, id);
    return before === undefined || now === undefined || !now.some((pid) => before.includes(pid));
  };
}

/** The pids of nginx's workers that accept connections (not shutting down), from /proc; undefined when that cannot be read. */
async function nginxWorkers(ctx: FaultContext, id: string): Promise<string[] | undefined> {
  const script = [
    'for p in /proc/[0-9]*; do',
    `c=$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null) || continue`,
    'case "$c" in *"worker process is shutting down"*) ;; "nginx: worker process"*) echo "${p#/proc/}" ;; esac',
    'done',
  ].join('\n');
  const res = await ctx.docker.exec(id, ['sh', '-c', script]).catch(() => undefined);
  return res?.exitCode === 0 ? res.stdout.split('\n').filter(Boolean) : undefined;
}

/** Removes files faultline put into the edge; a failure is only logged (they are in SAVE_DIR, outside what is served). */
export async function removeEdgeFiles(ctx: FaultContext, id: string, paths: string[]): Promise<void> {
  if (!paths.length) return;
  const res = await ctx.docker.exec(id, ['rm', '-f', ...paths]).catch((err: unknown) => ({ exitCode: -1, stdout: '', stderr: (err as Error).message }));
  if (res.exitCode !== 0) ctx.log(`could not remove ${paths.join(', ')} from ${id.slice(0, 12)}: ${res.stderr.trim().slice(0, 200)}`);
}

/** What the edge's own log says about a failed reload, as a suffix for an error message ('' when nothing). */
export async function edgeLogTail(ctx: FaultContext, id: string, kind: EdgeKind): Promise<string> {
  const logs = await ctx.docker.logs(id, 8).catch(() => '');
  const pattern = kind === 'haproxy' ? /ALERT|Loading failure/ : /\[(emerg|alert|crit|error)\]/;
  const alerts = logs.split('\n').filter((l) => pattern.test(l));
  return alerts.length
    ? `; ${kind === 'haproxy' ? 'HAProxy' : 'nginx'} says: ${alerts
        .map((l) => l.replace(/^\S+\s+/, '').trim())
        .join(' | ')
        .slice(0, 600)}`
    : '';
}

const APPLY_TIMEOUT_MS = 20_000;
/** A reload normally shows within ~2 s here; after this long the signal is sent again. */
const RELOAD_RETRY_MS = 4_000;

/**
 * Reloads the edge and waits until it has settled and `ok` holds. A reload signal that arrives while the master is
 * still busy with an earlier one can be lost, so the signal is repeated (harmless: the files are already in place).
 */
export async function reloadEdgeUntil(
  ctx: FaultContext,
  edge: { lbId: string; kind: EdgeKind },
  ok: () => Promise<boolean>,
  what: string,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + APPLY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const settled = await reloadEdge(ctx, edge.lbId, edge.kind);
    const left = Math.max(100, Math.min(RELOAD_RETRY_MS, deadline - Date.now()));
    const done = await retryUntil(
      async () => (await settled()) && (await ok()),
      (v) => v,
      { timeoutMs: left, intervalMs: 25, signal, what },
    ).then(
      () => true,
      (err: unknown) => {
        if (signal.aborted) throw err;
        return false;
      },
    );
    if (done) return;
  }
  throw new FaultlineError('TIMEOUT', `timed out after ${APPLY_TIMEOUT_MS} ms waiting for ${what}`);
}
