// The data-loss check on an app faultline did not write: the shop's api in its lossy variant acknowledges every Nth
// order without storing it, and keeps those refs (GET /debug/unsaved): the check must report exactly them as lost.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, runCli } from '../helpers/stack.js';
import { shopDir, shopStack, type ShopStack } from '../helpers/fixture.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { ExitCode } from '../../src/errors.js';

let shop: ShopStack;

test.before(async () => {
  shop = await shopStack({ project: 'shoplossy', lossyEvery: 7, httpsPort: 9643, frontPrefix: '10.219.21', backPrefix: '10.219.22' });
});

test.after.always(async () => {
  await shop?.down();
});

const lostOf = (j: ExperimentJournal) => {
  const details = (j.findings.dataLoss as { details?: { check?: { lost?: string[]; unexpected?: string[] } } } | undefined)?.details;
  return { lost: details?.check?.lost ?? null, unexpected: details?.check?.unexpected ?? null };
};

for (const run of [1, 2, 3]) {
  test.serial(`run ${run}: the lost writes are exactly the orders the api acknowledged without storing, nothing else`, async (t) => {
    const before = new Set(await shop.unsaved());
    const dir = await mkdtemp(join(tmpdir(), 'faultline-lossy-'));
    const res = await runCli(['run', join(shopDir, 'experiments', 'writes.yaml'), '--out', dir], { env: { ...shop.env, CI: '1' } });
    t.is(res.code, ExitCode.failed, `lost writes fail the assertion: ${res.stderr}`);
    const j = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;
    const truth = (await shop.unsaved()).filter((ref) => !before.has(ref)).sort();
    t.true(truth.length >= 10, `${truth.length} orders acknowledged and not stored in this run`);
    const { lost, unexpected } = lostOf(j);
    t.deepEqual([...(lost ?? [])].sort(), truth);
    t.deepEqual(unexpected, []);
    t.is(j.metrics.lost_writes, truth.length);
    t.is(j.metrics.data_loss_status, 'invalid');
  });
}
