// What MariaDB does when its data directory's file system is full, and whether an acknowledged write is lost when the
// space comes back: the reference stack's database image (MariaDB 10.11, sync_binlog=1, innodb_flush_log_at_trx_commit=1)
// run alone with /var/lib/mysql on a 192 MiB tmpfs (the reference stack's own data dir is on the host's disk, which
// disk-fill refuses), described as a one-server stack, and filled by the disk-fill fault itself, not by hand.
// Ground truth: a writer on one connection (INSERT of a unique key, 20/s, 3 s client deadline each) keeps a ledger of
// what was acknowledged; after the revert every key is read back.
//
// Run:  node --import=tsx bench/disk-fill-mariadb.ts     (needs the reference stack's db image: faultline stack up once)

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { attachStack } from '../src/stack/attach.js';
import { parseStackSpec } from '../src/stack/spec.js';
import { DockerClient } from '../src/stack/docker-client.js';
import { createFaultContext, defaultRegistry, injectFault } from '../src/faults/index.js';

const PROJECT = 'fl-bench-diskfill';
const RATE = 20;
const HOLD_MS = 12_000;
/** MariaDB looks for free space again once a minute when a write found the disk full: the writer goes on that long. */
const AFTER_MS = 80_000;
const docker = new DockerClient();

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // `docker logs` gives the container's stderr on its own stderr: both count as output.
    child.on('close', (code) =>
      code === 0 ? resolve((out + (args[0] === 'logs' ? err : '')).trim()) : reject(new Error(`docker ${args.join(' ')}: ${err.trim()}`)),
    );
  });
}

const ref = (await docker.listContainers({ 'faultline.stack': 'faultline', 'faultline.component': 'mariadb' }, false))[0];
if (!ref) throw new Error('no reference stack db container to take the image from: run faultline stack up');
const image = (await docker.inspect(ref.id)).image;
const pw = () => randomBytes(18).toString('base64url');
const app = pw();
const id = await run([
  'run',
  '-d',
  '--name',
  PROJECT,
  ...['--label', `faultline.stack=${PROJECT}`, '--label', 'faultline.role=db-primary', '--label', 'faultline.server=db-primary'],
  ...['--label', 'faultline.component=mariadb', '--tmpfs', '/var/lib/mysql:size=192m'],
  ...['-e', 'DB_ROLE=primary', '-e', 'NET_PREFIX=127.0.0', '-e', `DB_APP_PASSWORD=${app}`, '-e', `DB_REPL_PASSWORD=${pw()}`],
  ...['-e', `DB_EXPORTER_PASSWORD=${pw()}`, '-e', `DB_ADMIN_PASSWORD=${pw()}`],
  image,
]);
const lines: string[] = [];
try {
  const ip = await run(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id]);
  let conn: mysql.Connection | undefined;
  for (let i = 0; i < 120 && !conn; i += 1) {
    conn = await mysql.createConnection({ host: ip, user: 'app', password: app, database: 'faultline', connectTimeout: 2000 }).catch(async () => {
      await new Promise((r) => setTimeout(r, 1000));
      return undefined;
    });
  }
  if (!conn) throw new Error('MariaDB did not come up');
  await conn.end();

  const spec = parseStackSpec(
    {
      project: PROJECT,
      endpoint: { url: 'https://127.0.0.1:9', insecure: true },
      databases: { primary: { server: 'db-primary', user: 'app', password_env: 'FL_BENCH_DISKFILL_PW', database: 'faultline', role: 'primary' } },
    },
    `/bench/${PROJECT}.stack.yaml`,
    {},
  );
  const stack = await attachStack({ spec });
  const ctx = createFaultContext(stack, { holdMs: 120_000 });

  // The writer: one connection, a new one after an error; every outcome timed from the start.
  type Outcome = { key: string; at: number; result: 'ok' | 'error' | 'timeout'; error?: string; ms: number };
  const ledger: Outcome[] = [];
  const t0 = Date.now();
  let stop = false;
  let session: mysql.Connection | undefined;
  const writer = (async () => {
    for (let n = 0; !stop; n += 1) {
      const due = t0 + (n * 1000) / RATE;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      const key = `dfb-${n}`;
      const started = Date.now();
      try {
        session ??= await mysql.createConnection({ host: ip, user: 'app', password: app, database: 'faultline', connectTimeout: 3000 });
        await session.query({ sql: 'INSERT INTO items (item_key, value) VALUES (?, ?)', timeout: 3000 }, [key, 'x'.repeat(512)]);
        ledger.push({ key, at: started - t0, result: 'ok', ms: Date.now() - started });
      } catch (err) {
        const e = err as { code?: string; message: string };
        ledger.push({
          key,
          at: started - t0,
          result: e.code === 'PROTOCOL_SEQUENCE_TIMEOUT' ? 'timeout' : 'error',
          error: e.code ?? e.message,
          ms: Date.now() - started,
        });
        session?.destroy();
        session = undefined;
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 5000));
  const injectAt = Date.now() - t0;
  const fault = await injectFault(
    ctx,
    defaultRegistry().configure('disk-fill', { target: 'server=db-primary,component=mariadb', params: {} }),
    AbortSignal.timeout(60_000),
    {
      holdMs: 120_000,
    },
  );
  const activeAt = Date.now() - t0;
  lines.push(`disk-fill: ${fault.record.steps[0]}`);
  await new Promise((r) => setTimeout(r, HOLD_MS));
  const revertAt = Date.now() - t0;
  await fault.revert();
  const revertedAt = Date.now() - t0;
  await new Promise((r) => setTimeout(r, AFTER_MS));
  stop = true;
  await writer;
  session?.destroy();

  const reader = await mysql.createConnection({ host: ip, user: 'app', password: app, database: 'faultline' });
  const [rows] = await reader.query('SELECT item_key FROM items WHERE item_key LIKE ?', ['dfb-%']);
  await reader.end();
  const present = new Set((rows as Array<{ item_key: string }>).map((r) => r.item_key));
  const phase = (o: Outcome) => (o.at < injectAt ? 'before' : o.at < revertedAt ? 'full' : 'after');
  for (const p of ['before', 'full', 'after'] as const) {
    const xs = ledger.filter((o) => phase(o) === p);
    const errs = [...new Set(xs.filter((o) => o.result !== 'ok').map((o) => o.error ?? o.result))];
    const slowest = Math.max(0, ...xs.map((o) => o.ms));
    lines.push(
      `${p.padEnd(6)} ${String(xs.length).padStart(4)} writes: ${xs.filter((o) => o.result === 'ok').length} acknowledged, ` +
        `${xs.filter((o) => o.result === 'error').length} errors, ${xs.filter((o) => o.result === 'timeout').length} timed out at 3 s; slowest ${slowest} ms${errs.length ? `; ${errs.join(', ')}` : ''}`,
    );
  }
  const acked = ledger.filter((o) => o.result === 'ok');
  const lost = acked.filter((o) => !present.has(o.key));
  const unexpected = ledger.filter((o) => o.result !== 'ok' && present.has(o.key));
  const firstOkAfter = ledger.find((o) => o.at >= revertAt && o.result === 'ok');
  lines.push(
    `fault: injected at ${(injectAt / 1000).toFixed(1)} s (active ${activeAt - injectAt} ms later), revert at ${(revertAt / 1000).toFixed(1)} s took ${revertedAt - revertAt} ms`,
  );
  lines.push(
    `first acknowledged write after the revert call: sent ${firstOkAfter ? `${((firstOkAfter.at - revertAt) / 1000).toFixed(2)} s after it` : 'none'}`,
  );
  lines.push(
    `read back: ${acked.length} acknowledged, ${lost.length} lost; ${unexpected.length} not acknowledged but present (a write that failed at the client yet committed)`,
  );
  const log = await run(['logs', '--tail', '200', id]).catch((err: Error) => err.message);
  const said = [
    ...new Set(
      log
        .split('\n')
        .filter((l) => /disk is full|no space|errno: 28|waiting for someone/i.test(l))
        .map((l) => l.replace(/^\S+\s+\S+\s+\d+\s+/, '').trim()),
    ),
  ];
  lines.push(`MariaDB's log: ${said.slice(0, 4).join(' | ') || 'nothing about the disk'}`);
} finally {
  await run(['rm', '-f', '-v', id]).catch(() => undefined);
}
console.log(`\nMariaDB with a full data directory (reference db image, /var/lib/mysql on a 192 MiB tmpfs, ${RATE} writes/s)\n`);
for (const l of lines) console.log(l);
