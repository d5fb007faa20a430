// The pure half of the cipher-suite scan: the suite table, which weakness class each suite falls into, the
// severities (testssl.sh 3.0.8's), one finding per class with its suites and versions, and the TLS probe's
// findings from a scan (they replace the negotiated-cipher guess; an incomplete scan says so).

import test from 'ava';
import {
  SUITES,
  TLS13_SUITES,
  TLS_VERSIONS,
  WEAK_CLASSES,
  cipherFindings,
  forwardSecret,
  renderAccepted,
  sha1Mac,
  weakClass,
  type AcceptedByVersion,
  type AcceptedSuite,
  type TlsVersion,
  type WeakClass,
} from '../../src/probes/tls-suites.js';
import { candidatesFor } from '../../src/probes/tls-ciphers.js';
import { publicFindings, type TlsFacts } from '../../src/probes/tls.js';

const byName = new Map([...SUITES, ...TLS13_SUITES].map((s) => [s.name, s]));
const suite = (name: string): AcceptedSuite => {
  const s = byName.get(name);
  if (!s) throw new Error(`${name} is not in the table`);
  return { code: s.code, name: s.name, standardName: s.iana, via: 'handshake' };
};
const accepted = (per: Partial<Record<TlsVersion, string[]>>): AcceptedByVersion =>
  Object.fromEntries(TLS_VERSIONS.map((v) => [v, (per[v] ?? []).map(suite)])) as AcceptedByVersion;

test('the table: code points and names are unique, IANA names known, TLS 1.2-only suites marked', (t) => {
  const all = [...SUITES, ...TLS13_SUITES];
  t.is(new Set(all.map((s) => s.code)).size, all.length);
  t.is(new Set(all.map((s) => s.name)).size, all.length);
  t.true(all.every((s) => s.iana?.startsWith('TLS_')));
  t.true(byName.get('ECDHE-RSA-AES128-GCM-SHA256')!.tls12Only);
  t.false(byName.get('AES128-SHA')!.tls12Only);
  t.is(byName.get('DES-CBC3-SHA')!.code, 0x000a);
  t.is(byName.get('ECDHE-RSA-AES128-GCM-SHA256')!.code, 0xc02f);
  // A TLS 1.0 ClientHello cannot carry a TLS 1.2-only suite; TLS 1.3 has its five and nothing else.
  t.false(candidatesFor('TLSv1', SUITES).some((s) => s.tls12Only));
  t.is(candidatesFor('TLSv1.2', SUITES).length, SUITES.length);
  t.deepEqual(
    candidatesFor('TLSv1.3', SUITES).map((s) => s.code),
    [0x1301, 0x1302, 0x1303, 0x1304, 0x1305],
  );
});

test('each suite falls into one weakness class, by its IANA name or, without one, its OpenSSL name', (t) => {
  const cases: [string, WeakClass | null][] = [
    ['NULL-SHA', 'null'],
    ['ECDHE-RSA-NULL-SHA', 'null'],
    ['AECDH-NULL-SHA', 'null'],
    ['ADH-AES128-SHA', 'anon'],
    ['AECDH-AES256-SHA', 'anon'],
    ['EXP-ADH-RC4-MD5', 'anon'],
    ['EXP-RC4-MD5', 'export'],
    ['EXP1024-DES-CBC-SHA', 'export'],
    ['RC4-SHA', 'rc4'],
    ['ECDHE-RSA-RC4-SHA', 'rc4'],
    ['DES-CBC-SHA', 'des'],
    ['EDH-RSA-DES-CBC-SHA', 'des'],
    ['DES-CBC3-SHA', '3des'],
    ['ECDHE-RSA-DES-CBC3-SHA', '3des'],
    ['IDEA-CBC-SHA', '3des'],
    ['AES128-SHA', 'cbc'],
    ['ECDHE-RSA-AES128-SHA256', 'cbc'],
    ['CAMELLIA256-SHA', 'cbc'],
    ['SEED-SHA', 'cbc'],
    ['AES256-GCM-SHA384', null],
    ['ECDHE-RSA-CHACHA20-POLY1305', null],
    ['DHE-RSA-AES128-CCM8', null],
    ['TLS_AES_128_GCM_SHA256', null],
  ];
  for (const [name, cls] of cases) t.is(weakClass(suite(name)), cls, name);
  // Without an IANA name (a suite only tls.getCiphers() knows): not AEAD means CBC.
  t.is(weakClass({ name: 'AES128-SHA', standardName: null }), 'cbc');
  t.is(weakClass({ name: 'AES128-GCM-SHA256', standardName: null }), null);
});

test('forward secrecy: ephemeral key exchange and every TLS 1.3 suite; static RSA is not', (t) => {
  for (const name of ['ECDHE-RSA-AES128-SHA', 'DHE-RSA-AES256-GCM-SHA384', 'ADH-AES128-SHA', 'TLS_CHACHA20_POLY1305_SHA256'])
    t.true(forwardSecret(suite(name)), name);
  for (const name of ['AES128-SHA', 'AES256-GCM-SHA384', 'DES-CBC3-SHA', 'NULL-SHA', 'ARIA128-GCM-SHA256']) t.false(forwardSecret(suite(name)), name);
  t.false(forwardSecret({ name: 'AES128-SHA', standardName: null }));
  t.true(forwardSecret({ name: 'ECDHE-RSA-AES128-SHA', standardName: null }));
  t.true(sha1Mac(suite('AES128-SHA')));
  t.false(sha1Mac(suite('AES128-SHA256')));
  t.false(sha1Mac(suite('AES128-GCM-SHA256')));
});

test("severities are testssl.sh's: NULL/anon/EXPORT critical, RC4/DES high, 3DES medium, CBC low", (t) => {
  t.deepEqual(Object.fromEntries(Object.entries(WEAK_CLASSES).map(([k, v]) => [k, v.severity])), {
    null: 'critical',
    anon: 'critical',
    export: 'critical',
    rc4: 'high',
    des: 'high',
    '3des': 'medium',
    cbc: 'low',
  });
});

test('one finding per class, listing each suite with the versions it was accepted on', (t) => {
  const f = cipherFindings(
    accepted({
      TLSv1: ['AES128-SHA', 'DES-CBC3-SHA'],
      'TLSv1.2': ['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'AES128-SHA', 'AES256-SHA256', 'DES-CBC3-SHA', 'RC4-SHA'],
      'TLSv1.3': ['TLS_AES_128_GCM_SHA256'],
    }),
    '127.0.0.1:9443',
  );
  t.deepEqual(
    f.map((x) => [x.id, x.severity]),
    [
      ['weak-cipher-rc4', 'high'],
      ['weak-cipher-3des', 'medium'],
      ['weak-cipher-cbc', 'low'],
      ['no-forward-secrecy-suite', 'low'],
    ],
  );
  const by = (id: string) => f.find((x) => x.id === id)!.message;
  t.regex(by('weak-cipher-3des'), /SWEET32\): DES-CBC3-SHA \(TLSv1, TLSv1\.2\)$/);
  t.regex(
    by('weak-cipher-cbc'),
    /AES128-SHA \(TLSv1, TLSv1\.2\), ECDHE-RSA-AES128-SHA \(TLSv1\.2\), AES256-SHA256 \(TLSv1\.2\); with a SHA-1 MAC: AES128-SHA, ECDHE-RSA-AES128-SHA$/,
  );
  t.regex(
    by('no-forward-secrecy-suite'),
    /AES128-SHA \(TLSv1, TLSv1\.2\), DES-CBC3-SHA \(TLSv1, TLSv1\.2\), AES256-SHA256 \(TLSv1\.2\), RC4-SHA \(TLSv1\.2\)$/,
  );
  t.true(f.every((x) => x.scope === 'public' && x.where === '127.0.0.1:9443'));
});

test('no forward secrecy at all is medium (run_pfs); none of the classes for AEAD suites with ECDHE', (t) => {
  const none = cipherFindings(accepted({ 'TLSv1.2': ['AES256-GCM-SHA384', 'AES128-GCM-SHA256'] }), 'x');
  t.deepEqual(
    none.map((x) => [x.id, x.severity]),
    [['no-forward-secrecy-suite', 'medium']],
  );
  t.deepEqual(cipherFindings(accepted({ 'TLSv1.2': ['ECDHE-RSA-AES128-GCM-SHA256'], 'TLSv1.3': ['TLS_AES_256_GCM_SHA384'] }), 'x'), []);
  const critical = cipherFindings(accepted({ 'TLSv1.2': ['NULL-SHA', 'ADH-AES128-SHA', 'EXP-DES-CBC-SHA', 'ECDHE-RSA-AES128-GCM-SHA256'] }), 'x');
  t.deepEqual(
    critical.map((x) => [x.id, x.severity]),
    [
      ['weak-cipher-null', 'critical'],
      ['weak-cipher-anon', 'critical'],
      ['weak-cipher-export', 'critical'],
      ['no-forward-secrecy-suite', 'low'],
    ],
  );
});

test('the accepted suites render per enumerated version, IANA name first', (t) => {
  t.deepEqual(renderAccepted(accepted({ 'TLSv1.2': ['AES128-SHA'], 'TLSv1.3': ['TLS_AES_128_GCM_SHA256'] }), ['TLSv1.2', 'TLSv1.3']), [
    'TLSv1.2  TLS_RSA_WITH_AES_128_CBC_SHA (AES128-SHA)',
    'TLSv1.3  TLS_AES_128_GCM_SHA256',
  ]);
  t.deepEqual(renderAccepted(accepted({}), ['TLSv1']), ['TLSv1    none accepted']);
});

const NOW = Date.parse('2026-06-01T00:00:00Z');
const baseFacts: TlsFacts = {
  host: '127.0.0.1',
  port: 9443,
  servername: 'shop.test',
  now: NOW,
  handshake: { ok: true, error: null, protocol: 'TLSv1.2', cipher: 'TLS_RSA_WITH_AES_128_CBC_SHA', authorized: true, authorizationError: null },
  certificate: null,
  hostnames: {},
  versions: [{ version: 'TLSv1.2', outcome: 'accepted', detail: 'AES128-SHA' }],
  hsts: 'max-age=31536000',
  httpsStatus: 200,
  redirect: { status: 301, location: 'https://shop.test/', error: null },
};

test("the probe's findings: with a scan, the per-class findings replace the negotiated-cipher guess", (t) => {
  const ids = (f: TlsFacts) => publicFindings(f).map((x) => x.id);
  t.deepEqual(ids(baseFacts), ['no-forward-secrecy', 'weak-cipher']);
  const scan = {
    accepted: accepted({ 'TLSv1.2': ['AES128-SHA', 'ECDHE-RSA-AES256-GCM-SHA384'] }),
    versions: ['TLSv1.2' as const],
    handshakes: 90,
    hellos: 30,
    undecided: [],
    undecidedCount: 0,
    complete: true,
    ms: 400,
  };
  t.deepEqual(ids({ ...baseFacts, ciphers: scan }), ['no-forward-secrecy', 'weak-cipher-cbc', 'no-forward-secrecy-suite']);
  const partial = { ...scan, complete: false, undecidedCount: 3, undecided: [{ version: 'TLSv1.2' as const, name: 'RC4-SHA', error: 'ETIMEDOUT' }] };
  const incomplete = publicFindings({ ...baseFacts, ciphers: partial }).find((x) => x.id === 'cipher-scan-incomplete');
  t.is(incomplete?.severity, 'info');
  t.regex(incomplete?.message ?? '', /3 suite\(s\) undecided \(the scan ran out of time\), e\.g\. RC4-SHA on TLSv1\.2: ETIMEDOUT/);
});

test('untrusted chains say why; an insecure look records the choice instead; no HTTP entry, no redirect finding', (t) => {
  const cert = {
    subject: 'CN=shop.test',
    issuer: 'CN=shop fixture CA',
    subjectAltName: 'DNS:shop.test',
    validFrom: '2026-05-01T00:00:00.000Z',
    validTo: '2026-09-01T00:00:00.000Z',
    fingerprint256: 'AA',
    keyType: 'rsa',
    keyBits: 2048,
    curve: null,
    signatureAlgorithm: 'sha256WithRSAEncryption',
    selfSigned: false,
  };
  const modern = { ...baseFacts, handshake: { ...baseFacts.handshake, cipher: 'TLS_AES_128_GCM_SHA256', protocol: 'TLSv1.3' }, certificate: cert };
  const untrusted = { ...modern, handshake: { ...modern.handshake, authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } };
  const system = publicFindings({ ...untrusted, trust: 'system' });
  t.deepEqual(
    system.map((x) => [x.id, x.severity]),
    [['cert-untrusted', 'critical']],
  );
  t.regex(system[0]!.message, /^untrusted issuer .*Node's default trust store \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
  const selfSigned = publicFindings({
    ...untrusted,
    trust: 'ca',
    certificate: { ...cert, selfSigned: true },
    handshake: { ...untrusted.handshake, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
  });
  t.regex(selfSigned[0]!.message, /^self-signed certificate: the chain does not verify against the endpoint's CA/);
  t.deepEqual(
    publicFindings({ ...untrusted, trust: 'none' }).map((x) => [x.id, x.severity]),
    [['cert-not-verified', 'info']],
  );
  t.deepEqual(publicFindings({ ...modern, redirect: { status: null, location: null, error: 'not checked: no HTTP URL' } }), []);
});
