// Certificate faults on a stack faultline did not start: the shop fixture's nginx gate, described in shop.stack.yaml
// (stack.edge). Each fault is checked from outside, independently of faultline (a TLS handshake with the fixture's
// CA, an old-protocol handshake), and after revert the gate's files are byte for byte what they were and nginx
// serves the original certificate. Its own project, port and subnets, so it runs beside the other shop tests.

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { itest as test } from '../helpers/stack.js';
import { SHOP_HOSTNAME, type ShopOptions, type ShopStack } from '../helpers/fixture.js';
import { shopGate, type ShopGate } from '../helpers/shop-gate.js';
import { DockerClient } from '../../src/stack/docker-client.js';
import { attachStack } from '../../src/stack/attach.js';
import { createFaultContext, defaultRegistry, injectFault, type FaultContext } from '../../src/faults/index.js';
import { legacyHandshake } from '../../src/faults/tls-check.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';

const OPTIONS: ShopOptions = { project: 'shopcert', httpsPort: 9744, frontPrefix: '10.219.41', backPrefix: '10.219.42' };

let gate: ShopGate;
let shop: ShopStack | undefined;
let stack: AttachedStack;
let ctx: FaultContext;
let ca: string;
const docker = new DockerClient();

test.before(async (t) => {
  // A machine that has never built the fixture's images builds them first (a few minutes).
  t.timeout(20 * 60_000);
  gate = await shopGate(OPTIONS, docker);
  shop = gate.shop;
  stack = gate.stack;
  ctx = createFaultContext(stack, { holdMs: 300_000 });
  ca = await readFile(gate.shop.caPath, 'utf8');
});

test.after.always(async () => {
  await shop?.down();
});

const served = () => gate.served();
const gateFiles = () => gate.gateFiles();

test.serial('the shop describes its nginx edge, and its CA key is the one that signed the gate', async (t) => {
  t.like(stack.spec.edge, { kind: 'nginx', target: 'service=gate', certificate: '/etc/shop/tls/gate.crt', key: '/etc/shop/tls/gate.key' });
  t.is(stack.spec.edge?.ca_key, shop!.env.SHOP_CA_KEY);
  const hs = await served();
  t.is(hs.authorizationError, null, 'the gate is trusted before any fault');
});

test.serial(
  'cert-expired on the nginx gate: a client sees an expired certificate from the fixture CA; revert brings back the very files and certificate',
  async (t) => {
    const before = await gateFiles();
    const original = (await served()).certificate?.fingerprint256;
    t.truthy(original);
    const active = await injectFault(ctx, defaultRegistry().configure('cert-expired'), AbortSignal.timeout(60_000));
    t.teardown(() => active.revert());
    const hs = await served();
    t.is(hs.authorizationError, 'CERT_HAS_EXPIRED');
    t.not(hs.certificate?.fingerprint256, original);
    t.true(hs.certificate!.checkIssued(new X509Certificate(ca)), 'signed by the fixture CA, so expiry is the only flaw');
    t.truthy(hs.certificate!.checkHost(SHOP_HOSTNAME), 'for the names the endpoint is checked against');
    t.true((await active.check()).active);
    t.is(before['/etc/shop/tls/gate.crt'], (await gateFiles())['/etc/shop/tls/gate.crt'], "the gate's own (read-only) certificate is not touched");
    // The shop keeps serving through the swap: a request verified with the fixture CA now fails on expiry only.
    await t.throwsAsync(shop!.request('/healthz'), { message: /expired/i });

    await active.revert();
    t.deepEqual(await gateFiles(), before, 'the files are byte for byte what they were, nothing left in /run/faultline');
    const after = await served();
    t.is(after.certificate?.fingerprint256, original, 'nginx serves the original certificate');
    t.is(after.authorizationError, null);
    t.is((await shop!.request('/healthz')).status, 200);
  },
);

test.serial(
  'cert-weak-key on the nginx gate: a 1024-bit key is served (nginx loads it at security level 0); revert restores files and certificate',
  async (t) => {
    const before = await gateFiles();
    const original = (await served()).certificate?.fingerprint256;
    const active = await injectFault(ctx, defaultRegistry().configure('cert-weak-key'), AbortSignal.timeout(60_000));
    t.teardown(() => active.revert());
    const hs = await served();
    t.is(hs.keyBits, 1024);
    t.is(hs.authorizationError, null, 'signed by the fixture CA for the right names: only the key is weak');
    await active.revert();
    t.deepEqual(await gateFiles(), before);
    t.is((await served()).certificate?.fingerprint256, original);
  },
);

test.serial('tls-legacy on the nginx gate: TLS 1.0 and 1.1 are accepted while it is in place, refused after the revert', async (t) => {
  const target = { port: OPTIONS.httpsPort!, servername: SHOP_HOSTNAME };
  t.false((await legacyHandshake(target, 'TLSv1')).ok, 'TLS 1.0 refused before');
  const before = await gateFiles();
  const active = await injectFault(ctx, defaultRegistry().configure('tls-legacy'), AbortSignal.timeout(60_000));
  t.teardown(() => active.revert());
  t.is((await legacyHandshake(target, 'TLSv1')).protocol, 'TLSv1');
  t.is((await legacyHandshake(target, 'TLSv1.1')).protocol, 'TLSv1.1');
  await active.revert();
  t.false((await legacyHandshake(target, 'TLSv1')).ok);
  t.false((await legacyHandshake(target, 'TLSv1.1')).ok);
  t.deepEqual(await gateFiles(), before);
});

test.serial('faults the gate cannot take are refused in one line before anything is touched', async (t) => {
  const before = await gateFiles();
  await t.throwsAsync(injectFault(ctx, defaultRegistry().configure('hsts-removed'), AbortSignal.timeout(30_000)), {
    message: 'hsts-removed: the nginx config has no add_header Strict-Transport-Security line',
  });
  await t.throwsAsync(injectFault(ctx, defaultRegistry().configure('http-no-redirect'), AbortSignal.timeout(30_000)), {
    message: /http-no-redirect: .*shop\.stack\.yaml declares no plain-HTTP entry to check \(stack\.endpoint\.http_url\)/,
  });
  const noKey = await attachStack({ spec: { ...stack.spec, edge: { ...stack.spec.edge!, ca_key: undefined } } }, docker);
  await t.throwsAsync(injectFault(createFaultContext(noKey), defaultRegistry().configure('cert-sha1'), AbortSignal.timeout(30_000)), {
    message: /cert-sha1 signs with the endpoint's CA, and .*shop\.stack\.yaml names no key for it \(stack\.edge\.ca_key\)/,
  });
  t.deepEqual(await gateFiles(), before);
  t.deepEqual(await ctx.store.list(), [], 'nothing recorded');
});
