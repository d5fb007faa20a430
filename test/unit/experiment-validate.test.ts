// Validation of experiment files without running anything: every problem of a file at once, the nearest
// name for a typo, environment substitution, and the grades the schema accepts (pure, no Docker).

import test from 'ava';
import YAML from 'yaml';
import { InvalidFileError, validateExperiment } from '../../src/experiment/schema.js';
import { catalogue } from '../../src/experiment/catalogue.js';
import { substituteEnv } from '../../src/experiment/env.js';
import { editDistance, suggestion } from '../../src/util/suggest.js';
import type { Problem } from '../../src/util/zod.js';

const LOAD = 'load: { driver: paced, rate: 10, duration: 10s }';
const problemsOf = (yaml: string, env: NodeJS.ProcessEnv = {}): Problem[] => {
  try {
    validateExperiment(YAML.parse(yaml), 'x.yaml', catalogue(), env);
  } catch (err) {
    if (err instanceof InvalidFileError) return err.problems;
    throw err;
  }
  return [];
};

test("every problem of a file at once, in the file's order, one line each naming the file", (t) => {
  const yaml = [
    'title: x',
    'load: { driver: paced, rate: 10, duration: 10s, warmup: soon }',
    'method:',
    '  - fault: db-primary-kil',
    '    at: 2s',
    '  - probe: replicaton',
    '    during: nothing',
    '  - fault: net-loss',
    '    target: server=web1',
    '    params: { loss: 150 }',
    'assertions:',
    '  - metric: p99_m',
    '    max: 300',
    '  - metric: tls_grade',
    '    min: A+',
  ].join('\n');
  const problems = problemsOf(yaml);
  t.deepEqual(
    problems.map((p) => p.path),
    ['load.warmup', 'method[0].fault', 'method[1].during', 'method[1].probe', 'method[2].params', 'assertions[0].metric', 'assertions[1].min'],
  );
  const by = Object.fromEntries(problems.map((p) => [p.path, p.message]));
  t.is(by['method[0].fault'], 'unknown fault "db-primary-kil"; did you mean db-primary-kill?');
  t.is(by['method[1].probe'], 'unknown probe "replicaton"; did you mean replication?');
  t.regex(by['assertions[0].metric']!, /unknown "p99_m"; did you mean p99_ms\?/);
  t.regex(by['assertions[1].min']!, /expected a grade \(A, B, C, D, E, F\)/);
  t.regex(by['method[2].params']!, /net-loss: loss: must be at most 100%/);
  t.regex(by['load.warmup']!, /"soon" is not a duration/);
  const err = t.throws(() => validateExperiment(YAML.parse(yaml), 'x.yaml', catalogue(), {})) as InvalidFileError;
  t.is(err.exitCode, 2);
  t.is(err.message.split('\n').length, problems.length);
  t.true(err.message.split('\n').every((l) => l.startsWith('x.yaml: ')));
});

test('a name far from every known one gets no suggestion, but the list to choose from', (t) => {
  const [fault] = problemsOf(`title: x\n${LOAD}\nmethod:\n  - fault: zzz\n`);
  t.is(fault?.message, 'unknown fault "zzz" (see `faultline fault list`)');
  const [probe] = problemsOf(`title: x\n${LOAD}\nmethod:\n  - probe: zzz\n`);
  t.regex(probe!.message, /^unknown probe "zzz" \(known: .*replication.*\)$/);
});

test("a valid file has no problem; min: A passes, and the grade list is the probes' one", (t) => {
  t.deepEqual(
    problemsOf(`title: x\n${LOAD}\nmethod:\n  - fault: db-primary-kill\n    at: 2s\n    for: 3s\nassertions:\n  - metric: tls_grade\n    min: A\n`),
    [],
  );
});

test('missing environment variables are every one reported, by field', (t) => {
  const problems = problemsOf(`title: \${TITLE}\n${LOAD}\nmethod:\n  - fault: db-primary-kill\nassertions:\n  - metric: lost_writes\n    max: \${MAX_LOST}\n`);
  t.deepEqual(problems, [
    { path: 'title', message: 'environment variable TITLE is not set and has no default' },
    { path: 'assertions[0].max', message: 'environment variable MAX_LOST is not set and has no default' },
  ]);
});

const substitutions: Array<[string, unknown, NodeJS.ProcessEnv, unknown]> = [
  ['a set variable', 'at ${WHEN}', { WHEN: '5s' }, 'at 5s'],
  ['the default when unset', '${WHEN:-3s}', {}, '3s'],
  ['the variable over its default', '${WHEN:-3s}', { WHEN: '9s' }, '9s'],
  ['a whole-value number becomes a number', '${MAX:-0.01}', {}, 0.01],
  ['a number inside text stays text', 'p${N:-99}', {}, 'p99'],
  ['an empty default', '${X:-}', {}, ''],
  ['nested in arrays and objects', { a: ['${A:-1}', { b: '${B}' }] }, { B: 'two' }, { a: [1, { b: 'two' }] }],
  ['no variable, no change', { n: 3, s: 'plain', t: true }, {}, { n: 3, s: 'plain', t: true }],
];
for (const [name, input, env, expected] of substitutions) test(`substituteEnv: ${name}`, (t) => t.deepEqual(substituteEnv(input, env), expected));

test('substituteEnv: a missing variable without default throws naming the field', (t) => {
  t.regex(t.throws(() => substituteEnv({ load: { rate: '${RATE}' } }, {}))!.message, /^load\.rate: environment variable RATE is not set/);
});

const distances: Array<[string, string, number]> = [
  ['', '', 0],
  ['kitten', 'sitting', 3],
  ['db-primary-kil', 'db-primary-kill', 1],
  ['abc', '', 3],
  ['flaw', 'lawn', 2],
];
for (const [a, b, d] of distances) test(`editDistance "${a}" "${b}" = ${d}`, (t) => t.is(editDistance(a, b), d));

const suggestions: Array<[string, string[], string | undefined]> = [
  ['db-primary-kil', ['db-replica-kill', 'db-primary-kill'], 'db-primary-kill'],
  ['TLS', ['tls', 'qps'], 'tls'],
  ['cert-expird', ['cert-expired', 'cert-self-signed'], 'cert-expired'],
  ['zzz', ['tls', 'qps'], undefined],
  ['ab', ['xy'], undefined],
];
for (const [input, known, expected] of suggestions) test(`suggestion "${input}" → ${expected ?? 'none'}`, (t) => t.is(suggestion(input, known), expected));

test('a fault injected several times: times needs every, every needs times, each ends before the next, the last inside the load', (t) => {
  const fault = (extra: string) => problemsOf(`title: x\n${LOAD}\nmethod:\n  - { fault: db-primary-kill, at: 1s, for: 2s, ${extra} }`);
  t.deepEqual(fault('times: 3, every: 3s'), []);
  const where = (extra: string) => fault(extra).map((p) => `${p.path}: ${p.message}`);
  t.deepEqual(where('times: 3'), ['method[0].every: a fault injected several times needs "every" (start to start)']);
  t.deepEqual(where('every: 3s'), ['method[0].times: "every" needs "times" of 2 or more']);
  t.deepEqual(where('times: 2, every: 2s'), ['method[0].every: must be longer than "for": each injection ends before the next one starts']);
  t.deepEqual(where('times: 4, every: 3s'), ['method[0].times: injection 4 would end at 12 s, after the load (duration 10 s)']);
  t.true(
    where('times: 51, every: 3s').some((p) => p.startsWith('method[0].times: ') && p.includes('50')),
    'bounded as repeat is',
  );
});
