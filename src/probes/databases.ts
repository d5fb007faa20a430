// A described database (stack.databases.<name>) as a connection target: the address of one of the stack's own
// containers (or a loopback address), and the login from an environment variable or a JSON file.

import { readFile } from 'node:fs/promises';
import { FaultlineError } from '../errors.js';
import { isHelper } from '../stack/servers.js';
import type { ContainerSummary } from '../stack/docker-types.js';
import type { DatabaseSpec, StackSpec } from '../stack/spec.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { DbTarget } from './mysql.js';
import { reach } from '../swarm/vantage.js';

export type DatabaseRole = DatabaseSpec['role'];

/** The value at a dot path ("db.admin", "data.items"); the value itself for an empty path. Pure. */
export function atDotPath(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let at: unknown = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The declared databases of one role, in declaration order (the first is the one a probe uses). Pure. */
export function databasesByRole(spec: Pick<StackSpec, 'databases'>, role: DatabaseRole): Array<[string, DatabaseSpec]> {
  return Object.entries(spec.databases).filter(([, d]) => d.role === role);
}

/** How a database is named in facts and findings: its server, its service, or its loopback address. Pure. */
export function databaseLabel(db: DatabaseSpec): string {
  return db.server ?? db.service ?? `${db.host}:${db.port}`;
}

/** A container's address: on the stack's internal network when it has one there, else its first (by network name). */
function addressOf(c: ContainerSummary, internalNetwork: string): string | undefined {
  const internal = c.addresses[internalNetwork];
  if (internal) return internal;
  const first = Object.keys(c.addresses).sort()[0];
  return first === undefined ? undefined : c.addresses[first];
}

/**
 * Where a database answers (pure): a loopback host as given, or the address of the stack's own container for its
 * server (the server's host container) or service. Nothing else is ever dialled: the candidates are the stack's
 * containers only. A server's host container keeps its address while a database in it is down, so only a stopped
 * server has none (UNKNOWN_TARGET, naming its state).
 */
export function databaseAddress(name: string, db: DatabaseSpec, containers: ContainerSummary[], internalNetwork: string): string {
  if (db.host) return db.host;
  const own = containers.filter((c) => !isHelper(c));
  const running = (list: ContainerSummary[]) => [...list].sort((a, b) => Number(b.state === 'running') - Number(a.state === 'running'));
  const field = `stack.databases.${name}.${db.server ? 'server' : 'service'}`;
  let candidates: ContainerSummary[];
  if (db.server) {
    candidates = running(own.filter((c) => c.server === db.server && c.host));
  } else {
    // A service in another's network namespace (network_mode: service:x) has no address of its own: its server's host has.
    candidates = running(own.filter((c) => c.service === db.service)).flatMap((c) =>
      Object.keys(c.addresses).length || !c.server ? [c] : own.filter((h) => h.server === c.server && h.host),
    );
  }
  for (const c of candidates) {
    const address = addressOf(c, internalNetwork);
    if (address) return address;
  }
  const what = db.server ? `server "${db.server}"` : `service "${db.service}"`;
  throw new FaultlineError(
    'UNKNOWN_TARGET',
    candidates.length ? `${field}: ${what} has no network address (its container is ${candidates[0]!.state})` : `${field}: the stack has no ${what}`,
  );
}

/** The password from a JSON file's text and the dot path (pure); errors name the field. */
export function passwordFromJson(name: string, db: Pick<DatabaseSpec, 'password_file' | 'password_key'>, text: string): string {
  const file = db.password_file ?? '';
  if (!db.password_key)
    throw new FaultlineError('INVALID_INPUT', `stack.databases.${name}.password_key: needed with password_file (the dot path to the password in ${file})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: V8 quotes the text it choked on, which may be the password itself.
    throw new FaultlineError('INVALID_INPUT', `stack.databases.${name}.password_file: ${file} is not JSON`);
  }
  const value = atDotPath(parsed, db.password_key);
  if (value === undefined) throw new FaultlineError('INVALID_INPUT', `stack.databases.${name}.password_key: ${file} has no "${db.password_key}"`);
  if ((typeof value !== 'string' && typeof value !== 'number') || value === '')
    throw new FaultlineError('INVALID_INPUT', `stack.databases.${name}.password_key: "${db.password_key}" in ${file} is not a non-empty string`);
  return String(value);
}

/**
 * The password: from the environment variable when it is set, else from the JSON file. Every failure is one
 * INVALID_INPUT line naming the field, never the password.
 */
export async function databasePassword(
  name: string,
  db: Pick<DatabaseSpec, 'password_env' | 'password_file' | 'password_key'>,
  env: Record<string, string | undefined> = process.env,
  read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<string> {
  const fromEnv = db.password_env ? env[db.password_env] : undefined;
  if (fromEnv) return fromEnv;
  if (!db.password_file) {
    throw new FaultlineError('INVALID_INPUT', `stack.databases.${name}.password_env: environment variable ${db.password_env ?? '(none)'} is not set`);
  }
  let text: string;
  try {
    text = await read(db.password_file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new FaultlineError('INVALID_INPUT', `stack.databases.${name}.password_file: cannot read ${db.password_file}: ${why}`, { cause: err });
  }
  return passwordFromJson(name, db, text);
}

/** The declared database `name` of the stack as a target for mysql.ts. */
export async function resolveDatabase(stack: AttachedStack, name: string, env: Record<string, string | undefined> = process.env): Promise<DbTarget> {
  const db = stack.spec.databases[name];
  if (!db) {
    const known = Object.keys(stack.spec.databases).join(', ') || 'none declared';
    throw new FaultlineError('UNKNOWN_TARGET', `stack.databases: no database "${name}" (${known})`);
  }
  const address = db.host ?? databaseAddress(name, db, await stack.containers(), stack.internalNetwork);
  const password = await databasePassword(name, db, env);
  const ca = db.ca ? await readCa(name, db.ca) : undefined;
  // A swarm task's address is on an overlay, which only faultline's vantage there reaches (127.0.0.1 relays).
  const { host, port } = await reach(stack, address, db.port);
  return { host, port, user: db.user, password, ...(db.database ? { database: db.database } : {}), ...(ca ? { ca } : {}) };
}

async function readCa(name: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `stack.databases.${name}.ca: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** The first declared database of a role, resolved; UNKNOWN_TARGET naming the role when none is declared. */
export async function resolveRole(stack: AttachedStack, role: DatabaseRole): Promise<{ name: string; label: string; target: DbTarget }> {
  const found = databasesByRole(stack.spec, role)[0];
  if (!found) throw new FaultlineError('UNKNOWN_TARGET', `stack.databases: no ${role} database declared (${stack.spec.file})`);
  return { name: found[0], label: databaseLabel(found[1]), target: await resolveDatabase(stack, found[0]) };
}
