// Mix parsing and the weighted selector (pure).
import test from 'ava';
import { MixSelector, formatMix, parseMix } from '../../src/load/index.js';
import { FaultlineError } from '../../src/errors.js';

test('parses kind=weight lists', (t) => {
  t.deepEqual(parseMix('read=9,write=1'), [
    { kind: 'read', weight: 9 },
    { kind: 'write', weight: 1 },
  ]);
  t.deepEqual(parseMix(' whoami '), [{ kind: 'whoami', weight: 1 }]);
  t.deepEqual(parseMix('read=0,write=2'), [{ kind: 'write', weight: 2 }]);
  t.is(formatMix(parseMix('read=3, whoami=1')), 'read=3,whoami=1');
});

test('bad mixes are INVALID_INPUT naming the field', (t) => {
  for (const bad of ['', 'delete=1', 'read=x', 'read=-1', 'read=1.5', 'read=1,read=2', 'read=0', 'read=9,,write=1', '=3']) {
    const err = t.throws(() => parseMix(bad), { instanceOf: FaultlineError }, bad);
    t.is(err?.code, 'INVALID_INPUT');
    t.regex(err?.message ?? '', /^mix: /);
  }
  t.regex(t.throws(() => parseMix('read=9,delete=1'))?.message ?? '', /unknown kind "delete"/);
});

test('the selector gives exact proportions, spread out', (t) => {
  const sel = new MixSelector(parseMix('read=9,write=1'));
  const picks = Array.from({ length: 1000 }, () => sel.next());
  t.is(picks.filter((k) => k === 'write').length, 100);
  // Never two writes in a row at 9:1.
  t.false(picks.some((k, i) => k === 'write' && picks[i + 1] === 'write'));
  const three = new MixSelector(parseMix('read=5,whoami=3,write=2'));
  const window = Array.from({ length: 10 }, () => three.next());
  t.is(window.filter((k) => k === 'read').length, 5);
  t.is(window.filter((k) => k === 'whoami').length, 3);
  t.is(window.filter((k) => k === 'write').length, 2);
});
