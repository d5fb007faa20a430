// faultline's own vocabulary for containers: labels, the container state the Docker client returns, exec and run
// shapes, and the pure decoders of what the engine sends back. No dockerode here: its shapes stay in docker-client.ts.

export const LABEL = {
  stack: 'faultline.stack',
  role: 'faultline.role',
  server: 'faultline.server',
  component: 'faultline.component',
  fault: 'faultline.fault',
  network: 'faultline.network',
  /** On every container faultline itself starts (fault helpers, probe vantage points): what it is for. */
  helper: 'faultline.helper',
  /** "<pid> <hostname>" of the faultline that started a helper: `revert` removes those whose holder is gone. */
  holder: 'faultline.holder',
} as const;

export interface ContainerSummary {
  id: string;
  name: string;
  service: string;
  stack: string | undefined;
  role: string | undefined;
  server: string | undefined;
  component: string | undefined;
  state: string;
  /** 'healthy' | 'unhealthy' | 'starting' | 'none' */
  health: string;
  labels: Record<string, string>;
  /** network name → IPv4 address */
  addresses: Record<string, string>;
  /** Published ports as "ip:hostPort->containerPort/proto". */
  ports: string[];
  /** Docker's network mode: "container:<id>" for one that joined another's namespace. */
  networkMode: string;
  /** The server's host: the container that owns its network identity (firewall, address). */
  host: boolean;
}

/** The compose project label every compose container carries: how a stack faultline did not start is found. */
export const COMPOSE_PROJECT = 'com.docker.compose.project';

/**
 * One container as faultline reads it (from Docker's inspect): what faults, targets and the stack need, in
 * faultline's own words, so nothing outside this module depends on dockerode's shapes.
 */
export interface ContainerState {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  /** The image as the container was created from it (tag or id). */
  image: string;
  labels: Record<string, string>;
  /** Docker's state word: created, running, paused, restarting, removing, exited or dead. */
  status: string;
  /** True also while paused, as Docker reports it. */
  running: boolean;
  paused: boolean;
  /** 'healthy' | 'unhealthy' | 'starting' | 'none' (no health check) */
  health: string;
  /** What the last health check printed when it failed (a waiting Galera node says why it waits); absent otherwise. */
  healthOutput?: string;
  startedAt: string;
  /** The exit code of its last run (137 after SIGKILL); 0 while it has never exited. */
  exitCode: number;
  /** "container:<id>" for a component in its server's network namespace; '' when Docker reports none. */
  networkMode: string;
  /** The container's first process on the host; 0 when it is not running. */
  pid: number;
  /** Its health check's command, as an exec runs it (CMD-SHELL through sh -c); absent without one. */
  healthTest?: string[];
}

/** Maps Docker's inspect answer to a ContainerState (pure). */

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** What the container is for (e.g. "fault", "vantage"); becomes the faultline.helper label. */
  helper?: string;
  image: string;
  cmd: string[];
  entrypoint?: string[];
  labels: Record<string, string>;
  /** Join a network by name, or share a container's network namespace ("container:<id>"). */
  networkMode: string;
  capAdd?: string[];
  /** Host paths to mount ("host:container[:ro]"); a process fault's dead man's switch mounts the Docker socket. */
  binds?: string[];
  name?: string;
  env?: string[];
  /** A container the helper runs next to: on a swarm, the engine of that task's node is the one that starts it. */
  near?: string;
}

/** The content of the first file in a tar archive (what the archive API returns for one path). Pure. */
export function firstTarEntry(tar: Buffer): Buffer | undefined {
  for (let i = 0; i + 512 <= tar.length;) {
    const header = tar.subarray(i, i + 512);
    if (header.every((b) => b === 0)) return undefined;
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 48);
    const body = i + 512;
    if (type === '0' || type === '\0') return tar.subarray(body, body + size);
    i = body + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** Docker multiplexes stdout/stderr in 8-byte framed chunks when there is no TTY; this strips the frames. */
export function demuxBuffer(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf ?? '');
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type === undefined || type > 2 || i + 8 + size > buf.length) return buf.toString('utf8');
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return i === buf.length ? Buffer.concat(parts).toString('utf8') : buf.toString('utf8');
}

/** Docker's error for a container, image, network, volume or node that does not exist. */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number } | undefined)?.statusCode === 404;
}
