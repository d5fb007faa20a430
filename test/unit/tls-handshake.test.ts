// The one TLS client (probe and fault checks) against local servers: what a completed handshake reports,
// each way one fails (refused, hung up, no answer, aborted), a protocol version the server refuses, the bare
// ClientHello (its bytes, the ServerHello reader, an offer a real server refuses) and the signature-algorithm decoder.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCa, issueCertificate, serverAltNames } from '../../src/stack/tls.js';
import { clientHello, handshake, helloOffer, parseServerHello, signatureAlgorithm } from '../../src/util/tls-handshake.js';
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

/** The extension types in a ClientHello built by clientHello (no session id), and its offered suites. */
function readHello(b: Buffer): { recordType: number; handshakeType: number; version: number; suites: number[]; extensions: number[]; sni: string | null } {
  const suitesLen = b.readUInt16BE(44);
  const suites: number[] = [];
  for (let i = 46; i < 46 + suitesLen; i += 2) suites.push(b.readUInt16BE(i));
  let i = 46 + suitesLen + 2 + 2;
  const extensions: number[] = [];
  let sni: string | null = null;
  while (i < b.length) {
    const type = b.readUInt16BE(i);
    const len = b.readUInt16BE(i + 2);
    if (type === 0) sni = b.subarray(i + 9, i + 4 + len).toString('ascii');
    extensions.push(type);
    i += 4 + len;
  }
  return { recordType: b[0]!, handshakeType: b[5]!, version: b.readUInt16BE(9), suites, extensions, sni };
}

test('a bare ClientHello offers the one suite (and the renegotiation SCSV), SNI only for a name, signature algorithms only for 1.2', (t) => {
  const h = clientHello({ version: 'TLSv1.2', suites: [0x000a], servername: 'shop.test' });
  t.is(h.readUInt16BE(3), h.length - 5, 'the record length covers the hello');
  t.like(readHello(h), { recordType: 0x16, handshakeType: 1, version: 0x0303, suites: [0x000a, 0x00ff], sni: 'shop.test' });
  t.deepEqual(readHello(h).extensions, [0x0000, 0x000a, 0x000b, 0x0017, 0x000d]);
  const old = readHello(clientHello({ version: 'TLSv1', suites: [0x0005], servername: '127.0.0.1' }));
  t.like(old, { version: 0x0301, sni: null });
  t.false(old.extensions.includes(0x000d));
});

test('the ServerHello reader: the chosen version and suite, an alert, too few bytes, and bytes that are not TLS', (t) => {
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([32]), Buffer.alloc(32), Buffer.from([0xc0, 0x2f, 0])]);
  const hello = Buffer.concat([Buffer.from([0x16, 3, 3, 0, body.length + 4, 2, 0, 0, body.length]), body]);
  t.deepEqual(parseServerHello(hello), { kind: 'hello', version: 0x0303, suite: 0xc02f });
  t.deepEqual(parseServerHello(hello.subarray(0, 60)), { kind: 'partial' });
  t.deepEqual(parseServerHello(Buffer.from([0x15, 3, 3, 0, 2, 2, 40])), { kind: 'alert', alert: 40 });
  t.is(parseServerHello(Buffer.from('HTTP/1.1 400 Bad Request\r\n')).kind, 'garbage');
});

test('a bare offer: refused by a TLS server that does not have the suite, accepted when it does, an error when nothing listens', async (t) => {
  const port = await listening(tlsServer(), t);
  t.like(await helloOffer({ port, version: 'TLSv1.2', suite: 0x000a }), { accepted: false, outcome: 'refused', detail: 'alert 40' });
  t.like(await helloOffer({ port, version: 'TLSv1.2', suite: 0xc02f }), { accepted: true, outcome: 'accepted' });
  t.like(await helloOffer({ port, version: 'TLSv1.2', suite: 0x1301 }), { accepted: false, outcome: 'refused' });
  const free = net.createServer();
  const freePort = await listening(free, { teardown: () => undefined });
  await new Promise((resolve) => free.close(resolve));
  t.like(await helloOffer({ port: freePort, version: 'TLSv1.2', suite: 0xc02f }), { outcome: 'error', detail: 'ECONNREFUSED' });
  t.like(await helloOffer({ port, version: 'TLSv1.2', suite: 0xc02f, signal: AbortSignal.abort() }), { outcome: 'error', detail: 'ABORT_ERR' });
});
