// Malformed experiment files: exit code 2, a line per problem naming the file and the field path (every
// problem of the file at once), and nothing starts (no Docker needed: validation happens before the engine
// is even asked).

import test from 'ava';
import { mkdtemp, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/stack.js';
import { ExitCode } from '../../src/errors.js';

const LOAD = 'load: { driver: paced, rate: 10, duration: 5s }';
const cases: Array<[string, string, RegExp]> = [
  ['unknown fault', `title: x\n${LOAD}\nmethod:\n  - fault: no-such-fault\n    at: 1s\n`, /method\[0\]\.fault: unknown fault "no-such-fault"/],
  ['bad duration', 'title: x\nload: { driver: paced, rate: 10, duration: 5 parsecs }\n', /load\.duration: "5 parsecs" is not a duration/],
  ['missing load', 'title: x\nmethod: []\n', /load: required/],
  ['wrong type', 'title: x\nload: { driver: paced, rate: fast, duration: 5s }\n', /load\.rate: expected requests per second/],
  [
    'bad fault parameter',
    `title: x\n${LOAD}\nmethod:\n  - fault: net-loss\n    target: server=web1\n    params: { loss: 150 }\n    at: 1s\n    for: 2s\n`,
    /method\[0\]\.params: net-loss: loss: must be at most 100%/,
  ],
  ['fault after the load ends', `title: x\n${LOAD}\nmethod:\n  - fault: container-kill\n    target: server=web1\n    at: 9s\n`, /method\[0\]\.at/],
  ['not YAML', 'title: [x\n', /line \d+: not valid YAML/],
];

for (const [name, yaml, message] of cases) {
  test(`${name}: exit 2 with the field path, nothing started`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-bad-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, yaml);
    for (const args of [
      ['validate', file],
      ['run', file, '--out', join(dir, 'out')],
    ]) {
      const res = await runCli(args, { env: { FAULTLINE_HOME: join(dir, 'home') } });
      t.is(res.code, ExitCode.invalidInput, `${args[0]}: ${res.stderr}`);
      const lines = res.stderr.trim().split('\n');
      t.true(
        lines.every((l) => l.includes(file)),
        `every line names the file: ${res.stderr}`,
      );
      t.true(
        lines.some((l) => message.test(l)),
        res.stderr,
      );
    }
    t.deepEqual(await readdir(dir), ['bad.yaml'], 'no report, no state folder: nothing started');
  });
}
