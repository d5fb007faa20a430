// The stack's database credentials: one random password per account, made once per stack and kept in the
// 0700 state folder (secrets.json, 0600), never in stack.json, the options or a report.

import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../errors.js';

/** The accounts the DB entrypoint creates; each gets its own password. */
export const DB_ACCOUNTS = ['app', 'repl', 'exporter', 'admin'] as const;
export type DbAccount = (typeof DB_ACCOUNTS)[number];
export type DbSecrets = Record<DbAccount, string>;

/** The operator's MariaDB user, admitted only from the internal network's gateway (<netPrefix>.1). */
export const OPERATOR_USER = 'faultline';

/** Passwords are URL-safe base64: nothing to quote in SQL, a shell or the exporter's DSN. */
const PASSWORD = /^[A-Za-z0-9_-]{16,128}$/;

export function secretsPath(stateDir: string): string {
  return join(stateDir, 'secrets.json');
}

/** A new password per account (pure apart from randomness): 24 random bytes each. */
export function newDbSecrets(random: (n: number) => Buffer = randomBytes): DbSecrets {
  return Object.fromEntries(DB_ACCOUNTS.map((a) => [a, random(24).toString('base64url')])) as DbSecrets;
}

/** Parses secrets.json; undefined when it is not a complete, well-formed set. Pure. */
export function parseDbSecrets(text: string): DbSecrets | undefined {
  try {
    const db = (JSON.parse(text) as { db?: Record<string, unknown> }).db;
    if (!db || !DB_ACCOUNTS.every((a) => typeof db[a] === 'string' && PASSWORD.test(db[a]))) return undefined;
    return Object.fromEntries(DB_ACCOUNTS.map((a) => [a, db[a]])) as DbSecrets;
  } catch {
    return undefined;
  }
}

export async function readDbSecrets(stateDir: string): Promise<DbSecrets | undefined> {
  const text = await readFile(secretsPath(stateDir), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseDbSecrets(text);
}

/**
 * The stack's passwords: those already in the state folder, or new ones written there (0600, through a
 * temporary file so a crash never leaves half a file). The caller makes the folder 0700 first.
 */
export async function ensureDbSecrets(stateDir: string): Promise<DbSecrets> {
  const path = secretsPath(stateDir);
  const existing = await readDbSecrets(stateDir);
  if (existing) {
    await chmod(path, 0o600);
    return existing;
  }
  const secrets = newDbSecrets();
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify({ db: secrets }, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return secrets;
}

export async function removeDbSecrets(stateDir: string): Promise<void> {
  await rm(secretsPath(stateDir), { force: true });
}

export interface DbLogin {
  user: string;
  password: string;
}

/**
 * The operator's login: the stack's admin password from the state folder; for a stack faultline did not
 * start (no secrets.json here), FAULTLINE_DB_USER / FAULTLINE_DB_PASSWORD.
 */
export async function operatorLogin(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<DbLogin> {
  const secrets = await readDbSecrets(stateDir);
  if (secrets) return { user: OPERATOR_USER, password: secrets.admin };
  if (env.FAULTLINE_DB_PASSWORD) return { user: env.FAULTLINE_DB_USER ?? OPERATOR_USER, password: env.FAULTLINE_DB_PASSWORD };
  throw new FaultlineError('INVALID_INPUT', `no database credentials for this stack: ${secretsPath(stateDir)} is missing`, {
    hint: 'start the stack with `faultline stack up`, or set FAULTLINE_DB_USER and FAULTLINE_DB_PASSWORD for a stack faultline did not start',
  });
}
