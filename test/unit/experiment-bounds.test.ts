// Issue 18, finding 11: inputs that passed `validate` and failed mid-run (sometimes after faults were injected) are
// refused by `validate` itself, exit 2, naming the field; and a step tolerance written in an object form the run could
// not read is refused instead of silently replaced by the probe's own verdict.

import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/stack.js';
import { ExitCode } from '../../src/errors.js';
import { stepVerdict } from '../../src/experiment/activities.js';
import type { Observation } from '../../src/probes/types.js';

const load = (extra = '') => `load: { driver: paced, rate: 10, duration: 5s${extra} }`;
const probeStep = (extra: string) => `title: x\n${load()}\nmethod:\n  - probe: health\n    ${extra}\n`;
const bomb = [
  'a: &a [x, x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
].join('\n');

const cases: Array<[string, string, RegExp]> = [
  ['every: 0', probeStep('every: 0s'), /method\[0\]\.every: 0s is out of range \(10 ms/],
  ['bucket: 0', `title: x\n${load(', bucket: 0s')}\nmethod:\n  - probe: health\n`, /load\.bucket: 0s is out of range/],
  ['load.duration: 48h', `title: x\nload: { driver: paced, rate: 10, duration: 48h }\nmethod:\n  - probe: health\n`, /load\.duration: 48h is out of range/],
  ['fault held past a day', `title: x\n${load()}\nmethod:\n  - fault: container-kill\n    at: 1s\n    for: 25h\n`, /method\[0\]\.for: 25h is out of range/],
  [
    'buckets over the engine bound',
    `title: x\nload: { driver: paced, rate: 10, duration: 2h, bucket: 1ms }\nmethod:\n  - probe: health\n`,
    /load\.bucket: .*more than 1000000 buckets/,
  ],
  ['a regex tolerance that does not compile', probeStep('tolerance: "/(unclosed/"'), /method\[0\]\.tolerance: .* is not a tolerance/],
  ['an object tolerance the run cannot read', probeStep("tolerance: { '<': 3 }"), /method\[0\]\.tolerance: .* is not a tolerance/],
  ['a YAML alias bomb', `${bomb}\ntitle: x\n`, /not usable YAML: Excessive alias count/],
];

for (const [name, yaml, message] of cases) {
  test(`issue 18 finding 11: ${name} is refused by validate (exit 2, naming the field)`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-bounds-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, yaml);
    const res = await runCli(['validate', file], { env: { FAULTLINE_HOME: join(dir, 'home') } });
    t.is(res.code, ExitCode.invalidInput, res.stderr);
    t.regex(res.stderr, message);
  });
}

const observed = (value: unknown): Observation => ({ passed: true, value }) as unknown as Observation;

test('issue 18 finding 11: object tolerances a file may write take effect (they used to fall back to the probe verdict)', (t) => {
  const probe = { headline: (v: unknown) => v };
  t.false(stepVerdict(probe, { tolerance: { regex: '^A$' } }, observed('B')));
  t.true(stepVerdict(probe, { tolerance: { regex: '^A$' } }, observed('A')));
  t.false(stepVerdict(probe, { tolerance: { '<=': 2 } }, observed(3)));
  t.true(stepVerdict(probe, { tolerance: { '>=': 0.99 } }, observed(1)));
  t.false(stepVerdict(probe, { tolerance: { range: [1, 2] } }, observed(3)));
  t.true(stepVerdict(probe, { tolerance: { equals: 'a.b' } }, observed('a.b')));
  t.false(stepVerdict(probe, { tolerance: { equals: 'a.b' } }, observed('axb')));
});

test('issue 18 finding 9: fault inject --for longer than a day is refused before anything is touched', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bounds-'));
  const res = await runCli(['fault', 'inject', 'container-kill', '--target', 'server=web1', '--for', '600h'], { env: { FAULTLINE_HOME: join(dir, 'home') } });
  t.is(res.code, ExitCode.invalidInput, res.stderr);
  t.regex(res.stderr, /for: "600h" is longer than a day/);
});
