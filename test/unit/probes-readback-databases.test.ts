// Described databases: the address of the stack's own container (or loopback), and the password from an
// environment variable or a JSON file's dot path, every failure one line naming the field.

import test from 'ava';
import { FaultlineError } from '../../src/errors.js';
import { atDotPath, databaseAddress, databaseLabel, databasePassword, databasesByRole, passwordFromJson } from '../../src/probes/databases.js';
import { containerSummary } from '../helpers/fake-docker.js';
import type { DatabaseSpec } from '../../src/stack/spec.js';

const container = containerSummary;

const db = (over: Partial<DatabaseSpec>): DatabaseSpec => ({ port: 3306, user: 'ops', role: 'primary', password_env: 'P', ...over }) as DatabaseSpec;

const containers = [
  container({
    name: 'db-primary',
    service: 'db-primary',
    server: 'db-primary',
    component: 'host',
    host: true,
    addresses: { x_edge: '10.0.1.5', x_internal: '10.0.0.31' },
  }),
  container({ name: 'db-primary-mariadb', service: 'db-primary-mariadb', server: 'db-primary', component: 'mariadb', networkMode: 'container:abc' }),
  container({ name: 'shop-db', service: 'mysql', server: 'mysql', host: true, addresses: { shop_default: '172.20.0.4', a_net: '172.21.0.4' } }),
  container({ name: 'probe', service: '', server: 'mysql', host: true, labels: { 'faultline.helper': 'vantage' }, addresses: { x_internal: '10.0.0.99' } }),
  container({ name: 'stopped', service: 'old-db', server: 'old-db', host: true, state: 'exited' }),
];

test('a server: its host container, on the internal network when it is on it', (t) => {
  t.is(databaseAddress('primary', db({ server: 'db-primary' }), containers, 'x_internal'), '10.0.0.31');
});

test('a service: its container, else its first address by network name; helpers never count', (t) => {
  t.is(databaseAddress('main', db({ service: 'mysql' }), containers, 'x_internal'), '172.21.0.4');
  t.is(databaseAddress('main', db({ server: 'mysql' }), containers, 'x_internal'), '172.21.0.4');
});

test("a service in another's network namespace is reached at its server's host", (t) => {
  t.is(databaseAddress('primary', db({ service: 'db-primary-mariadb' }), containers, 'x_internal'), '10.0.0.31');
});

test('loopback as given; an unknown or stopped server is one line naming the field', (t) => {
  t.is(databaseAddress('local', db({ host: '::1' }), containers, 'x_internal'), '::1');
  const unknown = t.throws(() => databaseAddress('main', db({ service: 'postgres' }), containers, 'x_internal'));
  t.is(unknown?.message, 'stack.databases.main.service: the stack has no service "postgres"');
  const stopped = t.throws(() => databaseAddress('old', db({ server: 'old-db' }), containers, 'x_internal'));
  t.is(stopped?.message, 'stack.databases.old.server: server "old-db" has no network address (its container is exited)');
});

test('databases by role in declaration order; labels', (t) => {
  const spec = { databases: { a: db({ role: 'replica', server: 's1' }), b: db({ server: 's2' }), c: db({ role: 'replica', host: '127.0.0.1', port: 3307 }) } };
  t.deepEqual(
    databasesByRole(spec, 'replica').map(([n]) => n),
    ['a', 'c'],
  );
  t.deepEqual(Object.values(spec.databases).map(databaseLabel), ['s1', 's2', '127.0.0.1:3307']);
});

test('dot paths', (t) => {
  t.is(atDotPath({ db: { admin: 'x' } }, 'db.admin'), 'x');
  t.is(atDotPath({ db: {} }, 'db.admin'), undefined);
  t.is(atDotPath({ list: ['a', 'b'] }, 'list.1'), 'b');
  t.deepEqual(atDotPath([1], undefined), [1]);
  t.is(atDotPath({}, 'constructor'), undefined, 'own fields only');
});

const invalid = (t: { true(v: boolean): void }, err: unknown) => t.true(err instanceof FaultlineError && err.code === 'INVALID_INPUT');

test('password from the environment; unset or empty is one line naming the field', async (t) => {
  t.is(await databasePassword('main', { password_env: 'SHOP_PW' }, { SHOP_PW: 's3cret' }), 's3cret');
  for (const env of [{}, { SHOP_PW: '' }]) {
    const err = await t.throwsAsync(databasePassword('main', { password_env: 'SHOP_PW' }, env));
    t.is(err?.message, 'stack.databases.main.password_env: environment variable SHOP_PW is not set');
    invalid(t, err);
  }
});

test('password from a JSON file by dot path; each failure names its field, never the password', async (t) => {
  const spec = { password_file: '/s/secrets.json', password_key: 'db.admin' };
  const files: Record<string, string> = { '/s/secrets.json': '{"db":{"admin":"pw1","app":""}}' };
  const read = (p: string) => (files[p] === undefined ? Promise.reject(Object.assign(new Error('nope'), { code: 'ENOENT' })) : Promise.resolve(files[p]!));
  t.is(await databasePassword('primary', spec, {}, read), 'pw1');
  t.is(await databasePassword('primary', { ...spec, password_env: 'PW' }, { PW: 'env-wins' }, read), 'env-wins');
  const missing = await t.throwsAsync(databasePassword('primary', { ...spec, password_file: '/s/none.json' }, {}, read));
  t.is(missing?.message, 'stack.databases.primary.password_file: cannot read /s/none.json: ENOENT');
  invalid(t, missing);
  const noKey = t.throws(() => passwordFromJson('primary', { ...spec, password_key: 'db.root' }, files['/s/secrets.json']!));
  t.is(noKey?.message, 'stack.databases.primary.password_key: /s/secrets.json has no "db.root"');
  const empty = t.throws(() => passwordFromJson('primary', { ...spec, password_key: 'db.app' }, files['/s/secrets.json']!));
  t.is(empty?.message, 'stack.databases.primary.password_key: "db.app" in /s/secrets.json is not a non-empty string');
  const notJson = t.throws(() => passwordFromJson('primary', spec, 'pw1\n'));
  t.regex(notJson!.message, /^stack\.databases\.primary\.password_file: \/s\/secrets\.json is not JSON/);
  t.false(notJson!.message.includes('pw1'));
  const unkeyed = t.throws(() => passwordFromJson('primary', { password_file: '/s/secrets.json' }, '{}'));
  t.regex(unkeyed!.message, /^stack\.databases\.primary\.password_key: needed with password_file/);
});
