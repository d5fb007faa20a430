// HTTPS: the certificate is verified against the given CA by default; a certificate from another CA fails every
// request with its TLS error code (counted, never hidden), unless --insecure is chosen explicitly.
import test from 'ava';
import { isTlsErrorCode, runLoad } from '../../src/load/index.js';
import type { LoadOptionsInput } from '../../src/load/index.js';
import { makeCerts, startServer } from './_support.js';

const certs = makeCerts();
test.after.always(() => certs.cleanup());

const drivers: Array<[string, Partial<LoadOptionsInput>]> = [
  ['paced', { rate: 100 }],
  ['closed', { connections: 2 }],
];

for (const [name, driver] of drivers) {
  test.serial(`${name}: a certificate signed by another CA fails every request with a TLS code`, async (t) => {
    const server = await startServer({ tls: { key: certs.otherKey, cert: certs.otherCert }, handler: undefined });
    t.teardown(() => server.close());
    const r = await runLoad({ url: server.url, ...driver, durationMs: 1000, ca: certs.caCert, mix: 'whoami=1,write=1' });
    const s = r.summary;
    t.true(s.sent > 0);
    t.is(s.successes, 0);
    t.is(s.responses, 0);
    t.is(s.errors, s.sent);
    const codes = Object.keys(s.errorCodes);
    t.true(codes.length > 0 && codes.every(isTlsErrorCode), JSON.stringify(s.errorCodes));
    t.true((s.errorCodes.UNABLE_TO_VERIFY_LEAF_SIGNATURE ?? 0) > 0, JSON.stringify(s.errorCodes));
    // A write whose TLS handshake failed never left this machine: a definite fail, not unknown.
    const c = r.ledger.counts();
    t.true(c.attempted > 0);
    t.is(c.fail, c.attempted);
    if (name === 'closed') t.true(s.errors <= 2 * 15, `${s.errors} errors: failed handshakes back off`);
  });

  test.serial(`${name}: --insecure is an explicit choice that lets the same server through`, async (t) => {
    const server = await startServer({ tls: { key: certs.otherKey, cert: certs.otherCert } });
    t.teardown(() => server.close());
    const r = await runLoad({ url: server.url, ...driver, durationMs: 500, insecure: true });
    t.is(r.summary.errors, 0);
    t.true(r.summary.successes > 0);
    t.is(r.summary.successes, r.summary.sent);
    t.true(r.options.insecure);
  });

  test.serial(`${name}: a certificate from the given CA verifies, also by a name the Host header supplies`, async (t) => {
    const server = await startServer({ tls: { key: certs.goodKey, cert: certs.goodCert } });
    t.teardown(() => server.close());
    const byIp = await runLoad({ url: server.url, ...driver, durationMs: 500, ca: certs.caCert });
    t.is(byIp.summary.errors, 0);
    t.true(byIp.summary.successes > 0);
    const byName = await runLoad({ url: server.url, ...driver, durationMs: 500, ca: certs.caCert, hostHeader: 'faultline.local' });
    t.is(byName.options.servername, 'faultline.local');
    t.is(byName.summary.errors, 0);
    t.true(byName.summary.successes > 0);
    // A name the certificate is not for is a TLS failure with its own code.
    const wrong = await runLoad({ url: server.url, ...driver, durationMs: 300, ca: certs.caCert, servername: 'elsewhere.test' });
    t.is(wrong.summary.successes, 0);
    t.true((wrong.summary.errorCodes.ERR_TLS_CERT_ALTNAME_INVALID ?? 0) > 0, JSON.stringify(wrong.summary.errorCodes));
  });
}
