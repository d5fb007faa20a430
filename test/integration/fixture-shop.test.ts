// The shop fixture as the tests that use it rely on it: orders go through the gate with the fixture's own CA, the
// store's firewall admits the api and the Docker host only, no container carries a faultline.* label, its
// description is valid for the options it was brought up with, and a second call reuses the running stack.
// Its own project, port and subnets, so it runs beside the reference stack, a default `shop` and the other shop tests.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { itest as test } from '../helpers/stack.js';
import { SHOP_HOSTNAME, SHOP_TLS12_SUITES, shopStack, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { COMPOSE_PROJECT, DockerClient } from '../../src/stack/docker-client.js';
import { loadStackSpec } from '../../src/stack/spec.js';

const execFileP = promisify(execFile);
const OPTIONS: ShopOptions = { project: 'shopsmoke', httpsPort: 9444, frontPrefix: '10.219.31', backPrefix: '10.219.32' };
let shop: ShopStack | undefined;

test.before(async (t) => {
  // A machine that has never built the fixture's images builds them first (a few minutes).
  t.timeout(20 * 60_000);
  shop = await shopStack({ ...OPTIONS, log: (line) => console.log(line) });
});

test.after.always(async () => {
  await shop?.down();
});

function up(): ShopStack {
  if (!shop) throw new Error('the shop fixture did not come up');
  return shop;
}

const ref = (what: string) => `smoke-${what}-${randomBytes(4).toString('hex')}`;

async function placeOrder(s: ShopStack, r: string): Promise<number> {
  const res = await s.request('/orders', { method: 'POST', body: JSON.stringify({ ref: r, amount: 3 }) });
  if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${res.body}`);
  return (JSON.parse(res.body) as { order: { order_id: number } }).order.order_id;
}

test.serial('an order placed through the gate is found by id, by ref and by prefix (fixture CA, SNI shop.test)', async (t) => {
  const s = up();
  const r = ref('order');
  const id = await placeOrder(s, r);
  t.true(Number.isInteger(id) && id > 0);
  const byId = await s.request(`/orders/${id}`);
  t.is(byId.status, 200);
  t.like(JSON.parse(byId.body), { order: { order_id: id, ref: r, amount: 3 } });
  const byRef = await s.request(`/orders/by-ref/${encodeURIComponent(r)}`);
  t.is(byRef.status, 200);
  t.like(JSON.parse(byRef.body), { order: { order_id: id, ref: r } });
  const list = await s.request(`/orders?prefix=${encodeURIComponent(r)}`);
  t.deepEqual(JSON.parse(list.body), { orders: [{ order_id: id, ref: r }] });
  t.is((await s.request('/orders/999999999')).status, 404);
  t.is((await s.request(`/orders/by-ref/${ref('missing')}`)).status, 404);
  t.is((await s.request('/orders', { method: 'POST', body: JSON.stringify({ ref: r, amount: 1 }) })).status, 409, 'a ref is stored once');
  t.deepEqual(await s.unsaved(), [], 'not lossy unless asked');
});

test.serial('the store admits 3306 from the Docker host (shop_reader, read-only), not from a stranger on back', async (t) => {
  const s = up();
  const r = ref('sql');
  await placeOrder(s, r);
  const db = await mysql.createConnection({
    host: s.addresses.store,
    user: 'shop_reader',
    password: s.env.SHOP_READER_PASSWORD,
    database: 'shop',
    connectTimeout: 5000,
  });
  try {
    const [rows] = await db.query('SELECT ref FROM orders WHERE ref LIKE ?', [`${r}%`]);
    t.deepEqual(rows, [{ ref: r }]);
    await t.throwsAsync(db.query('INSERT INTO orders (ref, amount) VALUES (?, 1)', [ref('reader')]), { message: /denied/i });
  } finally {
    await db.end();
  }
  // A throwaway container on back that is not the api: the gate (443 from anyone) answers it, which shows that
  // the container and the network work; the store and the api drop its connects (timeout exits 124).
  const probe = (host: string, port: number, name: string) => `timeout 5 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; echo "${name}=$?"`;
  // The three at once (each line is written whole), so the two expected timeouts cost 5 s, not 10.
  const script = `${[probe(s.addresses.gate, 443, 'gate'), probe(s.addresses.store, 3306, 'store'), probe(s.addresses.api, 8080, 'api')].map((p) => `{ ${p}; } &`).join(' ')} wait`;
  const { stdout } = await execFileP('docker', ['run', '--rm', '--network', s.networks.back, '--entrypoint', 'bash', s.images.store, '-c', script], {
    timeout: 90_000,
  });
  t.regex(stdout, /^gate=0$/m);
  t.regex(stdout, /^store=124$/m);
  t.regex(stdout, /^api=124$/m);
});

/** A handshake with the gate, verified with the fixture CA: the negotiated protocol and suite, or the error. */
async function handshake(s: ShopStack, o: { ciphers?: string; minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion }): Promise<string> {
  const ca = await readFile(s.caPath);
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: s.httpsPort, servername: SHOP_HOSTNAME, ca, ...o, timeout: 5000 });
    const done = (what: string) => {
      sock.destroy();
      resolve(what);
    };
    sock.on('secureConnect', () => done(`${sock.getProtocol()} ${sock.getCipher().name}`));
    sock.on('timeout', () => done('timeout'));
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

test.serial('the gate negotiates TLS 1.3 by default, accepts each suite of its weak TLS 1.2 policy, and refuses TLS 1.1', async (t) => {
  const s = up();
  t.regex(await handshake(s, {}), /^TLSv1\.3 TLS_AES_/);
  for (const suite of SHOP_TLS12_SUITES) t.is(await handshake(s, { ciphers: `${suite}:@SECLEVEL=0`, maxVersion: 'TLSv1.2' }), `TLSv1.2 ${suite}`);
  t.not(await handshake(s, { ciphers: 'AES128-GCM-SHA256:@SECLEVEL=0', maxVersion: 'TLSv1.2' }), 'TLSv1.2 AES128-GCM-SHA256', 'only the listed suites');
  t.notRegex(await handshake(s, { ciphers: 'ALL:@SECLEVEL=0', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }), /^TLSv1\.1/);
});

test.serial('the Docker host is no peer of the api: its 8080 drops connects from the gateway', async (t) => {
  const s = up();
  const sock = net.connect({ host: s.addresses.api, port: 8080, timeout: 3000 });
  const outcome = await new Promise<string>((resolve) => {
    sock.on('connect', () => resolve('open'));
    sock.on('timeout', () => resolve('timeout'));
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  sock.destroy();
  t.is(outcome, 'timeout');
});

test.serial('no container carries a faultline.* label; the description maps them and is valid for these options', async (t) => {
  const s = up();
  const containers = await new DockerClient().listContainers({ [COMPOSE_PROJECT]: s.project });
  t.deepEqual(containers.map((c) => c.service).sort(), ['api', 'gate', 'store']);
  for (const c of containers)
    t.deepEqual(
      Object.keys(c.labels).filter((k) => k.startsWith('faultline.')),
      [],
      c.name,
    );
  const spec = await loadStackSpec(s.specFile, s.env);
  t.is(spec.project, 'shopsmoke');
  t.is(spec.endpoint.url, 'https://127.0.0.1:9444');
  t.is(spec.endpoint.ca, s.caPath);
  t.deepEqual(spec.exposure.networks, { edge: 'shopsmoke_front', internal: 'shopsmoke_back' });
  t.is(spec.workload?.requests.place?.body, '{"ref":"${key}","amount":1}', 'template variables survive the environment substitution');
  t.is(spec.readback[1]?.http?.list, '/orders?prefix=${prefix}');
  t.like(spec.services, { store: { role: 'db-primary' }, api: { role: 'web' }, gate: { role: 'lb' } });
});

test.serial('a second call with the same options reuses the running stack', async (t) => {
  const s = up();
  const started = Date.now();
  const again = await shopStack(OPTIONS);
  const ms = Date.now() - started;
  t.log(`reused in ${ms} ms`);
  t.deepEqual(again.env, s.env, 'same CA, same passwords');
  t.true(ms < 15_000, `took ${ms} ms`);
  t.is((await again.request('/healthz')).status, 200);
});
