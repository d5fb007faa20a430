// The stack's database passwords as a user would check them: random per stack and per account, kept in a
// 0600 file of the 0700 state folder, reused while the stack lives, never in stack.json or the compose
// environment of containers that do not use them.

import test from 'ava';
import { chmod, mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_ACCOUNTS, ensureDbSecrets, operatorLogin, parseDbSecrets, secretsPath } from '../../src/stack/secrets.js';
import { composeEnv, composeFile, pickStackOptions, resolveStackOptions } from '../../src/stack/config.js';

async function stateDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-stack-secrets-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('each stack gets its own random password per account, in a 0600 file, kept across calls', async (t) => {
  const a = await stateDir(t);
  const b = await stateDir(t);
  const first = await ensureDbSecrets(a);
  t.deepEqual(Object.keys(first).sort(), [...DB_ACCOUNTS].sort());
  const values = Object.values(first);
  t.is(new Set(values).size, values.length, 'no two accounts share a password');
  for (const v of values) {
    t.regex(v, /^[A-Za-z0-9_-]{32}$/);
    t.not(v, 'faultline');
  }
  t.is((await stat(secretsPath(a))).mode & 0o777, 0o600);
  t.deepEqual(await ensureDbSecrets(a), first, 'the same stack keeps its passwords (its DB volume has them)');
  const other = await ensureDbSecrets(b);
  for (const acc of DB_ACCOUNTS) t.not(other[acc], first[acc], `another stack, another ${acc} password`);
});

test('a secrets file made readable by others is put back to 0600; a broken one is replaced', async (t) => {
  const dir = await stateDir(t);
  const made = await ensureDbSecrets(dir);
  await writeFile(secretsPath(dir), JSON.stringify({ db: made }), { mode: 0o644 });
  await chmod(secretsPath(dir), 0o644);
  t.deepEqual(await ensureDbSecrets(dir), made);
  t.is((await stat(secretsPath(dir))).mode & 0o777, 0o600);
  await writeFile(secretsPath(dir), '{"db":{"app":"x"}}');
  t.is(parseDbSecrets(await readFile(secretsPath(dir), 'utf8')), undefined);
  const fresh = await ensureDbSecrets(dir);
  t.not(fresh.app, 'x');
});

test("the operator logs in as faultline with the stack's admin password; without a secrets file only an explicit FAULTLINE_DB_PASSWORD", async (t) => {
  const dir = await stateDir(t);
  const error = await t.throwsAsync(operatorLogin(dir, {}));
  t.regex(error!.message, /secrets\.json is missing/);
  t.deepEqual(await operatorLogin(dir, { FAULTLINE_DB_PASSWORD: 'theirs', FAULTLINE_DB_USER: 'ops' }), { user: 'ops', password: 'theirs' });
  const s = await ensureDbSecrets(dir);
  t.deepEqual(await operatorLogin(dir, { FAULTLINE_DB_PASSWORD: 'theirs' }), { user: 'faultline', password: s.admin });
});

test('stack options carry no password: an older stack.json dbPassword is dropped, and compose gets one variable per account', async (t) => {
  const options = resolveStackOptions({ project: 'unit' }, {});
  t.false('dbPassword' in options);
  t.notRegex(JSON.stringify(options), /password/i);
  const old = { ...options, dbPassword: 'faultline' };
  t.false('dbPassword' in pickStackOptions(old));
  t.deepEqual(pickStackOptions(old), options);

  const dir = await stateDir(t);
  await mkdir(dir, { recursive: true });
  const s = await ensureDbSecrets(dir);
  const env = composeEnv(options, {}, '/tls', s);
  t.is(env.FAULTLINE_DB_APP_PASSWORD, s.app);
  t.is(env.FAULTLINE_DB_ADMIN_PASSWORD, s.admin);
  t.false('FAULTLINE_DB_PASSWORD' in env);
});

test('compose gives each container only the passwords it uses, and none a default', async (t) => {
  const yml = await readFile(composeFile, 'utf8');
  t.notRegex(yml, /DB_PASSWORD\b/, 'no shared password variable is left');
  t.notRegex(yml, /PASSWORD:-/, 'no default password');
  // The shared environment of every server (LB, web, monitor hosts) holds no password.
  const xEnv = /x-env: &env\n((?: {2}.*\n)+)/.exec(yml)?.[1] ?? '';
  t.notRegex(xEnv, /PASSWORD/);
  t.regex(yml, /DATA_SOURCE_NAME=\\"exporter:\$\$\{DB_EXPORTER_PASSWORD\}/);
});
