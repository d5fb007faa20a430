// The reference stack as a user checks it: HTTPS with the generated CA, redirect, HSTS, TLS floor,
// round-robin, writes reaching the replica, firewalls that really drop, and monitoring that sees everything.

import tls from 'node:tls';
import mysql from 'mysql2/promise';
import { itest as test, sharedStack } from '../helpers/stack.js';
import { request } from '../../src/util/http.js';
import { retryUntil } from '../../src/util/retry.js';
import { LABEL } from '../../src/stack/docker-client.js';
import { webServersOf } from '../../src/stack/servers.js';
import { type AttachedStack } from '../../src/stack/attached-stack.js';

let stack: AttachedStack;
let ca: string;

test.before(async () => {
  stack = await sharedStack();
  ca = (await stack.ca())!;
});

test('HTTPS through the LB answers 200, verified against the generated CA, with HSTS', async (t) => {
  const res = await request(`${stack.httpsUrl}/whoami`, { ca });
  t.is(res.status, 200);
  t.regex(String(res.headers['strict-transport-security']), /max-age=\d+/);
  // The same request without the CA must fail verification: the 200 above really was verified.
  const err = await t.throwsAsync(request(`${stack.httpsUrl}/whoami`, {}));
  t.regex(String((err as NodeJS.ErrnoException).code), /SELF_SIGNED|UNABLE_TO_(GET_ISSUER|VERIFY)/);
});

test('plain HTTP answers 301 to https', async (t) => {
  const res = await request(`${stack.httpUrl}/whoami?x=1`);
  t.is(res.status, 301);
  t.is(res.headers.location, `${stack.httpsUrl}/whoami?x=1`);
});

function handshake(version: tls.SecureVersion): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port: stack.options.httpsPort,
        servername: 'localhost',
        ca,
        minVersion: version,
        maxVersion: version,
        ciphers: 'DEFAULT:@SECLEVEL=0',
      },
      () => {
        resolve(socket.getProtocol() ?? '');
        socket.end();
      },
    );
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
  });
}

test('TLS 1.1 and 1.0 handshakes are refused by the server; 1.2 and 1.3 are accepted', async (t) => {
  for (const v of ['TLSv1.1', 'TLSv1'] as const) {
    const err = await t.throwsAsync(handshake(v));
    // An alert from the server, not a client-side refusal to try.
    t.is((err as NodeJS.ErrnoException).code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', v);
  }
  t.is(await handshake('TLSv1.2'), 'TLSv1.2');
  t.is(await handshake('TLSv1.3'), 'TLSv1.3');
});

test('30 requests to /whoami reach every web server', async (t) => {
  const seen = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const res = await request(`${stack.httpsUrl}/whoami`, { ca });
    t.is(res.status, 200);
    const server = (JSON.parse(res.body) as { server: string }).server;
    seen.set(server, (seen.get(server) ?? 0) + 1);
  }
  t.deepEqual([...seen.keys()].sort(), webServersOf(await stack.containers()));
});

test('POST /items then GET /items/:id returns the item, and the row is on the replica within 2 s', async (t) => {
  const key = `stack-test-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const posted = await request(`${stack.httpsUrl}/items`, { ca, method: 'POST', body: JSON.stringify({ key, value: 'hello' }) });
  t.is(posted.status, 201, posted.body);
  const { id } = JSON.parse(posted.body) as { id: number };
  t.true(Number.isInteger(id) && id > 0);
  const got = await request(`${stack.httpsUrl}/items/${id}`, { ca });
  t.is(got.status, 200);
  t.like(JSON.parse(got.body), { id, key, value: 'hello' });

  const replica = await mysql.createConnection({
    host: stack.addresses['db-replica'],
    ...(await stack.dbOperator()),
    database: 'faultline',
    connectTimeout: 3000,
  });
  t.teardown(() => replica.end());
  const started = Date.now();
  const rows = await retryUntil(
    async () => (await replica.query('SELECT id, value FROM items WHERE item_key = ?', [key]))[0] as Array<{ id: number; value: string }>,
    (r) => r.length === 1,
    { timeoutMs: 2000, intervalMs: 50, what: 'the row on the replica' },
  );
  t.true(Date.now() - started <= 2000);
  t.is(Number(rows[0]!.id), id);
  const [ro] = (await replica.query('SELECT @@read_only AS ro')) as unknown as [Array<{ ro: number }>];
  t.is(Number(ro[0]!.ro), 1, 'the replica is read-only');
});

/** Runs `nc -z` from a labelled throwaway container on the internal network; returns whether it connected and how long it took. */
async function probeFromInsider(host: string, port: number): Promise<{ open: boolean; ms: number }> {
  const image = await stack.helperImage();
  const started = Date.now();
  const res = await stack.docker.runToCompletion({
    image,
    entrypoint: ['nc'],
    cmd: ['-z', '-w', '2', host, String(port)],
    networkMode: stack.internalNetwork,
    labels: { [LABEL.stack]: stack.project, [LABEL.role]: 'vantage', [LABEL.component]: 'test-insider' },
  });
  return { open: res.exitCode === 0, ms: Date.now() - started };
}

test('firewall: an insider that is no app server times out on 3306 and on a web server; the LB reaches web servers', async (t) => {
  const db = await probeFromInsider(stack.addresses['db-primary']!, 3306);
  t.false(db.open, 'primary 3306 must not be reachable from an insider');
  t.true(db.ms >= 1900, `dropped, not refused (took ${db.ms} ms)`);
  const web = await probeFromInsider(stack.addresses.web1!, 80);
  t.false(web.open, 'web1:80 must not be reachable from an insider');
  t.true(web.ms >= 1900, `dropped, not refused (took ${web.ms} ms)`);
  // Control: the insider can reach what is meant to be public, so the failures above are the firewall's.
  t.true((await probeFromInsider(stack.addresses.lb!, 443)).open);

  const lbHost = (await stack.containers()).find((c) => c.server === 'lb' && c.component === 'host');
  t.truthy(lbHost);
  for (const web of webServersOf(await stack.containers())) {
    const res = await stack.docker.exec(lbHost!.id, ['nc', '-z', '-w', '2', stack.addresses[web]!, '80']);
    t.is(res.exitCode, 0, `lb → ${web}:80 must be open`);
  }
});

test('Prometheus has every scrape target up', async (t) => {
  const url = `http://${stack.addresses.monitor}:9090/api/v1/targets`;
  type Targets = { data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> } };
  const targets = await retryUntil(
    async () => (JSON.parse((await request(url)).body) as Targets).data.activeTargets,
    (list) => list.length > 0 && list.every((x) => x.health === 'up'),
    { timeoutMs: 30_000, intervalMs: 500, what: 'every Prometheus target to be up' },
  );
  const jobs = new Set(targets.map((x) => x.labels.job));
  t.deepEqual([...jobs].sort(), ['haproxy', 'mtail', 'mysqld', 'nginx', 'node', 'prometheus']);
  // As many as the stack has servers and exporters, by its labels.
  const containers = await stack.containers();
  const count = (component: string) => containers.filter((c) => c.component === component).length;
  t.is(targets.filter((x) => x.labels.job === 'node').length, count('host'), 'a node exporter on every server');
  t.is(targets.filter((x) => x.labels.job === 'nginx').length, count('nginx-exporter'));
  t.is(targets.filter((x) => x.labels.job === 'mysqld').length, count('mysqld-exporter'));
  // mtail runs in each nginx container: it counts the requests nginx logged as not the client's.
  t.is(targets.filter((x) => x.labels.job === 'mtail').length, count('nginx'));
});
