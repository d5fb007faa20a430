// Tolerances, parameter errors, the continuous runner (fake clock), grades and the pure verdicts of each probe.

import { loadStackSpec } from '../../src/stack/spec.js';
import { referenceSpecFile } from '../../src/stack/reference-stack.js';
import test from 'ava';
import { parseTolerance, withinTolerance } from '../../src/probes/tolerance.js';
import { parseProbeParams } from '../../src/probes/params.js';
import { runContinuously, observation } from '../../src/probes/runner.js';
import { gradeOf } from '../../src/probes/grade.js';
import { getProbe } from '../../src/probes/registry.js';
import { publicFindings, judgeTls, type TlsFacts } from '../../src/probes/tls.js';
import { internalFindings, grantsRequireTls } from '../../src/probes/internal-encryption.js';
import { allowedBy, judgeExposure, parseScanOutput, plannedTargets, VANTAGES, type ExposureCheck } from '../../src/probes/exposure.js';
import { compareQps } from '../../src/probes/qps.js';
import { counterDeltas } from '../../src/probes/prometheus.js';
import { judgeReplication, nodeFacts } from '../../src/probes/replication.js';
import { gtidGap } from '../../src/probes/mysql.js';
import { renderObservation } from '../../src/probes/render.js';
import type { AnyProbe, ProbeContext } from '../../src/probes/types.js';
import type { ServerTarget } from '../../src/probes/targets.js';
import type { Clock } from '../../src/util/retry.js';
import { FaultlineError } from '../../src/errors.js';
import { z } from 'zod';

test('tolerances are matched by type', (t) => {
  t.deepEqual(parseTolerance(true), { type: 'boolean', expect: true });
  t.deepEqual(parseTolerance('<= 2'), { type: 'atMost', max: 2 });
  t.deepEqual(parseTolerance('≥ 0.99'), { type: 'atLeast', min: 0.99 });
  t.deepEqual(parseTolerance([1, 3]), { type: 'range', min: 1, max: 3 });
  t.deepEqual(parseTolerance('/^A$/'), { type: 'regex', pattern: '^A$' });
  t.is(parseTolerance('soon'), null);
  t.is(parseTolerance([3, 1]), null);
  t.true(withinTolerance(2, { type: 'atMost', max: 2 }));
  t.false(withinTolerance('2', { type: 'atMost', max: 2 }), 'a string is not a number');
  t.false(withinTolerance(1, { type: 'boolean', expect: true }));
  t.true(withinTolerance('A', { type: 'regex', pattern: '^[AB]$' }));
  t.false(withinTolerance(Number.NaN, { type: 'range', min: 0, max: 1 }));
});

test('parameter errors name the probe and the field', (t) => {
  const err = t.throws(() => parseProbeParams('exposure', getProbe('exposure').params, { ports: '22,99999' }));
  t.true(err instanceof FaultlineError && err.code === 'INVALID_INPUT');
  t.regex(err!.message, /^probe exposure: ports: /);
  t.regex(t.throws(() => parseProbeParams('qps', getProbe('qps').params, { window: 'soon' }))!.message, /probe qps: window: "soon" is not a duration/);
  t.regex(t.throws(() => parseProbeParams('replication', getProbe('replication').params, { lag: 1 }))!.message, /unknown parameter\(s\) lag/);
  t.regex(t.throws(() => getProbe('nope'))!.message, /unknown probe "nope"/);
  t.deepEqual(parseProbeParams('qps', getProbe('qps').params, { window: '10s' }), { window: 10_000, maxDifference: 0.05, margin: 3000 });
});

function fakeClock(): Clock & { t: number } {
  const c = {
    t: 1_000_000,
    now: () => c.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      c.t += ms;
    },
  };
  return c;
}

const counter: AnyProbe = {
  name: 'counter',
  description: 'test',
  params: z.object({}).strict(),
  async run(ctx) {
    const c = ctx.clock as ReturnType<typeof fakeClock>;
    c.t += 30; // each look takes 30 ms
    return observation('counter', { at: c.t - 30, wall: c.t - 30 }, { value: c.t, tolerance: null }, c.t);
  },
};

test('runContinuously looks on an interval and stops at its bounds', async (t) => {
  const clock = fakeClock();
  const ctx = { clock } as unknown as ProbeContext;
  const byCount = await runContinuously(counter, ctx, { intervalMs: 100, signal: new AbortController().signal, maxObservations: 5 });
  t.is(byCount.length, 5);
  t.deepEqual(
    byCount.map((o) => o.value as number).map((v, i, a) => (i ? v - a[i - 1]! : 0)),
    [0, 100, 100, 100, 100],
  );
  const byTime = await runContinuously(counter, ctx, { intervalMs: 100, signal: new AbortController().signal, maxDurationMs: 1000 });
  t.is(byTime.length, 10);
  const aborted = new AbortController();
  const seen: number[] = [];
  const stopped = await runContinuously(counter, ctx, {
    intervalMs: 100,
    signal: aborted.signal,
    onObservation: (o) => {
      seen.push(o.value as number);
      if (seen.length === 3) aborted.abort();
    },
  });
  t.is(stopped.length, 3);
  await t.throwsAsync(runContinuously(counter, ctx, { intervalMs: 1, signal: aborted.signal }), { message: /interval/ });
});

test('grades: A only without high/critical findings', (t) => {
  t.is(gradeOf([]), 'A');
  t.is(gradeOf([{ id: 'x', severity: 'medium', message: '' }]), 'A');
  t.is(gradeOf([{ id: 'x', severity: 'high', message: '' }]), 'B');
  t.is(
    gradeOf([
      { id: 'x', severity: 'high', message: '' },
      { id: 'y', severity: 'high', message: '' },
    ]),
    'C',
  );
  t.is(gradeOf([{ id: 'x', severity: 'critical', message: '' }]), 'F');
});

const NOW = Date.parse('2026-06-01T00:00:00Z');
function facts(patch: Partial<TlsFacts> = {}, cert: Partial<NonNullable<TlsFacts['certificate']>> = {}): TlsFacts {
  return {
    host: '127.0.0.1',
    port: 8443,
    servername: 'localhost',
    now: NOW,
    handshake: { ok: true, error: null, protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, authorizationError: null },
    certificate: {
      subject: 'CN=faultline.local',
      issuer: 'CN=faultline CA',
      subjectAltName: 'DNS:localhost',
      validFrom: '2026-05-01T00:00:00.000Z',
      validTo: '2026-08-01T00:00:00.000Z',
      fingerprint256: 'AA',
      keyType: 'rsa',
      keyBits: 2048,
      curve: null,
      signatureAlgorithm: 'sha256WithRSAEncryption',
      selfSigned: false,
      ...cert,
    },
    hostnames: { localhost: null },
    versions: [
      { version: 'TLSv1', outcome: 'refused', detail: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
      { version: 'TLSv1.1', outcome: 'refused', detail: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
      { version: 'TLSv1.2', outcome: 'accepted', detail: 'ECDHE-RSA-AES128-GCM-SHA256' },
      { version: 'TLSv1.3', outcome: 'accepted', detail: 'TLS_AES_128_GCM_SHA256' },
    ],
    hsts: 'max-age=31536000; includeSubDomains',
    httpsStatus: 200,
    redirect: { status: 301, location: 'https://localhost:8443/', error: null },
    ...patch,
  };
}

const ids = (f: TlsFacts) => publicFindings(f).map((x) => x.id);

test('TLS: a healthy endpoint has no findings and grade A', (t) => {
  t.deepEqual(publicFindings(facts()), []);
  t.deepEqual(judgeTls([], null, { minGrade: 'A', failOn: 'medium', failOnInternal: false }), { grade: 'A', internalGrade: null, passed: true });
});

test('TLS: each certificate fault maps to its finding', (t) => {
  t.deepEqual(
    ids(facts({ handshake: { ...facts().handshake, authorized: false, authorizationError: 'CERT_HAS_EXPIRED' } }, { validTo: '2026-05-20T00:00:00.000Z' })),
    ['cert-expired'],
  );
  t.deepEqual(ids(facts({ hostnames: { localhost: "Hostname/IP does not match certificate's altnames" } })), ['hostname-mismatch']);
  t.deepEqual(ids(facts({ handshake: { ...facts().handshake, authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' } }, { selfSigned: true })), [
    'cert-untrusted',
  ]);
  const legacy = facts();
  legacy.versions[0] = { version: 'TLSv1', outcome: 'accepted', detail: 'ECDHE-RSA-AES128-SHA' };
  t.deepEqual(ids(legacy), ['legacy-protocol']);
  t.deepEqual(ids(facts({ hsts: null })), ['no-hsts']);
  t.deepEqual(ids(facts({}, { keyBits: 1024 })), ['weak-key']);
  t.deepEqual(ids(facts({}, { signatureAlgorithm: 'sha1WithRSAEncryption' })), ['weak-signature']);
  t.deepEqual(ids(facts({ redirect: { status: 200, location: null, error: null } })), ['no-http-redirect']);
  t.deepEqual(ids(facts({}, { validTo: '2026-06-05T00:00:00.000Z' })), ['cert-expiring']);
  t.deepEqual(ids(facts({ handshake: { ...facts().handshake, protocol: 'TLSv1.2', cipher: 'AES128-GCM-SHA256' } })), ['no-forward-secrecy']);
});

test('TLS: plaintext inside the stack gets its own grade and does not fail the public verdict by default', (t) => {
  const internal = internalFindings({
    http: [{ from: 'lb', to: 'web1', address: '10.0.0.21', plaintextStatus: 200, lbTls: 'plain', error: null }],
    db: {
      reachable: true,
      error: null,
      haveSsl: 'DISABLED',
      requireSecureTransport: false,
      accountsRequireTls: { app: false },
      replicationSsl: 'No',
      clusterSsl: null,
    },
  });
  t.deepEqual(
    internal.map((f) => f.id),
    ['internal-plaintext-http', 'internal-plaintext-db', 'internal-plaintext-replication'],
  );
  t.true(internal.every((f) => f.scope === 'internal'));
  t.deepEqual(judgeTls([], internal, { minGrade: 'A', failOn: 'medium', failOnInternal: false }), { grade: 'A', internalGrade: 'C', passed: true });
  t.false(judgeTls([], internal, { minGrade: 'A', failOn: 'medium', failOnInternal: true }).passed);
  t.true(grantsRequireTls(['GRANT USAGE ON *.* TO `app`@`%` REQUIRE SSL']));
  t.false(grantsRequireTls(['GRANT SELECT ON `faultline`.* TO `app`@`%`']));
});

const servers: ServerTarget[] = [
  {
    server: 'lb',
    role: 'lb',
    hostId: 'a',
    internal: '10.0.0.10',
    edge: '10.0.1.10',
    published: [{ hostIp: '127.0.0.1', hostPort: 8443, containerPort: 443, proto: 'tcp' }],
    state: 'running',
  },
  { server: 'web1', role: 'web', hostId: 'b', internal: '10.0.0.21', edge: undefined, published: [], state: 'running' },
  { server: 'db-primary', role: 'db-primary', hostId: 'c', internal: '10.0.0.31', edge: undefined, published: [], state: 'running' },
];

test("exposure policy (the reference stack's description): strangers reach only the LB on 80/443; 3306 only from apps, replica, operator", async (t) => {
  const REFERENCE_POLICY = (await loadStackSpec(referenceSpecFile, { FAULTLINE_STATE_DIR: '/nonexistent' })).exposure.policy;
  const stranger = ['any'];
  t.true(allowedBy(REFERENCE_POLICY, 'lb', 443, stranger));
  t.false(allowedBy(REFERENCE_POLICY, 'lb', 8404, stranger));
  t.true(allowedBy(REFERENCE_POLICY, 'lb', 8404, ['monitor']));
  t.false(allowedBy(REFERENCE_POLICY, 'db-primary', 3306, stranger), 'the insider must find 3306 closed');
  t.true(allowedBy(REFERENCE_POLICY, 'db-primary', 3306, ['apps']));
  t.true(allowedBy(REFERENCE_POLICY, 'db-primary', 3306, ['replica']));
  t.false(allowedBy(REFERENCE_POLICY, 'db-replica', 3306, ['replica']));
  t.true(allowedBy(REFERENCE_POLICY, 'web', 9100, ['monitor']));
  t.false(allowedBy(REFERENCE_POLICY, 'monitor', 9090, stranger));
});

test("exposure: targets are the servers' own addresses on the vantage's network; holes are open and not allowed", (t) => {
  const internet = VANTAGES.find((v) => v.name === 'internet')!;
  const insider = VANTAGES.find((v) => v.name === 'insider')!;
  t.deepEqual([...new Set(plannedTargets(servers, internet, [80, 3306]).map((x) => x.address))], ['10.0.1.10']);
  const inside = plannedTargets(servers, insider, [80, 3306]);
  t.is(inside.length, 2 * 3 + 1, "plus the LB's published container port 443");
  const checks: ExposureCheck[] = [
    { vantage: 'insider', server: 'lb', role: 'lb', address: '10.0.0.10', port: 443, open: true, allowed: true },
    { vantage: 'insider', server: 'db-primary', role: 'db-primary', address: '10.0.0.31', port: 3306, open: true, allowed: false },
    { vantage: 'insider', server: 'web1', role: 'web', address: '10.0.0.21', port: 80, open: false, allowed: false },
    { vantage: 'insider', server: 'lb', role: 'lb', address: '10.0.0.10', port: 80, open: false, allowed: true },
  ];
  const j = judgeExposure(checks, servers, { role: 'lb', ports: [80, 443], hostIps: ['127.0.0.1'] });
  t.deepEqual(
    j.holes.map((h) => `${h.vantage}:${h.server}:${h.port}`),
    ['insider:db-primary:3306'],
  );
  t.deepEqual(
    j.findings.map((f) => `${f.id}:${f.severity}`),
    ['hole:critical', 'blocked:info'],
  );
  const publicPublish = judgeExposure([], [{ ...servers[0]!, published: [{ hostIp: '0.0.0.0', hostPort: 8443, containerPort: 443, proto: 'tcp' }] }], {
    role: 'lb',
    ports: [443],
    hostIps: ['127.0.0.1'],
  });
  t.deepEqual(
    publicPublish.findings.map((f) => f.id),
    ['published-public'],
  );
  t.deepEqual(
    [...parseScanOutput('R 10.0.0.1 22 closed\nnoise\nR 10.0.0.1 80 open\n')],
    [
      ['10.0.0.1:22', false],
      ['10.0.0.1:80', true],
    ],
  );
});

test('qps: counter deltas handle resets; totals and difference per view', (t) => {
  t.deepEqual(
    counterDeltas([
      [1, 10],
      [2, 15],
      [3, 3],
      [4, 5],
    ]),
    [
      [2, 5],
      [3, 3],
      [4, 2],
    ],
  );
  const client = new Map([
    [101, 200],
    [102, 200],
    [103, 100],
  ]);
  const { value, details } = compareQps({
    window: { startS: 100, endS: 104 },
    client,
    frontend: {
      metric: {},
      values: [
        [100, 1000],
        [101, 1190],
        [102, 1400],
        [103, 1500],
        [104, 1500],
      ],
    },
    lbPerServer: [
      {
        metric: { exported_server: 'web1' },
        values: [
          [100, 0],
          [104, 500],
        ],
      },
    ],
    nginxPerServer: [
      {
        metric: { server: 'web1' },
        values: [
          [100, 10],
          [104, 518],
        ],
      },
    ],
  });
  t.is(value.clientTotal, 500);
  t.is(value.serverTotal, 500);
  t.is(value.difference, 0);
  t.is(value.serverQps, 125);
  t.deepEqual(details.perSecond[0], { t: 101, client: 200, server: 190 });
  t.deepEqual(details.perServerDifference, { web1: 8 });
});

test('replication: running, lag, single writer', (t) => {
  const primary = nodeFacts('db-primary', { ro: 0, binlog: '0-1-42', slave: '' }, undefined);
  const replica = nodeFacts(
    'db-replica',
    { ro: 1, binlog: '0-1-40', slave: '0-1-40' },
    { Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Seconds_Behind_Master: 0 },
  );
  const ok = judgeReplication({ primary, replica }, 2);
  t.true(ok.passed);
  t.deepEqual(ok.value, { running: true, lagSeconds: 0, gtidGap: 2, writers: ['db-primary'] });
  const stopped = judgeReplication({ primary, replica: { ...replica, sqlRunning: 'No', secondsBehind: null, lastError: 'Duplicate entry' } }, 2);
  t.false(stopped.passed);
  t.true(stopped.findings.some((f) => f.id === 'replication-stopped'));
  t.is(gtidGap('0-1-10,1-2-5', '0-1-10'), 5);
});

test("renderers print the verdict, the probe's lines and the findings", (t) => {
  const o = observation(
    'exposure',
    { at: 0, wall: 0 },
    {
      value: { holes: 1, checked: 2 },
      tolerance: { type: 'atMost', max: 0 },
      details: { checks: [{ vantage: 'insider', server: 'db-primary', role: 'db-primary', address: '10.0.0.31', port: 3306, open: true, allowed: false }] },
      findings: [{ id: 'hole', severity: 'critical', message: 'db-primary:3306 is reachable' }],
    },
    5,
  );
  const text = renderObservation(o);
  t.regex(text, /^probe exposure: FAILED \(tolerance ≤ 0\)/);
  t.regex(text, /insider\s+1 checked; open: db-primary:3306 \(HOLE\)/);
  t.regex(text, /\[critical\] hole: db-primary:3306 is reachable/);
});
