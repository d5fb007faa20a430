// The stack's CA as someone who imports it into a browser would check it: it can sign only the stack's own
// names and addresses, lives a year, and an older CA (ten years, no constraints) is made anew with a new
// LB certificate, while a fit one is kept.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { isIP, type AddressInfo } from 'node:net';
import {
  caPermittedNames,
  caRenewalReason,
  createCa,
  ensureStackTls,
  issueCertificate,
  permittedNamesOf,
  serverAltNames,
  type KeyPair,
} from '../../src/stack/tls.js';

const DAY = 86_400_000;
const domain = 'faultline.local';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-stack-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'tls');
}

/** The verification error ("code: message") a TLS client trusting `ca` gets from a server presenting `leaf`; null when it verifies. */
async function clientVerdict(ca: string, leaf: KeyPair, servername: string): Promise<string | null> {
  const server = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await new Promise<string | null>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca, ...(isIP(servername) ? {} : { servername }) }, () => {
        resolve(null);
        socket.end();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(`${err.code}: ${err.message}`));
    });
  } finally {
    server.close();
  }
}

function leafFor(ca: KeyPair, names: string[]): KeyPair {
  return issueCertificate({
    commonName: names[0]!,
    altNames: names,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    issuer: ca,
  });
}

test("the stack CA carries critical name constraints for the LB's names and addresses only, and lives at most a year", async (t) => {
  const dir = await tempDir(t);
  const { ca } = await ensureStackTls(dir, 'unit', domain);
  const x = new X509Certificate(ca.certPem);
  t.true(x.ca);
  t.deepEqual(permittedNamesOf(ca.certPem), { dns: [domain, 'localhost', 'wrong-host.invalid'], ips: ['127.0.0.1', '::1'] });
  const life = Date.parse(x.validTo) - Date.parse(x.validFrom);
  t.true(life <= 2 * 365 * DAY, `lives ${life / DAY} days`);
  t.true(life >= 300 * DAY, 'but long enough not to churn');
  t.true(Date.parse(x.validTo) - Date.now() <= 366 * DAY);
});

test('a TLS client trusting the stack CA accepts the LB certificate and refuses one the CA signed for any other name or address', async (t) => {
  const dir = await tempDir(t);
  const { ca, site } = await ensureStackTls(dir, 'unit', domain);
  t.is(await clientVerdict(ca.certPem, site, 'localhost'), null);
  t.is(await clientVerdict(ca.certPem, site, domain), null);
  // What an attacker with the CA key (it sits in the user's home) would mint: refused by the client itself.
  t.regex((await clientVerdict(ca.certPem, leafFor(ca, ['www.example.com']), 'www.example.com')) ?? '', /permitted subtree violation/);
  t.regex((await clientVerdict(ca.certPem, leafFor(ca, ['10.0.0.1']), '10.0.0.1')) ?? '', /permitted subtree violation/);
  t.regex((await clientVerdict(ca.certPem, leafFor(ca, [`evil.${domain}.example.com`]), `evil.${domain}.example.com`)) ?? '', /permitted subtree violation/);
  // Subdomains of the domain are the stack's (the LB certificate has *.domain).
  t.is(await clientVerdict(ca.certPem, leafFor(ca, [`api.${domain}`]), `api.${domain}`), null);
  // cert-wrong-host still shows as a hostname mismatch, not as a constraint violation.
  t.regex((await clientVerdict(ca.certPem, leafFor(ca, ['wrong-host.invalid']), 'localhost')) ?? '', /^ERR_TLS_CERT_ALTNAME_INVALID:/);
});

test('an older CA (ten years, no name constraints) is made anew, and with it the LB certificate; the files stay private', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'lb'), { recursive: true });
  const old = createCa('unit', undefined, new Date());
  const oldSite = issueCertificate({
    commonName: domain,
    altNames: serverAltNames(domain),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 90 * DAY),
    issuer: old,
  });
  await writeFile(join(dir, 'ca.pem'), old.certPem);
  await writeFile(join(dir, 'ca-key.pem'), old.keyPem, { mode: 0o644 });
  await writeFile(join(dir, 'lb', 'site.pem'), oldSite.certPem + oldSite.keyPem);

  const made = await ensureStackTls(dir, 'unit', domain);
  t.regex(made.renewed.ca ?? '', /no name constraints/);
  t.true(made.renewed.site);
  t.not(made.ca.certPem, old.certPem);
  t.truthy(permittedNamesOf(await readFile(join(dir, 'ca.pem'), 'utf8')));
  const site = new X509Certificate((await readFile(join(dir, 'lb', 'site.pem'), 'utf8')).split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n');
  t.true(site.checkIssued(new X509Certificate(made.ca.certPem)), 'the LB certificate is signed by the new CA');
  t.is((await stat(join(dir, 'ca-key.pem'))).mode & 0o777, 0o600);
  t.is((await stat(dir)).mode & 0o777, 0o700);

  // Run again: everything fit is kept, so a browser that trusted the CA keeps trusting it.
  const again = await ensureStackTls(dir, 'unit', domain);
  t.deepEqual(again.renewed, { site: false });
  t.is(again.ca.certPem, made.ca.certPem);
  t.is(again.fingerprint, made.fingerprint);
});

test('a CA near its end or made for another domain is renewed; the LB certificate never outlives its CA', async (t) => {
  const wanted = caPermittedNames(domain);
  const now = new Date();
  const fresh = createCa('unit', wanted, now);
  t.is(caRenewalReason(fresh.certPem, wanted, now), undefined);
  t.regex(caRenewalReason(fresh.certPem, caPermittedNames('other.test'), now) ?? '', /name constraints/);
  t.regex(caRenewalReason(fresh.certPem, wanted, new Date(now.getTime() + 340 * DAY)) ?? '', /expires/);

  // Made 300 days ago: 65 days left, so it stays, and the new LB certificate ends with it, not after.
  const dir = await tempDir(t);
  await mkdir(dir, { recursive: true });
  const aging = createCa('unit', wanted, new Date(now.getTime() - 300 * DAY));
  await writeFile(join(dir, 'ca.pem'), aging.certPem);
  await writeFile(join(dir, 'ca-key.pem'), aging.keyPem);
  const made = await ensureStackTls(dir, 'unit', domain, now);
  t.is(made.renewed.ca, undefined);
  t.true(Date.parse(new X509Certificate(made.site.certPem).validTo) <= Date.parse(new X509Certificate(aging.certPem).validTo));
});
