// What the fault engine reads back from disk and prints: records it cannot be tricked by, a lock that a
// reused pid or two racing takeovers cannot break, and no private key in a record or in --json output.

import test from 'ava';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultStore, processStart, staleLock } from '../../src/faults/state-store.js';
import { FaultRegistry, injectFault, redactSecrets, REDACTED, revertRecord, type FaultContext, type FaultRecord } from '../../src/faults/index.js';
import { networkFaults, NETEM_HANDLE, scriptsFor } from '../../src/faults/network-faults.js';
import { certificateFaults } from '../../src/faults/certificate-faults.js';
import { issueCertificate, serverAltNames } from '../../src/stack/tls.js';
import { FakeDocker, fakeContext, PROJECT, stackLabels } from '../helpers/fake-docker.js';
import { repoRoot } from '../helpers/stack.js';

const record = (id: string): FaultRecord => ({
  id,
  fault: 'x',
  stack: PROJECT,
  params: {},
  targets: [],
  slots: [id],
  steps: [],
  status: 'active',
  createdAt: '',
  pid: process.pid,
  hostname: hostname(),
  data: {},
});

test('item 11: a lock whose pid now belongs to another process (reused pid) is taken over, not waited on for ever', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-lock-'));
  // pid 1 is alive, but it did not start at tick 1.
  t.not(processStart(1), '1');
  await writeFile(join(dir, 'faults.lock'), `1 ${hostname()} 1`);
  t.true(staleLock(`1 ${hostname()} 1`));
  const store = new FaultStore(dir);
  const started = Date.now();
  await store.add(record('a'));
  t.true(Date.now() - started < 5000, 'not the 10 s lock timeout');
  t.is((await store.list()).length, 1);
  t.false(staleLock(`1 ${hostname()} ${processStart(1)}`), 'the same pid with its own start time is a live holder');
});

test('item 11: processes racing to take over one stale lock never hold it at once (no record is lost)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-lock-'));
  await writeFile(join(dir, 'faults.lock'), `999999 ${hostname()} 1`);
  const script = `import { FaultStore } from './src/faults/state-store.ts';
const store = new FaultStore(${JSON.stringify(dir)});
const me = process.argv[1];
for (let i = 0; i < 15; i++) await store.add({ id: me + '-' + i, fault: 'x', stack: 's', params: {}, targets: [], slots: [me + '-' + i], steps: [], status: 'active', createdAt: '', pid: process.pid, hostname: 'h', data: {} });`;
  const runs = Array.from(
    { length: 6 },
    (_, n) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script, `p${n}`], { cwd: repoRoot, stdio: 'inherit' });
        child.on('close', resolve);
      }),
  );
  t.deepEqual(await Promise.all(runs), [0, 0, 0, 0, 0, 0]);
  t.is((await new FaultStore(dir).list()).length, 90);
});

test('item 11: the state folder and file are private', async (t) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'faultline-lock-')), 'stack');
  await new FaultStore(dir).add(record('a'));
  const { stat } = await import('node:fs/promises');
  t.is((await stat(dir)).mode & 0o777, 0o700);
  t.is((await stat(join(dir, 'faults.json'))).mode & 0o777, 0o600);
});

test("item 10: netem is added under faultline's own handle and only a qdisc with that handle is deleted", (t) => {
  const s = scriptsFor({ kind: 'netem', delayMs: 100, jitterMs: 10 });
  t.regex(s.apply, new RegExp(`tc qdisc add dev \\$i root handle ${NETEM_HANDLE} netem delay 100ms 10ms`));
  t.regex(s.revert, new RegExp(`tc qdisc del dev \\$i root handle ${NETEM_HANDLE}`));
  t.notRegex(s.revert, /del dev \$i root( |;|$)(?!handle)/, 'never a bare "del root"');
  t.regex(s.probe, new RegExp(`qdisc netem ${NETEM_HANDLE}`));
});

function netRecord(servers: unknown[]): FaultRecord {
  return { ...record('net-loss-1'), fault: 'net-loss', data: { servers } };
}

test('item 12: a network record is reverted from validated fields; shell text in the state file is never run', async (t) => {
  const docker = new FakeDocker();
  const host = docker.add({ name: 'db-primary', labels: stackLabels('db-primary', 'host') });
  const ctx = await fakeContext(docker);
  const registry = new FaultRegistry(networkFaults);
  const def = registry.get('net-loss');

  const tampered = netRecord([{ hostId: host.id, server: 'db-primary', effect: { kind: 'loss', table: 'fl_x; touch /pwned', percent: 30 } }]);
  await ctx.store.add(tampered);
  await t.throwsAsync(revertRecord(ctx, def, tampered, AbortSignal.timeout(5000)), { message: /recorded data is not what net-loss wrote/ });

  const legacy = netRecord([{ hostId: host.id, server: 'db-primary', apply: '', revert: 'touch /pwned', probe: 'true' }]);
  await t.throwsAsync(revertRecord(ctx, def, { ...legacy, id: tampered.id }, AbortSignal.timeout(5000)), { message: /recorded data/ });
  t.false(
    docker.calls.some((c) => c.includes('pwned')),
    docker.calls.join('\n'),
  );

  const good = netRecord([{ hostId: host.id, server: 'db-primary', effect: { kind: 'loss', table: 'fl_abc123', percent: 30 } }]);
  await revertRecord(ctx, def, { ...good, id: tampered.id }, AbortSignal.timeout(5000));
  t.true(docker.calls.some((c) => c.includes('nft delete table inet fl_abc123')));
});

/** The fake stack's description gets the reference stack's HAProxy edge and an endpoint nothing listens on. */
function describeEdge(ctx: FaultContext): FaultContext {
  Object.assign(ctx.stack.spec, {
    file: '<inline>',
    endpoint: { url: 'https://127.0.0.1:1', hostnames: ['faultline.local'], ready_path: '/', insecure: true },
    edge: { target: 'role=lb,component=haproxy', kind: 'haproxy', certificate: '/etc/haproxy/certs/site.pem', openssl: '/etc/ssl/openssl.cnf' },
  });
  Object.assign(ctx.stack, { httpsUrl: 'https://127.0.0.1:1', httpUrl: 'https://127.0.0.1:1', ca: async () => undefined });
  return ctx;
}

function lbStack(docker: FakeDocker) {
  const key = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  const now = Date.now();
  const site = issueCertificate({
    commonName: 'faultline.local',
    altNames: serverAltNames('faultline.local'),
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
    keyPem: key,
  });
  const sitePem = Buffer.from(site.certPem + site.keyPem);
  const lb = docker.add({ name: 'lb-haproxy', labels: stackLabels('lb', 'haproxy', 'lb-haproxy'), files: {} });
  docker.handlers.push((_c, cmd) => {
    if (cmd.join(' ').includes('base64 -w0')) return { result: { exitCode: 0, stdout: `600\n${sitePem.toString('base64')}\n`, stderr: '' } };
    return undefined;
  });
  return { lb, sitePem };
}

test('item 16: a certificate fault records no private key, and --json output redacts one from older records', async (t) => {
  const docker = new FakeDocker();
  const { lb, sitePem } = lbStack(docker);
  const ctx = describeEdge(await fakeContext(docker));
  const registry = new FaultRegistry(certificateFaults);
  // apply fails at the check (no real HAProxy here): the record is written first, then reverted.
  const recordedTexts: string[] = [];
  const add = ctx.store.add.bind(ctx.store);
  ctx.store.add = async (r, s) => {
    recordedTexts.push(JSON.stringify(r));
    return add(r, s);
  };
  await t.throwsAsync(injectFault(ctx, registry.configure('cert-self-signed'), AbortSignal.timeout(3000)));
  t.is(recordedTexts.length, 1);
  const json = recordedTexts[0]!;
  const decoded = [...json.matchAll(/"base64":"([^"]*)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1'));
  t.false(json.includes('PRIVATE KEY'));
  t.false(
    decoded.some((d) => d.includes('PRIVATE KEY')),
    'not even as base64',
  );
  t.regex(json, /"sha256":"[0-9a-f]{64}"/, 'the LB file is recorded by its hash');
  void lb;

  const old = { data: { previous: [{ key: 'certificate', base64: sitePem.toString('base64') }], pem: sitePem.toString('utf8') } };
  const shown = JSON.stringify(redactSecrets(old));
  t.false(shown.includes('PRIVATE KEY'));
  t.false(shown.includes(sitePem.toString('base64').slice(0, 40)));
  t.is((redactSecrets(old).data.previous[0] as { base64: string }).base64, REDACTED);
});

test('item 16: revert takes the LB file back from the copy kept in the LB, checked by its hash', async (t) => {
  const docker = new FakeDocker();
  const { lb, sitePem } = lbStack(docker);
  const ctx = describeEdge(await fakeContext(docker));
  const def = new FaultRegistry(certificateFaults).get('cert-self-signed');
  const plan = await def.plan(ctx, undefined, {}, AbortSignal.timeout(3000));
  const rec = { ...record('cert-self-signed-1'), fault: 'cert-self-signed', data: JSON.parse(JSON.stringify(plan.data)) as unknown };
  // A stopped LB (no reload, no handshake): the files are put back with the archive API.
  lb.state = 'exited';
  lb.files!['/run/faultline/cert-self-signed-1-site.pem'] = Buffer.from('tampered');
  await ctx.store.add(rec);
  await t.throwsAsync(revertRecord(ctx, def, rec, AbortSignal.timeout(3000)), {
    message: /no copy of \/etc\/haproxy\/certs\/site\.pem with the recorded SHA-256/,
  });
  lb.files!['/run/faultline/cert-self-signed-1-site.pem'] = sitePem;
  await revertRecord(ctx, def, rec, AbortSignal.timeout(3000));
  t.true(docker.calls.includes(`putArchive ${lb.id}`), 'put back although the LB is stopped');
  t.deepEqual(await ctx.store.list(), []);
});

test('item 15: SIGHUP (a closed terminal) aborts like Ctrl-C, so cleanup runs instead of Node dying', async (t) => {
  const script = `import { interruptSignal } from './src/cli/run-command.ts';
const { signal } = interruptSignal();
signal.addEventListener('abort', () => { console.log('cleanup ran: ' + signal.reason.message); process.exit(0); });
process.kill(process.pid, 'SIGHUP');
setTimeout(() => process.exit(7), 5000);`;
  const out = await new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) => {
    let stdout = '';
    const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('close', (code, sig) => resolve({ code, signal: sig, stdout }));
  });
  t.is(out.signal, null, 'not killed by SIGHUP');
  t.is(out.code, 0);
  t.regex(out.stdout, /cleanup ran: interrupted by SIGHUP/);
});
