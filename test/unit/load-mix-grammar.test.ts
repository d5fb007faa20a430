// One mix grammar: a mix string means the same on the command line (--mix) and in an experiment file (load.mix), and a
// bad one is refused both ways with the same words (the field's name apart: mix, load.mix).
import test from 'ava';
import YAML from 'yaml';
import { loadInputFromFlags } from '../../src/cli/commands/load.js';
import { InvalidFileError, validateExperiment } from '../../src/experiment/schema.js';
import { validateLoadOptions, type MixEntry } from '../../src/load/index.js';
import { parseWorkload, type WorkloadSpec } from '../../src/load/workload-spec.js';

const url = 'http://127.0.0.1:8080/';

/** The reference app's requests and a shop's: every name the cases use exists. */
const WORKLOAD = {
  preset: 'reference',
  requests: { place: { method: 'POST', path: '/orders', body: '{"ref":"${key}"}', write: true }, lookup: { path: '/orders/1' } },
} as const;

type Outcome = { mix: MixEntry[] } | { error: string };

function fromCommandLine(mix: string, workload: WorkloadSpec | undefined): Outcome {
  try {
    return { mix: validateLoadOptions(loadInputFromFlags(url, { mix, rate: '10' }, workload)).mix ?? [] };
  } catch (err) {
    return { error: (err as Error).message.replace(/^mix: /, '') };
  }
}

function fromFile(mix: string, workload: object | undefined): Outcome {
  const load = { driver: 'paced', rate: 10, duration: '10s', mix, ...(workload ? { workload } : {}) };
  const raw = YAML.parse(YAML.stringify({ title: 'x', load, method: [{ probe: 'health', at: '1s' }] }));
  try {
    return { mix: validateExperiment(raw, 'x.yaml', undefined, {}).load.mix ?? [] };
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    const problems = err.problems.filter((p) => p.path === 'load.mix');
    return { error: problems.map((p) => p.message).join('; ') };
  }
}

const GOOD: Array<[string, MixEntry[]]> = [
  ['read', [{ kind: 'read', weight: 1 }]],
  [
    'read=8,write=2',
    [
      { kind: 'read', weight: 8 },
      { kind: 'write', weight: 2 },
    ],
  ],
  [
    'lookup=8,place=2',
    [
      { kind: 'lookup', weight: 8 },
      { kind: 'place', weight: 2 },
    ],
  ],
  [
    ' Read = 3 , whoami ',
    [
      { kind: 'read', weight: 3 },
      { kind: 'whoami', weight: 1 },
    ],
  ],
  ['read=0,write=2', [{ kind: 'write', weight: 2 }]],
];

const BAD = ['', 'delete=1', 'read=x', 'read=-1', 'read=1.5', 'read=1,read=2', 'read=0', 'read=9,,write=1', '=3', 'place.order=1'];

test('the same mix gives the same entries on the command line and in a file', (t) => {
  const workload = parseWorkload(WORKLOAD);
  for (const [mix, entries] of GOOD) {
    t.deepEqual(fromCommandLine(mix, workload), { mix: entries }, `--mix ${JSON.stringify(mix)}`);
    t.deepEqual(fromFile(mix, WORKLOAD), { mix: entries }, `load.mix: ${JSON.stringify(mix)}`);
  }
});

test('a bad mix is refused both ways with the same words', (t) => {
  const workload = parseWorkload(WORKLOAD);
  for (const mix of BAD) {
    const cli = fromCommandLine(mix, workload);
    t.true('error' in cli && cli.error !== '', `--mix ${JSON.stringify(mix)} is refused`);
    t.deepEqual(fromFile(mix, WORKLOAD), cli, `load.mix: ${JSON.stringify(mix)}`);
  }
  t.deepEqual(fromCommandLine('delete=1', workload), { error: 'unknown request "delete" (requests: whoami, read, write, place, lookup)' });
});

test("without a workload, a file's mix is checked for its form now and for its names when load starts", (t) => {
  t.deepEqual(fromFile('lookup=8,place=2', undefined), {
    mix: [
      { kind: 'lookup', weight: 8 },
      { kind: 'place', weight: 2 },
    ],
  });
  t.deepEqual(fromFile('read=x', undefined), fromCommandLine('read=x', undefined));
  t.deepEqual(fromFile('read=1,read=2', undefined), fromCommandLine('read=1,read=2', undefined));
});
