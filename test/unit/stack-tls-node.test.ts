// Node certificates for servers inside a stack (the hardened profile's Galera nodes): signed by an internal,
// name-constrained CA, valid for the names peers and clients dial, and usable at both ends of a mutual-TLS
// connection, which Galera's peer links need; a server-only certificate is refused as a client there.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCa, issueCertificate, issueNodeCertificate, type KeyPair } from '../../src/stack/tls.js';

const DAY = 86_400_000;
const internal = { dns: ['galera1', 'galera2', 'galera-lb', 'localhost'], ips: ['10.223.7.31', '10.223.7.32', '10.223.7.10', '127.0.0.1'] };
const ca = createCa('galproto internal', internal);
const node1 = issueNodeCertificate(ca, { name: 'galera1', altNames: ['10.223.7.31', 'galera-lb', '10.223.7.10', 'localhost', '127.0.0.1'] });
const node2 = issueNodeCertificate(ca, { name: 'galera2', altNames: ['10.223.7.32', 'galera-lb', '10.223.7.10', 'localhost', '127.0.0.1'] });

/** A mutual-TLS handshake: `server` requires a client certificate from `ca`; null when both ends verify, else the error code. */
async function mutual(server: KeyPair, client: KeyPair): Promise<string | null> {
  const srv = tls.createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => s.end('ok'));
  srv.on('tlsClientError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    return await new Promise<string | null>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: ca.certPem, cert: client.certPem, key: client.keyPem });
      socket.on('data', () => {
        socket.destroy();
        resolve(null);
      });
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      socket.on('close', () => resolve('CLOSED'));
    });
  } finally {
    srv.close();
  }
}

test('a node certificate is issued by the CA for its name and every name it is dialled by, and serves both ends', (t) => {
  const x = new X509Certificate(node1.certPem);
  t.true(x.checkIssued(new X509Certificate(ca.certPem)));
  t.true(x.verify(new X509Certificate(ca.certPem).publicKey));
  t.is(
    x.subject.split('\n').find((l) => l.startsWith('CN=')),
    'CN=galera1',
  );
  for (const name of ['DNS:galera1', 'IP Address:10.223.7.31', 'DNS:galera-lb', 'IP Address:127.0.0.1']) t.true(x.subjectAltName!.includes(name), name);
  // serverAuth and clientAuth.
  t.deepEqual([...(x.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.is(x.ca, false);
});

test('a node certificate never outlives its CA', (t) => {
  const now = new Date();
  const shortCa = issueCertificate({
    commonName: 'short CA',
    altNames: [],
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 10 * DAY),
    isCa: true,
  });
  const leaf = new X509Certificate(issueNodeCertificate(shortCa, { name: 'galera1', altNames: [] }, now).certPem);
  t.true(Date.parse(leaf.validTo) <= Date.parse(new X509Certificate(shortCa.certPem).validTo));
});

test('two nodes verify each other in a mutual-TLS handshake; a server-only certificate is refused as the client', async (t) => {
  t.is(await mutual(node1, node2), null);
  // What issueCertificate makes (serverAuth only) cannot be a Galera peer's certificate.
  const serverOnly = issueCertificate({
    commonName: 'galera2',
    altNames: ['galera2'],
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    issuer: ca,
  });
  t.not(await mutual(node1, serverOnly), null);
});
