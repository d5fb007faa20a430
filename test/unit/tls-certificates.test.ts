// The certificate issuer behind the stack's TLS and the certificate faults: Node signs what forge builds, a
// certificate can keep a given key (so a swapped certificate differs only in the flaw it names), and the key
// is found in HAProxy's combined PEM.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { createCa, issueCertificate, privateKeyOf, serverAltNames } from '../../src/stack/tls.js';

const DAY = 86_400_000;
const now = Date.now();
const ca = createCa('unit');
const caX = new X509Certificate(ca.certPem);
const leafSpec = {
  commonName: 'faultline.local',
  altNames: serverAltNames('faultline.local'),
  notBefore: new Date(now - DAY),
  notAfter: new Date(now + 90 * DAY),
  issuer: ca,
};
const leaf = issueCertificate(leafSpec);

test('a CA-signed certificate verifies against the CA and carries the names and validity asked for', (t) => {
  const x = new X509Certificate(leaf.certPem);
  t.true(caX.verify(caX.publicKey), 'the CA is self-signed');
  t.true(x.checkIssued(caX));
  t.true(x.verify(caX.publicKey));
  t.truthy(x.checkHost('faultline.local'));
  t.truthy(x.checkIP('127.0.0.1'));
  t.is(x.checkHost('wrong-host.invalid'), undefined);
  t.is(Date.parse(x.validTo), Math.floor((now + 90 * DAY) / 1000) * 1000);
  t.is(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
});

test('a certificate can keep a given key; SHA-1 and a 1024-bit key are what they say', (t) => {
  const sha1 = issueCertificate({ ...leafSpec, keyPem: leaf.keyPem, hash: 'sha1' });
  const same = new X509Certificate(sha1.certPem);
  t.is(same.publicKey.export({ type: 'spki', format: 'pem' }), new X509Certificate(leaf.certPem).publicKey.export({ type: 'spki', format: 'pem' }));
  t.true(same.verify(caX.publicKey));
  t.is(forge.pki.certificateFromPem(sha1.certPem).siginfo.algorithmOid, forge.pki.oids.sha1WithRSAEncryption as string);
  t.is(forge.pki.certificateFromPem(leaf.certPem).siginfo.algorithmOid, forge.pki.oids.sha256WithRSAEncryption as string);
  const weak = new X509Certificate(issueCertificate({ ...leafSpec, keyBits: 1024 }).certPem);
  t.is(weak.publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  t.true(weak.verify(caX.publicKey));
});

test('privateKeyOf finds the key in a combined certificate + key file, and nothing in a bare certificate', (t) => {
  t.is(privateKeyOf(leaf.certPem + leaf.keyPem), leaf.keyPem);
  t.is(privateKeyOf(leaf.certPem), undefined);
  // forge wrote the stack's first site.pem files with CRLF: the key comes back exactly as it is in the file.
  const crlf = (x: string) => x.replace(/\n/g, '\r\n');
  t.is(privateKeyOf(crlf(leaf.certPem + leaf.keyPem)), crlf(leaf.keyPem));
});
