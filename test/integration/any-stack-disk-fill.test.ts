// disk-fill's MariaDB experiment on a stack where it can act: the shop fixture with its store's data dir on a 192 MiB
// tmpfs (boundedStore), driven by `faultline run experiments/disk-fill-shop.yaml` with the shop's description. The
// figures are checked against truths the test reads itself: the file system's size (df in the store), the orders in
// the store (the reader's login), the fill file gone and the store's space back afterwards. Its own project, port and
// subnets; a fresh store (taken down at the end), so its first orders after the fill need new pages and fail.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, repoRoot, runCli } from '../helpers/stack.js';
import { shopOrderRefs, shopStack, SHOP_SERVICES, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { parseDf } from '../../src/faults/disk-fill.js';
import { COMPOSE_PROJECT, DockerClient } from '../../src/stack/docker-client.js';
import { FaultStore } from '../../src/faults/state-store.js';
import { resolveStackOptions, stateDir } from '../../src/stack/config.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';

const OPTIONS: ShopOptions = { project: 'shopdisk', httpsPort: 9748, frontPrefix: '10.219.73', backPrefix: '10.219.74', boundedStore: '192m' };
const docker = new DockerClient();
let shop: ShopStack;
let store: string;

test.before(async (t) => {
  t.timeout(10 * 60_000);
  shop = await shopStack({ ...OPTIONS, log: (line) => console.log(line) });
  const c = (await docker.listContainers({ [COMPOSE_PROJECT]: shop.project })).find((x) => x.service === 'store');
  if (!c) throw new Error('no store container');
  store = c.id;
});

test.after.always(async () => {
  await shop?.down();
});

async function dataDir(): Promise<{ size: number; avail: number; fills: string[] }> {
  const res = await docker.exec(store, ['sh', '-c', 'df -B1 -P /var/lib/mysql; echo ---; ls -a /var/lib/mysql | grep faultline-fill || true']);
  const [df = '', ls = ''] = res.stdout.split('---');
  return { ...parseDf(df), fills: ls.split('\n').filter(Boolean) };
}

interface LedgerWrite {
  key: string;
  intendedMs: number;
  outcome: string;
  status: number | null;
}

test.serial('disk-fill-shop: orders fail with 503 while the store is full, come back after, and no acknowledged order is lost', async (t) => {
  t.timeout(5 * 60_000);
  const before = await dataDir();
  t.true(before.size <= 200 * 1024 ** 2, `the data dir is the bounded tmpfs: ${before.size} bytes`);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-diskfill-'));
  const res = await runCli(['run', join(repoRoot, 'experiments/disk-fill-shop.yaml'), '--out', dir], { env: { ...shop.env, CI: '1' } });
  t.log(res.stderr.split('\n').slice(-8).join('\n'));
  t.is(res.code, 0, `the experiment passes: ${res.stderr.slice(-600)}`);
  const j = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;
  t.is(j.stack?.project, 'shopdisk');
  const fault = j.faultWindows[0]!;
  t.regex(fault.name, /disk-fill/);
  const end = fault.endMs ?? fault.startMs;

  // The writes as the load's ledger recorded them: every failure a 503 of the api inside the fault (its store said
  // the table is full), none timed out, and acknowledged ones both before the fill and after the space came back.
  const ledger = (j.load as unknown as { ledger: { keyPrefix: string; writes: LedgerWrite[] } }).ledger;
  const failed = ledger.writes.filter((w) => w.outcome !== 'ok');
  t.true(failed.length >= 5, `${failed.length} orders failed while full`);
  t.true(
    failed.every((w) => w.status === 503 && w.intendedMs >= fault.startMs - 500 && w.intendedMs <= end + 1000),
    JSON.stringify(failed.filter((w) => w.status !== 503 || w.intendedMs < fault.startMs - 500 || w.intendedMs > end + 1000).slice(0, 5)),
  );
  t.true(
    ledger.writes.some((w) => w.outcome === 'ok' && w.intendedMs > end + 1000),
    'orders acknowledged after the revert',
  );
  const outage = j.findings.writeOutage as { startMs: number; endMs: number; durationMs: number };
  t.log(
    `write outage ${outage.durationMs} ms (${outage.startMs}–${outage.endMs}), fault ${fault.startMs}–${end} ms; ${failed.length} of ${ledger.writes.length} failed`,
  );
  t.true(outage.endMs <= end + 3000, 'writes back within 3 s of the revert (the store has no binary log to wait on)');

  // Lost writes against the store itself.
  const stored = await shopOrderRefs(shop, ledger.keyPrefix);
  const acknowledged = ledger.writes.filter((w) => w.outcome === 'ok').map((w) => w.key);
  t.deepEqual(
    acknowledged.filter((k) => !stored.has(k)),
    [],
  );
  t.is(j.metrics.lost_writes, 0);
  t.is(j.metrics.unexpected_writes, 0);

  // The space is back, the file gone, nothing recorded, the shop healthy.
  const after = await dataDir();
  t.deepEqual(after.fills, []);
  t.true(after.avail > 10 * 1024 ** 2, `${after.avail} bytes free again`);
  t.deepEqual(await new FaultStore(stateDir(resolveStackOptions({ project: shop.project }))).list(), []);
  const list = await docker.listContainers({ [COMPOSE_PROJECT]: shop.project });
  t.true(SHOP_SERVICES.every((s) => list.some((c) => c.service === s && c.state === 'running')));
  t.is((await shop.request('/healthz')).status, 200);
});
