// The one TLS client (probe and fault checks) against local servers: what a completed handshake reports,
// each way one fails (refused, hung up, no answer, aborted), a protocol version the server refuses, and
// the signature-algorithm decoder.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCa, issueCertificate, serverAltNames } from '../../src/stack/tls.js';
import { handshake, signatureAlgorithm } from '../../src/util/tls-handshake.js';
import { tryVersion } from '../../src/probes/tls.js';

const DAY = 86_400_000;
const ca = createCa('unit');
const spec = {
  commonName: 'localhost',
  altNames: serverAltNames('faultline.local'),
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + 30 * DAY),
  issuer: ca,
};
const leaf = issueCertificate(spec);

async function listening<S extends net.Server>(server: S, t: { teardown(fn: () => void): void }): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return (server.address() as AddressInfo).port;
}

const tlsServer = (cert = leaf) => tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => s.end());

test('a completed handshake reports protocol, cipher, trust, certificate and key size', async (t) => {
  const port = await listening(tlsServer(), t);
  const trusted = await handshake({ port, ca: ca.certPem });
  t.true(trusted.ok);
  t.is(trusted.protocol, 'TLSv1.3');
  t.truthy(trusted.cipher?.name);
  t.true(trusted.authorized);
  t.is(trusted.authorizationError, null);
  t.is(trusted.certificate?.fingerprint256, new X509Certificate(leaf.certPem).fingerprint256);
  t.is(trusted.keyBits, 2048);
  t.is(trusted.error, undefined);
  const untrusted = await handshake({ port });
  t.true(untrusted.ok, 'an untrusted certificate is still read');
  t.false(untrusted.authorized);
  t.is(untrusted.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
});

test('a handshake never throws: refused, hung up, no answer and aborted each say so', async (t) => {
  const hangUp = await listening(
    net.createServer((s) => s.destroy()),
    t,
  );
  const silent = await listening(
    net.createServer(() => undefined),
    t,
  );
  // A port nothing listens on: take one and close it again.
  const free = net.createServer();
  const freePort = await listening(free, { teardown: () => undefined });
  await new Promise((resolve) => free.close(resolve));
  t.is((await handshake({ port: freePort })).error, 'ECONNREFUSED');
  t.regex((await handshake({ port: hangUp })).error ?? '', /ECONNRESET/);
  const timedOut = await handshake({ port: silent, timeoutMs: 200 });
  t.false(timedOut.ok);
  t.is(timedOut.error, 'ETIMEDOUT');
  t.is((await handshake({ port: silent, signal: AbortSignal.abort() })).error, 'ABORT_ERR');
  const controller = new AbortController();
  const pending = handshake({ port: silent, signal: controller.signal, timeoutMs: 10_000 });
  controller.abort();
  t.is((await pending).error, 'ABORT_ERR');
});

test("a version the server does not speak is the server's refusal; one it speaks is accepted with its cipher", async (t) => {
  const port = await listening(tlsServer(), t);
  const signal = new AbortController().signal;
  t.is((await tryVersion('127.0.0.1', port, 'localhost', 'TLSv1', signal)).outcome, 'refused');
  const modern = await tryVersion('127.0.0.1', port, 'localhost', 'TLSv1.3', signal);
  t.is(modern.outcome, 'accepted');
  t.truthy(modern.detail);
});

test('the signature algorithm is read from the DER, by its usual name', (t) => {
  t.is(signatureAlgorithm(new X509Certificate(leaf.certPem)), 'sha256WithRSAEncryption');
  const sha1 = new X509Certificate(issueCertificate({ ...spec, keyPem: leaf.keyPem, hash: 'sha1' }).certPem);
  t.is(signatureAlgorithm(sha1), 'sha1WithRSAEncryption');
  t.is(signatureAlgorithm(sha1.raw), 'sha1WithRSAEncryption');
  t.is(signatureAlgorithm(Buffer.from('not a certificate')), null);
});
