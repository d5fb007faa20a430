// The stack's secrets as a user checks them on a running stack: private state files with no password in
// stack.json, one least-privilege account per use, an admin admitted only from the operator's address, and
// a CA that can sign only the stack's names.

import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import mysql from 'mysql2/promise';
import { itest as test, sharedStack } from '../helpers/stack.js';
import { readDbSecrets, secretsPath, type DbSecrets } from '../../src/stack/secrets.js';
import { permittedNamesOf } from '../../src/stack/tls.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let secrets: DbSecrets;

test.before(async () => {
  stack = await sharedStack();
  const s = await readDbSecrets(stack.stateDir);
  if (!s) throw new Error(`no ${secretsPath(stack.stateDir)}`);
  secrets = s;
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

test('the state folder is 0700; stack.json and secrets.json are 0600, and stack.json holds no password', async (t) => {
  t.is(await mode(stack.stateDir), 0o700);
  t.is(await mode(join(stack.stateDir, 'stack.json')), 0o600);
  t.is(await mode(secretsPath(stack.stateDir)), 0o600);
  t.is(await mode(join(stack.stateDir, 'tls', 'ca-key.pem')), 0o600);
  const record = await readFile(join(stack.stateDir, 'stack.json'), 'utf8');
  t.notRegex(record, /password/i);
  for (const [account, password] of Object.entries(secrets)) t.false(record.includes(password), `${account}'s password is not in stack.json`);
  t.is(new Set(Object.values(secrets)).size, 4, 'four accounts, four passwords');
});

/** Runs the mariadb client inside a stack container (its server's address), as that server would log in. */
async function loginFrom(service: string, user: string, password: string, sql = 'SELECT 1'): Promise<{ code: number; out: string }> {
  const c = (await stack.containers()).find((x) => x.service === service);
  if (!c) throw new Error(`no ${service}`);
  const res = await stack.docker.exec(c.id, [
    'mariadb',
    '-h',
    stack.addresses['db-primary']!,
    '-u',
    user,
    `-p${password}`,
    '--connect-timeout=3',
    '-N',
    '-e',
    sql,
  ]);
  return { code: res.exitCode, out: `${res.stdout}${res.stderr}` };
}

test('the admin is refused from any address but the operator: from the replica (which the firewall admits) it is denied, the app account is not', async (t) => {
  const admin = await loginFrom('db-replica-mariadb', 'faultline', secrets.admin);
  t.not(admin.code, 0);
  t.regex(admin.out, /Access denied for user 'faultline'@'[\d.]+\.32'/);
  // Control: the same place reaches the primary, so the refusal above is the account's host, not the network.
  const app = await loginFrom('db-replica-mariadb', 'app', secrets.app);
  t.is(app.code, 0, app.out);
  // From the operator (this machine, the gateway) the admin logs in.
  const conn = await mysql.createConnection({ host: stack.addresses['db-primary'], ...(await stack.dbOperator()), connectTimeout: 3000 });
  t.teardown(() => conn.end());
  const [who] = (await conn.query('SELECT CURRENT_USER() AS u')) as unknown as [Array<{ u: string }>];
  t.is(who[0]!.u, `faultline@${stack.options.netPrefix}.1`);
});

test("the old shared password 'faultline' opens no account, and the old admin from anywhere is gone", async (t) => {
  for (const user of ['faultline', 'app', 'repl']) {
    const err = await t.throwsAsync(mysql.createConnection({ host: stack.addresses['db-primary'], user, password: 'faultline', connectTimeout: 3000 }));
    t.regex(String(err?.message), /Access denied/, user);
  }
  const conn = await mysql.createConnection({ host: stack.addresses['db-primary'], ...(await stack.dbOperator()), connectTimeout: 3000 });
  t.teardown(() => conn.end());
  const [users] = (await conn.query(
    "SELECT CONCAT(user, '@', host) AS u FROM mysql.user WHERE user NOT IN ('root', 'mysql', 'mariadb.sys') ORDER BY u",
  )) as unknown as [Array<{ u: string }>];
  t.deepEqual(
    users.map((r) => r.u),
    ['app@%', 'exporter@127.0.0.1', `faultline@${stack.options.netPrefix}.1`, 'repl@%'],
  );
});

test('the app account reads and inserts items and can do nothing else: no DROP, DELETE, UPDATE, CREATE or GRANT', async (t) => {
  const app = await mysql.createConnection({
    host: stack.addresses['db-primary'],
    user: 'app',
    password: secrets.app,
    database: 'faultline',
    connectTimeout: 3000,
  });
  t.teardown(() => app.end());
  const key = `secrets-test-${Date.now()}`;
  await app.query('INSERT INTO items (item_key, value) VALUES (?, ?)', [key, 'x']);
  const [rows] = (await app.query('SELECT value FROM items WHERE item_key = ?', [key])) as unknown as [Array<{ value: string }>];
  t.is(rows[0]?.value, 'x');
  for (const sql of [
    'DROP TABLE items',
    'DELETE FROM items',
    "UPDATE items SET value = 'y'",
    'CREATE TABLE evil (id INT)',
    'ALTER TABLE items ADD COLUMN evil INT',
    "GRANT SELECT ON faultline.items TO 'repl'@'%'",
    'SELECT user FROM mysql.user',
  ]) {
    const err = await t.throwsAsync(app.query(sql), undefined, sql);
    t.regex(String((err as { code?: string }).code), /ACCESS_DENIED|TABLEACCESS_DENIED|DBACCESS_DENIED|COLUMNACCESS_DENIED/, sql);
  }
  t.is(
    ((await app.query('SELECT COUNT(*) AS n FROM items WHERE item_key = ?', [key])) as unknown as [Array<{ n: number }>])[0][0]!.n,
    1,
    'the row is still there',
  );
});

test('replication and exporter accounts hold only their documented grants', async (t) => {
  const conn = await mysql.createConnection({ host: stack.addresses['db-primary'], ...(await stack.dbOperator()), connectTimeout: 3000 });
  t.teardown(() => conn.end());
  const grants = async (who: string) =>
    ((await conn.query(`SHOW GRANTS FOR ${who}`)) as unknown as [Array<Record<string, string>>])[0].map((r) =>
      String(Object.values(r)[0]).replace(/ IDENTIFIED BY PASSWORD '[^']+'/, ''),
    );
  // REPLICATION CLIENT is BINLOG MONITOR in MariaDB 10.11.
  t.deepEqual(await grants("'repl'@'%'"), ['GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`%`']);
  t.deepEqual(await grants("'exporter'@'127.0.0.1'"), [
    'GRANT SELECT, PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `exporter`@`127.0.0.1` WITH MAX_USER_CONNECTIONS 3',
  ]);
  t.deepEqual(await grants("'app'@'%'"), ['GRANT USAGE ON *.* TO `app`@`%`', 'GRANT SELECT, INSERT ON `faultline`.`items` TO `app`@`%`']);
});

test("the LB's certificate chains to a CA that lives at most two years and carries name constraints", async (t) => {
  const ca = new X509Certificate((await stack.ca())!);
  const served = await new Promise<X509Certificate>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: stack.options.httpsPort, servername: 'localhost', ca: ca.toString() }, () => {
      resolve(s.getPeerX509Certificate()!);
      s.end();
    });
    s.on('error', reject);
  });
  t.true(served.checkIssued(ca));
  t.true(Date.parse(ca.validTo) - Date.parse(ca.validFrom) <= 2 * 365 * 86_400_000);
  const permitted = permittedNamesOf(ca.toString());
  t.truthy(permitted);
  t.true(permitted!.dns.includes(stack.options.domain) && permitted!.dns.includes('localhost'));
  t.deepEqual(permitted!.ips, ['127.0.0.1', '::1']);
});
