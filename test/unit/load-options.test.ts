// Option validation: every bad input is one INVALID_INPUT naming its field; defaults are filled.
import test from 'ava';
import { validateLoadOptions, isLoopbackHost, backoffDelay, errorCodeOf, isTlsErrorCode, toSettings } from '../../src/load/index.js';
import { FaultlineError, ExitCode } from '../../src/errors.js';

const url = 'http://127.0.0.1:8080/';

function fails(t: import('ava').ExecutionContext, input: Parameters<typeof validateLoadOptions>[0], field: string) {
  const err = t.throws(() => validateLoadOptions(input), { instanceOf: FaultlineError });
  t.is(err?.code, 'INVALID_INPUT');
  t.is(err?.exitCode, ExitCode.invalidInput);
  t.true(err?.message.startsWith(`${field}: `), err?.message);
  t.false(err?.message.includes('\n'));
}

test('bad input is refused with the field named', (t) => {
  fails(t, { url, rate: 0 }, 'rate');
  fails(t, { url, rate: -1 }, 'rate');
  fails(t, { url, mix: 'read=1,delete=1' }, 'mix');
  fails(t, { url: 'not a url' }, 'url');
  fails(t, { url: 'ftp://127.0.0.1/' }, 'url');
  fails(t, { url: 'http://example.com/' }, 'url');
  fails(t, { url: 'http://10.0.0.1/' }, 'url');
  fails(t, { url: 'http://127.0.0.2/' }, 'url');
  fails(t, { url, connections: 0 }, 'connections');
  fails(t, { url, connections: 1.5 }, 'connections');
  fails(t, { url, durationMs: 0 }, 'duration');
  fails(t, { url, requests: 0 }, 'requests');
  fails(t, { url, bucketMs: 0 }, 'bucket');
  fails(t, { url, maxInFlight: 0 }, 'maxInFlight');
  fails(t, { url, rate: 10, pipelining: 4 }, 'pipelining');
  fails(t, { url, ca: 'x' }, 'ca');
  fails(t, { url, insecure: true }, 'insecure');
  fails(t, { url: 'https://127.0.0.1/', insecure: true, ca: '-----BEGIN CERTIFICATE-----\n' }, 'insecure');
  fails(t, { url, runId: 'a_b' }, 'runId');
  fails(t, { url, idRange: { min: 5, max: 1 } }, 'idRange');
  fails(t, { url, durationMs: 3_600_000, bucketMs: 1 }, 'bucket');
});

test('loopback targets pass; remote ones only with the explicit flag', (t) => {
  for (const h of ['127.0.0.1', 'localhost', '[::1]', '::1', 'LOCALHOST']) t.true(isLoopbackHost(h), h);
  for (const h of ['127.0.0.2', '0.0.0.0', 'example.com', '192.168.1.1', '[::]']) t.false(isLoopbackHost(h), h);
  t.is(validateLoadOptions({ url: 'http://[::1]:9/' }).url.hostname, '[::1]');
  t.is(validateLoadOptions({ url: 'http://example.com/', allowRemoteTarget: true }).url.hostname, 'example.com');
});

test('defaults: closed with 10 connections, paced when a rate is given', (t) => {
  const closed = validateLoadOptions({ url });
  t.is(closed.driver, 'closed');
  t.is(closed.connections, 10);
  t.is(closed.durationMs, 30_000);
  t.is(closed.bucketMs, 100);
  t.is(closed.mix, null);
  t.regex(closed.runId, /^[A-Za-z0-9]+$/);
  const paced = validateLoadOptions({ url, rate: 200, requests: 1000 });
  t.is(paced.driver, 'paced');
  t.is(paced.durationMs, 5000); // 1000 requests at 200/s
  t.deepEqual(paced.stages, [{ durationMs: 5000, from: 200, to: 200 }]);
  t.is(validateLoadOptions({ url, requests: 5 }).durationMs, 600_000); // a cap, so the run always ends
});

test('servername: URL name, else the Host header name for an IP target, never an IP', (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n';
  t.is(validateLoadOptions({ url: 'https://localhost:8443/', ca: pem }).servername, 'localhost');
  t.is(validateLoadOptions({ url: 'https://127.0.0.1:8443/', ca: pem }).servername, null);
  t.is(validateLoadOptions({ url: 'https://127.0.0.1:8443/', ca: pem, hostHeader: 'faultline.local:8443' }).servername, 'faultline.local');
  t.is(validateLoadOptions({ url: 'https://127.0.0.1:8443/', ca: pem, servername: 'faultline.local' }).servername, 'faultline.local');
});

test('reconnect back-off doubles from 10 ms to a 1 s cap', (t) => {
  t.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffDelay(n)),
    [10, 20, 40, 80, 160, 320, 640, 1000, 1000],
  );
  t.is(backoffDelay(0), 0);
});

test('error codes are named the same whichever client raised them', (t) => {
  const e = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });
  t.is(errorCodeOf(e('ECONNREFUSED')), 'ECONNREFUSED');
  t.is(errorCodeOf(e('UND_ERR_SOCKET')), 'ECONNRESET');
  t.is(errorCodeOf(e('UND_ERR_SOCKET', e('EPIPE'))), 'EPIPE');
  t.is(errorCodeOf(e('UND_ERR_HEADERS_TIMEOUT')), 'ETIMEDOUT');
  t.is(errorCodeOf(e('UND_ERR_CONNECT_TIMEOUT')), 'ETIMEDOUT');
  t.is(errorCodeOf(e('DEPTH_ZERO_SELF_SIGNED_CERT')), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  t.is(errorCodeOf(new AggregateError([e('ECONNREFUSED'), e('ECONNREFUSED')])), 'ECONNREFUSED');
  t.is(errorCodeOf(new Error('x', { cause: e('ECONNRESET') })), 'ECONNRESET');
  t.is(errorCodeOf('weird'), 'UNKNOWN');
  t.true(isTlsErrorCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'));
  t.true(isTlsErrorCode('CERT_HAS_EXPIRED'));
  t.true(isTlsErrorCode('ERR_TLS_CERT_ALTNAME_INVALID'));
  t.false(isTlsErrorCode('ECONNRESET'));
});

test('issue 18 finding 4: header values never reach the result the journal, the bundle and --json carry', (t) => {
  const o = validateLoadOptions({
    url: 'https://127.0.0.1:8443/',
    rate: 10,
    durationMs: 1000,
    mix: 'read',
    workload: { requests: { read: { method: 'GET', path: '/items', headers: { authorization: 'Bearer s3cret-token', 'x-api-key': 'k3y' } } } },
  });
  t.is(o.workload?.read?.headers.authorization, 'Bearer s3cret-token', 'the requests themselves carry the header');
  const json = JSON.stringify(toSettings(o));
  t.false(json.includes('s3cret-token'));
  t.false(json.includes('k3y'));
  t.deepEqual(toSettings(o).workload?.read?.headers, { authorization: '[redacted]', 'x-api-key': '[redacted]' });
});
