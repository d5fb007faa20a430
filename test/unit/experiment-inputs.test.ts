// Inputs that must not hurt: a suite that lists itself is refused by name, and `--out` never touches a
// folder of the user's.

import test from 'ava';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { loadFile } from '../../src/experiment/schema.js';
import { writeBundle } from '../../src/report/bundle.js';
import { FaultlineError } from '../../src/errors.js';
import { newJournal } from '../../src/experiment/journal.js';

test('item 13: a suite that lists itself is refused (exit 2) naming the cycle, instead of loading without end', async (t) => {
  t.timeout(20_000);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-suite-'));
  await writeFile(join(dir, 'loop.yaml'), 'title: loop\nsuite: [loop.yaml]\n');
  const err = await t.throwsAsync(loadFile(join(dir, 'loop.yaml'), undefined));
  t.true(err instanceof FaultlineError);
  t.is((err as FaultlineError).exitCode, 2);
  t.regex(err!.message, /lists itself: loop\.yaml → loop\.yaml/);
});

test('item 13: a cycle through another suite is named too', async (t) => {
  t.timeout(20_000);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-suite-'));
  await writeFile(join(dir, 'a.yaml'), 'title: a\nsuite: [b.yaml]\n');
  await writeFile(join(dir, 'b.yaml'), 'title: b\nsuite: [a.yaml]\n');
  const err = await t.throwsAsync(loadFile(join(dir, 'a.yaml'), undefined));
  t.is((err as FaultlineError).exitCode, 2);
  t.regex(err!.message, /a\.yaml → b\.yaml → a\.yaml/);
});

test('item 14: writing the bundle into a folder leaves the user\'s own "artifacts" folder alone', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'faultline-out-'));
  await mkdir(join(out, 'artifacts'));
  await writeFile(join(out, 'artifacts', 'mine.txt'), "the user's file");
  const journal = {
    ...newJournal({ id: 'x', title: 'x', description: '', file: 'x.yaml' }, {}, new Date().toISOString()),
    status: 'passed' as const,
    reason: 'ok',
  };
  const files = await writeBundle(journal, out);
  t.is(await readFile(join(out, 'artifacts', 'mine.txt'), 'utf8'), "the user's file");
  const entries: string[] = [];
  await tar.t({ file: files.bundle!, onReadEntry: (e: { path: string }) => entries.push(e.path) } as never);
  t.true(entries.includes('report.md'));
  t.true(
    entries.some((e) => e.startsWith('artifacts/config/')),
    entries.join(', '),
  );
  t.false(
    entries.some((e) => e.includes('mine.txt')),
    'nor is it packed into the bundle',
  );
});
