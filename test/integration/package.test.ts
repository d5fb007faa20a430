// The package as a user gets it: `npm pack` of a clean copy of the working tree, installed into an empty folder with
// `npm i ./faultline-*.tgz`, must hold what the CLI needs (built code and its declarations, bin/, compose/,
// experiments/) and nothing of the repository's own (sources, tests, benches, lint configuration), must install without
// TypeScript, and must run from that folder: --version, validate of a shipped experiment by name, list, doctor, and an
// import of the typed entry point. The copy keeps the shared checkout's dist/ untouched (prepack empties dist/).
// Against the running reference stack it plans a shipped experiment (--dry-run --json) and really runs one of the
// user's own, from ./experiments/ of that folder by name: a short load with one web server frozen for 2 s, its
// reports written into the user's folder and nothing left injected.

import { itest, sharedStack } from '../helpers/stack.js';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** What a checkout holds that is not the project: never copied into the packing folder. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'out', '.faultline', '.scratch']);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal: AbortSignal.timeout(timeoutMs) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function filesUnder(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), root) : [relative(root, join(dir, e.name))],
  );
}

const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
itest.after.always(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

itest('npm pack gives a package that installs without TypeScript, runs from an empty folder and runs an experiment there', async (t) => {
  t.timeout(420_000);
  const stack = sharedStack();
  // A clean copy of the working tree, as a fresh clone would be, with the checkout's node_modules for the build.
  const staging = temp('faultline-pack-src-');
  for (const name of readdirSync(repoRoot)) if (!NOT_COPIED.has(name)) cpSync(join(repoRoot, name), join(staging, name), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(staging, 'node_modules'), 'dir');
  const tarballs = temp('faultline-pack-out-');
  const pack = await sh('npm', ['pack', '--json', '--pack-destination', tarballs, '--loglevel=error'], staging, 180_000);
  t.is(pack.code, 0, pack.stderr);
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  const files = packed!.files.map((f) => f.path).sort();
  t.log(`${files.length} files in ${packed!.filename}`);

  for (const must of [
    'package.json',
    'README.md',
    'bin/faultline.js',
    'dist/cli/main.js',
    'compose/docker-compose.yml',
    'compose/faultline.stack.yaml',
    'schemas/experiment.schema.json',
    'schemas/suite.schema.json',
    'schemas/stack.schema.json',
    'examples/plugins/maintenance-page.mjs',
  ])
    t.true(files.includes(must), `the package lacks ${must}`);
  t.true(
    files.some((f) => f.startsWith('compose/images/') && f.endsWith('Dockerfile')),
    'the image build contexts are shipped',
  );
  t.true(files.includes('experiments/web-server-kill.yaml') && files.includes('experiments/before-after/price.yaml'), 'the experiments are shipped');
  t.true(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), 'the typed entry point is built and shipped');
  t.true(files.includes('LICENSE'), 'the licence text is shipped');
  const stray = files.filter(
    (f) =>
      /^(src|test|bench|docs)\//.test(f) ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
      f.endsWith('.map') ||
      f.endsWith('.tsbuildinfo') ||
      /^(eslint\.config\.js|tsconfig.*\.json|\.prettierrc.*|package-lock\.json)$/.test(f),
  );
  t.deepEqual(stray, [], 'nothing of the repository itself is shipped');
  // Every shipped module has its source in src/: nothing left over from a module since deleted.
  const stale = files.filter((f) => /^dist\/.*\.js$/.test(f) && !existsSync(join(repoRoot, 'src', f.slice('dist/'.length).replace(/\.js$/, '.ts'))));
  t.deepEqual(stale, [], 'no stale build output is shipped');

  // Installed into an empty folder from the tarball: no prepare, no tsc, no devDependencies.
  const user = temp('faultline-user-');
  const install = await sh('npm', ['i', join(tarballs, packed!.filename), '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], user, 240_000);
  t.is(install.code, 0, install.stderr);
  const installed = join(user, 'node_modules', 'faultline');
  t.false(existsSync(join(user, 'node_modules', 'typescript')), 'TypeScript is not installed with faultline');
  t.false(existsSync(join(user, 'node_modules', 'ava')), 'no devDependency is installed with faultline');

  // faultline's state goes to ~/.faultline (a temporary home here), never into its install.
  const home = temp('faultline-home-');
  const { FAULTLINE_HOME: _ignored, ...inherited } = process.env;
  const env = { ...inherited, HOME: home };
  const faultline = (...args: string[]) => sh('npx', ['--no-install', 'faultline', ...args], user, 60_000, env);

  const v = await faultline('--version');
  t.is(v.code, 0, v.stderr);
  t.is(v.stdout.trim(), version);

  // The editor schemas ship with the package, and `faultline schema` prints the one beside it.
  const schema = await faultline('schema', 'experiment');
  t.is(schema.code, 0, schema.stderr);
  t.is(schema.stdout, readFileSync(join(installed, 'schemas', 'experiment.schema.json'), 'utf8'));

  const validate = await faultline('validate', 'web-server-kill');
  t.is(validate.code, 0, validate.stderr);
  t.regex(validate.stdout, /^ok {2}web-server-kill: /);

  const list = await faultline('list');
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^db-primary-kill\s/m);
  t.notRegex(list.stdout, /INVALID/);

  const doctor = await faultline('doctor');
  t.true(doctor.code === 0 || doctor.code === 3, `doctor exited ${doctor.code}: ${doctor.stderr}`);
  t.regex(doctor.stdout + doctor.stderr, /node\s+Node /);
  t.notRegex(doctor.stderr, /not built|\n\s+at /);

  const load = await sh('node', ['--input-type=module', '-e', "const f = await import('faultline'); console.log(Object.keys(f).length)"], user, 60_000, env);
  t.is(load.code, 0, load.stderr);
  t.true(Number(load.stdout.trim()) > 0, 'the entry point exports something');

  // Against the running stack the installed CLI uses the state the stack was started with (the user's ~/.faultline):
  // another home would hold other secrets, and compose would recreate the stack to match them.
  await stack;
  const inStack = (...args: string[]) => sh('npx', ['--no-install', 'faultline', ...args], user, 180_000);
  const dry = await inStack('run', '--dry-run', '--json', 'web-server-kill');
  t.is(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as { injected: boolean; experiments: { id: string; steps: { name: string; targets?: { name: string }[] }[] }[] };
  t.false(plan.injected);
  t.deepEqual(
    plan.experiments[0]!.steps.map((s) => [s.name, s.targets?.length]),
    [['container-kill', 1]],
  );

  mkdirSync(join(user, 'experiments'));
  writeFileSync(
    join(user, 'experiments', 'pause-one.yaml'),
    [
      "title: One web server frozen (the user's own experiment)",
      'load: { driver: paced, rate: 20, duration: 6s }',
      'method:',
      '  - fault: container-pause',
      '    target: server=web1,component=nginx',
      '    at: 1s',
      '    for: 2s',
      'assertions:',
      '  - metric: availability',
      '    min: 0.8',
      '',
    ].join('\n'),
  );
  const run = await inStack('run', '--json', '--out', 'reports', 'pause-one');
  t.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const ran = JSON.parse(run.stdout) as { status: string; journal: string; reports: { format: string; path: string }[]; bundle?: string };
  t.is(ran.status, 'passed');
  t.is(ran.journal, join(user, 'reports', 'journal.json'));
  t.deepEqual(ran.reports.map((r) => r.format).sort(), ['html', 'junit', 'markdown']);
  for (const r of ran.reports) t.true(r.path.startsWith(join(user, 'reports')) && existsSync(r.path), r.path);
  t.true(ran.bundle !== undefined && existsSync(ran.bundle));
  const journal = JSON.parse(readFileSync(ran.journal, 'utf8')) as { id: string; status: string; load?: { summary: { sent: number } } };
  t.is(journal.id, 'pause-one');
  t.regex(readFileSync(join(user, 'reports', 'report.md'), 'utf8'), /One web server frozen/);
  const revert = await inStack('revert', '--json');
  t.is(revert.code, 0, revert.stderr);
  t.deepEqual((JSON.parse(revert.stdout) as { reverted: unknown[] }).reverted, [], 'the run left no fault behind');

  const after = filesUnder(installed).sort();
  t.deepEqual(
    after.filter((f) => !files.includes(f)),
    [],
    'running faultline wrote nothing into its own install',
  );
});
