// Probes against the real stack: healthy verdicts, each certificate fault and a firewall hole put in place
// from the test itself (src/faults has no certificate/firewall faults yet) and restored exactly afterwards.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { itest as test, sharedStack } from '../helpers/stack.js';
import { retryUntil } from '../../src/util/retry.js';
import { issueCertificate, serverAltNames, type KeyPair } from '../../src/stack/tls.js';
import type { StartedStack } from '../../src/stack/stack.js';
import { runLoad } from '../../src/load/index.js';
import { runProbe, getProbe, renderObservation, type Observation, type ProbeContext, type TlsValue, type TlsFacts, type QpsValue, type ReplicationValue, type ExposureCheck } from '../../src/probes/index.js';
import { tryVersion } from '../../src/probes/tls.js';
import { request } from '../../src/util/http.js';

let stack: StartedStack;
let ctx: ProbeContext;
const DAY = 86_400_000;

test.before(async () => {
  stack = await sharedStack();
  ctx = { stack, docker: stack.docker };
});

const probe = (name: string, params: unknown = {}, c: ProbeContext = ctx) => runProbe(getProbe(name), c, params, AbortSignal.timeout(120_000));

async function container(server: string, component: string): Promise<string> {
  const c = (await stack.containers()).find((x) => x.server === server && x.component === component);
  if (!c) throw new Error(`no ${component} on ${server}`);
  return c.id;
}

/** A one-file ustar archive for putArchive. */
function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content, 'utf8');
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000600\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512), Buffer.alloc(1024)]);
}

async function liveFingerprint(): Promise<string> {
  const facts = (await probe('tls', { internal: false })).details.public as TlsFacts;
  return facts.certificate?.fingerprint256 ?? '';
}

async function readLb(path: string): Promise<string> {
  const res = await stack.docker.exec(await container('lb', 'haproxy'), ['cat', path]);
  if (res.exitCode !== 0) throw new Error(`cat ${path}: ${res.stderr}`);
  return res.stdout;
}

/** Writes files into the LB and reloads HAProxy (master-worker: SIGUSR2 re-reads config and certificates). */
async function writeLbAndReload(files: Array<[dir: string, name: string, content: string]>): Promise<void> {
  const id = await container('lb', 'haproxy');
  for (const [dir, name, content] of files) await stack.docker.putArchive(id, dir, tarOf(name, content));
  await stack.docker.kill(id, 'SIGUSR2');
}

const CERT = '/etc/haproxy/certs/site.pem';
const CFG = '/etc/haproxy/haproxy.active.cfg';

/** Applies a change to the LB, waits until `effective` holds, runs the TLS probe, and always restores. */
async function withLbChange(change: { pem?: string; cfg?: (cfg: string) => string }, effective: () => Promise<boolean>): Promise<Observation<TlsValue>> {
  const origPem = await readLb(CERT);
  const origCfg = await readLb(CFG);
  const origFp = await liveFingerprint();
  try {
    const files: Array<[string, string, string]> = [];
    if (change.pem) files.push(['/etc/haproxy/certs', 'site.pem', change.pem]);
    if (change.cfg) files.push(['/etc/haproxy', 'haproxy.active.cfg', change.cfg(origCfg)]);
    await writeLbAndReload(files);
    await retryUntil(effective, Boolean, { timeoutMs: 20_000, intervalMs: 250, what: 'the LB change to take effect' });
    return (await probe('tls', { internal: false })) as Observation<TlsValue>;
  } finally {
    await writeLbAndReload([
      ['/etc/haproxy/certs', 'site.pem', origPem],
      ['/etc/haproxy', 'haproxy.active.cfg', origCfg],
    ]);
    await retryUntil(
      async () => (await liveFingerprint()) === origFp && (await tryVersion('127.0.0.1', stack.options.httpsPort, 'localhost', 'TLSv1', AbortSignal.timeout(5000))).outcome === 'refused' && (await hsts()) !== undefined,
      Boolean,
      { timeoutMs: 20_000, intervalMs: 250, what: 'the LB to be restored' },
    );
  }
}

async function hsts(): Promise<string | undefined> {
  const res = await request(`${stack.httpsUrl}/`, { insecure: true, timeoutMs: 3000 });
  const h = res.headers['strict-transport-security'];
  return Array.isArray(h) ? h[0] : h;
}

async function stackCa(): Promise<KeyPair> {
  return { certPem: await readFile(stack.tls.caPath, 'utf8'), keyPem: await readFile(join(stack.tls.dir, 'ca-key.pem'), 'utf8') };
}

function cert(spec: { names?: string[]; from?: number; to?: number; issuer?: KeyPair | undefined }): string {
  const now = Date.now();
  const names = spec.names ?? serverAltNames(stack.options.domain);
  const kp = issueCertificate({ commonName: names[0]!, altNames: names, notBefore: new Date(now + (spec.from ?? -DAY)), notAfter: new Date(now + (spec.to ?? 30 * DAY)), ...(spec.issuer ? { issuer: spec.issuer } : {}) });
  return kp.certPem + kp.keyPem;
}

const fingerprintOf = (pem: string) => new X509Certificate(pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25)).fingerprint256;
const findingIds = (o: Observation) => o.findings.map((f) => f.id);

test.serial('healthy stack: the TLS probe passes (valid chain, TLS 1.0/1.1 refused, HSTS) and grades inside plaintext separately', async (t) => {
  const o = (await probe('tls')) as Observation<TlsValue>;
  t.log(renderObservation(o));
  t.true(o.passed);
  t.is(o.value.grade, 'A');
  t.deepEqual(o.value.protocols, { TLSv1: 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' });
  const f = o.details.public as TlsFacts;
  t.true(f.handshake.authorized);
  t.regex(f.hsts ?? '', /max-age=\d+/);
  t.true(o.value.daysToExpiry! > 14);
  t.deepEqual(o.findings.filter((x) => x.scope === 'public'), []);
  // Weakness 1 of the design: LB → web is plaintext, and the app's DB sessions need no TLS.
  t.true(findingIds(o).includes('internal-plaintext-http'));
  t.true(findingIds(o).includes('internal-plaintext-db'));
  t.not(o.value.internalGrade, 'A');
});

test.serial('healthy stack: exposure reports no hole from the internet or the insider', async (t) => {
  const o = await probe('exposure');
  t.log(renderObservation(o));
  t.is(o.error, undefined);
  t.true(o.passed);
  t.deepEqual((o.details.holes as ExposureCheck[]).length, 0);
  const open = (o.details.open as ExposureCheck[]).map((c) => `${c.vantage}:${c.server}:${c.port}`).sort();
  t.deepEqual(open, ['insider:lb:443', 'insider:lb:80', 'internet:lb:443', 'internet:lb:80']);
  // No vantage helper is left behind.
  t.deepEqual((await stack.containers()).filter((c) => c.role === 'vantage'), []);
});

test.serial('healthy stack: replication is running with lag under 2 s and one writer', async (t) => {
  const o = (await probe('replication', { maxLag: 2 })) as Observation<ReplicationValue>;
  t.log(renderObservation(o));
  t.true(o.passed);
  t.true(o.value.running);
  t.true(o.value.lagSeconds !== null && o.value.lagSeconds < 2);
  t.deepEqual(o.value.writers, ['db-primary']);
});

test.serial('QPS: the client and server views agree within 5% over a 10 s paced run at 200 req/s', async (t) => {
  const result = await runLoad({ url: `${stack.httpsUrl}/whoami`, rate: 200, durationMs: 10_000, ca: await stack.ca() }, { signal: AbortSignal.timeout(60_000) });
  t.true(result.summary.sent >= 1900, `sent ${result.summary.sent}`);
  const o = (await probe('qps', {}, { ...ctx, timeline: result.timeline })) as Observation<QpsValue>;
  t.log(renderObservation(o));
  t.is(o.error, undefined);
  t.true(o.value.difference! <= 0.05, `difference ${o.value.difference}`);
  t.true(o.passed);
  const perServer = o.details.lbPerServer as Record<string, number>;
  t.deepEqual(Object.keys(perServer).sort(), ['web1', 'web2', 'web3']);
  const sum = Object.values(perServer).reduce((a, b) => a + b, 0);
  t.true(Math.abs(sum - o.value.serverTotal) / o.value.serverTotal <= 0.05, `per-server sum ${sum} vs ${o.value.serverTotal}`);
});

test.serial('certificate faults: each one gives the TLS probe its matching finding, and the stack is restored', async (t) => {
  const before = await liveFingerprint();
  const ca = await stackCa();
  const port = stack.options.httpsPort;
  const cases: Array<{ name: string; change: { pem?: string; cfg?: (c: string) => string }; effective: (pem?: string) => Promise<boolean>; finding: string }> = [
    { name: 'expired', change: { pem: cert({ from: -30 * DAY, to: -DAY, issuer: ca }) }, effective: async (pem) => (await liveFingerprint()) === fingerprintOf(pem!), finding: 'cert-expired' },
    { name: 'wrong hostname', change: { pem: cert({ names: ['wrong.example'], issuer: ca }) }, effective: async (pem) => (await liveFingerprint()) === fingerprintOf(pem!), finding: 'hostname-mismatch' },
    { name: 'self-signed', change: { pem: cert({ issuer: undefined }) }, effective: async (pem) => (await liveFingerprint()) === fingerprintOf(pem!), finding: 'cert-untrusted' },
    {
      name: 'legacy TLS 1.0',
      change: { cfg: (c) => c.replace('ssl-min-ver TLSv1.2', 'ssl-min-ver TLSv1.0').replace(/(ssl-default-bind-ciphers .*)/, '$1:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0') },
      effective: async () => (await tryVersion('127.0.0.1', port, 'localhost', 'TLSv1', AbortSignal.timeout(5000))).outcome === 'accepted',
      finding: 'legacy-protocol',
    },
    { name: 'no HSTS', change: { cfg: (c) => c.replace(/^\s*http-response set-header Strict-Transport-Security.*$/m, '') }, effective: async () => (await hsts()) === undefined, finding: 'no-hsts' },
  ];
  for (const c of cases) {
    const o = await withLbChange(c.change, () => c.effective(c.change.pem));
    t.log(`${c.name}: grade ${o.value.grade}; ${o.findings.map((f) => `${f.severity} ${f.id}`).join(', ')}`);
    t.true(findingIds(o).includes(c.finding), `${c.name} → ${c.finding}`);
    t.false(o.passed, `${c.name} must fail the probe`);
    if (c.finding === 'legacy-protocol') t.is(o.value.protocols.TLSv1, 'accepted');
  }
  t.is(await liveFingerprint(), before, 'the certificate fingerprint is as before');
  const after = (await probe('tls', { internal: false })) as Observation<TlsValue>;
  t.true(after.passed, 'and the TLS probe passes again');
});

test.serial('with 3306 opened on the primary, exposure reports exactly that hole from the insider', async (t) => {
  const host = await container('db-primary', 'host');
  const listing = async () => (await stack.docker.exec(host, ['nft', 'list', 'table', 'inet', 'faultline'])).stdout;
  const original = await listing();
  const add = await stack.docker.exec(host, ['nft', '--echo', '--handle', 'add', 'rule', 'inet', 'faultline', 'role', 'tcp', 'dport', '3306', 'accept', 'comment', '"probes-test-hole"']);
  t.is(add.exitCode, 0, add.stderr);
  const handle = /# handle (\d+)/.exec(add.stdout)?.[1];
  try {
    t.truthy(handle, add.stdout);
    const o = await probe('exposure');
    t.log(renderObservation(o));
    t.false(o.passed);
    t.deepEqual((o.details.holes as ExposureCheck[]).map((h) => `${h.vantage}:${h.server}:${h.port}`), ['insider:db-primary:3306']);
    t.deepEqual(o.findings.filter((f) => f.id === 'hole').map((f) => f.severity), ['critical']);
  } finally {
    if (handle) await stack.docker.exec(host, ['nft', 'delete', 'rule', 'inet', 'faultline', 'role', 'handle', handle]);
  }
  t.is(await listing(), original, 'the firewall is exactly as before');
});
