// Every probe in the catalogue accepts an empty parameter object: its defaults must pass its own validation
// (a default in milliseconds fed through a field that reads bare numbers as seconds once broke `probe recovery`).

import test from 'ava';
import { probes } from '../../src/probes/registry.js';
import { parseProbeParams } from '../../src/probes/params.js';

for (const probe of probes.list()) {
  test(`${probe.name}: defaults are valid`, (t) => {
    t.notThrows(() => parseProbeParams(probe.name, probe.params, {}));
  });
}

test('recovery: the default recovery run is 3 s', (t) => {
  const recovery = probes.get('recovery');
  t.is((parseProbeParams('recovery', recovery.params, {}) as { recoveryRun: number }).recoveryRun, 3000);
});
