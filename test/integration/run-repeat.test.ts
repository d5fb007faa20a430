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

test.serial('a fault injected three times in one run: one sample per kill, each on a recovered stack, the load ended after the last', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-times-'));
  const file = join(dir, 'thrice.yaml');
  const HOLD_MS = 2000;
  await writeFile(
    file,
    `title: The primary killed three times in one run
stack: { bring_up: false }
load: { driver: paced, rate: 30, mix: "read=8,write=2", duration: 60s, warmup: 2s, end_after_faults: 3s }
method:
  - fault: db-primary-kill
    at: 3s
    for: ${HOLD_MS / 1000}s
    times: 3
    every: 5s
`,
  );
  const out = join(dir, 'out');
  const res = await runCli(['run', file, '--out', out, '--no-bundle'], { timeoutMs: 240_000 });
  t.true(res.code === ExitCode.ok || res.code === ExitCode.failed, res.stderr);
  const journal = JSON.parse(await readFile(join(out, 'journal.json'), 'utf8')) as ExperimentJournal;
  const kills = journal.method.filter((a) => a.kind === 'fault');
  t.deepEqual(
    kills.map((k) => [k.injection, k.status]),
    [
      [1, 'succeeded'],
      [2, 'succeeded'],
      [3, 'succeeded'],
    ],
  );
  // Each kill started no sooner than 3 s after the previous revert finished (a revert waits until healthy).
  for (let i = 1; i < kills.length; i++) {
    const prev = kills[i - 1]!;
    const revertedAt = prev.endMs! + Number((prev.output as { revertMs: number }).revertMs);
    t.true(kills[i]!.startMs! >= revertedAt + 3000 - 50, `kill ${i + 1} at ${kills[i]!.startMs} ms, previous reverted at ${revertedAt} ms`);
  }
  // One sample per kill. The truth: writes fail from the kill until the primary is back, so each outage is at least
  // most of the hold (the first failing write comes within a write interval of the kill) and at most the hold, the
  // revert and a second more; and the samples add up to the run's own figure.
  t.is(journal.samples?.per, 'injection');
  const outages = journal.samples?.metrics.write_outage_s ?? [];
  t.is(outages.length, 3, JSON.stringify(journal.samples));
  kills.forEach((k, i) => {
    const revertS = Number((k.output as { revertMs: number }).revertMs) / 1000;
    t.true(outages[i]! >= HOLD_MS / 1000 - 0.5 && outages[i]! <= (k.endMs! - k.startMs!) / 1000 + revertS + 1, `kill ${i + 1}: ${outages[i]} s`);
  });
  t.true(Math.abs(outages.reduce((a, b) => a + b, 0) - Number(journal.metrics.write_outage_s)) < 0.05);
  t.is(journal.metrics.write_outage_worst_s, Math.max(...outages));
  t.deepEqual(journal.samples?.metrics.lost_writes, [0, 0, 0]);
  // The load ended 3 s after the last revert, not at its 60 s.
  const last = kills[2]!;
  const lastRevertedS = (last.endMs! + Number((last.output as { revertMs: number }).revertMs)) / 1000;
  const ranS = journal.load!.timeline.buckets.length / 10;
  t.true(ranS < 40 && ranS >= lastRevertedS + 2.5 && ranS <= lastRevertedS + 6, `the load ran ${ranS} s; the last revert finished at ${lastRevertedS} s`);
});
