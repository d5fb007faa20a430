// Probes against the real stack: healthy verdicts, then each certificate fault and a firewall hole from the
// fault catalogue (injectFault → probe → revert), with the stack checked to be exactly as before afterwards.
// Stack-changing tests hold the shared lock of the fault tests, so files running in parallel do not collide.

import { itest as test, sharedStack } from '../helpers/stack.js';
import { exclusive, faultContext, hostOf } from '../helpers/faults.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import { runLoad } from '../../src/load/index.js';
import { defaultRegistry, handshake, injectFault, type FaultContext } from '../../src/faults/index.js';
import {
  runProbe,
  getProbe,
  renderObservation,
  type Observation,
  type ProbeContext,
  type TlsValue,
  type TlsFacts,
  type QpsValue,
  type ReplicationValue,
  type ExposureCheck,
  type InternalEncryptionValue,
} from '../../src/probes/index.js';

let stack: AttachedStack;
let ctx: ProbeContext;
let faults: FaultContext;
const registry = defaultRegistry();

test.before(async () => {
  stack = await sharedStack();
  ctx = { stack, docker: stack.docker };
  faults = faultContext(stack);
});

const probe = (name: string, params: unknown = {}, c: ProbeContext = ctx) => runProbe(getProbe(name), c, params, AbortSignal.timeout(120_000));
const findingIds = (o: Observation) => o.findings.map((f) => f.id);
const fingerprint = async () => (await handshake({ port: stack.options.httpsPort })).certificate?.fingerprint256;

test.serial('healthy stack: the TLS probe passes (valid chain, TLS 1.0/1.1 refused, HSTS) and grades inside plaintext separately', async (t) => {
  await exclusive(stack, async () => {
    const o = (await probe('tls')) as Observation<TlsValue>;
    t.log(renderObservation(o));
    t.true(o.passed);
    t.is(o.value.grade, 'A');
    t.deepEqual(o.value.protocols, { TLSv1: 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' });
    const f = o.details.public as TlsFacts;
    t.true(f.handshake.authorized);
    t.regex(f.hsts ?? '', /max-age=\d+/);
    t.true(o.value.daysToExpiry! > 14);
    t.deepEqual(
      o.findings.filter((x) => x.scope === 'public'),
      [],
    );
    // Weakness 1 of the design: LB → web is plaintext, and the app's DB sessions need no TLS.
    t.true(findingIds(o).includes('internal-plaintext-http'));
    t.true(findingIds(o).includes('internal-plaintext-db'));
    t.not(o.value.internalGrade, 'A');
  });
});

test.serial('healthy stack: internal-encryption reports the plaintext hops of weakness 1 and fails', async (t) => {
  const o = (await probe('internal-encryption')) as Observation<InternalEncryptionValue>;
  t.log(renderObservation(o));
  t.is(o.error, undefined);
  t.false(o.passed);
  // The three hops of the data path, all plaintext: LB → web servers over HTTP, web → primary without TLS,
  // replication without TLS.
  t.is(o.value.plaintextHops, 3);
  t.deepEqual(
    o.value.hops.map((h) => [h.from, h.to, h.encrypted]),
    [
      ['lb', 'web servers', false],
      ['web servers', 'database', false],
      ['db-primary', 'db-replica', false],
    ],
  );
  t.deepEqual([...new Set(findingIds(o))].sort(), ['internal-plaintext-db', 'internal-plaintext-http', 'internal-plaintext-replication']);
  t.true(o.findings.every((f) => f.scope === 'internal'));
});

test.serial('healthy stack: exposure reports no hole from the internet or the insider', async (t) => {
  await exclusive(stack, async () => {
    const o = await probe('exposure');
    t.log(renderObservation(o));
    t.is(o.error, undefined);
    t.true(o.passed);
    t.deepEqual((o.details.holes as ExposureCheck[]).length, 0);
    const open = (o.details.open as ExposureCheck[]).map((c) => `${c.vantage}:${c.server}:${c.port}`).sort();
    t.deepEqual(open, ['insider:lb:443', 'insider:lb:80', 'internet:lb:443', 'internet:lb:80']);
    // No vantage helper is left behind.
    t.deepEqual(
      (await stack.containers()).filter((c) => c.role === 'vantage'),
      [],
    );
  });
});

test.serial('healthy stack: replication is running with lag under 2 s and one writer', async (t) => {
  await exclusive(stack, async () => {
    const o = (await probe('replication', { maxLag: 2 })) as Observation<ReplicationValue>;
    t.log(renderObservation(o));
    t.true(o.passed);
    t.true(o.value.running);
    t.true(o.value.lagSeconds !== null && o.value.lagSeconds < 2);
    t.deepEqual(o.value.writers, ['db-primary']);
  });
});

test.serial('QPS: the client and server views agree within 5% over a 10 s paced run at 200 req/s', async (t) => {
  await exclusive(stack, async () => {
    // The client view counts what the driver sent. With the in-flight bound at the socket pool's size, "sent"
    // means "written to a socket": nothing waits in undici's queue (where a request can time out without ever
    // reaching the LB), and a stack too slow for 200 req/s shows as dropped sends, counted and never sent.
    // The run waits for every request until its deadline, so a slow stack answers everything before the views are compared.
    const result = await runLoad(
      { url: `${stack.httpsUrl}/whoami`, rate: 200, durationMs: 10_000, connections: 64, maxInFlight: 64, timeoutMs: 10_000, ca: await stack.ca() },
      { signal: AbortSignal.timeout(90_000) },
    );
    const s = result.summary;
    t.log(
      `sent ${s.sent}, dropped ${s.dropped}, answered ${s.responses}, errors ${JSON.stringify(s.errorCodes)}, p50 ${s.latency.p50} ms (uncorrected ${s.uncorrected?.p50} ms)`,
    );
    t.is(s.sent + s.dropped, 2000, 'the schedule was 200 req/s for 10 s');
    // Drops mean the machine could not serve 200 req/s (seen here with three stacks on two cores); the views
    // must still agree on what was sent, so only a floor on the sample size is asserted.
    t.true(s.sent >= 200, `sent ${s.sent}`);
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
});

// Each certificate fault of the catalogue and the finding the TLS probe must report for it.
const CERT_CASES = [
  { fault: 'cert-expired', finding: 'cert-expired' },
  { fault: 'cert-wrong-host', finding: 'hostname-mismatch' },
  { fault: 'cert-self-signed', finding: 'cert-untrusted' },
  { fault: 'tls-legacy', finding: 'legacy-protocol' },
  { fault: 'hsts-removed', finding: 'no-hsts' },
] as const;

for (const c of CERT_CASES) {
  test.serial(`fault ${c.fault}: the TLS probe reports ${c.finding} and fails; after revert it passes again`, async (t) => {
    await exclusive(stack, async () => {
      const before = await fingerprint();
      t.truthy(before);
      const active = await injectFault(faults, registry.configure(c.fault), AbortSignal.timeout(90_000), { holdMs: 300_000 });
      t.teardown(() => active.revert());
      let o: Observation<TlsValue>;
      try {
        o = (await probe('tls', { internal: false })) as Observation<TlsValue>;
      } finally {
        await active.revert();
      }
      t.log(renderObservation(o));
      t.is(o.error, undefined);
      t.true(findingIds(o).includes(c.finding), `${c.fault} → ${c.finding}; got ${findingIds(o).join(', ')}`);
      t.false(o.passed, `${c.fault} must fail the probe`);
      if (c.fault === 'tls-legacy') {
        t.is(o.value.protocols.TLSv1, 'accepted');
        t.is(o.value.protocols['TLSv1.1'], 'accepted');
      }
      if (c.fault === 'hsts-removed') t.is((o.details.public as TlsFacts).hsts, null);
      // Nothing but the injected flaw: a certificate fault leaves protocols alone, a config fault the certificate.
      if (c.fault.startsWith('cert-')) t.is(o.value.protocols.TLSv1, 'refused');
      else t.true((o.details.public as TlsFacts).handshake.authorized);
      t.is(await fingerprint(), before, 'the original certificate is served again');
      const after = (await probe('tls', { internal: false })) as Observation<TlsValue>;
      t.true(after.passed, `and the TLS probe passes again: ${findingIds(after).join(', ')}`);
    });
  });
}

test.serial('fault firewall-open-port (3306 on the primary): exposure reports exactly that hole from the insider', async (t) => {
  await exclusive(stack, async () => {
    const host = await hostOf(stack, 'db-primary');
    const listing = async () => (await stack.docker.exec(host, ['nft', 'list', 'ruleset'])).stdout;
    const original = await listing();
    const active = await injectFault(
      faults,
      registry.configure('firewall-open-port', { target: 'server=db-primary', params: { port: 3306 } }),
      AbortSignal.timeout(60_000),
      { holdMs: 300_000 },
    );
    t.teardown(() => active.revert());
    let o: Observation;
    try {
      o = await probe('exposure');
    } finally {
      await active.revert();
    }
    t.log(renderObservation(o));
    t.is(o.error, undefined);
    t.false(o.passed);
    t.deepEqual(
      (o.details.holes as ExposureCheck[]).map((h) => `${h.vantage}:${h.server}:${h.port}`),
      ['insider:db-primary:3306'],
    );
    t.deepEqual(
      o.findings.filter((f) => f.id === 'hole').map((f) => f.severity),
      ['critical'],
    );
    t.is(await listing(), original, 'the firewall is exactly as before');
    const after = await probe('exposure');
    t.true(after.passed, 'and exposure reports no hole again');
  });
});
