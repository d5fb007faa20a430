// Dead man's switches: what undoes a fault by itself when its holder (a faultline that was SIGKILLed, or whose
// machine went away) never reverts it, at the run's maximum duration (engine.ts deadMansSwitchMs: hold + the
// longest extension + a margin, so never while a holder still wants the fault). One mechanism per place the
// fault lives, each a real process that outlives faultline:
// - a change inside a running container (firewall table, TLS edge files): a sleeper process armed in that same
//   container by the exec that applies the change, undoing it from a copy already kept there; revert disarms it.
//   It needs nothing the container lacks (sh, sleep, cat, base64) and dies with the container, as the change does;
// - a container's own state (killed, stopped, paused): a helper container (helpers.ts) with the Docker socket
//   that starts or unpauses it through the Docker API (curl --unix-socket, or nc -U where the image has no curl);
// - network changes and stress-ng already run in helpers bounded by the same duration (network/resource faults).
// Everything here builds shell from validated values only (ids, container paths); pure unless noted.

import { FaultlineError } from '../errors.js';

/** A fault id as the engine makes them (name-base36-hex): the only shape that goes into shell text. */
const FAULT_ID = /^[a-z0-9-]{1,80}$/;
/** A container id or its 12-character prefix. */
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;
/** A path inside a container as stack descriptions accept it (spec.ts containerPath). */
const CONTAINER_PATH = /^\/[A-Za-z0-9._@+/-]*$/;

/** Where a container keeps its switch's pid (SAVE_DIR of the firewall and edge faults). */
const SWITCH_DIR = '/run/faultline';

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new FaultlineError('INTERNAL', `dead man's switch: ${JSON.stringify(value)} is not ${what}`);
  return value;
}

/** Whole seconds until a switch fires, from the context's maximum duration (at least 1). */
export function switchSeconds(maxDurationMs: number): number {
  return Math.max(1, Math.ceil(maxDurationMs / 1000));
}

/** A path inside a container, checked to be plain (no quotes, spaces or shell syntax). */
export function plainPath(path: string): string {
  return checked(path, CONTAINER_PATH, 'a plain absolute path');
}

/**
 * Shell that arms a sleeper in the container it runs in: after `seconds` it runs `undo`, unless revert disarmed
 * it first. Its pid goes to a file named by the fault; TERM (the disarm) also ends its sleep.
 */
export function armScript(faultId: string, seconds: number, undo: string): string {
  const id = checked(faultId, FAULT_ID, 'a fault id');
  const body = `trap 'kill $s 2>/dev/null; exit 0' TERM; sleep ${Math.max(1, Math.floor(seconds))} & s=$!; wait $s; ${undo}`;
  return [
    // A second arm for the same fault (a retried apply) replaces the first, so none is left that revert cannot disarm.
    disarmScript(id),
    `mkdir -p ${SWITCH_DIR}`,
    // stdio away from the exec, so the exec ends at once and the sleeper lives on in the container.
    `( ${body} ) </dev/null >/dev/null 2>&1 &`,
    `echo $! > ${SWITCH_DIR}/${id}.switch`,
  ].join('\n');
}

/**
 * Shell that disarms the switch of a fault (only a process of this switch: its pid is checked to be a shell of
 * the fault's exec, not a pid reused since), then removes its pid file. Always succeeds.
 */
export function disarmScript(faultId: string): string {
  const id = checked(faultId, FAULT_ID, 'a fault id');
  const file = `${SWITCH_DIR}/${id}.switch`;
  return `if [ -e ${file} ]; then p=$(cat ${file}); if [ -n "$p" ] && tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -q 'faultline-switch ${id}'; then kill $p 2>/dev/null; fi; rm -f ${file}; fi; true`;
}

/** argv for the exec that runs `script`; $0 names the switch, which is how disarmScript knows its process. */
export function switchArgv(faultId: string, script: string): string[] {
  return ['sh', '-c', script, `faultline-switch ${checked(faultId, FAULT_ID, 'a fault id')}`];
}

/**
 * Undo for a firewall fault: the table made exactly the saved copy in the server again (empty copy: no table).
 * Only while the copy is there: revert removes it, and without it "no table" must not be read into an empty file.
 */
export function firewallUndo(table: string, savedPath: string): string {
  const path = plainPath(savedPath);
  return `if [ -e '${path}' ]; then { printf 'table ${table}\\ndelete table ${table}\\n'; cat '${path}'; } | nft -f - && rm -f '${path}'; fi`;
}

/** A file of the TLS edge as its switch puts it back: inline (no secret) or from the copy kept in the edge. */
export type EdgeRestore = { path: string; mode: number; ifSha256?: string } & ({ content: Buffer } | { from: string });

/** Undo for a certificate fault: every saved file back in place (same inode: a mounted file stays mounted), then the reload signal. */
export function edgeUndo(files: EdgeRestore[], reloadSignal: 'SIGUSR2' | 'SIGHUP'): string {
  const puts = files.map((f) => {
    const path = plainPath(f.path);
    const write = `> '${path}' && chmod ${(f.mode & 0o7777).toString(8)} '${path}'`;
    // A copy that is gone (or empty) is never written over the file: that would truncate it.
    const put =
      'content' in f
        ? `printf %s '${f.content.toString('base64')}' | base64 -d ${write}`
        : `[ -s '${plainPath(f.from)}' ] && cat '${plainPath(f.from)}' ${write}`;
    if (f.ifSha256 === undefined) return put;
    return `if [ "$(sha256sum '${path}' | cut -c1-64)" = '${checked(f.ifSha256, /^[0-9a-f]{64}$/, 'a SHA-256')}' ]; then ${put}; fi`;
  });
  // The edge's main process (pid 1, or what docker-init forwards to) is what `docker kill -s` signals too.
  return [...puts, `kill -${reloadSignal.replace(/^SIG/, '')} 1`].join('; ');
}

/** A shell function `api METHOD PATH` that prints the HTTP status of a Docker API call over the mounted socket. */
export const DOCKER_API_SHELL = [
  'api() {',
  '  if command -v curl >/dev/null 2>&1; then curl -s -o /dev/null -w "%{http_code}" -X "$1" --max-time 60 --unix-socket /var/run/docker.sock "http://docker$2"',
  '  else printf "%s %s HTTP/1.0\\r\\nHost: docker\\r\\nContent-Length: 0\\r\\n\\r\\n" "$1" "$2" | timeout 60 nc -U /var/run/docker.sock | head -1 | cut -d" " -f2; fi',
  '}',
].join('\n');

/** Apply step of a Docker API switch: the socket answers, else the fault is refused before it takes effect. */
export const DOCKER_API_CHECK = `command -v curl >/dev/null 2>&1 || command -v nc >/dev/null 2>&1 || { echo 'the helper image has neither curl nor nc to reach the Docker API' >&2; exit 1; }
[ "$(api GET /_ping)" = 200 ] || { echo 'the Docker API does not answer on the mounted socket' >&2; exit 1; }`;

/** What a process fault's switch does to one container when it fires. */
export interface ContainerUndo {
  id: string;
  unpause: boolean;
  start: boolean;
  /** Containers in its network namespace, restarted after it (they lost their network with it). */
  restart: string[];
}

/** Undo for a process fault through the Docker API (each call's failure is ignored: the next one still runs). */
export function containersUndo(list: ContainerUndo[]): string {
  const calls: string[] = [];
  for (const c of list) {
    const id = checked(c.id, CONTAINER_ID, 'a container id');
    if (c.unpause) calls.push(`api POST /containers/${id}/unpause`);
    if (c.start) calls.push(`api POST /containers/${id}/start`);
    for (const d of c.restart) calls.push(`api POST '/containers/${checked(d, CONTAINER_ID, 'a container id')}/restart?t=2'`);
  }
  return calls.length ? calls.map((c) => `${c} >/dev/null`).join('; ') : ':';
}

/**
 * The Docker engine's socket on its host, for a helper to mount (impure: reads DOCKER_HOST). A daemon reached
 * over TCP has no socket to lend, so faults that need a Docker API switch are refused there.
 */
export function dockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new FaultlineError('INVALID_INPUT', `DOCKER_HOST is ${host}: a process fault's dead man's switch needs the engine's unix socket to mount`, {
    hint: 'run faultline on the Docker host (DOCKER_HOST unset or unix://…)',
  });
}
