// The installed entry point, run as npx runs it, in a copy of the package without and with a build; and the
// version it reports coming from package.json.

import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VERSION } from '../../src/util/version.js';

const run = promisify(execFile);

async function packageCopy(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-bin-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'bin'));
  await copyFile('bin/faultline.js', join(dir, 'bin', 'faultline.js'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'faultline', type: 'module' }));
  return dir;
}

async function bin(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'bin', 'faultline.js'), ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('without dist/ the bin prints one line saying how to build, and exits 5 (none of the CLI codes)', async (t) => {
  const r = await bin(await packageCopy(t), ['stack', 'status']);
  t.is(r.code, 5);
  t.is(r.stderr, 'faultline: not built; run npm run build\n');
  t.is(r.stdout, '');
});

test('with dist/ the bin runs the compiled CLI, which sees the arguments and sets the exit code', async (t) => {
  const dir = await packageCopy(t);
  await mkdir(join(dir, 'dist', 'cli'), { recursive: true });
  await writeFile(join(dir, 'dist', 'cli', 'main.js'), 'process.stdout.write(JSON.stringify(process.argv.slice(2)));\nprocess.exitCode = 3;\n');
  const r = await bin(dir, ['probe', 'tls', 'minGrade=B']);
  t.is(r.code, 3);
  t.deepEqual(JSON.parse(r.stdout), ['probe', 'tls', 'minGrade=B']);
  t.is(r.stderr, '');
});

test('the version is the one in package.json', async (t) => {
  t.is(VERSION, (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version);
});
