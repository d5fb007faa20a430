import test from 'ava';
import { join } from 'node:path';
import { experimentCandidates, locateExperiment } from '../../src/experiment/locate.js';

const cwd = '/home/u/project';
const shipped = '/opt/faultline/experiments';
const only =
  (...files: string[]) =>
  (p: string) =>
    files.includes(p);

test('a name is looked for in ./experiments/ first, then among the shipped experiments', (t) => {
  t.deepEqual(experimentCandidates('lb-kill', cwd, shipped), [
    join(cwd, 'lb-kill'),
    join(cwd, 'experiments', 'lb-kill.yaml'),
    join(cwd, 'experiments', 'lb-kill.yml'),
    join(cwd, 'experiments', 'lb-kill'),
    join(shipped, 'lb-kill.yaml'),
    join(shipped, 'lb-kill.yml'),
    join(shipped, 'lb-kill'),
  ]);
  t.is(locateExperiment('lb-kill', { cwd, shippedDir: shipped, isFile: only(join(shipped, 'lb-kill.yaml')) }), join(shipped, 'lb-kill.yaml'));
  const both = only(join(cwd, 'experiments', 'lb-kill.yaml'), join(shipped, 'lb-kill.yaml'));
  t.is(locateExperiment('lb-kill', { cwd, shippedDir: shipped, isFile: both }), join(cwd, 'experiments', 'lb-kill.yaml'));
});

test('a file as given stays as typed; a name with its extension or a sub-folder is found too', (t) => {
  t.is(locateExperiment('mine.yaml', { cwd, shippedDir: shipped, isFile: only(join(cwd, 'mine.yaml'), join(shipped, 'mine.yaml')) }), 'mine.yaml');
  t.is(locateExperiment('gameday.yaml', { cwd, shippedDir: shipped, isFile: only(join(shipped, 'gameday.yaml')) }), join(shipped, 'gameday.yaml'));
  const sub = join(shipped, 'before-after', 'price.yaml');
  t.is(locateExperiment('before-after/price', { cwd, shippedDir: shipped, isFile: only(sub) }), sub);
});

test('nothing found, or an absolute path, leaves the argument as given for the loader to name', (t) => {
  t.is(locateExperiment('nope', { cwd, shippedDir: shipped, isFile: () => false }), 'nope');
  t.deepEqual(experimentCandidates('/tmp/x.yaml', cwd, shipped), ['/tmp/x.yaml']);
  t.is(locateExperiment('/tmp/x.yaml', { cwd, shippedDir: shipped, isFile: only(join(shipped, 'x.yaml')) }), '/tmp/x.yaml');
});

test('the shipped experiments are found from any folder', (t) => {
  t.true(locateExperiment('web-server-kill', { cwd: '/' }).endsWith(join('experiments', 'web-server-kill.yaml')));
});
