// The closed driver patches autocannon's private Client internals: the check that they exist names what is missing
// in one line, and passes on the version package.json pins.
import test from 'ava';
import { createRequire } from 'node:module';
import { FaultlineError } from '../../src/errors.js';
import {
  AUTOCANNON_VERSION,
  assertAutocannonClient,
  assertAutocannonPrototype,
  missingClientParts,
  missingPrototypeMethods,
} from '../../src/load/autocannon-internals.js';

const require = createRequire(import.meta.url);

test('the installed autocannon is the pinned version, and package.json pins it exactly', (t) => {
  t.is((require('autocannon/package.json') as { version: string }).version, AUTOCANNON_VERSION);
  const pkg = require('../../package.json') as { dependencies: Record<string, string> };
  t.is(pkg.dependencies.autocannon, AUTOCANNON_VERSION);
  t.notThrows(() => assertAutocannonPrototype());
});

test('a Client prototype without a patched method fails with one line naming it', (t) => {
  const proto = { _connect() {}, _doRequest() {} };
  t.deepEqual(missingPrototypeMethods(proto), ['Client.prototype._destroyConnection']);
  const err = t.throws(() => assertAutocannonPrototype(proto), { instanceOf: FaultlineError });
  t.is(err?.code, 'INTERNAL');
  t.regex(
    err?.message ?? '',
    /^closed driver: autocannon [\d.]+ lacks Client\.prototype\._destroyConnection; faultline patches autocannon 8\.0\.0's internals \(run npm ci\)$/,
  );
  t.false(err?.message.includes('\n'));
});

test('a constructed Client missing a part (e.g. a renamed queue method) is named, with every other part accepted', (t) => {
  const fn = () => undefined;
  const client = {
    parser: { initialize: fn, execute: fn },
    pipelinedRequests: { insertRequest: fn, clear: fn, addBytes: fn },
    requestIterator: { nextRequest: fn, recordBody: fn, currentRequest: {}, context: {}, requests: [] },
    timeout: 10_000,
    reqsMade: 0,
    destroyed: false,
    on: fn,
  };
  t.deepEqual(missingClientParts(client), ['client.pipelinedRequests.addByteCount']);
  t.throws(() => assertAutocannonClient(client), { message: /lacks client\.pipelinedRequests\.addByteCount/ });
  t.deepEqual(missingClientParts({ ...client, pipelinedRequests: { ...client.pipelinedRequests, addByteCount: fn } }), []);
});
