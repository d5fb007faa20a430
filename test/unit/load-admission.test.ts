// When the paced driver may open a socket past its base pool: only past connections that hang, judged against how
// long answers took lately (pure, with a fake clock).
import test from 'ava';
import { Admission } from '../../src/load/admission.js';

test('below the base pool every request may go onto a socket', (t) => {
  const a = new Admission(4);
  t.true(a.mayHandOff(0, [0, 0, 0], 3));
  t.false(a.mayHandOff(10, [0, 0, 0, 0], 4), 'four busy, none hung: wait for one');
});

test('a connection whose request is far older than recent answers is hung and does not count against the base', (t) => {
  const a = new Admission(2);
  a.answered(100, 10); // answers take 10 ms: hung after max(250, 4 × 10) ms
  t.is(a.hangAfterMs(100), 250);
  t.false(a.mayHandOff(300, [290, 100], 2), 'the oldest is 200 ms old: not hung yet');
  t.true(a.mayHandOff(360, [290, 100], 2), 'the oldest is 260 ms old: hung, so one more socket');
  t.false(a.mayHandOff(360, [350, 290, 100], 3), 'one hung, two working: the base is full again');
  t.true(a.mayHandOff(600, [350, 290, 100], 3), 'all three hung');
});

test('on a slow or starved target the hang threshold follows the answers, so the pool does not grow', (t) => {
  const a = new Admission(2);
  // A loaded machine: answers keep coming, each after 2 s.
  for (const at of [500, 1400, 2300, 3000]) a.answered(at, 2000);
  t.is(a.hangAfterMs(3000), 8000);
  t.false(a.mayHandOff(3000, [100, 0], 2), 'requests 3 s old are slow, not hung');
  // Then two windows without any answer (a hang): the threshold falls back to its floor.
  t.is(a.hangAfterMs(5100), 250);
  t.true(a.mayHandOff(5100, [100, 0], 2));
});
