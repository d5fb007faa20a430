// Mix parsing over request names and the weighted selector (pure).
import test from 'ava';
import { MixSelector, formatMix, parseMix, validateMix } from '../../src/load/index.js';
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
  t.is(t.throws(() => parseMix('read=9,delete=1'))?.message, 'mix: unknown request "delete" (requests: read, whoami, write)');
});

test('a mix names the requests of a workload: lowercase letters, digits, - and _', (t) => {
  const names = ['place-order', 'lookup_2', 'list'];
  t.deepEqual(parseMix('place-order=2, lookup_2=8', 'mix', names), [
    { kind: 'place-order', weight: 2 },
    { kind: 'lookup_2', weight: 8 },
  ]);
  t.deepEqual(parseMix('LIST=1', 'mix', names), [{ kind: 'list', weight: 1 }]);
  // Unknown names: one line, the field, the known names.
  t.is(t.throws(() => parseMix('read=1', 'workload.mix', names))?.message, 'workload.mix: unknown request "read" (requests: place-order, lookup_2, list)');
  t.is(t.throws(() => parseMix('place.order=1', 'mix', names))?.message, 'mix: cannot read "place.order=1"; expected name=weight, e.g. place-order=9');
  // Without names (a library caller's entries), only the form is checked.
  t.deepEqual(validateMix([{ kind: 'anything-1', weight: 3 }]), [{ kind: 'anything-1', weight: 3 }]);
  t.regex(t.throws(() => validateMix([{ kind: 'Bad Name', weight: 1 }]))?.message ?? '', /^mix: "Bad Name" is not a request name/);
});

test('the selector picks custom names by index in exact proportion', (t) => {
  const sel = new MixSelector(parseMix('place=2,lookup=8', 'mix', ['place', 'lookup']));
  t.deepEqual(sel.names, ['place', 'lookup']);
  const picks = Array.from({ length: 100 }, () => sel.next());
  t.is(picks.filter((k) => k === 'place').length, 20);
  t.is(picks.filter((k) => k === 'lookup').length, 80);
  const again = new MixSelector(parseMix('place=2,lookup=8', 'mix', ['place', 'lookup']));
  t.deepEqual(
    Array.from({ length: 100 }, () => again.names[again.nextIndex()]),
    picks,
    'the same sequence every run',
  );
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
