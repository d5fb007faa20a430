// Issue 21: `faultline run --repeat 2` against the running reference stack keeps both repetitions in the journal, and
// the reports show each figure's median with its interval (two runs: min–max, 50 % coverage, which they print).
// Nothing is injected: a short paced load and a health look, so the shared stack is left as it was; nothing is
// asserted on the figures either, since other tests may be injecting faults into the shared stack meanwhile.

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itest as test, sharedStack, runCli } from '../helpers/stack.js';
import type { ExperimentJournal } from '../../src/experiment/journal.js';
import { ExitCode } from '../../src/errors.js';

test.before(async () => {
  await sharedStack();
});

test.serial('run --repeat 2: the journal holds both repetitions, the reports the median and its interval', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-repeat-'));
  const file = join(dir, 'twice.yaml');
  await writeFile(
    file,
    `title: Twice the same quiet load
stack: { bring_up: false }
load: { driver: paced, rate: 20, mix: "read=8,write=2", duration: 6s, warmup: 1s }
method:
  - probe: health
    at: 3s
`,
  );
  const out = join(dir, 'out');
  const res = await runCli(['run', file, '--repeat', '2', '--out', out, '--no-bundle'], { timeoutMs: 240_000 });
  t.log(
    res.stderr
      .split('\n')
      .filter((l) => /repetition|PASSED|FAILED/.test(l))
      .join('\n'),
  );
  t.is(res.code, ExitCode.ok, res.stderr);
  t.regex(res.stderr, /twice: Twice the same quiet load \(repetition 1 of 2\)/);
  t.regex(res.stderr, /\(repetition 2 of 2\)/);

  const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as ExperimentJournal;
  t.is(journal.kind, 'experiment');
  t.is(journal.repetitions?.length, 2);
  t.deepEqual(
    journal.repetitions!.map((r) => r.repetition),
    [1, 2],
  );
  for (const r of journal.repetitions!) {
    t.is(r.status, 'passed', r.reason);
    t.true((r.load?.summary.intended ?? 0) >= 100, 'each repetition ran its own load');
    t.is(typeof r.metrics.availability, 'number');
  }
  t.not(journal.repetitions![0]!.load!.runId, journal.repetitions![1]!.load!.runId, 'two loads, not one copied');
  t.regex(journal.reason, /^2 repetitions: 2 passed$/);

  const md = await readFile(join(out, 'report.md'), 'utf8');
  t.regex(md, /\*\*2 repetitions\.\*\*/);
  t.regex(md, /\| availability \| [\d.]+% \| [\d.]+%–[\d.]+% \| 50\.0% \| 2 \|/);
  const html = await readFile(join(out, 'report.html'), 'utf8');
  t.regex(html, /Key numbers \(2 repetitions: median \[interval\]\)/);

  // The journal compared with itself: the same runs on both sides are never better or worse.
  const cmp = await runCli(['compare', join(out, 'journal.json'), join(out, 'journal.json'), '--json']);
  t.is(cmp.code, ExitCode.ok, cmp.stderr);
  const changes = (JSON.parse(cmp.stdout) as { changes: Array<{ change: string }> }).changes;
  t.true(changes.length > 0);
  t.true(
    changes.every((c) => c.change === 'same' || c.change === 'noise'),
    JSON.stringify(changes),
  );
});
