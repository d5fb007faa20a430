// The current writer of a multi-node database tier: the node the database LB's HAProxy sends its sessions to.
// HAProxy's own view (its admin socket's `show stat`) is the truth: whichever node the LB picks is where writes go.

import { FaultlineError } from '../errors.js';
import type { ContainerSummary } from './docker-types.js';
import type { StackSpec } from './spec.js';

export interface ProxyServer {
  proxy: string;
  server: string;
  /** UP, DOWN, MAINT, "UP 1/3" (going down), "DOWN 1/2" (coming up), … */
  status: string;
  backup: boolean;
}

/** The servers of every proxy in `show stat` CSV (the FRONTEND/BACKEND summary rows left out; pure). */
export function parseShowStat(csv: string): ProxyServer[] {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = lines[0]?.replace(/^#\s*/, '').split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  const [px, sv, st, bck] = [col('pxname'), col('svname'), col('status'), col('bck')];
  if (px < 0 || sv < 0 || st < 0 || bck < 0) throw new Error(`not HAProxy show stat output: ${lines[0] ?? '(empty)'}`);
  return lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((f) => f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
    .map((f) => ({ proxy: f[px] ?? '', server: f[sv] ?? '', status: f[st] ?? '', backup: f[bck] === '1' }));
}

/**
 * The server HAProxy sends new sessions of `proxy` to when it balances over one active server with backups: the
 * first active server that is up, else the first backup that is up (HAProxy's choice without `allbackups`). A
 * server going down ("UP 1/2") still takes sessions; one coming up ("DOWN 1/3") does not yet. Pure.
 */
export function writerOf(servers: ProxyServer[], proxy: string): string | undefined {
  const up = servers.filter((s) => s.proxy === proxy && s.status.startsWith('UP'));
  return (up.find((s) => !s.backup) ?? up[0])?.server;
}

/** The shape stack/spec.ts accepts for writer.socket (letters, digits, . _ @ + - /), checked again where it is used. */
const SOCKET_PATH = /^\/[A-Za-z0-9._@+/-]*$/;

type Exec = (id: string, cmd: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** Asks the description's writer LB which server takes the writes now; the server's name as the stack labels it. */
export async function currentWriter(spec: Pick<StackSpec, 'writer' | 'file'>, containers: ContainerSummary[], exec: Exec): Promise<string> {
  const w = spec.writer;
  if (!w) throw new FaultlineError('UNKNOWN_TARGET', `${spec.file}: stack.writer is not declared: no database LB to ask for the writer`);
  const lb = containers.find((c) => c.server === w.server && c.component === 'haproxy' && c.state === 'running');
  if (!lb) throw new FaultlineError('TARGET_UNREACHABLE', `stack.writer.server: no running haproxy on ${w.server}`);
  // The path comes from a file: it must be a plain absolute path (no shell, no socat option syntax), and it
  // reaches the shell only as an argument ($1), never as shell text.
  if (!SOCKET_PATH.test(w.socket)) throw new FaultlineError('INVALID_INPUT', `stack.writer.socket: ${JSON.stringify(w.socket)} is not a plain absolute path`);
  const res = await exec(lb.id, ['bash', '-c', `echo 'show stat' | socat stdio "UNIX-CONNECT:$1"`, 'faultline-writer', w.socket]);
  if (res.exitCode !== 0)
    throw new FaultlineError('TARGET_UNREACHABLE', `stack.writer: ${w.server}'s admin socket ${w.socket} did not answer: ${res.stderr.trim()}`);
  const writer = writerOf(parseShowStat(res.stdout), w.proxy);
  if (!writer) throw new FaultlineError('TARGET_UNREACHABLE', `stack.writer.proxy: no server of ${w.proxy} on ${w.server} is up: there is no writer now`);
  return writer;
}

/** The writer's containers take the role db-primary (what `db-primary-kill` and `role=db-primary` select); pure. */
export function markWriter(list: ContainerSummary[], writer: string): ContainerSummary[] {
  return list.map((c) => (c.server === writer ? { ...c, role: 'db-primary' } : c));
}
