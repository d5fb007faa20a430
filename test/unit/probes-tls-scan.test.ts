// The cipher-suite scan and the TLS probe against local servers: a Node TLS server with a known suite list must
// come back with exactly that list and its weakness classes; a fake server that accepts only 3DES (which this
// Node cannot offer) is found through the bare ClientHello; a private CA without --ca is an untrusted issuer;
// the URL target's rules (https only, CA or insecure, SNI) and an endpoint nobody answers on.

import test from 'ava';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCa, issueCertificate, serverAltNames } from '../../src/stack/tls.js';
import { scanCiphers, nodeCanOffer } from '../../src/probes/tls-ciphers.js';
import { TLS_VERSIONS, cipherFindings } from '../../src/probes/tls-suites.js';
import { gatherTls, observeTls, unreachableError, type TlsFacts, type TlsParams } from '../../src/probes/tls.js';
import { tlsTarget } from '../../src/probes/tls-target.js';
import { FaultlineError } from '../../src/errors.js';

const DAY = 86_400_000;
const ca = createCa('unit');
const leaf = issueCertificate({
  commonName: 'localhost',
  altNames: serverAltNames('faultline.local'),
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + 90 * DAY),
  issuer: ca,
});

// TLS 1.2 only, with one suite from each of several classes. Node's OpenSSL 3 cannot serve 3DES or RC4 (built
// without them), so NULL and anonymous DH stand in for the critical classes; AEAD with ECDHE is the good one.
const SERVER_SUITES = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-SHA', 'AES128-SHA', 'AES256-GCM-SHA384', 'NULL-SHA', 'ADH-AES128-SHA'];

async function listening<S extends net.Server>(server: S, t: { teardown(fn: () => void): void }): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return (server.address() as AddressInfo).port;
}

const weakServer = () =>
  tls.createServer(
    {
      cert: leaf.certPem,
      key: leaf.keyPem,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      dhparam: 'auto',
      ciphers: `${SERVER_SUITES.join(':')}:@SECLEVEL=0`,
    },
    (s) => s.end(),
  );

const signal = new AbortController().signal;
const params: TlsParams = { internal: false, failOnInternal: false, minGrade: 'A', failOn: 'medium', minDays: 14, ciphers: true };

test('the scan finds exactly the suites the server accepts, and only on the versions it speaks', async (t) => {
  const port = await listening(weakServer(), t);
  const started = performance.now();
  const scan = await scanCiphers({ host: '127.0.0.1', port, servername: 'localhost', versions: ['TLSv1.2'], signal });
  t.true(performance.now() - started < 20_000, 'a local scan ends within its own 20 s budget');
  t.deepEqual(scan.accepted['TLSv1.2'].map((s) => s.name).sort(), [...SERVER_SUITES].sort());
  t.true(scan.accepted['TLSv1.2'].every((s) => s.via === 'handshake' && s.standardName?.startsWith('TLS_')));
  t.is(scan.accepted['TLSv1.2'].find((s) => s.name === 'AES128-SHA')?.standardName, 'TLS_RSA_WITH_AES_128_CBC_SHA');
  t.deepEqual(scan.versions, ['TLSv1.2']);
  for (const v of TLS_VERSIONS.filter((x) => x !== 'TLSv1.2')) t.deepEqual(scan.accepted[v], []);
  t.true(scan.complete);
  t.is(scan.undecidedCount, 0);
  t.true(scan.handshakes + scan.hellos <= 400);
});

test('the probe on a URL: the weak classes, the per-version lists, and a private CA without --ca is an untrusted issuer', async (t) => {
  const port = await listening(weakServer(), t);
  const obs = await observeTls(tlsTarget(`https://localhost:${port}`), params, signal);
  const severity = Object.fromEntries(obs.findings.map((f) => [f.id, f.severity]));
  t.like(severity, {
    'cert-untrusted': 'critical',
    'weak-cipher-null': 'critical',
    'weak-cipher-anon': 'critical',
    'weak-cipher-cbc': 'low',
    'no-forward-secrecy-suite': 'low',
  });
  t.regex(obs.findings.find((f) => f.id === 'cert-untrusted')!.message, /untrusted issuer.*Node's default trust store/);
  t.is(obs.value.grade, 'F');
  t.deepEqual(Object.keys(obs.value.ciphers ?? {}), ['TLSv1.2']);
  t.is((obs.details.ciphers as Record<string, unknown[]>)['TLSv1.2']!.length, SERVER_SUITES.length);
  t.is((obs.details.public as TlsFacts).trust, 'system');
  // With the CA the chain is trusted; the cipher findings stay.
  const trusted = await observeTls(tlsTarget(`https://localhost:${port}`, { ca: ca.certPem }), { ...params, ciphers: false }, signal);
  t.false(trusted.findings.some((f) => f.id === 'cert-untrusted'));
  t.is(trusted.value.ciphers, undefined);
});

/** A server that speaks no TLS at all: it answers a ClientHello offering 3DES alone with a ServerHello, anything else with an alert. */
function tripleDesOnly(): net.Server {
  return net.createServer((socket) => {
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 5 || got.length < 5 + got.readUInt16BE(3)) return;
      const sidEnd = 44 + got[43]!;
      const suites: number[] = [];
      for (let i = sidEnd + 2; i < sidEnd + 2 + got.readUInt16BE(sidEnd); i += 2) suites.push(got.readUInt16BE(i));
      const offered = suites.filter((s) => s !== 0x00ff);
      if (offered.length === 1 && offered[0] === 0x000a && got.readUInt16BE(9) === 0x0303) {
        const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0, 0x00, 0x0a, 0])]);
        const msg = Buffer.concat([Buffer.from([2, 0, 0, body.length]), body]);
        socket.end(Buffer.concat([Buffer.from([0x16, 3, 3, 0, msg.length]), msg]));
      } else socket.end(Buffer.from([0x15, 3, 3, 0, 2, 2, 40]));
    });
    socket.on('error', () => undefined);
  });
}

test('3DES, which this Node cannot offer, is found by a bare ClientHello; alone it also means no forward secrecy', async (t) => {
  t.false(nodeCanOffer('DES-CBC3-SHA'), "if Node's OpenSSL offers 3DES again, the handshake path covers it");
  t.true(nodeCanOffer('AES128-SHA'));
  const port = await listening(tripleDesOnly(), t);
  const facts = await gatherTls(tlsTarget(`https://localhost:${port}`, { insecure: true }), signal, { ciphers: false });
  t.false(facts.handshake.ok, 'no real handshake with a fake server');
  const scan = await scanCiphers({ host: '127.0.0.1', port, servername: 'localhost', versions: ['TLSv1.2'], signal });
  t.deepEqual(scan.accepted['TLSv1.2'], [{ code: 0x000a, name: 'DES-CBC3-SHA', standardName: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', via: 'hello' }]);
  t.true(scan.hellos > 0 && scan.handshakes > 0);
  t.deepEqual(
    cipherFindings(scan.accepted, 'x').map((f) => [f.id, f.severity]),
    [
      ['weak-cipher-3des', 'medium'],
      ['no-forward-secrecy-suite', 'medium'],
    ],
  );
});

test('the scan stops at its budget and says what it did not decide; an abort is thrown', async (t) => {
  // Accepts connections and never answers: every suite waits out its timeout.
  const port = await listening(
    net.createServer((s) => s.on('error', () => undefined)),
    t,
  );
  const scan = await scanCiphers({ host: '127.0.0.1', port, servername: 'localhost', versions: ['TLSv1.2'], timeoutMs: 5000, budgetMs: 300, signal });
  t.false(scan.complete);
  t.true(scan.undecidedCount > 100);
  t.true(scan.ms < 3000, `the budget bounds the scan (took ${scan.ms} ms)`);
  t.deepEqual(scan.accepted['TLSv1.2'], []);
  const controller = new AbortController();
  const pending = scanCiphers({ host: '127.0.0.1', port, servername: 'localhost', versions: ['TLSv1.2'], timeoutMs: 5000, signal: controller.signal });
  controller.abort(new Error('interrupted'));
  await t.throwsAsync(pending, { message: 'interrupted' });
});

test('a URL target: https only, a CA or insecure, SNI and extra names; an endpoint nobody answers on is TARGET_UNREACHABLE', async (t) => {
  t.like(tlsTarget('https://localhost:8443/x'), { host: '127.0.0.1', port: 8443, servername: 'localhost', insecure: false, hostnames: ['localhost'] });
  t.like(tlsTarget('https://[::1]'), { host: '::1', port: 443, servername: '::1' });
  t.like(tlsTarget('https://127.0.0.1:9443', { sni: 'shop.test', hostnames: ['shop.test', 'www.shop.test'] }), {
    servername: 'shop.test',
    hostnames: ['shop.test', 'www.shop.test'],
  });
  for (const [url, o] of [
    ['http://localhost:8080', {}],
    ['not a url', {}],
    ['https://localhost', { ca: 'PEM', insecure: true }],
  ] as const) {
    const err = t.throws(() => tlsTarget(url, o));
    t.is((err as FaultlineError).code, 'INVALID_INPUT');
  }
  const free = net.createServer();
  const port = await listening(free, { teardown: () => undefined });
  await new Promise((resolve) => free.close(resolve));
  const facts = await gatherTls(tlsTarget(`https://localhost:${port}`), signal, { ciphers: true });
  t.is(unreachableError(facts)?.code, 'TARGET_UNREACHABLE');
  t.is(facts.ciphers, undefined);
  t.true(facts.versions.every((v) => v.outcome === 'error'));
});
