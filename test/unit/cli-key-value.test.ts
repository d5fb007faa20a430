// The CLI's key=value words, as `fault inject --param` and `probe <name> k=v` read them.

import test from 'ava';
import { parseKeyValues } from '../../src/cli/key-value.js';
import { collectParams } from '../../src/cli/commands/fault.js';
import { probeParamsFrom } from '../../src/cli/commands/probe.js';

test('key=value words become an object: the value is all after the first =, both sides trimmed, a later key wins', (t) => {
  t.deepEqual(parseKeyValues(['ports=22,3306', 'query=a=b', ' maxLag = 2 ', 'empty=', 'ports=80'], 'params'), {
    ports: '80',
    query: 'a=b',
    maxLag: '2',
    empty: '',
  });
  t.deepEqual(parseKeyValues([], 'params'), {});
});

test('a word without a key is invalid input naming the flag and the word', (t) => {
  for (const word of ['novalue', '=5', ' =5', '']) {
    const err = t.throws(() => parseKeyValues(['ok=1', word], 'param'));
    t.is((err as { code?: string }).code, 'INVALID_INPUT', word);
    t.is(err!.message, `param: expected key=value, got ${JSON.stringify(word)}`);
  }
});

test('fault and probe commands read their words through it and add the named shorthands', (t) => {
  t.deepEqual(collectParams({ param: ['delay=100ms', 'jitter=5ms'], port: '3306' }), { delay: '100ms', jitter: '5ms', port: '3306' });
  t.deepEqual(probeParamsFrom(['maxLag=2'], { window: '10s' }), { maxLag: '2', window: '10s' });
  t.throws(() => collectParams({ param: ['delay'] }), { message: /^param: expected key=value/ });
  t.throws(() => probeParamsFrom(['window'], {}), { message: /^params: expected key=value/ });
});
