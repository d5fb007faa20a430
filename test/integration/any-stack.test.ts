// A stack faultline did not start, end to end: the shop fixture (test/fixtures/shop/: other service names, its own
// app, table, CA, cipher policy and firewalls, no faultline.* labels) driven through `faultline run` and the probes
// with its description, each figure checked against a truth the test knows independently of faultline.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, runCli } from '../helpers/stack.js';
import { SHOP_TLS12_SUITES, shopDir, shopOrderRefs, shopStack, type ShopStack } from '../helpers/fixture.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { ExitCode } from '../../src/errors.js';
import { FaultStore } from '../../src/faults/state-store.js';
import { resolveStackOptions, stateDir } from '../../src/stack/config.js';

let shop: ShopStack;

test.before(async () => {
  shop = await shopStack({ project: 'shopit', httpsPort: 9543, frontPrefix: '10.219.11', backPrefix: '10.219.12' });
});

test.after.always(async () => {
  await shop?.down();
});

const experiment = (name: string) => join(shopDir, 'experiments', name);
const outDir = () => mkdtemp(join(tmpdir(), 'faultline-shop-'));
const readJournal = async (dir: string) => JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as ExperimentJournal;

/** What faultline has recorded as injected into a stack: nothing, after every run. */
async function recordedFaults(project: string): Promise<unknown[]> {
  return new FaultStore(stateDir(resolveStackOptions({ project }))).list();
}

interface LedgerWrite {
  key: string;
  outcome: string;
}
const writesOf = (j: ExperimentJournal) => (j.load as unknown as { ledger?: { keyPrefix: string; writes: LedgerWrite[] } })?.ledger ?? null;
test.serial('store kill under writes, through `faultline run`: the write outage spans the kill, and no acknowledged order is lost', async (t) => {
  const dir = await outDir();
  const res = await runCli(['run', experiment('store-kill.yaml'), '--out', dir], { env: { ...shop.env, CI: '1' } });
  t.log(res.stderr.split('\n').slice(-6).join('\n'));
  t.true(res.code === ExitCode.ok || res.code === ExitCode.failed, `exit ${res.code}: ${res.stderr}`);
  const j = await readJournal(dir);
  t.is(j.stack?.project, 'shopit');
  const fault = j.faultWindows[0]!;
  t.truthy(fault, 'the kill is in the journal');
  const outage = j.findings.writeOutage as { startMs: number; endMs: number; durationMs: number } | null;
  t.truthy(outage, 'writes failed while the store was down');
  // The store was dead from the kill until the revert started it again (fault.endMs) and it answered: the outage
  // begins within a couple of seconds of the kill and lasts at least the kill's length minus a second.
  t.true(outage!.startMs >= fault.startMs - 500 && outage!.startMs <= fault.startMs + 2500, `outage starts ${outage!.startMs} ms, kill ${fault.startMs} ms`);
  const held = (fault.endMs ?? fault.startMs) - fault.startMs;
  t.true(outage!.durationMs >= held - 1000, `outage ${outage!.durationMs} ms, store dead for ${held} ms`);
  t.true(outage!.durationMs <= held + 20_000, `outage ${outage!.durationMs} ms ends once the store is back (dead for ${held} ms)`);
  t.is(j.metrics.write_outage_s, outage!.durationMs / 1000);

  // Lost writes against the fixture's own table: every acknowledged order is there (read here, not by faultline).
  const ledger = writesOf(j);
  t.truthy(ledger, 'the journal keeps the write ledger');
  const stored = await shopOrderRefs(shop, ledger!.keyPrefix);
  const acknowledged = ledger!.writes.filter((w) => w.outcome === 'ok').map((w) => w.key);
  t.true(acknowledged.length > 50, `${acknowledged.length} acknowledged orders`);
  const truthLost = acknowledged.filter((k) => !stored.has(k));
  t.deepEqual(truthLost, []);
  t.is(j.metrics.lost_writes, truthLost.length);
  t.is(j.metrics.unexpected_writes, 0);
  t.is(j.metrics.data_loss_status, 'valid');
  t.deepEqual(await recordedFaults('shopit'), [], 'nothing left injected');
  t.is((await shop.request('/healthz')).status, 200, 'the shop serves again');
});

test.serial(
  'exposure against the shop policy: a firewall fault opens 3306 on the store, the insider finds exactly that hole, and it closes again',
  async (t) => {
    const dir = await outDir();
    const res = await runCli(['run', experiment('firewall-hole.yaml'), '--out', dir], { env: { ...shop.env, CI: '1' } });
    t.is(res.code, ExitCode.failed, `the hole fails the assertion: ${res.stderr}`);
    const j = await readJournal(dir);
    t.is(j.steadyStateBefore.met, true, 'no hole before the fault');
    t.is(j.metrics.exposure_holes, 1);
    const holes = (j.findings.exposure as { holes: Array<{ vantage: string; server: string; port: number }> }).holes;
    t.deepEqual(holes, [{ vantage: 'insider', server: 'store', port: 3306 }]);
    t.is(j.steadyStateAfter.met, true, 'the hole is gone after the revert');
    t.deepEqual(await recordedFaults('shopit'), []);
    const after = await runCli(['probe', 'exposure', '--stack', shop.specFile, '--json'], { env: shop.env });
    t.is(after.code, ExitCode.ok, after.stderr);
    t.is((JSON.parse(after.stdout) as { value: { holes: number } }).value.holes, 0);
  },
);

test.serial('a description naming a service the project lacks: one line naming the field, exit 2, nothing touched', async (t) => {
  const dir = await outDir();
  const spec = (await readFile(shop.specFile, 'utf8')).replace('  api: { role: web', '  apii: { role: web');
  const file = join(dir, 'bad.stack.yaml');
  await writeFile(file, spec);
  const res = await runCli(['fault', 'inject', 'db-primary-kill', '--stack', file, '--for', '5s'], { env: shop.env });
  t.is(res.code, ExitCode.invalidInput, res.stderr);
  t.regex(res.stderr, /stack\.services\.apii: project shopit has no service "apii"/);
  t.deepEqual(await recordedFaults('shopit'), []);
  t.is((await shop.request('/healthz')).status, 200);
});

test.serial('an endpoint that does not answer: `faultline run` stops before any fault, naming stack.endpoint.url, exit 3', async (t) => {
  const dir = await outDir();
  const spec = (await readFile(shop.specFile, 'utf8'))
    .replace('url: https://127.0.0.1:${SHOP_HTTPS_PORT:-9443}', 'url: https://127.0.0.1:9')
    .replace(/^ready_timeout:.*$/m, '');
  await writeFile(join(dir, 'down.stack.yaml'), `${spec}\nready_timeout: 3s\n`);
  const exp = (await readFile(experiment('store-kill.yaml'), 'utf8')).replace('file: ../shop.stack.yaml', `file: ${join(dir, 'down.stack.yaml')}`);
  await writeFile(join(dir, 'exp.yaml'), exp);
  const res = await runCli(['run', join(dir, 'exp.yaml'), '--out', join(dir, 'out')], { env: shop.env });
  t.is(res.code, ExitCode.environment, res.stderr);
  t.regex(res.stderr, /stack\.endpoint\.url: https:\/\/127\.0\.0\.1:9\/healthz did not answer/);
  t.deepEqual(await recordedFaults('shopit'), [], 'nothing injected');
});

test.serial('a read-back query that fails: `faultline run` stops before any fault, naming the field, exit 2', async (t) => {
  const dir = await outDir();
  const spec = (await readFile(shop.specFile, 'utf8')).replace('SELECT ref FROM orders WHERE', 'SELECT ref FROM orderz WHERE');
  await writeFile(join(dir, 'typo.stack.yaml'), spec);
  const exp = (await readFile(experiment('store-kill.yaml'), 'utf8')).replace('file: ../shop.stack.yaml', `file: ${join(dir, 'typo.stack.yaml')}`);
  await writeFile(join(dir, 'exp.yaml'), exp);
  const res = await runCli(['run', join(dir, 'exp.yaml'), '--out', join(dir, 'out')], { env: shop.env });
  t.is(res.code, ExitCode.invalidInput, res.stderr);
  t.regex(res.stderr, /stack\.readback\[0\]\.sql\.query: .*orderz/);
  const j = await readJournal(join(dir, 'out'));
  t.deepEqual(j.faultWindows, [], 'no fault was injected');
  t.deepEqual(await recordedFaults('shopit'), []);
});

interface TlsJson {
  findings: Array<{ id: string; message: string }>;
  details: { ciphers: Record<string, Array<{ name: string }>> };
}

test.serial(
  "probe tls on the shop's edge: an untrusted issuer without its CA, and exactly the suites its nginx policy accepts, the weak ones flagged",
  async (t) => {
    const bare = await runCli(['probe', 'tls', `${shop.url}/`, '--json'], { env: shop.env });
    t.is(bare.code, ExitCode.failed, bare.stderr);
    const o = JSON.parse(bare.stdout) as TlsJson;
    const ids = o.findings.map((f) => f.id);
    t.true(ids.includes('cert-untrusted'), ids.join(', '));
    // The truth is the gate's own cipher policy (test/fixtures/shop/images/gate/nginx.conf).
    t.deepEqual(o.details.ciphers['TLSv1.2']!.map((c) => c.name).sort(), [...SHOP_TLS12_SUITES].sort());
    t.deepEqual(o.details.ciphers['TLSv1'], []);
    t.deepEqual(o.details.ciphers['TLSv1.1'], []);
    const cbc = o.findings.find((f) => f.id === 'weak-cipher-cbc')?.message ?? '';
    for (const suite of ['AES128-SHA', 'AES256-SHA', 'ECDHE-RSA-AES128-SHA']) t.true(cbc.includes(suite), `CBC: ${suite} in ${cbc}`);
    t.false(cbc.includes('GCM'));
    const noFs = o.findings.find((f) => f.id === 'no-forward-secrecy-suite')?.message ?? '';
    t.true(noFs.includes('AES128-SHA (') && noFs.includes('AES256-SHA ('), noFs);
    t.false(noFs.includes('ECDHE'), 'ECDHE suites have forward secrecy');

    // Through the description, its CA is trusted: the same weak suites, no untrusted issuer.
    const described = await runCli(['probe', 'tls', '--stack', shop.specFile, '--json'], { env: shop.env });
    const d = JSON.parse(described.stdout) as TlsJson;
    t.false(
      d.findings.some((f) => f.id === 'cert-untrusted'),
      described.stdout.slice(0, 400),
    );
    t.true(d.findings.some((f) => f.id === 'weak-cipher-cbc'));

    const remote = await runCli(['probe', 'tls', 'https://192.0.2.1/'], { env: shop.env });
    t.is(remote.code, ExitCode.invalidInput, 'only loopback without --allow-remote-target');
  },
);
